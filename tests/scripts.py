"""Load the repository's scripts (examples, models, benchmarks) as modules
and read the accuracy line they end with."""
import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load_script(folder, name):
    spec = importlib.util.spec_from_file_location(
        f"{folder}_{name}", ROOT / folder / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def last_accuracy(text):
    """The NN.NN of the last 'test accuracy: NN.NN%' line."""
    lines = [l for l in text.splitlines() if l.startswith("test accuracy:")]
    assert lines, text
    return float(re.match(r"test accuracy: (\d+\.\d\d)%$", lines[-1])[1])
