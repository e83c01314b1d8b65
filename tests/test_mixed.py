"""Mixed delays: an axonal and a dendritic delay on one connection. The
forward pass is that of synaptic delays d_ij = d_i + d_j; the axonal
gradient is the row sum and the dendritic one the column sum of the
synaptic delay gradients."""
import numpy as np
import pytest
from ml_genn.initializers import Uniform
from ml_genn.neurons import LeakyIntegrateFire

from ml_genn_delays import (SGD, DelayPruning, EventPropCompiler, Learnable,
                            get_delays, load_model, save_model, set_delays)
from networks import five_four_three, random_spikes, train_probed
from test_axonal import LABELS, TIMESTEPS, hidden_neuron, rel_err

MAX_DELAY = 12


def build(mixed, recurrent, seed=1, neuron="lif", kind_order=None,
          long=False):
    """input -> hidden (optionally recurrent) -> output; the connections
    into the hidden layer have axonal + dendritic delays (or, not
    ``mixed``, synaptic delays d_i + d_j). ``long``: a max_delay_steps of
    6 and parts near it, so every sum exceeds it."""
    rng = np.random.default_rng(seed)
    w_in = rng.normal(0.8, 0.4, (5, 4))
    w_rec = rng.normal(0.0, 0.3, (4, 4))
    w_out = rng.normal(0.5, 0.5, (4, 3))
    max_delay, low, high = (6, 3.5, 6) if long else (MAX_DELAY, 0, 5)
    axonal = [rng.uniform(low, high, 5), rng.uniform(low, high, 4)]
    dendritic = [rng.uniform(low, high, 4), rng.uniform(low, high, 4)]

    def delay(i):
        if mixed:
            order = kind_order or ("axonal", "dendritic")
            init = {"axonal": axonal[i], "dendritic": dendritic[i]}
            return Learnable(tuple(init[k] for k in order), max_delay,
                             kind=order)
        return Learnable(axonal[i][:, None] + dendritic[i][None, :],
                         2 * max_delay)

    rec = recurrent
    return five_four_three(
        lambda: hidden_neuron(neuron), [w_in] + [w_rec] * rec + [w_out],
        [delay(0)] + [delay(1)] * rec + [None])


def compile_net(network, name, **kwargs):
    kwargs = {"optimiser": SGD(1e-3), "delay_optimiser": SGD(1e-3),
              "max_spikes": 200, **kwargs}
    return EventPropCompiler(
        TIMESTEPS, "sparse_categorical_crossentropy",
        **kwargs).compile(network, name=name)


def run(mixed, recurrent, name, neuron="lif", long=False):
    network, inp, hid, out, conns = build(mixed, recurrent, neuron=neuron,
                                          long=long)
    return train_probed(network, inp, hid, out, conns, name, LABELS,
                        TIMESTEPS, probe_conns=conns[:-1])


@pytest.mark.parametrize("neuron, long", [("lif", False), ("adlif", False),
                                          ("lif", True)],
                         ids=["lif", "adlif", "lif-long"])
@pytest.mark.parametrize("recurrent", [False, True], ids=["ff", "rec"])
def test_mixed_gradients_are_row_and_column_sums(recurrent, neuron, long):
    # long: the parts sum beyond max_delay_steps, up to twice it; such a
    # sum was once clamped, and its synapses' terms were wrong
    tag = f"{recurrent}_{neuron}_{long}"
    mixed, hid_mixed = run(True, recurrent, f"mix_{tag}", neuron, long)
    synaptic, hid_syn = run(False, recurrent, f"mixsyn_{tag}", neuron, long)
    assert len(hid_syn[0]) >= 10
    np.testing.assert_array_equal(hid_mixed[0], hid_syn[0])
    np.testing.assert_array_equal(hid_mixed[1], hid_syn[1])
    for mix, syn in zip(mixed, synaptic):
        n_pre = mix["axonal/d"].size
        n_post = mix["dendritic/d"].size
        np.testing.assert_allclose(
            syn["synaptic/d"].reshape(n_pre, n_post),
            mix["axonal/d"][:, None] + mix["dendritic/d"][None, :],
            rtol=1e-6)
        assert rel_err(mix["Gradient"], syn["Gradient"]) <= 1e-5
        per_synapse = syn["synaptic/dgrad"].reshape(n_pre, n_post)
        rows, columns = per_synapse.sum(axis=1), per_synapse.sum(axis=0)
        assert np.count_nonzero(rows) >= n_pre // 2
        assert rel_err(mix["axonal/dgrad"], rows) <= 1e-5
        assert rel_err(mix["dendritic/dgrad"], columns) <= 1e-5


def test_mixed_delays_read_write_save_load_and_prune(tmp_path):
    network, inp, hid, out, conns = build(True, True,
                                          kind_order=("dendritic", "axonal"))
    # A tuple init follows the order of the kinds given
    spec = conns[0].delay_spec
    assert [k.name for k, _ in spec.parts] == ["axonal", "dendritic"]
    assert spec.parts[0][1].shape == (5,) and spec.parts[1][1].shape == (4,)
    compiled = compile_net(network, "mix_io", delay_optimiser=SGD(500.0),
                           batch_size=2)
    x = random_spikes(4, 5, TIMESTEPS, 0.2, seed=4)
    with compiled:
        delays = get_delays(compiled, conns[0])
        assert sorted(delays) == ["axonal", "dendritic"]
        with pytest.raises(ValueError, match="pass a dict"):
            set_delays(compiled, conns[0], np.zeros(5))
        # One number for every part, as Learnable(init=) takes it
        set_delays(compiled, conns[0], 3)
        assert all(np.all(v == 3.0)
                   for v in get_delays(compiled, conns[0]).values())
        with pytest.raises(ValueError, match="no \\['synaptic'\\]"):
            set_delays(compiled, conns[0], {"synaptic": np.zeros((5, 4))})
        set_delays(compiled, conns[0], {"axonal": np.arange(5.0)})
        np.testing.assert_array_equal(get_delays(compiled, conns[0])["axonal"],
                                      np.arange(5.0))
        # Every kind is checked before any is written
        with pytest.raises(ValueError, match=r"dendritic delays must lie "
                                             r"in \[0, 12\]"):
            set_delays(compiled, conns[0], {"axonal": np.ones(5),
                                            "dendritic": np.full(4, -1.0)})
        # The part named (the shape alone did not say which)
        with pytest.raises(ValueError, match=r"axonal delays must have "
                                             r"shape \(5,\), got \(3,\)"):
            set_delays(compiled, conns[0], {"axonal": np.ones(3)})
        np.testing.assert_array_equal(get_delays(compiled, conns[0])["axonal"],
                                      np.arange(5.0))
        pruning = DelayPruning(0.5)
        compiled.train({inp: x}, {out: np.array([0, 1, 2, 0])},
                       num_epochs=2, shuffle=False, callbacks=[pruning])
        after = get_delays(compiled, conns[0])
        for name, mask in pruning.pruned[conns[0]].items():
            assert np.all(after[name][mask] == 0.0)
        assert pruning.kept_fraction(conns[0]) == pytest.approx(
            (3 + 2) / 9)
        saved = [get_delays(compiled, c) for c in conns[:2]]
        save_model(compiled, tmp_path / "m", checkpoint=1)
    names = sorted(p.name for p in (tmp_path / "m").iterdir())
    assert sum(n.endswith("-da.npy") for n in names) == 2
    assert sum(n.endswith("-dd.npy") for n in names) == 2
    # Into a fresh network before compiling
    network2, _, _, _, conns2 = build(True, True, seed=7)
    load_model(network2, tmp_path / "m")
    compiled2 = compile_net(network2, "mix_io2")
    with compiled2:
        for c, d in zip(conns2, saved):
            got = get_delays(compiled2, c)
            for name in d:
                np.testing.assert_allclose(got[name], d[name])


def test_bad_mixed_kinds_are_refused():
    for kind in (("axonal",), ("axonal", "axonal"), ("synaptic", "axonal")):
        with pytest.raises(ValueError, match="Mixed delay kinds"):
            Learnable(0.0, 10, kind=kind)
    with pytest.raises(ValueError, match="one init per kind"):
        Learnable((1.0, 2.0, 3.0), 10, kind=("axonal", "dendritic"))
    with pytest.raises(ValueError, match="Mixed delay kinds"):
        Learnable(0.0, 10, kind="axonal+synaptic")
    # Each part reaches max_delay_steps, the sum twice it: GeNN's limit
    with pytest.raises(ValueError, match="2 x max_delay_steps = 80000"):
        Learnable(0.0, 40000, kind="axonal+dendritic")
    assert Learnable(0.0, 30000, kind="axonal+dendritic"
                     ).longest_delay_steps == 60000


def test_plus_string_is_the_tuple():
    # The CLI's --delay-kind spelling; tuple inits follow its order
    spec = Learnable((np.ones(3), np.zeros(2)), 10, kind="dendritic+axonal")
    assert spec.kind.name == Learnable(0.0, 10, kind=(
        "axonal", "dendritic")).kind.name
    assert [(k.name, v.shape) for k, v in spec.parts] == [
        ("axonal", (2,)), ("dendritic", (3,))]
    # A list of one init per kind is the tuple (it was refused as "not a
    # delay": per-neuron arrays of two sizes make no array)
    listed = Learnable([np.ones(3), np.zeros(2)], 10,
                       kind="dendritic+axonal")
    assert [(k.name, v.shape) for k, v in listed.parts] == [
        ("axonal", (2,)), ("dendritic", (3,))]
    # The kind lookup itself takes it (its error message suggests it)
    from ml_genn_delays.kinds import get_kind
    assert get_kind("axonal+dendritic").name == "axonal+dendritic"


def test_resume_state_holds_every_part(tmp_path):
    from ml_genn_delays.resume import load_training_state, save_training_state
    network, inp, hid, out, conns = build(True, True)
    compiled = compile_net(network, "mix_resume", delay_optimiser=SGD(500.0))
    x = random_spikes(3, 5, TIMESTEPS, 0.2, seed=4)
    y = np.array([0, 1, 2])
    with compiled:
        compiled.train({inp: x}, {out: y}, num_epochs=1, callbacks=[])
        saved = get_delays(compiled, conns[0])
        save_training_state(compiled, tmp_path, {"epoch": 0})
        compiled.train({inp: x}, {out: y}, num_epochs=1, callbacks=[])
        moved = get_delays(compiled, conns[0])
        assert any(np.any(moved[k] != saved[k]) for k in saved)
        load_training_state(compiled, tmp_path)
        restored = get_delays(compiled, conns[0])
    for name in saved:
        np.testing.assert_array_equal(restored[name], saved[name])


@pytest.mark.parametrize("kind", ["axonal", "dendritic", "axonal+dendritic"])
def test_per_neuron_delays_from_an_initializer(kind):
    # mlGeNN converts initializers only for synapse variables: per-neuron
    # delays drawn by Uniform failed to compile
    network, _, _, _, (conn, _) = five_four_three(
        lambda: LeakyIntegrateFire(tau_refrac=None), [1.0, 1.0],
        [Learnable(Uniform(1.0, 5.0), 10, kind=kind), None])
    compiled = EventPropCompiler(10, "sparse_categorical_crossentropy",
                                 max_spikes=10).compile(
        network, name=f"uniform_{kind.replace('+', '_')}")
    with compiled:
        delays = get_delays(compiled, conn)
    for values in (delays.values() if isinstance(delays, dict)
                   else [delays]):
        assert np.all((values >= 1.0) & (values <= 5.0))
        assert np.unique(values).size == values.size  # drawn, not copied


def test_mixed_model_into_one_kind_names_the_kind_it_has(tmp_path):
    network = build(True, False)[0]
    save_model(network, tmp_path / "m", checkpoint=0)
    rng = np.random.default_rng(0)
    axonal_only = five_four_three(
        LeakyIntegrateFire, [rng.normal(size=(5, 4)), rng.normal(size=(4, 3))],
        [Learnable(1.0, MAX_DELAY, kind="axonal"), None])[0]
    with pytest.raises(ValueError, match=r"has learnable axonal delays, but "
                       r"the model in .* has axonal\+dendritic delays for "
                       r"it .*-dd.npy.*kind=\"axonal\+dendritic\""):
        load_model(axonal_only, tmp_path / "m")


def test_a_named_mixed_architecture_needs_a_max_of_two_to_split():
    from dataclasses import replace
    from ml_genn_delays.configs import get_config
    from ml_genn_delays.experiment import build_model
    config = replace(get_config("yy_ff_5_axonal_dendritic"),
                     max_delay_steps=1)
    with pytest.raises(ValueError, match="split max_delay_steps between "
                       "the two parts, so it must be at least 2, got 1"):
        build_model(config)


def test_named_architectures_split_the_max_between_the_parts():
    # Each part up to half the config's max: the longest delay and the
    # delay buffers are those of the other kinds of the same architecture
    from ml_genn_delays.configs import get_config
    from ml_genn_delays.experiment import build_model
    config = get_config("yy_ff_5_axonal_dendritic")
    model = build_model(config)
    specs = [c.delay_spec for c in model.connections
             if c.delay_spec is not None]
    assert specs and all(s.max_delay_steps == config.max_delay_steps // 2
                         and s.longest_delay_steps <= config.max_delay_steps
                         for s in specs)


def test_model_saved_with_clamped_sums_warns_on_load(tmp_path):
    # Before the buffers held 2 x max, each sum above max_delay_steps was
    # cut to it: such a model (no longest_delay_steps in its manifest)
    # behaves otherwise now, and says so on load with how many pairs
    import json
    import warnings
    network = build(True, False, long=True)[0]     # parts 3.5-6, max 6
    save_model(network, tmp_path / "new", checkpoint=0)
    manifest = json.loads((tmp_path / "new" / "manifest.json").read_text())
    entry = manifest["connections"][0]["delay"]
    assert entry["longest_delay_steps"] == 12
    with warnings.catch_warnings():
        warnings.simplefilter("error")      # a model saved now: no word
        load_model(build(True, False, seed=3)[0], tmp_path / "new")

    del entry["longest_delay_steps"]
    (tmp_path / "new" / "manifest.json").write_text(json.dumps(manifest))
    with pytest.warns(UserWarning, match=r"Connection .*: .* saved before "
                      r"manifests said whether axonal\+dendritic delay "
                      r"sums were cut to max_delay_steps=6 .*; 20 of 20 "
                      r"synapses sum above it"):
        load_model(build(True, False, seed=3)[0], tmp_path / "new")

    # Sums within the max: nothing changed for that model, no word
    short = build(True, False)[0]                  # parts 0-5, max 12
    save_model(short, tmp_path / "short", checkpoint=0)
    path = tmp_path / "short" / "manifest.json"
    manifest = json.loads(path.read_text())
    del manifest["connections"][0]["delay"]["longest_delay_steps"]
    path.write_text(json.dumps(manifest))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_model(build(True, False, seed=3)[0], tmp_path / "short")


def test_clamped_sum_warning_counts_listed_synapses_only(tmp_path):
    # Sparse synapses listed by hand: pairs that are no synapse do not count
    import json
    from ml_genn import Network, Population
    from ml_genn.compilers.event_prop_compiler import default_params
    from ml_genn.connectivity import Dense, FixedProbability
    from ml_genn.neurons import LeakyIntegrate, SpikeInput
    from ml_genn.synapses import Exponential
    from ml_genn_delays import Connection

    def network():
        net = Network(default_params)
        with net:
            inp = Population(SpikeInput(max_spikes=10), 3)
            hid = Population(LeakyIntegrateFire(tau_refrac=None), 2)
            out = Population(LeakyIntegrate(readout="sum_var"), 2)
            listed = FixedProbability(0.5, np.ones(2))
            listed.pre_ind, listed.post_ind = np.array([0, 2]), np.array([0, 1])
            Connection(inp, hid, listed, Exponential(5.0),
                       delay=Learnable((np.full(3, 5.0), np.array([2.0, 0.0])),
                                       6, kind="axonal+dendritic"))
            Connection(hid, out, Dense(1.0), Exponential(5.0))
        return net
    save_model(network(), tmp_path, checkpoint=0)
    path = tmp_path / "manifest.json"
    manifest = json.loads(path.read_text())
    del manifest["connections"][0]["delay"]["longest_delay_steps"]
    path.write_text(json.dumps(manifest))
    # (0, 0): 5 + 2 = 7 > 6; (2, 1): 5 + 0; all 6 pairs would give 3
    with pytest.warns(UserWarning, match=r"; 1 of 2 synapses sum above"):
        load_model(network(), tmp_path)


def test_a_mixed_model_with_a_lost_part_names_the_lost_file(tmp_path):
    # With one part's file gone, the files alone looked like a model of
    # the other kind ("give it kind=\"axonal\""); the manifest says both
    network = build(True, False)[0]
    save_model(network, tmp_path, checkpoint=0)
    lost = next(p for p in tmp_path.iterdir() if p.name.endswith("-dd.npy"))
    lost.unlink()
    with pytest.raises(ValueError, match=f"Missing {lost.name} for "):
        load_model(build(True, False)[0], tmp_path)


@pytest.mark.parametrize("recurrent", [False, True], ids=["ff", "rec"])
def test_per_neuron_delays_on_sparse_synapses_are_sums_of_synaptic(
        recurrent):
    """Sparse connectivity (synapses listed by hand: GeNN's SPARSE matrix,
    as FixedProbability's): axonal and dendritic gradients sum over the
    synapses there are only (README listed per-neuron delays on Dense
    only; a trial found them training on sparse and OneToOne)."""
    from ml_genn import Network, Population
    from ml_genn.compilers.event_prop_compiler import default_params
    from ml_genn.connectivity import Dense, FixedProbability
    from ml_genn.neurons import LeakyIntegrate, SpikeInput
    from ml_genn.synapses import Exponential
    from ml_genn_delays import Connection
    rng = np.random.default_rng(4)
    chosen = np.sort(rng.choice(20, 13, replace=False))
    pre, post = np.divmod(chosen, 4)
    w_in = rng.normal(1.2, 0.4, chosen.size)
    axonal, dendritic = rng.uniform(0, 5, 5), rng.uniform(0, 5, 4)
    w_rec, w_out = rng.normal(0.0, 0.3, (4, 4)), rng.normal(0.5, 0.5, (4, 3))

    def build(mixed):
        network = Network(default_params)
        with network:
            inp = Population(SpikeInput(max_spikes=10000), 5)
            hid = Population(hidden_neuron("lif"), 4, record_spikes=True)
            out = Population(LeakyIntegrate(tau_mem=20.0,
                                            readout="avg_var_exp_weight"), 3)
            listed = FixedProbability(0.5, w_in)
            listed.pre_ind, listed.post_ind = pre, post
            delay = (Learnable((axonal, dendritic), MAX_DELAY,
                               kind="axonal+dendritic") if mixed else
                     Learnable(axonal[pre] + dendritic[post], 2 * MAX_DELAY))
            conns = [Connection(inp, hid, listed, Exponential(5.0),
                                delay=delay)]
            if recurrent:
                conns.append(Connection(hid, hid, Dense(w_rec),
                                        Exponential(5.0)))
            conns.append(Connection(hid, out, Dense(w_out),
                                    Exponential(5.0)))
        return network, inp, hid, out, conns

    results = []
    for mixed in (True, False):
        network, inp, hid, out, conns = build(mixed)
        results.append(train_probed(
            network, inp, hid, out, conns, f"sparse_{mixed}_{recurrent}",
            LABELS, TIMESTEPS, probe_conns=conns[:1]))
    (mix,), hid_mixed = results[0]
    (syn,), hid_syn = results[1]
    assert len(hid_syn[0]) >= 10
    np.testing.assert_array_equal(hid_mixed[0], hid_syn[0])
    np.testing.assert_array_equal(hid_mixed[1], hid_syn[1])
    assert syn["dgrad"].size == chosen.size
    assert rel_err(mix["Gradient"], syn["Gradient"]) <= 1e-5
    rows = np.bincount(pre, syn["dgrad"], minlength=5)
    columns = np.bincount(post, syn["dgrad"], minlength=4)
    assert np.count_nonzero(rows) >= 3 and np.count_nonzero(columns) >= 2
    assert rel_err(mix["axonal/dgrad"], rows) <= 1e-5
    assert rel_err(mix["dendritic/dgrad"], columns) <= 1e-5
