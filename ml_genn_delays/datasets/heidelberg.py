"""Spiking Heidelberg Digits (SHD) and Spiking Speech Commands (SSC) from
existing ``.h5`` files, offline.

Files are looked for in ``data_dir`` itself (``shd_train.h5``, ...) and in
tonic's layout (``data_dir/SHD/shd_train.h5``, ``data_dir/SSC/...``). They
are checked for *before* any dataset object is built: tonic downloads when
its own marker (the ``.zip`` it downloaded) is missing, which fails
offline. tonic reads the files where its marker is present; otherwise the
same files are read with h5py.
"""
import os

import h5py
import numpy as np

from ..errors import DataFileError
from .samples import (bin_spikes, check_max_examples, check_sample,
                      to_spikes)

NUM_INPUT = 700
DATASETS = {"shd": ("SHD", ("train", "test"), 20),
            "ssc": ("SSC", ("train", "valid", "test"), 35)}
SOURCE = "https://zenkelab.org/resources/spiking-heidelberg-datasets-shd/"


def find_file(data_dir, dataset: str, split: str) -> str:
    """Path of ``<dataset>_<split>.h5`` in ``data_dir`` or its tonic
    folder; a FileNotFoundError naming what is expected otherwise."""
    folder, splits, _ = _describe(dataset)
    if split not in splits:
        raise ValueError(f"{dataset.upper()} has splits {splits}, not "
                         f"{split!r}")
    name = f"{dataset}_{split}.h5"
    candidates = [os.path.join(data_dir, name),
                  os.path.join(data_dir, folder, name)]
    for path in candidates:
        if os.path.isfile(path):
            return path
    raise FileNotFoundError(
        f"{dataset.upper()} {split} split not found: expected {candidates[0]}"
        f" or {candidates[1]}. Download {name}.gz from {SOURCE}, unpack it "
        f"and put it in {data_dir}.")


def _describe(dataset):
    try:
        return DATASETS[dataset]
    except KeyError:
        raise ValueError(f"Unknown data set {dataset!r}; choose one of "
                         f"{sorted(DATASETS)}") from None


def _read_tonic(path, dataset, split):
    """(times [ms], units) per sample and labels, through tonic."""
    import tonic
    folder = os.path.dirname(os.path.dirname(path))
    if dataset == "shd":
        data = tonic.datasets.SHD(folder, train=(split == "train"))
    else:
        data = tonic.datasets.SSC(folder, split=split)
    samples = [data[i] for i in range(len(data))]
    return ([e["t"] / 1000.0 for e, _ in samples],
            [e["x"] for e, _ in samples],
            np.array([label for _, label in samples]))


def _read_h5py(path):
    try:
        with h5py.File(path, "r") as f:
            return ([np.asarray(t, dtype=float) * 1000.0
                     for t in f["spikes/times"]],
                    [np.asarray(u) for u in f["spikes/units"]],
                    np.asarray(f["labels"]))
    except (OSError, KeyError) as error:
        # h5py's own messages name neither the file nor what was expected
        raise DataFileError(f"{path}: not an SHD/SSC file (an HDF5 file with "
                            f"spikes/times, spikes/units and labels): "
                            f"{error}") from error


def _check_classes(path, dataset):
    """Refuse a file of the other data set (SHD's 20 classes all fit in
    SSC's 35): the published files list their classes in extra/keys."""
    _, _, num_classes = _describe(dataset)
    try:
        with h5py.File(path, "r") as f:
            found = len(f["extra/keys"]) if "extra/keys" in f else None
    except (OSError, TypeError):
        return      # not HDF5, or no class list: reading it says so
    if found is not None and found != num_classes:
        other = [name.upper() for name, (_, _, n) in DATASETS.items()
                 if n == found]
        raise DataFileError(
            f"{path}: its extra/keys lists {found} classes"
            f"{f' (an {other[0]} file?)' if other else ''}, "
            f"{dataset.upper()} has {num_classes}; put the "
            f"{dataset.upper()} files in the data folder")


def _tonic_ready(path, dataset):
    """tonic reads a file only if its downloaded .zip sits beside it."""
    folder, _, _ = _describe(dataset)
    return (os.path.basename(os.path.dirname(path)) == folder
            and os.path.isfile(path + ".zip"))


def load_heidelberg(data_dir, dataset: str = "shd", split: str = "train",
                    max_examples: int = None, dt: float = None,
                    raw: bool = False, max_time: float = None):
    """Load SHD or SSC as mlGeNN spike trains.

    Parameters
    ----------
    data_dir : str
        Folder holding the ``.h5`` files (directly or in tonic's layout).
    dataset : {"shd", "ssc"}
    split : {"train", "test"} (SHD) or {"train", "valid", "test"} (SSC)
    max_examples : int, optional
        Only the first this many examples.
    dt : float, optional
        Bin spikes to this time step, one per channel and bin, as the
        paper's data.py does (default: exact times).
    raw : bool
        Return ``(times [ms], units)`` array pairs instead of
        PreprocessedSpikes (for augmentation).
    max_time : float, optional
        Drop spikes at or after this time [ms], before binning (the
        paper's data.py drops those at or after 1 s in every split).

    Returns
    -------
    spikes : list of PreprocessedSpikes (or of (times, units) if ``raw``)
        Spike times in ms, 700 input channels.
    labels : np.ndarray
    """
    _, _, num_classes = _describe(dataset)
    check_max_examples(max_examples)
    path = find_file(data_dir, dataset, split)
    _check_classes(path, dataset)
    times, units, labels = (_read_tonic(path, dataset, split)
                            if _tonic_ready(path, dataset)
                            else _read_h5py(path))
    if max_examples is not None:
        times, units = times[:max_examples], units[:max_examples]
        labels = labels[:max_examples]
    late = sum(int(np.sum(np.asarray(t) >= 10_000.0)) for t in times)
    total = sum(len(t) for t in times)
    if late > total / 2:
        # The published samples last about a second; written in ms, nearly
        # all spikes fell after the paper's 1 s crop, and the run trained
        # on almost nothing without a word
        raise DataFileError(
            f"{path}: {100 * late / total:.0f}% of its spikes lie at or after "
            f"10 s, where the published samples last about 1 s (and the "
            f"examples drop spikes after 1 s, as the paper's data.py); "
            f"spikes/times must be in seconds: were they written in ms?")
    samples = []
    for i, (t, u) in enumerate(zip(times, units)):
        u = np.asarray(u).astype(int)
        check_sample(f"{path}: sample {i}", t, u, NUM_INPUT)
        if max_time is not None:
            keep = np.asarray(t) < max_time
            t, u = np.asarray(t)[keep], u[keep]
        samples.append(bin_spikes(t, u, dt) if dt else
                       (np.asarray(t, dtype=float), u))
    labels = labels.astype(int)
    bad = np.flatnonzero((labels < 0) | (labels >= num_classes))
    if bad.size:
        raise DataFileError(
            f"{path}: sample {bad[0]} has label {labels[bad[0]]}"
            f", outside 0..{num_classes - 1}")
    return (samples if raw else to_spikes(samples, NUM_INPUT)), labels
