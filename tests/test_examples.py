"""Examples run end to end and end with the 'test accuracy' line."""
import importlib.util
import re
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def load(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def last_accuracy(text):
    lines = [l for l in text.splitlines() if l.startswith("test accuracy:")]
    assert lines, text
    return float(re.match(r"test accuracy: (\d+\.\d\d)%$", lines[-1])[1])


def test_sequence_detection_example(capsys):
    load("sequence_detection").main(["--epochs", "30"])
    assert last_accuracy(capsys.readouterr().out) == 100.0
    load("sequence_detection").main(["--epochs", "5", "--no-delays"])
    assert last_accuracy(capsys.readouterr().out) == 50.0


def test_train_yin_yang_example_runs(capsys):
    load("train_yin_yang").main(["--epochs", "1", "--max-examples", "64",
                                 "--hidden", "5"])
    accuracy = last_accuracy(capsys.readouterr().out)
    assert 0.0 <= accuracy <= 100.0
