"""Benchmarks run at tiny size (their figures come from full runs)."""
import csv

import pytest

from scripts import load_script


def test_cpu_delay_overhead_tiny(tmp_path):
    out = tmp_path / "results" / "overhead.csv"
    load_script("benchmarks", "cpu_delay_overhead").main(
        ["--inputs", "20", "--hidden", "8", "--timesteps", "50",
         "--spikes", "500", "--examples", "2", "--rounds", "2",
         "--max-delays", "5", "10", "--out", str(out)])
    with open(out) as f:
        rows = list(csv.DictReader(f))
    for max_delay in ("5", "10"):
        mine = [r for r in rows if r["max_delay"] == max_delay]
        variants = {r["row"]: r for r in mine if r["ratio"] == ""}
        assert sorted(variants) == ["a", "b", "c", "d", "e", "r"]
        for r in variants.values():
            assert float(r["ms_per_example"]) > 0
            assert float(r["us_per_hidden_spike"]) > 0
            assert float(r["hidden_spikes_per_example"]) >= 0
        ratios = {r["row"]: r for r in mine if r["ratio"] != ""}
        assert sorted(ratios) == ["b/a", "b/a per spike", "b/c",
                                  "d/e", "d/r", "d/r per spike"]
        assert all(float(r["ratio"]) > 0 for r in ratios.values())
        # d's baseline is the same recurrent network without delays
        assert (float(ratios["d/r"]["ratio"]) == pytest.approx(
            float(variants["d"]["ms_per_example"])
            / float(variants["r"]["ms_per_example"])))
        targeted = [r for r in ratios.values() if r["target"] != ""]
        assert len(targeted) == 4
        assert all(r["status"] in ("PASS", "MISS") for r in targeted)
    assert not list(out.parent.glob("*.tmp"))


def test_gpu_shd_runs_on_cpu_at_tiny_size(tmp_path):
    """The GPU comparison script, CPU backend, batch 1 (DCLS needs torch
    and is left out here)."""
    out = tmp_path / "gpu_shd.csv"
    load_script("benchmarks", "gpu_shd").main(
        ["--backend", "cpu", "--batch-size", "1", "--hidden", "8",
         "--layers", "2", "--inputs", "20", "--timesteps", "50",
         "--spikes", "200", "--max-delays", "5", "--variants", "a", "b",
         "c", "--batches", "2", "--warmup", "1", "--profile", "--out",
         str(out)])
    with open(out) as f:
        rows = {r["row"]: r for r in csv.DictReader(f)}
    for variant in ("a no delays", "b ours", "c mlGeNN delay path"):
        assert float(rows[variant]["s_per_batch"]) > 0, rows[variant]
        assert float(rows[variant]["memory_mib"]) > 0
        assert rows[variant]["device"].startswith("CPU")
        assert rows[variant]["note"] == "peak RSS"  # how memory was taken
    assert rows["b/c time"]["status"] in ("PASS", "MISS")
    assert rows["b/a time"]["target"] == "<= 1.2"
    assert "d/b time" not in rows
    assert out.with_suffix(".png").exists()
    # GeNN's kernel timers: every part of a batch, shares adding up to 1
    with open(tmp_path / "gpu_shd_profile.csv") as f:
        profile = list(csv.DictReader(f))
    for variant in ("a no delays", "b ours", "c mlGeNN delay path"):
        parts = {r["part"]: r for r in profile if r["variant"] == variant}
        assert {"neuron update", "presynaptic update",
                "custom update GradientLearn", "host and other"} <= set(parts)
        assert float(parts["presynaptic update"]["ms_per_batch"]) > 0
        assert sum(float(r["share"]) for r in parts.values()) == \
            pytest.approx(1.0)


def test_delay_kinds_tiny(tmp_path):
    out = tmp_path / "kinds.csv"
    load_script("benchmarks", "delay_kinds").main(
        ["--inputs", "20", "--hidden", "8", "--timesteps", "50",
         "--spikes", "300", "--examples", "2", "--rounds", "2",
         "--max-delay", "10", "--recurrent", "--out", str(out)])
    with open(out) as f:
        rows = {r["kind"]: r for r in csv.DictReader(f)}
    assert sorted(rows) == ["axonal", "axonal+dendritic", "dendritic", "none",
                            "synaptic"]
    assert float(rows["none"]["delay_state_kib"]) == 0.0
    # Axonal and dendritic delay state is O(n), synaptic O(n_pre * n_post)
    for kind in ("axonal", "dendritic", "axonal+dendritic"):
        assert (float(rows[kind]["delay_state_kib"])
                < 0.5 * float(rows["synaptic"]["delay_state_kib"]))
    assert all(float(r["ms_per_example"]) > 0 for r in rows.values())


def test_adaptive_neurons_tiny(tmp_path):
    out = tmp_path / "neurons.csv"
    load_script("benchmarks", "adaptive_neurons").main(
        ["--inputs", "20", "--hidden", "8", "--timesteps", "50",
         "--spikes", "300", "--examples", "2", "--rounds", "2",
         "--max-delay", "10", "--out", str(out)])
    with open(out) as f:
        rows = {r["neuron"]: r for r in csv.DictReader(f)}
    assert sorted(rows) == ["adlif_fixed", "adlif_learned", "lif"]
    assert float(rows["lif"]["time_vs_lif"]) == 1.0
    assert all(float(r["ms_per_example"]) > 0 for r in rows.values())


def test_cpu_optimisation_tiny(tmp_path):
    out = tmp_path / "opt.csv"
    load_script("benchmarks", "cpu_optimisation").main(
        ["--inputs", "20", "--hidden", "8", "--timesteps", "50",
         "--spikes", "300", "--examples", "2", "--rounds", "2",
         "--max-delay", "10", "--out", str(out)])
    with open(out) as f:
        rows = {r["variant"]: r for r in csv.DictReader(f)}
    assert sorted(rows) == ["a", "b", "d"]
    for r in rows.values():
        assert float(r["ms_O0"]) > 0 and float(r["ms_O3"]) > 0
        # same model, same input: the build flags change no spike
        assert r["hidden_spikes_O0"] == r["hidden_spikes_O3"]


def test_cpu_memory_is_the_workers_own():
    # gpu_shd runs each variant in a child process; Linux keeps ru_maxrss
    # across fork and exec, so a child reported its parent's peak (here
    # raised by 300 MB) where that was larger
    import subprocess
    import sys

    import numpy as np
    from scripts import ROOT
    gpu_shd = load_script("benchmarks", "gpu_shd")
    held = np.ones(300 * 2 ** 20 // 8)     # touched: resident
    parent = gpu_shd._peak_rss_mib()
    child = float(subprocess.run(
        [sys.executable, "-c",
         "import sys; sys.path.insert(0, sys.argv[1]); "
         "from gpu_shd import _peak_rss_mib; print(_peak_rss_mib())",
         str(ROOT / "benchmarks")],
        capture_output=True, text=True, check=True).stdout.split()[-1])
    assert held.sum() > 0 and child < parent - 150


def test_spike_counting_tiny(tmp_path):
    out = tmp_path / "counting.csv"
    load_script("benchmarks", "spike_counting").main(
        ["--inputs", "20", "--hidden", "8", "--timesteps", "50",
         "--spikes", "3000", "--examples", "3", "--rounds", "2",
         "--max-delay", "10", "--out", str(out)])
    with open(out) as f:
        rows = {r["way"]: r for r in csv.DictReader(f)}
    assert sorted(rows) == ["counters", "recorder"]
    # The same spikes counted both ways (it raises otherwise), and some
    assert rows["recorder"]["spikes_per_epoch"] == \
        rows["counters"]["spikes_per_epoch"]
    assert float(rows["counters"]["spikes_per_epoch"]) > 0
    assert float(rows["recorder"]["ms_per_example"]) > 0


def test_gpu_shd_keeps_every_row_and_appends(tmp_path, capsys):
    """What a one-shot GPU session relies on: each variant's result is
    printed and written as it comes (a call cut short keeps them), a
    later call adds rows with --append (DCLS last), and a variant that
    fails is a row with its error, not a lost table."""
    script = load_script("benchmarks", "gpu_shd")
    out = tmp_path / "t.csv"
    common = ["--backend", "cpu", "--batch-size", "1", "--hidden", "8",
              "--layers", "1", "--inputs", "20", "--timesteps", "50",
              "--spikes", "200", "--batches", "2", "--warmup", "1",
              "--out", str(out)]
    script.main([*common, "--max-delays", "5", "--variants", "a", "b"])
    printed = [line for line in capsys.readouterr().out.splitlines()
               if line.startswith('{"variant"')]
    assert len(printed) == 2
    # The worker of c cannot run its model in 0.001 s: an error row
    script.main([*common, "--max-delays", "5", "--variants", "c",
                 "--append", "--run-timeout", "0.001"])
    with open(out) as f:
        rows = {r["row"]: r for r in csv.DictReader(f)}
    assert float(rows["a no delays"]["s_per_batch"]) > 0
    assert float(rows["b ours"]["s_per_batch"]) > 0
    assert rows["b/a time"]["target"] == "<= 1.2"
    assert rows["c mlGeNN delay path"]["s_per_batch"] == ""
    assert "over --run-timeout" in rows["c mlGeNN delay path"]["note"]
    assert "b/c time" not in rows
