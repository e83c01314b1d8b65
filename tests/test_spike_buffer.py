"""Spikes beyond max_spikes are reported, never silently dropped."""
import warnings

import numpy as np
import pytest

from ml_genn_delays import SpikeBufferOverflowError
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
