"""Builders for the GeNN models that learnable delays add.

The model strings follow the deventprop equations (Meszaros, Knight,
Nowotny 2025). A presynaptic spike at time t_k reaches postsynaptic
neuron j at t_k + d_ij. In the backward pass, at each presynaptic spike
(processed in reverse time), the adjoints of neuron j are read at the
delayed time t_k + d_ij:

    dL/dw_ij = -tau_syn lambda_I,j(t_k + d_ij)
    dL/dd_ij = -w_ij (lambda_I,j - lambda_V,j)(t_k + d_ij)

and, for a hidden presynaptic neuron, lambda_V,i jumps by
w_ij (lambda_V,j - lambda_I,j)(t_k + d_ij) (summed over j).
"""
from pygenn import VarAccess
from ml_genn.utils.model import CustomUpdateModel, WeightUpdateModel


def effective_delay_code(kind, conn, max_delay_param="MaxDelay"):
    """C statement giving ``delay``: the kind's delay (>= 0, the optimiser
    and input checks keep it so) rounded to the nearest step, halves up
    as C ``round``, and clamped to MaxDelay.

    ``(int)(d + 0.5)`` in double is exact for a float ``d`` and, per
    synaptic event, much cheaper than ``round`` (13% of a training step
    with 512 delay slots on the CPU; a float compare-and-add was slower).
    """
    return (f"const int delay = min({max_delay_param}, "
            f"(int)((double){kind.delay_expression(conn)} + 0.5));")


def delayed_weight_update_model(kind, conn, tau_syn, max_delay_steps,
                                weight, delay_init, feedback: bool):
    """EventProp weight update model with a learnable delay of ``kind``.

    Parameters
    ----------
    kind : DelayKind
        Where the delay lives.
    conn : Connection
        The connection (kinds name their variables after it).
    tau_syn : float
        Synaptic time constant of the (exponential) synapse [ms].
    max_delay_steps : int
        Upper clamp of the delay.
    weight, delay_init
        Initial values (numbers, arrays or mlGeNN initializers).
    feedback : bool
        Whether to send the adjoint back to a hidden presynaptic neuron.
    """
    delay = effective_delay_code(kind, conn)
    backward = f"""
    {delay}
    const scalar lambdaI = LambdaI_post[delay];
    const scalar lambdaV = LambdaV_post[delay];
    // dL/dw = -tau_syn lambda_I(t_k + d)
    Gradient -= lambdaI * TauSyn;
    // dL/dd = -w (lambda_I - lambda_V)(t_k + d)
    {kind.gradient_code(conn, "-g * (lambdaI - lambdaV)")}
    """
    if feedback or kind.pre_channel:
        # EventProp's feedback to a hidden presynaptic neuron; for a kind
        # with a presynaptic channel, also its delay gradient (the same
        # sum over synapses, see kinds/axonal.py)
        backward += "addToPre(g * (lambdaV - lambdaI));\n"

    wum = WeightUpdateModel(
        model={
            "params": [("TauSyn", "scalar"), ("MaxDelay", "int")],
            "vars": [("g", "scalar", VarAccess.READ_ONLY),
                     ("Gradient", "scalar")],
            "pre_neuron_var_refs": [("BackSpike_pre", "uint8_t")],
            "post_neuron_var_refs": [("LambdaI_post", "scalar"),
                                     ("LambdaV_post", "scalar")],
            # Forward: the spike reaches the postsynaptic input after delay
            "pre_spike_syn_code": f"""
            {delay}
            addToPostDelay(g, delay);
            """,
            # Backward: triggered at each presynaptic spike, in reverse time
            "pre_event_threshold_condition_code": "BackSpike_pre",
            "pre_event_syn_code": backward},
        param_vals={"TauSyn": tau_syn, "MaxDelay": max_delay_steps},
        var_vals={"g": weight, "Gradient": 0.0},
        pre_neuron_var_refs={"BackSpike_pre": "BackSpike"},
        post_neuron_var_refs={"LambdaI_post": "LambdaI",
                              "LambdaV_post": "LambdaV"})
    kind.add_synapse_terms(wum, conn, delay_init)
    return wum


def gradient_scale_model(gradient_ref, scale: float):
    """Custom update multiplying an accumulated gradient by ``scale``
    (1/N turns a sum over N examples into the batch mean)."""
    return CustomUpdateModel(
        {"params": [("Scale", "scalar")],
         "var_refs": [("Gradient", "scalar")],
         "update_code": "Gradient *= Scale;"},
        {"Scale": scale}, {}, {"Gradient": gradient_ref})


# Counts every spike, and those that mlGeNN's EventProp ring buffer
# drops: its reset code writes a spike only while RingWriteOffset !=
# RingReadEndOffset, so a spike arriving when they are equal is lost and
# the backward pass of that example is wrong. Prepended so it sees the
# offsets before the write. The total gives an epoch's spikes per neuron
# in one read (a SpikeRecorder pulls and decodes every batch's
# recording); mlGeNN's spike regulariser has a SpikeCount of its own,
# reset every example.
SPIKE_COUNTER_CODE = """
SpikeTotal++;
if (RingWriteOffset == RingReadEndOffset) {
    DroppedSpikes++;
}
"""
DROPPED_SPIKES_VAR = "DroppedSpikes"
SPIKE_COUNT_VAR = "SpikeTotal"


def add_spike_counters(neuron_model):
    """Add never-reset counts of spikes and of dropped spikes to an
    EventProp neuron."""
    neuron_model.add_var(SPIKE_COUNT_VAR, "unsigned int", 0)
    neuron_model.add_var(DROPPED_SPIKES_VAR, "unsigned int", 0)
    neuron_model.prepend_reset_code(SPIKE_COUNTER_CODE)
    return neuron_model


def block_last_step_spikes(neuron_model, timesteps: int, dt: float):
    """Stop an EventProp input or hidden neuron from spiking in the last
    step of an example.

    Such a spike changes nothing inside the example (it is propagated in
    the next step), but mlGeNN (a) delivers it into the *next* example's
    input and (b) never matches it in the backward pass, which then stops
    at it and skips every earlier spike of the neuron (no gradient at all
    through that neuron for the example). Blocking it fixes both.
    """
    # Halfway between the last two steps: robust to rounding of t
    last_step_time = (timesteps - 1.5) * dt
    model = neuron_model.model
    model["threshold_condition_code"] = (
        f"({model['threshold_condition_code']}) && t < {last_step_time!r}")
    return neuron_model
