"""Training-set augmentations of the paper's SHD and SSC set-ups
(mbalazs98/deventprop, data.py), on ``(times [ms], units)`` samples.

Each is applied afresh every epoch with a numpy Generator, so a seed
(and the generator's saved state, when resuming) fixes them.
"""
import numpy as np

from ..wholes import require_whole
from .samples import bin_spikes


class Shift:
    """Shift all channels of a sample by one random offset in
    ``[-max_shift, max_shift)`` (data.py: ``np.random.randint(-40, 40)``)
    and drop spikes shifted off the input."""

    def __init__(self, max_shift: int = 40, num_input: int = 700):
        # 0 failed in rng.integers(0, 0); no shift: leave Shift out
        require_whole(max_shift, "Shift: max_shift", meaning="input "
                      "channels")
        require_whole(num_input, "Shift: num_input")
        self.max_shift = max_shift
        self.num_input = num_input

    def __call__(self, samples, labels, rng):
        out = []
        for times, units in samples:
            units = units + rng.integers(-self.max_shift, self.max_shift)
            keep = (units >= 0) & (units < self.num_input)
            out.append((times[keep], units[keep]))
        return out, labels


class Blend:
    """Append blends of random same-class pairs (data.py ``Blend``): both
    samples are moved halfway towards each other's mean channel and time,
    each spike is kept with probability ``p_blend``, and the two are
    merged. data.py adds 7644 blends to SHD's 8156 training samples;
    ``fraction`` keeps that proportion for any training-set size.

    data.py blends raw events and bins afterwards; on samples binned to
    ``dt`` give ``dt``, and a blend is binned again (the halfway shift
    moves spikes off the grid, and the two samples may share a bin)."""

    def __init__(self, p_blend: float = 0.5, num_input: int = 700,
                 max_time: float = 1000.0, fraction: float = 7644 / 8156,
                 dt: float = None):
        require_whole(num_input, "Blend: num_input")
        for name, value, high in (("p_blend", p_blend, 1.0),
                                  ("fraction", fraction, np.inf)):
            if (isinstance(value, bool) or not 0.0 <= value <= high
                    or not np.isfinite(value)):
                # inf failed only when called: int(round(inf * n))
                interval = "[0, 1]" if high == 1.0 else "[0, inf)"
                raise ValueError(f"Blend: {name} must lie in {interval},"
                                 f" got {value!r}")
        if not max_time > 0 or (dt is not None and not dt > 0):
            raise ValueError(f"Blend: max_time and dt must be positive ms, "
                             f"got max_time={max_time!r}, dt={dt!r}")
        self.p_blend = p_blend
        self.num_input = num_input
        self.max_time = max_time
        self.fraction = fraction
        self.dt = dt

    def __call__(self, samples, labels, rng):
        labels = np.asarray(labels)
        by_class = {c: np.flatnonzero(labels == c) for c in np.unique(labels)}
        new_samples, new_labels = list(samples), list(labels)
        for _ in range(int(round(self.fraction * len(samples)))):
            i = rng.integers(len(samples))
            j = rng.choice(by_class[labels[i]])
            new_samples.append(self._blend(samples[i], samples[j], rng))
            new_labels.append(labels[i])
        return new_samples, np.asarray(new_labels)

    def _blend(self, a, b, rng):
        (ta, ua), (tb, ub) = a, b
        du, dt = 0, 0.0
        if len(ta) and len(tb):
            # (a sample may be empty: all its spikes after max_time)
            du = int((np.mean(ub) - np.mean(ua)) / 2)
            dt = (np.mean(tb) - np.mean(ta)) / 2
        parts = []
        for t, u in ((ta + dt, ua + du), (tb - dt, ub - du)):
            keep = ((u >= 0) & (u < self.num_input) & (t >= 0)
                    & (t < self.max_time))
            keep &= rng.random(len(t)) < self.p_blend
            parts.append((t[keep], u[keep]))
        times = np.concatenate([p[0] for p in parts])
        units = np.concatenate([p[1] for p in parts])
        if self.dt:
            return bin_spikes(times, units, self.dt)
        order = np.argsort(times, kind="stable")
        return times[order], units[order]


def make_augmentations(names, num_input: int, max_time: float,
                       dt: float = None):
    """Augmentations by name, in the order data.py applies them (``dt``:
    the samples are binned to it)."""
    known = {"blend": lambda: Blend(num_input=num_input, max_time=max_time,
                                    dt=dt),
             "shift": lambda: Shift(num_input=num_input)}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"Unknown augmentation(s) {unknown}; known: "
                         f"{sorted(known)}")
    # Blend first, then shift every sample (blends included)
    return [known[n]() for n in sorted(names, key=["blend", "shift"].index)]
