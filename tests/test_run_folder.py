"""A training run's folder (run_folder.py) and what the runner does in
it: GeNN code per folder, one process at a time (RunLock), --overwrite,
model selection with pruning, the order of saves around a kill."""
import os

import pytest

from test_edges import _yy_run


# runner: runs side by side (one per seed, or per --out of a sweep) build
# GeNN code of their own; the training examples all built into
# ./train_<dataset>_CODE, and a trial's two runs of one architecture and
# seed in two folders ran one another's code
def test_runs_in_other_folders_build_apart(tmp_path):
    from ml_genn_delays.run_folder import model_name
    names = [model_name(tmp_path / out / "yy_ff_5" / seed)
             for out, seed in (("a", "0"), ("a", "1"), ("b", "0"))]
    assert len(set(names)) == 3
    assert model_name(str(tmp_path / "a" / "yy_ff_5" / "0") + "/") == names[0]
    run = _yy_run(tmp_path / "a")
    assert run.compiled.genn_model.name.startswith(names[0])
    run.close()


# runner: a kill after a new best was saved, before the resume state
# was, leaves the best the state names (it was removed first)
def test_a_kill_before_the_state_is_saved_keeps_the_earlier_best(
        tmp_path, monkeypatch):
    import ml_genn_delays.runner as runner
    def better_each_epoch(run):
        make_row = run._row
        monkeypatch.setattr(run, "_row", lambda epoch, *args: {
            **make_row(epoch, *args), "valid_accuracy": epoch / 10})
        return run
    run = better_each_epoch(_yy_run(tmp_path, epochs=3))
    saves = []

    def killed_at_epoch_1(compiled, directory, state):
        if state["epoch"] == 1:
            raise KeyboardInterrupt
        saves.append(state["best_epoch"])
        save_training_state(compiled, directory, state)
    save_training_state = runner.save_training_state
    monkeypatch.setattr(runner, "save_training_state", killed_at_epoch_1)
    with pytest.raises(KeyboardInterrupt):
        run.run()
    run_dir = tmp_path / "yy_ff_5" / "0"
    assert saves == [0]
    assert {p.name.split("-")[0] for p in run_dir.glob("*.npy")} >= {"0"}
    # The resumed run first removes epoch 1's model, which its state does
    # not name (load_model and models/test.py took it, the newest)...
    monkeypatch.undo()
    resumed = better_each_epoch(_yy_run(tmp_path, resume=True, epochs=2))
    train = resumed.compiled.train
    checkpoints = []

    def look_first(*args, **kwargs):
        checkpoints.append({p.name.split("-")[0]
                            for p in run_dir.glob("*.npy")})
        return train(*args, **kwargs)
    monkeypatch.setattr(resumed.compiled, "train", look_first)
    # ...then selects epoch 1 again and removes epoch 0
    assert resumed.run().best_epoch == 1
    assert checkpoints[0] == {"0"}
    assert {p.name.split("-")[0] for p in run_dir.glob("*.npy")} == {"1"}


# runner: a pruned run resumed with fewer epochs than its last pruning
# stage, from which its model is selected, is refused: it saved no model
# and the command line failed on a None accuracy (review)
def test_pruned_run_resumed_before_its_last_stage_is_refused(tmp_path,
                                                            monkeypatch):
    import ml_genn_delays.runner as runner
    from ml_genn_delays.configs import get_config
    from ml_genn_delays.datasets.splits import load_splits
    from ml_genn_delays.run_folder import ResumeMismatchError
    from ml_genn_delays.runner import TrainingRun

    def make(epochs, resume=False):
        config = get_config("yy_ff_5", batch_size=2, epochs=epochs)
        return TrainingRun(config, load_splits(config, None, 8), seed=0,
                           out=str(tmp_path), resume=resume, keep_delays=0.5,
                           progress=False)
    save = runner.save_training_state

    def killed_after_epoch_1(compiled, directory, state):
        save(compiled, directory, state)
        if state["epoch"] == 1:
            raise KeyboardInterrupt
    monkeypatch.setattr(runner, "save_training_state", killed_after_epoch_1)
    with pytest.raises(KeyboardInterrupt):
        make(20).run()       # stages at the ends of epochs 1, 3, ..., 9
    monkeypatch.undo()
    with pytest.raises(ResumeMismatchError, match=r"pruned until epoch 9, "
                       r"and its model is selected from there on; resume "
                       r"with --epochs 10 or more"):
        make(4, resume=True)


# runner: --overwrite removes the earlier run's files when the new run
# starts: its resume/ was resumed as the new run's when that stopped in
# its first epoch, and its model read with the new run.json
def test_overwrite_removes_the_earlier_run(tmp_path, monkeypatch):
    _yy_run(tmp_path, epochs=1).run()
    run_dir = tmp_path / "yy_ff_5" / "0"
    assert (run_dir / "resume").is_dir() and list(run_dir.glob("*.npy"))
    fresh = _yy_run(tmp_path, epochs=1, max_spikes=90, overwrite=True)

    def killed(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(fresh.compiled, "train", killed)
    with pytest.raises(KeyboardInterrupt):
        fresh.run()
    assert sorted(p.name for p in run_dir.iterdir()) == ["run.json"]
    from ml_genn_delays.run_folder import ResumeMismatchError
    with pytest.raises(ResumeMismatchError, match="nothing to resume"):
        _yy_run(tmp_path, resume=True, epochs=1, max_spikes=90)


# run_folder.RunLock: one process per run folder; a second --overwrite
# deleted a live run's files under it, a second --resume wrote the same
# files (a trial). Two TrainingRuns of one process conflict the same way
def test_a_run_folder_is_held_while_its_run_lives(tmp_path, capsys):
    from ml_genn_delays.run_folder import RunInUseError
    from scripts import load_script
    live = _yy_run(tmp_path)
    with pytest.raises(RunInUseError, match="Another process is training"):
        _yy_run(tmp_path, overwrite=True)
    example = load_script("examples", "train_yin_yang")
    with pytest.raises(SystemExit, match="error: Another process is "
                       "training in .*: wait for it to end"):
        example.main(["--hidden", "5", "--max-examples", "8", "--out",
                      str(tmp_path), "--overwrite", "--no-progress"])
    live.close()
    _yy_run(tmp_path, overwrite=True).close()   # free again
    # run() lets it go at its end, and runs once
    ran = _yy_run(tmp_path, epochs=1, overwrite=True)
    ran.run()
    _yy_run(tmp_path, resume=True, epochs=1).close()
    with pytest.raises(RuntimeError, match="runs once"):
        ran.run()


# runner: the resume clean-up keeps the only model there is: a run of an
# earlier version, killed after removing its old best and before saving
# its state, holds only the newer epoch's files (review)
def test_resume_keeps_a_newer_model_when_the_best_ones_files_are_gone(
        tmp_path, monkeypatch):
    import ml_genn_delays.runner as runner
    save = runner.save_training_state

    def killed_at_epoch_1(compiled, directory, state):
        if state["epoch"] == 1:
            raise KeyboardInterrupt
        save(compiled, directory, state)
    run = _yy_run(tmp_path, epochs=3)
    make_row = run._row
    monkeypatch.setattr(run, "_row", lambda epoch, *args: {
        **make_row(epoch, *args), "valid_accuracy": epoch / 10})
    monkeypatch.setattr(runner, "save_training_state", killed_at_epoch_1)
    with pytest.raises(KeyboardInterrupt):
        run.run()
    monkeypatch.undo()
    run_dir = tmp_path / "yy_ff_5" / "0"
    for path in run_dir.glob("0-*.npy"):
        path.unlink()
    resumed = _yy_run(tmp_path, resume=True, epochs=2)
    seen = []
    train = resumed.compiled.train
    monkeypatch.setattr(resumed.compiled, "train", lambda *a, **k: (
        seen.append({p.name.split("-")[0] for p in run_dir.glob("*.npy")})
        or train(*a, **k)))
    resumed.run()
    assert seen[0] == {"1"}
    assert list(run_dir.glob("*.npy"))


# run_folder.RunLock: a holder that lets go removes the lock file; a
# process that opened the old file just before (and so locks a file no
# longer there) must see that and not count as holding the folder (review)
def test_a_lock_taken_on_a_removed_lock_file_does_not_count(tmp_path):
    import fcntl
    from ml_genn_delays.run_folder import LOCK_FILE, RunInUseError, RunLock
    folder = tmp_path / "yy_ff_5" / "0"
    first = RunLock(str(folder))
    late = open(folder / LOCK_FILE, "a")      # opened before the close
    first.close()
    assert not folder.exists()                 # made by it, left empty
    fcntl.flock(late.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    second = RunLock(str(folder))              # the path is free
    assert not second._ours(late) and second._ours(second._file)
    with pytest.raises(RunInUseError):
        RunLock(str(folder))
    # A lock file removed under its holder: closing still lets go
    os.unlink(folder / LOCK_FILE)
    second.close()
    assert second.closed
    late.close()


# run_folder.RunLock without file locks (no fcntl, or a file system that
# refuses flock): it says so, and leaves no lock file behind (review)
def test_a_run_folder_without_file_locks_warns_and_leaves_nothing(
        tmp_path, monkeypatch):
    import ml_genn_delays.run_folder as run_folder
    monkeypatch.setattr(run_folder, "fcntl", None)
    folder = tmp_path / "yy_ff_5" / "0"
    with pytest.warns(UserWarning, match="no file locks on this system"):
        lock = run_folder.RunLock(str(folder))
    assert list(folder.iterdir()) == []
    lock.close()
    assert lock.closed and not folder.exists()
