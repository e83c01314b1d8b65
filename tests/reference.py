"""Pure-NumPy reference of the discrete EventProp pass that GeNN runs.

This re-implements, step by step, the code that mlGeNN's
``EventPropCompiler`` (with our learnable-delay weight update model)
generates for

    SpikeInput -> LIF hidden (optionally recurrent) -> LeakyIntegrate out

with Exponential synapses, ``default_params`` (``scale_i`` everywhere,
absolute reset, no refractory period), the ``avg_var_exp_weight`` readout
and a per-trial sparse categorical crossentropy loss. It is meant to catch
any change in *what* GeNN computes, so it copies GeNN's discrete
conventions, quirks included, rather than the continuous equations.

Discrete conventions (one GeNN step ``n`` = ``updateSynapses`` then
``updateNeurons`` at ``t = n dt``):

* Input and hidden neurons never spike in the last step ``T - 1``
  (ml_genn_delays blocks it: genn_models.block_last_step_spikes); their
  input spikes there are dropped and a hidden ``V`` above threshold is
  not reset.
* A spike emitted in step ``s`` is propagated by the synapse update of
  step ``s + 1``; ``addToPostDelay(g, d)`` makes it reach the
  postsynaptic input in step ``s + 1 + d``, ``d = round(d)`` clamped to
  ``[0, max_delay]``.
* Synaptic input: ``Y = inSyn + arrivals``, ``Isyn = IScale Y``,
  ``inSyn = beta Y``, with ``IScale = tau_s / dt (1 - beta)``.
* Membrane: ``V = alpha V + (1 - alpha) Isyn``; a LIF neuron spikes when
  ``V >= v_thresh``, stores ``Isyn IsynScale - V`` (pre-reset V) on its
  tape, then ``V = 0``. Inputs spike in the step equal to their time.
* mlGeNN's ``ZeroOutPost`` zeroes ``inSyn`` and all pending delayed input
  at the start of the last step, so only spikes of step ``T - 2`` with
  delay 0 reach the last step.
* The readout is ``VAvg = sum_n exp(-n / T) V_n / T``; the loss is
  ``-log softmax(VAvg)[label]``.

Backward pass (run by GeNN during the *next* example, steps
``k = 0 .. T - 1``; step ``k`` stands for forward step ``T - 1 - k``):

* The output neurons' drive is ``(onehot - softmax) exp(-(1 - k / T)) /
  (tau_m T dt)`` (so forward step ``m`` is weighted by ``exp(-(m + 1) /
  T)``, one step later than in the readout).
* A neuron's ``BackSpike`` is set in the neuron update of step
  ``k = T - 2 - s`` for its forward spike in step ``s``; the synapse
  update of step ``k + 1`` then reads the postsynaptic adjoints written
  ``delay`` steps before the last neuron update, i.e. after step
  ``k - delay`` (= forward step ``s + 1 + delay``, the arrival step), and
  the LIF jump is applied in the neuron update of step ``k + 1``.
* Spikes are read newest first and only the newest unread one is
  compared with the time: a spike in the last forward step
  (``s = T - 1``) would never match, so it and *all earlier spikes of
  that neuron* would get no backward pass (an mlGeNN quirk, kept here;
  with last-step spikes blocked it no longer occurs).
"""
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Params:
    """Constants of the tiny networks (those of ``tests/networks.py``)."""
    timesteps: int = 50
    dt: float = 1.0
    tau_mem: float = 20.0
    tau_syn: float = 5.0
    v_thresh: float = 1.0
    max_delay: int = 10

    @property
    def alpha(self):
        return np.exp(-self.dt / self.tau_mem)

    @property
    def beta(self):
        return np.exp(-self.dt / self.tau_syn)

    @property
    def i_scale(self):
        # Exponential synapse with scale_i: Isyn = IScale * inSyn
        return (self.tau_syn / self.dt) * (1.0 - self.beta)

    @property
    def isyn_scale(self):
        # mlGeNN's IsynScale: undoes IScale when the tape stores I - V
        return self.dt / (self.tau_syn * (1.0 - self.beta))

    @property
    def a(self):
        # tau_m / (tau_m - tau_s): couples LambdaV into LambdaI
        return self.tau_mem / (self.tau_mem - self.tau_syn)


@dataclass
class Conn:
    """A dense connection ``pre -> post`` ("in", "hid" or "out")."""
    pre: str
    post: str
    w: np.ndarray
    d: np.ndarray

    def steps(self, max_delay):
        """Delay in steps: C ``round`` (half away from zero) of the
        float32 delay, clamped to ``[0, max_delay]``, as GeNN does."""
        d = np.asarray(self.d, dtype=np.float32).astype(np.float64)
        rounded = np.sign(d) * np.floor(np.abs(d) + 0.5)
        return np.clip(rounded, 0, max_delay).astype(int)


@dataclass
class Adaptive:
    """Hidden AdaptiveLeakyIntegrateFire neurons (per-neuron values) in
    place of LIF ones, mirroring ml_genn_delays/neurons: forward

        u = alpha u + (1 - alpha) (Isyn - w),  w = rho w + (1 - rho) a u,

    spike: tape ``Isyn IsynScale - w - u``, ``u = 0``, ``w += b``; per
    parameter the sensitivities G = (G_u, G_w) since the last spike
    (taped, then zeroed at each spike); backward (LambdaV, LambdaW) with
    the AdLIF coupling and jump, and at each back spike
    ``dL/dp -= tau_mem (LambdaV G_u + LambdaW G_w)`` (``dL/db -=
    tau_mem LambdaW``)."""
    tau_mem: np.ndarray
    tau_adapt: np.ndarray
    a: np.ndarray
    b: np.ndarray

    #: GeNN names of the parameters whose sensitivities are integrated
    SENSITIVITIES = ("TauMem", "TauAdapt", "AdaptA")

    def decays(self, dt):
        return np.exp(-dt / self.tau_mem), np.exp(-dt / self.tau_adapt)

    def sources(self, i_syn, v, w):
        """(tau_mem H_u, tau_adapt H_w) per parameter, before the step."""
        zero = np.zeros_like(v)
        return {"TauMem": (-(i_syn - v - w) / self.tau_mem, zero),
                "TauAdapt": (zero, -(self.a * v - w) / self.tau_adapt),
                "AdaptA": (zero, v)}


@dataclass
class Forward:
    """What the forward pass leaves for the backward pass."""
    spikes: dict                    # pop -> bool (timesteps, n)
    i_minus_v: np.ndarray           # (timesteps, n_hid), tape of LIF spikes
    v_out: np.ndarray               # (timesteps, n_out)
    v_avg: np.ndarray               # readout
    softmax: np.ndarray
    loss: float = field(default=0.0)
    tapes: dict = field(default_factory=dict)   # AdLIF: G tapes


def spike_raster(end_spikes, spike_times, timesteps, dt=1.0):
    """Raster ``(timesteps, n)`` of a ``PreprocessedSpikes`` input: a
    SpikeInput neuron fires in step ``n`` for a spike at time ``n dt``."""
    raster = np.zeros((timesteps, len(end_spikes)), dtype=bool)
    start = 0
    for i, end in enumerate(end_spikes):
        steps = np.round(np.asarray(spike_times[start:end]) / dt).astype(int)
        raster[steps, i] = True
        start = end
    return raster


def forward(x, conns, n_hid, n_out, label, p=Params(), adaptive=None):
    """Discrete forward pass of one example, from a zero state.

    Parameters
    ----------
    x : ndarray of bool, shape (timesteps, n_in)
        Input spike raster.
    conns : list of Conn
        The network's connections.
    n_hid, n_out : int
        Sizes of the hidden and output populations.
    label : int
        True class.
    p : Params
        Constants.
    adaptive : Adaptive, optional
        Hidden AdLIF neurons instead of LIF.
    """
    T = p.timesteps
    n = {"in": x.shape[1], "hid": n_hid, "out": n_out}
    spikes = {"in": x.astype(bool), "hid": np.zeros((T, n_hid), bool)}
    # No input spike in the last step (blocked)
    spikes["in"][T - 1] = False
    i_minus_v = np.zeros((T, n_hid))
    v_out = np.zeros((T, n_out))
    # Arrivals per post population and step (room for the longest delay)
    arrive = {k: np.zeros((T + p.max_delay + 1, n[k]))
              for k in ("hid", "out")}
    in_syn = {k: np.zeros(n[k]) for k in ("hid", "out")}
    v = {k: np.zeros(n[k]) for k in ("hid", "out")}
    v_avg = np.zeros(n_out)
    delays = [c.steps(p.max_delay) for c in conns]
    w_hid = np.zeros(n_hid)
    sens = {q: [np.zeros(n_hid), np.zeros(n_hid)]
            for q in Adaptive.SENSITIVITIES}
    tapes = {q: (np.zeros((T, n_hid)), np.zeros((T, n_hid)))
             for q in Adaptive.SENSITIVITIES}

    for step in range(T):
        if step == T - 1:
            # ZeroOutPost at the start of the last step: inSyn and the
            # dendritic delay buffers are emptied
            for k in in_syn:
                in_syn[k][:] = 0.0
                arrive[k][step:] = 0.0
        # Synapse update: spikes of the previous step reach the post
        # input `delay` steps from now
        if step > 0:
            for c, d in zip(conns, delays):
                for i in np.flatnonzero(spikes[c.pre][step - 1]):
                    post = np.arange(n[c.post])
                    arrive[c.post][step + d[i], post] += c.w[i]

        # Neuron update: hidden LIF
        y = in_syn["hid"] + arrive["hid"][step]
        i_syn = p.i_scale * y
        in_syn["hid"] = p.beta * y
        if adaptive is None:
            v["hid"] = p.alpha * v["hid"] + (1.0 - p.alpha) * i_syn
        else:
            alpha, rho = adaptive.decays(p.dt)
            for q, (h_u, h_w) in adaptive.sources(i_syn, v["hid"],
                                                  w_hid).items():
                g = sens[q]
                g[0] = alpha * g[0] + (1.0 - alpha) * (h_u - g[1])
                g[1] = rho * g[1] + (1.0 - rho) * (adaptive.a * g[0] + h_w)
            v["hid"] = alpha * v["hid"] + (1.0 - alpha) * (i_syn - w_hid)
            w_hid = rho * w_hid + (1.0 - rho) * adaptive.a * v["hid"]
        fired = (v["hid"] >= p.v_thresh) & (step < T - 1)
        spikes["hid"][step] = fired
        i_minus_v[step, fired] = (i_syn * p.isyn_scale - w_hid
                                  - v["hid"])[fired]
        v["hid"][fired] = 0.0
        if adaptive is not None:
            w_hid[fired] += adaptive.b[fired]
            for q, g in sens.items():
                for side in (0, 1):
                    tapes[q][side][step, fired] = g[side][fired]
                    g[side][fired] = 0.0

        # Neuron update: LI output and its exponentially weighted average
        y = in_syn["out"] + arrive["out"][step]
        i_syn = p.i_scale * y
        in_syn["out"] = p.beta * y
        v["out"] = p.alpha * v["out"] + (1.0 - p.alpha) * i_syn
        v_out[step] = v["out"]
        v_avg += np.exp(-step * p.dt / (T * p.dt)) / T * v["out"]

    z = np.exp(v_avg - v_avg.max())
    softmax = z / z.sum()
    return Forward(spikes, i_minus_v, v_out, v_avg, softmax,
                   float(-np.log(softmax[label])), tapes)


def backward(fwd, conns, label, p=Params(), adaptive=None):
    """Discrete EventProp backward pass of one example.

    Parameters
    ----------
    fwd : Forward
        Result of :func:`forward` for the example.
    conns : list of Conn
        The network's connections (same order as given to ``forward``).
    label : int
        True class.
    p : Params
        Constants.

    adaptive : Adaptive, optional
        Hidden AdLIF neurons instead of LIF (as given to ``forward``).

    Returns
    -------
    list of (ndarray, ndarray)
        Per connection, the accumulated ``Gradient`` (dL/dw) and
        ``DelayGradient`` (dL/dd), shaped like ``w``. With ``adaptive``,
        also a dict of the hidden parameter gradients (GeNN names).
    """
    T = p.timesteps
    n = {k: s.shape[1] for k, s in fwd.spikes.items()}
    n["out"] = fwd.softmax.size
    # History of the adjoints after each backward step; GeNN reads the
    # slot `delay` steps back, earlier slots are (still) zero
    lam_v = {k: np.zeros((T + 1, n[k])) for k in ("hid", "out")}
    lam_i = {k: np.zeros((T + 1, n[k])) for k in ("hid", "out")}

    def history(lam, post, k):
        # Values after backward step k; before the pass they are zero
        return lam[post][max(k + 1, 0)]

    # Per-neuron tape of spike steps, read newest first
    tape = {k: [list(np.flatnonzero(fwd.spikes[k][:, j]))
                for j in range(n[k])] for k in ("in", "hid")}
    back_spike = {k: np.zeros(n[k], bool) for k in ("in", "hid")}
    delays = [c.steps(p.max_delay) for c in conns]
    grads = [(np.zeros(c.w.shape), np.zeros(c.w.shape)) for c in conns]
    onehot = np.eye(n["out"])[label]
    lam_w = np.zeros(n["hid"])
    param_grads = {q: np.zeros(n["hid"]) for q in
                   ("TauMem", "TauAdapt", "AdaptA", "AdaptB")}

    for k in range(T):
        # Synapse update: back spikes of the previous step read the post
        # adjoints at the arrival step (k - 1 - delay in backward time)
        rev_i_syn = np.zeros(n["hid"])
        for c, d, (g_w, g_d) in zip(conns, delays, grads):
            for i in np.flatnonzero(back_spike[c.pre]):
                for j in range(n[c.post]):
                    lambda_i = history(lam_i, c.post, k - 1 - d[i, j])[j]
                    lambda_v = history(lam_v, c.post, k - 1 - d[i, j])[j]
                    g_w[i, j] -= p.tau_syn * lambda_i
                    g_d[i, j] -= c.w[i, j] * (lambda_i - lambda_v)
                    if c.pre == "hid":
                        # addToPre -> RevISyn of the presynaptic neuron
                        rev_i_syn[i] += c.w[i, j] * (lambda_v - lambda_i)

        # Output neurons: driven by the loss (weight exp(-(1 - t / T)))
        drive = ((onehot - fwd.softmax)
                 * np.exp(-(1.0 - k * p.dt / (T * p.dt)))
                 / (p.tau_mem * T * p.dt))
        lv, li = history(lam_v, "out", k - 1), history(lam_i, "out", k - 1)
        lam_i["out"][k + 1] = (drive + (li - drive) * p.beta
                               + p.a * (lv - drive) * (p.alpha - p.beta))
        lam_v["out"][k + 1] = drive + (lv - drive) * p.alpha

        # Hidden LIF: free adjoint dynamics, then the jump at a spike
        lv, li = history(lam_v, "hid", k - 1), history(lam_i, "hid", k - 1)
        if adaptive is None:
            li = p.a * lv * (p.alpha - p.beta) + li * p.beta
            lv = lv * p.alpha
            for j in np.flatnonzero(back_spike["hid"]):
                s = tape["hid"][j][-1]
                lv[j] += ((p.v_thresh * lv[j] + rev_i_syn[j])
                          / fwd.i_minus_v[s, j])
        else:
            ad = adaptive
            alpha, rho = ad.decays(p.dt)
            gap = p.tau_syn - ad.tau_mem
            coupling = np.where(np.abs(gap) > 1e-3 * ad.tau_mem,
                                ad.tau_mem * (p.beta - alpha) / gap,
                                alpha * p.dt / ad.tau_mem)
            li = coupling * lv + li * p.beta
            lv = (alpha * lv + (1.0 - alpha) * ad.a * ad.tau_mem
                  / ad.tau_adapt * lam_w)
            lam_w = rho * lam_w - (1.0 - rho) * ad.tau_adapt / ad.tau_mem * lv
            for j in np.flatnonzero(back_spike["hid"]):
                s = tape["hid"][j][-1]
                lv[j] += (((p.v_thresh - ad.b[j]) * lv[j]
                           - ad.tau_mem[j] * (ad.a[j] * p.v_thresh + ad.b[j])
                           / ad.tau_adapt[j] * lam_w[j] + rev_i_syn[j])
                          / fwd.i_minus_v[s, j])
                for q in Adaptive.SENSITIVITIES:
                    g_u, g_w = fwd.tapes[q]
                    param_grads[q][j] -= ad.tau_mem[j] * (
                        lv[j] * g_u[s, j] + lam_w[j] * g_w[s, j])
                param_grads["AdaptB"][j] -= ad.tau_mem[j] * lam_w[j]
        lam_i["hid"][k + 1], lam_v["hid"][k + 1] = li, lv

        # Back spikes (inputs and hidden): pop the processed spike, then
        # flag the newest unread one if it was emitted in step T - 2 - k
        for pop in ("in", "hid"):
            for j in range(n[pop]):
                if back_spike[pop][j]:
                    tape[pop][j].pop()
                back_spike[pop][j] = (len(tape[pop][j]) > 0
                                      and tape[pop][j][-1] == T - 2 - k)
    return grads if adaptive is None else (grads, param_grads)
