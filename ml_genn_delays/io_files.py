"""The files of a model directory: their names, writing them (atomically,
a checkpoint at a time), finding and removing checkpoints, and reading
one file or the manifest with its checks. Part of
:mod:`ml_genn_delays.io`; pure numpy."""
import json
import os
import re
import secrets
import shutil

import numpy as np

from .errors import ModelFileError

MANIFEST = "manifest.json"
# How far a save got, and what it wrote (see _save_all)
PENDING_JOURNAL = ".pending-journal.json"
JOURNAL = ".save-journal.json"
UNDO_JOURNAL = ".undo-journal.json"
FORMAT = "ml_genn_delays/1"
_FILE = re.compile(r"^(?P<checkpoint>[^-]+)-(?P<conn>.+)-(?P<suffix>[^-]+)"
                   r"\.npy$")


def _versions():
    from importlib.metadata import PackageNotFoundError, version
    out = {}
    for package in ("ml_genn_delays", "pygenn", "ml_genn", "numpy"):
        try:
            out[package] = version(package)
        except PackageNotFoundError:
            out[package] = None
    return out


def _atomic_save(path, write):
    """Write via a temporary file in the same folder, then rename: a crash
    leaves the old file or the new one, never half of one."""
    _save_all([(path, write)])


def _save_all(items):
    """Write each ``(path, write)`` (all in one folder) so that the folder
    holds every old file or every new one, never a mix, even if the
    process is killed part-way.

    A journal in the folder lists the temporary files the new contents go
    to and hard-linked copies of the old files. Its name says how far the
    save got, and a save or load that finds it finishes the job
    (:func:`finish_interrupted_save`): while it is the pending journal the
    files are being written, and the temporary files are removed (a
    failure here, e.g. a full disk, changes nothing); once all are written
    it becomes the save journal, and the files are renamed into place. A
    rename that fails in this process turns it into the undo journal, and
    the renames made are undone from the copies.
    """
    folders = {os.path.dirname(os.path.abspath(p)) for p, _ in items}
    if len(folders) != 1:
        raise ValueError(f"_save_all writes into one folder, not {folders}")
    folder = folders.pop()
    for path, _ in items:
        if os.path.isdir(path):
            raise IsADirectoryError(f"Cannot write {path}: a folder of that "
                                    f"name is in the way; remove or rename "
                                    f"it")
    finish_interrupted_save(folder)
    token = secrets.token_hex(4)
    # Names that are no model file's (is_model_file)
    entries = [[f".tmp.{token}.{i}.new", os.path.basename(path),
                f".tmp.{token}.{i}.old" if os.path.exists(path) else None]
               for i, (path, _) in enumerate(items)]
    pending, journal = (os.path.join(folder, name) for name in
                        (PENDING_JOURNAL, JOURNAL))
    try:
        _write(pending, lambda f: f.write(json.dumps(entries).encode()))
        for (temporary, name, backup), (_, write) in zip(entries, items):
            _write(os.path.join(folder, temporary), write)
            if backup is not None:
                _link_or_copy(os.path.join(folder, name),
                              os.path.join(folder, backup))
        os.replace(pending, journal)
    except BaseException:
        finish_interrupted_save(folder)
        raise
    try:
        for temporary, name, _ in entries:
            os.replace(os.path.join(folder, temporary),
                       os.path.join(folder, name))
    except BaseException:
        os.replace(journal, os.path.join(folder, UNDO_JOURNAL))
        finish_interrupted_save(folder)
        raise
    finish_interrupted_save(folder)


def finish_interrupted_save(folder):
    """Complete what a journal in ``folder`` says a save left undone:
    remove the temporary files of one killed while writing them, finish
    the renames of one killed while renaming, or finish undoing them where
    a rename failed. Nothing to do where there is no journal; every step
    may be taken twice."""
    for name in (PENDING_JOURNAL, JOURNAL, UNDO_JOURNAL):
        journal = os.path.join(folder, name)
        if os.path.exists(journal):
            try:
                _replay(folder, journal, forward=name == JOURNAL)
            except (OSError, TypeError, ValueError) as error:
                raise ModelFileError(
                    f"{folder}: a save there was interrupted, and finishing "
                    f"it failed ({error}); make the folder writable and "
                    f"try again") from error


def _replay(folder, journal, forward):
    """Redo (``forward``) or undo the renames ``journal`` lists."""
    with open(journal) as f:
        text = f.read()
    try:
        entries = json.loads(text)
    except ValueError:
        if not journal.endswith(PENDING_JOURNAL):
            raise
        entries = []    # killed while writing it: nothing else written yet
    for temporary, name, backup in entries:
        temporary, path = (os.path.join(folder, temporary),
                           os.path.join(folder, name))
        backup = backup and os.path.join(folder, backup)
        renamed = not os.path.exists(temporary)
        if forward and not renamed:
            os.replace(temporary, path)
        elif not forward and not renamed:
            os.unlink(temporary)
        elif not forward and backup and os.path.exists(backup):
            os.replace(backup, path)
        elif not forward and not backup and os.path.exists(path):
            os.unlink(path)     # a new file: there was none before
        if backup and os.path.exists(backup):
            os.unlink(backup)
    os.unlink(journal)


def _write(path, write):
    """``write`` a new file at ``path`` and flush it to the disk."""
    with open(path, "wb") as f:
        write(f)
        f.flush()
        os.fsync(f.fileno())


def _link_or_copy(path, copy):
    try:
        os.link(path, copy)
    except OSError:
        shutil.copyfile(path, copy)     # a file system without hard links


def is_model_file(name) -> bool:
    """Whether a file name is one of a checkpoint's
    (``<checkpoint>-<name>-<suffix>.npy``)."""
    return _FILE.match(name) is not None


def remove_checkpoints(directory, keep):
    """Delete the model files of every checkpoint but ``keep`` (call it
    after saving ``keep``, so a crash leaves at least one whole model)."""
    keep = str(keep)
    finish_interrupted_save(directory)
    for name in os.listdir(directory):
        match = _FILE.match(name)
        if match and match["checkpoint"] != keep:
            os.unlink(os.path.join(directory, name))


def _scan(directory, checkpoint):
    """{connection name: {suffix: file}} of the chosen checkpoint."""
    if not os.path.isdir(directory):
        raise ModelFileError(f"Model directory {directory} does not exist")
    finish_interrupted_save(directory)
    found = {}
    for name in sorted(os.listdir(directory)):
        match = _FILE.match(name)
        if match:
            found.setdefault(match["checkpoint"], {}).setdefault(
                match["conn"], {})[match["suffix"]] = name
    if not found:
        raise ModelFileError(f"No <checkpoint>-<connection>-g.npy files in "
                             f"{directory}")
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
        raise ModelFileError(f"{name}: {owner} expects {size} {what} "
                             f"values, the file has {values.size} (shape "
                             f"{values.shape})")
    if values.ndim > 1 and values.shape != shape:
        raise ModelFileError(f"{name}: {owner} expects {what} flat"
                             f"{'' if shape is None else f' or {shape}'}, "
                             f"the file has shape {values.shape}")
    if not np.all(np.isfinite(values)):
        raise ModelFileError(f"{name}: {what} contain NaN or inf")
    if low is not None and (values.min() < low or values.max() > high):
        raise ModelFileError(
            f"{name}: {what} of {owner} must lie in [{low}, {high}], the "
            f"file has [{values.min()}, {values.max()}]")
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
