"""Data-parallel training on the CPU backend with MPI (mpirun -n 2)."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mpi_train import build_network
from networks import TinyNet

HERE = Path(__file__).resolve().parent


def run(args, cwd):
    env = dict(os.environ, PYTHONPATH=str(HERE) + os.pathsep
               + os.environ.get("PYTHONPATH", ""))
    subprocess.run(args, cwd=cwd, env=env, check=True, timeout=600)


@pytest.mark.parametrize("kind", ["synaptic", "axonal", "dendritic",
                                  "mixed_adlif", "sparse"])
def test_two_ranks_equal_one_process_with_same_total_batch(kind, tmp_path):
    script = str(HERE / "mpi_train.py")
    run([sys.executable, script, str(tmp_path / "one"), "4", kind],
        tmp_path)
    run(["mpirun", "-n", "2", sys.executable, script, str(tmp_path / "two"),
         "4", kind], tmp_path)
    names = sorted(os.listdir(tmp_path / "one"))
    assert names == sorted(os.listdir(tmp_path / "two"))
    for name in names:
        if not name.endswith(".npy"):
            continue
        one = np.load(tmp_path / "one" / name)
        two = np.load(tmp_path / "two" / name)
        np.testing.assert_allclose(two, one, rtol=1e-5, atol=1e-6)
    # Training moved the parameters (two optimiser steps of batch 4)
    if kind == "synaptic":
        moved = [("-d.npy", TinyNet("ours", recurrent=True).d_in.ravel())]
    elif kind == "sparse":
        moved = [("-d.npy", build_network(kind)[4][0].delay_spec.init)]
    else:
        conn = build_network(kind)[4][0]
        init = conn.delay_spec.init
        moved = ([("-da.npy", init[0]), ("-dd.npy", init[1]),
                  ("-a.npy", 0.3)]  # AdLIF's a starts at 0.3
                 if kind == "mixed_adlif"
                 else [({"axonal": "-da.npy",
                         "dendritic": "-dd.npy"}[kind], init)])
    for suffix, initial in moved:
        first = sorted(n for n in names if n.endswith(suffix))[0]
        change = np.abs(np.load(tmp_path / "one" / first) - initial)
        assert change.max() > 1e-4, first


def test_ranks_draw_the_same_initial_weights_and_delays(tmp_path):
    # rng_seed 0 (the default) lets each rank's GeNN seed itself: weights
    # and delays from initializers differed between ranks, which then
    # trained different networks on shared gradients
    run(["mpirun", "-n", "2", sys.executable, str(HERE / "mpi_train.py"),
         str(tmp_path / "two"), "4", "initializers"], tmp_path)
    names = sorted(n for n in os.listdir(tmp_path / "two" / "rank0")
                   if n.endswith(".npy"))
    assert len(names) == 3  # two weight files, one delay file
    for name in names:
        rank0 = np.load(tmp_path / "two" / "rank0" / name)
        np.testing.assert_array_equal(
            np.load(tmp_path / "two" / "rank1" / name), rank0)
        assert np.unique(rank0).size > 1  # drawn, not constant


def test_unequal_shares_refused_on_every_rank(tmp_path):
    # Rank 0 with one example fewer paired its all-reduce with rank 1's
    # next step, or left rank 1 waiting for ever
    env = dict(os.environ, PYTHONPATH=str(HERE) + os.pathsep
               + os.environ.get("PYTHONPATH", ""))
    result = subprocess.run(
        ["mpirun", "-n", "2", sys.executable, str(HERE / "mpi_train.py"),
         str(tmp_path / "two"), "4", "uneven"], cwd=tmp_path, env=env,
        capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    for rank, count in ((0, 3), (1, 4)):
        assert (f"rank {rank}) has {count}, the 2 ranks 7 together"
                in result.stderr), result.stderr[-2000:]
    assert not (tmp_path / "two").exists()


def test_a_silent_layer_is_reported_by_rank_0_only(tmp_path):
    # Every rank holds the same weights: one warning, not one per rank
    run(["mpirun", "-n", "2", sys.executable, str(HERE / "mpi_train.py"),
         str(tmp_path / "two"), "4", "silent"], tmp_path)
    said = [(tmp_path / f"two-rank{r}.txt").read_text() for r in (0, 1)]
    assert said == ["1", "0"]

