"""CUDA backend (run on a GPU machine: ``pytest -m cuda``; deselected by
default because GeNN here is built without CUDA).

GeNN's CUDA backend runs real batches; our CPU backend accumulates N
examples per optimiser step instead. Both must give the same parameters.
"""
import re
import subprocess

import numpy as np
import pytest

from ml_genn_delays import SGD, EventPropCompiler, get_delays
from networks import random_spikes
from test_axonal import TIMESTEPS, build
from test_dendritic import build as build_dendritic
from test_mixed import build as build_mixed


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
    # Two epochs of two batches: one step per epoch (the last batch of an
    # epoch is discarded by both). Only an epoch's first step is the same:
    # later ones mix forward and backward parameters differently (see
    # GradientAccumulation)
    x = random_spikes(4, 5, TIMESTEPS, 0.2, seed=4)
    y = np.array([0, 1, 2, 0])

    def parameters():
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

    with compiled:
        before = parameters()
        compiled.train({inp: x}, {out: y}, num_epochs=2, shuffle=False)
        return before, parameters()


@pytest.mark.cuda
@pytest.mark.parametrize("kind, neuron", [
    ("synaptic", "lif"), ("axonal", "lif"), ("dendritic", "lif"),
    ("synaptic", "adlif")])
def test_cuda_batches_equal_cpu_accumulation(kind, neuron):
    initial, cpu = train(kind, "single_threaded_cpu", neuron)
    _, cuda = train(kind, "cuda", neuron)
    # Training moved every kind of parameter, weights and delays first
    assert all(np.abs(a - b).max() > 1e-3 for a, b in zip(initial, cpu))
    assert len(cpu) == len(cuda)
    for a, b in zip(cpu, cuda):
        assert np.linalg.norm(a - b) <= 1e-4 * np.linalg.norm(a) + 1e-6


def nccl_reductions(code_dir):
    """How many groups GeNN's generated GradientBatchReduce update
    all-reduces with NCCL: the sum of its host-reduction loop counts."""
    code = "".join(p.read_text() for p in code_dir.glob("*.cc"))
    start = code.index("void updateGradientBatchReduce(")
    body = code[start:code.find("\nvoid ", start + 1)]
    loops = re.findall(r"g < (\d+); g\+\+\)\s*\{[^{}]*?HostReduction"
                       r"[^{}]*?ncclAllReduce", body)
    return sum(int(n) for n in loops)


@pytest.mark.cuda
@pytest.mark.parametrize("kind", ["synaptic", "axonal+dendritic"])
def test_delay_gradients_are_nccl_reductions(kind, tmp_path, monkeypatch):
    """mlGeNN's MPI communicator turns on GeNN's NCCL reductions, which
    all-reduce every batch-reduced variable across ranks. Every delay
    gradient (and learned neuron parameter) has its batch reduction, like
    every weight gradient, so the generated code all-reduces them all."""
    from pygenn.cuda_backend import BlockSizeSelect, DeviceSelect
    monkeypatch.chdir(tmp_path)
    if kind == "synaptic":
        network, *_ = build("synaptic", True, neuron="adlif")
    else:
        network, *_ = build_mixed(True, True, neuron="adlif")
    name = f"nccl_{kind.replace('+', '_')}"
    compiled = EventPropCompiler(
        TIMESTEPS, "sparse_categorical_crossentropy", optimiser=SGD(1.0),
        delay_optimiser=SGD(1.0), batch_size=4, max_spikes=200,
        backend="cuda", enable_nccl_reductions=True,
        # GeNN's default block-size optimiser compiles the model with nvcc
        # before generating it, and aborts the whole process where nccl.h
        # is missing; the code is all this test needs
        device_select_method=DeviceSelect.MANUAL,
        block_size_select_method=BlockSizeSelect.MANUAL).compile(
            network, name=name)
    try:
        compiled.genn_model.build()
    except (RuntimeError, subprocess.CalledProcessError) as error:
        # The code is generated before it is built; a machine without
        # NCCL's header or library fails only the build
        print(f"build failed after code generation: {error}")
    reductions = [n for n, cu in compiled.genn_model.custom_updates.items()
                  if cu.update_group_name == "GradientBatchReduce"]
    delays = [n for n in reductions if n.startswith("CUBatchReduceDelay")]
    params = [n for n in reductions if n.startswith("CUBatchReduceParam")]
    # synaptic: 3 delayed connections (in, recurrent, out); mixed: the 2
    # into the hidden layer, each axonal and dendritic
    assert len(delays) == (3 if kind == "synaptic" else 4), reductions
    assert len(params) == 2, reductions  # AdLIF's learned a and b
    assert len(reductions) > len(delays) + len(params)  # and the weights
    code_dir, = tmp_path.glob(f"{name}*_CODE")
    assert nccl_reductions(code_dir) == len(reductions)


@pytest.mark.cuda
def test_cuda_inference_batches_equal_cpu_examples():
    """Our InferenceCompiler's per-step zeroing and last-step spike block
    act per batch: 4 examples in one CUDA batch give the output voltages
    of the CPU backend run one example at a time (last here: the first
    test to drop if a GPU session runs out of time)."""
    from ml_genn.callbacks import VarRecorder
    from ml_genn_delays import InferenceCompiler, Learnable
    from test_inference import N_IN, TIMESTEPS as T, network
    x = random_spikes(4, N_IN, T, 0.3, seed=7)
    y = np.array([0, 1, 2, 0])
    voltages = []
    for backend, batch_size in (("single_threaded_cpu", 1), ("cuda", 4)):
        net, inp, out, _ = network(Learnable(
            np.random.default_rng(3).uniform(0, 8, (N_IN, 4)), 12))
        compiled = InferenceCompiler(
            evaluate_timesteps=T, batch_size=batch_size,
            backend=backend).compile(net, name=f"cuda_inf_{batch_size}")
        with compiled:
            _, data = compiled.evaluate(
                {inp: x}, {out: y},
                callbacks=[VarRecorder(out, "v", key="v")])
        voltages.append(np.asarray(data["v"]).reshape(len(y), T, -1))
    assert np.any(voltages[0] != 0.0)
    np.testing.assert_allclose(voltages[1], voltages[0], rtol=1e-4,
                               atol=1e-6)
