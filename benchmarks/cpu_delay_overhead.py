"""Training time per example with and without learnable delays (CPU).

SHD-shaped network (700-256-20 LIF, 1 s at dt 1 ms, batch 1) on random
SHD-like input (~8000 input spikes per example). Variants, all with the same
initial weights and delays:

    a  no delays
    b  ours: learnable feedforward (input->hidden) delays
    c  mlGeNN's delay_learn_conns path, same delays
    d  ours: learnable feedforward + recurrent delays
    e  mlGeNN's path, same feedforward + recurrent delays

All variants are compiled first, then timed interleaved (round-robin) so
machine load affects them alike; medians over rounds are reported with the
hidden spikes per example, since EventProp's cost follows activity.

    python benchmarks/cpu_delay_overhead.py --max-delays 64 512 1000
"""
import argparse
import csv
import os
import tempfile
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

VARIANTS = {"a": ("ours", False, False), "b": ("ours", True, False),
            "c": ("mlgenn", True, False), "d": ("ours", True, True),
            "e": ("mlgenn", True, True)}
# (ratio name, numerator, denominator, target, per hidden spike?)
TARGETS = [("b/c", "b", "c", 1.03, False), ("d/e", "d", "e", 1.03, False),
           ("b/a", "b", "a", 1.2, True), ("d/a", "d", "a", 1.5, True)]


def shd_like_input(num_examples, num_inputs, timesteps, spikes, seed):
    """Uniformly random spike trains with ``spikes`` spikes per example."""
    rng = np.random.default_rng(seed)
    return [preprocess_spikes(rng.uniform(0, timesteps - 2, spikes),
                              rng.integers(0, num_inputs, spikes), num_inputs)
            for _ in range(num_examples)]


def build(style, ff, rec, args, max_delay, params):
    """Network and compiler of one variant (identical initial values)."""
    network = Network(default_params)
    learn = []

    def conn(pre, post, w, d, delayed):
        if not delayed:
            return Connection(pre, post, Dense(w), Exponential(5.0))
        if style == "ours":
            return Connection(pre, post, Dense(w), Exponential(5.0),
                              delay=Learnable(d, max_delay))
        c = MLGeNNConnection(pre, post, Dense(w, d), Exponential(5.0),
                             max_delay_steps=max_delay)
        learn.append(c)
        return c

    with network:
        inp = Population(SpikeInput(max_spikes=args.spikes * 2), args.inputs)
        hid = Population(LeakyIntegrateFire(v_thresh=1.0, tau_mem=20.0,
                                            tau_refrac=None),
                         args.hidden, record_spikes=True)
        out = Population(LeakyIntegrate(tau_mem=20.0,
                                        readout="avg_var_exp_weight"), 20)
        # Delays Uniform(0, min(150, max delay)) as in the paper's SHD set-up
        scale = min(150, max_delay)
        conn(inp, hid, params["w_in"], params["u_in"] * scale, ff)
        if rec:
            conn(hid, hid, params["w_rec"], params["u_rec"] * scale, True)
        conn(hid, out, params["w_out"], None, False)
    cls = MLGeNNCompiler if style == "mlgenn" else EventPropCompiler
    extra = {"delay_learn_conns": learn} if style == "mlgenn" else {}
    compiler = cls(args.timesteps, "sparse_categorical_crossentropy",
                   optimiser=Adam(1e-3), delay_optimiser=Adam(0.1),
                   max_spikes=1500, **extra)
    return network, compiler, inp, hid, out


def time_round(model, x, y):
    """Seconds per example of one training pass (model load excluded)."""
    compiled, inp, hid, out = model
    with compiled:
        start = time.perf_counter()
        compiled.train({inp: x}, {out: y}, num_epochs=1, shuffle=False,
                       callbacks=[])
        seconds = (time.perf_counter() - start) / len(x)
        _, data = evaluate(compiled, {inp: x[:2]}, {out: y[:2]},
                           callbacks=[SpikeRecorder(hid, key="hid")])
    return seconds, np.mean([len(t) for t in data["hid"][0]])


def write_csv_atomic(path, rows):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)),
                               suffix=".tmp")
    with os.fdopen(fd, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--inputs", type=int, default=700)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--timesteps", type=int, default=1000)
    parser.add_argument("--spikes", type=int, default=8000,
                        help="input spikes per example")
    parser.add_argument("--examples", type=int, default=4,
                        help="examples per round and variant")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--max-delays", type=int, nargs="+",
                        default=[64, 512, 1000])
    parser.add_argument("--variants", default="abcde",
                        help="subset of variants to run, e.g. abc")
    parser.add_argument("--out", default=os.path.join(
        os.path.dirname(__file__), "results", "cpu_delay_overhead.csv"))
    args = parser.parse_args(argv)

    rng = np.random.default_rng(1)
    n_in, n_hid = args.inputs, args.hidden
    params = {"w_in": rng.normal(0.03, 0.01, (n_in, n_hid)),
              "w_rec": rng.normal(0.0, 0.02, (n_hid, n_hid)),
              "w_out": rng.normal(0.0, 0.03, (n_hid, 20)),
              "u_in": rng.uniform(0, 1, (n_in, n_hid)),
              "u_rec": rng.uniform(0, 1, (n_hid, n_hid))}
    x = shd_like_input(args.examples, n_in, args.timesteps, args.spikes, 2)
    y = rng.integers(0, 20, args.examples)

    # Compile everything first
    models = {}
    for max_delay in args.max_delays:
        for key, (style, ff, rec) in VARIANTS.items():
            if key not in args.variants or (
                    key == "a" and max_delay != args.max_delays[0]):
                continue    # no delays: one model serves every row
            network, compiler, inp, hid, out = build(style, ff, rec, args,
                                                     max_delay, params)
            compiled = compiler.compile(network,
                                        name=f"bench_{key}_{max_delay}")
            compiled.genn_model.build()     # generate and compile C++ now
            models[key, max_delay] = (compiled, inp, hid, out)

    times = {k: [] for k in models}
    spikes = {}
    for _ in tqdm(range(args.rounds), desc="rounds"):
        for k, model in models.items():
            seconds, spikes[k] = time_round(model, x, y)
            times[k].append(seconds)

    rows = []
    for max_delay in args.max_delays:
        # One no-delay model serves every max delay
        key_of = {v: (v, args.max_delays[0] if v == "a" else max_delay)
                  for v in args.variants}
        med = {v: float(np.median(times[key_of[v]])) for v in key_of}
        spk = {v: float(spikes[key_of[v]]) for v in key_of}
        for v in key_of:
            rows.append({"row": v, "max_delay": max_delay,
                         "ms_per_example": 1e3 * med[v],
                         "hidden_spikes_per_example": spk[v],
                         "us_per_hidden_spike": 1e6 * med[v] / max(spk[v], 1),
                         "ratio": "", "target": "", "status": ""})
        for name, num, den, target, per_spike in TARGETS:
            if num not in key_of or den not in key_of:
                continue
            ratio = med[num] / med[den]
            if per_spike:
                ratio *= max(spk[den], 1) / max(spk[num], 1)
            rows.append({"row": name + (" per spike" if per_spike else ""),
                         "max_delay": max_delay, "ms_per_example": "",
                         "hidden_spikes_per_example": "",
                         "us_per_hidden_spike": "", "ratio": ratio,
                         "target": target,
                         "status": "PASS" if ratio <= target else "MISS"})

    print(f"{'row':>15} {'max delay':>9} {'ms/example':>11} "
          f"{'hidden spikes':>13} {'us/spike':>9}")
    for r in rows:
        if r["ratio"] == "":
            print(f"{r['row']:>15} {r['max_delay']:>9} "
                  f"{r['ms_per_example']:>11.1f} "
                  f"{r['hidden_spikes_per_example']:>13.0f} "
                  f"{r['us_per_hidden_spike']:>9.2f}")
        else:
            print(f"{r['row']:>15} {r['max_delay']:>9} ratio "
                  f"{r['ratio']:.3f} (target <= {r['target']}) "
                  f"{r['status']}")
    write_csv_atomic(args.out, rows)
    return rows


if __name__ == "__main__":
    main()
