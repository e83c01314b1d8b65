"""Axonal delays: one learnable delay d_i per presynaptic neuron, shared
by all of its synapses in the connection.

The delay is a presynaptic variable of the synapse group and its
gradient a variable of the presynaptic population, so both take O(n_pre)
memory (a variable of the population itself would be copied into every
delay slot GeNN keeps for a hidden population's delayed adjoint reads). The gradient of
a shared delay is the sum of its synapses' gradients; per back spike of
neuron i that is sum_j -w_ij (lambda_I - lambda_V)_j(t_k + d_i), which the
synapses send with ``addToPre`` through the connection's own presynaptic
channel (an additional input of the neuron, summed race-free by GeNN).
For a hidden presynaptic neuron the same sum is EventProp's feedback
into lambda_V, so the neuron reads it wherever it reads ``RevISyn``.
"""
import numpy as np
from pygenn import VarAccess, create_var_ref, create_wu_pre_var_ref

from .base import DelayKind, pre_post_var_value


class AxonalDelay(DelayKind):
    name = "axonal"
    file_suffix = "da"
    pre_channel = True

    #: Presynaptic variable of the synapse group
    DELAY = "AxonalDelay"

    def delay_var(self, conn):
        return self.DELAY

    def gradient_var(self, conn):
        return f"AxonalDelayGradient_{conn.name}"

    def channel(self, conn):
        """The additional input the synapses' ``addToPre`` lands in."""
        return f"AxonalIn_{conn.name}"

    def delay_expression(self, conn):
        return self.DELAY

    def gradient_code(self, conn, dl_dd):
        return ""   # sent to the presynaptic neuron with addToPre

    def add_synapse_terms(self, wum, conn, init):
        wum.model.setdefault("pre_vars", []).append(
            (self.DELAY, "scalar", VarAccess.READ_ONLY))
        # A new dict: mlGeNN's WeightUpdateModel shares one default
        # pre_var_vals dict between all models that were given none
        wum.pre_var_vals = {**wum.pre_var_vals,
                            self.DELAY: pre_post_var_value(init)}

    def add_neuron_terms(self, neuron_model, conn, init, feedback,
                         compile_state=None):
        neuron_model.add_var(self.gradient_var(conn), "scalar", 0.0)
        channel = self.channel(conn)
        neuron_model.add_additional_input_var(channel, "scalar", 0.0)
        neuron_model.prepend_sim_code(
            f"{self.gradient_var(conn)} += {channel};\n")
        if feedback:
            # The connection's EventProp feedback, which mlGeNN would have
            # sent to RevISyn directly (read-only in sim code: read both)
            neuron_model.replace_sim_code("RevISyn",
                                          f"(RevISyn + {channel})")

    def holds(self, conn, pop):
        return conn.source() is pop

    def holder(self, conn, var, neuron_populations, connection_populations):
        return (connection_populations[conn] if var == self.DELAY
                else neuron_populations[conn.source()])

    def var_ref(self, holder, name):
        return (create_wu_pre_var_ref(holder, name) if name == self.DELAY
                else create_var_ref(holder, name))

    def genn_var(self, holder, var):
        return holder.pre_vars[var] if var == self.DELAY else holder.vars[var]

    def shape(self, conn):
        return (int(np.prod(conn.source().shape)),)
