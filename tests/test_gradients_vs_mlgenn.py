"""Our gradients equal those of mlGeNN's delay_learn_conns path.

We deliberately differ from mlGeNN for spikes in the last two steps of an
example (see genn_models.block_last_step_spikes), so these inputs have none.
"""
import numpy as np
import pytest

from ml_genn import Connection as MLGeNNConnection, Network, Population
from ml_genn.compilers import EventPropCompiler as MLGeNNCompiler
from ml_genn.compilers.event_prop_compiler import default_params
from ml_genn.connectivity import Dense, FixedProbability
from ml_genn.initializers import Normal, Uniform
from ml_genn.neurons import LeakyIntegrate, LeakyIntegrateFire, SpikeInput
from ml_genn.synapses import Exponential

from ml_genn_delays import Connection, EventPropCompiler, Learnable, SGD
from networks import GradientProbe, TinyNet, pull, random_spikes

TIMESTEPS = 50


def gradients(style, recurrent, name):
    """Weight and delay gradients of example 0 (mlGeNN runs an example's
    backward pass during the next example's forward pass)."""
    net = TinyNet(style, recurrent=recurrent)
    x = random_spikes(2, 5, TIMESTEPS, 0.2, seed=3, quiet_end=2)
    y = np.array([1, 2])
    probe = GradientProbe([(c, v) for c in net.conns()
                           for v in ("Gradient", "DelayGradient")],
                          TIMESTEPS)
    compiled = net.compile(TIMESTEPS, name)
    with compiled:
        _, data = compiled.train({net.inp: x}, {net.out: y}, num_epochs=1,
                                 shuffle=False, callbacks=[probe])
    return data["gradients"]


def rel_err(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


@pytest.mark.parametrize("recurrent", [False, True])
def test_same_gradients_as_mlgenn(recurrent):
    ours = gradients("ours", recurrent, f"ours{recurrent}")
    legacy = gradients("legacy", recurrent, f"legacy{recurrent}")
    reference = gradients("mlgenn", recurrent, f"mlgenn{recurrent}")
    assert len(ours) == (6 if recurrent else 4)
    for o, l, r in zip(ours, legacy, reference):
        # A gradient that is zero everywhere would make this vacuous
        assert np.count_nonzero(r) > r.size // 2
        assert rel_err(o, r) <= 1e-5
        assert rel_err(l, r) <= 1e-5


def sparse_gradients(ours, name):
    """input -(sparse, learnable delays)-> LIF -> LI, same GeNN seed."""
    network = Network(default_params)
    with network:
        inp = Population(SpikeInput(max_spikes=1000), 8)
        hid = Population(LeakyIntegrateFire(v_thresh=1.0, tau_mem=20.0,
                                            tau_refrac=None), 6)
        out = Population(LeakyIntegrate(tau_mem=20.0,
                                        readout="avg_var_exp_weight"), 3)
        if ours:
            conn = Connection(inp, hid, FixedProbability(0.5, Normal(1.0, 0.3)),
                              Exponential(5.0), delay=Learnable(Uniform(1, 8), 10))
        else:
            conn = MLGeNNConnection(
                inp, hid, FixedProbability(0.5, Normal(1.0, 0.3),
                                           delay=Uniform(1, 8)),
                Exponential(5.0), max_delay_steps=10)
        Connection(hid, out, Dense(Normal(0.5, 0.5)), Exponential(5.0))
    cls = EventPropCompiler if ours else MLGeNNCompiler
    compiler = cls(TIMESTEPS, "sparse_categorical_crossentropy",
                   optimiser=SGD(1e-3), delay_optimiser=SGD(1e-3),
                   max_spikes=200, rng_seed=1234,
                   **({} if ours else {"delay_learn_conns": [conn]}))
    compiled = compiler.compile(network, name=name)
    probe = GradientProbe([(conn, "Gradient"), (conn, "DelayGradient")],
                          TIMESTEPS)
    x = random_spikes(2, 8, TIMESTEPS, 0.2, seed=8, quiet_end=2)
    with compiled:
        genn_pop = compiled.connection_populations[conn]
        genn_pop.pull_connectivity_from_device()
        init = [genn_pop.get_sparse_pre_inds(), genn_pop.get_sparse_post_inds(),
                pull(compiled, conn, "g"), pull(compiled, conn, "d")]
        _, data = compiled.train({inp: x}, {out: np.array([0, 1])},
                                 num_epochs=1, shuffle=False,
                                 callbacks=[probe])
    return init, data["gradients"]


def test_sparse_same_gradients_as_mlgenn():
    init_ours, ours = sparse_gradients(True, "sparse_ours")
    init_ref, reference = sparse_gradients(False, "sparse_mlgenn")
    # Same connectivity and initial values (same GeNN seed)
    for a, b in zip(init_ours, init_ref):
        np.testing.assert_array_equal(a, b)
    for o, r in zip(ours, reference):
        assert np.count_nonzero(r) > r.size // 2
        assert rel_err(o, r) <= 1e-5
