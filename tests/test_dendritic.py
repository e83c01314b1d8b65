"""Dendritic delays (one per postsynaptic neuron): the same forward pass as
synaptic delays set to d_j down column j, and a gradient equal to the
column sum of the synaptic delay gradients, computed by the target
neuron from sensitivities taped at its spikes; feedforward and recurrent,
and with axonal and dendritic delays on the same network."""
import numpy as np
import pytest
from ml_genn import Network, Population
from ml_genn.compilers.event_prop_compiler import default_params
from ml_genn.connectivity import Dense
from ml_genn.neurons import LeakyIntegrate, LeakyIntegrateFire, SpikeInput
from ml_genn.synapses import Exponential

from ml_genn_delays import (AdaptiveLeakyIntegrateFire, Connection,
                            EventPropCompiler, Learnable, LearnableParam,
                            get_delays, load_model, save_model, set_delays)
from networks import (assert_delays_load_back, five_four_three,
                      train_probed)
from test_axonal import LABELS, MAX_DELAY, TIMESTEPS, hidden_neuron, rel_err


def build(kind, recurrent, seed=1, neuron="lif"):
    """input -> hidden (optionally recurrent) -> output; the connections
    into the hidden layer have dendritic delays (or, ``kind="synaptic"``,
    the same delays down each column), the output one synaptic delays."""
    rng = np.random.default_rng(seed)
    w_in = rng.normal(0.8, 0.4, (5, 4))
    w_rec = rng.normal(0.0, 0.3, (4, 4))
    w_out = rng.normal(0.5, 0.5, (4, 3))
    d_in, d_rec = rng.uniform(1, MAX_DELAY - 2, (2, 4))
    d_out = rng.uniform(1, MAX_DELAY - 2, (4, 3))

    def delay(d, n_pre):
        if kind == "dendritic":
            return Learnable(d, MAX_DELAY, kind="dendritic")
        return Learnable(np.repeat(d[None, :], n_pre, axis=0), MAX_DELAY)

    rec = recurrent
    return five_four_three(
        lambda: hidden_neuron(neuron), [w_in] + [w_rec] * rec + [w_out],
        [delay(d_in, 5)] + [delay(d_rec, 4)] * rec
        + [Learnable(d_out, MAX_DELAY)])


def run(kind, recurrent, name, neuron="lif", example=0):
    network, inp, hid, out, conns = build(kind, recurrent, neuron=neuron)
    return train_probed(network, inp, hid, out, conns, name,
                        np.array([1, 2, 0][:example + 2]), TIMESTEPS,
                        probe_example=example)


@pytest.mark.parametrize("neuron, example", [("lif", 0), ("adlif", 0),
                                             ("lif", 1)],
                         ids=["lif", "adlif", "lif-second-example"])
@pytest.mark.parametrize("recurrent", [False, True], ids=["ff", "rec"])
def test_dendritic_equals_column_sums_of_synaptic(recurrent, neuron,
                                                   example):
    # AdLIF: S follows its three-variable adjoint step. The second
    # example: the arrival sensitivity S is reset between examples (a
    # mutation review found only the MPI test noticed otherwise)
    tag = f"{recurrent}_{neuron}_{example}"
    dendritic, hid_den = run("dendritic", recurrent, f"den_{tag}",
                             neuron=neuron, example=example)
    synaptic, hid_syn = run("synaptic", recurrent, f"dsyn_{tag}",
                            neuron=neuron, example=example)
    # Same forward pass
    assert len(hid_syn[0]) >= 10
    np.testing.assert_array_equal(hid_den[0], hid_syn[0])
    np.testing.assert_array_equal(hid_den[1], hid_syn[1])
    for den, syn in zip(dendritic[:-1], synaptic[:-1]):
        n_post = den["d"].size
        np.testing.assert_allclose(syn["d"].reshape(-1, n_post)[0],
                                   den["d"], rtol=1e-6)
        # Weight gradients (EventProp feedback included) are unchanged
        assert np.count_nonzero(syn["Gradient"]) > syn["Gradient"].size // 2
        assert rel_err(den["Gradient"], syn["Gradient"]) <= 1e-5
        # The shared delay's gradient is the sum over its synapses
        columns = syn["dgrad"].reshape(-1, n_post).sum(axis=0)
        assert np.count_nonzero(columns) >= n_post // 2
        assert rel_err(den["dgrad"], columns) <= 1e-5


def test_dendritic_delays_save_load_and_shapes(tmp_path):
    from ml_genn_delays import save_model
    network, inp, hid, out, conns = build("dendritic", True)
    compiled = EventPropCompiler(
        TIMESTEPS, "sparse_categorical_crossentropy",
        max_spikes=200).compile(network, name="den_io")
    with compiled:
        assert get_delays(compiled, conns[0]).shape == (4,)
        with pytest.raises(ValueError, match=r"shape \(4,\)"):
            set_delays(compiled, conns[0], np.zeros(5))
        for i, c in enumerate(conns[:2]):
            set_delays(compiled, c, np.linspace(0, MAX_DELAY, 4) / (i + 1))
        saved = [get_delays(compiled, c) for c in conns]
        save_model(compiled, tmp_path / "m", checkpoint=3)
    names = sorted(p.name for p in (tmp_path / "m").iterdir())
    assert sum(n.endswith("-dd.npy") for n in names) == 2
    network2, _, _, _, conns2 = build("dendritic", True, seed=5)
    assert_delays_load_back(network2, conns2, tmp_path / "m", saved,
                            TIMESTEPS, "den_io2")


@pytest.mark.parametrize("readout", [
    LeakyIntegrate(tau_mem=20.0, readout="avg_var_exp_weight"),
    # An output LIF has the hidden neuron's spike tape too: it was
    # accepted, and its delay gradients were wrong
    LeakyIntegrateFire(tau_refrac=None, readout="first_spike_time")],
    ids=["li", "lif_first_spike"])
@pytest.mark.parametrize("kind", ["dendritic", ("axonal", "dendritic")])
def test_dendritic_delays_into_a_readout_are_refused(readout, kind):
    network = Network(default_params)
    with network:
        inp = Population(SpikeInput(max_spikes=10), 2)
        out = Population(readout, 2)
        Connection(inp, out, Dense(1.0), Exponential(5.0),
                   delay=Learnable(0.0, 5, kind=kind))
    compiler = EventPropCompiler(10, "sparse_categorical_crossentropy")
    with pytest.raises(NotImplementedError,
                       match="dendritic delays need a hidden "
                             "LeakyIntegrateFire target"):
        compiler.compile(network, name="den_readout")


def test_one_learnable_shared_by_two_connections_loads_each(tmp_path):
    # Loading before compiling sets each connection's initial per-neuron
    # delays on its spec: one Learnable object given to two connections
    # gave both the last one's delays
    def build(spec):
        network = Network(default_params)
        with network:
            inp = Population(SpikeInput(max_spikes=10), 3)
            hid = [Population(LeakyIntegrateFire(tau_refrac=None), 2)
                   for _ in range(2)]
            conns = [Connection(inp, h, Dense(1.0), Exponential(5.0),
                                delay=spec) for h in hid]
            out = Population(LeakyIntegrate(readout="max_var"), 2)
            for h in hid:
                Connection(h, out, Dense(1.0), Exponential(5.0))
        return network, conns

    network, conns = build(Learnable(2.0, 20, kind="dendritic"))
    conns[0].delay_spec.init = np.array([3.0, 4.0])
    conns[1].delay_spec.init = np.array([5.0, 6.0])
    save_model(network, tmp_path, checkpoint=0)
    network, conns = build(Learnable(2.0, 20, kind="dendritic"))
    load_model(network, tmp_path)
    np.testing.assert_array_equal(conns[0].delay_spec.init, [3.0, 4.0])
    np.testing.assert_array_equal(conns[1].delay_spec.init, [5.0, 6.0])


def test_dendritic_adlif_strong_adaptation_equals_column_sums():
    # The AdLIF arrival sensitivity's coupling term, (1 - alpha)(1 - rho) a,
    # is ~1e-4 with the default adaptation, below any tolerance: a short
    # tau_adapt and a large a make it count (mutation review)
    rng = np.random.default_rng(1)
    w_in, w_out = rng.normal(0.8, 0.4, (5, 4)), rng.normal(0.5, 0.5, (4, 3))
    d_in, d_out = rng.uniform(1, 8, 4), rng.uniform(1, 8, (4, 3))

    def neuron():
        return AdaptiveLeakyIntegrateFire(
            tau_mem=8.0, tau_adapt=10.0, a=LearnableParam(1.5, -2.0, 2.0),
            b=LearnableParam(0.05, 0.0, 1.0))
    runs = []
    for kind in ("dendritic", "synaptic"):
        delay = (Learnable(d_in, MAX_DELAY, kind="dendritic")
                 if kind == "dendritic" else
                 Learnable(np.repeat(d_in[None, :], 5, axis=0), MAX_DELAY))
        network, inp, hid, out, conns = five_four_three(
            neuron, [w_in, w_out], [delay, Learnable(d_out, MAX_DELAY)])
        runs.append(train_probed(network, inp, hid, out, conns,
                                 f"den_strong_adapt_{kind}", LABELS,
                                 TIMESTEPS))
    (dendritic, hid_den), (synaptic, hid_syn) = runs
    assert len(hid_syn[0]) >= 5
    np.testing.assert_array_equal(hid_den[0], hid_syn[0])
    columns = synaptic[0]["dgrad"].reshape(-1, 4).sum(axis=0)
    assert rel_err(dendritic[0]["dgrad"], columns) <= 1e-5
