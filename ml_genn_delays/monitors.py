"""Checks run during training: they warn, or stop training, when it
would otherwise go wrong without a sign (no optimiser step, spikes beyond
the buffers, NaN, no gradient, a schedule that gives the delays the
weights' learning rate)."""
import warnings

import numpy as np
from ml_genn.callbacks import Callback

from .backends import is_sparse
from .errors import NoGradientWarning
from .genn_models import DROPPED_SPIKES_VAR


def optimiser_steps(num_batches: int, examples_per_step: int) -> int:
    """Optimiser steps an epoch of ``num_batches`` of mlGeNN's batches
    takes: a batch's step comes after the next batch, and the epoch's
    last batch is dropped."""
    return -(-num_batches // examples_per_step) - 1


class NoStepWarning(Callback):
    """Warns when an epoch is too short to take any optimiser step.

    mlGeNN completes a batch's gradients during the next batch and
    discards the last batch of every epoch (see
    :class:`~ml_genn_delays.training.GradientAccumulation`), so an epoch
    of at most one batch (``examples_per_step`` examples on the CPU)
    trains nothing, which looks like a broken run rather than a
    too-large ``batch_size``.
    """

    def __init__(self, examples_per_step: int = 1):
        self.n = examples_per_step

    def set_params(self, num_batches, **kwargs):
        if optimiser_steps(num_batches, self.n) < 1:
            batches = -(-num_batches // self.n)
            warnings.warn(
                f"The training data make {batches} batch per epoch, which "
                f"takes no optimiser step: a batch's gradients are applied "
                f"after the next batch and an epoch's last batch is "
                f"dropped. Train on more than one batch of examples or "
                f"lower batch_size.", stacklevel=2)


class SpikeBufferOverflowError(RuntimeError):
    """A neuron spiked more often than EventProp's ``max_spikes`` allows:
    its ring buffer holds the spikes of two consecutive examples (one
    running forward, one backward), at most ``max_spikes - 1`` together.

    Raised by :class:`SpikeBufferMonitor` with ``strict=True`` (the
    compiler's ``strict_buffer_checking``); the message names the
    populations and how many spikes were dropped. Raise ``max_spikes`` or
    lower the firing rate.
    """


class SpikeBufferMonitor(Callback):
    """Reports spikes dropped by EventProp's per-neuron spike ring buffers.

    mlGeNN silently ignores spikes that do not fit in a neuron's ring
    buffer of ``max_spikes``, which holds two consecutive examples' (the
    backward pass is then wrong, often giving no gradient at all). Every
    EventProp neuron counts the spikes it drops; this callback warns once
    per ``train`` call or, when ``strict``, raises
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
                   f"(max_spikes={self.max_spikes} per neuron, holding the "
                   f"spikes of two consecutive examples: the one running "
                   f"forward and the one running backward); their "
                   f"gradients are lost. Raise max_spikes to more than "
                   f"twice a neuron's most spikes per example, or lower "
                   f"the firing rate (e.g. spike regularisation).")
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
            if not np.all(np.isfinite(var.values)):
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
    groups : dict
        {description of a connection: its pygenn synapse group}.
    examples_per_step : int
        Examples per optimiser step (CPU batches), to tell an epoch that
        takes no step (:class:`NoStepWarning`) from one that learned
        nothing.
    optimiser : mlGeNN Optimiser, optional
        The weights' optimiser: an epoch in which a callback set its
        learning rate ``alpha`` to 0 (on purpose: to read gradients, or to
        train the delays alone) is not checked.
    quiet : bool
        Neither check nor warn (MPI ranks but the first: every rank holds
        the same weights).
    """

    def __init__(self, groups: dict, examples_per_step: int = 1,
                 optimiser=None, quiet: bool = False):
        self.groups = groups
        self.n = examples_per_step
        self.optimiser = optimiser
        self.quiet = quiet
        self.warned = set()
        self._before = {}

    def set_params(self, num_batches, **kwargs):
        self._steps = optimiser_steps(num_batches, self.n)

    def _frozen(self):
        return getattr(self.optimiser, "alpha", None) == 0

    def on_epoch_begin(self, epoch):
        # (mlGeNN calls this before the user's callbacks: the learning
        # rate is looked at batch by batch)
        self._before = {}
        self._skip = self._steps < 1 or self.quiet
        if self._skip:
            return
        for what, group in self.groups.items():
            if what not in self.warned:
                group.vars["g"].pull_from_device()
                self._before[what] = np.array(group.vars["g"].values)

    def on_batch_begin(self, batch):
        self._skip = self._skip or self._frozen()

    def on_batch_end(self, batch, metrics):
        self._skip = self._skip or self._frozen()

    def on_epoch_end(self, epoch, metrics):
        before, self._before = self._before, {}
        if self._skip:
            return
        still = []
        for what, values in before.items():
            var = self.groups[what].vars["g"]
            var.pull_from_device()
            if np.array_equal(np.asarray(var.values), values):
                still.append(what)
        if not still:
            return
        self.warned.update(still)
        warnings.warn(
            f"Epoch {epoch} took {self._steps} optimiser step"
            f"{'s' if self._steps > 1 else ''} and left the weights of "
            f"{', '.join(still)} exactly as they were: no gradient "
            f"reached them or their delays. EventProp's gradients "
            f"flow through spikes, so a connection gets none when its "
            f"source fires no spike, its target is a hidden "
            f"population that fires none, or its delays carry every "
            f"spike past the end of the example; nor when the loss "
            f"does not depend on them (e.g. a max_var readout whose "
            f"maximum is its initial voltage). To find a silent "
            f"layer, read its spikes per neuron with "
            f"ml_genn_delays.spike_counts(compiled_net, population); "
            f"then raise the initial weights into it or lower its "
            f"threshold.", NoGradientWarning,
            stacklevel=2)


class SparseSynapsePull(Callback):
    """Pulls the synapses of the sparse ones of ``groups`` once per
    ``train`` call, before the checks below read their variables: a
    sparse variable's values are read through the host's copy of its
    synapses, which GeNN fills on the GPU only when asked (there an empty
    copy would read as no values)."""

    def __init__(self, groups):
        self.groups = [g for g in groups if is_sparse(g)]

    def set_params(self, **kwargs):
        for group in self.groups:
            group.pull_connectivity_from_device()


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
    quiet : bool
        Do not warn (MPI ranks but the first).
    """

    def __init__(self, weights, others: dict, quiet: bool = False):
        self.weights = weights
        # Only optimisers of their own that start at another rate
        self.others = {} if quiet else {
            what: o for what, o in others.items()
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


class EpochOrder:
    """Warns once when a callback kept across ``train`` calls sees its
    epoch numbers start again: mlGeNN numbers each call's epochs from its
    ``start_epoch`` (0 unless given), so training one epoch per call
    without it gives every epoch the number 0.

    Parameters
    ----------
    what : str
        The callback, for the message.
    consequence : str
        What goes wrong then, for the message.
    """

    def __init__(self, what: str, consequence: str):
        self.what = what
        self.consequence = consequence
        self._last = None
        self._warned = False

    def see(self, epoch: int):
        last, self._last = self._last, epoch
        # (an epoch given again as start_epoch, e.g. retried, is meant)
        again = last is not None and (epoch < last or epoch == last == 0)
        if again and not self._warned:
            self._warned = True
            warnings.warn(
                f"{self.what} saw epoch {epoch} after epoch {last}: mlGeNN "
                f"numbers the epochs of each train() call from its "
                f"start_epoch, 0 unless given, so {self.consequence}. "
                f"Training one epoch per call, pass start_epoch=epoch.",
                stacklevel=3)


def training_checks(genn_model, connection_populations, ring_buffers,
                    max_spikes, strict, examples_per_step, weights, others,
                    quiet=False):
    """The checks the :class:`~ml_genn_delays.EventPropCompiler` adds to
    every ``train`` call.

    Parameters
    ----------
    genn_model : pygenn.GeNNModel
        The built model (its optimisers' custom updates).
    connection_populations : dict
        {Connection: pygenn synapse group}.
    ring_buffers : dict
        {population name: pygenn neuron group} of the neurons whose
        spikes the backward pass stores.
    max_spikes : int
        Spikes a neuron's ring buffer holds (two examples' together).
    strict : bool
        Raise, rather than warn, when a buffer overflows.
    examples_per_step : int
        Examples per optimiser step (CPU batches).
    weights : mlGeNN Optimiser
        The weights' optimiser.
    others : dict
        {what it trains: optimiser} of the delays and neuron parameters.
    quiet : bool
        No warnings (MPI ranks but the first).

    Returns
    -------
    list of Callback
    """
    learned = {c: g for c, g in connection_populations.items()
               if "Gradient" in g.vars}
    state = {f"{name}'s {var_name}": var
             for name, cu in genn_model.custom_updates.items()
             if cu.update_group_name == "GradientLearn"
             for var_name, var in cu.vars.items()}
    return [
        SparseSynapsePull(learned.values()),
        SpikeBufferMonitor(ring_buffers, max_spikes, strict),
        NoStepWarning(examples_per_step),
        LearningRateMonitor(weights, others, quiet),
        NoGradientMonitor(
            {f"{c.name} ({c.source().name} -> {c.target().name})": g
             for c, g in learned.items()}, examples_per_step, weights,
            quiet),
        NonFiniteMonitor({**{f"the weights of {c.name}": g.vars["g"]
                             for c, g in learned.items()}, **state})]

