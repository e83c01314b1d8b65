"""Model files of connections whose synapses are known before the model is
built (OneToOne, or listed by hand with pre_ind/post_ind): the network and
its compiled network write the same files, and files load into either."""
import numpy as np
import pytest
from ml_genn import Network, Population
from ml_genn.compilers.event_prop_compiler import default_params
from ml_genn.connectivity import FixedProbability, OneToOne
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
    with pytest.raises(ModelFileError, match="listed by hand"):
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
