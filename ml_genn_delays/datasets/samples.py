"""Spike-train samples as ``(times [ms], units)`` array pairs: checks,
binning to the time step and conversion to mlGeNN's PreprocessedSpikes."""
import numpy as np
from ml_genn.utils.data import preprocess_spikes

from ..errors import DataFileError
from ..wholes import require_whole


def check_sample(where: str, times, units, num_input: int):
    """Raise a DataFileError naming ``where`` (file and sample index) if a
    sample is empty, unsorted, negative, non-finite or out of range."""
    if len(times) == 0:
        raise DataFileError(f"{where} has no spikes")
    if len(times) != len(units):
        raise DataFileError(f"{where} has {len(times)} spike times but "
                            f"{len(units)} units")
    times = np.asarray(times)
    if np.any(times < 0) or not np.all(np.isfinite(times)):
        raise DataFileError(f"{where} has negative or non-finite spike times")
    if np.any(np.diff(times) < 0):
        raise DataFileError(f"{where}: spike times are not sorted")
    if np.any(units < 0) or np.any(units >= num_input):
        raise DataFileError(f"{where} has units outside 0..{num_input - 1}; "
                            f"expected {num_input} input channels")


def bin_spikes(times, units, dt: float):
    """Move every spike to the start of its ``dt`` bin and keep one spike
    per unit and bin, as mlGeNN's ``preprocess_tonic_spikes`` with
    ``histogram_thresh=1`` does in the paper's data.py. Sorted by time."""
    steps = np.floor(np.asarray(times) / dt).astype(np.int64)
    units = np.asarray(units, dtype=np.int64)
    if units.size and units.min() < 0:
        # The (step, unit) key below would move it to another unit
        raise ValueError(f"bin_spikes: units must be >= 0, got "
                         f"{units.min()}")
    key = np.unique(steps * (int(units.max(initial=0)) + 1) + units)
    steps, units = np.divmod(key, int(units.max(initial=0)) + 1)
    return steps * dt, units


def to_spikes(samples, num_input: int):
    """A list of PreprocessedSpikes from ``(times, units)`` pairs."""
    return [preprocess_spikes(np.asarray(t, dtype=float),
                              np.asarray(u, dtype=int), num_input)
            for t, u in samples]


def latest_spike_time(samples) -> float:
    """Time of the latest spike over all samples (ms)."""
    return max(float(np.max(t)) for t, _ in samples if len(t))


def max_sample_spikes(samples) -> int:
    """Most spikes in one sample."""
    return max(len(t) for t, _ in samples)


def check_max_examples(max_examples):
    """``max_examples`` caps a split: None or at least 1 (a slice with 0
    or a negative number would silently drop examples)."""
    if max_examples is not None:
        require_whole(max_examples, "max_examples")
