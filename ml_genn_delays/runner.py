"""A training run of a named architecture, as the examples do it: epochs
with augmentation, learning-rate schedules, silent-neuron bumps, model
selection on validation, early stopping, a CSV and a PNG per run,
checkpoints in the release layout and exact resume."""
import csv
import io as _io
import json
import os
import shutil
import time
import warnings
from dataclasses import asdict, dataclass

import numpy as np
from ml_genn.callbacks import SpikeRecorder
from tqdm import tqdm

from .configs import Config
from .errors import NoGradientWarning
from .evaluation import evaluate, get_delays, record_example
from .experiment import build_model, compile_model
from .io import remove_checkpoints, save_model
from .io_files import MANIFEST, is_model_file
from .io_journal import atomic_save
from .plots import plot_raster, plot_run
from .pruning import DelayPruning
from .published import LearningRateSchedule, bump_silent_inputs
from .resume import (load_training_state, saved_epoch,
                     save_training_state)
from .training import BatchProgress

CSV_FIELDS = ("epoch", "train_accuracy", "valid_accuracy", "test_accuracy",
              "delay_mean", "delay_std", "delays_nonzero", "hidden_rate_hz",
              "silent_neurons",
              "epoch_time_s", "weight_lr")


@dataclass
class RunResult:
    """What a run measured: the test accuracy of the selected model (best
    validation accuracy, or training accuracy without a validation set),
    its epoch, and one CSV row per epoch."""
    test_accuracy: float
    best_epoch: int
    rows: list
    directory: str


RUN_FILE = "run.json"
#: Config fields a resumed run may change (train longer, stop later; the
#: name is a label: yy_ff_30 --hidden 5 is yy_ff_5)
RESUMABLE_CHANGES = ("epochs", "patience", "name")


class RunExistsError(FileExistsError):
    """A fresh run would overwrite an earlier one in the same folder."""


class ResumeMismatchError(ValueError):
    """``--resume`` asked with other settings than the run was made with."""


class SeveralProcessesError(ValueError):
    """The runner started under mpirun, or given a communicator."""


def run_directory(out, config, seed) -> str:
    """``out/<arch>/<seed>``: the release layout."""
    return os.path.join(out, config.arch, str(seed))


def model_name(config, seed) -> str:
    """The GeNN model name of a run: GeNN builds into ``<name>..._CODE``
    in the working directory, so runs started side by side (one per
    seed, say) need names of their own, or one builds over (or loads the
    code built for) another's network; a resumed run reuses its build."""
    return f"{config.arch}_{seed}"


def run_description(config, splits, seed, keep_delays=None) -> dict:
    """What ``run.json`` records: the whole Config (so the model can be
    rebuilt exactly, e.g. by models/test.py), the seed, the split sizes
    and the delay pruning (``keep_delays``; None: none; TrainingRun adds
    its stages as ``pruning``)."""
    return {"config": json.loads(json.dumps(asdict(config))), "seed": seed,
            "examples": {name: 0 if part is None else len(part)
                         for name, part in (("train", splits.train),
                                            ("valid", splits.valid),
                                            ("test", splits.test))},
            "keep_delays": keep_delays if config.delays else None}


def pruning_schedule(epochs: int) -> dict:
    """DelayPruning's stages for a run of ``epochs``: 5 stages, from 10% to
    50% of the epochs; a run of fewer than 10 epochs prunes at the end of
    each from the first, in as many stages as it has epochs (up to 5), so
    that it always reaches the fraction asked for."""
    step = max(1, epochs // 10)
    return {"every": step, "start": step - 1, "stages": max(1, min(5, epochs))}


def load_run_json(directory):
    """``directory/run.json`` as written, or None."""
    path = os.path.join(directory, RUN_FILE)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def read_run(directory):
    """``directory/run.json`` with its Config rebuilt, or None."""
    run = load_run_json(directory)
    if run is None:
        return None
    # JSON has no tuples
    run["config"] = Config(**{k: tuple(v) if isinstance(v, list) else v
                              for k, v in run["config"].items()})
    return run


def _differences(saved, now):
    keys = sorted(set(saved) | set(now))
    return [f"{k}: {saved.get(k)!r} then, {now.get(k)!r} now" for k in keys
            if saved.get(k) != now.get(k) and k not in RESUMABLE_CHANGES]


#: Set to 1 to start independent runs (each its own --seed or --out)
#: under a launcher that sets the MPI variables below, e.g. Slurm's srun
INDEPENDENT_RUNS = "ML_GENN_DELAYS_INDEPENDENT_RUNS"


def _launched_ranks():
    """Ranks the MPI launcher says it started (mpich, Open MPI); 1 where
    neither says, or says something unreadable."""
    ranks = 1
    for name in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE"):
        try:
            ranks = max(ranks, int(os.environ.get(name) or 1))
        except ValueError:
            pass
    return ranks


def refuse_several_processes(compile_kwargs=None):
    """The runner trains one process on all the data and writes one
    folder: under mpirun every rank would train alone and all would write
    there, silently."""
    if (compile_kwargs or {}).get("communicator") is not None or (
            _launched_ranks() > 1 and os.environ.get(INDEPENDENT_RUNS)
            != "1"):
        raise SeveralProcessesError(
            f"The training runner (and the training examples) run one "
            f"process: under mpirun each rank would train on all of the "
            f"data and every rank would write the same run folder. Run it "
            f"without mpirun, or train several processes through the API "
            f"(README: Several processes). Independent runs, each with "
            f"its own --seed or --out, may set {INDEPENDENT_RUNS}=1")


def _numpy_rng():
    """numpy's global RNG state (mlGeNN shuffles with it) as JSON values."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    return [kind, keys.tolist(), pos, has_gauss, cached]


def _set_numpy_rng(saved):
    """Take back what :func:`_numpy_rng` gave."""
    kind, keys, pos, has_gauss, cached = saved
    np.random.set_state((kind, np.array(keys, dtype=np.uint32), pos,
                         has_gauss, cached))


class TrainingRun:
    """Train ``config`` on ``splits`` and keep the best model.

    Parameters
    ----------
    config : Config
        With the trial length already fitted to the data.
    splits : ml_genn_delays.datasets.splits.Splits
    seed : int
        Fixes the weights, initial delays, shuffling and augmentation.
    out : str
        The run writes ``out/<arch>/<seed>/``: the selected model
        (``<epoch>-<connection>-g.npy``/``-d.npy``, manifest),
        ``training.csv``, ``training.png`` and ``resume/`` (the full
        training state after the latest epoch).
    max_input_spikes : int, optional
        Most input spikes of one example (see ``build_model``).
    resume : bool
        Continue from ``out/<arch>/<seed>/resume/``; refused when the run
        there was made with another Config (but for ``epochs``,
        ``patience`` and ``name``), other split sizes or other
        ``keep_delays``, or
        with fewer ``epochs`` than it has trained.
    progress : bool
        Show a tqdm bar over the epochs.
    name : str, optional
        GeNN model name (its code goes to ``<name>..._CODE``); default
        ``<arch>_<seed>`` (:func:`model_name`).
    keep_delays : float, optional
        Prune the delays by magnitude to this fraction while training
        (:class:`DelayPruning`, stages of :func:`pruning_schedule`; a
        resumed run keeps the first run's stages, recorded in
        ``run.json``).
    overwrite : bool
        Start afresh even where ``out/<arch>/<seed>/`` holds an earlier
        run or model files (refused otherwise, so a quick test cannot
        wipe out a long run or a saved model).
    command_line : dict, optional
        The training example's arguments, recorded in ``run.json`` so
        that ``--resume`` can take those not given again.
    **compile_kwargs
        Extra arguments of the compiler (e.g. ``backend``).
    """

    def __init__(self, config, splits, seed=0, out="runs",
                 max_input_spikes=None, resume=False, progress=True,
                 name=None, keep_delays=None, overwrite=False,
                 command_line=None, **compile_kwargs):
        refuse_several_processes(compile_kwargs)
        self.config = config
        self.splits = splits
        self.seed = seed
        self.directory = run_directory(out, config, seed)
        self.resume = resume
        self.description = run_description(config, splits, seed,
                                           keep_delays)
        if command_line is not None:
            self.description["command_line"] = dict(command_line)
            json.dumps(self.description)  # refused here, not after compiling
        # Before compiling: these mistakes should cost nothing
        saved = self._check_directory(overwrite)
        self.progress = progress
        self.pruning = None
        if self.description["keep_delays"] is not None:
            # A resumed run keeps the first run's stages, even when it
            # trains longer (its own epochs would move them)
            first = saved or {"config": {"epochs": config.epochs}}
            schedule = (first.get("pruning")
                        or pruning_schedule(first["config"]["epochs"]))
            self.description["pruning"] = schedule
            self.pruning = DelayPruning(keep_delays, **schedule)
        self.model = build_model(config, seed, max_input_spikes)
        self.compiled = compile_model(self.model,
                                      name=name or model_name(config, seed),
                                      **compile_kwargs)

    # ------------------------------------------------------------ helpers
    def _check_directory(self, overwrite):
        """Refuse to overwrite an earlier run or to resume one with other
        settings; the resumed run's run.json (None otherwise)."""
        names = (os.listdir(self.directory) if os.path.isdir(self.directory)
                 else [])
        # Model files too (a saved or released model without a run's
        # files): a fresh run removes every other checkpoint
        earlier = [n for n in ("training.csv", "resume", RUN_FILE, MANIFEST)
                   if n in names]
        models = sorted(n for n in names if is_model_file(n))
        if models:
            earlier.append(f"model files such as {models[0]}")
        if not self.resume:
            if earlier == [RUN_FILE] and not overwrite:
                raise RunExistsError(
                    f"{self.directory} holds a run that stopped before its "
                    f"first epoch ended ({RUN_FILE} only, nothing to "
                    f"resume); start it again with --overwrite, or write "
                    f"elsewhere with --out")
            if earlier and not overwrite:
                raise RunExistsError(
                    f"{self.directory} already holds a run "
                    f"({', '.join(earlier)}); continue it with --resume, "
                    f"replace it with --overwrite, or write elsewhere "
                    f"with --out")
            return None
        if earlier == [RUN_FILE]:
            raise ResumeMismatchError(
                f"Cannot resume {self.directory}: the run stopped before "
                f"its first epoch ended, so there is nothing to resume; "
                f"start it again with --overwrite, without --resume")
        trained = saved_epoch(os.path.join(self.directory, "resume")) + 1
        if self.config.epochs < trained:
            raise ResumeMismatchError(
                f"Cannot resume {self.directory}: it has trained "
                f"{trained} epochs already; resume with --epochs {trained} "
                f"or more (epochs counts from the start of the run)")
        saved = load_run_json(self.directory)
        if saved is None:
            return None  # a run of an earlier version: nothing to compare
        changed = _differences(saved["config"], self.description["config"])
        changed += _differences(saved["examples"],
                                self.description["examples"])
        # Runs of earlier versions recorded no pruning: they had none
        changed += _differences(
            {"keep_delays": saved.get("keep_delays")},
            {"keep_delays": self.description["keep_delays"]})
        if changed:
            raise ResumeMismatchError(
                f"Cannot resume {self.directory}: it was trained with "
                f"other settings ({'; '.join(changed)}). Resume with the "
                f"arguments of that run (see its {RUN_FILE}; the training "
                f"examples take those not given again from it); where no "
                f"argument gives a setting back, this version of "
                f"ml_genn_delays changed the set-up (docs/published.md): "
                f"continue with the version the run was started with, or "
                f"start afresh with --overwrite.")
        return saved

    def _remove_earlier(self):
        """Before a fresh run (--overwrite) writes its run.json: remove the
        earlier run's files, whose resume/ would otherwise be resumed as
        this run's should this one stop in its first epoch, and whose
        model would be read with this run's run.json."""
        shutil.rmtree(os.path.join(self.directory, "resume"),
                      ignore_errors=True)
        for name in ("training.csv", "training.png", "raster.png"):
            if os.path.exists(os.path.join(self.directory, name)):
                os.unlink(os.path.join(self.directory, name))
        remove_checkpoints(self.directory, keep=None)

    def _delays(self):
        """Every learnable delay, flat (all parts of mixed delays)."""
        values = []
        for conn in self.compiled.learnable_delays:
            delays = get_delays(self.compiled, conn)
            parts = (delays.values() if isinstance(delays, dict)
                     else [delays])
            values += [np.ravel(d) for d in parts]
        return np.concatenate(values) if values else np.zeros(0)

    def _progress(self, desc):
        """Callbacks drawing a bar over one pass's batches, if asked."""
        return [BatchProgress(desc)] if self.progress else []

    def _accuracy(self, x, y, desc):
        if x is None:
            return None
        metrics, _ = evaluate(self.compiled, {self.model.input: x},
                              {self.model.output: y},
                              callbacks=self._progress(desc))
        return metrics[self.model.output].result

    def _write_csv(self, rows):
        text = _io.StringIO()
        writer = csv.DictWriter(text, CSV_FIELDS)
        writer.writeheader()
        writer.writerows(rows)
        atomic_save(os.path.join(self.directory, "training.csv"),
                     lambda f: f.write(text.getvalue().encode()))

    def _fresh_state(self):
        np.random.seed(self.seed)  # mlGeNN shuffles with numpy's global RNG
        return {"epoch": -1, "rows": [], "best": None, "best_epoch": None,
                "best_test": None, "waiting": 0,
                "delays_before": self._delays().tolist(),
                "augment_rng": np.random.default_rng(
                    [self.seed, 1]).bit_generator.state}

    def _resumed_state(self):
        state = load_training_state(self.compiled,
                                    os.path.join(self.directory, "resume"))
        _set_numpy_rng(state["numpy_rng"])
        return state

    # ---------------------------------------------------------------- run
    def run(self) -> RunResult:
        config, model, compiled = self.config, self.model, self.compiled
        splits = self.splits
        os.makedirs(self.directory, exist_ok=True)
        if not self.resume:
            self._remove_earlier()
        atomic_save(os.path.join(self.directory, RUN_FILE),
                     lambda f: f.write(
                         json.dumps(self.description, indent=1).encode()))
        with compiled:
            schedule = LearningRateSchedule(
                [o.alpha for o, _ in compiled.optimisers],
                decay=config.lr_decay, ease_in=config.lr_ease_in,
                examples_per_step=compiled.examples_per_step)
            state = (self._resumed_state() if self.resume
                     else self._fresh_state())
            augment_rng = np.random.default_rng()
            augment_rng.bit_generator.state = state["augment_rng"]
            x_valid = (None if splits.valid is None
                       else splits.spikes(splits.valid))
            x_test = splits.spikes(splits.test)
            # Spike counts of every layer whose silent neurons get bumps
            layers = list(zip(model.feedforward, model.hidden_layers))
            if config.bump_outputs:
                layers.append((model.connections[-1], model.output))
            recorders = [SpikeRecorder(pop, key=f"layer{i}",
                                       record_counts=True)
                         for i, (_, pop) in enumerate(layers)]
            extra = [] if self.pruning is None else [self.pruning]
            learnable = list(compiled.learnable_delays)
            if self.pruning is not None:
                self.pruning.restore_masks(learnable, state.get("pruned", []))
            stopped = (config.patience is not None
                       and state["waiting"] > config.patience)
            bar = tqdm(range(config.epochs if stopped else
                             state["epoch"] + 1, config.epochs),
                       disable=not self.progress, desc=config.arch)
            for epoch in bar:
                x_train, y_train = splits.epoch_train(augment_rng)
                start = time.perf_counter()
                with warnings.catch_warnings():
                    if config.silent_bump:
                        # The bumps below revive silent layers (as for
                        # Yin-Yang's silent outputs at some seeds)
                        warnings.simplefilter("ignore", NoGradientWarning)
                    metrics, data = compiled.train(
                        {model.input: x_train}, {model.output: y_train},
                        start_epoch=epoch, num_epochs=1,
                        callbacks=[schedule, *recorders, *extra,
                                   *self._progress("train")])
                elapsed = time.perf_counter() - start
                counts = [np.sum(np.reshape(data[f"layer{i}"],
                                            (-1, pop.shape[0])), axis=0)
                          for i, (_, pop) in enumerate(layers)]
                silent = (bump_silent_inputs(compiled,
                                             [c for c, _ in layers], counts,
                                             config.silent_bump)
                          if config.silent_bump else
                          int(sum(np.sum(c == 0) for c in counts)))
                counts = counts[:config.num_layers]  # hidden layers
                row = self._row(epoch, metrics[model.output].result,
                                self._accuracy(x_valid, splits.y_valid,
                                               "validation"),
                                self._accuracy(x_test, splits.y_test, "test"),
                                counts, len(y_train), silent, elapsed)
                state["rows"].append(row)
                improved = self._select(state, row, epoch)
                state["epoch"] = epoch
                state["augment_rng"] = augment_rng.bit_generator.state
                if self.pruning is not None:
                    state["pruned"] = self.pruning.saved_masks(learnable)
                state["numpy_rng"] = _numpy_rng()
                self._write_csv(state["rows"])
                save_training_state(compiled,
                                    os.path.join(self.directory, "resume"),
                                    state)
                if improved:
                    # Only now: a kill before the state was saved resumes
                    # with the earlier best, whose files must be there
                    remove_checkpoints(self.directory, keep=epoch)
                bar.set_postfix(test=f"{row['test_accuracy']:.3f}")
                if (config.patience is not None
                        and state["waiting"] > config.patience):
                    break
            delays_after = self._delays()
            # The trained network on the first test example
            recording = record_example(compiled, {model.input: x_test},
                                       {model.output: splits.y_test})
        plot_run(state["rows"], np.array(state["delays_before"]),
                 delays_after, os.path.join(self.directory, "training.png"),
                 title=config.arch)
        plot_raster(recording, os.path.join(self.directory, "raster.png"),
                    title=f"{config.arch}: first test example, last epoch")
        return RunResult(state["best_test"], state["best_epoch"],
                         state["rows"], self.directory)

    def _row(self, epoch, train, valid, test, counts, examples, silent,
             elapsed):
        delays = self._delays()
        spikes = float(sum(np.sum(c) for c in counts))
        neurons = self.config.num_hidden * len(counts)
        seconds = examples * self.config.example_time / 1000.0
        return {"epoch": epoch, "train_accuracy": train,
                "valid_accuracy": "" if valid is None else valid,
                "test_accuracy": test,
                "delay_mean": float(np.mean(delays)) if delays.size else "",
                "delay_std": float(np.std(delays)) if delays.size else "",
                "delays_nonzero": (float(np.mean(delays != 0))
                                   if delays.size else ""),
                "hidden_rate_hz": spikes / (neurons * seconds),
                "silent_neurons": silent, "epoch_time_s": elapsed,
                "weight_lr": self.compiled.optimisers[0][0].alpha}

    def _select(self, state, row, epoch) -> bool:
        """Keep the model with the best validation accuracy (training
        accuracy where there is no validation set, as the paper's SHD
        script); count epochs without improvement for early stopping.
        With delay pruning both start at the last stage: a model selected
        earlier would keep more delays than asked. Whether this epoch's
        model was saved as the best."""
        first = self._first_selectable()
        if epoch < first:
            return False
        score = (row["train_accuracy"] if row["valid_accuracy"] == ""
                 else row["valid_accuracy"])
        if state["best"] is None or score > state["best"] or epoch == first:
            state.update(best=score, best_epoch=epoch,
                         best_test=row["test_accuracy"], waiting=0)
            save_model(self.compiled, self.directory, checkpoint=epoch)
            return True
        state["waiting"] += 1
        return False

    def _first_selectable(self) -> int:
        """The first epoch whose model may be selected: 0, or with delay
        pruning the epoch of its last stage."""
        if self.pruning is None:
            return 0
        return self.pruning.start + (self.pruning.stages - 1) \
            * self.pruning.every
