"""What GeNN's -O0 CPU default costs: the same models built both ways.

GeNN compiles CPU models without optimisation unless its ``optimize_code``
preference is set; our EventPropCompiler sets it on the CPU backend. This
times the SHD-shaped 700-256-20 network (1000 steps, batch 1, ~8000 input
spikes per example) with (a) no delays, (b) learnable feedforward delays,
(d) feedforward + recurrent delays, each built at -O0 and at -O3, compiled
first and timed interleaved; prints ms per example and the speed-up.

    python benchmarks/cpu_optimisation.py
"""
import os
import sys

from tqdm import tqdm

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shd_network  # noqa: E402
from shd_network import (cpu_benchmark_args,  # noqa: E402
                         print_table, time_interleaved, write_csv_atomic)

# variant: (feedforward delays, recurrent connection with delays)
VARIANTS = {"a": (False, False), "b": (True, False), "d": (True, True)}
COLUMNS = ["variant", "ms_O0", "ms_O3", "speedup", "hidden_spikes_O0",
           "hidden_spikes_O3"]


def main(argv=None):
    args, init, x, y = cpu_benchmark_args(__doc__, "cpu_optimisation.csv",
                                          argv)
    keys = [(v, opt) for v in VARIANTS for opt in (False, True)]
    models = {(v, opt): shd_network.build(
        "ours", *VARIANTS[v], init, args.max_delay, args.timesteps,
        2 * args.spikes, name=f"opt_{v}_{int(opt)}_{args.max_delay}",
        optimize_code=opt) for v, opt in tqdm(keys, desc="compiling")}
    times, spikes = time_interleaved(models, x, y, args.rounds)
    rows = [{"variant": v, "ms_O0": 1e3 * times[v, False],
             "ms_O3": 1e3 * times[v, True],
             "speedup": times[v, False] / times[v, True],
             "hidden_spikes_O0": spikes[v, False],
             "hidden_spikes_O3": spikes[v, True]} for v in VARIANTS]
    print_table(rows, COLUMNS)
    write_csv_atomic(args.out, rows, COLUMNS)
    return rows


if __name__ == "__main__":
    main()
