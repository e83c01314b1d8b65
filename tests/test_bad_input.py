"""Bad delay input gets a clear error naming what is wrong."""
import numpy as np
import pytest
from ml_genn import Connection as MLGeNNConnection, Network, Population
from ml_genn.compilers.event_prop_compiler import default_params
from ml_genn.connectivity import (AvgPoolDense2D, Conv2D, Dense,
                                  FixedProbability)
from ml_genn.initializers import Normal, Uniform, Wrapper
from ml_genn.neurons import (IntegrateFire, LeakyIntegrate,
                             LeakyIntegrateFire, SpikeInput)
from ml_genn.optimisers import Adam
from ml_genn.synapses import Delta, Exponential

from ml_genn_delays import (BackendUnavailableError, Connection,
                            EventPropCompiler, Fixed, InferenceCompiler,
                            Learnable, ModelCheckpoint, SGD)
from ml_genn_delays.learnable import DEFAULT_MAX_DELAY_STEPS


@pytest.mark.parametrize("kwargs, match", [
    ({"init": -1.0}, "negative"),
    ({"init": np.array([1.0, np.nan])}, "NaN"),
    ({"init": np.inf}, "NaN or inf"),
    ({"init": 20.0, "max_delay_steps": 10}, "raise max_delay_steps"),
    ({"init": Uniform(0, 50), "max_delay_steps": 10}, "reach 50"),
    ({"init": Uniform(-5, 5)}, "negative"),
    # Any draw below 0 is refused, not only a far one
    ({"init": Uniform(-0.25, 5)}, "negative"),
    # A NaN bound compares False with everything: it passed as no bound
    ({"init": Uniform(float("nan"), 5)}, "must be finite"),
    ({"init": Normal(5, 1)}, "Normal"),
    # mlGeNN's Wrapper of a GeNN snippet: checked as the snippet it names
    ({"init": Wrapper("Uniform", {"min": -3.0, "max": -1.0})}, "negative"),
    ({"init": Wrapper("Uniform", {"min": 30.0, "max": 40.0}),
      "max_delay_steps": 10}, "reach 40"),
    ({"init": Wrapper("Constant", {"constant": -2.0})}, "negative"),
    ({"init": Wrapper("Exponential", {"lambda": 1.0})},
     "cannot be checked"),
    ({"max_delay_steps": -3}, r"\[1, 65534\]"),
    ({"max_delay_steps": 2.5}, "whole number"),
    ({"max_delay_steps": float("nan")}, "whole number"),
    ({"max_delay_steps": float("inf")}, "whole number"),
    ({"max_delay_steps": 100000}, r"\[1, 65534\], got 100000$"),
    ({"max_delay_steps": True}, "whole number"),
    ({"max_delay_steps": "64"}, "whole number"),
    ({"kind": "somatic"},
     r"Unknown delay kind 'somatic'.*'axonal\+dendritic'"),
    ({"max_delay_steps": 0}, r"in \[1, 65534\], got 0 \(0 leaves the "
                             r"delays nothing to learn"),
])
def test_learnable_rejects(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Learnable(**kwargs)


@pytest.mark.parametrize("steps", [64, 64.0, np.int64(64), np.float32(64)])
def test_whole_max_delay_steps_of_any_number_type_taken(steps):
    # round(ms / dt) in numpy gives a float: a whole one is a step count
    spec = Learnable(3.0, steps)
    assert spec.max_delay_steps == 64 and type(spec.max_delay_steps) is int


@pytest.mark.parametrize("init", [None, "abc", "3", 1 + 2j, True,
                                  np.array(["a"])])
@pytest.mark.parametrize("spec", [Learnable, Fixed])
def test_not_delay_values_refused(spec, init):
    # None said "NaN or inf"; "3" reached mlGeNN as an unknown initializer
    with pytest.raises(TypeError, match="is not a delay; give a number"):
        spec(init)


def test_int_arrays_of_delays_taken():
    # np.arange(4) or a round() of an array gives integers: delays too
    spec = Learnable(np.arange(4), 10)
    assert spec.init.dtype.kind == "i" and Fixed(np.arange(3)).init[2] == 2.0


def test_learnable_class_means_documented_defaults():
    network = Network(default_params)
    with network:
        a = Population(SpikeInput(max_spikes=10), 3)
        b = Population(LeakyIntegrate(readout="max_var"), 2)
        conn = Connection(a, b, Dense(1.0), Exponential(5.0), delay=Learnable)
    assert conn.delay_spec.max_delay_steps == DEFAULT_MAX_DELAY_STEPS
    assert conn.max_delay_steps == DEFAULT_MAX_DELAY_STEPS
    assert conn.delay_spec.kind.name == "synaptic"
    # The values the docstrings give, not just the constants' names
    assert (DEFAULT_MAX_DELAY_STEPS, conn.delay_spec.init) == (100, 0.0)


def pops(target=None):
    a = Population(SpikeInput(max_spikes=10), 3)
    b = Population(target or LeakyIntegrate(readout="max_var"), 2)
    return a, b


def test_delay_given_twice():
    with Network(default_params):
        a, b = pops()
        with pytest.raises(ValueError, match="given both in Dense"):
            Connection(a, b, Dense(1.0, 3), Exponential(5.0),
                       delay=Learnable(1.0, 10))


def test_conflicting_max_delay_steps():
    with Network(default_params):
        a, b = pops()
        # Named as mlGeNN names it, as every other message does
        with pytest.raises(ValueError, match=f"Connection Conn_{a.name}_"
                                             f"{b.name}: .*conflicts"):
            Connection(a, b, Dense(1.0), Exponential(5.0),
                       delay=Learnable(1.0, 10), max_delay_steps=20)


def test_one_to_one_takes_one_delay_per_synapse():
    from ml_genn.connectivity import OneToOne
    with Network(default_params):
        a = Population(SpikeInput(max_spikes=10), 3)
        b = Population(LeakyIntegrate(readout="max_var"), 3)
        conn = Connection(a, b, OneToOne(1.0), Exponential(5.0),
                          delay=Learnable(np.arange(3.0), 10))
        assert conn.connectivity.delay.shape == (3,)
        with pytest.raises(ValueError, match=r"shape \(3,\)"):
            Connection(a, b, OneToOne(1.0), Exponential(5.0),
                       delay=Learnable(np.ones((3, 3)), 10))


@pytest.mark.parametrize("delay", [
    Learnable(np.ones((2, 3)), 10), Learnable([[1.0, 2.0]], 10),
    np.ones((2, 3)), [[1.0, 2.0, 3.0]]])
def test_array_of_wrong_shape(delay):
    # Lists are arrays too; fixed delays are checked like learnable ones
    with Network(default_params):
        a, b = pops()
        with pytest.raises(ValueError, match=r"shape \(3, 2\)"):
            Connection(a, b, Dense(1.0), Exponential(5.0), delay=delay)


@pytest.mark.parametrize("delay", [Learnable(np.ones((3, 2)), 10),
                                   np.ones((3, 2))])
def test_array_delays_need_known_synapses(delay):
    # FixedProbability draws its synapses at build time: GeNN would take
    # an array's first values in its synapse order, whatever (pre, post)
    # they were meant for
    with Network(default_params):
        a, b = pops()
        with pytest.raises(ValueError, match="FixedProbability draws its "
                                             "synapses.*Uniform"):
            Connection(a, b, FixedProbability(0.5, 1.0), Exponential(5.0),
                       delay=delay)
        # Synapses listed one by one take one delay each, in their order
        listed = FixedProbability(0.5, 1.0)
        listed.pre_ind, listed.post_ind = np.array([0, 2]), np.array([1, 0])
        conn = Connection(a, b, listed, Exponential(5.0),
                          delay=Learnable(np.array([3.0, 4.0]), 10))
        assert conn.connectivity.delay.shape == (2,)
        with pytest.raises(ValueError, match=r"shape \(2,\)"):
            Connection(a, b, listed, Exponential(5.0),
                       delay=Learnable(np.ones((3, 2)), 10))


def test_fixed_normal_refused():
    with pytest.raises(ValueError, match="negative delays"):
        Fixed(Normal(3, 1))


def test_not_a_delay():
    with Network(default_params):
        a, b = pops()
        with pytest.raises(TypeError, match="not a delay"):
            Connection(a, b, Dense(1.0), Exponential(5.0), delay=Uniform)
        # delay=True would otherwise be a fixed delay of one step
        for delay in (True, "learnable"):
            with pytest.raises(TypeError, match="Learnable"):
                Connection(a, b, Dense(1.0), Exponential(5.0), delay=delay)


def compile_one(synapse, target=None, name="bad"):
    network = Network(default_params)
    with network:
        a, b = pops(target)
        Connection(a, b, Dense(1.0), synapse, name="Bad",
                   delay=Learnable(1.0, 10))
    compiler = EventPropCompiler(10, "sparse_categorical_crossentropy")
    compiler.compile(network, name=name)


def test_unsupported_synapse_names_connection():
    with pytest.raises(NotImplementedError,
                       match="Connection Bad: .*Exponential synapse"):
        compile_one(Delta())


@pytest.mark.parametrize("kind", ["synaptic", "axonal"])
@pytest.mark.parametrize("connectivity, target", [
    (lambda: Conv2D(1.0, 1, 3), (2, 2, 1)),
    # Trained before, then refused on load with a message about drawn
    # synapses and rng_seed that did not apply
    (lambda: AvgPoolDense2D(np.ones((4, 8)), 2), 8)],
    ids=["Conv2D", "AvgPoolDense2D"])
def test_unsupported_connectivity_names_connection(connectivity, target,
                                                   kind):
    network = Network(default_params)
    with network:
        a = Population(SpikeInput(max_spikes=10), (4, 4, 1))
        b = Population(LeakyIntegrate(readout="max_var"), target)
        with pytest.raises(NotImplementedError,
                           match="Connection Bad: learnable delays support "
                                 "Dense, OneToOne, FixedProbability and "
                                 "synapses listed by hand .*, not "
                                 f"{type(connectivity()).__name__}"):
            Connection(a, b, connectivity(), Exponential(5.0), name="Bad",
                       delay=Learnable(1.0, 10, kind=kind))
    # Refused before mlGeNN added it to the network
    assert network.connections == []


def test_legacy_connection_without_max_delay_steps():
    network = Network(default_params)
    with network:
        a, b = pops()
        conn = MLGeNNConnection(a, b, Dense(1.0, 2.0), Exponential(5.0))
    compiler = EventPropCompiler(10, "sparse_categorical_crossentropy",
                                 delay_learn_conns=[conn])
    with pytest.raises(ValueError, match="no max_delay_steps"):
        compiler.compile(network, name="legacy")


def test_unsupported_target_neuron_names_connection():
    with pytest.raises(NotImplementedError, match="Connection Bad: .*not "
                       "ml_genn.neurons.integrate_fire.IntegrateFire"):
        compile_one(Exponential(5.0), target=IntegrateFire(readout="var"),
                    name="if")


def test_mlgenn_adaptive_neuron_source_points_to_ours():
    # mlGeNN has a class of the same name as ours: the message must say
    # which one it got and which one works
    from ml_genn.neurons import AdaptiveLeakyIntegrateFire
    network = Network(default_params)
    with network:
        a = Population(SpikeInput(max_spikes=10), 2)
        h = Population(AdaptiveLeakyIntegrateFire(), 2)
        b = Population(LeakyIntegrate(readout="max_var"), 2)
        Connection(a, h, Dense(1.0), Exponential(5.0))
        Connection(h, b, Dense(1.0), Exponential(5.0), name="Adapt",
                   delay=Learnable(1.0, 10))
    with pytest.raises(NotImplementedError, match=(
            "Connection Adapt: .*ml_genn_delays.AdaptiveLeakyIntegrateFire"
            r"\), not ml_genn.neurons.adaptive_leaky_integrate_fire.")):
        EventPropCompiler(10, "sparse_categorical_crossentropy").compile(
            network, name="mlgenn_adlif")


def test_neuron_made_outside_the_network_warns():
    """mlGeNN gives EventProp's defaults (scale_i, absolute reset, ...)
    only to objects made inside ``with Network(default_params):``; made
    outside, a neuron keeps scale_i=False and EventProp's gradients no
    longer fit it. Said once per flag, naming the population."""
    readout = LeakyIntegrate(readout="max_var")  # outside: scale_i=False
    network = Network(default_params)
    with network:
        a = Population(SpikeInput(max_spikes=10), 2)
        b = Population(readout, 2, name="Out")
        Connection(a, b, Dense(1.0), Exponential(5.0),
                   delay=Learnable(1.0, 10))
    compiler = EventPropCompiler(10, "sparse_categorical_crossentropy")
    with pytest.warns(UserWarning, match=r"Population Out: LeakyIntegrate "
                      r"has scale_i=False, but EventProp's gradients assume "
                      r"scale_i=True\. Create it inside `with Network"):
        compiler.compile(network, name="outside")


def test_network_made_inside_gives_no_default_warning(recwarn):
    from ml_genn.neurons import LeakyIntegrateFireInput
    network = Network(default_params)
    with network:
        a, b = pops()
        Connection(a, b, Dense(1.0), Exponential(5.0),
                   delay=Learnable(1.0, 10))
        # mlGeNN gives it no defaults, even here; it needs none (an
        # input): the warning's advice could not be followed
        c = Population(LeakyIntegrateFireInput(), 2)
        Connection(c, b, Dense(1.0), Exponential(5.0),
                   delay=Learnable(1.0, 10))
    EventPropCompiler(10, "sparse_categorical_crossentropy").compile(
        network, name="inside")
    assert not [w for w in recwarn if "EventProp's gradients assume"
                in str(w.message)]


@pytest.mark.parametrize("batch_size", [0, -2, 2.5, True, 2.0])
def test_batch_size_must_be_a_positive_whole_number(batch_size):
    with pytest.raises(ValueError, match="batch_size must be a whole "
                                         "number >= 1"):
        EventPropCompiler(10, "sparse_categorical_crossentropy",
                          batch_size=batch_size)


@pytest.mark.parametrize("argument, value, match", [
    ("example_timesteps", 0, "example_timesteps must be a whole number"),
    ("example_timesteps", 10.5, "example_timesteps must be a whole number"),
    ("example_timesteps", -5, "example_timesteps must be a whole number"),
    # Counts are ints: 10.0 is refused too (floats pass only as delays)
    ("example_timesteps", 10.0, "example_timesteps must be a whole number"),
    ("dt", True, "dt must be a positive number of ms, got True"),
    ("dt", -1.0, "dt must be a positive number of ms, got -1.0"),
    ("dt", float("nan"), "dt must be a positive"),
    ("max_spikes", 0, "max_spikes must be a whole number >= 1"),
    ("max_spikes", 2.5, "max_spikes must be a whole number >= 1"),
    ("delay_optimiser", Adam(float("nan")), "delay_optimiser: Adam has "
                                             "alpha=nan"),
    ("delay_optimiser", Adam(0.1, beta1=float("nan")), "beta1=nan"),
    ("optimiser", SGD(float("inf")), "optimiser: SGD has alpha=inf; give "
                                     "a finite number"),
    ("param_optimiser", Adam(float("nan")), "param_optimiser: Adam"),
    # Finite but outside where the optimiser descends (mlGeNN takes them)
    ("optimiser", Adam(-0.001), r"optimiser: Adam has alpha=-0.001; it "
                                r"must lie in \[0, inf\)"),
    ("delay_optimiser", SGD(-0.1), r"delay_optimiser: SGD has alpha=-0.1"),
    ("optimiser", Adam(0.001, beta1=1.0), r"beta1=1.0; it must lie in "
                                          r"\[0, 1\)"),
    ("optimiser", Adam(0.001, beta2=-0.5), r"beta2=-0.5"),
    # beta2 1 divides by 1 - beta2**step = 0; above 1 is above, not at, it
    ("optimiser", Adam(0.001, beta2=1.0), r"beta2=1.0; it must lie in "
                                          r"\[0, 1\)"),
    ("optimiser", Adam(0.001, beta1=1.5), r"beta1=1.5"),
    ("param_optimiser", Adam(0.01, epsilon=0.0), r"epsilon=0.0; it must "
                                                 r"lie in \(0, inf\)"),
])
def test_bad_compiler_numbers_refused_when_made(argument, value, match):
    # Each trained nothing, or to NaN (delays all at one bound: the clamp
    # swallows NaN), or failed late inside mlGeNN or GeNN
    kwargs = {"example_timesteps": 10, argument: value}
    with pytest.raises(ValueError, match=match):
        EventPropCompiler(losses="sparse_categorical_crossentropy",
                          **kwargs)


def test_lif_tau_mem_equal_to_tau_syn_named():
    # EventProp's adjoint divides by tau_mem - tau_syn: mlGeNN raised a
    # bare ZeroDivisionError
    network = Network(default_params)
    with network:
        a = Population(SpikeInput(max_spikes=10), 2)
        b = Population(LeakyIntegrateFire(tau_mem=5.0), 2, name="hid")
        c = Population(LeakyIntegrate(tau_mem=20.0,
                                      readout="avg_var_exp_weight"), 2)
        Connection(a, b, Dense(1.0), Exponential(5.0), name="in_hid",
                   delay=Learnable(1.0, 10))
        Connection(b, c, Dense(1.0), Exponential(5.0))
    with pytest.raises(ValueError, match="Population hid: tau_mem equals "
                       "the tau of its Exponential synapses from "
                       "Connection in_hid"):
        EventPropCompiler(10, "sparse_categorical_crossentropy").compile(
            network, name="equal_taus")
    # Only equal is refused: the message's own advice, 1% apart, is taken
    from ml_genn_delays.checks import check_time_constants
    b.neuron.tau_mem = 5.05
    check_time_constants(network)


def test_compiler_arguments_checked_when_made():
    # A misspelt argument failed only at `with compiled:`, in GeNN
    with pytest.raises(TypeError, match="'delay_optimizer' \\(did you mean "
                                        "'delay_optimiser'\\?\\)"):
        EventPropCompiler(10, "sparse_categorical_crossentropy",
                          delay_optimizer="adam")
    with pytest.raises(TypeError, match="'optimise_code' \\(did you mean "
                                        "'optimize_code'"):
        InferenceCompiler(evaluate_timesteps=10, optimise_code=True)
    # GeNN's own options pass
    EventPropCompiler(10, "sparse_categorical_crossentropy",
                      optimize_code=False, genn_log_level=None)


def test_backend_this_genn_lacks_refused():
    from pygenn.genn_model import backend_modules
    missing = next(b for b in ("cuda", "hip") if b not in backend_modules)
    # GeNN failed with a bare KeyError when the model was built
    for make in (lambda: EventPropCompiler(
                     10, "sparse_categorical_crossentropy", backend=missing),
                 lambda: InferenceCompiler(evaluate_timesteps=10,
                                           backend=missing)):
        with pytest.raises(BackendUnavailableError,
                           match=f"'{missing}' is not available.*built "
                                 f"with"):
            make()


@pytest.mark.parametrize("every", [0, -1, 1.5, True])
def test_model_checkpoint_every_checked(every):
    with pytest.raises(ValueError, match="every must be a whole number"):
        ModelCheckpoint("out", every=every)


def test_model_checkpoint_needs_a_folder_path():
    # Failed only at the first save, in os.stat
    with pytest.raises(TypeError, match="directory must be a folder path, "
                                        "got None"):
        ModelCheckpoint(None)


def test_training_that_turns_nan_stops_with_a_clear_error():
    # Delays hid it: their clamp turns NaN into a bound (all at max)
    from networks import TinyNet, random_spikes
    from ml_genn_delays import NonFiniteError
    net = TinyNet("ours")
    compiled = net.compile(20, "nan_weights", optimiser=SGD(1e38),
                           delay_optimiser=Adam(0.1))
    x = random_spikes(4, 5, 20, 0.3, seed=1)
    with compiled:
        with pytest.raises(NonFiniteError, match=r"After epoch 0: the "
                           r"weights of .* hold NaN or inf.*Lower the "
                           r"learning rates"):
            compiled.train({net.inp: x}, {net.out: np.array([0, 1, 2, 0])},
                           num_epochs=3)


def _two_layers(w_in, name, alpha=1e-2):
    network = Network(default_params)
    with network:
        a = Population(SpikeInput(max_spikes=1000), 5, name="inp")
        h = Population(LeakyIntegrateFire(v_thresh=1.0, tau_mem=20.0), 4,
                       name="hid")
        b = Population(LeakyIntegrate(tau_mem=20.0,
                                      readout="avg_var_exp_weight"), 3,
                       name="out")
        Connection(a, h, Dense(w_in), Exponential(5.0),
                   delay=Learnable(1.0, 10))
        Connection(h, b, Dense(0.5), Exponential(5.0),
                   delay=Learnable(1.0, 10))
    return a, b, EventPropCompiler(
        20, "sparse_categorical_crossentropy",
        optimiser=Adam(alpha)).compile(network, name=name)


@pytest.mark.parametrize("w_in, alpha, warned",
                         [(0.0, 1e-2, 1), (2.0, 1e-2, 0), (0.0, 0.0, 0)])
def test_a_silent_hidden_layer_warns_once_naming_its_connections(
        w_in, alpha, warned):
    # Zero input weights: the hidden layer never fires, so neither
    # connection gets a gradient and the run would stay at chance. A
    # learning rate of 0 is taken as meant (e.g. to read gradients)
    import warnings
    from networks import random_spikes
    from ml_genn_delays import NoGradientWarning, spike_counts
    a, b, compiled = _two_layers(w_in, f"silent{int(w_in)}", alpha)
    x = random_spikes(4, 5, 20, 0.3, seed=1)
    with compiled, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compiled.train({a: x}, {b: np.array([0, 1, 2, 0])}, num_epochs=3)
        # What the warning says to read: which hidden neurons are silent
        hid = next(p for p in compiled.neuron_populations if p.name == "hid")
        silent = not np.any(spike_counts(compiled, hid))
    assert silent == (w_in == 0.0)
    messages = [str(w.message) for w in caught
                if w.category is NoGradientWarning]
    assert len(messages) == warned
    if warned:
        assert messages[0].startswith(
            "Epoch 0 took 3 optimiser steps and left the weights of "
            "Conn_inp_hid (inp -> hid), Conn_hid_out (hid -> out) "
            "exactly as they were")
        assert "raise the initial weights" in messages[0]
        assert "spike_counts(compiled_net, population)" in messages[0]


def test_one_variable_turning_nan_is_enough_to_stop():
    # One learnable connection and SGD (no optimiser state): its weights
    # are the only variable watched; one of them made infinite
    from networks import random_spikes
    from ml_genn_delays import NonFiniteError
    network = Network(default_params)
    with network:
        a = Population(SpikeInput(max_spikes=1000), 5)
        b = Population(LeakyIntegrate(tau_mem=20.0,
                                      readout="avg_var_exp_weight"), 3)
        conn = Connection(a, b, Dense(1.0), Exponential(5.0), name="only",
                          delay=Learnable(1.0, 10))
    compiled = EventPropCompiler(
        20, "sparse_categorical_crossentropy", optimiser=SGD(1e-3),
        delay_optimiser=SGD(0.1)).compile(network, name="nan_one")
    x = random_spikes(4, 5, 20, 0.3, seed=1)
    with compiled:
        g = compiled.connection_populations[conn].vars["g"]
        g.pull_from_device()
        g.values = np.where(np.arange(15) == 4, np.inf, g.values)
        g.push_to_device()
        with pytest.raises(NonFiniteError, match=r"After epoch 0: the "
                                                 r"weights of only hold"):
            compiled.train({a: x}, {b: np.array([0, 1, 2, 0])},
                           num_epochs=1)


def test_per_timestep_loss_refused_with_the_reason():
    # mlGeNN 2.3.1 fails on it with a bare KeyError (twice over)
    def network():
        net = Network(default_params)
        with net:
            a = Population(SpikeInput(max_spikes=10), 2)
            b = Population(LeakyIntegrateFire(tau_refrac=None), 3)
            c = Population(LeakyIntegrate(readout="avg_var"), 2)
            Connection(a, b, Dense(1.0), Exponential(5.0),
                       delay=Learnable(1.0, 5))
            Connection(b, c, Dense(1.0), Exponential(5.0))
        return net
    with pytest.raises(NotImplementedError, match=r"per_timestep_loss=True "
                       r"does not build in mlGeNN .*per_timestep_loss=False"):
        EventPropCompiler(10, "sparse_categorical_crossentropy",
                          per_timestep_loss=True).compile(
                              network(), name="per_timestep")
    # Still so in mlGeNN itself: should this stop raising, drop the refusal
    from ml_genn.compilers import EventPropCompiler as MLGeNNEventProp
    with pytest.raises(KeyError):
        MLGeNNEventProp(10, "sparse_categorical_crossentropy",
                        per_timestep_loss=True).compile(
                            network(), name="per_timestep_mlgenn")


@pytest.mark.parametrize("schedule, warned", [
    (lambda epoch, alpha: 0.003 * 0.998 ** epoch, 1),    # mlGeNN's example
    (lambda epoch, alpha: alpha * 0.998, 0)])
def test_a_schedule_giving_the_delays_the_weights_rate_warns(schedule,
                                                             warned):
    # mlGeNN's OptimiserParamSchedule sets every optimiser: the delays'
    # Adam(0.1) became the weights' 0.003 without a sign
    import warnings
    from ml_genn.callbacks import OptimiserParamSchedule
    from networks import random_spikes
    a, b, compiled = _two_layers(2.0, f"schedule{warned}")
    x = random_spikes(4, 5, 20, 0.3, seed=1)
    with compiled, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compiled.train({a: x}, {b: np.array([0, 1, 2, 0])}, num_epochs=2,
                       callbacks=[OptimiserParamSchedule("alpha", schedule)])
    messages = [str(w.message) for w in caught
                if "learning rate of the delays' optimiser" in str(w.message)]
    assert len(messages) == warned
    if warned:
        assert messages[0].startswith(
            "In epoch 0 a callback set the learning rate of the delays' "
            "optimiser to the weights' (0.003)")


@pytest.mark.parametrize("w_in, warned", [(2.0, []), (0.0, ["Epoch 1 "])])
def test_an_epoch_with_the_weights_rate_set_to_0_is_not_checked(w_in,
                                                                 warned):
    # A callback freezes the weights in epoch 0 (e.g. to train the delays
    # alone); mlGeNN calls it after the monitor's on_epoch_begin, which
    # then still saw the last epoch's rate and warned wrongly
    import warnings
    from ml_genn.callbacks import Callback
    from networks import random_spikes
    from ml_genn_delays import NoGradientWarning

    class FreezeFirstEpoch(Callback):
        def set_params(self, compiled_network, **kwargs):
            self.weights = compiled_network.optimisers[0][0]

        def on_epoch_begin(self, epoch):
            self.weights.alpha = 0.0 if epoch == 0 else 1e-2

    a, b, compiled = _two_layers(w_in, f"freeze{int(w_in)}")
    x = random_spikes(4, 5, 20, 0.3, seed=1)
    with compiled, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compiled.train({a: x}, {b: np.array([0, 1, 2, 0])}, num_epochs=2,
                       callbacks=[FreezeFirstEpoch()])
    assert [str(w.message)[:8] for w in caught
            if w.category is NoGradientWarning] == warned


def test_a_nan_initial_weight_is_refused_at_compile():
    # It trained and surfaced after epoch 0 as a NonFiniteError that
    # blamed the learning rates
    network = Network(default_params)
    with network:
        a = Population(SpikeInput(max_spikes=10), 3)
        b = Population(LeakyIntegrate(readout="avg_var"), 2)
        Connection(a, b, Dense(np.array([[1.0, np.nan]] * 3)),
                   Exponential(5.0), name="nan_w")
    with pytest.raises(ValueError, match=r"Connection nan_w: 3 of its 6 "
                       r"initial weights are NaN or inf"):
        EventPropCompiler(20, "sparse_categorical_crossentropy").compile(
            network, name="nan_w")


@pytest.mark.parametrize("delay, warned", [
    (Learnable(150.0, 200), True), (Learnable(np.full((3, 2), 25.0), 30),
                                    True),
    (Learnable((12.0, np.full(2, 10.0)), 30, kind="axonal+dendritic"), True),
    (Learnable((12.0, np.array([10.0, 2.0])), 30, kind="axonal+dendritic"),
     False),
    (Learnable(np.arange(6.0).reshape(3, 2) * 5, 30), False),
    # A spike of step 0 arrives in step 1 + d; the last step takes none
    (Learnable(17.5, 30), True), (Learnable(17.4, 30), False),
    (Learnable(Uniform(25.0, 30.0), 30), False)])   # an initializer: unknown
def test_delays_past_the_example_warn_at_compile(delay, warned):
    # Delays given in ms at dt 0.1 ms, say: no spike arrives in an
    # example, and only a NoGradientWarning after an epoch said anything
    import warnings
    network = Network(default_params)
    with network:
        a = Population(SpikeInput(max_spikes=10), 3)
        # (dendritic delays need a hidden target)
        b = Population(LeakyIntegrateFire(v_thresh=1.0), 2)
        c = Population(LeakyIntegrate(readout="avg_var"), 2)
        Connection(a, b, Dense(1.0), Exponential(5.0), name="late",
                   delay=delay)
        Connection(b, c, Dense(1.0), Exponential(5.0))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        EventPropCompiler(20, "sparse_categorical_crossentropy").compile(
            network, name="late")
    said = [str(w.message) for w in caught
            if "timesteps, not ms" in str(w.message)]
    assert said == ([f"Connection late: every initial delay is at least "
                     f"18 steps, so no spike reaches {b.name} within an "
                     f"example of 20 timesteps and nothing learns. Delays "
                     f"are in timesteps, not ms (at dt 1.0 ms, 10 ms is 10 "
                     f"steps)."] if warned else [])


def test_fixed_delay_on_a_convolution_is_refused_by_name():
    """mlGeNN's own message was "EventProp compiler does not kernel
    connectivity with delays" (a trial)."""
    from ml_genn.connectivity import Conv2D
    from ml_genn.neurons import LeakyIntegrateFire
    network = Network(default_params)
    with network:
        inp = Population(SpikeInput(max_spikes=10), (4, 4, 1))
        hid = Population(LeakyIntegrateFire(tau_mem=20.0), None)
        Connection(inp, hid, Conv2D(1.0, 2, 3), Exponential(5.0), delay=3,
                   name="Conv")
        out = Population(LeakyIntegrate(tau_mem=10.0, readout="max_var"), 2)
        Connection(hid, out, Dense(1.0), Exponential(5.0))
    with pytest.raises(NotImplementedError, match=r"Connection Conv: "
                       r"EventProp cannot train Conv2D \(kernel "
                       r"connectivity\) with a delay"):
        EventPropCompiler(20, "sparse_categorical_crossentropy").compile(
            network, name="conv_fixed")
