"""Nothing of one example reaches the next (an mlGeNN leak we close).

mlGeNN zeroes the postsynaptic input at the start of an example's last
step, but spikes of the last two steps are still delivered afterwards and
land in the next example's input.
"""
import numpy as np
import pytest
from ml_genn import Network, Population
from ml_genn.callbacks import VarRecorder
from ml_genn.compilers.event_prop_compiler import default_params
from ml_genn.connectivity import Dense
from ml_genn.neurons import LeakyIntegrate, SpikeInput
from ml_genn.synapses import Exponential
from ml_genn.utils.data import preprocess_spikes

from ml_genn_delays import Connection, EventPropCompiler, Learnable, evaluate

T = 20


@pytest.mark.parametrize("last_spike", [T - 3, T - 2, T - 1])
def test_late_spikes_do_not_leak_into_next_example(last_spike):
    network = Network(default_params)
    with network:
        inp = Population(SpikeInput(max_spikes=10), 1)
        out = Population(LeakyIntegrate(tau_mem=20.0, readout="max_var"), 3)
        Connection(inp, out, Dense(1.0), Exponential(5.0),
                   delay=Learnable(np.array([[0.0, 1.0, 3.0]]), 5))
    compiler = EventPropCompiler(T, "sparse_categorical_crossentropy",
                                 max_spikes=10)
    compiled = compiler.compile(network, name=f"leak{last_spike}")
    late = preprocess_spikes(np.array([5.0, float(last_spike)]),
                             np.array([0, 0]), 1)
    silent = preprocess_spikes(np.array([]), np.array([], dtype=int), 1)
    with compiled:
        _, data = evaluate(compiled, {inp: [late, silent]},
                           {out: np.array([0, 0])},
                           callbacks=[VarRecorder(out, "v", key="v")])
    first, second = (np.asarray(v) for v in data["v"])
    assert np.abs(first).max() > 0.1
    np.testing.assert_array_equal(second, 0.0)
