"""Every training example runs end to end on fixture data (CPU backend,
one short epoch) and writes its model in the release layout, a CSV and a
PNG; a resumed run equals an uninterrupted one."""
import csv
import dataclasses
import json
import os
import shutil
import re

import numpy as np
import pytest
from fixtures import write_braille, write_heidelberg

from ml_genn_delays.resume import STATE_ARRAYS
from ml_genn_delays.configs import get_config
from ml_genn_delays.datasets.splits import load_splits
from ml_genn_delays.run_folder import read_run
from ml_genn_delays.runner import TrainingRun, pruning_schedule
from scripts import ROOT, last_accuracy, load_script

QUICK = ["--epochs", "1", "--max-examples", "12", "--batch-size", "4",
         "--hidden", "16", "--backend", "cpu", "--no-progress"]


def rows(run_dir):
    with open(run_dir / "training.csv") as f:
        return list(csv.DictReader(f))


def check_run(run_dir, epochs, delays=True):
    files = sorted(p.name for p in run_dir.iterdir())
    assert {"training.png", "raster.png", "manifest.json"} <= set(files)
    assert (run_dir / "resume" / STATE_ARRAYS).exists()
    # One checkpoint kept: the best epoch on validation
    checkpoints = {f.split("-")[0] for f in files if f.endswith(".npy")}
    assert len(checkpoints) == 1
    assert any(f.endswith("-d.npy") for f in files) == delays
    table = rows(run_dir)
    assert [int(r["epoch"]) for r in table] == list(range(epochs))
    for r in table:
        assert 0.0 <= float(r["test_accuracy"]) <= 1.0
        assert float(r["hidden_rate_hz"]) >= 0.0
        assert float(r["epoch_time_s"]) > 0.0
    return table


@pytest.mark.parametrize("dataset, arch, neuron, kind", [
    ("shd", "shd_rec_64", "lif", "synaptic"),
    ("ssc", "ssc_ff_64", "lif", "synaptic"),
    ("shd", "shd_ff_64", "adlif", "synaptic"),
    ("shd", "shd_rec_64", "adlif", "axonal+dendritic")])
def test_heidelberg_examples(dataset, arch, neuron, kind, tmp_path, capsys):
    # 12 examples per split: --max-examples 12 trains on all of them, so
    # test set and trial length (from the latest spike) match test.py's
    write_heidelberg(tmp_path / "data", dataset, n=12)
    example = load_script("examples", f"train_{dataset}")
    example.main(["--data-dir", str(tmp_path / "data"), "--arch", arch,
                  "--out", str(tmp_path / "out"), "--neuron", neuron,
                  "--delay-kind", kind, *QUICK])
    trained = last_accuracy(capsys.readouterr().out)
    arch += ("" if kind == "synaptic" else "_" + kind.replace("+", "_"))
    arch += "_adlif" if neuron == "adlif" else ""
    table = check_run(tmp_path / "out" / arch.replace("64", "16") / "0", 1,
                      delays=kind == "synaptic")
    if kind != "synaptic":
        files = [p.name for p in
                 (tmp_path / "out" / arch.replace("64", "16") / "0").iterdir()]
        assert any(f.endswith("-da.npy") for f in files)
        assert any(f.endswith("-dd.npy") for f in files)
    if neuron == "adlif":
        # Learned tau_mem, tau_adapt, a, b of the hidden layer are saved
        files = [p.name for p in
                 (tmp_path / "out" / arch.replace("64", "16") / "0").iterdir()]
        assert sum(f.endswith(("-tau_mem.npy", "-tau_adapt.npy", "-a.npy",
                               "-b.npy")) for f in files) == 4
    # SHD holds 10% of its training set out for validation; SSC has one
    assert table[0]["valid_accuracy"] != ""
    # models/test.py re-evaluates the saved model: same accuracy
    assert load_script("models", "test").main(
        ["--arch", arch.replace("64", "16"), "--model-dir",
         str(tmp_path / "out"), "--data-dir", str(tmp_path / "data"),
         "--backend", "cpu"]) == 0
    out = capsys.readouterr().out
    assert f"test accuracy {trained:.2f}%" in out, out


def test_braille_example(tmp_path, capsys):
    write_braille(tmp_path / "data")
    load_script("examples", "train_braille").main(
        ["--data-dir", str(tmp_path / "data"), "--arch", "braille_ff_64",
         "--no-delays", "--out", str(tmp_path / "out"), "--seed", "1",
         *QUICK])
    trained = last_accuracy(capsys.readouterr().out)
    check_run(tmp_path / "out" / "braille_ff_16_nodelay" / "1", 1,
              delays=False)
    # Braille's split depends on the seed: models/test.py tests seed 1 on
    # seed 1's test set (seed 0's holds some of seed 1's training data),
    # capped at the run's --max-examples as in training
    test = load_script("models", "test")
    config = read_run(tmp_path / "out" / "braille_ff_16_nodelay" / "1")["config"]
    tests = [test.test_data(config, tmp_path / "data", seed)[1]
             for seed in (0, 1)]
    assert not all(np.array_equal(a.spike_times, b.spike_times)
                   for a, b in zip(*tests))
    seeds_tested = []
    real_test_data = test.test_data

    def test_data(config, data_dir, seed=0, max_examples=None, fitted=False):
        seeds_tested.append((seed, max_examples))
        assert fitted     # the run's run.json: its trial length is kept
        return real_test_data(config, data_dir, seed, max_examples, fitted)
    test.test_data = test_data
    assert test.main(["--arch", "braille_ff_16_nodelay", "--seed", "1",
                      "--model-dir", str(tmp_path / "out"), "--data-dir",
                      str(tmp_path / "data"), "--backend", "cpu"]) == 0
    assert seeds_tested == [(1, 12)]
    assert f"test accuracy {trained:.2f}%" in capsys.readouterr().out


def test_test_script_keeps_the_trained_trial_length(tmp_path):
    """A run's trial length was fitted to all the data it trained on; the
    test split alone (capped as in training) may end earlier, and refitting
    to it would test another network than the one trained."""
    from dataclasses import replace
    write_heidelberg(tmp_path / "data", "shd", n=12)
    test = load_script("models", "test")
    named = get_config("shd_ff_16")
    refitted = test.test_data(named, tmp_path / "data", 0, 4)[0]
    trained = replace(refitted, example_time=refitted.example_time + 250.0)
    config = test.test_data(trained, tmp_path / "data", 0, 4, fitted=True)[0]
    assert config.example_time == trained.example_time


def test_yin_yang_published_setup_runs(tmp_path, capsys):
    load_script("examples", "train_yin_yang").main(
        ["--published", "--hidden", "5", "--epochs", "1", "--max-examples",
         "8", "--batch-size", "4", "--out", str(tmp_path), "--no-progress"])
    assert 0.0 <= last_accuracy(capsys.readouterr().out) <= 100.0
    check_run(tmp_path / "yy_ff_5" / "0", 1)


def test_resume_equals_uninterrupted_run(tmp_path, capsys):
    """Blend and shift augmentation, ease-in, silent-neuron bumps,
    recurrent delays: two epochs straight equal one epoch, stop,
    --resume, one more."""
    write_heidelberg(tmp_path / "data", "shd", n=30)
    args = ["--data-dir", str(tmp_path / "data"), "--arch", "shd_rec_64",
            "--max-examples", "24", "--batch-size", "4", "--hidden", "16",
            "--backend", "cpu", "--no-progress"]
    example = load_script("examples", "train_shd")
    example.main([*args, "--epochs", "2", "--out", str(tmp_path / "a")])
    example.main([*args, "--epochs", "1", "--out", str(tmp_path / "b")])
    example.main([*args, "--epochs", "2", "--out", str(tmp_path / "b"),
                  "--resume"])
    capsys.readouterr()
    runs = [tmp_path / d / "shd_rec_16" / "0" for d in "ab"]
    states = [np.load(r / "resume" / STATE_ARRAYS) for r in runs]
    changed = False
    for key in states[0].files:
        if key != "__epoch__":
            np.testing.assert_allclose(states[1][key], states[0][key],
                                       rtol=1e-6, atol=1e-7, err_msg=key)
            changed |= key.endswith("/delay") and np.any(states[0][key] != 0)
    assert changed  # delays did learn
    table_a, table_b = rows(runs[0]), rows(runs[1])
    for key in ("train_accuracy", "valid_accuracy", "test_accuracy",
                "delay_mean", "weight_lr"):
        assert [r[key] for r in table_a] == [r[key] for r in table_b]


def test_resume_without_state_is_a_clear_error(tmp_path):
    example = load_script("examples", "train_yin_yang")
    with pytest.raises(SystemExit, match="No training state"):
        example.main(["--hidden", "5", "--max-examples", "8", "--out",
                      str(tmp_path), "--resume", "--no-progress"])


def test_keep_delays_prunes_during_training(tmp_path, capsys):
    write_heidelberg(tmp_path / "data", "shd", n=12)
    load_script("examples", "train_shd").main(
        ["--data-dir", str(tmp_path / "data"), "--arch", "shd_ff_64",
         "--out", str(tmp_path / "out"), "--keep-delays", "0.5",
         *[a if a != "1" else "5" for a in QUICK]])
    capsys.readouterr()
    table = rows(tmp_path / "out" / "shd_ff_16" / "0")
    kept = [float(r["delays_nonzero"]) for r in table]
    # Uniform(0, 100) initial delays, all non-zero; stage 1 of 5 keeps 90%
    assert kept[0] == pytest.approx(0.9, abs=0.01)
    assert kept[-1] <= 0.5 + 1e-9          # after the 5 stages
    assert all(a >= b for a, b in zip(kept, kept[1:]))
    # The model is selected from the last stage on (it was selected at
    # epoch 0, with 90% of its delays, when no later epoch did better)
    saved = list((tmp_path / "out" / "shd_ff_16" / "0").glob("*-d.npy"))
    assert saved and all(p.name.startswith("4-") for p in saved)
    assert all(np.mean(np.load(p) != 0) <= 0.5 + 1e-9 for p in saved)


def test_resumed_pruning_keeps_the_first_runs_stages(tmp_path, capsys):
    """Training longer on resume must not move the pruning stages: a
    2-epoch run prunes at the end of epochs 0 and 1 (2 stages: a short run
    still reaches the fraction asked for); 40 epochs would put 5 stages at
    epochs 3, 7, ... (every 4). Mixed delays keep one mask per kind (their
    run crashed saving its state)."""
    example = load_script("examples", "train_yin_yang")
    args = ["--hidden", "5", "--max-examples", "8", "--batch-size", "4",
            "--out", str(tmp_path), "--no-progress", "--keep-delays", "0.5",
            "--delay-kind", "axonal+dendritic"]
    example.main([*args, "--epochs", "2"])
    run = tmp_path / "yy_ff_5_axonal_dendritic" / "0"
    schedule = {"every": 1, "start": 0, "stages": 2}
    assert json.loads((run / "run.json").read_text())["pruning"] == schedule
    assert float(rows(run)[-1]["delays_nonzero"]) <= 0.5 + 1e-9
    config = dataclasses.replace(read_run(run)["config"], epochs=40)
    resumed = TrainingRun(config, load_splits(config, None, 8), seed=0,
                          out=str(tmp_path), resume=True, keep_delays=0.5,
                          progress=False)
    assert (resumed.pruning.every, resumed.pruning.start,
            resumed.pruning.stages) == (1, 0, 2)
    assert resumed.description["pruning"] == schedule
    resumed.close()     # (it holds the folder until it has run)
    # The masks come back: pruned delays stay pruned, none is taken back
    example.main([*args, "--epochs", "3", "--resume"])
    capsys.readouterr()
    kept = [float(r["delays_nonzero"]) for r in rows(run)]
    assert len(kept) == 3 and kept[2] == kept[1]


def test_pruning_schedule_reaches_the_fraction_in_short_runs():
    assert pruning_schedule(1) == {"every": 1, "start": 0, "stages": 1}
    assert pruning_schedule(4) == {"every": 1, "start": 0, "stages": 4}
    assert pruning_schedule(10) == {"every": 1, "start": 0, "stages": 5}
    # 10% .. 50% of 100 epochs: the ends of epochs 10, 20, ..., 50
    assert pruning_schedule(100) == {"every": 10, "start": 9, "stages": 5}


def test_fresh_run_refuses_a_folder_holding_a_model(tmp_path, capsys):
    # A saved or released model has no training.csv or run.json; a fresh
    # run used to train into its folder and delete its files
    import shutil
    run = tmp_path / "yy_ff_5" / "0"
    shutil.copytree(ROOT / "models" / "yy_ff_5" / "0", run)
    (run / "training.csv").unlink()
    before = sorted(p.name for p in run.iterdir())
    with pytest.raises(SystemExit, match="already holds a run "
                                         r"\(manifest.json, model files "
                                         r"such as 57-"):
        load_script("examples", "train_yin_yang").main(
            ["--hidden", "5", "--epochs", "1", "--max-examples", "8",
             "--batch-size", "4", "--out", str(tmp_path), "--no-progress"])
    assert sorted(p.name for p in run.iterdir()) == before


def test_a_run_stopped_before_its_first_epoch_says_overwrite(tmp_path):
    # Killed before an epoch ended: run.json only, nothing to resume; both
    # messages used to send the user to the other option
    example = load_script("examples", "train_yin_yang")
    args = ["--hidden", "5", "--epochs", "1", "--max-examples", "8",
            "--batch-size", "4", "--out", str(tmp_path), "--no-progress"]
    example.main(args)
    run = tmp_path / "yy_ff_5" / "0"
    for name in os.listdir(run):
        if name != "run.json":
            path = run / name
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    for extra in ([], ["--resume"]):
        with pytest.raises(SystemExit, match="stopped before its first "
                           "epoch ended.*start it again with --overwrite"):
            example.main([*args, *extra])
    example.main([*args, "--overwrite"])
    assert (run / "training.csv").exists()


def test_resume_takes_the_arguments_not_given_again(tmp_path, capsys):
    # run.json records the arguments: --resume needs only those naming
    # the run's folder (here --arch) and what changes (--epochs)
    example = load_script("examples", "train_yin_yang")
    first = ["--hidden", "5", "--epochs", "1", "--max-examples", "8",
             "--batch-size", "4", "--keep-delays", "0.5", "--out",
             str(tmp_path), "--no-progress"]
    example.main(first)
    run = tmp_path / "yy_ff_5" / "0"
    recorded = json.loads((run / "run.json").read_text())["command_line"]
    assert recorded["batch_size"] == 4 and "no_progress" not in recorded
    capsys.readouterr()
    example.main(["--arch", "yy_ff_5", "--epochs", "2", "--resume",
                  "--out", str(tmp_path), "--no-progress"])
    assert len(rows(run)) == 2
    # Given again, an argument still wins (and is checked as before)
    with pytest.raises(SystemExit, match="batch_size: 4 then, 8 now"):
        example.main(["--arch", "yy_ff_5", "--epochs", "3", "--resume",
                      "--batch-size", "8", "--out", str(tmp_path),
                      "--no-progress"])
    # A recorded value the parser would refuse now (edited by hand, or
    # a choice of another version) is refused as on the command line
    saved = json.loads((run / "run.json").read_text())
    for key, value in (("delay_kind", "radial"), ("keep_delays", 2.0),
                       ("batch_size", "4"), ("recurrent", "yes")):
        edited = json.loads(json.dumps(saved))
        edited["command_line"][key] = value
        (run / "run.json").write_text(json.dumps(edited))
        with pytest.raises(SystemExit):
            example.main(["--arch", "yy_ff_5", "--epochs", "3", "--resume",
                          "--out", str(tmp_path), "--no-progress"])
        option = "--" + key.replace("_", "-")
        assert (f"the resumed run's run.json records {option} {value!r}, "
                f"which is not a valid {option} now: give {option} again"
                in capsys.readouterr().err)
    assert len(rows(run)) == 2
    # A run of a version with other Config fields: said, not a TypeError
    saved["config"]["retired_field"] = 1
    (run / "run.json").write_text(json.dumps(saved))
    with pytest.raises(SystemExit, match="other settings .*retired_field"):
        example.main(["--arch", "yy_ff_5", "--epochs", "3", "--resume",
                      "--out", str(tmp_path), "--no-progress"])


def test_published_shd_selects_on_training_accuracy(tmp_path, capsys):
    """As the paper's script: no validation split held out of SHD."""
    write_heidelberg(tmp_path / "data", "shd", n=12)
    load_script("examples", "train_shd").main(
        ["--data-dir", str(tmp_path / "data"), "--published",
         "--out", str(tmp_path / "out"), *QUICK])
    capsys.readouterr()
    table = rows(tmp_path / "out" / "shd_rec_16" / "0")
    assert table[0]["valid_accuracy"] == ""
    # 12 examples plus 7644/8156 of them as blends
    assert float(table[0]["train_accuracy"]) * 23 == pytest.approx(
        round(float(table[0]["train_accuracy"]) * 23))


def test_runs_are_kept_and_resume_checks_the_settings(tmp_path, capsys):
    example = load_script("examples", "train_yin_yang")
    args = ["--hidden", "5", "--epochs", "1", "--max-examples", "8",
            "--batch-size", "4", "--out", str(tmp_path), "--no-progress"]
    example.main(args)
    run = tmp_path / "yy_ff_5" / "0"
    first = (run / "training.csv").read_bytes()
    # A quick test with other settings would land in the same folder
    with pytest.raises(SystemExit, match="already holds a run.*--resume"
                                         ".*--overwrite"):
        example.main([*args, "--published"])
    assert (run / "training.csv").read_bytes() == first
    # Resuming with other settings would mix them (dt 0.1 -> 0.005 ms)
    with pytest.raises(SystemExit, match="dt: 0.1 then, 0.005 now"):
        example.main([*args, "--published", "--resume"])
    # Pruning switched on (or off) on resume would un-prune or prune anew
    with pytest.raises(SystemExit, match="keep_delays: None then, 0.5 now"):
        example.main([*args, "--keep-delays", "0.5", "--resume"])
    # Training longer is a resume, whatever the name of the same network
    # (yy_ff_30 --hidden 5 is yy_ff_5)
    example.main(["--arch", "yy_ff_5", "--epochs", "2", *args[4:],
                  "--resume"])
    assert len(rows(run)) == 2
    # ...and training less is refused before anything is rewritten
    recorded = (run / "run.json").read_bytes()
    with pytest.raises(SystemExit, match="trained 2 epochs already; resume"
                                         " with --epochs 2 or more"):
        example.main([*args, "--resume"])
    assert (run / "run.json").read_bytes() == recorded
    example.main([*args, "--overwrite"])
    assert len(rows(run)) == 1
    capsys.readouterr()


def test_recurrent_yin_yang_run_reevaluates(tmp_path, capsys):
    # yy_rec_N has no published base; it is the feedforward set-up made
    # recurrent, and models/test.py rebuilds it from the run's run.json.
    # Seeds named differently (yy_ff_30 --hidden 5 --recurrent, yy_rec_5)
    # are the same set-up: the name is a label
    example = load_script("examples", "train_yin_yang")
    quick = ["--epochs", "1", "--max-examples", "20", "--batch-size", "4",
             "--out", str(tmp_path), "--no-progress"]
    example.main(["--recurrent", "--hidden", "5", *quick])
    example.main(["--arch", "yy_rec_5", "--seed", "1", *quick])
    assert 0.0 <= last_accuracy(capsys.readouterr().out) <= 100.0
    assert load_script("models", "test").main(
        ["--arch", "yy_rec_5", "--model-dir", str(tmp_path),
         "--backend", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "yy_rec_5 seed 0: test accuracy" in out
    assert "yy_rec_5 seed 1: test accuracy" in out


@pytest.mark.parametrize("args, message", [
    (["--epochs", "0"], "--epochs: must be at least 1"),
    (["--max-examples", "-1"], "--max-examples: must be at least 1"),
    (["--hidden", "0"], "--hidden: must be at least 1"),
    (["--batch-size", "0"], "--batch-size: must be at least 1"),
    (["--seed", "-1"], "--seed: must be at least 0"),
    # numpy's seeds are 32-bit: its ValueError came as a traceback
    (["--seed", "4294967296"], "--seed: must be at most 4294967295"),
    # Yin-Yang is generated: a data folder was ignored without a word
    (["--data-dir", "somewhere"], "Yin-Yang is generated, not read"),
    (["--keep-delays", "0"], r"--keep-delays: must lie in \(0, 1\]"),
    (["--no-delays", "--keep-delays", "0.5"], "this run has none")])
def test_bad_arguments_are_usage_errors(args, message, tmp_path, capsys):
    # Refused by the parser, before data are made or anything is written
    with pytest.raises(SystemExit) as stop:
        load_script("examples", "train_yin_yang").main(
            [*args, "--out", str(tmp_path / "out")])
    assert stop.value.code == 2
    assert re.search(message, capsys.readouterr().err)
    assert not (tmp_path / "out").exists()


def test_a_yin_yang_run_recording_a_data_dir_resumes(tmp_path, capsys):
    """Earlier versions took and recorded --data-dir for Yin-Yang; the new
    refusal of it must not refuse their --resume (review)."""
    example = load_script("examples", "train_yin_yang")
    args = ["--hidden", "5", "--epochs", "1", "--max-examples", "8",
            "--batch-size", "4", "--out", str(tmp_path), "--no-progress"]
    example.main(args)
    path = tmp_path / "yy_ff_5" / "0" / "run.json"
    run = json.loads(path.read_text())
    run["command_line"]["data_dir"] = "/somewhere"
    path.write_text(json.dumps(run))
    example.main([*args, "--epochs", "2", "--resume"])
    assert "test accuracy" in capsys.readouterr().out


def test_out_that_is_a_file_is_a_usage_error(tmp_path, capsys):
    (tmp_path / "afile").write_text("")
    with pytest.raises(SystemExit) as stop:
        load_script("examples", "train_yin_yang").main(
            ["--out", str(tmp_path / "afile")])
    assert stop.value.code == 2
    assert "afile is a file, not a folder" in capsys.readouterr().err


def test_ctrl_c_says_how_to_go_on(tmp_path, capsys, monkeypatch):
    """An interrupted run ended in a KeyboardInterrupt traceback from
    inside the saving code, with no word of --resume (a trial)."""
    from ml_genn_delays import runner

    def interrupted(self):
        raise KeyboardInterrupt
    example = load_script("examples", "train_yin_yang")
    args = ["--hidden", "5", "--max-examples", "8", "--batch-size", "4",
            "--out", str(tmp_path), "--no-progress"]
    train = runner.TrainingRun._run
    monkeypatch.setattr(runner.TrainingRun, "_run", interrupted)
    with pytest.raises(SystemExit) as stop:
        example.main(args)
    assert stop.value.code == 130
    assert ("interrupted: nothing was written; start again with the same "
            "arguments") in capsys.readouterr().err
    # After an epoch: where the state is, and --resume
    monkeypatch.setattr(runner.TrainingRun, "_run", train)
    example.main([*args, "--epochs", "1"])
    monkeypatch.setattr(runner.TrainingRun, "_run", interrupted)
    with pytest.raises(SystemExit):
        example.main([*args, "--epochs", "2", "--resume"])
    err = capsys.readouterr().err
    assert "yy_ff_5" in err and "keeps the state after epoch 0" in err
    assert "--resume" in err
