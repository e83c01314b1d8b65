"""Braille letter reading (Müller-Cleve et al. 2022) from its published
pickle, offline.

The pickle (``data_braille_letters_th_<threshold>.pkl``, a pandas
DataFrame) holds one row per recording: ``letter`` (``"Space"``, ``"A"``
... ``"Z"``) and ``events``: for each of 12 taxels an ON and an OFF list
of event times in seconds. Channel ``taxel + 12 * polarity`` gives the 24
inputs of the paper's data.py.
"""
import glob
import os
import pickle
import warnings

import numpy as np

from ..errors import DataFileError
from .samples import check_max_examples, check_sample, to_spikes

LETTERS = ["Space"] + [chr(c) for c in range(ord("A"), ord("Z") + 1)]
NUM_TAXELS = 12
NUM_INPUT = 2 * NUM_TAXELS
SOURCE = "https://zenodo.org/records/7050094"
PATTERN = "data_braille_letters_th_*.pkl"


def find_braille_file(data_dir, threshold=None) -> str:
    """Path of the Braille pickle in ``data_dir`` (or its
    ``reading_braille_data/`` folder); a FileNotFoundError naming what is
    expected otherwise."""
    folders = [data_dir, os.path.join(data_dir, "reading_braille_data")]
    name = PATTERN.replace("*", "*" if threshold is None else str(threshold))
    found = sorted(p for f in folders for p in glob.glob(os.path.join(f, name)))
    if not found:
        raise FileNotFoundError(
            f"Braille data not found: expected {os.path.join(folders[0], name)}"
            f" or {os.path.join(folders[1], name)}. Download the pickle "
            f"(reading_braille_data) from {SOURCE} and put it in {data_dir}.")
    if len(found) > 1:
        raise DataFileError(f"Several Braille pickles in {data_dir}: {found}; "
                            f"keep one there (the training examples read "
                            f"the only one), or choose one with "
                            f"load_braille(..., threshold=)")
    return found[0]


def _read(path):
    import pandas as pd
    try:
        data = pd.read_pickle(path)
    except (OSError, EOFError, pickle.UnpicklingError, ImportError,
            AttributeError) as error:
        # pickle's own messages (e.g. "pickle data was truncated") name
        # neither the file nor what was expected; ImportError and
        # AttributeError: a pickle of classes this Python lacks
        raise DataFileError(f"{path}: not a Braille pickle (a pandas "
                            f"DataFrame with columns 'letter' and 'events', "
                            f"as published at {SOURCE}); download it again: "
                            f"{type(error).__name__}: {error}") from error
    try:
        return list(data["letter"]), list(data["events"])
    except (KeyError, TypeError, IndexError):
        raise DataFileError(
            f"{path} is not a Braille pickle: expected columns "
            f"'letter' and 'events'") from None


def _sample(path, index, events, dt):
    where = f"{path}: sample {index}"
    if len(events) != NUM_TAXELS or any(len(t) != 2 for t in events):
        raise DataFileError(f"{where} has {len(events)} taxels; expected "
                            f"{NUM_TAXELS}, each with ON and OFF event lists")
    steps, units = [], []
    for taxel, polarities in enumerate(events):
        for polarity, seconds in enumerate(polarities):
            seconds = np.asarray(seconds if seconds is not None else [],
                                 dtype=float)
            # data.py: ms, rounded to the time step
            steps.append(np.round(seconds * 1000.0 / dt).astype(np.int64))
            units.append(np.full(len(seconds), taxel + NUM_TAXELS * polarity))
    # One spike per channel and step, in time order
    key = np.unique(np.concatenate(steps) * NUM_INPUT
                    + np.concatenate(units).astype(np.int64))
    steps, units = np.divmod(key, NUM_INPUT)
    order = np.argsort(steps, kind="stable")
    times, units = steps[order] * dt, units[order]
    check_sample(where, times, units, NUM_INPUT)
    return times, units


def _stratified_split(labels, fractions, rng):
    """Indices of each part, every class split in ``fractions``."""
    parts = [[] for _ in fractions]
    bounds = np.cumsum(fractions)[:-1]
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        for part, chunk in zip(parts, np.split(
                idx, np.round(bounds * len(idx)).astype(int))):
            part.extend(chunk)
    return [np.sort(np.array(p, dtype=int)) for p in parts]


def load_braille(data_dir, split: str = "train", threshold=None,
                 dt: float = 1.0, seed: int = 0, max_examples: int = None,
                 raw: bool = False):
    """Load one split of the Braille letters.

    The paper's 70/10/20 train/validation/test split, stratified by letter
    (data.py uses sklearn's unseeded ``train_test_split``; here ``seed``
    fixes it).

    Parameters
    ----------
    data_dir : str
        Folder with ``data_braille_letters_th_<threshold>.pkl``.
    split : {"train", "valid", "test"}
    threshold : int, optional
        Which pickle, when ``data_dir`` holds several.
    dt : float
        Time step (ms) spikes are rounded to.
    seed : int
        Seed of the split.
    max_examples : int, optional
        Only the first this many examples of the split.
    raw : bool
        Return ``(times [ms], units)`` pairs instead of PreprocessedSpikes.

    Returns
    -------
    spikes : list
    labels : np.ndarray
        Letter indices into ``LETTERS`` (0 is space).
    """
    check_max_examples(max_examples)
    splits = ("train", "valid", "test")
    if split not in splits:
        raise ValueError(f"Braille has splits {splits}, not {split!r}")
    path = find_braille_file(data_dir, threshold)
    letters, events = _read(path)
    bad = [i for i, l in enumerate(letters) if l not in LETTERS]
    if bad:
        raise DataFileError(f"{path}: sample {bad[0]} has letter "
                            f"{letters[bad[0]]!r}, not one of {LETTERS}")
    labels = np.array([LETTERS.index(l) for l in letters])
    parts = _stratified_split(labels, (0.7, 0.1, 0.2),
                              np.random.default_rng(seed))
    indices = parts[splits.index(split)][:max_examples]
    if len(indices) == 0 and split != "valid":
        # An empty validation split only falls back to selecting on
        # training accuracy; an empty training or test split cannot work
        fewest = min(np.bincount(labels)[np.unique(labels)])
        raise DataFileError(
            f"{path}: its {len(labels)} samples ({fewest} of the rarest "
            f"letter) leave the {split} split empty: the 70/10/20 split "
            f"per letter needs at least 3 samples of a letter")
    if len(indices) == 0:
        warnings.warn(f"{path}: its {len(labels)} samples leave the "
                      f"validation split empty (too few per letter for "
                      f"its 10%): the training examples then select "
                      f"models on training accuracy", stacklevel=2)
    samples = [_sample(path, i, events[i], dt) for i in indices]
    return ((samples if raw else to_spikes(samples, NUM_INPUT)),
            labels[indices])
