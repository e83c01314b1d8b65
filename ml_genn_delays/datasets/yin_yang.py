"""The Yin-Yang data set (Kriener et al. 2022), generated exactly as the
reference generator: rejection sampling in the unit square with
``numpy.random.RandomState(seed)``, classes drawn uniformly first."""
import numpy as np
from ml_genn.utils.data import preprocess_spikes

from ..wholes import require_whole

R_SMALL = 0.1
R_BIG = 0.5

#: Seeds and sizes of the reference splits
SPLITS = {"train": (5000, 42), "validation": (1000, 41), "test": (1000, 40)}


def _which_class(x, y, r_small, r_big):
    d_right = np.hypot(x - 1.5 * r_big, y - r_big)
    d_left = np.hypot(x - 0.5 * r_big, y - r_big)
    if d_right < r_small or d_left < r_small:
        return 2
    is_yin = (d_right <= r_small
              or r_small < d_left <= 0.5 * r_big
              or (y > r_big and d_right > 0.5 * r_big))
    return int(is_yin)


def yin_yang(split: str = "train", size: int = None, seed: int = None,
             r_small: float = R_SMALL, r_big: float = R_BIG):
    """Generate Yin-Yang points.

    Parameters
    ----------
    split : {"train", "validation", "test"}
        Picks the reference size and seed (5000/42, 1000/41, 1000/40).
    size, seed : int, optional
        Override the split's size and seed.

    Returns
    -------
    points : np.ndarray, shape (size, 4)
        ``[x, y, 1 - x, 1 - y]`` per point.
    labels : np.ndarray, shape (size,)
        0 yin, 1 yang, 2 dot.
    """
    if split not in SPLITS:
        raise ValueError(f"Unknown Yin-Yang split {split!r}; choose one of "
                         f"{sorted(SPLITS)}")
    default_size, default_seed = SPLITS[split]
    size = default_size if size is None else size
    seed = default_seed if seed is None else seed
    require_whole(size, "yin_yang: size", meaning="points")
    rng = np.random.RandomState(seed)
    points = np.empty((size, 4))
    labels = np.empty(size, dtype=int)
    for i in range(size):
        goal = rng.randint(3)
        while True:
            x, y = rng.rand(2) * 2.0 * r_big
            if np.hypot(x - r_big, y - r_big) > r_big:
                continue
            if _which_class(x, y, r_small, r_big) == goal:
                break
        points[i] = (x, y, 1.0 - x, 1.0 - y)
        labels[i] = goal
    return points, labels


def yin_yang_spikes(points, dt: float, example_time: float,
                    early: float = None, late: float = None):
    """Latency-encode Yin-Yang points: one spike per input channel at
    ``early + value * (late - early)`` ms. By default ``early = 2 dt`` and
    ``late = example_time - 2 dt`` (as mlGeNN's example), so every spike
    lies inside the trial with a step to spare at each end."""
    points = np.asarray(points, dtype=float)
    if points.ndim != 2 or points.shape[1] != 4:
        raise ValueError(f"Yin-Yang points must have shape (n, 4), got "
                         f"{points.shape}")
    scale = ((example_time - 4.0 * dt) if late is None and early is None
             else (example_time - 2.0 * dt if late is None else late)
             - (2.0 * dt if early is None else early))
    early = 2.0 * dt if early is None else early
    ids = np.arange(4)
    return [preprocess_spikes(early + p * scale, ids, 4) for p in points]
