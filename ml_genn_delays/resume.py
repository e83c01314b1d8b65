"""Saving and restoring the whole training state, so that a resumed run
equals an uninterrupted one: every weight, delay and learned neuron
parameter, the optimisers' moments, and the caller's own state (epoch, RNG states, history...)."""
import json
import os
import re

import numpy as np

from .backends import whole_array
from .errors import ModelFileError
from .io_journal import reading, save_all

STATE_ARRAYS = "training_state.npz"
#: Keys of gradients in states saved by earlier versions
_GRADIENT = re.compile(r"/(Gradient|delay_gradient(/\w+)?|gradient)$")
STATE_JSON = "training_state.json"


def _genn_vars(compiled):
    """{key: pygenn variable} of everything that learning changes and the
    next epoch reads. Not the gradients: mlGeNN's ZeroGradient update
    clears them at the end of every epoch's first batch, before any
    optimiser step; on a GPU they hold one copy per example of the batch
    (256 times the weights), and their shape would tie a run to its
    backend."""
    out = {}
    specs = getattr(compiled, "learnable_delays", {})
    # By position: connection names differ between processes
    for i, (conn, genn_pop) in enumerate(
            compiled.connection_populations.items()):
        if "g" in genn_pop.vars:
            out[f"conn{i}/g"] = genn_pop.vars["g"]
        spec = specs.get(conn)
        parts = [] if spec is None else [k for k, _ in spec.parts]
        for kind in parts:
            # Mixed delays: one entry per part, named after its kind
            tag = "" if len(parts) == 1 else f"/{kind.name}"
            var = kind.delay_var(conn)
            holder = kind.holder(conn, var, compiled.neuron_populations,
                                 compiled.connection_populations)
            out[f"conn{i}/delay{tag}"] = kind.genn_var(holder, var)
    for i, (pop, var, _, _) in enumerate(
            getattr(compiled, "learnable_params", [])):
        out[f"param{i}/{var}"] = compiled.neuron_populations[pop].vars[var]
    for i, (_, custom_updates) in enumerate(compiled.optimisers):
        for j, cu in enumerate(custom_updates):
            for name in cu.vars:
                out[f"optimiser{i}/{j}/{name}"] = cu.vars[name]
    return out


def save_training_state(compiled, directory, state: dict):
    """Write the training state of ``compiled`` (inside its ``with``
    block) and the JSON-serialisable ``state`` to ``directory``. Both files
    are written in full before either replaces its old one; the arrays
    name the epoch of the JSON, so a crash between the two renames leaves
    a pair that :func:`load_training_state` rejects."""
    arrays = {}
    for key, var in _genn_vars(compiled).items():
        var.pull_from_device()
        arrays[key] = np.array(whole_array(var), copy=True)
    state = dict(state, alphas=[o.alpha for o, _ in compiled.optimisers],
                 arrays=sorted(arrays))
    os.makedirs(directory, exist_ok=True)
    token = str(state.get("epoch"))
    # Saved together: a failure or a kill part-way leaves one epoch's pair
    save_all([(os.path.join(directory, STATE_ARRAYS),
               lambda f: np.savez(f, __epoch__=np.array(token), **arrays)),
              (os.path.join(directory, STATE_JSON),
               lambda f: f.write(json.dumps(state).encode()))])


def _read_state(directory) -> dict:
    """The state's JSON (finishing an interrupted save of the pair)."""
    with reading(directory):
        return _read_json(directory)


def _read_json(directory) -> dict:
    json_path = os.path.join(directory, STATE_JSON)
    if not os.path.isfile(json_path):
        raise FileNotFoundError(f"No training state to resume in "
                                f"{directory} (expected {STATE_JSON})")
    with open(json_path) as f:
        return json.load(f)


def saved_epoch(directory) -> int:
    """The last epoch (0-based) whose training state ``directory`` holds,
    without a network (a FileNotFoundError where there is none)."""
    return _read_state(directory)["epoch"]


def load_training_state(compiled, directory) -> dict:
    """Restore what :func:`save_training_state` wrote into ``compiled``
    (pushing it to the device) and return the caller's ``state``."""
    with reading(directory):
        return _load_state(compiled, directory)


def _load_state(compiled, directory):
    state = _read_json(directory)
    genn_vars = _genn_vars(compiled)
    with np.load(os.path.join(directory, STATE_ARRAYS)) as arrays:
        if str(arrays["__epoch__"]) != str(state.get("epoch")):
            raise ModelFileError(
                f"{directory}: {STATE_ARRAYS} and {STATE_JSON} are from "
                f"different epochs (copied from different saves); cannot "
                f"resume: start afresh with --overwrite")
        # States of earlier versions also hold the gradients (not needed)
        saved = {k for k in state["arrays"] if not _GRADIENT.search(k)}
        if saved != set(genn_vars):
            raise ModelFileError(
                f"{directory}: the saved training state is of another "
                f"network ({sorted(state['arrays'])[:3]}...); resume with "
                f"the same architecture")
        for key, var in genn_vars.items():
            shape = whole_array(var).shape
            if arrays[key].shape != shape:
                raise ModelFileError(f"{directory}: {key} has shape "
                                     f"{arrays[key].shape}, expected "
                                     f"{shape}")
        for key, var in genn_vars.items():
            whole_array(var)[:] = arrays[key]
            var.push_to_device()
    for (optimiser, _), alpha in zip(compiled.optimisers, state["alphas"]):
        optimiser.alpha = alpha
    return state
