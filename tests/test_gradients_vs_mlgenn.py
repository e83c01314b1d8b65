"""Our gradients equal those of mlGeNN's delay_learn_conns path."""
import numpy as np
import pytest

from networks import GradientProbe, TinyNet, random_spikes

TIMESTEPS = 50


def gradients(style, recurrent, name):
    """Weight and delay gradients of example 0 (mlGeNN runs an example's
    backward pass during the next example's forward pass)."""
    net = TinyNet(style, recurrent=recurrent)
    x = random_spikes(2, 5, TIMESTEPS, 0.2, seed=3)
    y = np.array([1, 2])
    probe = GradientProbe([(c, v) for c in net.conns()
                           for v in ("Gradient", "DelayGradient")],
                          TIMESTEPS)
    compiled = net.compile(TIMESTEPS, name)
    with compiled:
        _, data = compiled.train({net.inp: x}, {net.out: y}, num_epochs=1,
                                 shuffle=False, callbacks=[probe])
    return data["gradients"]


def rel_err(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


@pytest.mark.parametrize("recurrent", [False, True])
def test_same_gradients_as_mlgenn(recurrent):
    ours = gradients("ours", recurrent, f"ours{recurrent}")
    legacy = gradients("legacy", recurrent, f"legacy{recurrent}")
    reference = gradients("mlgenn", recurrent, f"mlgenn{recurrent}")
    assert len(ours) == (6 if recurrent else 4)
    for o, l, r in zip(ours, legacy, reference):
        # A gradient that is zero everywhere would make this vacuous
        assert np.count_nonzero(r) > r.size // 2
        assert rel_err(o, r) <= 1e-5
        assert rel_err(l, r) <= 1e-5
