"""AdaptiveLeakyIntegrateFire under EventProp: GeNN's gradients of weights,
delays and every learnable neuron parameter equal the NumPy reference of
the discrete pass (reference.Adaptive)."""
import numpy as np
import pytest
from ml_genn.callbacks import SpikeRecorder
from ml_genn.initializers import Normal, Uniform

import reference
from networks import GradientProbe, TinyNet, random_spikes
from ml_genn_delays import SGD, AdaptiveLeakyIntegrateFire, LearnableParam

TIMESTEPS = 60
LABELS = np.array([1, 2])
PARAMS = ("TauMem", "TauAdapt", "AdaptA", "AdaptB")
# Per hidden neuron, different in every neuron to catch index mix-ups
VALUES = {"tau_mem": [15.0, 20.0, 25.0, 12.0],
          "tau_adapt": [50.0, 100.0, 150.0, 200.0],
          "a": [0.2, 0.5, -0.3, 1.0], "b": [0.1, 0.3, 0.5, 0.2]}


def rel_err(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


def adaptive_net(recurrent, learn=True):
    values = {k: np.array(v) for k, v in VALUES.items()}
    bounds = {"tau_mem": (3.0, 50.0), "tau_adapt": (10.0, 500.0),
              "a": (-2.0, 2.0), "b": (0.0, 2.0)}
    neuron = AdaptiveLeakyIntegrateFire(**{
        k: LearnableParam(v, *bounds[k]) if learn else v
        for k, v in values.items()})
    return TinyNet("ours", recurrent=recurrent, hidden=neuron, seed=4), values


def reference_errors(recurrent, name, values=VALUES, timesteps=TIMESTEPS,
                     dt=1.0, batch=1):
    """Relative errors of GeNN's gradients (SGD(0): nothing moves) of
    example ``batch`` - 1 (complete at the end of example ``batch``)
    against reference.backward from a zero state: ``{name: error}`` for
    each connection's weights ("w0", ...) and delays ("d0", ...) and each
    parameter, and the reference gradients (per connection, parameters).
    Asserts first that the hidden spikes are the reference's."""
    bounds = {"tau_mem": (3.0, 50.0), "tau_adapt": (5.0, 500.0),
              "a": (-2.0, 2.0), "b": (0.0, 2.0)}
    values = {k: np.array(v, dtype=float) for k, v in values.items()}
    neuron = AdaptiveLeakyIntegrateFire(**{
        k: LearnableParam(v, *bounds[k]) for k, v in values.items()})
    net = TinyNet("ours", recurrent=recurrent, hidden=neuron, seed=4)
    x = random_spikes(batch + 1, 5, int(round(timesteps * dt)), 0.25,
                      seed=3)
    labels = np.array([1, 2, 0][:batch + 1])
    conn_vars = ("g", "d", "Gradient", "DelayGradient")
    probe = GradientProbe([(c, v) for c in net.conns() for v in conn_vars]
                          + [(net.hid, f"{p}Gradient") for p in PARAMS],
                          timesteps, batch=batch)
    compiled = net.compile(timesteps, name, dt=dt, optimiser=SGD(0.0),
                           delay_optimiser=SGD(0.0), param_optimiser=SGD(0.0))
    with compiled:
        _, data = compiled.train({net.inp: x}, {net.out: labels},
                                 num_epochs=1, shuffle=False,
                                 callbacks=[probe,
                                            SpikeRecorder(net.hid, key="hid")])
    got = iter(data["gradients"])
    per_conn = [dict(zip(conn_vars, (next(got) for _ in conn_vars)))
                for _ in net.conns()]
    param_grads = {p: next(got) for p in PARAMS}
    example = batch - 1
    times, ids = data["hid"][0][example], data["hid"][1][example]
    hidden = np.zeros((timesteps, 4), dtype=bool)
    hidden[np.round(np.asarray(times) / dt).astype(int), ids] = True

    layers = [("in", "hid", net.w_in)]
    if recurrent:
        layers.append(("hid", "hid", net.w_rec))
    layers.append(("hid", "out", net.w_out))
    conns = [reference.Conn(pre, post, c["g"].reshape(w.shape),
                            c["d"].reshape(w.shape))
             for (pre, post, w), c in zip(layers, per_conn)]
    adaptive = reference.Adaptive(values["tau_mem"], values["tau_adapt"],
                                  values["a"], values["b"])
    params = reference.Params(timesteps=timesteps, dt=dt,
                              max_delay=net.max_delay)
    raster = reference.spike_raster(x[example].end_spikes,
                                    x[example].spike_times, timesteps, dt=dt)
    fwd = reference.forward(raster, conns, 4, 3, labels[example], params,
                            adaptive)
    ref, ref_params = reference.backward(fwd, conns, labels[example], params,
                                         adaptive)
    # Same forward pass, with enough hidden spikes to test anything
    assert hidden.sum() >= 8
    np.testing.assert_array_equal(hidden, fwd.spikes["hid"])
    errors = {}
    for i, (c, (grad_w, grad_d)) in enumerate(zip(per_conn, ref)):
        errors[f"w{i}"] = rel_err(c["Gradient"], grad_w.ravel())
        errors[f"d{i}"] = rel_err(c["DelayGradient"], grad_d.ravel())
    for p in PARAMS:
        errors[p] = rel_err(param_grads[p], ref_params[p])
    return errors, ref, ref_params


@pytest.mark.parametrize("recurrent", [False, True], ids=["ff", "rec"])
def test_gradients_equal_numpy_reference(recurrent):
    errors, ref, ref_params = reference_errors(recurrent,
                                               f"adlif_ref_{recurrent}")
    for grad_w, grad_d in ref:
        assert np.count_nonzero(grad_w) > grad_w.size // 2
        assert np.count_nonzero(grad_d) > grad_d.size // 2
    for p in PARAMS:
        # (a neuron whose only spike is its last has none: 3 of 4)
        assert np.count_nonzero(ref_params[p]) >= 3, p
    # (max would pass a NaN that is not first)
    assert all(e <= 1e-4 for e in errors.values()), errors


@pytest.mark.parametrize("case, kwargs", [
    # tau_mem at tau_syn (5 ms: the limit formula) and just off it (the
    # exact formula, close to its singularity); a 20% tolerance elsewhere
    # let a wrong limit pass
    ("near_tau_syn", {"values": dict(VALUES, tau_mem=[5.0, 5.3, 4.8,
                                                      12.0])}),
    # dt 0.5: where the synapse's tau follows from beta = exp(-dt/tau)
    ("dt_half", {"timesteps": 120, "dt": 0.5}),
    # The second example: adjoints and sensitivities reset in between
    ("second_example", {"batch": 2}),
], ids=lambda v: v if isinstance(v, str) else "")
def test_gradients_equal_numpy_reference_at_the_edges(case, kwargs):
    # (mutation review: each case catches a change no other test did)
    errors, _, _ = reference_errors(True, f"adlif_edge_{case}", **kwargs)
    # (max would pass a NaN that is not first)
    assert all(e <= 1e-4 for e in errors.values()), errors


def test_parameter_gradients_match_finite_differences():
    """EventProp's parameter gradients against central differences of the
    loss at a fine step (0.005 ms, 30 ms): they approach the continuous
    gradient. Short adaptation time constants so that w matters within
    the trial; FD steps large enough to move spikes by several steps."""
    from test_finite_differences import cosine, loss
    dt, trial_ms = 0.005, 30.0
    specs = {"TauMem": ("tau_mem", [8.0, 10.0, 12.0, 9.0], (3.0, 50.0), 0.2),
             "TauAdapt": ("tau_adapt", [10.0, 20.0, 15.0, 25.0],
                          (5.0, 500.0), 2.0),
             "AdaptA": ("a", [0.2, 0.5, -0.3, 1.0], (-2.0, 2.0), 0.1),
             "AdaptB": ("b", [0.1, 0.3, 0.5, 0.2], (0.0, 2.0), 0.02)}
    neuron = AdaptiveLeakyIntegrateFire(**{
        name: LearnableParam(np.array(init), *bounds)
        for name, init, bounds, _ in specs.values()})
    net = TinyNet("ours", max_delay=int(4 / dt), seed=2, hidden=neuron)
    timesteps = int(trial_ms / dt)
    x = random_spikes(1, 5, int(trial_ms), 0.3, seed=7)
    probe = GradientProbe([(net.hid, f"{p}Gradient") for p in specs],
                          timesteps)
    compiled = net.compile(timesteps, "fd_adlif", dt=dt)
    with compiled:
        _, data = compiled.train({net.inp: x * 2}, {net.out: [1] * 2},
                                 num_epochs=1, shuffle=False,
                                 callbacks=[probe])
        for param, grad in zip(specs, data["gradients"]):
            step = specs[param][3]
            genn_var = compiled.neuron_populations[net.hid].vars[param]
            genn_var.pull_from_device()
            values = genn_var.values.copy()
            fd = []
            for i in range(values.size):
                plus_minus = []
                for sign in (1, -1):
                    genn_var.values = values + sign * step * (
                        np.arange(values.size) == i)
                    genn_var.push_to_device()
                    plus_minus.append(loss(compiled, net, x, 1))
                fd.append((plus_minus[0] - plus_minus[1]) / (2 * step))
            genn_var.values = values
            genn_var.push_to_device()
            fd = np.array(fd)
            assert np.count_nonzero(fd) == fd.size, param
            assert cosine(grad, fd) >= 0.95, param
            # mlGeNN's gradients (weights included) are dL/dp divided by
            # the output neurons' tau_mem (20 ms); ours follow suit
            ratio = np.linalg.norm(20.0 * grad) / np.linalg.norm(fd)
            assert 0.8 <= ratio <= 1.25, (param, ratio)


def train_long_gap_order(learn, seed=0, epochs=20):
    """Sequence detection with a 200 +- 10 ms gap (no delays): 10 membrane
    time constants after the first spike, only a memory of it tells the
    orders apart (max_var readout). Hidden AdLIF neurons start as LIF
    neurons (a = b = 0); returns test accuracy and the final b values."""
    from ml_genn import Network, Population
    from ml_genn.compilers.event_prop_compiler import default_params
    from ml_genn.connectivity import Dense
    from ml_genn.neurons import LeakyIntegrate, SpikeInput
    from ml_genn.optimisers import Adam
    from ml_genn.synapses import Exponential
    from ml_genn_delays import Connection, EventPropCompiler, evaluate
    from ml_genn_delays.datasets import sequence_detection

    x, y = sequence_detection(16, gap=200.0, jitter=10.0, seed=seed)
    x_test, y_test = sequence_detection(16, gap=200.0, jitter=10.0,
                                        seed=1000 + seed)
    rng = np.random.default_rng(seed)
    param = ((lambda v, low, high: LearnableParam(v, low, high)) if learn
             else (lambda v, low, high: v))
    network = Network(default_params)
    with network:
        inp = Population(SpikeInput(max_spikes=4), 2)
        hid = Population(AdaptiveLeakyIntegrateFire(
            tau_mem=param(20.0, 3.0, 100.0),
            tau_adapt=param(200.0, 20.0, 1000.0),
            a=param(0.0, -0.5, 5.0), b=param(0.0, 0.0, 2.0)), 32)
        out = Population(LeakyIntegrate(tau_mem=20.0, readout="max_var"), 2)
        Connection(inp, hid, Dense(rng.normal(8.0, 4.0, (2, 32))),
                   Exponential(5.0))
        Connection(hid, out, Dense(rng.normal(0.0, 1.0, (32, 2))),
                   Exponential(5.0))
    compiler = EventPropCompiler(500, "sparse_categorical_crossentropy",
                                 optimiser=Adam(0.01),
                                 param_optimiser=Adam(0.02), max_spikes=100,
                                 batch_size=4)
    compiled = compiler.compile(network, name=f"long_gap_{learn}_{seed}")
    with compiled:
        compiled.train({inp: x}, {out: y}, num_epochs=epochs,
                       shuffle=False, callbacks=[])
        metrics, _ = evaluate(compiled, {inp: x_test}, {out: y_test})
        b = compiled.neuron_populations[hid].vars["AdaptB"]
        b.pull_from_device()
        return metrics[out].result, b.values.copy()


def test_learned_adaptation_solves_long_gap_order():
    # Without adaptation (a = b = 0 fixed: LIF dynamics) the two orders
    # give the same responses 200 ms apart: chance
    accuracy, b = train_long_gap_order(learn=False)
    assert accuracy <= 0.6 and np.all(b == 0.0)
    # Learning a, b and the time constants discovers adaptation
    accuracy, b = train_long_gap_order(learn=True)
    assert accuracy >= 0.9
    assert np.abs(b).max() > 0.05


def test_without_adaptation_it_is_mlgenns_lif():
    """AdLIF with a = b = 0 has the same spikes and weight and delay
    gradients as mlGeNN's LIF neuron (the adjoint reduces to mlGeNN's)."""
    x = random_spikes(2, 5, TIMESTEPS, 0.25, seed=3)
    results = []
    for hidden in (None, AdaptiveLeakyIntegrateFire(a=0.0, b=0.0)):
        net = TinyNet("ours", recurrent=True, hidden=hidden, seed=4)
        probe = GradientProbe([(c, v) for c in net.conns()
                               for v in ("Gradient", "DelayGradient")],
                              TIMESTEPS)
        compiled = net.compile(TIMESTEPS, f"adlif_is_lif_{hidden is None}")
        with compiled:
            _, data = compiled.train({net.inp: x}, {net.out: LABELS},
                                     num_epochs=1, shuffle=False,
                                     callbacks=[probe])
        results.append(data["gradients"])
    for lif, adlif in zip(*results):
        assert np.count_nonzero(lif) > lif.size // 2
        np.testing.assert_allclose(adlif, lif, rtol=1e-5, atol=1e-9)


def test_learned_parameters_stay_within_bounds():
    from ml_genn_delays import SGD
    net, _ = adaptive_net(recurrent=False)
    x = random_spikes(4, 5, TIMESTEPS, 0.25, seed=3)
    compiled = net.compile(TIMESTEPS, "adlif_clamp",
                           param_optimiser=SGD(1e6))
    with compiled:
        compiled.train({net.inp: x}, {net.out: np.array([0, 1, 2, 0])},
                       num_epochs=2, shuffle=False, callbacks=[])
        compiled.neuron_populations[net.hid].vars["TauMem"].pull_from_device()
        tau = compiled.neuron_populations[net.hid].vars["TauMem"].values
    # Huge steps: every learned value that moved sits on a bound
    assert np.all((tau >= 3.0) & (tau <= 50.0))
    assert np.any((tau == 3.0) | (tau == 50.0))


@pytest.mark.parametrize("args, message", [
    (dict(init=5.0, low=10.0, high=1.0), "low .* must be below high"),
    (dict(init=60.0, low=3.0, high=50.0), r"init must lie in \[low, high\]"),
    (dict(init=[5.0, np.nan], low=3.0, high=50.0), "NaN"),
    (dict(init=5.0, low=float("nan"), high=50.0), "finite number"),
    (dict(init=Uniform(0.0, 100.0), low=3.0, high=50.0),
     r"Uniform\(0.0, 100.0\) must lie in"),
    (dict(init=Normal(20.0, 5.0), low=3.0, high=50.0), "Normal")])
def test_bad_learnable_params_are_refused(args, message):
    with pytest.raises(ValueError, match=message):
        LearnableParam(**args)


def test_time_constants_must_stay_positive():
    with pytest.raises(ValueError, match="tau_adapt must stay positive"):
        AdaptiveLeakyIntegrateFire(tau_adapt=LearnableParam(10.0, 0.0, 50.0))


@pytest.mark.parametrize("args, message", [
    (dict(tau_mem=0.0), "tau_mem must be positive"),
    (dict(tau_mem=-5.0), "tau_mem must be positive"),
    (dict(tau_adapt=np.array([10.0, 0.0])), "tau_adapt must be positive"),
    (dict(tau_adapt=float("nan")), "tau_adapt contains NaN"),
    (dict(a=np.inf), "a contains NaN or inf"),
    (dict(v_thresh=float("nan")), "v_thresh contains NaN"),
    (dict(tau_mem=Uniform(0.0, 5.0)), r"Uniform\(0.0, 5.0\) can draw 0")])
def test_bad_fixed_values_are_refused(args, message):
    # exp(-dt / 0) trained the whole network to NaN without a word
    with pytest.raises(ValueError, match=message):
        AdaptiveLeakyIntegrateFire(**args)


def test_adaptive_output_neurons_are_refused():
    from ml_genn import Network, Population
    from ml_genn.compilers.event_prop_compiler import default_params
    from ml_genn.connectivity import Dense
    from ml_genn.neurons import SpikeInput
    from ml_genn.synapses import Exponential
    from ml_genn_delays import Connection, EventPropCompiler
    network = Network(default_params)
    with network:
        inp = Population(SpikeInput(max_spikes=10), 2)
        out = Population(AdaptiveLeakyIntegrateFire(readout="spike_count"),
                         2)
        Connection(inp, out, Dense(1.0), Exponential(5.0))
    compiler = EventPropCompiler(10, "sparse_categorical_crossentropy")
    with pytest.raises(NotImplementedError, match="hidden neurons only"):
        compiler.compile(network, name="adlif_out")


def test_membrane_time_constant_may_equal_the_synaptic_one():
    """tau_mem = tau_syn (5 ms) makes mlGeNN's LambdaI coupling 0/0; the
    limit is used there and the gradients stay finite and continuous."""
    results = []
    for tau in (5.0, 5.0001, 5.1):
        net = TinyNet("ours", seed=4, hidden=AdaptiveLeakyIntegrateFire(
            tau_mem=LearnableParam(tau, 3.0, 50.0), a=0.3, b=0.2))
        x = random_spikes(2, 5, TIMESTEPS, 0.25, seed=3)
        probe = GradientProbe([(net.c_in, "Gradient"),
                               (net.hid, "TauMemGradient")], TIMESTEPS)
        compiled = net.compile(TIMESTEPS, f"adlif_tau_{tau}")
        with compiled:
            _, data = compiled.train({net.inp: x}, {net.out: LABELS},
                                     num_epochs=1, shuffle=False,
                                     callbacks=[probe])
        results.append(np.concatenate(data["gradients"]))
    assert np.all(np.isfinite(results[0])) and np.any(results[0] != 0.0)
    assert rel_err(results[0], results[1]) < 1e-2
    assert rel_err(results[0], results[2]) < 0.2


def test_a_parameter_may_bring_its_own_optimiser():
    # Adam moves a value by about its rate a step: a 150 ms tau_adapt and
    # a factor near 1 want different rates. The shared optimiser here
    # learns nothing (SGD(0)); tau_adapt's own does
    from ml_genn.optimisers import Adam
    from ml_genn_delays import get_params
    own = Adam(0.5)
    neuron = AdaptiveLeakyIntegrateFire(
        tau_adapt=LearnableParam(150.0, 5.0, 500.0, optimiser=own),
        a=LearnableParam(0.5, -2.0, 2.0), b=LearnableParam(0.5, 0.0, 2.0))
    net = TinyNet("ours", hidden=neuron, seed=4)
    x = random_spikes(4, 5, TIMESTEPS, 0.25, seed=3)
    compiled = net.compile(TIMESTEPS, "adlif_own_optimiser",
                           param_optimiser=SGD(0.0))
    with compiled:
        compiled.train({net.inp: x}, {net.out: np.array([0, 1, 2, 0])},
                       num_epochs=2, shuffle=False, callbacks=[])
        learned = get_params(compiled, net.hid)
    # Its own entry, a copy (as mlGeNN copies the optimisers given)
    alphas = [o.alpha for o, _ in compiled.optimisers]
    assert alphas.count(0.5) == 1 and own not in [
        o for o, _ in compiled.optimisers]
    assert np.all(learned["a"] == 0.5) and np.all(learned["b"] == 0.5)
    assert np.abs(learned["tau_adapt"] - 150.0).max() > 0.4


@pytest.mark.parametrize("optimiser, error, message", [
    ("adam", TypeError, "optimiser must be an mlGeNN Optimiser"),
    (SGD(-1.0), ValueError, r"LearnableParam optimiser of .*'s TauAdapt: "
                            r"SGD has alpha=-1.0"),
    (SGD(float("nan")), ValueError, "alpha=nan; give a finite number")])
def test_a_bad_parameter_optimiser_is_refused(optimiser, error, message):
    with pytest.raises(error, match=message):
        net = TinyNet("ours", seed=4, hidden=AdaptiveLeakyIntegrateFire(
            tau_adapt=LearnableParam(150.0, 5.0, 500.0,
                                     optimiser=optimiser)))
        net.compile(TIMESTEPS, "adlif_bad_optimiser")
