"""Checks run during training: they warn, or stop training, when it
would otherwise go wrong without a sign (no optimiser step, spikes beyond
the buffers, NaN, no gradient, a schedule that gives the delays the
weights' learning rate)."""
import warnings

import numpy as np
from ml_genn.callbacks import Callback

from .errors import NoGradientWarning
from .genn_models import DROPPED_SPIKES_VAR


class NoStepWarning(Callback):
    """Warns when an epoch is too short to take any optimiser step.

    mlGeNN completes a batch's gradients during the next batch and
    discards the last batch of every epoch (see
    :class:`~ml_genn_delays.training.GradientAccumulation`), so an epoch
    of at most one batch (``examples_per_step`` examples on the CPU)
    trains nothing, which
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


class LearningRateMonitor(Callback):
    """Warns once when a callback sets the learning rate of the delays'
    (or neuron parameters') optimiser to the weights'.

    mlGeNN's ``OptimiserParamSchedule``, and schedules written like it
    (``EaseInSchedule`` in mlGeNN's SHD example), set every optimiser in
    ``compiled_network.optimisers``; delays learn at rates around 100
    times the weights' (default ``Adam(0.1)``), and a schedule that
    returns one absolute rate for all of them all but stops them, without
    a sign. Checked after every batch: two comparisons.

    Parameters
    ----------
    weights : mlGeNN Optimiser
        The weights' optimiser.
    others : dict
        {what it trains, e.g. "delays": its optimiser}.
    """

    def __init__(self, weights, others: dict):
        self.weights = weights
        # Only optimisers of their own that start at another rate
        self.others = {what: o for what, o in others.items()
                       if o is not weights and _alpha(o) is not None
                       and _alpha(o) != _alpha(weights)}
        self._epoch = 0

    def on_epoch_begin(self, epoch):
        self._epoch = epoch

    def on_batch_end(self, batch, metrics):
        for what, optimiser in list(self.others.items()):
            if _alpha(optimiser) == _alpha(self.weights):
                del self.others[what]
                warnings.warn(
                    f"In epoch {self._epoch} a callback set the learning "
                    f"rate of the {what}' optimiser to the weights' "
                    f"({_alpha(optimiser)}): mlGeNN's "
                    f"OptimiserParamSchedule, and schedules like it, set "
                    f"every optimiser in compiled_network.optimisers, and "
                    f"{what} learn at their own, usually much larger, "
                    f"rate. Make the schedule scale the rate it is given "
                    f"(e.g. lambda epoch, alpha: alpha * 0.998) or set "
                    f"only compiled_network.optimisers[0], the weights'.",
                    stacklevel=2)


def _alpha(optimiser):
    return getattr(optimiser, "alpha", None)
