"""Benchmarks run at tiny size (their figures come from full runs)."""
import csv
import importlib.util
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def load(name):
    spec = importlib.util.spec_from_file_location(name,
                                                  BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cpu_delay_overhead_tiny(tmp_path):
    out = tmp_path / "results" / "overhead.csv"
    load("cpu_delay_overhead").main(
        ["--inputs", "20", "--hidden", "8", "--timesteps", "50",
         "--spikes", "200", "--examples", "2", "--rounds", "2",
         "--max-delays", "5", "10", "--out", str(out)])
    with open(out) as f:
        rows = list(csv.DictReader(f))
    for max_delay in ("5", "10"):
        times = {r["row"]: float(r["ms_per_example"]) for r in rows
                 if r["max_delay"] == max_delay and r["ratio"] == ""}
        assert sorted(times) == ["a", "b", "c", "d", "e"]
        assert all(t > 0 for t in times.values())
        ratios = [r for r in rows
                  if r["max_delay"] == max_delay and r["ratio"] != ""]
        assert len(ratios) == 4
        assert all(r["status"] in ("PASS", "MISS") for r in ratios)
    assert not list(out.parent.glob("*.tmp"))
