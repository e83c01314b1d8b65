"""GeNN compiles CPU models at -O0 unless asked; our compiler asks.

The optimised build must compute what the unoptimised one does (the same
arrival steps, the same trained weights and delays to float tolerance).
"""
import glob

import numpy as np
import pytest
from ml_genn.optimisers import Adam

from ml_genn_delays import EventPropCompiler, get_delays
from networks import TinyNet, pull, random_spikes

TIMESTEPS = 40


def train_tiny(name, **kwargs):
    """Two epochs of TinyNet (learnable delays on every connection);
    returns the input connection's weights and delays, and its initial
    delays."""
    net = TinyNet("ours")
    compiled = net.compile(TIMESTEPS, name, optimiser=Adam(0.01),
                           delay_optimiser=Adam(0.1), batch_size=2, **kwargs)
    x = random_spikes(4, 5, TIMESTEPS, 0.2, seed=1)
    with compiled:
        compiled.train({net.inp: x}, {net.out: np.array([0, 1, 2, 0])},
                       num_epochs=2, shuffle=False, callbacks=[])
        return (pull(compiled, net.c_in, "g"), get_delays(compiled, net.c_in),
                net.d_in)


def cxx_flags(name):
    (makefile,) = glob.glob(f"{name}*_CODE/Makefile")
    with open(makefile) as f:
        return next(line for line in f if line.startswith("CXXFLAGS"))


def test_cpu_code_is_optimised_by_default_and_computes_the_same():
    g_opt, d_opt, d_init = train_tiny("optimised")
    g_plain, d_plain, _ = train_tiny("plain", optimize_code=False)
    assert "-O3" in cxx_flags("optimised")
    assert "-O3" not in cxx_flags("plain")
    np.testing.assert_allclose(g_opt, g_plain, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(d_opt, d_plain, rtol=1e-4, atol=1e-5)
    # training changed something, so the comparison means something
    assert not np.allclose(d_opt, d_init)


@pytest.mark.parametrize("value", [True, False])
def test_users_choice_is_kept(value):
    compiler = EventPropCompiler(TIMESTEPS, "sparse_categorical_crossentropy",
                                 optimize_code=value)
    assert compiler.genn_kwargs["optimize_code"] is value
