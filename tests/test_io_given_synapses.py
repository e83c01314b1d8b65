"""Model files of connections whose synapses are known before the model is
built (OneToOne, or listed by hand with pre_ind/post_ind): the network and
its compiled network write the same files, and files load into either."""
import numpy as np
import pytest
from ml_genn import Network, Population
from ml_genn.compilers.event_prop_compiler import default_params
from ml_genn.connectivity import Dense, FixedProbability, OneToOne
from ml_genn.neurons import LeakyIntegrate, LeakyIntegrateFire, SpikeInput
from ml_genn.synapses import Exponential

from ml_genn_delays import (Connection, EventPropCompiler, Learnable,
                            ModelFileError, load_model, save_model)

T = 20
# Listed out of GeNN's order (by pre, then post): GeNN stores synapse k of
# the list at position ORDER.index(k)
PRE, POST = [2, 0, 1, 1], [0, 1, 1, 0]
GENN_ORDER = [1, 3, 2, 0]   # (0,1), (1,0), (1,1), (2,0)


def network(weights, delays, pre=PRE, post=POST):
    net = Network(default_params)
    with net:
        inp = Population(SpikeInput(max_spikes=10), 3, name="inp")
        hid = Population(LeakyIntegrateFire(tau_refrac=None), 3, name="hid")
        out = Population(LeakyIntegrate(readout="sum_var"), 2, name="out")
        one = Connection(inp, hid, OneToOne(0.5), Exponential(5.0),
                         name="one", delay=Learnable(2.0, 10))
        listed = FixedProbability(0.5, np.array(weights))
        listed.pre_ind, listed.post_ind = np.array(pre), np.array(post)
        listed = Connection(hid, out, listed, Exponential(5.0),
                            name="listed",
                            delay=Learnable(np.array(delays), 10))
    return net, one, listed


def compile_(net, name):
    return EventPropCompiler(T, "sparse_categorical_crossentropy").compile(
        net, name=name)


def files(directory):
    return {p.name: np.load(p) for p in directory.glob("*.npy")}


W, D = [0.1, 0.2, 0.3, 0.4], [1.0, 2.0, 3.0, 4.0]


def test_network_and_compiled_network_write_the_same_files(tmp_path,
                                                          monkeypatch):
    net, one, listed = network(W, D)
    save_model(net, tmp_path / "net", 0)
    compiled = compile_(net, "given_save")
    with compiled:
        save_model(compiled, tmp_path / "compiled", 0)
        # Each sparse connection's synapses come from the device once per
        # save (weights, delays and fingerprint all read through them)
        group = type(compiled.connection_populations[one])
        pulls = []
        original = group.pull_connectivity_from_device
        monkeypatch.setattr(group, "pull_connectivity_from_device",
                            lambda self: pulls.append(self.name)
                            or original(self))
        save_model(compiled, tmp_path / "again", 0)
        assert sorted(pulls) == sorted(
            compiled.connection_populations[c].name for c in (one, listed))
    assert files(tmp_path / "again").keys() == files(tmp_path / "net").keys()
    ours, genn = files(tmp_path / "net"), files(tmp_path / "compiled")
    assert sorted(ours) == sorted(genn)
    for name in ours:
        np.testing.assert_array_equal(ours[name], genn[name], err_msg=name)
    # One value per synapse (OneToOne: 3, not 3 x 3), in GeNN's order
    np.testing.assert_array_equal(ours["0-one-g.npy"], [0.5] * 3)
    np.testing.assert_array_equal(ours["0-listed-g.npy"],
                                  np.float32(W)[GENN_ORDER])
    np.testing.assert_array_equal(ours["0-listed-d.npy"],
                                  np.float32(D)[GENN_ORDER])


def test_files_load_into_a_fresh_network_in_its_own_order(tmp_path):
    net, _, _ = network(W, D)
    compiled = compile_(net, "given_trained")
    with compiled:
        save_model(compiled, tmp_path / "saved", 0)
    fresh, one, listed = network([9.0] * 4, [0.0] * 4)
    load_model(fresh, tmp_path / "saved")
    # Back in the order the connection lists its synapses
    np.testing.assert_array_equal(listed.connectivity.weight, np.float32(W))
    np.testing.assert_array_equal(listed.connectivity.delay, np.float32(D))
    np.testing.assert_array_equal(one.connectivity.weight, [0.5] * 3)
    compiled = compile_(fresh, "given_loaded")
    with compiled:
        save_model(compiled, tmp_path / "again", 0)
    saved, again = files(tmp_path / "saved"), files(tmp_path / "again")
    for name in saved:
        np.testing.assert_array_equal(saved[name], again[name],
                                      err_msg=name)


def test_other_listed_synapses_refused(tmp_path):
    net, _, _ = network(W, D)
    save_model(net, tmp_path, 0)
    other, _, listed = network([9.0] * 4, [0.0] * 4, pre=[2, 0, 1, 2])
    with pytest.raises(ModelFileError, match="other synapses.*lists its synapses by hand"):
        load_model(other, tmp_path)
    np.testing.assert_array_equal(listed.connectivity.weight, [9.0] * 4)


def test_drawn_synapses_need_the_compiled_network(tmp_path):
    net = Network(default_params)
    with net:
        a = Population(SpikeInput(max_spikes=10), 3)
        b = Population(LeakyIntegrate(readout="sum_var"), 2)
        Connection(a, b, FixedProbability(0.5, 1.0), Exponential(5.0),
                   name="drawn")
    with pytest.raises(ValueError, match="draws its synapses.*compiled"):
        save_model(net, tmp_path / "m", 0)
    assert not (tmp_path / "m").exists()


def test_kernel_connectivity_needs_the_compiled_network(tmp_path):
    from ml_genn.connectivity import Conv2D
    net = Network(default_params)
    with net:
        a = Population(SpikeInput(max_spikes=10), (4, 4, 1))
        b = Population(LeakyIntegrate(readout="sum_var"), (2, 2, 2))
        Connection(a, b, Conv2D(1.0, 2, 3), Exponential(5.0), name="conv")
    with pytest.raises(ValueError, match="Conv2D has no value per pair"):
        save_model(net, tmp_path / "m", 0)
    assert not (tmp_path / "m").exists()


def two_pops(n_pre, n_post, connectivity):
    net = Network(default_params)
    with net:
        a = Population(SpikeInput(max_spikes=5), n_pre)
        b = Population(LeakyIntegrate(readout="sum_var"), n_post)
        conn = Connection(a, b, connectivity, Exponential(5.0), name="c",
                          delay=Learnable(1.0, 10))
    return net, conn


def listing(weight, pre, post):
    connectivity = FixedProbability(0.5, weight)
    connectivity.pre_ind, connectivity.post_ind = pre, post
    return connectivity


@pytest.mark.parametrize("saved, loaded, match", [
    # Same count (4 values), other synapses
    (lambda: Dense(np.arange(4.0).reshape(2, 2)),
     lambda: listing(0.0, np.array([1, 0, 1, 0]), np.array([0, 1, 1, 0])),
     "saved from Dense synapses"),
    (lambda: listing(1.0, np.array([1, 0, 1, 0]), np.array([0, 1, 1, 0])),
     lambda: Dense(np.zeros((2, 2))),
     "saved from sparse synapses, this connection is Dense")])
def test_dense_and_sparse_models_do_not_mix(tmp_path, saved, loaded, match):
    save_model(two_pops(2, 2, saved())[0], tmp_path, 0)
    net, conn = two_pops(2, 2, loaded())
    before = np.copy(conn.connectivity.weight)
    with pytest.raises(ModelFileError, match=match):
        load_model(net, tmp_path)
    np.testing.assert_array_equal(conn.connectivity.weight, before)


def test_model_of_another_shape_refused(tmp_path):
    # 2 x 3 and 3 x 2 Dense weights have the same count
    save_model(two_pops(2, 3, Dense(np.ones((2, 3))))[0], tmp_path, 0)
    net, _ = two_pops(3, 2, Dense(np.zeros((3, 2))))
    with pytest.raises(ModelFileError, match="holds a 2 x 3 connection.*"
                                             "this one is 3 x 2"):
        load_model(net, tmp_path)


@pytest.mark.parametrize("connectivity, match", [
    (lambda: listing(np.arange(5.0), np.arange(6) % 3, np.arange(6) % 2),
     "5 weight values given for 6 synapses"),
    (lambda: listing(np.arange(7.0), np.arange(6) % 3, np.arange(6) % 2),
     "7 weight values given for 6 synapses"),
    (lambda: listing(1.0, np.array([0, 1]), None),
     "one post_ind per pre_ind"),
    (lambda: listing(1.0, np.array([0, 7]), np.array([0, 1])),
     r"pre_ind must lie in \[0, 3\)")])
def test_bad_listing_refused_on_save(tmp_path, connectivity, match):
    net, _ = two_pops(3, 2, connectivity())
    with pytest.raises(ValueError, match=match):
        save_model(net, tmp_path / "m", 0)
    assert not (tmp_path / "m").exists()
