"""Training callbacks: CPU batch accumulation, host all-reduce across
processes, spike buffer, NaN and no-gradient checks, model checkpoints
and batch progress."""
import logging
import os
import warnings

import numpy as np
from ml_genn.callbacks import Callback

from .errors import NoGradientWarning
from .genn_models import DROPPED_SPIKES_VAR
from .io import save_model
from .wholes import require_whole

logger = logging.getLogger(__name__)


class GradientAccumulation(Callback):
    """Batch-N semantics on a backend that simulates one example at a time.

    GeNN's CPU backend runs batch size 1, so the compiled network sees one
    example per mlGeNN "batch". Gradients are summed over ``n`` examples,
    scaled by 1/n (the batch mean) and applied in one optimiser step.

    mlGeNN runs example k's backward pass while example k+1 runs forward,
    so at the end of example b the gradients hold examples 0..b-1 of the
    epoch. A step is taken at the end of example b when b > 0 and b % n == 0:
    examples b-n..b-1 form one batch, as batch b/n - 1 would on a GPU with
    batch size n. The first step of an epoch equals the GPU's exactly.
    Later ones differ slightly: on the GPU the whole batch runs forward
    before the previous batch's step and backward after it; here only its
    first example (b) does, the others run forward after the step. Like
    mlGeNN on the GPU, the last (possibly
    partial) batch of an epoch is discarded by the ZeroGradient update at
    the start of the next epoch. The Adam step count is the batch index the
    GPU would use: epoch * ceil(examples / n) + b / n.

    With ``all_reduce`` (data-parallel training across processes), the
    summed gradients are all-reduced across ranks before the step.

    This replaces mlGeNN's per-batch ``GradientLearn`` callback.
    """

    def __init__(self, n: int, all_reduce=None):
        self.n = n
        self.all_reduce = all_reduce

    def set_params(self, compiled_network, num_batches, **kwargs):
        self._net = compiled_network
        self._batches_per_epoch = (num_batches + self.n - 1) // self.n
        self._epoch = 0
        if self.all_reduce is not None:
            # Unequal shares would pair one rank's all-reduce with another
            # rank's next step, or leave a rank waiting for ever
            self.all_reduce.check_same(num_batches, "examples per epoch")

    def on_epoch_begin(self, epoch):
        self._epoch = epoch

    def on_batch_end(self, batch, metrics):
        if batch == 0 or batch % self.n != 0:
            return
        step = self._epoch * self._batches_per_epoch + batch // self.n
        genn_model = self._net.genn_model
        if self.all_reduce is not None:
            self.all_reduce()
        genn_model.custom_update("GradientScale")
        for optimiser, custom_updates in self._net.optimisers:
            for cu in custom_updates:
                optimiser.set_step(cu, step)
        genn_model.custom_update("GradientLearn")


class NoStepWarning(Callback):
    """Warns when an epoch is too short to take any optimiser step.

    mlGeNN completes a batch's gradients during the next batch and
    discards the last batch of every epoch (see
    :class:`GradientAccumulation`), so an epoch of at most one batch
    (``examples_per_step`` examples on the CPU) trains nothing, which
    looks like a broken run rather than a too-large ``batch_size``.
    """

    def __init__(self, examples_per_step: int = 1):
        self.n = examples_per_step

    def set_params(self, num_batches, **kwargs):
        batches = -(-num_batches // self.n)
        if batches <= 1:
            warnings.warn(
                f"The training data make {batches} batch per epoch, which "
                f"takes no optimiser step: a batch's gradients are applied "
                f"after the next batch and an epoch's last batch is "
                f"dropped. Train on more than one batch of examples or "
                f"lower batch_size.", stacklevel=2)


class HostAllReduce:
    """Sums GeNN variables across MPI ranks on the host.

    mlGeNN's communicator reduces gradients with NCCL, which only GeNN's
    CUDA backend has; on the CPU backend this does the same on the host.

    Parameters
    ----------
    communicator : ml_genn.communicators.Communicator
        mlGeNN's MPI communicator (its mpi4py ``comm`` is used for
        in-place buffer reductions; others fall back to ``reduce_sum``).
    genn_vars : list
        pygenn variables (e.g. every ``Gradient`` and ``DelayGradient``).
    """

    def __init__(self, communicator, genn_vars):
        self.communicator = communicator
        self.genn_vars = genn_vars

    def _sum(self, values):
        """``values`` summed over the ranks, in place."""
        mpi_comm = getattr(self.communicator, "comm", None)
        if mpi_comm is not None:
            from mpi4py import MPI
            mpi_comm.Allreduce(MPI.IN_PLACE, values)
        else:
            values[:] = self.communicator.reduce_sum(values.copy())

    def __call__(self):
        for var in self.genn_vars:
            var.pull_from_device()
            self._sum(var.view)
            var.push_to_device()

    def check_same(self, value: int, what: str):
        """Raise on every rank at once (none is left waiting) unless
        ``value`` is the same on all: the ranks' sum squared equals the
        number of ranks times the sum of squares only then."""
        sums = np.array([value, value * value], dtype=np.float64)
        self._sum(sums)
        ranks = self.communicator.num_ranks
        if sums[0] ** 2 != ranks * sums[1]:
            raise ValueError(
                f"Every MPI rank must train on the same number of "
                f"{what}: this rank (rank {self.communicator.rank}) has "
                f"{value}, the {ranks} ranks {int(sums[0])} together; give "
                f"each rank an equal share (drop the remainder)")


class SpikeBufferOverflowError(RuntimeError):
    """A neuron spiked more often than EventProp's ``max_spikes`` allows.

    Raised by :class:`SpikeBufferMonitor` with ``strict=True`` (the
    compiler's ``strict_buffer_checking``); the message names the
    populations and how many spikes were dropped. Raise ``max_spikes`` or
    lower the firing rate.
    """


class SpikeBufferMonitor(Callback):
    """Reports spikes dropped by EventProp's per-neuron spike ring buffers.

    mlGeNN silently ignores spikes beyond ``max_spikes`` per neuron and
    example (the backward pass is then wrong, often giving no gradient at
    all). Every EventProp neuron counts the spikes it drops; this callback
    warns once per ``train`` call or, when ``strict``, raises
    :class:`SpikeBufferOverflowError` at the end of the batch.
    """

    def __init__(self, populations: dict, max_spikes: int, strict: bool):
        self.populations = populations
        self.max_spikes = max_spikes
        self.strict = strict

    def set_params(self, **kwargs):
        self._warned = False

    def _dropped(self, genn_pop):
        var = genn_pop.vars[DROPPED_SPIKES_VAR]
        var.pull_from_device()
        return int(np.sum(var.values, dtype=np.int64))

    def _check(self):
        dropped = {}
        for name, genn_pop in self.populations.items():
            total = self._dropped(genn_pop)
            if total > self._seen[name]:
                dropped[name] = total - self._seen[name]
            self._seen[name] = total
        if not dropped:
            return
        counts = ", ".join(f"{n} spikes of population {p}"
                           for p, n in dropped.items())
        message = (f"{counts} did not fit in EventProp's spike buffer "
                   f"(max_spikes={self.max_spikes} per neuron and "
                   f"example); their gradients are lost. Raise max_spikes "
                   f"or lower the firing rate (e.g. spike regularisation).")
        if self.strict:
            raise SpikeBufferOverflowError(message)
        if not self._warned:
            warnings.warn(message, RuntimeWarning, stacklevel=2)
            self._warned = True

    def on_epoch_begin(self, epoch):
        # Counted from each epoch's start: mlGeNN's validation pass runs
        # after the training epoch ends and counts its drops too, though
        # it computes no gradients
        self._seen = {name: self._dropped(pop)
                      for name, pop in self.populations.items()}

    def on_batch_end(self, batch, metrics):
        if self.strict:
            self._check()

    def on_epoch_end(self, epoch, metrics):
        if not self.strict:
            self._check()


class NonFiniteError(FloatingPointError):
    """Weights or optimiser state stopped being finite during training.

    Raised by :class:`NonFiniteMonitor` at the end of the epoch in which
    it happened; nothing learns after a NaN (Adam's moments keep it).
    """


class NonFiniteMonitor(Callback):
    """Stops training once a weight or an optimiser's state is NaN or
    infinite.

    A NaN gradient (a learning rate too large, a diverging network) makes
    the weights NaN, and the delays, whose clamp turns NaN into a bound,
    jump to 0 or their maximum without a sign. Checked at the end of every
    epoch: one read of each weight and optimiser variable.

    Parameters
    ----------
    genn_vars : dict
        {description: pygenn variable}.
    """

    def __init__(self, genn_vars: dict):
        self.genn_vars = genn_vars

    def on_epoch_end(self, epoch, metrics):
        bad = []
        for what, var in self.genn_vars.items():
            var.pull_from_device()
            if not np.all(np.isfinite(var.values)):  # (sparse: no view)
                bad.append(what)
        if bad:
            raise NonFiniteError(
                f"After epoch {epoch}: {', '.join(bad[:4])}"
                f"{f' and {len(bad) - 4} more' if len(bad) > 4 else ''} "
                f"hold NaN or inf, and training cannot recover from that. "
                f"Lower the learning rates (optimiser=, delay_optimiser=, "
                f"param_optimiser=) or check the input's scale.")


class NoGradientMonitor(Callback):
    """Warns when an epoch's optimiser steps leave a connection's weights
    exactly as they were (:class:`~ml_genn_delays.NoGradientWarning`).

    EventProp's gradients flow through spikes: a connection gets none
    when its source population fires no spike, or when its target is a
    hidden population that fires none, and then nothing upstream of that
    silent layer learns either. mlGeNN gives no sign: the loss stays put
    and accuracy at chance. Adam keeps moving weights for a while after
    their gradients stop, so this catches mostly layers silent from the
    start. Costs a read of each weight at the start and end of an epoch;
    each connection is named once per compiled network.

    Parameters
    ----------
    genn_vars : dict
        {description of a connection: its pygenn weight variable}.
    examples_per_step : int
        Examples per optimiser step (CPU batches), to tell an epoch that
        takes no step (:class:`NoStepWarning`) from one that learned
        nothing.
    optimiser : mlGeNN Optimiser, optional
        The weights' optimiser: while its learning rate ``alpha`` is 0
        (on purpose, e.g. to read gradients), nothing is checked.
    """

    def __init__(self, genn_vars: dict, examples_per_step: int = 1,
                 optimiser=None):
        self.genn_vars = genn_vars
        self.n = examples_per_step
        self.optimiser = optimiser
        self.warned = set()
        self._before = {}

    def set_params(self, num_batches, **kwargs):
        # A batch's step comes after the next batch: one step fewer
        self._steps = -(-num_batches // self.n) - 1

    def on_epoch_begin(self, epoch):
        self._before = {}
        if self._steps < 1 or getattr(self.optimiser, "alpha", None) == 0:
            return
        for what, var in self.genn_vars.items():
            if what not in self.warned:
                var.pull_from_device()
                self._before[what] = np.array(var.values)

    def on_epoch_end(self, epoch, metrics):
        still = []
        for what, before in self._before.items():
            var = self.genn_vars[what]
            var.pull_from_device()
            if np.array_equal(np.asarray(var.values), before):
                still.append(what)
        self._before = {}
        if still:
            self.warned.update(still)
            warnings.warn(
                f"Epoch {epoch} took {self._steps} optimiser step"
                f"{'s' if self._steps > 1 else ''} and left the weights of "
                f"{', '.join(still)} exactly as they were: no gradient "
                f"reached them or their delays. EventProp's gradients "
                f"flow through spikes, so a connection gets none when its "
                f"source fires no spike, its target is a hidden "
                f"population that fires none, or its delays carry every "
                f"spike past the end of the example. Record spike counts "
                f"(mlGeNN's SpikeRecorder(pop, record_counts=True)) to "
                f"find the silent layer, then raise the initial weights "
                f"into it or lower its threshold.", NoGradientWarning,
                stacklevel=2)


class ModelCheckpoint(Callback):
    """Saves weights, delays and learned neuron parameters with
    :func:`ml_genn_delays.save_model` (crash-safe
    ``<epoch>-<connection>-g.npy`` / ``-d.npy`` (``-da``, ``-dd``) files,
    ``<epoch>-<population>-<parameter>.npy`` and a manifest) at the end
    of every ``every``-th epoch.

    Parameters
    ----------
    directory : str
        Folder for the files, e.g. ``out/<arch>/<seed>``.
    every : int
        Save after every epoch whose number (counted from 1) is a multiple
        of this. Files are named by mlGeNN's epoch, counted from 0
        (``every=2``: ``1-``, ``3-``, ...).
    last : bool
        Also save after the last epoch of each ``train`` call. Turn it off
        when training one epoch per call (else every epoch is saved).
    """

    def __init__(self, directory, every: int = 1, last: bool = True):
        # 0 would fail with a ZeroDivisionError after the first epoch
        require_whole(every, "ModelCheckpoint: every",
                      meaning="epochs between saves")
        if not isinstance(directory, (str, os.PathLike)):
            raise TypeError(f"ModelCheckpoint: directory must be a folder "
                            f"path, got {directory!r}")
        self.directory = directory
        self.every = every
        self.last = last

    def set_params(self, compiled_network, num_epochs, **kwargs):
        self._net = compiled_network
        self._num_epochs = num_epochs
        self._first = None

    def on_epoch_begin(self, epoch):
        if self._first is None:
            self._first = epoch

    def on_epoch_end(self, epoch, metrics):
        last = self.last and epoch == self._first + self._num_epochs - 1
        if last or (epoch + 1) % self.every == 0:
            save_model(self._net, self.directory, checkpoint=epoch)


class BatchProgress(Callback):
    """A tqdm bar over the batches of one pass (on the CPU backend: its
    examples), cleared when the pass ends, so that a long SHD or SSC epoch
    shows its progress beneath the runner's bar over epochs.

    Parameters
    ----------
    desc : str
        Shown before the bar (e.g. "train", "test").
    **tqdm_kwargs
        More arguments for tqdm (e.g. ``file``, ``mininterval``,
        ``disable=False`` to draw where the output is not a terminal).
    """

    def __init__(self, desc, **tqdm_kwargs):
        # disable=None: no bar where the output is not a terminal (logs)
        self.tqdm_kwargs = {"desc": desc, "leave": False, "disable": None,
                            **tqdm_kwargs}
        self._num_batches = None
        self._bar = None

    def set_params(self, num_batches=None, **kwargs):
        self._num_batches = num_batches

    def _open(self):
        from tqdm import tqdm
        self._bar = tqdm(total=self._num_batches, **self.tqdm_kwargs)

    def _close(self, metrics):
        self._bar.close()

    def on_epoch_begin(self, epoch):
        # One pass per epoch: count its batches from 0 again
        self._bar.reset(total=self._num_batches)

    def on_batch_end(self, batch, metrics):
        self._bar.update(1)

    on_train_begin = on_test_begin = _open
    on_train_end = on_test_end = _close
