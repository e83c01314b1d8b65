"""AdaptiveLeakyIntegrateFire: LIF neuron with an adaptation current."""
import numpy as np
from ml_genn.initializers import Initializer, Uniform
from ml_genn.neurons import LeakyIntegrateFire
from ml_genn.utils.model import NeuronModel
from ml_genn.utils.value import ValueDescriptor
from pygenn import VarAccess

from .learnable_param import LearnableParam

#: Per-step decay factors. Kept apart from the update so the EventProp
#: build can move them in front of its backward pass, which uses them too.
DECAYS = """
const scalar Alpha = exp(-dt / TauMem);
const scalar Rho = exp(-dt / TauAdapt);
"""

#: One step of  tau_mem du/dt = -u + I - w,  tau_adapt dw/dt = a u - w
UPDATE = """
V = (Alpha * V) + ((1.0 - Alpha) * (Isyn - W));
W = (Rho * W) + ((1.0 - Rho) * AdaptA * V);
"""

#: Spike: u is reset, w jumps by b
RESET = """
V = Vreset;
W += AdaptB;
"""

#: Python name -> GeNN variable of the parameters that can be learned
PARAMETERS = {"tau_mem": "TauMem", "tau_adapt": "TauAdapt",
              "a": "AdaptA", "b": "AdaptB"}


def _check_values(**values):
    """Refuse non-finite values and time constants that are not positive
    (exp(-dt / 0) makes the whole network NaN, silently, in training)."""
    for name, value in values.items():
        if isinstance(value, LearnableParam):
            continue    # checked by LearnableParam and above
        positive = name.startswith("tau")
        if isinstance(value, Uniform):
            low = float(value.min)
            if positive and not low > 0.0:
                raise ValueError(f"AdaptiveLeakyIntegrateFire: {name} must "
                                 f"be positive; Uniform({value.min}, "
                                 f"{value.max}) can draw {low}")
            continue
        if isinstance(value, Initializer):
            continue
        try:
            array = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            raise TypeError(f"AdaptiveLeakyIntegrateFire: {name} must be a "
                            f"number, an array or an initializer, got "
                            f"{value!r:.60}") from None
        if not np.all(np.isfinite(array)):
            raise ValueError(f"AdaptiveLeakyIntegrateFire: {name} contains "
                             f"NaN or inf")
        if positive and np.any(array <= 0.0):
            raise ValueError(f"AdaptiveLeakyIntegrateFire: {name} must be "
                             f"positive (a time constant in ms), got "
                             f"{array.min()}")


class AdaptiveLeakyIntegrateFire(LeakyIntegrateFire):
    """Adaptive leaky integrate-and-fire neuron (AdLIF).

    ``tau_mem du/dt = -u + I - w``, ``tau_adapt dw/dt = a u - w``; when
    ``u >= v_thresh`` the neuron spikes, ``u`` is set to ``v_reset`` and
    ``w`` jumps by ``b``. Input currents are scaled as mlGeNN's EventProp
    ``default_params`` scale them (``scale_i``). With ``a = b = 0`` it is
    mlGeNN's LIF neuron (absolute reset, no refractory period), with a
    learnable time constant if ``tau_mem`` is a :class:`LearnableParam`.

    It subclasses mlGeNN's LeakyIntegrateFire so that mlGeNN's
    EventPropCompiler gives it a hidden neuron's spike tape and adjoint
    feedback; :class:`ml_genn_delays.EventPropCompiler` replaces the LIF
    adjoint dynamics by this neuron's (docs/adaptation_gradients.md).

    Parameters
    ----------
    v_thresh, v_reset : float
        Threshold and reset value of ``u``.
    v, w : float, array or Initializer
        Initial membrane potential and adaptation current.
    tau_mem, tau_adapt : float, array, Initializer or LearnableParam
        Time constants [ms] of ``u`` and ``w`` (per neuron).
    a, b : float, array, Initializer or LearnableParam
        Subthreshold coupling of ``w`` to ``u`` and spike-triggered
        jump of ``w`` (per neuron).
    readout : optional
        mlGeNN readout (for inference; EventProp trains AdLIF neurons as
        hidden neurons only).
    """

    v_thresh = ValueDescriptor("Vthresh")
    v_reset = ValueDescriptor("Vreset")
    v = ValueDescriptor("V")
    w = ValueDescriptor("W")
    tau_mem = ValueDescriptor("TauMem")
    tau_adapt = ValueDescriptor("TauAdapt")
    a = ValueDescriptor("AdaptA")
    b = ValueDescriptor("AdaptB")

    def __init__(self, v_thresh=1.0, v_reset=0.0, v=0.0, w=0.0,
                 tau_mem=20.0, tau_adapt=150.0, a=0.5, b=0.5,
                 readout=None, **kwargs):
        # LeakyIntegrateFire's own __init__ takes LIF arguments; set what
        # mlGeNN's EventProp reads of a LIF neuron (absolute reset, no
        # refractory period) and skip to Neuron's
        super(LeakyIntegrateFire, self).__init__(readout, **kwargs)
        self.v_thresh = v_thresh
        self.v_reset = v_reset
        self.v = v
        self.w = w
        self.tau_refrac = None
        self.relative_reset = False
        self.integrate_during_refrac = False
        self.scale_i = True

        #: Python name -> LearnableParam of the learned parameters
        self.learnable_params = {}
        for name, value in (("tau_mem", tau_mem), ("tau_adapt", tau_adapt),
                            ("a", a), ("b", b)):
            if isinstance(value, LearnableParam):
                self.learnable_params[name] = value
                value = value.init
            setattr(self, name, value)
        for name in ("tau_mem", "tau_adapt"):
            spec = self.learnable_params.get(name)
            if spec is not None and spec.low <= 0.0:
                raise ValueError(f"AdaptiveLeakyIntegrateFire: {name} must "
                                 f"stay positive; LearnableParam low is "
                                 f"{spec.low}")
        _check_values(v_thresh=v_thresh, v_reset=v_reset, v=v, w=w,
                      tau_mem=tau_mem, tau_adapt=tau_adapt, a=a, b=b)

    def get_model(self, population, dt, batch_size):
        # Per-neuron arrays must fit the population; pygenn would fail
        # later, at load, without naming either
        size = int(np.prod(population.shape))
        for name in ("v", "w", *PARAMETERS):
            spec = self.learnable_params.get(name)
            value = spec.init if spec is not None else getattr(self, name)
            if isinstance(value, np.ndarray) and value.size not in (1, size):
                raise ValueError(
                    f"Population {population.name}: {name} has "
                    f"{value.size} values for {size} neurons; give one "
                    f"value or one per neuron")
        # Parameters are per-neuron variables shared across the batch
        shared = [(v, "scalar", VarAccess.READ_ONLY)
                  for v in PARAMETERS.values()]
        genn_model = {
            "vars": [("V", "scalar"), ("W", "scalar")] + shared,
            "params": [("Vthresh", "scalar"), ("Vreset", "scalar")],
            "sim_code": DECAYS + UPDATE,
            "threshold_condition_code": "V >= Vthresh",
            "reset_code": RESET}
        # Fresh dicts: mlGeNN's get_values fills its mutable default dict
        # in place, which every model built without one then shares
        return NeuronModel.from_val_descriptors(genn_model, "V", self, dt,
                                                param_vals={}, var_vals={})
