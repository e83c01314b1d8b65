"""Sequence detection (deventprop paper): learn delays that tell two
spike orders apart. Weights are frozen; only delays learn.

    python examples/sequence_detection.py [--no-delays] [--epochs 50]
    python examples/sequence_detection.py --delay-kind axonal --epochs 100

Synaptic delays start from equal weights (1.0): without delays the two
outputs are identical (50%). Axonal delays (one per input, shared by both
outputs) need outputs that differ: the weights are then [[1.0, 0.9],
[1.0, 1.1]] (input x output), with which the network without delays
gets every example wrong.
"""
import argparse

import numpy as np

from ml_genn import Network, Population
from ml_genn.compilers.event_prop_compiler import default_params
from ml_genn.connectivity import Dense
from ml_genn.neurons import LeakyIntegrate, SpikeInput
from ml_genn.optimisers import Adam
from ml_genn.synapses import Exponential

from ml_genn_delays import (Connection, EventPropCompiler, Learnable,
                            evaluate, get_delays)
from ml_genn_delays.datasets import sequence_detection


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--gap", type=float, default=10.0,
                        help="time between the two input spikes [ms]")
    parser.add_argument("--no-delays", action="store_true")
    parser.add_argument("--delay-kind", choices=["synaptic", "axonal"],
                        default="synaptic")
    args = parser.parse_args(argv)

    x, y = sequence_detection(4, gap=args.gap)
    max_delay = int(round(1.5 * args.gap))
    network = Network(default_params)
    with network:
        inp = Population(SpikeInput(max_spikes=4), 2)
        out = Population(LeakyIntegrate(tau_mem=10.0, readout="max_var"), 2)
        weights = (1.0 if args.delay_kind == "synaptic"
                   else np.array([[1.0, 0.9], [1.0, 1.1]]))
        conn = Connection(inp, out, Dense(weights), Exponential(5.0),
                          delay=None if args.no_delays
                          else Learnable(0.0, max_delay,
                                         kind=args.delay_kind))

    compiler = EventPropCompiler(
        example_timesteps=int(2.5 * args.gap), max_spikes=4,
        losses="sparse_categorical_crossentropy",
        optimiser=Adam(0.0), delay_optimiser=Adam(1.0))
    compiled = compiler.compile(network, name="sequence_detection")
    with compiled:
        compiled.train({inp: x}, {out: y}, num_epochs=args.epochs)
        metrics, _ = evaluate(compiled, {inp: x}, {out: y})
        if not args.no_delays:
            print("learned delays [steps]:\n", get_delays(compiled, conn))
    print(f"test accuracy: {100 * metrics[out].result:.2f}%")


if __name__ == "__main__":
    main()
