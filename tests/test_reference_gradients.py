"""GeNN's weight and delay gradients equal a pure-NumPy reference.

``reference.py`` replays the discrete forward and EventProp backward pass
that mlGeNN generates (with our learnable-delay weight update model), so
any change in what GeNN computes, e.g. at which step a delayed spike
arrives or which adjoint slot a back spike reads, shows up here.
"""
import numpy as np
import pytest
from ml_genn.callbacks import SpikeRecorder
from ml_genn.utils.data import preprocess_spikes

import reference
from networks import GradientProbe, TinyNet, random_spikes

TIMESTEPS = 50
LABELS = np.array([1, 2])


def rel_err(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


def inputs(edge):
    """Two examples of random input spikes. With ``edge``, example 0 also
    has a spike in the last step (input 0) and one in the step before
    (input 1), which reaches the last step through input 1's delay-0
    synapse (see :func:`network`)."""
    x = random_spikes(2, 5, TIMESTEPS, 0.2, seed=3)
    raster = reference.spike_raster(x[0].end_spikes, x[0].spike_times,
                                    TIMESTEPS)
    if edge:
        raster[TIMESTEPS - 1, 0] = raster[TIMESTEPS - 2, 1] = True
        steps, ids = np.nonzero(raster)
        x[0] = preprocess_spikes(steps.astype(float), ids, 5)
    return x, raster


def network(recurrent, edge):
    """TinyNet; with ``edge``, some delays sit on the boundaries: 0, below
    and at a half step (C ``round`` sends 2.5 to 3) and the maximum, and
    input 1 -> hidden 0 (delay 0) is strong enough to make hidden 0 fire
    in the step after each input 1 spike."""
    net = TinyNet("ours", recurrent=recurrent)
    if edge:
        # TinyNet hands these arrays to Dense and Learnable; they are
        # read at compile time (the test checks GeNN got them)
        net.d_in[1, :] = [0.0, 0.4, 2.5, 10.0]
        net.w_in[1, 0] = 30.0
        net.d_out[0, :] = [0.0, 3.5, 10.0]
        if recurrent:
            net.d_rec[:, 0] = [0.0, 0.5, 1.5, 10.0]
    return net


def genn_run(net, x, name):
    """Weights, delays and gradients (of example 0, complete at the end
    of example 1) per connection, and the hidden spike raster of
    example 0."""
    var_names = ("g", "d", "Gradient", "DelayGradient")
    probe = GradientProbe([(c, v) for c in net.conns() for v in var_names],
                          TIMESTEPS)
    compiled = net.compile(TIMESTEPS, name)
    with compiled:
        _, data = compiled.train({net.inp: x}, {net.out: LABELS},
                                 num_epochs=1, shuffle=False,
                                 callbacks=[probe,
                                            SpikeRecorder(net.hid, key="hid")])
    values = iter(data["gradients"])
    per_conn = [dict(zip(var_names, (next(values) for _ in var_names)))
                for _ in net.conns()]
    times, ids = data["hid"][0][0], data["hid"][1][0]
    hidden = np.zeros((TIMESTEPS, net.w_in.shape[1]), dtype=bool)
    hidden[np.round(times).astype(int), ids] = True
    return per_conn, hidden


@pytest.mark.parametrize("edge", [False, True], ids=["random", "edge"])
@pytest.mark.parametrize("recurrent", [False, True], ids=["ff", "rec"])
def test_gradients_equal_numpy_reference(recurrent, edge):
    net = network(recurrent, edge)
    x, raster = inputs(edge)
    genn, genn_hidden = genn_run(net, x, f"ref_{recurrent}_{edge}")

    # Feed the reference the (float32) values GeNN used, after checking
    # they are the network's
    layers = [("in", "hid", net.w_in, net.d_in)]
    if recurrent:
        layers.append(("hid", "hid", net.w_rec, net.d_rec))
    layers.append(("hid", "out", net.w_out, net.d_out))
    conns = []
    for (pre, post, w, d), c in zip(layers, genn):
        np.testing.assert_allclose(c["g"], w.ravel(), rtol=1e-6)
        np.testing.assert_allclose(c["d"], d.ravel(), rtol=1e-6)
        conns.append(reference.Conn(pre, post, c["g"].reshape(w.shape),
                                    c["d"].reshape(d.shape)))
    params = reference.Params(timesteps=TIMESTEPS, max_delay=net.max_delay)
    fwd = reference.forward(raster, conns, n_hid=net.w_in.shape[1],
                            n_out=net.w_out.shape[1], label=LABELS[0],
                            p=params)
    ref = reference.backward(fwd, conns, LABELS[0], p=params)

    # Same forward pass: the hidden layer spikes, at the same steps
    assert genn_hidden.sum() >= 10
    np.testing.assert_array_equal(genn_hidden, fwd.spikes["hid"])

    for c, (grad_w, grad_d) in zip(genn, ref):
        for name, ours, expected in (("Gradient", c["Gradient"], grad_w),
                                     ("DelayGradient", c["DelayGradient"],
                                      grad_d)):
            # A gradient that is (mostly) zero would make this vacuous
            assert np.count_nonzero(expected) > expected.size // 2, name
            assert rel_err(ours, expected.ravel()) <= 1e-4, name

    if edge:
        # mlGeNN would never replay a spike in the last step and so skip
        # all earlier spikes of that neuron (no gradient through it). Input
        # 0 spikes there, and hidden 0 would (input 1's spike in the step
        # before reaches it through a delay-0 synapse): with last-step
        # spikes blocked, both keep their gradients.
        assert raster[TIMESTEPS - 1, 0] and not fwd.spikes["hid"][-1].any()
        grad_in = genn[0]["Gradient"].reshape(net.w_in.shape)
        grad_out = genn[-1]["Gradient"].reshape(net.w_out.shape)
        assert np.all(grad_in[0]) and np.all(grad_in[:, 0])
        assert np.all(grad_out[0])
