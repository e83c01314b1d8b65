"""Checks made before GeNN builds anything: the EventPropCompiler's
arguments, and the network's neurons and synapses against what
EventProp's adjoint assumes. mlGeNN checks few of these and fails late
(a ZeroDivisionError, a TypeError at load) or trains nothing silently."""
import numbers
import warnings

import numpy as np
from ml_genn.compilers.event_prop_compiler import default_params
from ml_genn.neurons import Input, LeakyIntegrate, LeakyIntegrateFire
from ml_genn.optimisers import Adam
from ml_genn.synapses import Exponential

from .neurons.event_prop import get_neuron_kind
from .sgd import SGD
from .wholes import require_whole


def check_batch_size(batch_size):
    """Before mlGeNN sees it: mlGeNN takes 0 and then trains as with 1,
    and with a communicator fails on a string with its own TypeError."""
    require_whole(batch_size, "batch_size")


def check_compiler_arguments(example_timesteps, batch_size, dt, max_spikes,
                             optimisers):
    """ValueError naming the first bad argument and what it must be.

    ``optimisers``: {argument name: mlGeNN Optimiser object}; a NaN or
    infinite hyperparameter trains weights to NaN, and delays, whose
    clamp swallows NaN, all to one bound, without a word."""
    # 0 divides by zero in mlGeNN's readouts, 10.5 fails at load
    require_whole(example_timesteps, "example_timesteps",
                  meaning="steps of dt per example")
    check_batch_size(batch_size)
    if (isinstance(dt, bool) or not isinstance(dt, numbers.Real)
            or not np.isfinite(dt) or dt <= 0):
        raise ValueError(f"dt must be a positive number of ms, got {dt!r}")
    # With 0 the spike buffers hold nothing: no gradient, no warning
    require_whole(max_spikes, "max_spikes", meaning="spikes per neuron "
                  "and example kept for the backward pass")
    for argument, optimiser in optimisers.items():
        check_optimiser(argument, optimiser)


def check_optimiser(argument, optimiser):
    """ValueError for a hyperparameter of ``optimiser`` that is NaN,
    infinite or, for mlGeNN's Adam and our SGD, out of range."""
    for name, value in vars(optimiser).items():
        if (isinstance(value, numbers.Real) and not isinstance(value, bool)
                and not np.isfinite(value)):
            raise ValueError(f"{argument}: {type(optimiser).__name__}"
                             f" has {name.lstrip('_')}={value!r}; "
                             f"give a finite number")
    check_optimiser_ranges(argument, optimiser)


#: Ranges of the hyperparameters of mlGeNN's Adam and our SGD, as
#: (low, low included, high, high included). A negative alpha climbs
#: the loss; beta 1 divides by 1 - beta**step = 0; epsilon 0 gives
#: 0/0 for every synapse whose gradients are still all zero.
_OPTIMISER_RANGES = {
    "alpha": (0.0, True, np.inf, False),
    "beta1": (0.0, True, 1.0, False),
    "beta2": (0.0, True, 1.0, False),
    "epsilon": (0.0, False, np.inf, False)}


def check_optimiser_ranges(argument, optimiser):
    """ValueError for a hyperparameter of an mlGeNN Adam or SGD outside
    the range where the optimiser descends (mlGeNN takes any number)."""
    if not isinstance(optimiser, (Adam, SGD)):
        return      # a user's own optimiser knows its own ranges
    for name, (low, low_in, high, high_in) in _OPTIMISER_RANGES.items():
        value = getattr(optimiser, name, None)
        if not isinstance(value, numbers.Real) or isinstance(value, bool):
            continue
        if (value < low or (value == low and not low_in)
                or value > high or (value == high and not high_in)):
            interval = (f"{'[' if low_in else '('}{low:g}, "
                        f"{high:g}{']' if high_in else ')'}")
            raise ValueError(f"{argument}: {type(optimiser).__name__} has "
                             f"{name}={value!r}; it must lie in {interval}")


def check_time_constants(network):
    """EventProp's adjoint of mlGeNN's LIF and LI neurons divides by
    ``tau_mem - tau_syn`` (mlGeNN: a bare ZeroDivisionError)."""
    for pop in network.populations:
        neuron = pop.neuron
        if (not isinstance(neuron, (LeakyIntegrate, LeakyIntegrateFire))
                or get_neuron_kind(neuron) is not None
                or not isinstance(neuron.tau_mem, numbers.Real)):
            continue    # our neurons check their own
        for conn in pop.incoming_connections:
            synapse = conn().synapse
            if (isinstance(synapse, Exponential)
                    and isinstance(synapse.tau, numbers.Real)
                    and synapse.tau == neuron.tau_mem):
                raise ValueError(
                    f"Population {pop.name}: tau_mem equals the tau of "
                    f"its Exponential synapses from Connection "
                    f"{conn().name} ({synapse.tau} ms); EventProp's "
                    f"gradients divide by their difference: make them "
                    f"differ (e.g. by 1%)")


def warn_unlike_event_prop_defaults(network):
    """Warn for each neuron or synapse whose flags differ from EventProp's
    ``default_params`` (input scaling, absolute reset, no integration while
    refractory), for which EventProp's adjoint is derived. mlGeNN applies
    them only to objects created inside ``with Network(default_params):``;
    one made outside silently keeps its class defaults (scale_i=False,
    ...), and mlGeNN checks none of them (two only through its logger).
    Input populations are left out: no gradient flows into their
    dynamics (and mlGeNN gives its LeakyIntegrateFireInput no defaults,
    inside the network or not)."""
    objects = ([(f"Population {p.name}", p.neuron)
                for p in network.populations
                if not isinstance(p.neuron, Input)]
               + [(f"Connection {c.name}", c.synapse)
                  for c in network.connections])
    for where, obj in objects:
        for name, value in default_params.get(type(obj), {}).items():
            if getattr(obj, name, value) != value:
                warnings.warn(
                    f"{where}: {type(obj).__name__} has {name}="
                    f"{getattr(obj, name)!r}, but EventProp's gradients "
                    f"assume {name}={value!r}. Create it inside `with "
                    f"Network(default_params):` (default_params from "
                    f"ml_genn.compilers.event_prop_compiler) or pass "
                    f"{name}={value!r}.", stacklevel=3)


def _given_values(value):
    """``value`` as a float array if it is numbers (not an initializer or
    a string), else None."""
    if isinstance(value, (numbers.Real, np.ndarray, list, tuple)):
        try:
            return np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            return None
    return None


def check_finite_weights(network):
    """Initial weights given as numbers must be finite: a NaN trained on
    and surfaced only after the first epoch (NonFiniteError), blaming
    the learning rates."""
    for conn in network.connections:
        weights = _given_values(getattr(conn.connectivity, "weight", None))
        if weights is not None and not np.all(np.isfinite(weights)):
            bad = int(np.sum(~np.isfinite(weights)))
            raise ValueError(
                f"Connection {conn.name}: {bad} of its {weights.size} "
                f"initial weights are NaN or inf; give finite weights")


def warn_delays_past_example(network, example_timesteps, dt):
    """Warn for a connection whose every initial delay (given as numbers)
    is too long for a spike to reach its target within an example, so
    that nothing learns (usually delays given in ms, not timesteps). A
    spike of step ``t`` arrives in step ``t + 1 + d`` (``d`` rounded),
    and the last step takes no input: ``d >= example_timesteps - 2``
    never arrives."""
    for conn in network.connections:
        spec = getattr(conn, "delay_spec", None)
        parts = (spec.parts if hasattr(spec, "parts")
                 else [(None, spec.init)] if spec is not None else [])
        shortest = [_given_values(init) for _, init in parts]
        if not parts or any(v is None or v.size == 0 for v in shortest):
            continue
        # Per-neuron parts add up along each synapse; rounded halves up
        longest = example_timesteps - 2
        if np.floor(sum(float(v.min()) for v in shortest) + 0.5) >= longest:
            warnings.warn(
                f"Connection {conn.name}: every initial delay is at least "
                f"{longest} steps, so no spike reaches "
                f"{conn.target().name} within an example of "
                f"{example_timesteps} timesteps and nothing learns. Delays "
                f"are in timesteps, not ms (at dt {dt} ms, 10 ms is "
                f"{10.0 / dt:g} steps).", stacklevel=3)
