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
    file_suffix = "d"

    def delay_var(self, conn):
        return "d"

    def gradient_var(self, conn):
        return "DelayGradient"

    def delay_expression(self, conn):
        return "d"

    def gradient_code(self, conn, dl_dd):
        return f"DelayGradient += {dl_dd};"

    def add_synapse_terms(self, wum, conn, init):
        wum.add_var("d", "scalar", init, VarAccess.READ_ONLY)
        wum.add_var("DelayGradient", "scalar", 0.0)

    def holder(self, conn, var, neuron_populations, connection_populations):
        return connection_populations[conn]

    def var_ref(self, holder, name):
        return create_wu_var_ref(holder, name)

    def shape(self, conn):
        return (int(np.prod(conn.source().shape)),
                int(np.prod(conn.target().shape)))
