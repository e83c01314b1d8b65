"""Progress bars over the batches of a pass."""
import io
import re

import numpy as np
from ml_genn.callbacks import Callback

from ml_genn_delays import evaluate
from ml_genn_delays.training import BatchProgress
from networks import TinyNet, random_spikes

TIMESTEPS = 30


class PassEnds(Callback):
    """The ends of an evaluate pass it is told of, in order."""

    def __init__(self):
        self.calls = []

    def on_epoch_end(self, epoch, metrics):
        self.calls.append(("epoch", epoch))

    def on_test_end(self, metrics):
        self.calls.append(("test", metrics))


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
    quiet = io.StringIO()
    with compiled:
        compiled.train({net.inp: x}, {net.out: y}, num_epochs=2,
                       callbacks=[train_bar])
        ends = PassEnds()
        metrics, _ = evaluate(compiled, {net.inp: x[:2]}, {net.out: y[:2]},
                              callbacks=[test_bar, ends])
        # By default no bar where the output is not a terminal (logs)
        compiled.train({net.inp: x}, {net.out: y}, num_epochs=1,
                       callbacks=[BatchProgress("quiet", file=quiet)])
    assert quiet.getvalue() == ""
    # evaluate ends its pass as mlGeNN's evaluate does (callbacks that
    # report at the end, as mlGeNN's progress bar, get the metrics)
    assert ends.calls == [("epoch", 0), ("test", metrics)]
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
    # Each pass clears its bar when it ends (leave=False): the last thing
    # drawn is a blank line
    for out in (train.getvalue(), test.getvalue()):
        assert out.endswith("\r") and not out.split("\r")[-2].strip()
