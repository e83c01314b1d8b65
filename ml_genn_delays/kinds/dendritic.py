"""Dendritic delays: one learnable delay d_j per postsynaptic neuron,
shared by all of its incoming synapses in the connection.

The delay is a postsynaptic variable of the synapse group (O(n_post)).
Its gradient is the column sum of the synapses' delay gradients,

    dL/dd_j = -sum_a c_a (LambdaI - LambdaV)_j(a),

over the steps a where weight c_a of this connection arrives at neuron
j. Summing that over synapses would need a second postsynaptic output,
which GeNN does not have (the forward input owns ``addToPost``). Instead
the target neuron computes it (docs/delay_gradients.md): between two of
its spikes a hidden LIF neuron's adjoints (LambdaI, LambdaV) evolve by a
fixed linear step B, so the sum over the arrivals before a spike equals
(adjoints just after that spike's jump) . S, where the forward pass
accumulates S = B^T S + c_a (1, -1) since the previous spike and tapes
it at each spike. The neuron sees c_a because the connection's input
current lands in a channel of its own (``DendriticIn_<conn>``, the
synapse group's postsynaptic target), which the neuron adds to ``Isyn``
and differences: c_a = (in_a - beta in_(a-1)) / IScale.
"""
import re

import numpy as np
from pygenn import VarAccess, create_var_ref, create_wu_post_var_ref

from ..neurons.event_prop import get_neuron_kind
from .base import DelayKind, pre_post_var_value


class DendriticDelay(DelayKind):
    name = "dendritic"
    file_suffix = "dd"
    post_channel = True

    #: Postsynaptic variable of the synapse group
    DELAY = "DendriticDelay"

    def delay_var(self, conn):
        return self.DELAY

    def gradient_var(self, conn):
        return f"DendriticDelayGradient_{conn.name}"

    def channel(self, conn):
        return f"DendriticIn_{conn.name}"

    def delay_expression(self, conn):
        return self.DELAY

    def gradient_code(self, conn, dl_dd):
        return ""   # computed by the target neuron

    def add_synapse_terms(self, wum, conn, init):
        wum.model.setdefault("post_vars", []).append(
            (self.DELAY, "scalar", VarAccess.READ_ONLY))
        # A new dict: mlGeNN's WeightUpdateModel shares its default one
        wum.post_var_vals = {**wum.post_var_vals,
                             self.DELAY: pre_post_var_value(init)}

    def add_neuron_terms(self, neuron_model, conn, init, feedback,
                         compile_state=None):
        # S needs the adjoint to be free between spikes: a hidden neuron,
        # not a readout driven by the loss at every step. An output LIF
        # with a first-spike-time readout has the hidden neuron's ring
        # buffer too, but its adjoint jumps by the loss: refused as well
        # (its delay gradients were wrong)
        if (not neuron_model.has_egp("RingIMinusV")
                or getattr(conn.target().neuron, "readout", None)
                is not None):
            raise NotImplementedError(
                f"Connection {conn.name}: dendritic delays need a hidden "
                f"LeakyIntegrateFire target, not "
                f"{type(conn.target().neuron).__name__}"
                f"{' with a readout' if conn.target().neuron.readout else ''}")
        c = conn.name
        channel, previous = self.channel(conn), f"PreviousIn_{c}"
        gradient = self.gradient_var(conn)
        neuron_kind = get_neuron_kind(conn.target().neuron)
        if neuron_kind is None:
            # B: mlGeNN's LIF backward step (LambdaI = beta LambdaI
            # + A (beta - alpha) LambdaV, LambdaV *= alpha)
            sens = (f"SensI_{c}", f"SensV_{c}")
            update = f"""
            {{
                const scalar sensI = {sens[0]};
                {sens[0]} = (Beta * sensI) + arrived;
                {sens[1]} = (A * (Beta - Alpha) * sensI) + (Alpha * {sens[1]}) - arrived;
            }}
            """
            adjoints = ("LambdaI", "LambdaV")
        else:
            sens = (f"SensI_{c}", f"SensV_{c}", f"SensW_{c}")
            update, adjoints = neuron_kind.arrival_sensitivity("arrived",
                                                               sens)
        rings = [f"Ring{v}" for v in sens]
        neuron_model.add_additional_input_var(channel, "scalar", 0.0)
        for var in (previous, *sens, gradient):
            neuron_model.add_var(var, "scalar", 0.0)
        tape_size = neuron_model.egp_vals["RingIMinusV"].size
        for ring in rings:
            neuron_model.add_egp(ring, "scalar*",
                                 np.empty(tape_size, dtype=np.float32))
        # The connection's current joins the other inputs
        for code in ("sim_code", "reset_code"):
            neuron_model.model[code] = re.sub(
                r"\bIsyn\b", f"(Isyn + {channel})", neuron_model.model[code])
        # S = B^T S + c (1, -1, 0...), c: this step's arrived weight
        neuron_model.append_sim_code(f"""
        {{
            const scalar arrived = ({channel} - (Beta * {previous})) * IsynScale;
            {previous} = {channel};
            {update}
        }}
        """)
        # Tape S beside the spike (where mlGeNN's reset writes, before it
        # moves the write offset), then start the next interval
        tape = "\n".join(f"{r}[ringOffset + RingWriteOffset] = {v};"
                          for r, v in zip(rings, sens))
        zero = "\n".join(f"{v} = 0.0;" for v in sens)
        neuron_model.prepend_reset_code(f"""
        if (RingWriteOffset != RingReadEndOffset) {{
            {tape}
        }}
        {zero}
        """)
        # At the back spike, after the jump: -(adjoints . S)
        marker = "// Decrease read pointer"
        code = neuron_model.model["sim_code"]
        if marker not in code:
            raise RuntimeError("ml_genn_delays: mlGeNN's EventProp neuron "
                               "code has changed; dendritic delays need "
                               "updating for this mlGeNN version")
        product = " + ".join(f"({a} * {r}[ringOffset + RingReadOffset])"
                             for a, r in zip(adjoints, rings))
        neuron_model.model["sim_code"] = code.replace(
            marker, f"{gradient} -= {product};\n{marker}", 1)
        if compile_state is not None:
            compile_state.add_neuron_reset_vars(
                conn.target(), [(v, "scalar", 0.0)
                                for v in (previous, *sens)], False, False)

    def holds(self, conn, pop):
        return conn.target() is pop

    def holder(self, conn, var, neuron_populations, connection_populations):
        return (connection_populations[conn] if var == self.DELAY
                else neuron_populations[conn.target()])

    def var_ref(self, holder, name):
        return (create_wu_post_var_ref(holder, name) if name == self.DELAY
                else create_var_ref(holder, name))

    def genn_var(self, holder, var):
        return (holder.post_vars[var] if var == self.DELAY
                else holder.vars[var])

    def shape(self, conn):
        return (int(np.prod(conn.target().shape)),)
