"""Training time per example with and without learnable delays (CPU).

SHD-shaped network (700-256-20 LIF, 1 s at dt 1 ms, batch 1) on random
SHD-like input (~8000 input spikes per example, random labels). Variants,
all with the same initial weights and delays:

    a  no delays
    b  ours: learnable feedforward (input->hidden) delays
    c  mlGeNN's delay_learn_conns path, same delays
    d  ours: learnable feedforward + recurrent delays
    e  mlGeNN's path, same feedforward + recurrent delays

All variants are compiled first, then timed interleaved (round-robin) so
machine load affects them alike. Medians over rounds are reported with the
hidden spikes per example, since EventProp's cost follows activity.

    python benchmarks/cpu_delay_overhead.py --max-delays 64 512 1000
"""
import argparse
import csv
import os
import time

import numpy as np
from ml_genn import Connection as MLGeNNConnection, Network, Population
from ml_genn.callbacks import SpikeRecorder
from ml_genn.compilers import EventPropCompiler as MLGeNNCompiler
from ml_genn.compilers.event_prop_compiler import default_params
from ml_genn.connectivity import Dense
from ml_genn.neurons import LeakyIntegrate, LeakyIntegrateFire, SpikeInput
from ml_genn.optimisers import Adam
from ml_genn.synapses import Exponential
from ml_genn.utils.data import preprocess_spikes
from tqdm import tqdm

from ml_genn_delays import Connection, EventPropCompiler, Learnable, evaluate

NUM_OUTPUTS = 20
# variant: (style, feedforward delays, recurrent delays)
VARIANTS = {"a": ("ours", False, False), "b": ("ours", True, False),
            "c": ("mlgenn", True, False), "d": ("ours", True, True),
            "e": ("mlgenn", True, True)}
# (name, numerator, denominator, per hidden spike, target or None)
RATIOS = [("b/c", "b", "c", False, 1.03), ("d/e", "d", "e", False, 1.03),
          ("b/a", "b", "a", False, None), ("d/a", "d", "a", False, None),
          ("b/a per spike", "b", "a", True, 1.2),
          ("d/a per spike", "d", "a", True, 1.5)]
# CSV column, printed header, format, width
TABLE = [("row", "row", "", 14), ("max_delay", "max delay", "", 10),
         ("ms_per_example", "ms/example", ".1f", 12),
         ("hidden_spikes_per_example", "hidden spikes", ".0f", 14),
         ("us_per_hidden_spike", "us/spike", ".2f", 10),
         ("ratio", "ratio", ".3f", 8), ("target", "target", "", 8),
         ("status", "status", "", 8)]
COLUMNS = [c for c, *_ in TABLE]


def shd_like_input(num_examples, num_inputs, timesteps, spikes, seed):
    """``num_examples`` uniformly random examples of ``spikes`` spikes
    (fixed ``seed``: every variant sees the same input)."""
    rng = np.random.default_rng(seed)
    # Nothing in the last steps: they are blocked/zeroed at example end
    return [preprocess_spikes(rng.uniform(0, timesteps - 2, spikes),
                              rng.integers(0, num_inputs, spikes), num_inputs)
            for _ in range(num_examples)]


def build(variant, args, max_delay, init):
    """Compile one variant.

    Parameters
    ----------
    variant : str
        Key of :data:`VARIANTS`.
    args : argparse.Namespace
        Sizes from the command line.
    max_delay : int
        Largest learnable delay in steps.
    init : dict
        Fixed initial weights (``w_*``) and delays in [0, 1) (``u_*``).

    Returns
    -------
    tuple
        Compiled network; input, hidden and output populations.
    """
    style, ff, rec = VARIANTS[variant]
    network = Network(default_params)
    learn = []
    # Delays Uniform(0, min(150, max delay)) as in the paper's SHD set-up
    scale = min(150, max_delay)

    def conn(pre, post, w, u, delayed):
        if not delayed:
            return Connection(pre, post, Dense(w), Exponential(5.0))
        if style == "ours":
            return Connection(pre, post, Dense(w), Exponential(5.0),
                              delay=Learnable(u * scale, max_delay))
        c = MLGeNNConnection(pre, post, Dense(w, u * scale),
                             Exponential(5.0), max_delay_steps=max_delay)
        learn.append(c)
        return c

    with network:
        inp = Population(SpikeInput(max_spikes=2 * args.spikes), args.inputs)
        # record_spikes only enables GeNN's recording (equal cost for all);
        # spikes are read back in a separate, untimed evaluation pass
        hid = Population(LeakyIntegrateFire(v_thresh=1.0, tau_mem=20.0,
                                            tau_refrac=None),
                         args.hidden, record_spikes=True)
        out = Population(LeakyIntegrate(tau_mem=20.0,
                                        readout="avg_var_exp_weight"),
                         NUM_OUTPUTS)
        conn(inp, hid, init["w_in"], init["u_in"], ff)
        if rec:
            conn(hid, hid, init["w_rec"], init["u_rec"], True)
        conn(hid, out, init["w_out"], None, False)
    cls = MLGeNNCompiler if style == "mlgenn" else EventPropCompiler
    extra = {"delay_learn_conns": learn} if style == "mlgenn" else {}
    # EventProp's ring holds two examples (one read back while the next is
    # written) and a neuron spikes at most once a step: never drop a spike
    compiler = cls(args.timesteps, "sparse_categorical_crossentropy",
                   optimiser=Adam(1e-3), delay_optimiser=Adam(0.1),
                   max_spikes=2 * args.timesteps + 1, **extra)
    compiled = compiler.compile(network, name=f"bench_{variant}_{max_delay}")
    compiled.genn_model.build()     # generate and compile C++ now, untimed
    return compiled, inp, hid, out


def time_round(model, x, y):
    """Train one pass over ``x``; return (seconds/example, hidden spikes).

    Loading (``with``) is untimed and re-initialises weights and delays,
    so every round repeats one training run. Hidden spikes per example
    (after training) come from an untimed evaluation pass.
    """
    compiled, inp, hid, out = model
    with compiled:
        start = time.perf_counter()
        compiled.train({inp: x}, {out: y}, num_epochs=1, shuffle=False,
                       callbacks=[])
        seconds = (time.perf_counter() - start) / len(x)
        _, data = evaluate(compiled, {inp: x}, {out: y},
                           callbacks=[SpikeRecorder(hid, key="hid")])
    return seconds, float(np.mean([len(t) for t in data["hid"][0]]))


def write_csv_atomic(path, rows):
    """Write ``rows`` to ``path`` via a temporary file and ``os.replace``."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.tmp"
    with open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, path)


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
    args = parser.parse_args(argv)

    # Fixed arrays, so every variant starts from identical weights/delays
    rng = np.random.default_rng(1)
    n_in, n_hid = args.inputs, args.hidden
    init = {"w_in": rng.normal(0.03, 0.01, (n_in, n_hid)),
            "w_rec": rng.normal(0.0, 0.02, (n_hid, n_hid)),
            "w_out": rng.normal(0.0, 0.03, (n_hid, NUM_OUTPUTS)),
            "u_in": rng.uniform(0, 1, (n_in, n_hid)),
            "u_rec": rng.uniform(0, 1, (n_hid, n_hid))}
    x = shd_like_input(args.examples, n_in, args.timesteps, args.spikes, 2)
    y = rng.integers(0, NUM_OUTPUTS, args.examples)

    # Compile everything first; the no-delay model serves every max delay
    keys = [(v, d) for d in args.max_delays for v in VARIANTS
            if v != "a" or d == args.max_delays[0]]
    models = {k: build(k[0], args, k[1], init)
              for k in tqdm(keys, desc="compiling")}

    times = {k: [] for k in models}
    spikes = {k: [] for k in models}
    for _ in tqdm(range(args.rounds), desc="rounds"):
        for k, model in models.items():
            seconds, count = time_round(model, x, y)
            times[k].append(seconds)
            spikes[k].append(count)

    rows = []
    for d in args.max_delays:
        key = {v: (v, args.max_delays[0] if v == "a" else d)
               for v in VARIANTS}
        rows += make_rows(d, {v: float(np.median(times[k]))
                              for v, k in key.items()},
                          {v: float(np.median(spikes[k]))
                           for v, k in key.items()})

    print("\n" + "".join(f"{h:>{w}}" for _, h, _, w in TABLE))
    for r in rows:
        print("".join(f"{format(r[c], f) if r[c] != '' else '':>{w}}"
                      for c, _, f, w in TABLE))
    write_csv_atomic(args.out, rows)
    return rows


if __name__ == "__main__":
    main()
