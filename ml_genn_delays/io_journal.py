"""Writing several files of a folder as one: every old file or every new
one, never a mix, even when the process is killed part-way or another
process saves or loads in the same folder (MPI ranks that each save a
checkpoint; ``models/test.py`` run on a folder still being trained into).
Part of :mod:`ml_genn_delays.io`; pure Python.

A journal in the folder lists the temporary files the new contents go to
and hard-linked copies of the old files. Its name says how far a save got,
and whoever finds one finishes the job (:func:`finish_interrupted_save`):

- ``.pending-journal.json``: the files were being written; the temporary
  ones are removed and the old files stay;
- ``.save-journal.json``: all were written; the renames are finished;
- ``.undo-journal.json``: a rename failed; the renames made are undone.

A save may also remove files (an entry without a temporary file): they
go with the renames, and come back with an undo.

Saves hold an exclusive lock on the folder (``flock`` of the folder
itself, no lock file), readers a shared one (:func:`reading`).
"""
import json
import os
import re
import secrets
import shutil
from contextlib import contextmanager
from itertools import zip_longest

from .errors import ModelFileError

try:
    import fcntl
except ImportError:     # not POSIX: no locking, a kill is still safe
    fcntl = None

PENDING_JOURNAL = ".pending-journal.json"
JOURNAL = ".save-journal.json"
UNDO_JOURNAL = ".undo-journal.json"
JOURNALS = (PENDING_JOURNAL, JOURNAL, UNDO_JOURNAL)
# The temporary and backup names a journal may list (no model file's)
_TEMPORARY = re.compile(r"^\.tmp\.[0-9a-f]+\.\d+\.(new|old)$")


@contextmanager
def _locked(folder, shared=False):
    if fcntl is None:
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)    # releases the lock


def _has_journal(folder):
    return any(os.path.exists(os.path.join(folder, n)) for n in JOURNALS)


def atomic_save(path, write):
    """Write one file via a temporary file beside it: a crash leaves the
    old file or the new one, never half of one."""
    save_all([(path, write)])


def save_all(items, remove=None):
    """Write each ``(path, write)``, all in one folder, as one (see the
    module): ``write(f)`` writes the contents to an open binary file.
    ``remove(name)``: whether the save also removes the folder's file
    ``name`` (asked, under the lock, of each file not written). Returns
    the names of the files removed."""
    folders = {os.path.dirname(os.path.abspath(p)) for p, _ in items}
    if len(folders) != 1:
        raise ValueError(f"save_all writes into one folder, not {folders}")
    folder = folders.pop()
    for path, _ in items:
        if os.path.isdir(path):
            raise IsADirectoryError(f"Cannot write {path}: a folder of that "
                                    f"name is in the way; remove or rename "
                                    f"it")
    with writing(folder):
        token = secrets.token_hex(4)
        entries = [[f".tmp.{token}.{i}.new", os.path.basename(path),
                    f".tmp.{token}.{i}.old" if os.path.exists(path) else None]
                   for i, (path, _) in enumerate(items)]
        written = {name for _, name, _ in entries}
        entries += [[None, name, f".tmp.{token}.{len(items) + i}.old"]
                    for i, name in enumerate(sorted(
                        n for n in os.listdir(folder) if n not in written
                        and remove is not None and remove(n)))]
        pending, journal = (os.path.join(folder, name)
                            for name in (PENDING_JOURNAL, JOURNAL))
        try:
            _write(pending, lambda f: f.write(json.dumps(entries).encode()))
            writes = [write for _, write in items]
            for (temporary, name, backup), write in zip_longest(entries,
                                                                writes):
                if temporary is not None:
                    _write(os.path.join(folder, temporary), write)
                if backup is not None:
                    _link_or_copy(os.path.join(folder, name),
                                  os.path.join(folder, backup))
            os.replace(pending, journal)
        except BaseException:
            _finish(folder)
            raise
        try:
            for temporary, name, _ in entries:
                if temporary is None:
                    os.unlink(os.path.join(folder, name))
                else:
                    os.replace(os.path.join(folder, temporary),
                               os.path.join(folder, name))
        except BaseException:
            os.replace(journal, os.path.join(folder, UNDO_JOURNAL))
            _finish(folder)
            raise
        _finish(folder)
    return [name for temporary, name, _ in entries if temporary is None]


def finish_interrupted_save(folder):
    """Complete what a journal in ``folder`` says a save left undone
    (waiting for a save in progress to end). Nothing to do where there is
    no journal; every step may be taken twice."""
    if _has_journal(folder):
        with _locked(folder):
            _finish(folder)


@contextmanager
def writing(folder):
    """Change files of ``folder``: interrupted saves are finished first,
    and other saves and readers wait until the block ends."""
    with _locked(folder):
        _finish(folder)
        yield


@contextmanager
def reading(folder):
    """Read several files of ``folder`` as one save left them: interrupted
    saves are finished first, and saves wait until the block ends."""
    if not os.path.isdir(folder):
        yield       # the reader says what is missing
        return
    while True:
        finish_interrupted_save(folder)
        with _locked(folder, shared=True):
            # (a save killed between the two: finish it, then read)
            if not _has_journal(folder):
                yield
                return


def _finish(folder):
    for name in JOURNALS:
        journal = os.path.join(folder, name)
        if not os.path.exists(journal):
            continue
        try:
            entries = _entries(journal)
        except (OSError, TypeError, ValueError) as error:
            raise ModelFileError(
                f"{journal}: the journal of an interrupted save is "
                f"damaged ({error}). Removing it and the .tmp.* files "
                f"keeps the files as that save left them, possibly part "
                f"old, part new") from error
        try:
            _replay(folder, entries, forward=name == JOURNAL)
            os.unlink(journal)
        except OSError as error:
            raise ModelFileError(
                f"{folder}: a save there was interrupted, and finishing it "
                f"failed ({error}); make the folder writable and try "
                f"again") from error


def _entries(journal):
    """The journal's ``[temporary, file, backup or None]`` entries
    (``[None, file, backup]``: a file the save removes), each a plain
    name in the folder (a journal from elsewhere must not name files
    outside it)."""
    with open(journal) as f:
        text = f.read()
    try:
        entries = json.loads(text)
    except ValueError:
        if not journal.endswith(PENDING_JOURNAL):
            raise
        return []       # killed while writing it: nothing else written yet
    if not isinstance(entries, list):
        raise ValueError("not a list of entries")
    for entry in entries:
        if not (isinstance(entry, list) and len(entry) == 3
                and isinstance(entry[1], str)
                and (_TEMPORARY.match(entry[0]) if entry[0] is not None
                     else isinstance(entry[2], str))
                and entry[1] == os.path.basename(entry[1])
                and entry[1] not in ("", ".", "..")
                and (entry[2] is None or (isinstance(entry[2], str)
                                          and _TEMPORARY.match(entry[2])))):
            raise ValueError(f"entry {entry!r} is not [temporary name, "
                             f"file name, backup name or null]")
    return entries


def _replay(folder, entries, forward):
    """Redo (``forward``) or undo the renames ``entries`` list; the old
    files' copies are removed only once every rename is redone or undone
    (a failure part-way can still be undone)."""
    backups = []
    for temporary, name, backup in entries:
        path = os.path.join(folder, name)
        backup = backup and os.path.join(folder, backup)
        if temporary is None:       # a file the save removes
            if forward and os.path.exists(path):
                os.unlink(path)
            elif not forward and os.path.exists(backup):
                os.replace(backup, path)
            backups.append(backup)
            continue
        temporary = os.path.join(folder, temporary)
        renamed = not os.path.exists(temporary)
        if forward and not renamed:
            os.replace(temporary, path)
        elif not forward and not renamed:
            os.unlink(temporary)
        elif not forward and backup and os.path.exists(backup):
            os.replace(backup, path)
        elif not forward and not backup and os.path.exists(path):
            os.unlink(path)     # a new file: there was none before
        if backup:
            backups.append(backup)
    for backup in backups:
        if os.path.exists(backup):
            os.unlink(backup)


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
