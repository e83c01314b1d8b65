"""mlGeNN's InferenceCompiler on networks with per-neuron delays."""
import numpy as np
import pytest
from ml_genn import Network, Population
from ml_genn.callbacks import VarRecorder
from ml_genn.compilers import InferenceCompiler as MLGeNNInferenceCompiler
from ml_genn.compilers.event_prop_compiler import default_params
from ml_genn.connectivity import Dense, FixedProbability
from ml_genn.initializers import Uniform
from ml_genn.neurons import LeakyIntegrate, LeakyIntegrateFire, SpikeInput
from ml_genn.synapses import Exponential
from ml_genn.utils.data import preprocess_spikes

from ml_genn_delays import (Connection, EventPropCompiler, Fixed,
                            InferenceCompiler, Learnable, load_model,
                            save_model)
from ml_genn_delays.inference import synapse_delays
from networks import random_spikes

TIMESTEPS = 40
N_IN, N_HID, N_OUT = 5, 4, 3
RNG = np.random.default_rng(4)
W_IN = RNG.normal(0.8, 0.4, (N_IN, N_HID))
W_OUT = RNG.normal(0.5, 0.5, (N_HID, N_OUT))
D_AXONAL = RNG.uniform(0, 6, N_IN)
D_DENDRITIC = RNG.uniform(0, 6, N_HID)
INIT = {"axonal": D_AXONAL, "dendritic": D_DENDRITIC,
        "axonal+dendritic": (D_AXONAL, D_DENDRITIC)}
EXPANDED = {"axonal": D_AXONAL[:, None] + np.zeros(N_HID),
            "dendritic": np.zeros((N_IN, 1)) + D_DENDRITIC,
            "axonal+dendritic": D_AXONAL[:, None] + D_DENDRITIC}


def network(delay):
    """input -> hidden LIF -> LI readout, ``delay`` on the input."""
    net = Network(default_params)
    with net:
        inp = Population(SpikeInput(max_spikes=1000), N_IN)
        hid = Population(LeakyIntegrateFire(v_thresh=1.0, tau_mem=20.0,
                                            tau_refrac=None), N_HID)
        out = Population(LeakyIntegrate(tau_mem=20.0, readout="avg_var"),
                         N_OUT)
        conn = Connection(inp, hid, Dense(W_IN), Exponential(5.0),
                          delay=delay)
        Connection(hid, out, Dense(W_OUT), Exponential(5.0))
    return net, inp, out, conn


def infer(compiler_cls, net, inp, out, name):
    compiled = compiler_cls(evaluate_timesteps=TIMESTEPS,
                            reset_in_syn_between_batches=True).compile(
                                net, name=name)
    x = random_spikes(2, N_IN, TIMESTEPS, 0.2, seed=5)
    with compiled:
        _, data = compiled.evaluate({inp: x}, {out: np.array([0, 1])},
                                    callbacks=[VarRecorder(out, "v",
                                                           key="v")])
    return np.asarray(data["v"])


@pytest.mark.parametrize("kind", ["axonal", "dendritic", "axonal+dendritic"])
def test_per_neuron_delays_act_as_the_synaptic_delays_they_make(kind):
    net, inp, out, conn = network(Learnable(INIT[kind], 12, kind=kind))
    ours = infer(InferenceCompiler, net, inp, out, f"inf_{kind[:5]}")
    # The compile left the network as it was
    assert conn.connectivity.delay == 0
    # The same network with the per-synapse delays d_i + d_j, rounded
    twin = infer(InferenceCompiler,
                 *network(np.floor(EXPANDED[kind] + 0.5))[:3],
                 f"twin_{kind[:5]}")
    np.testing.assert_array_equal(ours, twin)
    # mlGeNN's own InferenceCompiler drops them without a word
    dropped = infer(MLGeNNInferenceCompiler, net, inp, out,
                    f"mlgenn_{kind[:5]}")
    assert not np.allclose(dropped, ours)


def test_expansion_rounds_and_clamps_as_training():
    # (keep the network: a connection holds its populations weakly)
    net, _, _, conn = network(Learnable(
        (np.array([0.5, 1.49, 7.0, 0.09916581, 0]),
         np.array([0.0, 0.0, 5.0, 3.40083408])), 10,
        kind="axonal+dendritic"))
    d = synapse_delays(conn)
    assert d.shape == (N_IN, N_HID)
    np.testing.assert_array_equal(d[:3, 0], [1, 1, 7])   # halves go up
    # Each part reaches max_delay_steps (10), their sum twice it
    assert d[2, 2] == 12
    # Summed in float32 as GeNN does: exactly 3.5 there (3.4999999 in
    # float64)
    assert d[3, 3] == 4
    # Synaptic delays too (mlGeNN would take halves to even: 0, 2, 2, 4)
    halves = np.tile([0.5, 1.5, 2.5, 3.5], (N_IN, 1))
    net, _, _, conn = network(Learnable(halves, 10))
    np.testing.assert_array_equal(synapse_delays(conn)[0], [1, 2, 3, 4])


@pytest.mark.parametrize("delay", [Learnable(2.5, 10), Fixed(2.5)],
                         ids=["learnable", "fixed"])
def test_a_shared_fractional_delay_compiles_rounded(delay):
    """mlGeNN hands a shared delay to GeNN as it is, which takes whole
    steps only (TypeError for 2.5). A Fixed delay is rounded when made
    (Fixed's docstring), a learnable one only for the compile."""
    net, inp, out, conn = network(delay)
    ours = infer(InferenceCompiler, net, inp, out, "shared_half")
    learnable = isinstance(delay, Learnable)
    assert conn.connectivity.delay == (2.5 if learnable else 3.0)
    three = infer(InferenceCompiler, *network(Fixed(3))[:3], "shared_3")
    two = infer(InferenceCompiler, *network(Fixed(2))[:3], "shared_2")
    np.testing.assert_array_equal(ours, three)
    assert not np.array_equal(ours, two)
    if learnable:
        with pytest.raises(TypeError):
            infer(MLGeNNInferenceCompiler, net, inp, out, "shared_mlgenn")


@pytest.mark.parametrize("delay, spike", [
    (Learnable(10.0, 10), 15.0), (Fixed(10.0), 15.0),
    # The shortest delay that queues: a spike one step before the end
    (Learnable(1.0, 10), 18.0), (Fixed(1.0), 18.0),
    # A spike on the last step reached the next example even without a
    # delay (mlGeNN); ours blocks it, as training does
    (Learnable(0.0, 10), 19.0), (Fixed(0.0), 19.0)],
    ids=["learnable", "fixed", "learnable-1", "fixed-1", "learnable-last",
         "fixed-last"])
def test_shared_delay_spikes_stay_in_their_example(delay, spike):
    """A shared delay compiled as one (GeNN's presynaptic queue, which
    mlGeNN does not clear) carried a spike 5 steps before the end of one
    example 5 steps into the next, silent one."""
    net = Network(default_params)
    with net:
        inp = Population(SpikeInput(max_spikes=4), 1)
        out = Population(LeakyIntegrate(tau_mem=20.0, readout="avg_var"), 1)
        Connection(inp, out, Dense(1.0), Exponential(5.0), delay=delay)
    compiled = InferenceCompiler(
        evaluate_timesteps=20, reset_in_syn_between_batches=True).compile(
            net, name=f"shared_leak_{type(delay).__name__}_{int(spike)}")
    late = preprocess_spikes(np.array([spike]), np.array([0]), 1)
    silent = preprocess_spikes(np.array([]), np.array([], dtype=int), 1)
    with compiled:
        _, data = compiled.evaluate(
            {inp: [late, silent, late]}, {out: np.zeros(3, dtype=int)},
            callbacks=[VarRecorder(out, "v", key="v")])
    v = np.asarray(data["v"])
    assert np.all(v[1] == 0.0)
    # 15 + 1 + 10 > 20 (18 + 1 + 1 too)
    assert np.all(v[0] == 0.0) and np.all(v[2] == 0.0)


def test_a_number_for_per_neuron_delays_reaches_every_synapse():
    # Learnable(2.6, kind="axonal") gives every neuron 2.6 steps (keep
    # the network: a connection holds its populations weakly)
    net, _, _, conn = network(Learnable(2.6, 10, kind="axonal"))
    np.testing.assert_array_equal(synapse_delays(conn),
                                  np.full((N_IN, N_HID), 3))
    net, _, _, conn = network(Learnable((1.0, np.arange(N_HID) + 0.2), 10,
                                      kind="axonal+dendritic"))
    np.testing.assert_array_equal(synapse_delays(conn),
                                  np.tile(np.arange(1, N_HID + 1), (N_IN, 1)))


def test_trained_axonal_model_loads_into_inference(tmp_path):
    net, inp, out, conn = network(Learnable(D_AXONAL, 12, kind="axonal"))
    save_model(net, tmp_path, "final")
    fresh, inp2, out2, conn2 = network(Learnable(np.zeros(N_IN), 12,
                                                 kind="axonal"))
    load_model(fresh, tmp_path)
    np.testing.assert_array_equal(synapse_delays(conn2),
                                  np.floor(EXPANDED["axonal"] + 0.5))
    np.testing.assert_array_equal(
        infer(InferenceCompiler, fresh, inp2, out2, "loaded"),
        infer(InferenceCompiler, net, inp, out, "saved"))


def test_drawn_synapses_and_initializers_are_refused():
    net, _, _, conn = network(Learnable(Uniform(0, 5), 12, kind="axonal"))
    with pytest.raises(ValueError, match="draw them into an array"):
        synapse_delays(conn)
    net = Network(default_params)
    with net:
        a = Population(SpikeInput(max_spikes=10), N_IN)
        b = Population(LeakyIntegrate(tau_mem=20.0, readout="avg_var"),
                       N_HID)
        Connection(a, b, FixedProbability(0.5, 1.0), Exponential(5.0),
                   delay=Learnable(1.0, 12, kind="axonal"))
    with pytest.raises(NotImplementedError, match="not on FixedProbability"):
        InferenceCompiler(evaluate_timesteps=TIMESTEPS).compile(net)


def test_a_drawn_model_into_an_inference_network_says_where_it_loads(
        tmp_path):
    # FixedProbability: not into the Network (drawn at build), and not into
    # the inference network either: the message used to send one to the
    # other
    def build():
        net = Network(default_params)
        with net:
            a = Population(SpikeInput(max_spikes=10), N_IN)
            b = Population(LeakyIntegrate(tau_mem=20.0, readout="avg_var"),
                           N_HID)
            conn = Connection(a, b, FixedProbability(0.5, 1.0),
                              Exponential(5.0), name="drawn",
                              delay=Learnable(Uniform(0, 5), 12))
        return net, a, b, conn
    net, a, b, conn = build()
    compiled = EventPropCompiler(TIMESTEPS, "sparse_categorical_crossentropy",
                                 rng_seed=3).compile(net, name="drawn_train")
    with compiled:
        save_model(compiled, tmp_path, "final")
    fresh = build()[0]
    inference = InferenceCompiler(evaluate_timesteps=TIMESTEPS,
                                  rng_seed=3).compile(fresh, "drawn_infer")
    with inference:
        with pytest.raises(ValueError, match="FixedProbability connectivity"
                           ".* loads only into a network compiled by "
                           "ml_genn_delays.EventPropCompiler"):
            load_model(inference, tmp_path)


@pytest.mark.parametrize("kind", ["synaptic", "axonal+dendritic"])
def test_inference_runs_examples_as_training_does(kind):
    """Our InferenceCompiler's output voltages equal those of the training
    network's forward pass (ml_genn_delays.evaluate), example by example:
    mlGeNN's inference carried a spike of an example's last step into
    the next example and integrated input arriving in that step, which
    EventProp training zeroes."""
    from ml_genn_delays import evaluate
    delay = (Learnable(RNG.uniform(0, 8, (N_IN, N_HID)), 12)
             if kind == "synaptic" else Learnable(INIT[kind], 12, kind=kind))
    x = random_spikes(4, N_IN, TIMESTEPS, 0.3, seed=7)
    last = float(TIMESTEPS - 1)
    # Every input spikes in the last step of example 0 and 2
    for i in (0, 2):
        times = np.concatenate([x[i].spike_times, np.full(N_IN, last)])
        ids = np.concatenate([np.repeat(np.arange(N_IN),
                                        np.diff(x[i].end_spikes,
                                                prepend=0)),
                              np.arange(N_IN)])
        keep = np.unique(np.stack([times, ids]), axis=1)
        x[i] = preprocess_spikes(keep[0], keep[1].astype(int), N_IN)
    y = np.array([0, 1, 2, 0])

    net, inp, out, _ = network(delay)
    trained = EventPropCompiler(TIMESTEPS, "sparse_categorical_crossentropy",
                                max_spikes=1000).compile(
                                    net, name=f"as_train_{kind[:3]}")
    with trained:
        _, data = evaluate(trained, {inp: x}, {out: y},
                           callbacks=[VarRecorder(out, "v", key="v")])
    expected = np.asarray(data["v"])
    assert np.any(expected != 0.0)

    net, inp, out, _ = network(delay)
    compiled = InferenceCompiler(evaluate_timesteps=TIMESTEPS).compile(
        net, name=f"as_infer_{kind[:3]}")
    with compiled:
        _, data = compiled.evaluate({inp: x}, {out: y},
                                    callbacks=[VarRecorder(out, "v",
                                                           key="v")])
    np.testing.assert_allclose(np.asarray(data["v"]), expected, rtol=1e-5,
                               atol=1e-7)


def test_record_example_on_the_inference_network_equals_training(
        tmp_path):
    """evaluate and record_example (so a raster) take an inference
    network: the same spikes, voltages and accuracy as on the training
    network (they failed there with an AttributeError)."""
    from ml_genn_delays import evaluate, plot_raster, record_example

    def build():
        net = Network(default_params)
        with net:
            inp = Population(SpikeInput(max_spikes=1000), N_IN)
            hid = Population(LeakyIntegrateFire(v_thresh=1.0, tau_mem=20.0,
                                                tau_refrac=None), N_HID,
                             record_spikes=True)
            out = Population(LeakyIntegrate(tau_mem=20.0,
                                            readout="avg_var"), N_OUT)
            Connection(inp, hid, Dense(W_IN), Exponential(5.0),
                       delay=Learnable(INIT["axonal"], 12, kind="axonal"))
            Connection(hid, out, Dense(W_OUT), Exponential(5.0))
        return net, inp, out
    x = random_spikes(3, N_IN, TIMESTEPS, 0.3, seed=11)
    y = np.array([2, 0, 1])
    net, inp, out = build()
    trained = EventPropCompiler(TIMESTEPS, "sparse_categorical_crossentropy",
                                max_spikes=1000).compile(net, name="rec_tr")
    with trained:
        expected = record_example(trained, {inp: x}, {out: y}, 1)
        accuracy = evaluate(trained, {inp: x}, {out: y})[0][out].result
    net, inp, out = build()
    compiled = InferenceCompiler(evaluate_timesteps=TIMESTEPS).compile(
        net, name="rec_inf")
    with compiled:
        got = record_example(compiled, {inp: x}, {out: y}, 1)
        metrics, _ = evaluate(compiled, {inp: x}, {out: y})
    assert metrics[out].result == accuracy
    # Two builds: other population names, the same order
    assert len(got["spikes"]) == len(expected["spikes"]) == 2
    assert sum(len(t) for t, _ in got["spikes"].values()) > N_IN
    for (times, ids), (want_t, want_i) in zip(got["spikes"].values(),
                                              expected["spikes"].values()):
        np.testing.assert_array_equal(times, want_t)
        np.testing.assert_array_equal(ids, want_i)
    [v], [want] = got["v"].values(), expected["v"].values()
    np.testing.assert_allclose(v, want, rtol=1e-5, atol=1e-7)
    assert [*got["label"].values(), *got["correct"].values()] == [
        *expected["label"].values(), *expected["correct"].values()]
    plot_raster(got, tmp_path / "raster.png")
    assert (tmp_path / "raster.png").stat().st_size > 0


@pytest.mark.parametrize("compiler", ["training", "inference"])
def test_a_model_compiled_without_a_name_is_named_after_the_caller(
        tmp_path, monkeypatch, compiler):
    # As mlGeNN names its own; the inference one was named after our
    # module, so every script in a folder shared one code folder
    monkeypatch.chdir(tmp_path)
    net = network(Learnable(INIT["axonal"], 12, kind="axonal"))[0]
    make = (EventPropCompiler(TIMESTEPS, "sparse_categorical_crossentropy")
            if compiler == "training" else
            InferenceCompiler(evaluate_timesteps=TIMESTEPS))
    compiled = make.compile(net)
    assert compiled.genn_model.name.startswith("test_inference")


@pytest.mark.parametrize("reset_time", [True, False])
def test_delta_input_still_delayed_stays_in_its_example(reset_time):
    """mlGeNN zeroes no Delta connection between examples: a spike two
    steps before the end, 3 steps of delay, reached the next example
    (its dendritic buffer was not cleared)."""
    from ml_genn.synapses import Delta
    net = Network(default_params)
    with net:
        inp = Population(SpikeInput(max_spikes=10), 1)
        out = Population(LeakyIntegrate(tau_mem=20.0, readout="avg_var"), 1)
        Connection(inp, out, Dense(1.0), Delta(), delay=Fixed(3.0))
    compiled = InferenceCompiler(
        evaluate_timesteps=20,
        reset_time_between_batches=reset_time).compile(
            net, name=f"delta_leak_{reset_time}")
    late = preprocess_spikes(np.array([18.0]), np.array([0]), 1)
    silent = preprocess_spikes(np.array([]), np.array([], dtype=int), 1)
    with compiled:
        _, data = compiled.evaluate(
            {inp: [late, silent]}, {out: np.array([0, 0])},
            callbacks=[VarRecorder(out, "v", key="v")])
    assert np.all(np.asarray(data["v"])[1] == 0.0)


def test_a_batch_size_on_the_cpu_runs_one_example_at_a_time():
    # mlGeNN's examples evaluate with InferenceCompiler(batch_size=N):
    # GeNN's CPU backend refused it only at `with compiled:`
    net, inp, out, _ = network(Learnable(RNG.uniform(0, 8, (N_IN, N_HID)),
                                         12))
    x = random_spikes(5, N_IN, TIMESTEPS, 0.3, seed=7)
    y = np.array([0, 1, 2, 0, 1])
    results = []
    for batch_size in (1, 4):
        compiled = InferenceCompiler(evaluate_timesteps=TIMESTEPS,
                                     batch_size=batch_size).compile(
                                         net, name=f"batch{batch_size}")
        with compiled:
            metrics, data = compiled.evaluate(
                {inp: x}, {out: y},
                callbacks=[VarRecorder(out, "v", key="v")])
        results.append((metrics[out].result, np.asarray(data["v"])))
        assert compiled.genn_model.batch_size == 1
    assert results[0][0] == results[1][0]
    np.testing.assert_array_equal(results[0][1], results[1][1])
