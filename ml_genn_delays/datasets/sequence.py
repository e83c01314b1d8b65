"""The sequence-detection task of the deventprop paper.

Two input neurons fire once each, ``gap`` ms apart; class 0 is
"neuron 0 then neuron 1", class 1 the reverse. The patterns hold the same
spikes in a different order, so a network without delays (and equal
weights) cannot tell them apart, while learned delays can align them.
"""
import numpy as np
from ml_genn.utils.data import preprocess_spikes

NUM_INPUT = 2
NUM_CLASSES = 2


def sequence_detection(num_examples: int = 4, gap: float = 10.0,
                       start: float = 0.0):
    """Make the sequence-detection data set.

    Parameters
    ----------
    num_examples : int
        Number of examples; classes alternate 0, 1, 0, 1, ...
    gap : float
        Time between the two input spikes [ms].
    start : float
        Time of the first spike [ms].

    Returns
    -------
    spikes : list of PreprocessedSpikes
        One spike train per example, for a ``SpikeInput`` of 2 neurons.
    labels : np.ndarray
        Class of each example.
    """
    if num_examples < 1:
        raise ValueError(f"num_examples must be >= 1, got {num_examples}")
    if gap <= 0 or start < 0:
        raise ValueError(f"gap must be > 0 and start >= 0, got gap={gap}, "
                         f"start={start}")
    labels = np.arange(num_examples) % NUM_CLASSES
    times = np.array([start, start + gap])
    spikes = [preprocess_spikes(times, np.array([0, 1]) if c == 0
                                else np.array([1, 0]), NUM_INPUT)
              for c in labels]
    return spikes, labels
