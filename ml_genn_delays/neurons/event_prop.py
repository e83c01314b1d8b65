"""EventProp for AdaptiveLeakyIntegrateFire neurons: adjoint dynamics,
spike jumps and per-neuron parameter gradients (docs/adaptation_gradients.md).

mlGeNN's EventPropCompiler builds a hidden LIF neuron's spike tape,
feedback input (RevISyn), resets and regulariser; this module swaps its
LIF adjoint for the AdLIF one, in the adjoint units mlGeNN uses
(lambda_u = -tau_mem LambdaV, lambda_I = -tau_syn LambdaI, and
lambda_w = -tau_mem LambdaW). Per learnable parameter p the forward pass
integrates G_p = d(u, w)/dp since the neuron's last spike and tapes it at
each spike; the backward pass adds lambda(t_k-) . G_p at each spike, which
is the integral of lambda . dF/dp over the interval before it.
"""
from contextlib import contextmanager

import numpy as np

from .adaptive_lif import DECAYS, PARAMETERS, UPDATE, AdaptiveLeakyIntegrateFire

# mlGeNN's hidden LIF EventProp code (ml_genn 2.3), replaced below
_MLGENN_DYNAMICS = ("LambdaI = (A * LambdaV * (Beta - Alpha)) "
                    "+ (LambdaI * Beta);", "LambdaV *= Alpha;")
_MLGENN_JUMP = ("LambdaV += (1.0 / RingIMinusV[ringOffset + RingReadOffset])"
                " * (Vthresh * LambdaV + RevISyn);")
_MLGENN_TAPE = "RingIMinusV[ringOffset + RingWriteOffset] = (Isyn * IsynScale) - V;"
_MLGENN_END_OF_JUMP = "// Decrease read pointer"

# Reverse-time adjoint dynamics of (I, u, w) for one step. mlGeNN's
# LambdaI step has tau_u / (tau_s - tau_u) (beta - alpha); learned tau_u may
# cross tau_s, where that tends to alpha dt / tau_u: use the limit nearby.
DYNAMICS = """
const scalar TauGap = TauSyn - TauMem;
const scalar CouplingI = (fabs(TauGap) > (1.0e-3 * TauMem)) ? (TauMem * (Beta - Alpha) / TauGap) : (Alpha * dt / TauMem);
LambdaI = (CouplingI * LambdaV) + (LambdaI * Beta);
const scalar LambdaVNext = (Alpha * LambdaV) + ((1.0 - Alpha) * AdaptA * (TauMem / TauAdapt) * LambdaW);
LambdaW = (Rho * LambdaW) - ((1.0 - Rho) * (TauAdapt / TauMem) * LambdaVNext);
LambdaV = LambdaVNext;
"""

# Jump of lambda_u at a spike (u reset to 0, w += b); the tape holds
# I - w - u just before the spike
JUMP = """
LambdaV += (((Vthresh - AdaptB) * LambdaV) - (TauMem * ((AdaptA * Vthresh) + AdaptB) / TauAdapt * LambdaW) + RevISyn) / RingIMinusV[ringOffset + RingReadOffset];
"""
TAPE = "RingIMinusV[ringOffset + RingWriteOffset] = (Isyn * IsynScale) - W - V;"

# Source terms of dG/dt for each parameter: (tau_mem H_u, tau_adapt H_w)
_SOURCES = {"TauMem": ("-(Isyn - V - W) / TauMem", "0.0"),
            "TauAdapt": ("0.0", "-((AdaptA * V) - W) / TauAdapt"),
            "AdaptA": ("0.0", "V")}


def gradient_var(param: str) -> str:
    """GeNN variable accumulating dL/d``param`` (a GeNN name)."""
    return f"{param}Gradient"


def _replace(model, where, source, target):
    code = model.model.get(where, "")
    if source not in code:
        raise RuntimeError(
            f"ml_genn_delays: mlGeNN's EventProp LIF code has changed "
            f"({source!r} not found); AdaptiveLeakyIntegrateFire needs "
            f"updating for this mlGeNN version")
    model.model[where] = code.replace(source, target)


class AdaptiveLifEventProp:
    """The EventProp neuron kind of AdaptiveLeakyIntegrateFire."""

    def learnable(self, neuron):
        """(GeNN variable, gradient variable, LearnableParam) per learned
        parameter of ``neuron``."""
        return [(PARAMETERS[name], gradient_var(PARAMETERS[name]), spec)
                for name, spec in neuron.learnable_params.items()]

    @contextmanager
    def as_mlgenn_lif(self, neuron):
        """mlGeNN computes a LIF constant from ``tau_mem``, which fails for
        an initializer; the constant is unused here (DYNAMICS computes it
        per neuron), so show mlGeNN a number meanwhile."""
        tau_mem = neuron.tau_mem
        neuron.tau_mem = 20.0
        try:
            yield
        finally:
            neuron.tau_mem = tau_mem

    def check(self, pop):
        """Refuse what this kind does not support, before mlGeNN builds."""
        if pop.neuron.readout is not None:
            raise NotImplementedError(
                f"Population {pop.name}: EventProp trains "
                f"AdaptiveLeakyIntegrateFire neurons as hidden neurons only "
                f"(no readout); use LeakyIntegrate outputs")

    def add_adjoint(self, model, pop, compile_state, dt):
        """Turn mlGeNN's hidden LIF EventProp model of ``pop`` into the
        AdLIF one."""
        model.add_param("TauSyn", "scalar",
                        -dt / np.log(model.param_vals["Beta"]))
        model.add_var("LambdaW", "scalar", 0.0)
        # The decays come first: the backward pass uses them too
        _replace(model, "sim_code", DECAYS, "")
        _replace(model, "sim_code", _MLGENN_DYNAMICS[0], DYNAMICS)
        _replace(model, "sim_code", _MLGENN_DYNAMICS[1], "")
        _replace(model, "sim_code", _MLGENN_JUMP, JUMP)
        model.prepend_sim_code(DECAYS)

        tape_size = model.egp_vals["RingIMinusV"].size
        tape, sensitivity, gradient, zero = [TAPE], [], [], []
        reset = [("LambdaW", "scalar", 0.0)]
        for param, grad_var, _ in self.learnable(pop.neuron):
            model.add_var(grad_var, "scalar", 0.0)
            if param == "AdaptB":
                # w(t_k+) = w(t_k-) + b: dL/db = sum_k lambda_w(t_k)
                gradient.append(f"{grad_var} -= TauMem * LambdaW;")
                continue
            g_u, g_w = f"G{param}U", f"G{param}W"
            h_u, h_w = _SOURCES[param]
            for g, side in ((g_u, "U"), (g_w, "W")):
                model.add_var(g, "scalar", 0.0)
                model.add_egp(f"RingG{param}{side}", "scalar*",
                              np.empty(tape_size, dtype=np.float32))
                tape.append(f"RingG{param}{side}"
                            f"[ringOffset + RingWriteOffset] = {g};")
                zero.append(f"{g} = 0.0;")
                reset.append((g, "scalar", 0.0))
            # tau_mem dG_u/dt = -G_u - G_w + tau_mem H_u,
            # tau_adapt dG_w/dt = a G_u - G_w + tau_adapt H_w
            sensitivity.append(
                f"{g_u} = (Alpha * {g_u}) + ((1.0 - Alpha) * ({h_u} - {g_w}));\n"
                f"{g_w} = (Rho * {g_w}) + ((1.0 - Rho) * ((AdaptA * {g_u}) + {h_w}));")
            gradient.append(
                f"{grad_var} -= TauMem * ((LambdaV * RingG{param}U[tapeIndex])"
                f" + (LambdaW * RingG{param}W[tapeIndex]));")

        _replace(model, "sim_code", UPDATE, "\n".join(sensitivity) + UPDATE)
        _replace(model, "reset_code", _MLGENN_TAPE, "\n".join(tape))
        if zero:
            model.append_reset_code("\n".join(zero))
        if gradient:
            _replace(model, "sim_code", _MLGENN_END_OF_JUMP,
                     "{\nconst int tapeIndex = ringOffset + RingReadOffset;\n"
                     + "\n".join(gradient) + "\n}\n" + _MLGENN_END_OF_JUMP)
        compile_state.add_neuron_reset_vars(pop, reset, False, False)
        return model


    def arrival_sensitivity(self, arrived, names):
        """Code for the dendritic-delay sensitivity S of one connection
        (kinds/dendritic.py): S = B^T S + c (1, -1, 0), with B this
        neuron's backward step on (LambdaI, LambdaV, LambdaW) above, and
        the product of S with the adjoints. ``names``: the S variables
        (I, V, W), which the caller adds."""
        s_i, s_v, s_w = names
        update = f"""
        {{
            const scalar k1 = (1.0 - Alpha) * AdaptA * (TauMem / TauAdapt);
            const scalar k2 = (1.0 - Rho) * (TauAdapt / TauMem);
            const scalar sensI = {s_i};
            const scalar sensV = {s_v};
            {s_i} = (Beta * sensI) + {arrived};
            {s_v} = (CouplingI * sensI) + (Alpha * sensV) - (k2 * Alpha * {s_w}) - {arrived};
            {s_w} = (k1 * sensV) + ((Rho - (k2 * k1)) * {s_w});
        }}
        """
        return update, ("LambdaI", "LambdaV", "LambdaW")


#: neuron class -> its EventProp kind
NEURON_KINDS = {AdaptiveLeakyIntegrateFire: AdaptiveLifEventProp()}


def get_neuron_kind(neuron):
    """The EventProp kind of ``neuron``, or None for mlGeNN's own."""
    for cls, kind in NEURON_KINDS.items():
        if isinstance(neuron, cls):
            return kind
    return None
