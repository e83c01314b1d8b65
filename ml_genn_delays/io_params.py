"""Learned neuron parameters in model files (pure numpy, like io).

A population whose neuron has learnable parameters (e.g.
``AdaptiveLeakyIntegrateFire(tau_mem=LearnableParam(...))``) is saved as
``<checkpoint>-<population name>-<parameter>.npy`` per learned parameter
(float32, one value per neuron; Python names such as ``tau_mem``).
"""
from numbers import Number

import numpy as np

from .errors import ModelFileError

#: The delay kind each delay file suffix holds (each kind's file_suffix)
DELAY_FILE_KINDS = {"d": "synaptic", "da": "axonal", "dd": "dendritic"}

#: Suffixes of connection files; any other suffix names a parameter
CONNECTION_SUFFIXES = ("g", *DELAY_FILE_KINDS)


def learned_populations(target):
    """Populations with learnable neuron parameters, in network order."""
    compiled = hasattr(target, "neuron_populations")
    pops = (list(target.neuron_populations) if compiled
            else list(target.populations))
    return [p for p in pops if getattr(p.neuron, "learnable_params", None)]


def _size(pop):
    return int(np.prod(pop.shape))


def _genn_var(target, pop, name):
    # Only reached with a compiled network, so mlGeNN is there
    from ml_genn.utils.value import get_genn_var_name
    return target.neuron_populations[pop].vars[
        get_genn_var_name(pop.neuron, name)]


def param_state(target, pop, finite=True):
    """{parameter: float32 values} of a population's learned parameters
    (``finite``: refuse NaN or inf, as a save must)."""
    state = {}
    for name, spec in pop.neuron.learnable_params.items():
        if hasattr(target, "neuron_populations"):
            var = _genn_var(target, pop, name)
            var.pull_from_device()
            values = np.array(var.values, dtype=np.float32).ravel()
        elif isinstance(spec.init, (Number, np.ndarray, list, tuple)):
            values = np.broadcast_to(np.asarray(spec.init, np.float32),
                                     (_size(pop),)).copy()
        else:
            raise ValueError(f"Population {pop.name}: {name} is an "
                             f"initializer, not values; save the compiled "
                             f"network")
        if finite and not np.all(np.isfinite(values)):
            raise ValueError(f"Population {pop.name}: {name} contains NaN "
                             f"or inf; nothing was saved")
        state[name] = values
    return state


def read_params(pop, directory, files, stem, read):
    """Check and read the files of ``pop``'s learned parameters
    (``files``: suffix -> file name of its stem); ``read(name, what, size,
    low, high)`` loads one checked file."""
    values = {}
    for name, spec in pop.neuron.learnable_params.items():
        if name not in files:
            raise ModelFileError(
                f"Missing <checkpoint>-{stem}-{name}.npy for the learned "
                f"{name} of population {pop.name} in {directory}")
        values[name] = read(files[name], f"learned {name}",
                            _size(pop), spec.low, spec.high)
    extra = set(files) - set(values)
    if extra:
        raise ModelFileError(
            f"{directory} holds {[files[s] for s in sorted(extra)]} for "
            f"population {pop.name}, which learns no such parameter")
    return values


def apply_params(target, pop, values):
    """Set checked values: on the device, or as the initial values."""
    for name, array in values.items():
        if hasattr(target, "neuron_populations"):
            var = _genn_var(target, pop, name)
            var.values = array
            var.push_to_device()
        else:
            pop.neuron.learnable_params[name].init = array
            setattr(pop.neuron, name, array)
