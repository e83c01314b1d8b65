"""What counting a layer's spikes per neuron costs during training.

The training runner needs each epoch's spikes per hidden neuron (silent
neurons get their input weights bumped; the CSV's spike rate). It used
mlGeNN's ``SpikeRecorder(record_counts=True)``, which pulls and decodes
the layer's spike recording at the end of every batch, on a GPU about
256 examples' worth each time; it now reads our never-reset spike
counters once per epoch (``ml_genn_delays.spike_counts``). This times one
SHD-shaped 700-256-20 network (learnable feedforward delays, 1000 steps,
batch 1 on the CPU) training epochs with the recorder and with two
counter reads, interleaved; the learning rates are 0, so every epoch is
the same and both ways must count the same spikes.

    python benchmarks/spike_counting.py
"""
import os
import sys
import time

import numpy as np
from ml_genn.callbacks import SpikeRecorder
from tqdm import tqdm

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shd_network  # noqa: E402
from shd_network import (cpu_benchmark_args,  # noqa: E402
                         print_table, write_csv_atomic)

from ml_genn_delays import spike_counts  # noqa: E402

COLUMNS = ["way", "ms_per_example", "spikes_per_epoch", "ratio_to_counters"]


def epoch(model, x, y, recorder):
    """One training epoch; (seconds, the hidden layer's spikes)."""
    compiled, inp, hid, out = model
    start = time.perf_counter()
    if recorder:
        _, data = compiled.train(
            {inp: x}, {out: y}, num_epochs=1, shuffle=False,
            callbacks=[SpikeRecorder(hid, key="hid", record_counts=True)])
        counts = np.sum(np.reshape(data["hid"], (-1, hid.shape[0])), axis=0)
    else:
        before = spike_counts(compiled, hid)
        compiled.train({inp: x}, {out: y}, num_epochs=1, shuffle=False)
        counts = spike_counts(compiled, hid) - before
    return time.perf_counter() - start, int(np.sum(counts))


def main(argv=None):
    args, init, x, y = cpu_benchmark_args(__doc__, "spike_counting.csv",
                                          argv)
    model = shd_network.build(
        "ours", True, False, init, args.max_delay, args.timesteps,
        2 * args.spikes, name=f"counting_{args.max_delay}")
    for optimiser, _ in model[0].optimisers:
        optimiser.alpha = 0.0    # (all the work, the same every epoch)
    times = {"recorder": [], "counters": []}
    spikes = {"recorder": [], "counters": []}
    with model[0]:
        # Untimed first epoch (first calls); then both ways, round-robin
        epoch(model, x, y, False)
        for _ in tqdm(range(args.rounds), desc="rounds"):
            for way in times:
                seconds, count = epoch(model, x, y, way == "recorder")
                times[way].append(seconds / len(x))
                spikes[way].append(count)
    if len({*spikes["recorder"], *spikes["counters"]}) != 1:
        raise RuntimeError(f"The two ways counted other spikes: {spikes}")
    counters = float(np.median(times["counters"]))
    rows = [{"way": way, "ms_per_example": 1e3 * float(np.median(t)),
             "spikes_per_epoch": float(np.median(spikes[way])),
             "ratio_to_counters": float(np.median(t)) / counters}
            for way, t in times.items()]
    print_table(rows, COLUMNS)
    write_csv_atomic(args.out, rows, COLUMNS)
    return rows


if __name__ == "__main__":
    main()
