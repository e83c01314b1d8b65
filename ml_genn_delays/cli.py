"""Command line shared by the training examples: one parser, one main."""
import argparse
import os
import sys
from dataclasses import replace

from .configs import DATASET_NAMES, NAME_FORM, get_config
from .datasets.splits import fit_trial, load_splits
from .errors import ONE_LINE_ERRORS

BACKENDS = {"cpu": "single_threaded_cpu", "cuda": "cuda"}


def _at_least(low, high=None):
    """argparse type: an int >= ``low`` (and <= ``high``; a bad value is a
    usage error before anything is loaded or compiled)."""
    def parse(text):
        value = int(text)
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, "
                                             f"got {value}")
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(f"must be at most {high}, "
                                             f"got {value}")
        return value
    parse.__name__ = "integer"     # argparse names the type in errors
    return parse


def _fraction(text):
    """argparse type: a float in (0, 1]."""
    value = float(text)
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"must lie in (0, 1], got {value}")
    return value


def make_parser(description: str, default_arch: str):
    """The arguments every training example takes."""
    parser = argparse.ArgumentParser(
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    add = parser.add_argument
    add("--arch", default=default_arch,
        help=f"architecture name (default {default_arch}); {NAME_FORM}")
    add("--published", action="store_true",
        help="the paper's own set-up (docs/published.md)")
    add("--data-dir", help="folder holding the data set's files")
    add("--hidden", type=_at_least(1), help="hidden neurons per layer")
    add("--recurrent", action="store_true", help="recurrent hidden layers")
    add("--no-delays", action="store_true", help="train without delays")
    add("--delay-kind",
        choices=["synaptic", "axonal", "dendritic", "axonal+dendritic"],
        help="synaptic: one delay per synapse (default); axonal: one per "
             "presynaptic neuron; dendritic: one per postsynaptic (hidden) "
             "neuron; axonal+dendritic: their sum (the run is named "
             "<arch>_axonal, <arch>_dendritic, <arch>_axonal_dendritic)")
    add("--neuron", choices=["lif", "adlif"],
        help="hidden neurons: lif (default) or adlif (adaptive LIF with "
             "learned time constants and adaptation; the run is named "
             "<arch>_adlif)")
    add("--keep-delays", type=_fraction, metavar="F",
        help="prune delays by magnitude to this fraction in (0, 1] "
             "(5 stages, from 10%% to 50%% of the epochs; one per epoch "
             "from the first in runs of under 10 epochs; a resumed run "
             "keeps its first run's stages); pruned delays are 0; the "
             "model is selected (and early stopping counts) from the last "
             "stage on")
    add("--epochs", type=_at_least(1))
    add("--batch-size", type=_at_least(1))
    add("--backend", choices=sorted(BACKENDS),
        help="GeNN backend (default: the best one installed)")
    # (numpy's seeds are 32-bit)
    add("--seed", type=_at_least(0, 2 ** 32 - 1), default=0)
    add("--out", default="runs",
        help="writes OUT/<arch>/<seed>/: the best model on validation in "
             "the release layout, training.csv, training.png, resume/")
    add("--resume", action="store_true",
        help="continue the run in OUT/<arch>/<seed>/resume/: give the "
             "arguments that name that folder (--arch, --hidden, ...); "
             "the others are taken from its run.json unless given "
             "(--epochs may grow)")
    add("--overwrite", action="store_true",
        help="replace an earlier run in OUT/<arch>/<seed>/ (refused "
             "otherwise): its files are removed once the new run has "
             "compiled")
    add("--max-examples", type=_at_least(1),
        help="use only this many examples of each split (quick runs)")
    add("--no-progress", action="store_true", help="no progress bars")
    return parser


def config_from_args(args, dataset: str):
    """The Config that the arguments select.

    The options that change the architecture (``--hidden``,
    ``--recurrent``, ``--no-delays``, ``--delay-kind``, ``--neuron``) give
    its name first, and the named architecture is then looked up (with
    ``--published``): ``yy_ff_30 --hidden 10 --published`` is
    ``yy_ff_10 --published``, with yy_ff_10's published learning rates and
    dt, and ``ssc_ff_512 --recurrent`` is the registered ``ssc_rec_512``
    (one layer), not yy_ff_30's or ssc_ff_512's set-up with a field
    replaced."""
    try:
        config = get_config(args.arch)
        if config.dataset != dataset:
            raise SystemExit(f"--arch {args.arch} is a {config.dataset} "
                             f"architecture; this example trains {dataset}")
        shape = {k: v for k, v in (("num_hidden", args.hidden),
                                   ("delay_kind", args.delay_kind),
                                   ("neuron", args.neuron)) if v is not None}
        if args.recurrent:
            shape["recurrent"] = True
        if args.no_delays:
            shape["delays"] = False
        name = replace(config, **shape).arch if shape else args.arch
        return get_config(name, published=args.published,
                          **{k: v for k, v in (("epochs", args.epochs),
                                               ("batch_size",
                                                args.batch_size))
                             if v is not None})
    except ValueError as error:
        raise SystemExit(str(error)) from None


def main(dataset: str, description: str, default_arch: str, argv=None):
    """Parse ``argv``, train, and print ``test accuracy: NN.NN%`` (the
    test accuracy of the model selected on validation)."""
    from .run_folder import (ResumeMismatchError, RunExistsError,
                             SeveralProcessesError,
                             refuse_several_processes, run_directory)

    parser = make_parser(description, default_arch)
    args = parser.parse_args(argv)
    if dataset == "yin_yang" and args.data_dir is not None:
        # (before --resume takes run.json's: earlier versions recorded it)
        parser.error("Yin-Yang is generated, not read: drop --data-dir")
    config = config_from_args(args, dataset)
    if args.resume:
        args = _with_saved_arguments(parser, args, _given(
            description, default_arch, argv), config)
        config = config_from_args(args, dataset)
    if args.keep_delays is not None and not config.delays:
        parser.error("--keep-delays prunes delays; this run has none "
                     "(--no-delays or a _nodelay architecture)")
    if args.delay_kind is not None and not config.delays:
        # It would be recorded in run.json for a run that has no delays
        parser.error(f"--delay-kind {args.delay_kind} sets the kind of "
                     f"delays; this run has none (--no-delays or a "
                     f"_nodelay architecture): drop one of them")
    if dataset != "yin_yang" and args.data_dir is None:
        # Refused here, before anything is loaded or compiled
        parser.error(f"{DATASET_NAMES[dataset]} needs --data-dir DIR, the "
                     f"folder holding its files (nothing is downloaded)")
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        parser.error(f"--out {args.out} is a file, not a folder")
    try:
        refuse_several_processes()     # before any data is loaded
        return _train(args, config, dataset)
    except (*ONE_LINE_ERRORS, RunExistsError, ResumeMismatchError,
            SeveralProcessesError) as error:
        # Also a run in the way, one resumed with other settings, or
        # one started under mpirun
        raise SystemExit(f"error: {error}") from None
    except KeyboardInterrupt:
        print(f"interrupted: "
              f"{_after_interrupt(run_directory(args.out, config, args.seed))}",
              file=sys.stderr)
        raise SystemExit(130) from None


def _after_interrupt(directory) -> str:
    """What an interrupted run left (saving is crash-safe: whole files
    only) and how to go on."""
    from .resume import saved_epoch
    try:
        epoch = saved_epoch(os.path.join(directory, "resume"))
    except (OSError, ValueError, KeyError):    # none, or unreadable
        epoch = None
    if epoch is not None:
        return (f"{directory} keeps the state after epoch {epoch}; continue "
                f"with the same arguments and --resume")
    if os.path.isfile(os.path.join(directory, "run.json")):
        return (f"no epoch had ended, nothing to resume; start again with "
                f"--overwrite ({directory} holds its run.json)")
    return "nothing was written; start again with the same arguments"


#: Arguments that do not describe the run: never taken from run.json
_PER_CALL = {"resume", "overwrite", "no_progress", "out", "backend"}


def _given(description, default_arch, argv):
    """The names of the arguments given on the command line."""
    parser = make_parser(description, default_arch)
    # No default for any argument: only those given reach the namespace
    # (argparse has no public list of its actions)
    for action in parser._actions:
        action.default = argparse.SUPPRESS
    return set(vars(parser.parse_args(argv)))


def _with_saved_arguments(parser, args, given, config):
    """``args`` with each argument that describes the run and was not
    given again taken from the resumed run's ``run.json`` (runs that
    recorded their arguments), checked as the parser checks them. The
    arguments that name its folder (``--arch``, ``--hidden``, ...) must
    be given to find it."""
    from .run_folder import load_run_json, run_directory

    # The raw JSON: a run of another version may hold other Config fields
    # (the runner then says what changed)
    saved = (load_run_json(run_directory(args.out, config, args.seed))
             or {}).get("command_line")
    if not isinstance(saved, dict):
        return args
    merged = vars(args).copy()
    taken = {k: v for k, v in saved.items()
             if k in merged and k not in given | _PER_CALL}
    for action in parser._actions:
        if action.dest in taken:
            _check_saved(parser, action, taken[action.dest])
    merged.update(taken)
    return argparse.Namespace(**merged)


def _check_saved(parser, action, value):
    """Refuses a value from run.json that the parser would refuse now
    (a run.json edited by hand, or a choice of an older version)."""
    if value is None or value == action.default:
        return
    if action.nargs == 0:                    # a flag: true or false
        fits = isinstance(value, bool)
    elif action.choices is not None:
        fits = value in action.choices
    else:
        try:
            fits = (not isinstance(value, (bool, dict, list))
                    and (action.type or str)(str(value)) == value)
        except (TypeError, ValueError, argparse.ArgumentTypeError):
            fits = False
    if not fits:
        option = action.option_strings[0]
        parser.error(f"the resumed run's run.json records {option} "
                     f"{value!r}, which is not a valid {option} now: "
                     f"give {option} again")


def _recorded(args):
    """The arguments run.json records for --resume: those describing the
    run, the data folder absolute (a resume may start elsewhere)."""
    recorded = {k: v for k, v in vars(args).items() if k not in _PER_CALL}
    if recorded.get("data_dir") is not None:
        recorded["data_dir"] = os.path.abspath(recorded["data_dir"])
    return recorded


def _train(args, config, dataset):
    from .runner import TrainingRun

    splits = load_splits(config, args.data_dir, args.max_examples,
                         seed=args.seed)
    max_input_spikes = None
    if dataset != "yin_yang":
        config, max_input_spikes = fit_trial(splits, config)
    backend = {} if args.backend is None else {
        "backend": BACKENDS[args.backend]}
    result = TrainingRun(config, splits, seed=args.seed, out=args.out,
                         max_input_spikes=max_input_spikes,
                         resume=args.resume, overwrite=args.overwrite,
                         progress=not args.no_progress,
                         keep_delays=args.keep_delays,
                         command_line=_recorded(args), **backend).run()
    print(f"model: {result.directory} (epoch {result.best_epoch})")
    print(f"test accuracy: {100 * result.test_accuracy:.2f}%")
    return result
