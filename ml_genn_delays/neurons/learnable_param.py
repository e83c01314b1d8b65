"""LearnableParam: a per-neuron parameter learned by EventProp."""
from numbers import Number

import numpy as np

from ml_genn.initializers import Initializer, Normal, Uniform
from ml_genn.optimisers import Optimiser


class LearnableParam:
    """A neuron parameter learned together with weights and delays.

    Each neuron of the population gets its own value, clamped to
    ``[low, high]`` after every optimiser step.

    Parameters
    ----------
    init : float, array or mlGeNN Initializer
        Initial value(s): one number for all neurons, one per neuron, or
        an initializer such as ``Uniform(5.0, 25.0)``.
    low, high : float
        Bounds of the learned values (the units of the parameter, e.g. ms
        for time constants). ``low < high``; ``init`` must lie inside.
    optimiser : mlGeNN Optimiser, optional
        This parameter's own optimiser (default: the compiler's
        ``param_optimiser``, shared by all). Adam moves each value by
        about its learning rate per step, whatever the parameter's scale:
        a 200 ms adaptation time constant may want ``Adam(1.0)`` where
        ``a`` and ``b`` take ``Adam(0.01)``.

    Notes
    -----
    Neurons that take it: :class:`AdaptiveLeakyIntegrateFire` (``tau_mem``,
    ``tau_adapt``, ``a``, ``b``). For a LIF neuron with a learned
    ``tau_mem`` use ``AdaptiveLeakyIntegrateFire(a=0.0, b=0.0,
    tau_mem=LearnableParam(...))``: with ``a = b = 0`` it is mlGeNN's LIF
    (mlGeNN's own LeakyIntegrateFire refuses a LearnableParam).

    Examples
    --------
    >>> from ml_genn.initializers import Uniform
    >>> from ml_genn_delays import AdaptiveLeakyIntegrateFire, LearnableParam
    >>> neuron = AdaptiveLeakyIntegrateFire(
    ...     tau_mem=LearnableParam(Uniform(5.0, 25.0), 3.0, 50.0),
    ...     tau_adapt=LearnableParam(150.0, 60.0, 300.0))
    """

    def __init__(self, init, low: float, high: float, optimiser=None):
        if optimiser is not None and not isinstance(optimiser, Optimiser):
            raise TypeError(f"LearnableParam: optimiser must be an mlGeNN "
                            f"Optimiser (e.g. Adam(0.5)), got "
                            f"{optimiser!r}")
        for name, bound in (("low", low), ("high", high)):
            if (isinstance(bound, bool) or not isinstance(bound, Number)
                    or not np.isfinite(bound)):
                raise ValueError(f"LearnableParam: {name} must be a finite "
                                 f"number, got {bound!r}")
        if not low < high:
            raise ValueError(f"LearnableParam: low ({low}) must be below "
                             f"high ({high})")
        if isinstance(init, Normal):
            # Unbounded: it always draws some values outside the bounds
            raise ValueError(
                f"LearnableParam: a Normal init draws values outside "
                f"[{low}, {high}]; use Uniform(a, b) inside the bounds")
        if isinstance(init, Uniform):
            if not low <= float(init.min) <= float(init.max) <= high:
                raise ValueError(
                    f"LearnableParam: init Uniform({init.min}, {init.max}) "
                    f"must lie in [low, high] = [{low}, {high}]")
        elif not isinstance(init, Initializer):
            values = np.asarray(init, dtype=float)
            if not np.all(np.isfinite(values)):
                raise ValueError("LearnableParam: init contains NaN or inf")
            if np.any(values < low) or np.any(values > high):
                raise ValueError(
                    f"LearnableParam: init must lie in [low, high] = "
                    f"[{low}, {high}], got values in [{values.min()}, "
                    f"{values.max()}]")
            init = float(values) if values.ndim == 0 else values
        self.init = init
        self.low = float(low)
        self.high = float(high)
        self.optimiser = optimiser

    def __repr__(self):
        own = "" if self.optimiser is None else f", {self.optimiser!r}"
        return (f"LearnableParam({self.init!r}, {self.low}, {self.high}"
                f"{own})")
