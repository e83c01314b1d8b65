"""The files of a model directory: their names, finding and removing
checkpoints, and reading one file or the manifest with its checks
(writing them: io_journal). Part of :mod:`ml_genn_delays.io`; pure
numpy."""
import json
import os
import re

import numpy as np

from .errors import ModelFileError
from .io_journal import writing

MANIFEST = "manifest.json"
FORMAT = "ml_genn_delays/1"
_FILE = re.compile(r"^(?P<checkpoint>[^-]+)-(?P<conn>.+)-(?P<suffix>[^-]+)"
                   r"\.npy$")


def package_version(package):
    """The installed version of ``package``, or None."""
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version(package)
    except PackageNotFoundError:
        return None


def _versions():
    return {package: package_version(package)
            for package in ("ml_genn_delays", "pygenn", "ml_genn", "numpy")}


def is_model_file(name) -> bool:
    """Whether a file name is one of a checkpoint's
    (``<checkpoint>-<name>-<suffix>.npy``)."""
    return _FILE.match(name) is not None


def checkpoint_names(directory) -> set:
    """The checkpoints whose model files ``directory`` holds (their
    names, e.g. ``{"0", "final"}``)."""
    return {match["checkpoint"] for name in os.listdir(directory)
            if (match := _FILE.match(name))}


def remove_checkpoints(directory, keep):
    """Delete the model files of every checkpoint but ``keep`` (call it
    after saving ``keep``, so a crash leaves at least one whole model);
    ``keep=None``: of every checkpoint, and the manifest."""
    with writing(directory):
        for name in os.listdir(directory):
            match = _FILE.match(name)
            if match and (keep is None or match["checkpoint"] != str(keep)):
                os.unlink(os.path.join(directory, name))
        if keep is None and os.path.exists(os.path.join(directory,
                                                        MANIFEST)):
            os.unlink(os.path.join(directory, MANIFEST))


def _scan(directory, checkpoint, latest=None):
    """{connection name: {suffix: file}} of the chosen checkpoint: the
    one asked for, else the only one, else ``latest`` (the one the
    manifest describes) where it is also the last by name."""
    if os.path.isfile(directory):
        raise ModelFileError(
            f"{directory} is a file: give the model's folder, "
            f"{os.path.dirname(os.path.abspath(directory))}")
    if not os.path.isdir(directory):
        raise ModelFileError(f"Model directory {directory} does not exist")
    found = {}
    for name in sorted(os.listdir(directory)):
        match = _FILE.match(name)
        if match:
            found.setdefault(match["checkpoint"], {}).setdefault(
                match["conn"], {})[match["suffix"]] = name
    if not found:
        raise ModelFileError(f"No <checkpoint>-<connection>-g.npy files in "
                             f"{directory}")
    if (checkpoint is None and len(found) > 1 and latest in found
            and latest == max(found, key=_natural_key)):
        # A run's folder between a save and remove_checkpoints (or a kill
        # there, which may leave part of an older one). Not where a later
        # checkpoint has no manifest (mlGeNN's Checkpoint callback)
        checkpoint = latest
    if checkpoint is None:
        if len(found) > 1:
            raise ModelFileError(
                f"{directory} holds checkpoints {sorted(found)}; choose one "
                f"with checkpoint=")
        checkpoint = next(iter(found))
    checkpoint = str(checkpoint)
    if checkpoint not in found:
        raise ModelFileError(f"No checkpoint {checkpoint} in {directory}; "
                             f"it holds {sorted(found)}")
    return checkpoint, found[checkpoint]


def _natural_key(name):
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name)]


def _read(directory, name, owner, what, size, low=None, high=None,
          shape=None):
    """Load one file and check it (``owner``: e.g. "connection X");
    ``shape``: the one shape besides flat it may have (Dense synapses'
    ``(n_pre, n_post)``; a transposed array would load silently)."""
    path = os.path.join(directory, name)
    try:
        values = np.load(path)  # allow_pickle=False: arrays only
    except (ValueError, OSError, EOFError) as error:
        raise ModelFileError(f"{path}: not a readable .npy array of "
                             f"{what} ({error})") from error
    if not np.issubdtype(values.dtype, np.floating):
        raise ModelFileError(f"{name}: {what} of {owner} must be floats, "
                             f"not {values.dtype}")
    if values.size != size:
        raise ModelFileError(f"{name}: {owner} expects {size} values of "
                             f"{what}, the file has {values.size} (shape "
                             f"{values.shape})")
    if values.ndim > 1 and values.shape != shape:
        raise ModelFileError(f"{name}: {owner} expects {what} flat"
                             f"{'' if shape is None else f' or {shape}'}, "
                             f"the file has shape {values.shape}")
    if not np.all(np.isfinite(values)):
        raise ModelFileError(f"{name}: {what} contain NaN or inf")
    if low is not None and (values.min() < low or values.max() > high):
        error = ModelFileError(
            f"{name}: {what} of {owner} must lie in [{low}, {high}], the "
            f"file has [{values.min()}, {values.max()}]")
        error.file_range = (float(values.min()), float(values.max()))
        raise error
    return values.astype(np.float32).ravel()


def _read_manifest(path):
    """``manifest.json`` as a dict, its fields checked where load_model
    relies on them."""
    try:
        with open(path) as f:
            manifest = json.load(f)
    except (OSError, ValueError) as error:
        raise ModelFileError(f"{path}: not a readable manifest (the JSON "
                             f"save_model writes): {error}") from error

    def entries_ok(key):
        entries = manifest.get(key, [])
        return isinstance(entries, list) and all(
            isinstance(e, dict) and isinstance(e.get("name"), str)
            and isinstance(e.get("index"), int)
            and (e.get("shape") is None or (
                isinstance(e["shape"], list) and len(e["shape"]) == 2
                and all(isinstance(n, int) for n in e["shape"])))
            for e in entries)

    problem = None
    if not isinstance(manifest, dict):
        problem = "it is not a JSON object"
    elif manifest.get("dt") is not None and (
            isinstance(manifest["dt"], bool)
            or not isinstance(manifest["dt"], (int, float))
            or not manifest["dt"] > 0):
        problem = f"its dt {manifest['dt']!r} is not a positive number"
    elif not (entries_ok("connections") and entries_ok("populations")):
        problem = ("its connections or populations are not a list of "
                   "entries with a name, an index (and a 2-number shape)")
    if problem is not None:
        raise ModelFileError(f"{path}: {problem}; write it again with "
                             f"save_model, or remove it (the .npy files "
                             f"load without it, matched by position)")
    return manifest
