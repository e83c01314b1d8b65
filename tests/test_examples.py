"""Examples run end to end and end with the 'test accuracy' line."""
from scripts import last_accuracy, load_script


def test_sequence_detection_example(capsys):
    example = load_script("examples", "sequence_detection")
    example.main(["--epochs", "30"])
    assert last_accuracy(capsys.readouterr().out) == 100.0
    example.main(["--epochs", "5", "--no-delays"])
    assert last_accuracy(capsys.readouterr().out) == 50.0


def test_sequence_detection_seed_repeats_and_no_progress_is_quiet(capsys):
    example = load_script("examples", "sequence_detection")
    runs = []
    for _ in range(2):
        example.main(["--epochs", "20", "--delay-kind", "axonal", "--seed",
                      "2", "--no-progress"])
        runs.append(capsys.readouterr())
    assert runs[0].out == runs[1].out and "learned delays" in runs[0].out
    # tqdm's bar writes to stderr
    assert runs[0].err == ""


def test_sequence_detection_with_axonal_delays_alone(capsys):
    example = load_script("examples", "sequence_detection")
    example.main(["--epochs", "100", "--delay-kind", "axonal"])
    assert last_accuracy(capsys.readouterr().out) == 100.0
    example.main(["--epochs", "5", "--delay-kind", "axonal", "--no-delays"])
    assert last_accuracy(capsys.readouterr().out) == 0.0


def test_train_yin_yang_example_runs(capsys, tmp_path):
    load_script("examples", "train_yin_yang").main(
        ["--epochs", "1", "--max-examples", "64", "--hidden", "5",
         "--batch-size", "16", "--out", str(tmp_path)])
    assert 0.0 <= last_accuracy(capsys.readouterr().out) <= 100.0
    # Saved in the release layout under the architecture's name
    assert (tmp_path / "yy_ff_5" / "0" / "manifest.json").exists()
    assert any(p.name.startswith("0-") and p.name.endswith("-d.npy")
               for p in (tmp_path / "yy_ff_5" / "0").iterdir())


def test_sequence_detection_with_dendritic_delays_alone(capsys):
    example = load_script("examples", "sequence_detection")
    example.main(["--epochs", "100", "--delay-kind", "dendritic"])
    out = capsys.readouterr().out
    assert last_accuracy(out) == 100.0
    example.main(["--epochs", "5", "--delay-kind", "dendritic",
                  "--no-delays"])
    assert last_accuracy(capsys.readouterr().out) == 0.0
