"""Spikes beyond max_spikes are reported, never silently dropped."""
import re
import warnings

import numpy as np
import pytest

from ml_genn_delays import SpikeBufferOverflowError
from ml_genn.callbacks import Callback

from networks import TinyNet, random_spikes

TIMESTEPS = 50


def train(max_spikes, strict, name):
    net = TinyNet("ours")
    x = random_spikes(3, 5, TIMESTEPS, 0.3, seed=5)
    compiled = net.compile(TIMESTEPS, name, max_spikes=max_spikes,
                           strict_buffer_checking=strict)
    with compiled:
        compiled.train({net.inp: x}, {net.out: np.array([0, 1, 2])},
                       num_epochs=2, shuffle=False, callbacks=[])
    return net


def test_overflow_warns_once_with_population_and_count():
    with pytest.warns(RuntimeWarning) as record:
        net = train(3, False, "warn")
    messages = [str(w.message) for w in record
                if "spike buffer" in str(w.message)]
    # Once per train() call, naming the hidden population
    assert len(messages) == 1
    assert "did not fit" in messages[0] and "max_spikes=3" in messages[0]
    for pop in (net.inp, net.hid):
        assert f"spikes of population {pop.name}" in messages[0]
    assert int(messages[0].split()[0]) > 0


def test_overflow_raises_when_strict():
    with pytest.raises(SpikeBufferOverflowError, match="max_spikes=3"):
        train(3, True, "strict")


def test_no_report_when_spikes_fit():
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        train(200, True, "fits")


class DropCounter(Callback):
    """Spikes the input population drops during training epochs only
    (mlGeNN trains with a copy of each callback: the counts go to a list
    shared with the original)."""

    def __init__(self, genn_pop):
        self.genn_pop, self.epochs = genn_pop, []

    def _total(self):
        var = self.genn_pop.vars["DroppedSpikes"]
        var.pull_from_device()
        return int(var.values.sum())

    def on_epoch_begin(self, epoch):
        self.epochs.append(self._total())

    def on_epoch_end(self, epoch, metrics):
        self.epochs[-1] = self._total() - self.epochs[-1]


def test_validation_drops_are_not_training_drops():
    # Quiet training examples, busy validation examples: mlGeNN's
    # validation pass (after each training epoch) drops many spikes but
    # loses no gradient; only drops during training batches are reported.
    # (The first training example after an overflowing validation pass
    # drops a few of its own spikes: mlGeNN leaves the rings as validation
    # left them. Those are real and reported.)
    net = TinyNet("ours")
    quiet = random_spikes(3, 5, TIMESTEPS, 0.01, seed=5)
    busy = random_spikes(3, 5, TIMESTEPS, 0.6, seed=6)
    compiled = net.compile(TIMESTEPS, "validation", max_spikes=10)
    with compiled:
        counter = DropCounter(compiled.neuron_populations[net.inp])
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            compiled.train({net.inp: quiet}, {net.out: np.array([0, 1, 2])},
                           num_epochs=2, shuffle=False, callbacks=[counter],
                           validation_x={net.inp: busy},
                           validation_y={net.out: np.array([0, 1, 2])})
        var = compiled.neuron_populations[net.inp].vars["DroppedSpikes"]
        var.pull_from_device()
        total = int(var.values.sum())
    reported = [int(str(w.message).split()[0]) for w in record
                if "spike buffer" in str(w.message)]
    # Validation dropped hundreds; training at most a few
    assert total > 100 and sum(counter.epochs) < 20
    assert sum(reported) == sum(counter.epochs)


def test_warning_counts_the_whole_epochs_drops():
    # Checked at the epoch's end, not at the first batch that overflowed:
    # the count is every drop of the epoch (one read per epoch)
    net = TinyNet("ours")
    x = random_spikes(3, 5, TIMESTEPS, 0.3, seed=5)
    compiled = net.compile(TIMESTEPS, "count", max_spikes=3)
    with compiled:
        counter = DropCounter(compiled.neuron_populations[net.inp])
        with pytest.warns(RuntimeWarning) as record:
            compiled.train({net.inp: x}, {net.out: np.array([0, 1, 2])},
                           num_epochs=1, shuffle=False, callbacks=[counter])
    reported = [int(n) for w in record for n in re.findall(
        rf"(\d+) spikes of population {net.inp.name}\b", str(w.message))]
    assert reported == counter.epochs and reported[0] > 0


@pytest.mark.parametrize("per_example, dropped", [(9, 0), (10, 1), (11, 3)])
def test_a_buffer_holds_two_examples_spikes(per_example, dropped):
    """What README says of max_spikes: a neuron's ring buffer holds the
    spikes of the example running forward and of the one running backward
    beside it, max_spikes - 1 together (a trial read "per neuron and
    example" and met drops at 10 spikes of 20)."""
    from ml_genn import Network, Population
    from ml_genn.compilers.event_prop_compiler import default_params
    from ml_genn.connectivity import Dense
    from ml_genn.neurons import LeakyIntegrate, SpikeInput
    from ml_genn.synapses import Exponential
    from ml_genn.utils.data import preprocess_spikes
    from ml_genn_delays import SGD, Connection, EventPropCompiler, Learnable
    times = np.arange(per_example) * 2.0
    x = [preprocess_spikes(times, np.zeros(per_example, int), 2)] * 6
    net = Network(default_params)
    with net:
        inp = Population(SpikeInput(max_spikes=64), 2)
        out = Population(LeakyIntegrate(tau_mem=10.0, readout="max_var"), 2)
        Connection(inp, out, Dense(0.1), Exponential(5.0),
                   delay=Learnable(1.0, 4))
    compiled = EventPropCompiler(
        example_timesteps=60, max_spikes=20, optimiser=SGD(0.0),
        losses="sparse_categorical_crossentropy",
        strict_buffer_checking=True).compile(
            net, name=f"two_examples_{per_example}")
    with compiled:
        if not dropped:
            compiled.train({inp: x}, {out: [0, 1] * 3}, num_epochs=1)
            return
        with pytest.raises(SpikeBufferOverflowError,
                           match=rf"^{dropped} spikes of population"):
            compiled.train({inp: x}, {out: [0, 1] * 3}, num_epochs=1)


def test_spike_counts_equal_the_recorded_spikes():
    """spike_counts reads a never-reset counter in one pull; the runner
    counts an epoch's spikes with it (a SpikeRecorder pulled and decoded
    every batch's recording)."""
    from ml_genn.callbacks import SpikeRecorder
    from ml_genn_delays import evaluate, spike_counts
    net = TinyNet("ours")
    x = random_spikes(6, 5, TIMESTEPS, 0.3, seed=5)
    compiled = net.compile(TIMESTEPS, "counts", max_spikes=500)
    with compiled:
        assert not np.any(spike_counts(compiled, net.hid))
        _, data = compiled.train(
            {net.inp: x}, {net.out: np.arange(6) % 3}, num_epochs=2,
            shuffle=False, callbacks=[SpikeRecorder(net.hid, key="h",
                                                    record_counts=True)])
        trained = spike_counts(compiled, net.hid)
        recorded = np.sum(np.reshape(data["h"], (-1, net.hid.shape[0])),
                          axis=0)
        assert trained.sum() > 20
        np.testing.assert_array_equal(trained, recorded)
        # Evaluation counts too: the difference of two reads
        evaluate(compiled, {net.inp: x[:2]}, {net.out: np.array([0, 1])})
        assert spike_counts(compiled, net.hid).sum() > trained.sum()
        assert spike_counts(compiled, net.inp).sum() > 0
        with pytest.raises(ValueError, match="has no spike count"):
            spike_counts(compiled, net.out)      # LI: it never spikes
