"""Training time per example with and without learnable delays (CPU).

SHD-shaped network (700-256-20 LIF, 1 s at dt 1 ms, batch 1) on random
SHD-like input (~8000 input spikes per example, random labels). Variants,
all with the same initial weights and delays:

    a  no delays
    r  no delays, with the recurrent connection of d and e (d's baseline)
    b  ours: learnable feedforward (input->hidden) delays
    c  mlGeNN's delay_learn_conns path, same delays
    d  ours: learnable feedforward + recurrent delays
    e  mlGeNN's path, same feedforward + recurrent delays

All variants are compiled first, then timed interleaved (round-robin) so
machine load affects them alike. Medians over rounds are reported with the
hidden spikes per example, since EventProp's cost follows activity.

    python benchmarks/cpu_delay_overhead.py --max-delays 64 512 1000

Every variant is built with -O3 (our compiler's CPU default; mlGeNN's
variants are given the same); ``--unoptimised`` builds all of them at
GeNN's own CPU default, -O0.
"""
import argparse
import os
import sys

import numpy as np
from tqdm import tqdm

# Run as a script or loaded by path: the shared network sits beside it
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shd_network  # noqa: E402
from shd_network import (NUM_OUTPUTS, initial_values,  # noqa: E402
                         shd_like_input, time_interleaved, write_csv_atomic)
# variant: (style, feedforward delays, recurrent connection, its delays)
VARIANTS = {"a": ("ours", False, False, False),
            "r": ("ours", False, True, False),
            "b": ("ours", True, False, False),
            "c": ("mlgenn", True, False, False),
            "d": ("ours", True, True, True),
            "e": ("mlgenn", True, True, True)}
#: Variants without delays: one model serves every max delay
NO_DELAYS = ("a", "r")
# (name, numerator, denominator, per hidden spike, target or None); d is
# compared with the same network without delays (r), not without its
# recurrent connection (a)
RATIOS = [("b/c", "b", "c", False, 1.03), ("d/e", "d", "e", False, 1.03),
          ("b/a", "b", "a", False, None), ("d/r", "d", "r", False, None),
          ("b/a per spike", "b", "a", True, 1.2),
          ("d/r per spike", "d", "r", True, 1.5)]
# CSV column, printed header, format, width
TABLE = [("row", "row", "", 14), ("max_delay", "max delay", "", 10),
         ("ms_per_example", "ms/example", ".1f", 12),
         ("hidden_spikes_per_example", "hidden spikes", ".0f", 14),
         ("us_per_hidden_spike", "us/spike", ".2f", 10),
         ("ratio", "ratio", ".3f", 8), ("target", "target", "", 8),
         ("status", "status", "", 8)]
COLUMNS = [c for c, *_ in TABLE]


def build(variant, args, max_delay, init):
    """Compile one variant (key of :data:`VARIANTS`) with the sizes of
    ``args``; returns (compiled, input, hidden, output)."""
    style, ff, rec, rec_delays = VARIANTS[variant]
    opt = "" if args.optimize_code else "_O0"
    return shd_network.build(style, ff, rec, init, max_delay,
                             args.timesteps, 2 * args.spikes,
                             name=f"bench_{variant}_{max_delay}{opt}",
                             recurrent_delays=rec_delays,
                             optimize_code=args.optimize_code)


def make_rows(max_delay, med, spk):
    """Table rows (variants, then ratios) of one maximum delay."""
    blank = dict.fromkeys(COLUMNS, "")
    rows = [{**blank, "row": v, "max_delay": max_delay,
             "ms_per_example": 1e3 * t, "hidden_spikes_per_example": spk[v],
             "us_per_hidden_spike": 1e6 * t / max(spk[v], 1)}
            for v, t in med.items()]
    for name, num, den, per_spike, target in RATIOS:
        if num in med and den in med:
            ratio = med[num] / med[den]
            if per_spike:
                ratio *= max(spk[den], 1) / max(spk[num], 1)
            status = "" if target is None else (
                "PASS" if ratio <= target else "MISS")
            rows.append({**blank, "row": name, "max_delay": max_delay,
                         "ratio": ratio, "target": target or "",
                         "status": status})
    return rows


def main(argv=None):
    """Run the benchmark; print the table and write it as CSV.

    Parameters
    ----------
    argv : list of str, optional
        Command line arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    list of dict
        The table rows, as written to the CSV file.
    """
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    for name, default in [("inputs", 700), ("hidden", 256),
                          ("timesteps", 1000), ("rounds", 5),
                          ("spikes", 8000),     # input spikes per example
                          ("examples", 4)]:     # per round and variant
        parser.add_argument(f"--{name}", type=int, default=default)
    parser.add_argument("--max-delays", type=int, nargs="+",
                        default=[64, 512, 1000])
    parser.add_argument("--out", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "results",
        "cpu_delay_overhead.csv"))
    parser.add_argument("--unoptimised", dest="optimize_code",
                        action="store_false",
                        help="build every variant as GeNN does by default "
                             "on the CPU (-O0) instead of -O3")
    args = parser.parse_args(argv)

    # Fixed arrays, so every variant starts from identical weights/delays
    n_in = args.inputs
    init = initial_values(n_in, args.hidden, 1)
    rng = np.random.default_rng(3)
    x = shd_like_input(args.examples, n_in, args.timesteps, args.spikes, 2)
    y = rng.integers(0, NUM_OUTPUTS, args.examples)

    # Compile everything first; the no-delay models serve every max delay
    keys = [(v, d) for d in args.max_delays for v in VARIANTS
            if v not in NO_DELAYS or d == args.max_delays[0]]
    models = {k: build(k[0], args, k[1], init)
              for k in tqdm(keys, desc="compiling")}

    times, spikes = time_interleaved(models, x, y, args.rounds)

    rows = []
    for d in args.max_delays:
        key = {v: (v, args.max_delays[0] if v in NO_DELAYS else d)
               for v in VARIANTS}
        rows += make_rows(d, {v: times[k] for v, k in key.items()},
                          {v: spikes[k] for v, k in key.items()})

    print("\n" + "".join(f"{h:>{w}}" for _, h, _, w in TABLE))
    for r in rows:
        print("".join(f"{format(r[c], f) if r[c] != '' else '':>{w}}"
                      for c, _, f, w in TABLE))
    write_csv_atomic(args.out, rows, COLUMNS)
    return rows


if __name__ == "__main__":
    main()
