"""Small data files in the exact published layouts, made by the tests:
SHD/SSC ``.h5`` and the Braille pickle."""
import os

import h5py
import numpy as np


def write_h5(path, samples, labels, num_classes=None):
    """The SHD/SSC layout: spikes/times [s] and spikes/units as
    variable-length arrays, labels, extra/keys (a name per class: 20 in
    SHD files, 35 in SSC ones, unless ``num_classes``) and extra/speaker."""
    if num_classes is None:
        num_classes = 20 if os.path.basename(path).startswith("shd") else 35
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with h5py.File(path, "w") as f:
        times = f.create_dataset("spikes/times", (len(samples),),
                                 dtype=h5py.vlen_dtype(np.float32))
        units = f.create_dataset("spikes/units", (len(samples),),
                                 dtype=h5py.vlen_dtype(np.uint16))
        for i, (t, u) in enumerate(samples):
            times[i] = np.asarray(t, np.float32)
            units[i] = np.asarray(u, np.uint16)
        f["labels"] = np.asarray(labels, np.uint8)
        f["extra/keys"] = np.array([f"class {i}".encode()
                                    for i in range(num_classes)])
        f["extra/speaker"] = np.zeros(len(samples), np.uint8)


def heidelberg_samples(n, num_classes, rng, spikes=60, duration=0.08):
    """Random samples whose channels depend on the class, sorted in time."""
    samples, labels = [], []
    for i in range(n):
        label = i % num_classes
        times = np.sort(rng.uniform(0.0, duration, spikes))
        units = (label * 30 + rng.integers(0, 60, spikes)) % 700
        samples.append((times, units))
        labels.append(label)
    return samples, labels


def write_heidelberg(data_dir, dataset="shd", n=24, seed=0):
    """``<dataset>_<split>.h5`` files for every split of SHD or SSC."""
    rng = np.random.default_rng(seed)
    num_classes = 20 if dataset == "shd" else 35
    splits = ("train", "test") if dataset == "shd" else ("train", "valid",
                                                          "test")
    for split in splits:
        write_h5(os.path.join(data_dir, f"{dataset}_{split}.h5"),
                 *heidelberg_samples(n, num_classes, rng))


def write_braille(data_dir, per_letter=4, seed=0, threshold=1,
                  events=None, letters=None):
    """``data_braille_letters_th_<threshold>.pkl``: a pandas DataFrame
    with ``letter`` and ``events`` (12 taxels x [ON, OFF] times in s)."""
    import pandas as pd
    rng = np.random.default_rng(seed)
    if letters is None:
        letters = [l for l in ["Space"] + [chr(c) for c in range(65, 91)]
                   for _ in range(per_letter)]
    if events is None:
        events = [[[sorted(rng.uniform(0.0, 0.05, 3).tolist()),
                    sorted(rng.uniform(0.0, 0.05, 2).tolist())]
                   for _ in range(12)] for _ in letters]
    path = os.path.join(data_dir, f"data_braille_letters_th_{threshold}.pkl")
    os.makedirs(data_dir, exist_ok=True)
    pd.DataFrame({"letter": letters, "events": events}).to_pickle(path)
    return path
