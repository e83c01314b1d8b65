"""Batch-N semantics on GeNN's CPU backend (which runs batch size 1)."""
import warnings

import numpy as np
import pytest
from ml_genn.callbacks import Callback
from ml_genn.optimisers import Adam

from ml_genn_delays import SGD
from networks import GradientProbe, TinyNet, pull, random_spikes

TIMESTEPS = 50
# Large enough that float32 rounding of the parameters is negligible
LR = {"g": 100.0, "d": 1000.0}


def per_example_gradients(x, y):
    """Gradients of examples 0 and 1 at the initial parameters (lr 0)."""
    net = TinyNet("ours", recurrent=True)
    conn_vars = [(c, v) for c in net.conns()
                 for v in ("Gradient", "DelayGradient")]
    probes = [GradientProbe(conn_vars, TIMESTEPS, batch=b, key=f"g{b - 1}")
              for b in (1, 2)]
    compiled = net.compile(TIMESTEPS, "per_example", optimiser=SGD(0.0),
                           delay_optimiser=SGD(0.0))
    with compiled:
        _, data = compiled.train({net.inp: x}, {net.out: y}, num_epochs=1,
                                 shuffle=False, callbacks=probes)
    return data["g0"], data["g1"]


def test_one_step_at_batch_n_is_the_mean_gradient():
    x = random_spikes(3, 5, TIMESTEPS, 0.2, seed=4)
    y = np.array([0, 2, 1])
    g0, g1 = per_example_gradients(x, y)

    net = TinyNet("ours", recurrent=True)
    compiled = net.compile(TIMESTEPS, "batch2", optimiser=SGD(LR["g"]),
                           delay_optimiser=SGD(LR["d"]), batch_size=2)
    assert compiled.genn_model.batch_size == 1
    with compiled:
        before = [pull(compiled, c, v) for c in net.conns()
                  for v in ("g", "d")]
        # Examples 0 and 1 form the one full batch; example 2 is the
        # partial last batch, discarded as mlGeNN does on the GPU
        compiled.train({net.inp: x}, {net.out: y}, num_epochs=1,
                       shuffle=False, callbacks=[])
        after = [pull(compiled, c, v) for c in net.conns()
                 for v in ("g", "d")]
    for i, (b, a, e0, e1) in enumerate(zip(before, after, g0, g1)):
        expected = -LR["gd"[i % 2]] * (e0 + e1) / 2.0
        assert np.linalg.norm(expected) > 0
        # Delays stay inside [0, max_delay] so nothing was clamped
        if i % 2:
            assert np.all((b + expected > 0) & (b + expected < net.max_delay))
        err = np.linalg.norm((a - b) - expected) / np.linalg.norm(expected)
        assert err < 1e-4


# monitors.NoStepWarning: batches per epoch round UP (5 examples at batch
# 4 are 2 batches: one step is taken)
def test_five_examples_at_batch_four_take_a_step_without_warning():
    net = TinyNet("ours")
    compiled = net.compile(20, "five_at_four", batch_size=4,
                           optimiser=SGD(1.0), delay_optimiser=SGD(1.0))
    x = random_spikes(5, 5, 20, 0.2, seed=1)
    with compiled:
        before = pull(compiled, net.c_out, "g")
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)
            compiled.train({net.inp: x}, {net.out: [0, 1, 2, 0, 1]},
                           num_epochs=1, shuffle=False)
        assert np.any(pull(compiled, net.c_out, "g") != before)


def test_epoch_of_one_batch_warns_that_nothing_is_learned():
    # mlGeNN drops an epoch's last batch: 4 examples at batch 4 train
    # nothing, which must not pass silently
    net = TinyNet("ours")
    compiled = net.compile(20, "one_batch", batch_size=4,
                           optimiser=SGD(1.0), delay_optimiser=SGD(1.0))
    x = random_spikes(4, 5, 20, 0.2, seed=1)
    with compiled:
        before = [pull(compiled, c, "g") for c in net.conns()]
        with pytest.warns(UserWarning, match="1 batch per epoch.*no "
                                             "optimiser step"):
            compiled.train({net.inp: x}, {net.out: [0, 1, 2, 0]},
                           num_epochs=1, shuffle=False)
        for c, b in zip(net.conns(), before):
            np.testing.assert_array_equal(pull(compiled, c, "g"), b)
        # Two batches: one step, no warning (unshuffled: mlGeNN shuffles
        # with numpy's global RNG, which other tests move)
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)
            compiled.train({net.inp: x * 2}, {net.out: [0, 1, 2, 0] * 2},
                           num_epochs=1, shuffle=False)
        assert max(np.abs(pull(compiled, c, "g") - b).max()
                   for c, b in zip(net.conns(), before)) > 1e-5


class BatchEndProbe(Callback):
    """``DelayGradient`` (summed, before scaling) and ``d`` of ``conn`` at
    the last timestep of batch ``batch`` of every epoch, before that
    batch's optimiser step."""

    def __init__(self, conn, timesteps, batch):
        self.conn, self.timesteps, self.batch = conn, timesteps, batch
        self.values = []

    def set_params(self, compiled_network, **kwargs):
        self.compiled = compiled_network

    def on_batch_begin(self, batch):
        self.current = batch

    def on_timestep_end(self, timestep):
        if self.current == self.batch and timestep == self.timesteps - 1:
            self.values.append(
                (pull(self.compiled, self.conn, "DelayGradient"),
                 pull(self.compiled, self.conn, "d")))


def test_accumulated_adam_steps_are_numbered_as_on_a_gpu():
    # 3 examples at batch 2: one full batch per epoch, whose step is
    # taken once its second example's gradient is complete (at the end of
    # example 3), with Adam's step counter numbered as mlGeNN numbers
    # batches, ceil(3 / 2) = 2 per epoch: 1, then 3. Replayed in NumPy:
    # only SGD was checked exactly before, and a wrong counter changes
    # Adam's bias correction silently (mutation review)
    timesteps, alpha, beta1, beta2, eps = 50, 0.05, 0.9, 0.999, 1e-8
    net = TinyNet("ours")
    compiled = net.compile(timesteps, "adam_steps", optimiser=SGD(0.0),
                           delay_optimiser=Adam(alpha), batch_size=2)
    x = random_spikes(3, 5, timesteps, 0.2, seed=4)
    probe = BatchEndProbe(net.c_in, timesteps, 2)
    with compiled:
        compiled.train({net.inp: x}, {net.out: np.array([0, 2, 1])},
                       num_epochs=2, shuffle=False, callbacks=[probe])
        final = pull(compiled, net.c_in, "d")
    m = v = 0.0
    d = probe.values[0][1]
    for (grad_sum, d_before), step, after in zip(
            probe.values, (1, 3), (probe.values[1][1], final)):
        np.testing.assert_allclose(d_before, d, rtol=1e-6)
        g = grad_sum / 2.0
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        d = d - alpha * m / (1 - beta1 ** (step + 1)) / (
            np.sqrt(v / (1 - beta2 ** (step + 1))) + eps)
        assert np.abs(after - d_before).max() > 1e-3
        np.testing.assert_allclose(after, d, rtol=0, atol=2e-5)
