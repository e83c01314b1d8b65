"""Plain stochastic gradient descent, an mlGeNN optimiser."""
from copy import deepcopy
from typing import Optional, Tuple

from pygenn import VarAccessMode
from ml_genn.optimisers import Optimiser
from ml_genn.utils.model import CustomUpdateModel
from ml_genn.utils.snippet import ConstantValueDescriptor

genn_model = {
    "params": [("Alpha", "scalar")],
    "var_refs": [("Gradient", "scalar", VarAccessMode.READ_ONLY),
                 ("Variable", "scalar")],
    "update_code": "Variable -= Alpha * Gradient;"}


class SGD(Optimiser):
    """Stochastic gradient descent: ``x -= alpha * gradient``.

    Useful where an update must be linear in the gradient (tests,
    gradient checks); Adam is the better default for training.

    Parameters
    ----------
    alpha : float
        Learning rate.
    """
    alpha = ConstantValueDescriptor()

    def __init__(self, alpha: float = 0.01):
        self.alpha = alpha

    def set_step(self, genn_cu, step):
        genn_cu.set_dynamic_param_value("Alpha", self.alpha)

    def get_model(self, gradient_ref, var_ref, zero_gradient: bool,
                  clamp_var: Optional[Tuple[float, float]] = None):
        model = CustomUpdateModel(deepcopy(genn_model), {"Alpha": self.alpha},
                                  {}, {"Gradient": gradient_ref,
                                       "Variable": var_ref})
        model.set_param_dynamic("Alpha")
        if zero_gradient:
            model.set_var_ref_access_mode("Gradient", VarAccessMode.READ_WRITE)
            model.append_update_code("Gradient = 0.0;")
        if clamp_var is not None:
            model.add_param("VariableMin", "scalar", clamp_var[0])
            model.add_param("VariableMax", "scalar", clamp_var[1])
            model.append_update_code(
                "Variable = fmax(VariableMin, fmin(VariableMax, Variable));")
        return model
