"""The SHD-shaped networks, input and measuring helpers the benchmarks
share.

700 inputs, LIF hidden layers, 20 LI outputs (``avg_var_exp_weight``),
exponential synapses (tau 5 ms), weights as the paper's SHD set-up, and
random SHD-like input (about 8000 spikes per 1 s example). Variants differ
only in who learns the delays: ``ours`` (ml_genn_delays), ``mlgenn``
(mlGeNN's ``delay_learn_conns``) or nobody.
"""
import argparse
import csv
import os
import time

import numpy as np
from ml_genn import Connection as MLGeNNConnection, Network, Population
from ml_genn.callbacks import Callback, SpikeRecorder
from ml_genn.compilers import EventPropCompiler as MLGeNNCompiler
from ml_genn.compilers.event_prop_compiler import default_params
from ml_genn.connectivity import Dense
from ml_genn.neurons import LeakyIntegrate, LeakyIntegrateFire, SpikeInput
from ml_genn.optimisers import Adam
from ml_genn.synapses import Exponential
from ml_genn.utils.data import preprocess_spikes

from tqdm import tqdm

from ml_genn_delays import Connection, EventPropCompiler, Learnable, evaluate
from ml_genn_delays.backends import with_cpu_optimisation

NUM_INPUTS = 700
NUM_OUTPUTS = 20


def shd_like_input(num_examples, num_inputs, timesteps, spikes, seed):
    """``num_examples`` uniformly random examples of ``spikes`` spikes
    (fixed ``seed``: every variant sees the same input)."""
    rng = np.random.default_rng(seed)
    # Nothing in the last steps: they are blocked/zeroed at example end
    return [preprocess_spikes(rng.uniform(0, timesteps - 2, spikes),
                              rng.integers(0, num_inputs, spikes), num_inputs)
            for _ in range(num_examples)]


def initial_values(num_inputs, hidden, layers, seed=1):
    """Fixed weights (``w_*``) and delays in [0, 1) (``u_*``), so every
    variant starts from identical values."""
    rng = np.random.default_rng(seed)
    sizes = [num_inputs] + [hidden] * layers
    return {"w_ff": [rng.normal(0.03 if i == 0 else 0.02,
                                0.01 if i == 0 else 0.03, (a, b))
                     for i, (a, b) in enumerate(zip(sizes, sizes[1:]))],
            "u_ff": [rng.uniform(0, 1, (a, b))
                     for a, b in zip(sizes, sizes[1:])],
            "w_rec": rng.normal(0.0, 0.02, (hidden, hidden)),
            "u_rec": rng.uniform(0, 1, (hidden, hidden)),
            "w_out": rng.normal(0.0, 0.03, (hidden, NUM_OUTPUTS))}


def build(style, ff, rec, init, max_delay, timesteps, max_input_spikes,
          batch_size=1, name="bench", kind="synaptic",
          recurrent_delays=True, hidden_neuron=None, **genn_kwargs):
    """Compile one variant.

    Parameters
    ----------
    style : {"ours", "mlgenn"}
        Which compiler learns the delays.
    ff, rec : bool
        Learnable delays on the feedforward connections / recurrent
        connections (which exist only when ``rec``; without delays when
        ``recurrent_delays`` is False).
    init : dict
        From :func:`initial_values` (its layer count is used).
    max_delay : int
        Largest learnable delay in steps; delays start Uniform(0,
        min(150, max_delay)) as in the paper's SHD set-up.
    kind : str
        Delay kind of ours ("synaptic"; "axonal": the first column of
        the initial delays, one per presynaptic neuron; "dendritic": the
        first row, one per postsynaptic neuron).
    hidden_neuron : callable, optional
        Makes each hidden layer's neuron (default mlGeNN's LIF).

    Returns
    -------
    tuple
        Compiled network; input, first hidden and output populations.
    """
    network = Network(default_params)
    learn = []
    scale = min(150, max_delay)

    def conn(pre, post, w, u, delayed):
        if not delayed:
            return Connection(pre, post, Dense(w), Exponential(5.0))
        if style == "ours":
            if kind == "axonal+dendritic":
                # d_i + d_j, each half the range
                delays = (u[:, 0] * scale / 2, u[0, :] * scale / 2)
                kinds = ("axonal", "dendritic")
            else:
                delays = {"synaptic": u, "axonal": u[:, 0],
                          "dendritic": u[0, :]}[kind] * scale
                kinds = kind
            return Connection(pre, post, Dense(w), Exponential(5.0),
                              delay=Learnable(delays, max_delay, kind=kinds))
        c = MLGeNNConnection(pre, post, Dense(w, u * scale),
                             Exponential(5.0), max_delay_steps=max_delay)
        learn.append(c)
        return c

    with network:
        inp = Population(SpikeInput(max_spikes=batch_size
                                    * max_input_spikes),
                         init["w_ff"][0].shape[0])
        below, hidden = inp, []
        for w, u in zip(init["w_ff"], init["u_ff"]):
            # record_spikes: GeNN's recording, equal cost for every variant
            neuron = (hidden_neuron() if hidden_neuron is not None
                      else LeakyIntegrateFire(v_thresh=1.0, tau_mem=20.0,
                                              tau_refrac=None))
            hid = Population(neuron, w.shape[1], record_spikes=True)
            conn(below, hid, w, u, ff)
            if rec:
                conn(hid, hid, init["w_rec"], init["u_rec"],
                     recurrent_delays)
            below = hid
            hidden.append(hid)
        out = Population(LeakyIntegrate(tau_mem=20.0,
                                        readout="avg_var_exp_weight"),
                         NUM_OUTPUTS)
        conn(below, out, init["w_out"], None, False)
    cls = MLGeNNCompiler if style == "mlgenn" else EventPropCompiler
    if style == "mlgenn":
        # ours builds CPU code with -O3 by default, mlGeNN at GeNN's -O0:
        # compare like with like
        genn_kwargs = with_cpu_optimisation(genn_kwargs)
    extra = {"delay_learn_conns": learn} if style == "mlgenn" else {}
    # EventProp's ring holds two examples (one read back while the next is
    # written) and a neuron spikes at most once a step: never drop a spike
    compiler = cls(timesteps, "sparse_categorical_crossentropy",
                   optimiser=Adam(1e-3), delay_optimiser=Adam(0.1),
                   max_spikes=2 * timesteps + 1, batch_size=batch_size,
                   **extra, **genn_kwargs)
    compiled = compiler.compile(network, name=name)
    compiled.genn_model.build()     # generate and compile C++ now, untimed
    return compiled, inp, hidden[0], out


class _ExampleClock(Callback):
    """When each batch (on the CPU backend: each example) ends, as the
    callback data "ends" (mlGeNN trains a copy of each callback)."""

    def set_params(self, **kwargs):
        self._ends = []

    def on_batch_end(self, batch, metrics):
        self._ends.append(time.perf_counter())

    def get_data(self):
        return "ends", self._ends


def time_round(model, x, y):
    """Train one pass over ``x``; return (seconds/example, hidden spikes).

    Loading (``with``) is untimed and re-initialises weights and delays,
    so every round repeats one training run. EventProp runs an example's
    backward pass during the next one: the first example has none and
    the last one's never runs, so the time is that of examples 2..n (from
    the end of the first), each with its predecessor's backward pass: the
    steady state of an epoch (``len(x) >= 2``). Hidden spikes per example
    (after training) come from an untimed evaluation pass.
    """
    if len(x) < 2:
        raise ValueError("time_round needs at least 2 examples")
    compiled, inp, hid, out = model
    with compiled:
        _, timed = compiled.train({inp: x}, {out: y}, num_epochs=1,
                                  shuffle=False, callbacks=[_ExampleClock()])
        ends = timed["ends"]
        seconds = (ends[-1] - ends[0]) / (len(ends) - 1)
        _, data = evaluate(compiled, {inp: x}, {out: y},
                           callbacks=[SpikeRecorder(hid, key="hid")])
    return seconds, float(np.mean([len(t) for t in data["hid"][0]]))


def time_interleaved(models, x, y, rounds):
    """Time every model once per round, round-robin, so machine load hits
    them alike; median (seconds/example, hidden spikes) per key."""
    times = {k: [] for k in models}
    spikes = {k: [] for k in models}
    for _ in tqdm(range(rounds), desc="rounds"):
        for key, model in models.items():
            seconds, count = time_round(model, x, y)
            times[key].append(seconds)
            spikes[key].append(count)
    return ({k: float(np.median(v)) for k, v in times.items()},
            {k: float(np.median(v)) for k, v in spikes.items()})


def cpu_benchmark_args(doc, csv_name, argv, extra=()):
    """Parse the arguments shared by the CPU benchmarks (network size,
    rounds, output CSV); ``extra``: (flag, kwargs) pairs; ``csv_name``
    (the default output's name in results/) may be a function of the
    parsed arguments. Returns the arguments and the data:
    (args, init, x, y)."""
    parser = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawTextHelpFormatter)
    for name, default in [("inputs", NUM_INPUTS), ("hidden", 256),
                          ("timesteps", 1000), ("rounds", 5),
                          ("spikes", 8000), ("examples", 4),
                          ("max-delay", 512)]:
        parser.add_argument(f"--{name}", type=int, default=default)
    for flag, kwargs in extra:
        parser.add_argument(flag, **kwargs)
    parser.add_argument("--out")
    args = parser.parse_args(argv)
    if args.out is None:
        name = csv_name(args) if callable(csv_name) else csv_name
        args.out = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "results", name)
    init = initial_values(args.inputs, args.hidden, 1)
    x = shd_like_input(args.examples, args.inputs, args.timesteps,
                       args.spikes, 2)
    y = np.random.default_rng(3).integers(0, NUM_OUTPUTS, args.examples)
    return args, init, x, y


def print_table(rows, columns):
    """Print rows (dicts) as right-aligned columns, floats to 3 places."""
    widths = [max(len(c), 9) + 2 for c in columns]
    print("".join(f"{c:>{w}}" for c, w in zip(columns, widths)))
    for r in rows:
        print("".join(
            f"{format(r[c], '.3f') if isinstance(r[c], float) else r[c]!s:>{w}}"
            for c, w in zip(columns, widths)))


def write_csv_atomic(path, rows, columns):
    """Write ``rows`` to ``path`` via a temporary file and ``os.replace``."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.tmp"
    with open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, path)
