"""A training run of a named architecture, as the examples do it: epochs
with augmentation, learning-rate schedules, silent-neuron bumps, model
selection on validation, early stopping, a CSV and a PNG per run,
checkpoints in the release layout and exact resume."""
import csv
import io as _io
import json
import os
import time
import warnings
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from .errors import NoGradientWarning
from .evaluation import evaluate, get_delays, record_example, spike_counts
from .experiment import build_model, compile_model
from .io import remove_checkpoints, save_model
from .io_files import checkpoint_names
from .io_journal import atomic_save
from .plots import plot_raster, plot_run
from .pruning import DelayPruning
from .published import LearningRateSchedule, bump_silent_inputs
from .resume import load_training_state, save_training_state
from .run_folder import (RUN_FILE, ResumeMismatchError, RunLock,
                         check_directory, model_name,
                         refuse_several_processes, remove_earlier,
                         run_description, run_directory)
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


def pruning_schedule(epochs: int) -> dict:
    """DelayPruning's stages for a run of ``epochs``: 5 stages, from 10% to
    50% of the epochs; a run of fewer than 10 epochs prunes at the end of
    each from the first, in as many stages as it has epochs (up to 5), so
    that it always reaches the fraction asked for."""
    step = max(1, epochs // 10)
    return {"every": step, "start": step - 1, "stages": max(1, min(5, epochs))}


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
        ``<arch>_<seed>_<hash of the folder>`` (:func:`model_name`).
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
        self.progress = progress
        # Held until run() ends: one process per run folder
        self._lock = RunLock(self.directory)
        try:
            # Before compiling: these mistakes should cost nothing
            saved = check_directory(self.directory, self.description, resume,
                                    overwrite)
            self.pruning = self._pruning(keep_delays, saved)
            self.model = build_model(config, seed, max_input_spikes)
            self.compiled = compile_model(
                self.model, name=name or model_name(self.directory),
                **compile_kwargs)
        except BaseException:
            self._lock.close()
            raise

    def _pruning(self, keep_delays, saved):
        """The run's DelayPruning (None without ``keep_delays``)."""
        if self.description["keep_delays"] is None:
            return None
        # A resumed run keeps the first run's stages, even when it trains
        # longer (its own epochs would move them)
        first = saved or {"config": {"epochs": self.config.epochs}}
        schedule = (first.get("pruning")
                    or pruning_schedule(first["config"]["epochs"]))
        self.description["pruning"] = schedule
        pruning = DelayPruning(keep_delays, **schedule)
        last = pruning.last_stage
        if self.config.epochs <= last:
            # (a fresh run's stages always end within its epochs)
            raise ResumeMismatchError(
                f"Cannot resume {self.directory} with --epochs "
                f"{self.config.epochs}: its delays are pruned until epoch "
                f"{last}, and its model is selected from there on; resume "
                f"with --epochs {last + 1} or more")
        return pruning

    # ------------------------------------------------------------ helpers
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
        """Train, keep the best model and draw the plots (once)."""
        if self._lock.closed:
            raise RuntimeError("TrainingRun.run() runs once: make a new "
                               "TrainingRun (resume=True to go on)")
        try:
            return self._run()
        finally:
            self.close()

    def close(self):
        """Let the run's folder go without training (:meth:`run` does so
        when it ends)."""
        self._lock.close()

    def _run(self) -> RunResult:
        config, model, compiled = self.config, self.model, self.compiled
        splits = self.splits
        if not self.resume:
            remove_earlier(self.directory)
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
            best = state["best_epoch"]
            if (best is not None
                    and str(best) in checkpoint_names(self.directory)):
                # A kill between saving a new best and the state leaves
                # that model, newer than the state's best, to be loaded
                # (and one of earlier versions, which removed the old best
                # before saving the state, may have left only the newer)
                remove_checkpoints(self.directory, keep=best)
            augment_rng = np.random.default_rng()
            augment_rng.bit_generator.state = state["augment_rng"]
            x_valid = (None if splits.valid is None
                       else splits.spikes(splits.valid))
            x_test = splits.spikes(splits.test)
            # Spike counts of every layer whose silent neurons get bumps
            layers = list(zip(model.feedforward, model.hidden_layers))
            if config.bump_outputs:
                layers.append((model.connections[-1], model.output))
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
                before = [spike_counts(compiled, pop) for _, pop in layers]
                with warnings.catch_warnings():
                    if config.silent_bump:
                        # The bumps below revive silent layers (as for
                        # Yin-Yang's silent outputs at some seeds)
                        warnings.simplefilter("ignore", NoGradientWarning)
                    metrics, _ = compiled.train(
                        {model.input: x_train}, {model.output: y_train},
                        start_epoch=epoch, num_epochs=1,
                        callbacks=[schedule, *extra,
                                   *self._progress("train")])
                elapsed = time.perf_counter() - start
                # (the counters are 32-bit and never reset: they may wrap)
                counts = [(spike_counts(compiled, pop) - b) % 2 ** 32
                          for (_, pop), b in zip(layers, before)]
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
        if (state["best_epoch"] is None or state["best_epoch"] < first
                or score > state["best"]):
            state.update(best=score, best_epoch=epoch,
                         best_test=row["test_accuracy"], waiting=0)
            save_model(self.compiled, self.directory, checkpoint=epoch)
            return True
        state["waiting"] += 1
        return False

    def _first_selectable(self) -> int:
        """The first epoch whose model may be selected: 0, or with delay
        pruning the epoch of its last stage."""
        return 0 if self.pruning is None else self.pruning.last_stage
