"""Sequence detection (deventprop paper): learn delays that tell two
spike orders apart. Weights are frozen; only delays learn.

    python examples/sequence_detection.py [--no-delays] [--epochs 50]
    python examples/sequence_detection.py --delay-kind axonal --epochs 100
    python examples/sequence_detection.py --delay-kind dendritic --epochs 100
    python examples/sequence_detection.py --seed 0 --no-progress

Synaptic delays start from equal weights (1.0): without delays the two
outputs are identical (50%). Axonal delays (one per input, shared by both
outputs) need outputs that differ: the weights are then [[1.0, 0.9],
[1.0, 1.1]] (input x output), with which the network without delays
gets every example wrong. Dendritic delays (one per postsynaptic neuron)
are learned on hidden neurons only: each input drives its own hidden LIF
relay (frozen diagonal weights, one spike per input spike), whose
dendritic delay then plays the part of an axonal delay on that input;
the relays feed the outputs through the weights above, and the trial is
10 steps longer for the relays' latency. With one delay per input, the
learned solutions use the end of the trial: axonal delays end with one
at 15 and the other near it (12-15: runs differ, mlGeNN shuffles the
examples with numpy's global generator: --seed fixes it) and dendritic ones at
(15, 15), which pushes the second input spike's effect past the end, so
the output sees which input came first.
"""
import argparse

import numpy as np

from ml_genn import Network, Population
from ml_genn.compilers.event_prop_compiler import default_params
from ml_genn.connectivity import Dense
from ml_genn.neurons import LeakyIntegrate, LeakyIntegrateFire, SpikeInput
from ml_genn.optimisers import Adam
from ml_genn.synapses import Exponential

from ml_genn_delays import (Connection, EventPropCompiler, Learnable,
                            evaluate, get_delays)
from ml_genn_delays.datasets import sequence_detection
from ml_genn_delays.learnable import GENN_MAX_DELAY_STEPS


#: Time step [ms] (the compiler's default dt)
DT = 1.0
#: --gap range [ms]: the spikes at least one step apart, and delays up to
#: 1.5 gaps within what GeNN holds (GENN_MAX_DELAY_STEPS)
MIN_GAP, MAX_GAP = DT, int(GENN_MAX_DELAY_STEPS / 1.5) * DT


def _gap(text):
    """argparse type: a --gap the network can hold (a bad one is a usage
    error, not a traceback from the data set or Learnable)."""
    value = float(text)
    if not MIN_GAP <= value <= MAX_GAP:
        raise argparse.ArgumentTypeError(
            f"must lie in [{MIN_GAP:g}, {MAX_GAP:g}] ms, got {text} (the "
            f"spikes need a {DT:g} ms step between them, and delays of up "
            f"to 1.5 gaps must fit in GeNN's {GENN_MAX_DELAY_STEPS} steps)")
    return value


_gap.__name__ = "gap"   # argparse names the type in errors


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--gap", type=_gap, default=10.0,
                        help=f"time between the two input spikes [ms], in "
                             f"[{MIN_GAP:g}, {MAX_GAP:g}] (default 10)")
    parser.add_argument("--no-delays", action="store_true")
    parser.add_argument("--delay-kind",
                        choices=["synaptic", "axonal", "dendritic"],
                        default="synaptic")
    parser.add_argument("--seed", type=int, default=None,
                        help="seed numpy's global generator, with which "
                             "mlGeNN shuffles the examples (default: "
                             "unseeded, so runs differ)")
    parser.add_argument("--no-progress", action="store_true",
                        help="no progress bar")
    args = parser.parse_args(argv)
    if args.seed is not None:
        np.random.seed(args.seed)

    x, y = sequence_detection(4, gap=args.gap)
    max_delay = int(round(1.5 * args.gap))
    timesteps = int(2.5 * args.gap)
    delay = (None if args.no_delays
             else Learnable(0.0, max_delay, kind=args.delay_kind))
    network = Network(default_params)
    with network:
        inp = Population(SpikeInput(max_spikes=4), 2)
        out = Population(LeakyIntegrate(tau_mem=10.0, readout="max_var"), 2)
        # Axonal and dendritic delays need outputs that differ (see above)
        differing = np.array([[1.0, 0.9], [1.0, 1.1]])
        if args.delay_kind == "synaptic":
            conn = Connection(inp, out, Dense(1.0), Exponential(5.0),
                              delay=delay)
        elif args.delay_kind == "axonal":
            conn = Connection(inp, out, Dense(differing), Exponential(5.0),
                              delay=delay)
        else:
            relay = Population(LeakyIntegrateFire(
                v_thresh=1.0, tau_mem=20.0, tau_refrac=None), 2)
            conn = Connection(inp, relay, Dense(8.0 * np.eye(2)),
                              Exponential(5.0), delay=delay)
            Connection(relay, out, Dense(differing), Exponential(5.0))
            timesteps += 10

    compiler = EventPropCompiler(
        example_timesteps=timesteps, max_spikes=4,
        losses="sparse_categorical_crossentropy",
        optimiser=Adam(0.0), delay_optimiser=Adam(1.0))
    compiled = compiler.compile(network, name="sequence_detection")
    with compiled:
        # mlGeNN's default callbacks are its progress bar alone
        compiled.train({inp: x}, {out: y}, num_epochs=args.epochs,
                       **({"callbacks": []} if args.no_progress else {}))
        metrics, _ = evaluate(compiled, {inp: x}, {out: y})
        if not args.no_delays:
            print("learned delays [steps]:\n", get_delays(compiled, conn))
    print(f"test accuracy: {100 * metrics[out].result:.2f}%")


if __name__ == "__main__":
    main()
