"""A save killed part-way (SIGKILL, as a cluster's time limit does) leaves a
model directory that loads as the old checkpoint or the new one, never a
mix: the next load finishes or undoes the interrupted renames."""
import json
import os
import subprocess
import sys
import threading
import time

import pytest

from ml_genn_delays import ModelFileError, load_model
from ml_genn_delays.io_files import is_model_file
from ml_genn_delays.io_journal import (finish_interrupted_save, reading,
                                       save_all)
from networks import TinyNet

# Saves TinyNet(seed=argv[4]) as checkpoint 3 into argv[1]; os.replace
# call number argv[2] kills the process, call number argv[3] fails (0:
# none). One network a process, so the connections' names are the same
SAVE_AND_DIE = """
import os, signal, sys
sys.path.insert(0, {tests!r})
from networks import TinyNet
from ml_genn_delays import save_model
kill_at, fail_at = int(sys.argv[2]), int(sys.argv[3])
real_replace, calls = os.replace, []

def replace(src, dst):
    calls.append(dst)
    if len(calls) == fail_at:
        raise OSError("simulated failure")
    if len(calls) == kill_at:
        os.kill(os.getpid(), signal.SIGKILL)
    return real_replace(src, dst)

os.replace = replace
save_model(TinyNet("ours", recurrent=True, seed=int(sys.argv[4])).network,
           sys.argv[1], checkpoint=3)
"""


def contents(folder):
    return {n: (folder / n).read_bytes() for n in sorted(os.listdir(folder))}


def save(folder, kill_at=0, fail_at=0, seed=7):
    script = SAVE_AND_DIE.format(tests=os.path.dirname(__file__))
    run = subprocess.run([sys.executable, "-c", script, str(folder),
                          str(kill_at), str(fail_at), str(seed)],
                         capture_output=True)
    assert run.returncode == (-9 if kill_at else 0), run.stderr.decode()


@pytest.fixture(scope="module")
def saves(tmp_path_factory):
    """The folder's files after an old save (seed 1) and a new one."""
    root = tmp_path_factory.mktemp("saves")
    save(root / "old", seed=1)
    save(root / "new", seed=7)
    return contents(root / "old"), contents(root / "new")


def save_and_die(tmp_path, saves, kill_at, fail_at=0):
    folder = tmp_path / "model"
    folder.mkdir()
    for name, data in saves[0].items():
        (folder / name).write_bytes(data)
    save(folder, kill_at, fail_at)
    return folder


@pytest.mark.parametrize("kill_at", [1, 2, 3, 5, "last"])
def test_a_killed_save_loads_whole(tmp_path, saves, kill_at):
    # Call 1 puts the journal in place; calls 2.. rename the files
    old, new = saves
    kill_at = len(new) + 1 if kill_at == "last" else kill_at
    folder = save_and_die(tmp_path, saves, kill_at)
    left = [n for n in os.listdir(folder) if n.startswith(".")]
    assert left and not [n for n in left if is_model_file(n)]
    load_model(TinyNet("ours", recurrent=True, seed=2).network, folder)
    assert contents(folder) == (old if kill_at == 1 else new)


def test_a_kill_while_undoing_a_failed_rename_loads_the_old(tmp_path, saves):
    # Call 3 (the second file's rename) fails; call 4 turns the journal
    # into the undo journal; call 5, the first file's restore, kills
    old, new = saves
    folder = save_and_die(tmp_path, saves, kill_at=5, fail_at=3)
    assert ".undo-journal.json" in os.listdir(folder)
    assert contents(folder) != old
    load_model(TinyNet("ours", recurrent=True, seed=2).network, folder)
    assert contents(folder) == old


def test_the_next_save_finishes_a_killed_one_first(tmp_path, saves):
    old, new = saves
    folder = save_and_die(tmp_path, saves, kill_at=3)
    save(folder, seed=7)
    assert contents(folder) == new


def test_a_damaged_journal_is_explained(tmp_path, saves):
    folder = save_and_die(tmp_path, saves, kill_at=3)
    (folder / ".save-journal.json").write_text("not json")
    with pytest.raises(ModelFileError, match="journal of an interrupted "
                       "save is damaged.*part old, part new"):
        load_model(TinyNet("ours", recurrent=True, seed=2).network, folder)


@pytest.mark.parametrize("entry", [
    ["/etc/x", "a", None], [".tmp.ab.0.new", "../victim", None],
    [".tmp.ab.0.new", "a", "/tmp/victim"], "abc"])
def test_a_journal_naming_files_elsewhere_is_refused(tmp_path, entry):
    # A model folder from elsewhere must not make a load delete or
    # overwrite files outside it (a review deleted one this way)
    folder, victim = tmp_path / "model", tmp_path / "victim"
    folder.mkdir()
    victim.write_text("keep")
    (folder / ".undo-journal.json").write_text(json.dumps([entry]))
    with pytest.raises(ModelFileError, match="damaged.*is not"):
        finish_interrupted_save(str(folder))
    assert victim.read_text() == "keep"


def test_saves_and_reads_in_one_folder_wait_for_each_other(tmp_path):
    # MPI ranks each saving a checkpoint into one folder, or a load while
    # training saves: the fixed journal names collided, and a reader
    # replayed a save in progress (FileNotFoundError, stray files)
    folder = tmp_path / "model"
    folder.mkdir()
    errors = []

    def slow_save(value):
        def write(f):
            time.sleep(0.3)
            f.write(value)
        try:
            save_all([(str(folder / "a"), write), (str(folder / "b"), write)])
        except Exception as error:      # reported below
            errors.append(error)

    savers = [threading.Thread(target=slow_save, args=(v,))
              for v in (b"1", b"2")]
    for saver in savers:
        saver.start()
    time.sleep(0.1)
    with reading(str(folder)):      # waits for the saves under way
        seen = ((folder / "a").read_bytes(), (folder / "b").read_bytes())
    for saver in savers:
        saver.join()
    assert not errors
    assert seen[0] == seen[1] and seen[0] in (b"1", b"2")
    assert (folder / "a").read_bytes() == (folder / "b").read_bytes()
    assert sorted(os.listdir(folder)) == ["a", "b"]


def test_a_kill_while_writing_the_journal_leaves_the_old(tmp_path, saves):
    # The pending journal is written before any other file: cut short,
    # it is dropped and the old files stay
    old, new = saves
    folder = save_and_die(tmp_path, saves, kill_at=1)
    journal = folder / ".pending-journal.json"
    assert journal.exists()
    for name in os.listdir(folder):
        if name.startswith(".tmp."):
            os.unlink(folder / name)
    journal.write_bytes(journal.read_bytes()[:30])
    load_model(TinyNet("ours", recurrent=True, seed=2).network, folder)
    assert contents(folder) == old


@pytest.mark.parametrize("kill_at, fail_at", [
    (0, 0), (1, 0), (3, 0), ("last", 0), (5, 3), ("unlink", 0)])
def test_a_checkpoint_saved_again_loses_its_stale_files_as_one(
        tmp_path, saves, kill_at, fail_at):
    # A file of checkpoint 3 this save does not write (a connection since
    # renamed) goes with its renames, and comes back with an undo; another
    # checkpoint's stays
    old, new = saves
    stale, other = {"3-renamed-g.npy": b"stale"}, {"2-renamed-g.npy": b"2"}
    folder = tmp_path / "model"
    folder.mkdir()
    for name, data in {**old, **stale, **other}.items():
        (folder / name).write_bytes(data)
    if kill_at == "unlink":     # the removal itself kills
        script = SAVE_AND_DIE.replace(
            "os.replace = replace", "os.replace = replace\n"
            "real_unlink = os.unlink\n"
            "os.unlink = lambda path: os.kill(os.getpid(), signal.SIGKILL)"
            " if path.endswith('3-renamed-g.npy') else real_unlink(path)"
            ).replace("kill_at, fail_at = ", "kill_at, fail_at = 0, 0 #")
    else:
        script = SAVE_AND_DIE
        kill_at = len(new) + 1 if kill_at == "last" else kill_at
    run = subprocess.run([sys.executable, "-c", script.format(
        tests=os.path.dirname(__file__)), str(folder), str(kill_at),
        str(fail_at), "7"], capture_output=True)
    assert run.returncode == (0 if kill_at == 0 else -9), run.stderr.decode()
    finish_interrupted_save(str(folder))
    kept_old = kill_at == 1 or fail_at
    assert contents(folder) == ({**old, **stale, **other} if kept_old
                                else {**new, **other})
