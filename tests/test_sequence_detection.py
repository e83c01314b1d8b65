"""The paper's sequence-detection task: only delays can solve it."""
from ml_genn import Network, Population
from ml_genn.compilers.event_prop_compiler import default_params
from ml_genn.connectivity import Dense
from ml_genn.neurons import LeakyIntegrate, SpikeInput
from ml_genn.optimisers import Adam
from ml_genn.synapses import Exponential

from ml_genn_delays import (Connection, EventPropCompiler, Learnable,
                            evaluate, get_delays)
from ml_genn_delays.datasets import sequence_detection


def train_sequence(delay, name, epochs=60):
    spikes, labels = sequence_detection(4)
    network = Network(default_params)
    with network:
        inp = Population(SpikeInput(max_spikes=4), 2)
        out = Population(LeakyIntegrate(tau_mem=10.0, readout="max_var"), 2)
        conn = Connection(inp, out, Dense(1.0), Exponential(5.0),
                          delay=delay)
    # Weights are frozen (learning rate 0), as in the paper
    compiler = EventPropCompiler(25, "sparse_categorical_crossentropy",
                                 optimiser=Adam(0.0),
                                 delay_optimiser=Adam(1.0), max_spikes=4)
    compiled = compiler.compile(network, name=name)
    with compiled:
        for e in range(epochs):
            compiled.train({inp: spikes}, {out: labels}, start_epoch=e,
                           num_epochs=1, callbacks=[])
        metrics, _ = evaluate(compiled, {inp: spikes}, {out: labels})
        delays = get_delays(compiled, conn) if delay is not None else None
    return metrics[out].result, delays


def test_learnable_delays_solve_sequence_detection():
    accuracy, delays = train_sequence(Learnable(0.0, max_delay_steps=15),
                                      "seq_delays")
    assert accuracy == 1.0
    # Each output must have learned to delay the input that comes first
    assert delays[0, 0] > delays[1, 0] and delays[1, 1] > delays[0, 1]


def test_without_delays_stays_at_chance():
    accuracy, _ = train_sequence(None, "seq_nodelays", epochs=10)
    assert accuracy == 0.5
