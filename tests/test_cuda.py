"""CUDA backend (run on a GPU machine: ``pytest -m cuda``; deselected by
default because GeNN here is built without CUDA).

GeNN's CUDA backend runs real batches; our CPU backend accumulates N
examples per optimiser step instead. Both must give the same parameters.
"""
import numpy as np
import pytest

from ml_genn_delays import SGD, EventPropCompiler, get_delays
from networks import random_spikes
from test_axonal import TIMESTEPS, build
from test_dendritic import build as build_dendritic


def train(kind, backend, neuron="lif"):
    if kind == "dendritic":
        network, inp, hid, out, conns = build_dendritic(kind, True)
    else:
        network, inp, hid, out, conns = build(kind, True, neuron=neuron)
    compiled = EventPropCompiler(
        TIMESTEPS, "sparse_categorical_crossentropy", optimiser=SGD(50.0),
        delay_optimiser=SGD(500.0), batch_size=2, max_spikes=200,
        backend=backend).compile(network,
                                 name=f"cuda_{kind}_{neuron}_{backend}")
    # Two full batches; a partial last batch is discarded by both
    x = random_spikes(5, 5, TIMESTEPS, 0.2, seed=4)
    y = np.array([0, 1, 2, 0, 1])
    with compiled:
        compiled.train({inp: x}, {out: y}, num_epochs=1, shuffle=False)
        values = []
        for c in conns:
            var = compiled.connection_populations[c].vars["g"]
            var.pull_from_device()
            values += [var.values.copy(), get_delays(compiled, c).ravel()]
        genn_hid = compiled.neuron_populations[hid]
        for name in ("AdaptA", "AdaptB"):
            if name in genn_hid.vars:
                genn_hid.vars[name].pull_from_device()
                values.append(genn_hid.vars[name].values.copy())
    return values


@pytest.mark.cuda
@pytest.mark.parametrize("kind, neuron", [
    ("synaptic", "lif"), ("axonal", "lif"), ("dendritic", "lif"),
    ("synaptic", "adlif")])
def test_cuda_batches_equal_cpu_accumulation(kind, neuron):
    cpu = train(kind, "single_threaded_cpu", neuron)
    cuda = train(kind, "cuda", neuron)
    assert len(cpu) == len(cuda)
    for a, b in zip(cpu, cuda):
        assert np.linalg.norm(a - b) <= 1e-4 * np.linalg.norm(a) + 1e-6
