"""Re-evaluate trained models in the release layout.

    python models/test.py --arch yy_ff_30 [--seed N] [--backend cpu|cuda]
    python models/test.py --arch yy_ff_30 --model-dir DIR
    python models/test.py --arch yy_ff_30 --seed 0 --raster rasters
    python models/test.py --arch shd_rec_512 --model-dir DIR --data-dir DATA

A run of the training examples records its whole set-up in run.json
(--published, --hidden, --recurrent, ...); the network is rebuilt from
it. The released models have none: their architecture name says it.

Prints the test accuracy per seed and the mean +- std; with the zoo in
this folder it exits non-zero when a model is more than 0.5 points from
the accuracy recorded in results.py.
"""
import argparse
import os
import sys
from dataclasses import replace

import numpy as np

from ml_genn_delays.cli import BACKENDS
from ml_genn_delays.configs import DATASET_NAMES, get_config
from ml_genn_delays.datasets.splits import fit_trial, load_splits
from ml_genn_delays.errors import ONE_LINE_ERRORS
from ml_genn_delays.experiment import evaluate_saved
from ml_genn_delays.run_folder import read_run

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from results import RESULTS  # noqa: E402

TOLERANCE = 0.5


def test_data(config, data_dir, seed=0, max_examples=None, fitted=False):
    """Config (trial fitted to the data), test spikes and labels, and the
    most input spikes of one example. ``seed`` picks Braille's split, and
    ``max_examples`` caps every split, as in training. ``fitted``: the
    config is a run's run.json, whose trial length training fitted to
    data that the test split alone need not reach: keep it."""
    splits = load_splits(config, data_dir, max_examples, seed=seed)
    max_input_spikes = None
    if config.dataset != "yin_yang":
        refitted, max_input_spikes = fit_trial(splits, config)
        config = config if fitted else refitted
    return (config, splits.spikes(splits.test), splits.y_test,
            max_input_spikes)


def config_of_runs(args, runs):
    """The set-up the models were trained with: the seeds' run.json
    (``runs``, read from their directories), else the architecture's
    name."""
    recorded = [None if r is None else r["config"] for r in runs]
    if None in recorded:
        try:
            named = get_config(args.arch, published=args.published)
        except ValueError as error:
            raise SystemExit(str(error)) from None
        recorded = [named if c is None else c for c in recorded]
    # The name is a label (yy_ff_30 --hidden 5 is yy_ff_5)
    if any(replace(c, name="") != replace(recorded[0], name="")
           for c in recorded):
        raise SystemExit(f"The seeds of {args.arch} were trained with "
                         f"different settings (run.json); evaluate them "
                         f"one at a time with --seed")
    return recorded[0]


def _seeds_in(arch_dir):
    """The seeds saved in ``arch_dir`` (its numbered folders)."""
    return sorted(int(s) for s in os.listdir(arch_dir) if s.isdigit())


def main(argv=None):
    try:
        return _main(argv)
    except ONE_LINE_ERRORS as error:
        raise SystemExit(f"error: {error}") from None


def check_example(parser, args, size):
    """--example must be one of the test split's (before compiling)."""
    if args.raster and not 0 <= args.example < size:
        parser.error(f"--example {args.example}: the test split has {size} "
                     f"examples, 0 to {size - 1}")


def _main(argv):
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", required=True)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--backend", choices=sorted(BACKENDS))
    parser.add_argument("--model-dir", default=HERE,
                        help="the folder holding <arch>/<seed>/ (a "
                             "training example's --out; default: the "
                             "zoo here)")
    parser.add_argument("--data-dir", help="SHD/SSC/Braille files")
    parser.add_argument("--published", action="store_true",
                        help="models trained with --published (needed "
                             "only where there is no run.json)")
    parser.add_argument("--raster", metavar="DIR",
                        help="also draw each model's raster of one test "
                             "example into DIR (<arch>-<seed>.png)")
    parser.add_argument("--example", type=int, default=0,
                        help="the test example --raster draws (from 0)")
    args = parser.parse_args(argv)

    arch_dir = os.path.join(args.model_dir, args.arch)
    if not os.path.isdir(arch_dir):
        raise SystemExit(f"No models for {args.arch}: {arch_dir} is missing")
    seeds = [args.seed] if args.seed is not None else _seeds_in(arch_dir)
    if not seeds:
        raise SystemExit(f"No models for {args.arch}: {arch_dir} holds no "
                         f"seed folders (0, 1, ...)")
    directories = [os.path.join(arch_dir, str(s)) for s in seeds]
    missing = [d for d in directories if not os.path.isdir(d)]
    if missing:
        # Found before any data are loaded or anything is compiled
        there = ", ".join(map(str, _seeds_in(arch_dir))) or "none"
        raise SystemExit(f"No model for {args.arch} seed {args.seed}: "
                         f"{missing[0]} is missing (seeds there: {there})")
    runs = [read_run(d) for d in directories]
    config = config_of_runs(args, runs)
    if config.dataset != "yin_yang" and args.data_dir is None:
        parser.error(f"{args.arch} is a {DATASET_NAMES[config.dataset]} "
                     f"model: give --data-dir DIR, the folder holding its "
                     f"files")
    fitted = all(r is not None for r in runs)   # trial length as trained
    options = ({} if args.backend is None else
               {"backend": BACKENDS[args.backend]})
    if args.raster:
        os.makedirs(args.raster, exist_ok=True)
        options.update(raster_dir=args.raster, example=args.example)
    # A run on --max-examples N was tested on the first N test examples
    max_examples = max((r["examples"]["test"] for r in runs if r),
                       default=None)
    if config.dataset == "braille":
        # Its train/valid/test split depends on the seed: test each model
        # on its own test set, never on another seed's training examples
        accuracies = []
        for seed, directory in zip(seeds, directories):
            seed_config, x, y, max_input_spikes = test_data(
                config, args.data_dir, seed, max_examples, fitted)
            check_example(parser, args, len(y))
            accuracies += evaluate_saved(
                seed_config, [directory], x, y,
                max_input_spikes=max_input_spikes, **options)
        accuracies = 100 * np.array(accuracies)
    else:
        config, x, y, max_input_spikes = test_data(
            config, args.data_dir, max_examples=max_examples, fitted=fitted)
        check_example(parser, args, len(y))
        accuracies = 100 * np.array(evaluate_saved(
            config, directories, x, y, max_input_spikes=max_input_spikes,
            **options))

    recorded = (RESULTS.get(args.arch, {})
                if os.path.samefile(args.model_dir, HERE) else {})
    failed = False
    for seed, accuracy in zip(seeds, accuracies):
        line = f"{args.arch} seed {seed}: test accuracy {accuracy:.2f}%"
        if seed in recorded:
            off = abs(accuracy - recorded[seed])
            failed |= off > TOLERANCE
            line += (f" (recorded {recorded[seed]:.2f}%, "
                     f"{'MISMATCH' if off > TOLERANCE else 'ok'})")
        print(line)
    print(f"{args.arch}: {accuracies.mean():.2f} +- {accuracies.std():.2f}% "
          f"over {len(seeds)} seeds")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
