"""Reading and writing the delays of a compiled network."""
import numpy as np
import pytest
from ml_genn.callbacks import VarRecorder

from ml_genn_delays import (evaluate, get_delays, record_example,
                            save_model, set_delays)
from networks import TinyNet, random_spikes

TIMESTEPS = 40


def test_get_set_round_trip_and_effect():
    net = TinyNet("ours")
    compiled = net.compile(TIMESTEPS, "getset")
    with compiled:
        d = get_delays(compiled, net.c_in)
        np.testing.assert_allclose(d, net.d_in, rtol=1e-6)
        new = np.full_like(d, 9.0)
        set_delays(compiled, net.c_in, new)
        np.testing.assert_array_equal(get_delays(compiled, net.c_in), new)
        # A flat array in GeNN's order is accepted too
        set_delays(compiled, net.c_in, np.zeros(new.size))
        assert np.all(get_delays(compiled, net.c_in) == 0.0)
        # And by kind name, as for mixed delays
        set_delays(compiled, net.c_in, {"synaptic": new})
        np.testing.assert_array_equal(get_delays(compiled, net.c_in), new)
        # One number for all, as Learnable(init=) takes it
        set_delays(compiled, net.c_in, 4)
        assert np.all(get_delays(compiled, net.c_in) == 4.0)
        # Both bounds are delays it may take
        set_delays(compiled, net.c_in, np.full_like(d, 10.0))
        assert np.all(get_delays(compiled, net.c_in) == 10.0)
        set_delays(compiled, net.c_in, np.zeros(new.size))

        for bad, match in [(np.full((5, 4), -1.0), r"\[0, 10\]"),
                           (np.full((5, 4), 11.0), r"\[0, 10\]"),
                           (np.full((5, 4), np.nan), "NaN"),
                           (11.0, r"\[0, 10\]"),
                           (np.zeros((4, 5)), r"shape \(5, 4\)")]:
            with pytest.raises(ValueError, match=match):
                set_delays(compiled, net.c_in, bad)
            # Nothing was half-written
            assert np.all(get_delays(compiled, net.c_in) == 0.0)
        # Another kind's name, or not numbers: said so, not a bare error
        for bad, match in [({"axonal": new}, r"no \['axonal'\] delays; "
                                             r"it has \['synaptic'\]"),
                           ("abc", "synaptic delays must be numbers"),
                           ({"synaptic": {"a": 1}}, "must be numbers"),
                           # Converted to 3.0 without a word before
                           (np.full((5, 4), "3"), "must be numbers"),
                           (np.ones((5, 4), bool), "must be numbers")]:
            with pytest.raises(ValueError, match=match):
                set_delays(compiled, net.c_in, bad)
            assert np.all(get_delays(compiled, net.c_in) == 0.0)


def test_delays_change_the_output():
    net = TinyNet("ours")
    x = random_spikes(1, 5, TIMESTEPS, 0.2, seed=6)
    compiled = net.compile(TIMESTEPS, "effect")
    with compiled:
        _, a = evaluate(compiled, {net.inp: x}, {net.out: np.array([0])},
                        callbacks=[VarRecorder(net.out, "v", key="v")])
        set_delays(compiled, net.c_in, np.zeros((5, 4)))
        _, b = evaluate(compiled, {net.inp: x}, {net.out: np.array([0])},
                        callbacks=[VarRecorder(net.out, "v", key="v")])
    assert not np.allclose(a["v"][0], b["v"][0])


def test_unknown_connection():
    net = TinyNet("ours", hidden_delays=False)
    compiled = net.compile(TIMESTEPS, "unknown")
    with compiled:
        with pytest.raises(ValueError, match="has no learnable delays"):
            get_delays(compiled, net.c_out)


def test_outside_the_with_block_is_a_clear_error(tmp_path):
    # GeNN's own error there is "'NoneType' object has no attribute ..."
    net = TinyNet("ours")
    compiled = net.compile(20, "outside")
    with compiled:
        get_delays(compiled, net.c_in)
    with pytest.raises(RuntimeError, match="inside `with compiled_net:`"):
        get_delays(compiled, net.c_in)
    with pytest.raises(RuntimeError, match="inside `with"):
        set_delays(compiled, net.c_in, np.zeros((5, 4)))
    with pytest.raises(RuntimeError, match="inside `with"):
        save_model(compiled, tmp_path / "model", checkpoint=0)
    x = random_spikes(1, 5, 20, 0.2, seed=1)
    for call in (evaluate, record_example):
        with pytest.raises(RuntimeError, match="inside `with"):
            call(compiled, {net.inp: x}, {net.out: np.zeros(1)})
    assert not (tmp_path / "model").exists()
