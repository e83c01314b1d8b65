"""Delay specifications: what a user passes as ``Connection(..., delay=...)``.

Delays are always given in simulation timesteps. To convert from
milliseconds divide by the timestep, e.g. ``150 ms / dt`` with
``dt = 1.0 ms`` is 150 steps.
"""
from numbers import Number, Real

import numpy as np

from ml_genn.initializers import Initializer, Normal, Uniform

from .wholes import is_whole

#: Defaults used when ``delay=Learnable`` (the class itself) is passed
DEFAULT_INIT = 0.0
DEFAULT_MAX_DELAY_STEPS = 100

#: Largest delay GeNN supports (its delay slots are 16-bit)
GENN_MAX_DELAY_STEPS = 65534


def check_max_delay_steps(max_delay_steps, where: str, minimum: int = 0,
                          why: str = "") -> int:
    """Validate a maximum delay and return it as an int."""
    if not is_whole(max_delay_steps, floats=True):
        raise ValueError(f"{where}: max_delay_steps must be a whole number "
                         f"of timesteps, got {max_delay_steps!r}. Convert "
                         f"milliseconds with round(delay_ms / dt).")
    if not minimum <= max_delay_steps <= GENN_MAX_DELAY_STEPS:
        # `why` explains the minimum: shown only for values below it
        raise ValueError(f"{where}: max_delay_steps must be in "
                         f"[{minimum}, {GENN_MAX_DELAY_STEPS}], got "
                         f"{max_delay_steps}"
                         f"{why if max_delay_steps < minimum else ''}")
    return int(max_delay_steps)


def whole_steps(delays):
    """Delays [steps] rounded to the nearest step, halves up, as the
    weight update models apply them (``(int)(d + 0.5)``; numpy's and
    mlGeNN's rounding would take halves to even)."""
    return np.floor(np.asarray(delays, dtype=np.float64) + 0.5)


def as_values(init, where: str):
    """A list or tuple of delays becomes an array (so its shape is checked
    like one); numbers, arrays and initializers pass unchanged; anything
    else (None, True, a string, a complex number) is refused."""
    if isinstance(init, Initializer):
        return init
    if isinstance(init, (list, tuple)):
        try:
            init = np.asarray(init, dtype=float)
        except (TypeError, ValueError):
            pass    # refused below, as it was given
    if (isinstance(init, (bool, np.bool_))
            or not isinstance(init, (Real, np.ndarray))
            or (isinstance(init, np.ndarray) and init.dtype.kind not in "iuf")):
        # True would be a delay of one step, None a NaN, "3" unknown to
        # mlGeNN
        raise TypeError(f"{where}: {init!r:.60} is not a delay; give a "
                        f"number of timesteps, an array of them or an "
                        f"initializer such as Uniform(0, 20)")
    return init


def init_upper_bound(init, where: str):
    """Largest delay an initial value can produce.

    Raises ValueError for NaN/inf or negative values, and for an
    initializer whose range is unknown (so every accepted delay is
    bounded).
    """
    if isinstance(init, Uniform):
        low, high = float(init.min), float(init.max)
        if not (np.isfinite(low) and np.isfinite(high)):
            raise ValueError(f"{where}: delay initializer bounds must be "
                             f"finite, got Uniform({low}, {high})")
        if low < 0.0:
            raise ValueError(f"{where}: delays cannot be negative but "
                             f"Uniform({low}, {high}) can draw {low}; "
                             f"use a lower bound >= 0")
        return high
    elif isinstance(init, Normal):
        # A normal distribution draws negative delays: refuse it
        raise ValueError(f"{where}: Normal delay initialisation can draw "
                         f"negative delays; use Uniform(low, high) with "
                         f"low >= 0 or an array of delays")
    elif isinstance(init, Initializer):
        # mlGeNN's Wrapper names a GeNN snippet: check the two whose range
        # is known; GeNN would use any other's draws as they come, and a
        # negative delay lands in a wrong slot of the delay rings
        snippet = getattr(init, "snippet", None)
        params = getattr(init, "param_vals", None) or {}
        if snippet == "Uniform" and {"min", "max"} <= set(params):
            return init_upper_bound(Uniform(params["min"], params["max"]),
                                    where)
        if snippet == "Constant" and "constant" in params:
            return init_upper_bound(float(params["constant"]), where)
        raise ValueError(f"{where}: the range of the delays {init!r} draws "
                         f"cannot be checked (they must lie in [0, "
                         f"max_delay_steps]); use Uniform(low, high), a "
                         f"number or an array")
    values = np.asarray(init, dtype=float)
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{where}: delays contain NaN or inf; "
                         f"give finite delays in timesteps")
    if np.any(values < 0.0):
        raise ValueError(f"{where}: delays cannot be negative (smallest "
                         f"is {values.min()}); give delays >= 0 steps")
    return float(values.max()) if values.size else 0.0


class Learnable:
    """A delay learned together with the weights by EventProp.

    Parameters
    ----------
    init : float, array or mlGeNN Initializer, optional
        Initial delays in timesteps, e.g. ``Uniform(0, 50)`` (within
        ``max_delay_steps``). A number gives every synapse the same delay;
        an array (or list) must have the connection's shape:
        ``(n_pre, n_post)`` for Dense, one value per synapse for synapses
        listed by hand (``pre_ind``/``post_ind``) or OneToOne. Connectivity
        drawn at build time (FixedProbability) takes a number or an
        initializer.
    max_delay_steps : int, optional
        Largest delay the connection can reach (at least 1); learned
        delays are clamped to ``[0, max_delay_steps]``. Memory for delayed
        postsynaptic input and adjoint history grows with it.
    kind : str, optional
        Where the delay lives. ``"synaptic"``: one delay per synapse
        (``init`` of shape ``(n_pre, n_post)``). ``"axonal"``: one delay
        per presynaptic neuron, shared by all its synapses in the
        connection (``init`` of shape ``(n_pre,)``). ``"dendritic"``: one
        delay per postsynaptic neuron, shared by all its incoming synapses
        in the connection (``init`` of shape ``(n_post,)``; the target
        must be a hidden population, LIF or AdLIF). A tuple
        ``("axonal", "dendritic")``: both, the delay of synapse ij being
        ``d_i + d_j``: each part lies in ``[0, max_delay_steps]``, so a
        synapse's delay reaches ``2 * max_delay_steps`` (the delay
        buffers are that long; a clamp on the sum would leave the
        gradients of clamped synapses wrong). ``init`` is then one value
        for both or a tuple of one per kind, in the order given (a list
        too). ``"axonal+dendritic"`` is the same as the tuple.

    Notes
    -----
    Passing the class itself, ``delay=Learnable``, means
    ``Learnable(init=0.0, max_delay_steps=100, kind="synaptic")``.
    In the forward pass a delay is rounded to the nearest whole step.
    """

    def __init__(self, init=DEFAULT_INIT,
                 max_delay_steps: int = DEFAULT_MAX_DELAY_STEPS,
                 kind: str = "synaptic"):
        # Import here: kinds import nothing from this module, but keeping
        # the lookup lazy lets kinds grow without touching this file
        from .kinds import get_kind, given_names
        kind = given_names(kind)
        self.kind = get_kind(kind)
        self.max_delay_steps = check_max_delay_steps(
            max_delay_steps, "Learnable", minimum=1,
            why=" (0 leaves the delays nothing to learn: for none, give "
                "delay=None)")
        inits = self._part_inits(kind, init)
        for part_init in inits:
            high = init_upper_bound(part_init, "Learnable")
            if high > self.max_delay_steps:
                raise ValueError(
                    f"Learnable: initial delays reach {high} steps but "
                    f"max_delay_steps is {self.max_delay_steps}; raise "
                    f"max_delay_steps or lower the initial delays")
        self.init = inits[0] if len(inits) == 1 else tuple(inits)
        if self.longest_delay_steps > GENN_MAX_DELAY_STEPS:
            raise ValueError(
                f"Learnable: {self.kind.name} delays reach "
                f"{len(self.kind.parts)} x max_delay_steps = "
                f"{self.longest_delay_steps} steps, more than GeNN's "
                f"{GENN_MAX_DELAY_STEPS}; lower max_delay_steps")

    @property
    def longest_delay_steps(self) -> int:
        """The longest delay a synapse can get, and the length of its
        delay buffers: ``max_delay_steps``, or the sum of the parts'
        for mixed delays."""
        return self.max_delay_steps * len(self.kind.parts)

    def _part_inits(self, kind, init):
        """One initial value per part of the kind, in ``kind.parts``
        order (a tuple init of a mixed kind is in the order of ``kind``)."""
        parts = self.kind.parts
        if len(parts) == 1:
            return [as_values(init, "Learnable")]
        if isinstance(init, (tuple, list)):
            # One init per kind (a list too: a per-neuron list cannot
            # serve both kinds, which have their own sizes)
            if len(init) != len(parts):
                raise ValueError(
                    f"Learnable: kind {tuple(kind)} needs one init per "
                    f"kind, got {len(init)}")
            by_name = dict(zip(kind, init))
            return [as_values(by_name[p.name], "Learnable")
                    for p in parts]
        return [as_values(init, "Learnable")] * len(parts)

    @property
    def parts(self):
        """(kind, initial value) of each part: one for a single kind,
        one per kind for mixed delays (e.g. axonal + dendritic)."""
        parts = self.kind.parts
        inits = [self.init] if len(parts) == 1 else list(self.init)
        return list(zip(parts, inits))

    def with_part_init(self, kind, init):
        """Replace one part's initial value (loading saved delays)."""
        if len(self.kind.parts) == 1:
            self.init = init
        else:
            self.init = tuple(init if k is kind else i
                              for k, i in self.parts)

    def __repr__(self):
        return (f"Learnable(init={self.init!r}, max_delay_steps="
                f"{self.max_delay_steps}, kind={self.kind.name!r})")


class Fixed:
    """A delay that is applied but not learned.

    Parameters
    ----------
    init : float, array or mlGeNN Initializer
        Delays in timesteps. Numbers and arrays are rounded to the nearest
        step, halves up, as learnable delays are applied (mlGeNN would
        truncate a number and round an array's halves to even); the draws
        of an initializer are truncated by GeNN, which holds fixed delays
        as integers.
    max_delay_steps : int, optional
        Longest delay the connection's buffers hold; at least the largest
        delay ``init`` can give. Default: that delay, rounded up (every
        ``init`` accepted has a known largest delay: numbers, arrays,
        ``Uniform`` and GeNN's Uniform or Constant snippets).
    """

    def __init__(self, init, max_delay_steps=None):
        init = as_values(init, "Fixed delay")
        high = init_upper_bound(init, "Fixed delay")
        if max_delay_steps is None:
            max_delay_steps = int(np.ceil(high))
        self.max_delay_steps = check_max_delay_steps(max_delay_steps,
                                                     "Fixed delay")
        if high > self.max_delay_steps:
            raise ValueError(f"Fixed delay: delays reach {high} steps but "
                             f"max_delay_steps is {self.max_delay_steps}")
        if isinstance(init, np.ndarray):
            init = whole_steps(init)
        elif isinstance(init, Number):
            init = float(whole_steps(init))
        self.init = init

    @property
    def longest_delay_steps(self) -> int:
        """As :attr:`Learnable.longest_delay_steps`: ``max_delay_steps``."""
        return self.max_delay_steps


def as_delay_spec(delay, max_delay_steps=None):
    """Turn the ``delay=`` argument of a Connection into a spec (or None)."""
    if delay is None:
        return None
    if delay is Learnable:
        return Learnable()
    if isinstance(delay, (Learnable, Fixed)):
        return delay
    if isinstance(delay, type) or isinstance(delay, (bool, str)):
        # delay=True would otherwise be a fixed delay of one step
        shown = delay.__name__ if isinstance(delay, type) else repr(delay)
        raise TypeError(f"delay={shown} is not a delay; pass a number of "
                        f"timesteps, an array, an initializer, or "
                        f"Learnable(...) to learn the delays")
    return Fixed(delay, max_delay_steps)
