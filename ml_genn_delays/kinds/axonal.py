"""Axonal delays: one learnable delay d_i per presynaptic neuron, shared
by all of its synapses in the connection.

The delay and its gradient are variables of the presynaptic population
(one pair per connection), so they take O(n_pre) memory. The gradient of
a shared delay is the sum of its synapses' gradients; per back spike of
neuron i that is sum_j -w_ij (lambda_I - lambda_V)_j(t_k + d_i), which the
synapses send with ``addToPre`` through the connection's own presynaptic
channel (an additional input of the neuron, summed race-free by GeNN).
For a hidden presynaptic neuron the same sum is EventProp's feedback
into lambda_V, so the neuron reads it wherever it reads ``RevISyn``.
"""
import numpy as np
from pygenn import VarAccessMode, create_var_ref

from .base import DelayKind


class AxonalDelay(DelayKind):
    name = "axonal"
    file_suffix = "da"
    pre_channel = True

    def delay_var(self, conn):
        return f"AxonalDelay_{conn.name}"

    def gradient_var(self, conn):
        return f"AxonalDelayGradient_{conn.name}"

    def channel(self, conn):
        """The additional input the synapses' ``addToPre`` lands in."""
        return f"AxonalIn_{conn.name}"

    def delay_expression(self, conn):
        return "Delay_pre"

    def gradient_code(self, conn, dl_dd):
        return ""   # sent to the presynaptic neuron with addToPre

    def add_synapse_terms(self, wum, conn, init):
        # Read-only: the delay is shared by the batch (GeNN refuses
        # read-write references to shared neuron variables)
        wum.add_pre_neuron_var_ref("Delay_pre", "scalar",
                                   self.delay_var(conn))
        refs = wum.model["pre_neuron_var_refs"]
        refs[refs.index(("Delay_pre", "scalar"))] = (
            "Delay_pre", "scalar", VarAccessMode.READ_ONLY)

    def add_neuron_terms(self, neuron_model, conn, init, feedback):
        # Read-write, so GeNN carries it from step to step when the
        # population keeps delayed copies of its variables (then the
        # optimiser's update reaches every later step)
        neuron_model.add_var(self.delay_var(conn), "scalar", init)
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

    def holder(self, conn, neuron_populations, connection_populations):
        return neuron_populations[conn.source()]

    def var_ref(self, holder, name):
        return create_var_ref(holder, name)

    def pull(self, holder, var):
        genn_var = self.genn_var(holder, var)
        genn_var.pull_from_device()
        return genn_var.current_values     # the newest delay slot

    def push(self, holder, var, values):
        genn_var = self.genn_var(holder, var)
        genn_var.view[...] = values        # every delay slot
        genn_var.push_to_device()

    def shape(self, conn):
        return (int(np.prod(conn.source().shape)),)
