"""Run by tests/test_mpi.py under mpirun: data-parallel CPU training.

    mpirun -n R python tests/mpi_train.py OUT_DIR GLOBAL_BATCH [KIND]
    (KIND: synaptic, axonal, dendritic, mixed_adlif, initializers, uneven,
    silent, sparse)
    python tests/mpi_train.py OUT_DIR GLOBAL_BATCH [KIND]   (one process)

Global batch b holds examples b*B .. b*B+B-1; each rank takes its share.
Rank 0 (or the single process) saves weights and delays to OUT_DIR.
"""
import sys
import warnings

import numpy as np
from ml_genn.communicators import MPI
from ml_genn.initializers import Normal, Uniform
from ml_genn.neurons import LeakyIntegrateFire

from ml_genn_delays import (SGD, EventPropCompiler, Learnable,
                            NoGradientWarning, save_model)
from networks import TinyNet, five_four_three, random_spikes
from test_axonal import build
from test_dendritic import build as build_dendritic
from test_mixed import build as build_mixed

T = 40
# Two epochs of one optimiser step each: the first step of an epoch is the
# same however the batch is split. Later steps of an epoch are not
# (mlGeNN runs the first example of each local batch backward after the
# step before it, so 1 process and 2 ranks mix parameters differently).
NUM_EXAMPLES = 8
EPOCHS = 2


def main(out, batch, kind="synaptic"):
    comm = MPI() if MPI().num_ranks > 1 else None
    ranks = 1 if comm is None else comm.num_ranks
    rank = 0 if comm is None else comm.rank
    x = random_spikes(NUM_EXAMPLES, 5, T, 0.2, seed=21)
    y = np.arange(NUM_EXAMPLES) % 3
    # This rank's share of every global batch, in order
    local = batch // ranks
    mine = [i for i in range(NUM_EXAMPLES)
            if (i % batch) // local == rank]
    # SGD everywhere: Adam's step barely depends on a gradient's scale,
    # so it would hide a wrongly scaled (e.g. unreduced) gradient
    kwargs = dict(batch_size=batch, optimiser=SGD(5.0),
                  delay_optimiser=SGD(50.0), param_optimiser=SGD(100.0),
                  **({} if comm is None else {"communicator": comm}))
    if kind == "uneven":
        # Rank 0 one example short: refused on every rank (it hung)
        mine = mine[:-1] if rank == 0 else mine
    if kind in ("synaptic", "uneven"):
        net = TinyNet("ours", recurrent=True)
        compiled = net.compile(T, "mpi", **kwargs)
        inp, readout = net.inp, net.out
    else:
        network, inp, _, readout, _ = build_network(kind)
        compiled = EventPropCompiler(
            T, "sparse_categorical_crossentropy", max_spikes=200,
            **kwargs).compile(network, name=f"mpi_{kind}")
    with compiled, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compiled.train({inp: [x[i] for i in mine]},
                       {readout: y[mine]}, num_epochs=EPOCHS, shuffle=False,
                       callbacks=[])
        if kind == "silent":
            # Each rank writes how many no-gradient warnings it gave
            said = sum(w.category is NoGradientWarning for w in caught)
            with open(f"{out}-rank{rank}.txt", "w") as f:
                f.write(str(said))
        if kind == "initializers":
            # Every rank: they must have started, and so ended, the same
            save_model(compiled, f"{out}/rank{rank}", checkpoint=0)
        elif rank == 0:
            save_model(compiled, out, checkpoint=0)


def build_network(kind):
    """axonal / dendritic: those delays alone; mixed_adlif: axonal +
    dendritic delays into AdLIF neurons with learned a and b;
    initializers: weights and delays drawn by GeNN (Normal, Uniform)."""
    if kind == "mixed_adlif":
        return build_mixed(True, True, neuron="adlif")
    if kind == "silent":     # zero input weights: a silent hidden layer
        return five_four_three(
            lambda: LeakyIntegrateFire(tau_refrac=None),
            [np.zeros((5, 4)), np.full((4, 3), 0.5)],
            [Learnable(2.0, 10), None])
    if kind == "sparse":
        # Listed synapses (GeNN's SPARSE, as FixedProbability's) with
        # learnable synaptic delays: pygenn's view refuses their
        # variables, and the host all-reduce read them through it
        from ml_genn import Network, Population
        from ml_genn.compilers.event_prop_compiler import default_params
        from ml_genn.connectivity import Dense, FixedProbability
        from ml_genn.neurons import LeakyIntegrate, SpikeInput
        from ml_genn.synapses import Exponential
        from ml_genn_delays import Connection
        rng = np.random.default_rng(3)
        pre, post = np.divmod(np.sort(rng.choice(20, 14, replace=False)), 4)
        network = Network(default_params)
        with network:
            inp = Population(SpikeInput(max_spikes=10000), 5)
            hid = Population(LeakyIntegrateFire(tau_refrac=None), 4)
            out = Population(LeakyIntegrate(readout="avg_var_exp_weight"),
                             3)
            listed = FixedProbability(0.5, rng.normal(1.2, 0.4, 14))
            listed.pre_ind, listed.post_ind = pre, post
            conns = [Connection(inp, hid, listed, Exponential(5.0),
                                delay=Learnable(rng.uniform(1, 8, 14), 10)),
                     Connection(hid, out, Dense(rng.normal(0.5, 0.5, (4, 3))),
                                Exponential(5.0))]
        return network, inp, hid, out, conns
    if kind == "initializers":
        return five_four_three(
            lambda: LeakyIntegrateFire(tau_refrac=None),
            [Normal(0.8, 0.4), Normal(0.5, 0.5)],
            [Learnable(Uniform(1.0, 8.0), 10), None])
    return (build_dendritic if kind == "dendritic" else build)(kind, True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), *sys.argv[3:])
