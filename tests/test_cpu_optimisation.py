"""GeNN compiles CPU models at -O0 unless asked; our compiler asks.

The optimised build must compute what the unoptimised one does (the same
arrival steps, the same trained weights and delays to float tolerance).
"""
import glob

import numpy as np
import pytest
from ml_genn import Network, Population
from ml_genn.compilers.event_prop_compiler import default_params
from ml_genn.connectivity import Dense
from ml_genn.neurons import LeakyIntegrate, LeakyIntegrateFire, SpikeInput
from ml_genn.synapses import Exponential

from ml_genn_delays import (Connection, EventPropCompiler, Learnable,
                            get_delays)
from networks import pull, random_spikes

TIMESTEPS = 40


def train_tiny(name, **kwargs):
    rng = np.random.default_rng(0)
    network = Network(default_params)
    with network:
        inp = Population(SpikeInput(max_spikes=200), 5)
        hid = Population(LeakyIntegrateFire(v_thresh=1.0, tau_mem=20.0,
                                            tau_refrac=None), 4)
        out = Population(LeakyIntegrate(tau_mem=20.0,
                                        readout="avg_var_exp_weight"), 3)
        c1 = Connection(inp, hid, Dense(rng.uniform(0.5, 1.5, (5, 4))),
                        Exponential(5.0),
                        delay=Learnable(rng.uniform(0, 8, (5, 4)), 10))
        Connection(hid, out, Dense(rng.normal(0, 0.5, (4, 3))),
                   Exponential(5.0))
    compiler = EventPropCompiler(TIMESTEPS, "sparse_categorical_crossentropy",
                                 max_spikes=200, batch_size=2, **kwargs)
    compiled = compiler.compile(network, name=name)
    x = random_spikes(4, 5, TIMESTEPS, 0.2, seed=1)
    with compiled:
        compiled.train({inp: x}, {out: np.array([0, 1, 2, 0])},
                       num_epochs=2, shuffle=False, callbacks=[])
        return pull(compiled, c1, "g"), get_delays(compiled, c1)


def cxx_flags(name):
    (makefile,) = glob.glob(f"{name}*_CODE/Makefile")
    with open(makefile) as f:
        return next(line for line in f if line.startswith("CXXFLAGS"))


def test_cpu_code_is_optimised_by_default_and_computes_the_same():
    g_opt, d_opt = train_tiny("optimised")
    g_plain, d_plain = train_tiny("plain", optimize_code=False)
    assert "-O3" in cxx_flags("optimised")
    assert "-O3" not in cxx_flags("plain")
    np.testing.assert_allclose(g_opt, g_plain, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(d_opt, d_plain, rtol=1e-4, atol=1e-5)
    # training changed something, so the comparison means something
    assert not np.allclose(d_opt, np.random.default_rng(0).uniform(
        0, 8, (5, 4)))


@pytest.mark.parametrize("value", [True, False])
def test_users_choice_is_kept(value):
    compiler = EventPropCompiler(TIMESTEPS, "sparse_categorical_crossentropy",
                                 optimize_code=value)
    assert compiler.genn_kwargs["optimize_code"] is value
