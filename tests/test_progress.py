"""Progress bars over the batches of a pass."""
import io
import re

import numpy as np

from ml_genn_delays import evaluate
from ml_genn_delays.training import BatchProgress
from networks import TinyNet, random_spikes

TIMESTEPS = 30


def test_batch_progress_counts_every_batch_of_train_and_test():
    # Drawn into strings: disable=False (tqdm draws nothing off a terminal)
    net = TinyNet("ours")
    x = random_spikes(3, 5, TIMESTEPS, 0.2, seed=2)
    y = np.array([0, 1, 2])
    compiled = net.compile(TIMESTEPS, "progress")
    train, test = io.StringIO(), io.StringIO()
    train_bar = BatchProgress("train", file=train, mininterval=0,
                              disable=False)
    test_bar = BatchProgress("test", file=test, mininterval=0,
                             disable=False)
    with compiled:
        compiled.train({net.inp: x}, {net.out: y}, num_epochs=2,
                       callbacks=[train_bar])
        evaluate(compiled, {net.inp: x[:2]}, {net.out: y[:2]},
                 callbacks=[test_bar])
    # One bar per pass (each epoch counts again), over its batches (CPU:
    # one example each)
    for out, n in ((train.getvalue(), 3), (test.getvalue(), 2)):
        counts = [(int(k), int(t))
                  for k, t in re.findall(r"\| *(\d+)/(\d+) \[", out)]
        assert (0, n) in counts and (n, n) in counts
        assert all(t == n and k <= n for k, t in counts), counts
        # A bar that lost its total draws "Kit [": none may (a rate such
        # as "2244.14it/s" is not a count, hence the look-behind)
        assert not re.findall(r"(?<![\d.])\d+it \[", out)
    assert train.getvalue().count(" 3/3") == 2
    assert train.getvalue().startswith("\rtrain:")
    assert test.getvalue().startswith("\rtest:")
