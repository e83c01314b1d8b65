"""The sequence-detection task of the deventprop paper.

Two input neurons fire once each, ``gap`` ms apart; class 0 is
"neuron 0 then neuron 1", class 1 the reverse. The patterns hold the same
spikes in a different order, so a network without delays (and equal
weights) cannot tell them apart, while learned delays can align them.
"""
import numpy as np
from ml_genn.utils.data import preprocess_spikes

from ..wholes import require_whole

NUM_INPUT = 2
NUM_CLASSES = 2


def sequence_detection(num_examples: int = 4, gap: float = 10.0,
                       start: float = 0.0, jitter: float = 0.0, seed=None):
    """Make the sequence-detection data set.

    Parameters
    ----------
    num_examples : int
        Number of examples; classes alternate 0, 1, 0, 1, ...
    gap : float
        Time between the two input spikes [ms].
    start : float
        Time of the first spike [ms].
    jitter : float
        If > 0, the first spike time and the gap of each example are
        drawn uniformly from ``start + [0, jitter]`` and
        ``gap +- jitter`` (so that no exact timing identifies a class).
    seed : int, optional
        Seed of the jitter.

    Returns
    -------
    spikes : list of PreprocessedSpikes
        One spike train per example, for a ``SpikeInput`` of 2 neurons.
    labels : np.ndarray
        Class of each example.
    """
    require_whole(num_examples, "num_examples")
    if (not np.all(np.isfinite([gap, start, jitter])) or gap <= 0
            or start < 0 or not 0 <= jitter < gap):
        raise ValueError(f"need gap > 0, start >= 0 and 0 <= jitter < gap, "
                         f"got gap={gap}, start={start}, jitter={jitter}")
    labels = np.arange(num_examples) % NUM_CLASSES
    rng = np.random.default_rng(seed)
    spikes = []
    for c in labels:
        first = start + rng.uniform(0.0, jitter)
        second = first + gap + rng.uniform(-jitter, jitter)
        spikes.append(preprocess_spikes(np.array([first, second]),
                                        np.array([c, 1 - c]), NUM_INPUT))
    return spikes, labels
