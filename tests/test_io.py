"""Saving and loading -g.npy / -d.npy model files."""
import json
import os
import re
import shutil
import subprocess
import sys
import warnings

import numpy as np
import pytest
from ml_genn import Network, Population
from ml_genn.callbacks import Checkpoint
from ml_genn.compilers.event_prop_compiler import default_params
from ml_genn.connectivity import Dense
from ml_genn.neurons import LeakyIntegrate, SpikeInput
from ml_genn.optimisers import Adam
from ml_genn.serialisers import Numpy
from ml_genn.synapses import Exponential

import ml_genn_delays.io as model_io
from ml_genn_delays import (Connection, Fixed, InferenceCompiler, Learnable,
                            ModelFileError, UncheckedModelWarning,
                            load_model, save_model)
from networks import TinyNet, output_trace, pull, random_spikes

T = 40
X = random_spikes(3, 5, T, 0.2, seed=11)
Y = np.array([0, 1, 2])


def outputs(compiled, net):
    return output_trace(compiled, net, X, Y)


@pytest.fixture
def trained(tmp_path):
    """A briefly trained recurrent TinyNet saved as checkpoint 3."""
    net = TinyNet("ours", recurrent=True)
    compiled = net.compile(T, "trained")
    with compiled:
        compiled.train({net.inp: X}, {net.out: Y}, num_epochs=2,
                       callbacks=[])
        values = {(c.name, v): pull(compiled, c, v) for c in net.conns()
                  for v in ("g", "d")}
        written = save_model(compiled, tmp_path / "model", checkpoint=3)
        v = outputs(compiled, net)
    return net, values, written, v, tmp_path / "model"


def test_files_follow_release_layout(trained):
    net, values, written, _, folder = trained
    names = sorted(os.path.basename(w) for w in written)
    expected = sorted([f"3-{c.name}-{s}.npy" for c in net.conns()
                       for s in "gd"] + ["manifest.json"])
    assert names == expected
    # Readable by others: model files are meant to be shared
    assert all(os.stat(w).st_mode & 0o044 == 0o044 for w in written)
    for c in net.conns():
        g = np.load(folder / f"3-{c.name}-g.npy")
        assert g.dtype == np.float32 and g.ndim == 1
        np.testing.assert_array_equal(g, values[(c.name, "g")])
    manifest = json.loads((folder / "manifest.json").read_text())
    assert [e["delay"]["kind"] for e in manifest["connections"]] == \
        ["synaptic"] * 3
    assert manifest["connections"][0]["shape"] == [5, 4]
    assert manifest["dt"] == 1.0 and manifest["checkpoint"] == "3"


def test_round_trip_into_fresh_and_compiled_network(trained):
    net, _, _, v_trained, folder = trained
    # A second network in this process gets other connection names, so
    # the files are matched by position
    fresh = TinyNet("ours", recurrent=True, seed=7)
    assert fresh.c_in.name != net.c_in.name
    report = load_model(fresh.network, folder)
    assert report[fresh.c_in.name] == [f"3-{net.c_in.name}-g.npy",
                                       f"3-{net.c_in.name}-d.npy"]
    compiled = fresh.compile(T, "fresh")
    with compiled:
        np.testing.assert_array_equal(outputs(compiled, fresh), v_trained)

    other = TinyNet("ours", recurrent=True, seed=8)
    compiled = other.compile(T, "other")
    with compiled:
        assert not np.array_equal(outputs(compiled, other), v_trained)
        load_model(compiled, folder)
        np.testing.assert_array_equal(outputs(compiled, other), v_trained)


def test_model_of_another_dt_refused(trained):
    # Delays are timesteps: a model trained at dt 1 ms run at 0.5 ms would
    # have every delay halved, silently
    net, _, _, _, folder = trained
    other = TinyNet("ours", recurrent=True, seed=8)
    compiled = other.compile(T, "other_dt", dt=0.5)
    with compiled:
        before = pull(compiled, other.c_in, "g")
        with pytest.raises(ModelFileError, match=r"dt = 1.0 ms.*dt = 0.5"):
            load_model(compiled, folder)
        # An older checkpoint of the same run (the manifest describes the
        # newest) was trained at the same dt
        for name in os.listdir(folder):
            if name.startswith("3-"):
                shutil.copy(folder / name, folder / ("2-" + name[2:]))
        with pytest.raises(ModelFileError, match=r"dt = 1.0 ms.*dt = 0.5"):
            load_model(compiled, folder, checkpoint=2)
        np.testing.assert_array_equal(pull(compiled, other.c_in, "g"),
                                      before)


def test_mlgenn_reads_ours_and_we_read_mlgenns(trained, tmp_path):
    net, values, _, _, folder = trained
    # mlGeNN's Network.load reads our files (same process: same names)
    net.network.load((3,), Numpy(str(folder)))
    np.testing.assert_array_equal(net.c_in.connectivity.delay,
                                  values[(net.c_in.name, "d")])

    # mlGeNN's Checkpoint callback writes files we load
    other = TinyNet("ours", recurrent=True, seed=9)
    compiled = other.compile(T, "checkpointed")
    with compiled:
        compiled.train({other.inp: X}, {other.out: Y}, num_epochs=1,
                       callbacks=[Checkpoint(Numpy(str(tmp_path / "ck")))])
        saved = {c.name: pull(compiled, c, "d") for c in other.conns()}
    again = TinyNet("ours", recurrent=True, seed=10)
    with pytest.warns(UncheckedModelWarning):
        load_model(again.network, tmp_path / "ck")
    for c, o in zip(again.conns(), other.conns()):
        np.testing.assert_array_equal(c.connectivity.delay, saved[o.name])


def corrupt(folder, conn, suffix, values):
    np.save(folder / f"3-{conn.name}-{suffix}.npy", values)


@pytest.mark.parametrize("damage, match", [
    (lambda f, c: os.remove(f / f"3-{c.name}-d.npy"), "Missing 3-"),
    (lambda f, c: corrupt(f, c, "g", np.zeros(7, np.float32)),
     "expects 20 values of weights, the file has 7"),
    (lambda f, c: corrupt(f, c, "g", np.full(20, np.nan, np.float32)),
     "NaN"),
    (lambda f, c: corrupt(f, c, "d", np.full(20, -1.0, np.float32)),
     r"must lie in \[0.0, 10\]"),
    (lambda f, c: corrupt(f, c, "d", np.full(20, 11.0, np.float32)),
     r"must lie in \[0.0, 10\]"),
    (lambda f, c: corrupt(f, c, "g", np.zeros(20, np.int32)),
     "must be floats"),
    (lambda f, c: (f / f"3-{c.name}-g.npy").write_bytes(b"not numpy"),
     r"-g.npy: not a readable .npy array of weights"),
    # Several checkpoints and no manifest to say which was saved last
    (lambda f, c: os.remove(f / "manifest.json")
     or np.save(f / "5-x-g.npy", np.zeros(1)), "choose one"),
    (lambda f, c: np.save(f / "3-Conn_Extra-g.npy", np.zeros(1)),
     "match no connection"),
])
def test_bad_files_leave_network_unchanged(trained, damage, match):
    net, _, _, _, folder = trained
    fresh = TinyNet("ours", recurrent=True, seed=12)
    before = [(c.connectivity.weight.copy(), c.connectivity.delay.copy())
              for c in fresh.conns()]
    damage(folder, net.conns()[0] if "Missing" in match else net.c_in)
    with pytest.raises(ModelFileError, match=match):
        load_model(fresh.network, folder)
    for c, (w, d) in zip(fresh.conns(), before):
        np.testing.assert_array_equal(c.connectivity.weight, w)
        np.testing.assert_array_equal(c.connectivity.delay, d)


def test_delays_beyond_a_smaller_max_name_the_saved_max(tmp_path):
    # A network rebuilt with a smaller max_delay_steps (as a named mixed
    # architecture's parts got half the max): the error says which max
    # the files were saved with
    net = TinyNet("ours", max_delay=30, seed=3)
    save_model(net.network, tmp_path / "m", checkpoint=0)
    small = TinyNet("ours", max_delay=10, seed=4)
    with pytest.raises(ModelFileError, match=(
            rf"must lie in \[0.0, 10\].*saved with max_delay_steps=30, "
            rf"connection {small.c_in.name} has 10: give it "
            rf"max_delay_steps=30")):
        load_model(small.network, tmp_path / "m")


def test_delay_file_for_connection_without_delays(trained):
    net, _, _, _, folder = trained
    plain = TinyNet("ours", recurrent=True, seed=13, hidden_delays=False)
    with pytest.raises(ModelFileError, match="has no learnable delays"):
        load_model(plain.network, folder)


@pytest.mark.parametrize("saved, loaded", [("axonal", "synaptic"),
                                           ("synaptic", "dendritic")])
def test_a_model_of_another_delay_kind_names_both_kinds(tmp_path, saved,
                                                         loaded):
    def build(kind):
        network = Network(default_params)
        with network:
            a = Population(SpikeInput(max_spikes=10), 3)
            b = Population(LeakyIntegrate(readout="avg_var"), 2)
            Connection(a, b, Dense(1.0), Exponential(5.0),
                       delay=Learnable(1.0, 10, kind=kind))
        return network
    save_model(build(saved), tmp_path, checkpoint=0)
    with pytest.raises(ModelFileError,
                       match=f"has learnable {loaded} delays, but the model "
                             f"in .* has {saved} delays for it .*; give it "
                             f"delay=Learnable\\(..., kind=\"{saved}\"\\)"):
        load_model(build(loaded), tmp_path)


def test_delay_file_kinds_are_the_kinds_file_suffixes():
    # io names kinds without importing them (it imports without GeNN)
    from ml_genn_delays.io_params import DELAY_FILE_KINDS
    from ml_genn_delays.kinds import KINDS
    assert DELAY_FILE_KINDS == {k.file_suffix: n for n, k in KINDS.items()}


def test_a_file_given_as_the_model_folder_names_its_folder(trained):
    net, _, _, _, folder = trained
    with pytest.raises(ModelFileError,
                       match=f"manifest.json is a file: give the model's "
                             f"folder, {re.escape(str(folder))}$"):
        load_model(net.network, folder / "manifest.json")


def test_of_several_checkpoints_the_one_saved_last_loads(tmp_path):
    # A run's folder killed inside remove_checkpoints: part of an older
    # checkpoint is left beside the latest, which the manifest describes
    network, (ab, bc) = two_layers()
    save_model(network, tmp_path, checkpoint=7)
    ab.connectivity.weight = np.full((3, 3), 5.0)
    save_model(network, tmp_path, checkpoint=8)
    (tmp_path / f"7-{bc.name}-g.npy").unlink()
    fresh, (ab2, _) = two_layers(w=(0.0, 0.0))
    report = load_model(fresh, tmp_path)
    assert report[ab2.name][0] == f"8-{ab.name}-g.npy"
    np.testing.assert_array_equal(ab2.connectivity.weight, 5.0)


def test_a_later_checkpoint_without_manifest_still_asks(tmp_path):
    # mlGeNN's Checkpoint callback wrote checkpoint 9 after save_model's
    # 8: the manifest's is not the latest, so nothing is guessed
    network, (ab, bc) = two_layers()
    save_model(network, tmp_path, checkpoint=8)
    for conn in (ab, bc):
        for suffix in ("g", "d"):
            (tmp_path / f"9-{conn.name}-{suffix}.npy").write_bytes(
                (tmp_path / f"8-{conn.name}-{suffix}.npy").read_bytes())
    with pytest.raises(ModelFileError, match=r"holds checkpoints "
                       r"\['8', '9'\]; choose one"):
        load_model(two_layers()[0], tmp_path)


def test_interrupted_save_keeps_previous_checkpoint(trained, monkeypatch):
    net, values, _, _, folder = trained
    calls = []

    def failing_save(f, values):
        calls.append(1)
        if len(calls) == 2:
            raise OSError("disk full")
        np.lib.format.write_array(f, np.asanyarray(values))
    monkeypatch.setattr(model_io.np, "save", failing_save)
    # (the fixture compiled this network: saving the Network object
    # instead of the compiled one is flagged)
    with pytest.warns(UserWarning, match="holds the initial values"), \
            pytest.raises(OSError, match="disk full"):
        save_model(net.network, folder, checkpoint=4)
    monkeypatch.undo()
    # No temporary files; checkpoint 3 still loads completely
    assert not [n for n in os.listdir(folder) if n.startswith(".")]
    fresh = TinyNet("ours", recurrent=True, seed=14)
    load_model(fresh.network, folder, checkpoint=3)
    np.testing.assert_array_equal(fresh.c_rec.connectivity.delay,
                                  values[(net.c_rec.name, "d")])


def test_saving_an_uncompiled_network_is_quiet(tmp_path, recwarn):
    save_model(TinyNet("ours").network, tmp_path, checkpoint=0)
    assert not [w for w in recwarn if "initial values" in str(w.message)]


def test_io_imports_without_genn():
    code = ("import sys; sys.modules['pygenn'] = None; "
            "sys.modules['ml_genn'] = None; "
            "from ml_genn_delays.io import load_model, save_model")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_directory_without_manifest_loads_by_population_order(trained):
    # The published models have no manifest
    net, values, _, _, folder = trained
    os.remove(folder / "manifest.json")
    fresh = TinyNet("ours", recurrent=True, seed=15)
    # Nothing to check dt, kinds or synapses against: said
    with pytest.warns(UncheckedModelWarning, match="no manifest.json .* "
                      "dt, delay kinds and synapses cannot be checked"):
        report = load_model(fresh.network, folder)
    assert report[fresh.c_rec.name][1] == f"3-{net.c_rec.name}-d.npy"
    np.testing.assert_array_equal(fresh.c_rec.connectivity.delay,
                                  values[(net.c_rec.name, "d")])


def test_model_checkpoint_callback_saves_every_epoch(tmp_path):
    from ml_genn_delays import ModelCheckpoint
    net = TinyNet("ours")
    compiled = net.compile(T, "ckpt")
    with compiled:
        compiled.train({net.inp: X}, {net.out: Y}, num_epochs=3,
                       callbacks=[ModelCheckpoint(str(tmp_path / "m"), 2)])
        final = pull(compiled, net.c_in, "d")
    names = sorted(os.listdir(tmp_path / "m"))
    # Epoch 1 (every 2nd) and epoch 2 (the last)
    assert {n.split("-")[0] for n in names if n.endswith(".npy")} == \
        {"1", "2"}
    fresh = TinyNet("ours", seed=30)
    load_model(fresh.network, tmp_path / "m", checkpoint=2)
    np.testing.assert_array_equal(fresh.c_in.connectivity.delay, final)
    # Trained one epoch per call, last=False saves every 2nd epoch only
    # (each call's last epoch was saved: every epoch)
    with compiled:
        for epoch in range(3, 7):
            compiled.train({net.inp: X}, {net.out: Y}, start_epoch=epoch,
                           num_epochs=1, callbacks=[ModelCheckpoint(
                               str(tmp_path / "n"), 2, last=False)])
    assert {n.split("-")[0] for n in os.listdir(tmp_path / "n")
            if n.endswith(".npy")} == {"3", "5"}
    # A call that starts at epoch 3 (a resumed run) ends with epoch 4: the
    # last one is saved, though no other is due
    with compiled:
        compiled.train({net.inp: X}, {net.out: Y}, start_epoch=3,
                       num_epochs=2, callbacks=[ModelCheckpoint(
                           str(tmp_path / "r"), 10)])
    assert {n.split("-")[0] for n in os.listdir(tmp_path / "r")
            if n.endswith(".npy")} == {"4"}


def test_connections_given_one_learnable_load_their_own_delays(tmp_path):
    # load_model updates a spec's initial per-neuron delays: two
    # connections given the same Learnable object must not share them
    def build(first, second):
        network = Network(default_params)
        with network:
            a = Population(SpikeInput(max_spikes=10), 3)
            b = Population(LeakyIntegrate(readout="avg_var"), 2)
            c = Population(LeakyIntegrate(readout="avg_var"), 2)
            ab = Connection(a, b, Dense(1.0), Exponential(5.0), delay=first)
            ac = Connection(a, c, Dense(1.0), Exponential(5.0),
                            delay=second)
        return network, ab, ac
    network, _, _ = build(Learnable(np.array([1.0, 2.0, 3.0]), 10, "axonal"),
                          Learnable(np.array([7.0, 8.0, 9.0]), 10, "axonal"))
    save_model(network, tmp_path, checkpoint=0)
    shared = Learnable(np.zeros(3), 10, kind="axonal")
    fresh, ab, ac = build(shared, shared)
    load_model(fresh, tmp_path)
    np.testing.assert_array_equal(ab.delay_spec.init, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(ac.delay_spec.init, [7.0, 8.0, 9.0])


@pytest.mark.parametrize("manifest", ["new", "old", "none"])
def test_connections_created_in_another_order_load_their_own_values(
        tmp_path, manifest):
    # Same-shaped connections created in another order by a fresh network
    # (so no name matches) used to swap weights and delays silently
    def build(hidden_first, w, d):
        network = Network(default_params)
        with network:
            a = Population(SpikeInput(max_spikes=10), 3)
            b = Population(LeakyIntegrate(readout="avg_var"), 3)
            c = Population(LeakyIntegrate(readout="avg_var"), 3)
            make = [lambda: Connection(a, b, Dense(np.full((3, 3), w[0])),
                                       Exponential(5.0),
                                       delay=Learnable(d[0], 15)),
                    lambda: Connection(b, c, Dense(np.full((3, 3), w[1])),
                                       Exponential(5.0),
                                       delay=Learnable(d[1], 15))]
            if hidden_first:
                bc, ab = make[1](), make[0]()
            else:
                ab, bc = make[0](), make[1]()
        return network, ab, bc
    network, _, _ = build(False, (1.0, 2.0), (4.0, 9.0))
    save_model(network, tmp_path, checkpoint=0)
    path = tmp_path / "manifest.json"
    if manifest == "old":
        # Written before positions were recorded: mlGeNN's Pop<n> names
        # (creation order) say where the populations were
        saved = json.loads(path.read_text())
        for entry in saved["connections"]:
            del entry["source_index"], entry["target_index"]
        path.write_text(json.dumps(saved))
    elif manifest == "none":
        path.unlink()
    fresh, ab, bc = build(True, (0.0, 0.0), (0.0, 0.0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UncheckedModelWarning)
        load_model(fresh, tmp_path)
    for conn, w, d in [(ab, 1.0, 4.0), (bc, 2.0, 9.0)]:
        np.testing.assert_array_equal(conn.connectivity.weight, w)
        np.testing.assert_array_equal(conn.connectivity.delay, d)


def test_a_failed_training_state_save_keeps_the_last_one(tmp_path):
    # The arrays and the JSON are written before either replaces its old
    # file: a failure while writing the JSON (here: a value JSON cannot
    # hold) left arrays of epoch 1 beside the JSON of epoch 0, which no
    # resume could read
    from ml_genn_delays.resume import (load_training_state,
                                       save_training_state)
    folder = tmp_path / "state"
    net = TinyNet("ours")
    compiled = net.compile(T, "state")
    with compiled:
        save_training_state(compiled, folder, {"epoch": 0})
        before = pull(compiled, net.c_in, "d")
        compiled.train({net.inp: X}, {net.out: Y}, num_epochs=2,
                       shuffle=False)
        assert not np.array_equal(pull(compiled, net.c_in, "d"), before)
        with pytest.raises(TypeError):
            save_training_state(compiled, folder,
                                {"epoch": 1, "oops": object()})
        assert load_training_state(compiled, folder)["epoch"] == 0
        np.testing.assert_array_equal(pull(compiled, net.c_in, "d"), before)
    assert sorted(os.listdir(folder)) == ["training_state.json",
                                            "training_state.npz"]


def sparse_net(rng_seed, name):
    from ml_genn import Network, Population
    from ml_genn.compilers.event_prop_compiler import default_params
    from ml_genn.connectivity import Dense, FixedProbability
    from ml_genn.initializers import Normal, Uniform
    from ml_genn.neurons import LeakyIntegrate, LeakyIntegrateFire, SpikeInput
    from ml_genn.synapses import Exponential
    from ml_genn_delays import Connection, EventPropCompiler, Learnable
    network = Network(default_params)
    with network:
        inp = Population(SpikeInput(max_spikes=10), 8)
        hid = Population(LeakyIntegrateFire(tau_refrac=None), 6)
        out = Population(LeakyIntegrate(readout="max_var"), 2)
        conn = Connection(inp, hid, FixedProbability(0.5, Normal(1.0, 0.3)),
                          Exponential(5.0),
                          delay=Learnable(Uniform(0.0, 8.0), 10))
        Connection(hid, out, Dense(Normal(0.5, 0.5)), Exponential(5.0))
    return conn, EventPropCompiler(T, "sparse_categorical_crossentropy",
                                   rng_seed=rng_seed).compile(network,
                                                              name=name)


def test_sparse_model_needs_the_same_synapses(tmp_path):
    # FixedProbability draws its synapses at build time: values saved from
    # one draw would land on other synapses of another, silently when the
    # counts happen to agree
    conn, compiled = sparse_net(1, "sparse_save")
    with compiled:
        saved = pull(compiled, conn, "d")
        save_model(compiled, tmp_path, checkpoint=0)
    conn, compiled = sparse_net(1, "sparse_same")
    with compiled:
        var = compiled.connection_populations[conn].vars["d"]
        var.values = np.zeros_like(saved)
        var.push_to_device()
        load_model(compiled, tmp_path)
        np.testing.assert_array_equal(pull(compiled, conn, "d"), saved)
    conn, compiled = sparse_net(2, "sparse_other")
    with compiled:
        with pytest.raises(ModelFileError, match="other synapses.*rng_seed"):
            load_model(compiled, tmp_path)


def test_network_compiled_by_mlgenn_does_not_lose_learnable_delays(
        trained, tmp_path):
    """mlGeNN's own compiler takes our Connection but applies synaptic
    Learnable delays as fixed ones: saving must not drop them silently."""
    from ml_genn.compilers import EventPropCompiler as MLGeNNEventProp
    from ml_genn_delays import get_delays
    net = TinyNet("ours", recurrent=True)   # the shape of `trained`
    compiled = MLGeNNEventProp(T, "sparse_categorical_crossentropy",
                               max_spikes=200).compile(net.network,
                                                       name="by_mlgenn")
    match = "holds no learnable delays.*ml_genn_delays.EventPropCompiler"
    with compiled:
        with pytest.raises(ValueError, match=match):
            save_model(compiled, tmp_path / "m", 0)
        with pytest.raises(ValueError, match=match):
            get_delays(compiled, net.c_in)
        with pytest.raises(ValueError, match=match):
            load_model(compiled, trained[4])
    assert not (tmp_path / "m").exists()


def test_model_of_another_dt_refused_when_compiling_the_network(trained,
                                                               tmp_path):
    # Loaded into a Network, the model's dt is checked when it is compiled
    # (the network itself has no dt); it used to run at any dt, silently
    _, _, _, _, folder = trained
    fresh = TinyNet("ours", recurrent=True, seed=7)
    load_model(fresh.network, folder)
    with pytest.raises(ModelFileError, match=r"dt = 1.0 ms.*dt = 0.5"):
        fresh.compile(T, "fresh_dt", dt=0.5)
    with pytest.raises(ModelFileError, match=r"dt = 1.0 ms.*dt = 0.5"):
        InferenceCompiler(evaluate_timesteps=T, dt=0.5).compile(
            fresh.network, "inference_dt")
    # The network saved again keeps the dt its values were trained at
    save_model(fresh.network, tmp_path / "again", checkpoint=0)
    manifest = json.loads((tmp_path / "again" / "manifest.json").read_text())
    assert manifest["dt"] == 1.0


@pytest.mark.parametrize("text, match", [
    ("{", "not a readable manifest"),
    ("[]", "not a JSON object"),
    ('{"dt": "1.0"}', "dt '1.0' is not a positive number"),
    ('{"connections": [{"name": "a"}]}', "a name, an index"),
    ('{"connections": [{"name": "a", "index": 0, "shape": [2]}]}',
     "2-number shape"),
])
def test_corrupt_manifest_is_a_model_file_error(trained, text, match):
    _, _, _, _, folder = trained
    (folder / "manifest.json").write_text(text)
    fresh = TinyNet("ours", recurrent=True, seed=7)
    before = fresh.c_in.connectivity.weight
    with pytest.raises(ModelFileError, match=match) as error:
        load_model(fresh.network, folder)
    assert "manifest.json" in str(error.value)
    assert fresh.c_in.connectivity.weight is before


def test_transposed_dense_file_refused(trained):
    net, values, _, _, folder = trained
    n_pre, n_post = 5, 4
    name = f"3-{net.c_in.name}-d.npy"
    np.save(folder / name, np.load(folder / name).reshape(n_post, n_pre))
    fresh = TinyNet("ours", recurrent=True, seed=7)
    with pytest.raises(ModelFileError, match=r"flat or \(5, 4\).*\(4, 5\)"):
        load_model(fresh.network, folder)
    # Its own shape, (n_pre, n_post), is the flat file's order
    np.save(folder / name, np.load(folder / name).reshape(n_pre, n_post))
    load_model(fresh.network, folder)


def test_a_failed_save_leaves_the_old_checkpoint_whole(trained):
    # Every file is written before any is renamed: a failure part-way
    # (here a folder where the manifest goes) changes none of them
    net, _, written, _, folder = trained
    before = {w: open(w, "rb").read() for w in written}
    fresh = TinyNet("ours", recurrent=True, seed=7)
    os.rename(folder / "manifest.json", folder / "kept.json")
    os.mkdir(folder / "manifest.json")
    with pytest.raises(IsADirectoryError, match="folder of that name"):
        save_model(fresh.network, folder, checkpoint=3)
    os.rmdir(folder / "manifest.json")
    os.rename(folder / "kept.json", folder / "manifest.json")
    assert {w: open(w, "rb").read() for w in written} == before
    assert not [n for n in os.listdir(folder) if n.startswith(".")]


@pytest.mark.parametrize("checkpoint", [None, "a/b", "1-2", ""])
def test_bad_checkpoint_names_refused(trained, tmp_path, checkpoint):
    net = TinyNet("ours", recurrent=True, seed=7)
    with pytest.raises(ValueError, match="checkpoint must be"):
        save_model(net.network, tmp_path / "out", checkpoint=checkpoint)
    assert not (tmp_path / "out").exists()


def test_save_into_a_file_refused(tmp_path):
    net = TinyNet("ours", recurrent=True, seed=7)
    (tmp_path / "model").write_text("not a folder")
    with pytest.raises(NotADirectoryError, match="it is a file"):
        save_model(net.network, tmp_path / "model", checkpoint=0)
    assert (tmp_path / "model").read_text() == "not a folder"


def test_a_failed_rename_undoes_the_renames_before_it(trained, monkeypatch):
    # The files are renamed into place one by one: should the third
    # rename fail, the two before it are undone from copies of the old
    # files, and no temporary file is left
    net, _, written, _, folder = trained
    before = {w: open(w, "rb").read() for w in written}
    fresh = TinyNet("ours", recurrent=True, seed=7)
    calls = []
    real_replace = os.replace

    def failing_replace(src, dst):
        calls.append(dst)
        if len(calls) == 3:
            raise OSError("simulated failure")
        return real_replace(src, dst)

    monkeypatch.setattr(model_io.os, "replace", failing_replace)
    with pytest.raises(OSError, match="simulated"):
        save_model(fresh.network, folder, checkpoint=3)
    monkeypatch.undo()
    assert {w: open(w, "rb").read() for w in written} == before
    assert not [n for n in os.listdir(folder) if n.startswith(".")]
    # New files (another checkpoint) are removed again
    monkeypatch.setattr(model_io.os, "replace", failing_replace)
    calls.clear()
    with pytest.raises(OSError, match="simulated"):
        save_model(fresh.network, folder, checkpoint=4)
    monkeypatch.undo()
    assert not [n for n in os.listdir(folder) if n.startswith("4-")
                or n.startswith(".")]
    assert {w: open(w, "rb").read() for w in written} == before


def fixed_or_none(delay, name):
    network = Network(default_params)
    with network:
        a = Population(SpikeInput(max_spikes=10), 2)
        b = Population(LeakyIntegrate(readout="avg_var"), 2)
        Connection(a, b, Dense(np.ones((2, 2))), Exponential(5.0),
                   delay=delay, name=name)
    return network


def test_fixed_delays_are_recorded_and_must_match(tmp_path):
    # Model files hold no fixed delays, but weights trained with them
    # suit them only: loading into a connection without (or the reverse)
    # used to pass silently
    save_model(fixed_or_none(Fixed(3), "c"), tmp_path / "fixed", 0)
    save_model(fixed_or_none(None, "c"), tmp_path / "none", 0)
    manifest = json.loads((tmp_path / "fixed" / "manifest.json").read_text())
    assert manifest["connections"][0]["delay"] == {"kind": "fixed",
                                                   "max_delay_steps": 3}
    with pytest.raises(ModelFileError, match="trained with fixed delays "
                       r"\(max 3 steps\).*delay=Fixed"):
        load_model(fixed_or_none(None, "c"), tmp_path / "fixed")
    with pytest.raises(ModelFileError, match="has fixed delays, but .* "
                                             "trained without delays"):
        load_model(fixed_or_none(Fixed(3), "c"), tmp_path / "none")
    load_model(fixed_or_none(Fixed(5), "c"), tmp_path / "fixed")
    load_model(fixed_or_none(0, "c"), tmp_path / "none")    # no delay
    # A manifest from before fixed delays were recorded says nothing
    path = tmp_path / "none" / "manifest.json"
    old = json.loads(path.read_text())
    del old["fixed_delays_recorded"]
    path.write_text(json.dumps(old))
    load_model(fixed_or_none(Fixed(3), "c"), tmp_path / "none")


@pytest.mark.parametrize("saved_max, delays, match", [
    # Negative delays: no max loads them
    (30, -1.0, r"must lie in \[0.0, 10\], the file has \[-1.0, -1.0\]$"),
    # Saved with a smaller max than the connection's: that max is no help
    (5, 12.0, r"must lie in \[0.0, 10\], the file has \[12.0, 12.0\]$")])
def test_saved_max_named_only_where_it_loads_the_delays(
        tmp_path, saved_max, delays, match):
    import json
    net = TinyNet("ours", max_delay=30, seed=3)
    save_model(net.network, tmp_path / "m", checkpoint=0)
    for path in (tmp_path / "m").iterdir():
        if path.name.endswith("-d.npy"):
            np.save(path, np.full_like(np.load(path), delays))
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text())
    for entry in manifest["connections"]:
        if entry["delay"] and entry["delay"].get("max_delay_steps"):
            entry["delay"]["max_delay_steps"] = saved_max
    (tmp_path / "m" / "manifest.json").write_text(json.dumps(manifest))
    small = TinyNet("ours", max_delay=10, seed=4)
    with pytest.raises(ModelFileError, match=match):
        load_model(small.network, tmp_path / "m")


def two_layers(names=(None, None), wiring=((0, 1), (1, 2)), w=(1.0, 2.0),
               creation=(0, 1)):
    """Three populations of 3 and two same-shaped delayed connections
    (``wiring``: population positions), made in ``creation`` order."""
    network = Network(default_params)
    with network:
        pops = [Population(SpikeInput(max_spikes=10), 3)] + [
            Population(LeakyIntegrate(readout="avg_var"), 3)
            for _ in range(2)]
        conns = [None, None]
        for i in creation:
            src, trg = wiring[i]
            conns[i] = Connection(pops[src], pops[trg],
                                  Dense(np.full((3, 3), w[i])),
                                  Exponential(5.0), name=names[i],
                                  delay=Learnable(3.0 * w[i], 15))
    return network, conns


def test_an_older_checkpoint_pairs_by_the_manifest_too(tmp_path):
    # The manifest is the latest checkpoint's; the connections it names
    # are every checkpoint's (file names sort the other way round here)
    network, _ = two_layers(names=("z_in_hid", "a_hid_out"))
    save_model(network, tmp_path, checkpoint=0)
    save_model(network, tmp_path, checkpoint=1)
    fresh, (ab, bc) = two_layers(w=(0.0, 0.0), creation=(1, 0))
    load_model(fresh, tmp_path, checkpoint=0)
    np.testing.assert_array_equal(ab.connectivity.weight, 1.0)
    np.testing.assert_array_equal(bc.connectivity.weight, 2.0)


def test_names_given_pair_first_then_the_rest_by_position(tmp_path):
    network, _ = two_layers(names=("x", "y"), wiring=((0, 1), (0, 1)))
    save_model(network, tmp_path, checkpoint=0)
    fresh, (q, x) = two_layers(names=("q", "x"), wiring=((0, 1), (0, 1)),
                               w=(0.0, 0.0))
    load_model(fresh, tmp_path)
    np.testing.assert_array_equal(x.connectivity.weight, 1.0)
    np.testing.assert_array_equal(q.connectivity.weight, 2.0)


def test_other_wiring_of_the_same_shapes_is_refused(tmp_path):
    network, _ = two_layers()
    save_model(network, tmp_path, checkpoint=0)
    fresh, conns = two_layers(wiring=((0, 1), (0, 2)), w=(0.0, 0.0))
    with pytest.raises(ModelFileError, match=r"join populations at "
                       r"positions \(source, target\) \[\(0, 1\), \(1, 2\)\] "
                       r"but the network's join \[\(0, 1\), \(0, 2\)\]"):
        load_model(fresh, tmp_path)
    for conn in conns:
        np.testing.assert_array_equal(conn.connectivity.weight, 0.0)


def test_connections_sharing_a_name_are_not_saved(tmp_path):
    # mlGeNN's default name: two connections between one pair
    network, _ = two_layers(wiring=((0, 1), (0, 1)))
    with pytest.raises(ValueError, match="share the names .*give each its "
                                         "own name=.*nothing was saved"):
        save_model(network, tmp_path / "m", checkpoint=0)
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize("stray, match", [
    ("da", r"delay files of several kinds .*-d.npy.*-da.npy.*remove the "
           r"stray ones"),
    ("tau_mem", r"holds \['0-.*-tau_mem.npy'\] for connection .* files a "
                r"connection does not have")])
def test_stray_files_of_a_connection_are_refused(tmp_path, stray, match):
    network, (ab, _) = two_layers(names=("ab", "bc"))
    save_model(network, tmp_path, checkpoint=0)
    np.save(tmp_path / f"0-ab-{stray}.npy", np.zeros(3, np.float32))
    with pytest.raises(ModelFileError, match=match):
        load_model(two_layers(names=("ab", "bc"))[0], tmp_path)


def _one_connection(name, delay=None, max_delay_steps=None):
    network = Network(default_params)
    with network:
        a = Population(SpikeInput(max_spikes=4), 2)
        b = Population(LeakyIntegrate(tau_mem=10.0, readout="max_var"), 2)
        if delay is None:       # mlGeNN's own per-synapse delays
            conn = Connection(a, b, Dense(np.ones((2, 2)), np.full((2, 2),
                                                                   2.0)),
                              Exponential(5.0), name=name,
                              max_delay_steps=max_delay_steps)
        else:
            conn = Connection(a, b, Dense(np.ones((2, 2))), Exponential(5.0),
                              name=name, delay=delay)
    return network, conn


def test_a_checkpoint_saved_again_after_a_rename_loads(tmp_path):
    # The first save's files of checkpoint "final" would have matched no
    # connection of the second network
    delay = Learnable(np.full((2, 2), 3.0), max_delay_steps=15)
    save_model(_one_connection("old_name", delay)[0], tmp_path, "final")
    save_model(_one_connection("old_name", delay)[0], tmp_path, "1")
    network, _ = _one_connection("new_name", delay)
    save_model(network, tmp_path, "final")
    assert sorted(os.listdir(tmp_path)) == [
        "1-old_name-d.npy", "1-old_name-g.npy", "final-new_name-d.npy",
        "final-new_name-g.npy", "manifest.json"]
    assert load_model(_one_connection("new_name", delay)[0], tmp_path) == {
        "new_name": ["final-new_name-g.npy", "final-new_name-d.npy"]}


def test_mlgenns_own_delays_load_back_into_a_network(tmp_path):
    # mlGeNN's delay path (Dense(w, d), delay_learn_conns) trained by our
    # compiler saves -d.npy; a fresh network of the same kind takes it
    # into its Dense, as mlGeNN's Network.load does (it was refused as
    # "no learnable delays")
    net = TinyNet("legacy", recurrent=True)
    x = random_spikes(4, 5, 20, 0.3, seed=1)
    compiled = net.compile(20, "legacy_io", delay_optimiser=Adam(1.0))
    with compiled:
        compiled.train({net.inp: x}, {net.out: np.array([0, 1, 2, 0])},
                       num_epochs=1)
        trained = [pull(compiled, c, "d") for c in net.conns()]
        save_model(compiled, tmp_path, "final")
    assert not np.allclose(trained[0], net.d_in.ravel(), atol=1e-3)
    fresh = TinyNet("legacy", recurrent=True)
    load_model(fresh.network, tmp_path)
    for conn, delays in zip(fresh.conns(), trained):
        assert np.allclose(np.ravel(conn.connectivity.delay), delays)
    # The manifest says they were saved: a lost file is not left unsaid
    (tmp_path / f"final-{net.c_in.name}-d.npy").unlink()
    with pytest.raises(ModelFileError, match=f"Missing final-"
                       f"{net.c_in.name}-d.npy for connection"):
        load_model(TinyNet("legacy", recurrent=True).network, tmp_path)


def test_mlgenns_delays_without_max_delay_steps_are_named(tmp_path):
    # Dense(w, d) without max_delay_steps has fixed delays in mlGeNN: a
    # model with learned ones is refused (naming max_delay_steps=), also
    # when its delay file is lost (the manifest says it had one)
    delay = Learnable(np.full((2, 2), 3.0), max_delay_steps=15)
    save_model(_one_connection("c", delay)[0], tmp_path, "final")
    for lost in (False, True):
        if lost:
            (tmp_path / "final-c-d.npy").unlink()
        with pytest.raises(ModelFileError, match=r"has synaptic delays for "
                           r"it .*or, for mlGeNN's own Dense\(w, d\) "
                           r"delays, max_delay_steps="):
            load_model(_one_connection("c")[0], tmp_path)
    # With it, the lost file is missed by name
    with pytest.raises(ModelFileError, match="Missing final-c-d.npy"):
        load_model(_one_connection("c", max_delay_steps=15)[0], tmp_path)
