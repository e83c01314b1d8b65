"""Learned neuron parameters in model files and in the resume state."""
import os

import numpy as np
import pytest

from ml_genn_delays import (AdaptiveLeakyIntegrateFire, LearnableParam,
                            ModelFileError, get_params, load_model,
                            save_model)
from ml_genn_delays.resume import load_training_state, save_training_state
from networks import TinyNet, output_trace, pull, random_spikes

T = 40
X = random_spikes(3, 5, T, 0.3, seed=11)
Y = np.array([0, 1, 2])


def adaptive_net(tau_mem=None):
    return TinyNet("ours", recurrent=True, seed=4,
                   hidden=AdaptiveLeakyIntegrateFire(
                       tau_mem=tau_mem or LearnableParam(15.0, 3.0, 50.0),
                       tau_adapt=100.0, a=0.3,
                       b=LearnableParam(np.linspace(0.1, 0.4, 4), 0.0, 2.0)))


def hidden_values(compiled, net):
    return {v: pull(compiled, net.hid, v) for v in ("TauMem", "AdaptB")}


def outputs(compiled, net):
    return output_trace(compiled, net, X, Y)


@pytest.fixture
def trained(tmp_path):
    net = adaptive_net()
    compiled = net.compile(T, "adlif_trained", optimiser=None)
    with compiled:
        compiled.train({net.inp: X}, {net.out: Y}, num_epochs=2,
                       callbacks=[])
        values = hidden_values(compiled, net)
        # The public reader: Python names, the learned values
        params = get_params(compiled, net.hid)
        assert params.keys() == {"tau_mem", "b"}
        np.testing.assert_array_equal(params["tau_mem"], values["TauMem"])
        np.testing.assert_array_equal(params["b"], values["AdaptB"])
        with pytest.raises(ValueError, match="learns no neuron parameters"):
            get_params(compiled, net.out)
        with pytest.raises(ValueError, match="not in this compiled network"):
            get_params(compiled, adaptive_net().hid)
        written = save_model(compiled, tmp_path / "model", checkpoint=2)
        v = outputs(compiled, net)
    return net, values, written, v, tmp_path / "model"


def test_learned_parameters_are_saved_per_population(trained):
    net, values, written, _, folder = trained
    names = {os.path.basename(w) for w in written}
    assert {f"2-{net.hid.name}-tau_mem.npy",
            f"2-{net.hid.name}-b.npy"} <= names
    # Learning moved them, and the files hold the learned values
    assert not np.allclose(values["TauMem"], 15.0)
    np.testing.assert_array_equal(
        np.load(folder / f"2-{net.hid.name}-b.npy"), values["AdaptB"])


@pytest.mark.parametrize("when", ["before", "after"])
def test_reloaded_model_computes_the_same(trained, when):
    _, values, _, v, folder = trained
    # A second network in this process: other population names
    net = adaptive_net()
    if when == "before":
        load_model(net.network, folder)
    compiled = net.compile(T, f"adlif_reload_{when}")
    with compiled:
        if when == "after":
            load_model(compiled, folder)
        for name, expected in values.items():
            np.testing.assert_array_equal(pull(compiled, net.hid, name),
                                          expected)
        np.testing.assert_allclose(outputs(compiled, net), v, rtol=1e-6)


def test_missing_or_bad_parameter_files_change_nothing(trained):
    net0, _, _, _, folder = trained
    net = adaptive_net()
    before = net.hid.neuron.learnable_params["tau_mem"].init
    b_file = folder / f"2-{net0.hid.name}-b.npy"
    b = np.load(b_file)
    np.save(b_file, np.full_like(b, 3.0))       # above high = 2.0
    # Named once: "b of population X of population X" before
    with pytest.raises(ModelFileError, match=r"-b.npy: learned b of "
                       r"population \w+ must lie in \[0.0, 2.0\]"):
        load_model(net.network, folder)
    os.unlink(b_file)
    with pytest.raises(ModelFileError, match=r"Missing .*-b\.npy"):
        load_model(net.network, folder)
    assert net.hid.neuron.learnable_params["tau_mem"].init == before


def test_resume_state_holds_parameters(tmp_path):
    net = adaptive_net()
    compiled = net.compile(T, "adlif_resume")
    with compiled:
        compiled.train({net.inp: X}, {net.out: Y}, num_epochs=1,
                       callbacks=[])
        values = hidden_values(compiled, net)
        save_training_state(compiled, tmp_path, {"epoch": 0})
        compiled.train({net.inp: X}, {net.out: Y}, num_epochs=1,
                       callbacks=[])
        assert not np.array_equal(pull(compiled, net.hid, "TauMem"),
                                  values["TauMem"])
        load_training_state(compiled, tmp_path)
        for name, expected in values.items():
            np.testing.assert_array_equal(pull(compiled, net.hid, name),
                                          expected)


def test_values_drawn_at_build_are_named_when_saving(tmp_path):
    # A fixed parameter or fixed delay given as an initializer is drawn
    # by GeNN and not in the files: a reload drew other values silently
    from ml_genn.initializers import Uniform
    from ml_genn_delays import Fixed
    net = TinyNet("ours", recurrent=True, seed=4,
                  hidden=AdaptiveLeakyIntegrateFire(
                      tau_mem=LearnableParam(15.0, 3.0, 50.0),
                      a=Uniform(0.0, 0.5)))
    with pytest.warns(UserWarning, match=f"a of population "
                                         f"{net.hid.name} are drawn by "
                                         f"GeNN .*not saved"):
        save_model(net.network, tmp_path / "a", checkpoint=0)
    from ml_genn import Network, Population
    from ml_genn.compilers.event_prop_compiler import default_params
    from ml_genn.connectivity import Dense
    from ml_genn.neurons import LeakyIntegrate, SpikeInput
    from ml_genn.synapses import Exponential
    from ml_genn_delays import Connection
    network = Network(default_params)
    with network:
        inp = Population(SpikeInput(max_spikes=10), 2)
        out = Population(LeakyIntegrate(readout="avg_var"), 2)
        conn = Connection(inp, out, Dense(1.0), Exponential(5.0),
                          delay=Fixed(Uniform(0.0, 4.0)))
    with pytest.warns(UserWarning, match=f"the fixed delays of connection "
                                         f"{conn.name} are drawn"):
        save_model(network, tmp_path / "c", checkpoint=0)
    plain = adaptive_net()
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        save_model(plain.network, tmp_path / "b", checkpoint=0)


def test_per_neuron_arrays_must_fit_the_population():
    # pygenn failed at load with "could not broadcast ... (3,) into (4,)"
    for hidden in (AdaptiveLeakyIntegrateFire(a=np.array([0.1, 0.2, 0.3])),
                   AdaptiveLeakyIntegrateFire(tau_mem=LearnableParam(
                       np.array([10.0, 12.0, 14.0]), 3.0, 50.0))):
        net = TinyNet("ours", recurrent=True, seed=4, hidden=hidden)
        with pytest.raises(ValueError, match=r"3 values for 4 neurons"):
            net.compile(T, "adlif_size")


def test_readers_refuse_an_uncompiled_network():
    from ml_genn_delays import get_delays
    net = adaptive_net()
    for read, what in [(lambda: get_params(net.network, net.hid),
                        "get_params"),
                       (lambda: get_delays(net.network, net.c_in),
                        "Reading or setting delays")]:
        with pytest.raises(TypeError, match=f"{what} takes a compiled "
                                            f"network .*not a Network"):
            read()
