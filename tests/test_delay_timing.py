"""When a delayed spike arrives: the documented convention.

An input spike emitted in step t (at time t * dt) through a synapse with
delay d (rounded to the nearest step, never truncated) first changes the
postsynaptic membrane in step t + 1 + d: GeNN propagates a spike emitted
in step t during step t + 1 (one step of synaptic latency) and the delay
adds d steps to that. With d = 0 this is GeNN's usual one-step latency.
"""
import numpy as np
from ml_genn import Network, Population
from ml_genn.callbacks import VarRecorder
from ml_genn.compilers.event_prop_compiler import default_params
from ml_genn.connectivity import Dense
from ml_genn.neurons import LeakyIntegrate, SpikeInput
from ml_genn.synapses import Exponential
from ml_genn.utils.data import preprocess_spikes

from ml_genn_delays import (Connection, EventPropCompiler, Fixed, Learnable,
                            evaluate)

SPIKE_STEP = 5
TIMESTEPS = 30


def first_response_steps(delay, name):
    network = Network(default_params)
    with network:
        inp = Population(SpikeInput(max_spikes=10), 1)
        out = Population(LeakyIntegrate(tau_mem=20.0, readout="max_var"), 5)
        Connection(inp, out, Dense(1.0), Exponential(5.0), delay=delay)
    compiler = EventPropCompiler(TIMESTEPS, "sparse_categorical_crossentropy",
                                 max_spikes=10)
    compiled = compiler.compile(network, name=name)
    x = [preprocess_spikes(np.array([SPIKE_STEP * 1.0]), np.array([0]), 1)]
    with compiled:
        _, data = evaluate(compiled, {inp: x}, {out: np.array([0])},
                           callbacks=[VarRecorder(out, "v", key="v")])
    v = np.asarray(data["v"][0])
    assert v.shape == (TIMESTEPS, 5)
    return np.argmax(v > 0.0, axis=0)


DELAYS = np.array([[0.0, 3.0, 7.0, 2.4, 2.6]])
EXPECTED = SPIKE_STEP + 1 + np.array([0, 3, 7, 2, 3])


def test_learnable_delays_arrive_at_documented_step():
    steps = first_response_steps(Learnable(DELAYS, max_delay_steps=10),
                                 "learnable")
    np.testing.assert_array_equal(steps, EXPECTED)


def test_fixed_delays_arrive_at_same_step_as_learnable():
    steps = first_response_steps(Fixed(DELAYS), "fixed")
    np.testing.assert_array_equal(steps, EXPECTED)


def test_fractional_fixed_delays_round_as_learnable_ones():
    # mlGeNN truncates a shared number (2.7 -> 2) and takes an array's
    # halves to even (2.5 -> 2): Fixed rounds to the nearest step first,
    # halves up, as learnable delays are applied
    halves = np.array([[0.5, 1.5, 2.5, 3.5, 2.7]])
    steps = first_response_steps(Fixed(halves), "fixed_halves")
    np.testing.assert_array_equal(steps,
                                  SPIKE_STEP + 1 + np.array([1, 2, 3, 4, 3]))
    shared = first_response_steps(2.7, "fixed_shared")
    np.testing.assert_array_equal(shared, SPIKE_STEP + 1 + 3)


def test_not_delays_refused():
    import pytest
    with pytest.raises(TypeError, match="not a delay"):
        Fixed(True)
    # A tuple is an array of delays (shape-checked by the Connection), as a
    # list is; it reached GeNN unchecked
    assert isinstance(Learnable((1.0, 2.0), 10).init, np.ndarray)


def test_zero_fixed_delay_with_a_max_compiles():
    # mlGeNN fails in GeNN on a 0 delay with max_delay_steps ("does not
    # have dendritic delay buffer"); worked around in our Connection
    for delay in (0.0, Fixed(0.0, 12)):
        steps = first_response_steps(delay, f"zero_{type(delay).__name__}")
        np.testing.assert_array_equal(steps, SPIKE_STEP + 1)


def test_delays_just_below_a_half_round_down():
    # One float32 ulp below a half: in float, 0.49999997f + 0.5f is 1.0f,
    # which the rounding's double arithmetic avoids (mutation review)
    below = np.nextafter(np.float32([0.5, 1.5, 2.5, 3.5, 4.5]),
                         np.float32(0))
    steps = first_response_steps(
        Learnable(below[None, :].astype(float), 10), "below_half")
    np.testing.assert_array_equal(steps, SPIKE_STEP + 1 + np.arange(5))
