"""Training time per example and model memory per delay kind (CPU).

SHD-shaped 700-256-20 LIF network (1000 steps, batch 1, ~8000 input
spikes per example), learnable delays on the feedforward connection and,
with --recurrent, on the recurrent one:

    none      no delays
    synaptic  one delay per synapse
    axonal    one delay per presynaptic neuron
    dendritic one delay per postsynaptic (hidden) neuron
    axonal+dendritic  both on each delayed connection (d_i + d_j)

Compiled first, then timed interleaved (round-robin), medians over
rounds. Memory: bytes of every GeNN variable of the model (neuron,
synapse and custom-update groups: weights, delays, gradients, optimiser
moments, adjoint histories) and, separately, of the delay state alone
(delays, their gradients and optimiser moments).

    python benchmarks/delay_kinds.py --max-delay 512
"""
import os
import sys

from tqdm import tqdm

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shd_network  # noqa: E402
from shd_network import (cpu_benchmark_args,  # noqa: E402
                         print_table, time_interleaved, write_csv_atomic)

KINDS = ["none", "synaptic", "axonal", "dendritic", "axonal+dendritic"]
COLUMNS = ["kind", "recurrent", "max_delay", "ms_per_example",
           "hidden_spikes_per_example", "time_vs_none", "model_mib",
           "delay_state_kib", "delay_state_vs_synaptic"]


def _nbytes(group):
    total = 0
    for var in [*group.vars.values(),
                *getattr(group, "pre_vars", {}).values(),
                *getattr(group, "post_vars", {}).values()]:
        var.pull_from_device()
        total += var.view.nbytes
    return total


def memory(compiled):
    """(bytes of all GeNN variables, bytes of the delay state)."""
    model = compiled.genn_model
    groups = (list(model.neuron_populations.values())
              + list(model.synapse_populations.values())
              + list(model.custom_updates.values()))
    total = sum(_nbytes(g) for g in groups)
    delay_state = 0
    for conn, spec in compiled.learnable_delays.items():
        for kind, _ in spec.parts:
            for name in (kind.delay_var(conn), kind.gradient_var(conn)):
                holder = kind.holder(conn, name, compiled.neuron_populations,
                                     compiled.connection_populations)
                delay_state += kind.genn_var(holder, name).view.nbytes
    delay_state += sum(_nbytes(cu)
                       for cu in compiled.delay_optimiser_updates)
    return total, delay_state


def main(argv=None):
    args, init, x, y = cpu_benchmark_args(
        __doc__, lambda a: ("delay_kinds_recurrent.csv" if a.recurrent
                            else "delay_kinds.csv"),
        argv, [("--recurrent", {"action": "store_true"})])
    models = {}
    for kind in tqdm(KINDS, desc="compiling"):
        delayed = kind != "none"
        models[kind] = shd_network.build(
            "ours", delayed, args.recurrent, init, args.max_delay,
            args.timesteps, 2 * args.spikes,
            name=(f"kinds_{kind.replace('+', '_')}_{args.recurrent}_"
                  f"{args.max_delay}"),
            kind="synaptic" if kind == "none" else kind,
            recurrent_delays=delayed)
    times, spikes = time_interleaved(models, x, y, args.rounds)
    mem = {}
    for kind, (compiled, *_) in models.items():
        with compiled:
            mem[kind] = memory(compiled)

    rows = []
    for kind in KINDS:
        t = times[kind]
        rows.append({
            "kind": kind, "recurrent": args.recurrent,
            "max_delay": args.max_delay, "ms_per_example": 1e3 * t,
            "hidden_spikes_per_example": spikes[kind],
            "time_vs_none": t / times["none"],
            "model_mib": mem[kind][0] / 2 ** 20,
            "delay_state_kib": mem[kind][1] / 2 ** 10,
            "delay_state_vs_synaptic": (mem[kind][1] / mem["synaptic"][1]
                                        if mem["synaptic"][1] else "")})
    print_table(rows, COLUMNS)
    write_csv_atomic(args.out, rows, COLUMNS)
    return rows


if __name__ == "__main__":
    main()
