"""Data-parallel training on the CPU backend with MPI (mpirun -n 2)."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from networks import TinyNet

HERE = Path(__file__).resolve().parent


def run(args, cwd):
    env = dict(os.environ, PYTHONPATH=str(HERE) + os.pathsep
               + os.environ.get("PYTHONPATH", ""))
    subprocess.run(args, cwd=cwd, env=env, check=True, timeout=600)


def test_two_ranks_equal_one_process_with_same_total_batch(tmp_path):
    script = str(HERE / "mpi_train.py")
    run([sys.executable, script, str(tmp_path / "one"), "4"], tmp_path)
    run(["mpirun", "-n", "2", sys.executable, script, str(tmp_path / "two"),
         "4"], tmp_path)
    names = sorted(os.listdir(tmp_path / "one"))
    assert names == sorted(os.listdir(tmp_path / "two"))
    for name in names:
        if not name.endswith(".npy"):
            continue
        one = np.load(tmp_path / "one" / name)
        two = np.load(tmp_path / "two" / name)
        np.testing.assert_allclose(two, one, rtol=1e-5, atol=1e-6)
    # Training moved the parameters (two optimiser steps of batch 4)
    initial = TinyNet("ours", recurrent=True)
    first = sorted(n for n in names if n.endswith("-d.npy"))[0]
    moved = np.abs(np.load(tmp_path / "one" / first) - initial.d_in.ravel())
    assert moved.max() > 1e-4
