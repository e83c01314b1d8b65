"""Synaptic delays: one learnable delay d_ij per synapse."""
import numpy as np
from pygenn import VarAccess, create_wu_var_ref

from .base import DelayKind


class SynapticDelay(DelayKind):
    """One delay per synapse, stored beside the weight.

    Variable names match mlGeNN's own ``delay_learn_conns`` path
    (``d`` and ``DelayGradient``) so its checkpoints and
    ``Network.load`` read and write the same ``-d.npy`` files.
    """
    name = "synaptic"
    delay_expression = "d"
    delay_var = "d"
    gradient_var = "DelayGradient"
    file_suffix = "d"

    def add_variables(self, wum, init):
        wum.add_var(self.delay_var, "scalar", init, VarAccess.READ_ONLY)
        wum.add_var(self.gradient_var, "scalar", 0.0)

    def gradient_code(self, dl_dd):
        return f"{self.gradient_var} += {dl_dd};"

    def var_ref(self, genn_pop, name):
        return create_wu_var_ref(genn_pop, name)

    def shape(self, conn):
        return (int(np.prod(conn.source().shape)),
                int(np.prod(conn.target().shape)))

    def genn_var(self, genn_pop, var):
        return genn_pop.vars[var]
