"""Axonal delays (one per presynaptic neuron): the same forward pass as
synaptic delays set to d_i along row i, and a gradient equal to the row
sum of the synaptic delay gradients; feedforward, recurrent, and from a
hidden population (whose EventProp feedback shares the channel)."""
import numpy as np
import pytest
from ml_genn import Network, Population
from ml_genn.callbacks import SpikeRecorder
from ml_genn.compilers.event_prop_compiler import default_params
from ml_genn.connectivity import Dense
from ml_genn.neurons import LeakyIntegrate, LeakyIntegrateFire, SpikeInput
from ml_genn.synapses import Exponential

from ml_genn_delays import (SGD, AdaptiveLeakyIntegrateFire, Connection,
                            EventPropCompiler, Learnable, LearnableParam,
                            get_delays, set_delays)
from networks import (assert_delays_load_back, five_four_three,
                      random_spikes, train_probed)

TIMESTEPS = 50
MAX_DELAY = 10
LABELS = np.array([1, 2])


def hidden_neuron(name):
    """mlGeNN's LIF, or an AdLIF neuron with learned adaptation."""
    if name == "lif":
        return LeakyIntegrateFire(v_thresh=1.0, tau_mem=20.0,
                                  tau_refrac=None)
    return AdaptiveLeakyIntegrateFire(
        tau_mem=20.0, tau_adapt=100.0, a=LearnableParam(0.3, -1.0, 1.0),
        b=LearnableParam(0.2, 0.0, 1.0))


def build(kind, recurrent, seed=1, neuron="lif"):
    rng = np.random.default_rng(seed)
    shapes = [(5, 4)] + ([(4, 4)] if recurrent else []) + [(4, 3)]
    weights = [rng.normal(0.8, 0.4, (5, 4))]
    if recurrent:
        weights.append(rng.normal(0.0, 0.3, (4, 4)))
    weights.append(rng.normal(0.5, 0.5, (4, 3)))
    axonal = [rng.uniform(1, MAX_DELAY - 2, s[0]) for s in shapes]

    def delay(i, shape):
        if kind == "axonal":
            return Learnable(axonal[i], MAX_DELAY, kind="axonal")
        return Learnable(np.repeat(axonal[i][:, None], shape[1], axis=1),
                         MAX_DELAY)

    return five_four_three(lambda: hidden_neuron(neuron), weights,
                           [delay(i, w.shape) for i, w in enumerate(weights)])


def run(kind, recurrent, name, neuron="lif"):
    network, inp, hid, out, conns = build(kind, recurrent, neuron=neuron)
    return train_probed(network, inp, hid, out, conns, name, LABELS,
                        TIMESTEPS)


def rel_err(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


@pytest.mark.parametrize("neuron", ["lif", "adlif"])
@pytest.mark.parametrize("recurrent", [False, True], ids=["ff", "rec"])
def test_axonal_equals_row_sums_of_synaptic(recurrent, neuron):
    # AdLIF: the axonal channel joins the AdLIF jump's feedback term
    axonal, hid_ax = run("axonal", recurrent, f"ax_{recurrent}_{neuron}",
                         neuron)
    synaptic, hid_syn = run("synaptic", recurrent,
                            f"syn_{recurrent}_{neuron}", neuron)
    # Same forward pass
    assert len(hid_syn[0]) >= 10
    np.testing.assert_array_equal(hid_ax[0], hid_syn[0])
    np.testing.assert_array_equal(hid_ax[1], hid_syn[1])
    for ax, syn in zip(axonal, synaptic):
        n_pre = ax["d"].size
        np.testing.assert_allclose(syn["d"].reshape(n_pre, -1)[:, 0],
                                   ax["d"], rtol=1e-6)
        # Weight gradients (EventProp feedback included) are unchanged
        assert np.count_nonzero(syn["Gradient"]) > syn["Gradient"].size // 2
        assert rel_err(ax["Gradient"], syn["Gradient"]) <= 1e-5
        # The shared delay's gradient is the sum over its synapses
        rows = syn["dgrad"].reshape(n_pre, -1).sum(axis=1)
        assert np.count_nonzero(rows) >= n_pre // 2
        assert rel_err(ax["dgrad"], rows) <= 1e-5


def test_axonal_delays_read_write_and_shape_errors():
    network, inp, hid, out, conns = build("axonal", False)
    compiled = EventPropCompiler(
        TIMESTEPS, "sparse_categorical_crossentropy",
        max_spikes=200).compile(network, name="ax_getset")
    with compiled:
        assert get_delays(compiled, conns[0]).shape == (5,)
        set_delays(compiled, conns[0], np.arange(5.0))
        np.testing.assert_array_equal(get_delays(compiled, conns[0]),
                                      np.arange(5.0))
        with pytest.raises(ValueError, match=r"shape \(5,\)"):
            set_delays(compiled, conns[0], np.zeros((5, 4)))
    with pytest.raises(ValueError, match="axonal delays must have shape"):
        with Network(default_params):
            a = Population(SpikeInput(max_spikes=10), 5)
            b = Population(LeakyIntegrate(readout="sum_var"), 2)
            Connection(a, b, Dense(1.0), Exponential(5.0),
                       delay=Learnable(np.zeros((5, 2)), 5, kind="axonal"))


def test_learned_axonal_delays_act_as_synaptic_rows():
    """After optimiser steps (which write the delays while GeNN keeps
    delayed copies of the population's variables) the network computes
    what a synaptic network with those delays along each row computes."""
    network, inp, hid, out, conns = build("axonal", True)
    compiled = EventPropCompiler(
        TIMESTEPS, "sparse_categorical_crossentropy", optimiser=SGD(0.5),
        delay_optimiser=SGD(20000.0), batch_size=2,
        max_spikes=200).compile(network, name="ax_learn")
    x = random_spikes(6, 5, TIMESTEPS, 0.2, seed=4)
    y = np.array([0, 1, 2, 0, 1, 2])
    with compiled:
        before = [get_delays(compiled, c) for c in conns]
        compiled.train({inp: x}, {out: y}, num_epochs=2, shuffle=False)
        learned = [get_delays(compiled, c) for c in conns]
        weights = []
        for c in conns:
            var = compiled.connection_populations[c].vars["g"]
            var.pull_from_device()
            weights.append(var.values.reshape(-1, c.target().shape[0]))
        metrics, data = evaluate_hidden(compiled, inp, hid, out, x, y)
    assert any(np.abs(a - b).max() > 0.5 for a, b in zip(before, learned))

    syn_network, s_inp, s_hid, s_out, s_conns = build("synaptic", True)
    syn = EventPropCompiler(
        TIMESTEPS, "sparse_categorical_crossentropy",
        max_spikes=200).compile(syn_network, name="ax_as_syn")
    with syn:
        for c, d, w in zip(s_conns, learned, weights):
            set_delays(syn, c, np.repeat(d[:, None], w.shape[1], axis=1))
            var = syn.connection_populations[c].vars["g"]
            var.values = w.ravel()
            var.push_to_device()
        syn_metrics, syn_data = evaluate_hidden(syn, s_inp, s_hid, s_out,
                                                x, y)
    assert syn_metrics == metrics
    for a, b in zip(data, syn_data):
        np.testing.assert_array_equal(a, b)


def evaluate_hidden(compiled, inp, hid, out, x, y):
    from ml_genn_delays import evaluate
    metrics, data = evaluate(compiled, {inp: x}, {out: y},
                             callbacks=[SpikeRecorder(hid, key="hid")])
    return (metrics[out].result,
            [np.asarray(t) for t in data["hid"][0]]
            + [np.asarray(i) for i in data["hid"][1]])


def test_axonal_delays_save_and_load(tmp_path):
    from ml_genn_delays import ModelFileError, load_model, save_model
    network, inp, hid, out, conns = build("axonal", True)
    compiled = EventPropCompiler(
        TIMESTEPS, "sparse_categorical_crossentropy",
        max_spikes=200).compile(network, name="ax_io")
    with compiled:
        for i, c in enumerate(conns):
            n = c.source().shape[0]
            set_delays(compiled, c, np.linspace(0, MAX_DELAY, n) / (i + 1))
        saved = [get_delays(compiled, c) for c in conns]
        save_model(compiled, tmp_path / "m", checkpoint=3)
    names = sorted(p.name for p in (tmp_path / "m").iterdir())
    assert sum(n.endswith("-da.npy") for n in names) == 3
    assert not any(n.endswith("-d.npy") for n in names)
    for c, d in zip(conns, saved):
        files = [n for n in names if c.name in n and n.endswith("-da.npy")]
        np.testing.assert_allclose(np.load(tmp_path / "m" / files[0]), d)

    network2, _, _, _, conns2 = build("axonal", True, seed=5)
    assert_delays_load_back(network2, conns2, tmp_path / "m", saved,
                            TIMESTEPS, "ax_io2")

    # Synaptic files do not load into axonal connections
    network3, *_ = build("synaptic", True)
    compiled3 = EventPropCompiler(
        TIMESTEPS, "sparse_categorical_crossentropy",
        max_spikes=200).compile(network3, name="ax_io3")
    with compiled3:
        save_model(compiled3, tmp_path / "syn", checkpoint=0)
    network4, *_ = build("axonal", True)
    with pytest.raises(ModelFileError, match="has learnable axonal delays, "
                       "but the model .* has synaptic delays for it"):
        load_model(network4, tmp_path / "syn")


@pytest.mark.parametrize("recurrent", [False, True], ids=["ff", "rec"])
def test_axonal_gradients_equal_numpy_reference(recurrent):
    """The NumPy reference of the discrete pass, given d_i along each row:
    the axonal gradient is its row sum of the per-synapse delay gradients
    (norm-wise relative error <= 1e-4)."""
    import reference
    axonal, hidden = run("axonal", recurrent, f"ax_ref_{recurrent}")
    x = random_spikes(2, 5, TIMESTEPS, 0.2, seed=3)
    raster = reference.spike_raster(x[0].end_spikes, x[0].spike_times,
                                    TIMESTEPS)
    names = [("in", "hid")] + ([("hid", "hid")] if recurrent else []) + [
        ("hid", "out")]
    conns = []
    for (pre, post), c in zip(names, axonal):
        w = c["g"].reshape(c["d"].size, -1)
        conns.append(reference.Conn(pre, post, w, np.repeat(
            c["d"][:, None], w.shape[1], axis=1)))
    params = reference.Params(timesteps=TIMESTEPS, max_delay=MAX_DELAY)
    fwd = reference.forward(raster, conns, n_hid=4, n_out=3,
                            label=LABELS[0], p=params)
    ref = reference.backward(fwd, conns, LABELS[0], p=params)
    assert fwd.spikes["hid"].sum() >= 10
    for c, (grad_w, grad_d) in zip(axonal, ref):
        assert rel_err(c["Gradient"], grad_w.ravel()) <= 1e-4
        rows = grad_d.sum(axis=1)
        assert np.count_nonzero(rows) >= rows.size // 2
        assert rel_err(c["dgrad"], rows) <= 1e-4


def test_two_axonal_connections_from_one_population_keep_their_delays():
    """Each connection's axonal delays are its own, though both are
    presynaptic variables of the same population's outgoing groups."""
    network = Network(default_params)
    first, second = np.arange(5.0), 9.0 - np.arange(5.0)
    with network:
        inp = Population(SpikeInput(max_spikes=100), 5)
        hid = Population(LeakyIntegrateFire(tau_refrac=None), 4)
        out = Population(LeakyIntegrate(readout="sum_var"), 3)
        a = Connection(inp, hid, Dense(1.0), Exponential(5.0),
                       delay=Learnable(first, MAX_DELAY, kind="axonal"))
        b = Connection(inp, out, Dense(1.0), Exponential(5.0),
                       delay=Learnable(second, MAX_DELAY, kind="axonal"))
        Connection(hid, out, Dense(1.0), Exponential(5.0))
    compiled = EventPropCompiler(
        TIMESTEPS, "sparse_categorical_crossentropy",
        max_spikes=200).compile(network, name="ax_two")
    with compiled:
        np.testing.assert_array_equal(get_delays(compiled, a), first)
        np.testing.assert_array_equal(get_delays(compiled, b), second)


@pytest.mark.parametrize("kind", ["axonal", "dendritic"])
def test_connections_with_equal_initial_delays_keep_their_own(kind):
    # GeNN fuses the pre- (post-)synaptic variables of weight update
    # models with equal initial values unless told not to; fused, the
    # second connection's delays could not be read (mutation review)
    network = Network(default_params)
    with network:
        inp = Population(SpikeInput(max_spikes=100), 5)
        hid = Population(LeakyIntegrateFire(tau_refrac=None), 4)
        out = Population(LeakyIntegrate(readout="sum_var"), 4)
        first = Connection(inp, hid, Dense(1.0), Exponential(5.0),
                           delay=Learnable(3.0, 10, kind=kind))
        # axonal: another from the same source; dendritic: another into
        # the same target
        second = (Connection(inp, out, Dense(1.0), Exponential(5.0),
                             delay=Learnable(3.0, 10, kind=kind))
                  if kind == "axonal" else
                  Connection(hid, hid, Dense(0.1), Exponential(5.0),
                             delay=Learnable(3.0, 10, kind=kind)))
        Connection(hid, out, Dense(1.0), Exponential(5.0))
    compiled = EventPropCompiler(
        20, "sparse_categorical_crossentropy",
        max_spikes=200).compile(network, name=f"equal_init_{kind}")
    n = 5 if kind == "axonal" else 4
    with compiled:
        set_delays(compiled, first, np.arange(float(n)))
        np.testing.assert_array_equal(get_delays(compiled, second), 3.0)
        np.testing.assert_array_equal(get_delays(compiled, first),
                                      np.arange(float(n)))


@pytest.mark.parametrize("kind", ["synaptic", "axonal", "dendritic",
                                  "axonal+dendritic"])
def test_learned_delays_stay_within_zero_and_max(kind):
    # Huge steps drive delays to both bounds; the optimiser's clamp keeps
    # them there (the forward pass's own clamp hid a missing one). Mixed:
    # each part within [0, max_delay_steps]
    from test_dendritic import build as build_dendritic
    from test_mixed import build as build_mixed
    builders = {"dendritic": build_dendritic,
                "axonal+dendritic": lambda _, recurrent: build_mixed(
                    True, recurrent)}
    network, inp, hid, out, conns = builders.get(kind, build)(kind, True)
    compiled = EventPropCompiler(
        TIMESTEPS, "sparse_categorical_crossentropy", optimiser=SGD(0.0),
        delay_optimiser=SGD(1e7), max_spikes=200).compile(
            network, name=f"clamped_{kind}")
    x = random_spikes(6, 5, TIMESTEPS, 0.2, seed=4)
    with compiled:
        compiled.train({inp: x}, {out: np.array([0, 1, 2, 0, 1, 2])},
                       num_epochs=2, shuffle=False)
        fractions = []     # of each connection's max_delay_steps
        for conn in conns:
            if conn.delay_spec is not None:
                got = get_delays(compiled, conn)
                fractions += [np.ravel(part) / conn.delay_spec.max_delay_steps
                              for part in (got.values() if isinstance(
                                  got, dict) else [got])]
    d = np.concatenate(fractions)
    assert np.all((d >= 0.0) & (d <= 1.0))
    assert np.any(d == 0.0) and np.any(d == 1.0)
