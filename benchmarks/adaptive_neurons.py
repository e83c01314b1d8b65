"""Training time per example of adaptive vs plain LIF hidden neurons (CPU).

SHD-shaped 700-256-20 network (1000 steps, batch 1, ~8000 input spikes
per example) with learnable synaptic delays on the input connection;
hidden neurons:

    lif            mlGeNN's LIF (tau_mem 20 ms)
    adlif_fixed    AdaptiveLeakyIntegrateFire, parameters fixed
    adlif_learned  the same with tau_mem, tau_adapt, a and b learned

AdLIF parameters are those of the examples' ``--neuron adlif`` set-up
(experiment.ADLIF_RANGES, drawn per neuron). Compiled first, then timed
interleaved (round-robin), medians over rounds. Adaptation changes how
often the hidden neurons fire, so the time per hidden spike is printed
beside the time per example.

    python benchmarks/adaptive_neurons.py
"""
import os
import sys

import numpy as np
from tqdm import tqdm

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shd_network  # noqa: E402
from shd_network import (cpu_benchmark_args,  # noqa: E402
                         print_table, time_interleaved, write_csv_atomic)

from ml_genn_delays import AdaptiveLeakyIntegrateFire, LearnableParam
from ml_genn_delays.experiment import ADLIF_RANGES

VARIANTS = ["lif", "adlif_fixed", "adlif_learned"]
COLUMNS = ["neuron", "ms_per_example", "hidden_spikes_per_example",
           "time_vs_lif", "us_per_hidden_spike"]


def adlif(hidden, learned, seed=5):
    """A factory of the hidden AdLIF neuron (values fixed by ``seed``)."""
    rng = np.random.default_rng(seed)
    values = {name: rng.uniform(low, high, hidden)
              for name, (low, high) in ADLIF_RANGES.items()}

    def make():
        return AdaptiveLeakyIntegrateFire(v_thresh=1.0, **{
            name: (LearnableParam(v, *ADLIF_RANGES[name]) if learned else v)
            for name, v in values.items()})
    return make


def main(argv=None):
    args, init, x, y = cpu_benchmark_args(__doc__, "adaptive_neurons.csv", argv,
                                          ())
    neurons = {"lif": None, "adlif_fixed": adlif(args.hidden, False),
               "adlif_learned": adlif(args.hidden, True)}
    models = {v: shd_network.build(
        "ours", True, False, init, args.max_delay, args.timesteps,
        2 * args.spikes, name=f"neurons_{v}_{args.hidden}",
        hidden_neuron=neurons[v]) for v in tqdm(VARIANTS, desc="compiling")}
    times, spikes = time_interleaved(models, x, y, args.rounds)

    rows = [{"neuron": v, "ms_per_example": 1e3 * times[v],
             "hidden_spikes_per_example": spikes[v],
             "time_vs_lif": times[v] / times["lif"],
             "us_per_hidden_spike": (1e6 * times[v] / spikes[v]
                                     if spikes[v] else "")}
            for v in VARIANTS]
    print_table(rows, COLUMNS)
    write_csv_atomic(args.out, rows, COLUMNS)
    return rows


if __name__ == "__main__":
    main()
