"""Inference with mlGeNN's InferenceCompiler on networks with delays."""
from contextlib import contextmanager

import numpy as np
from ml_genn.compilers import InferenceCompiler as MLGeNNInferenceCompiler
from ml_genn.connectivity import Dense, OneToOne
from ml_genn.connectivity.sparse_base import SparseBase
from ml_genn.utils.value import is_value_initializer

from .learnable import Learnable


def synapse_delays(conn):
    """Per-synapse delays [steps] of ``conn``'s per-neuron learnable
    delays, rounded and clamped as in training:
    ``min((int)(d + 0.5), max_delay_steps)`` with ``d = d_i + d_j`` summed
    over the kinds (axonal ``d_i``, dendritic ``d_j``).

    Returns an ``(n_pre, n_post)`` array for Dense connectivity and one
    value per synapse for OneToOne or synapses listed by hand.
    """
    spec = conn.delay_spec
    connectivity = conn.connectivity
    n_pre = int(np.prod(conn.source().shape))
    n_post = int(np.prod(conn.target().shape))
    if isinstance(connectivity, Dense):
        pre, post = np.meshgrid(np.arange(n_pre), np.arange(n_post),
                                indexing="ij")
    elif isinstance(connectivity, OneToOne):
        pre = post = np.arange(n_pre)
    elif (isinstance(connectivity, SparseBase)
          and connectivity.pre_ind is not None):
        pre = np.asarray(connectivity.pre_ind)
        post = np.asarray(connectivity.post_ind)
    else:
        raise NotImplementedError(
            f"Connection {conn.name}: {spec.kind.name} delays on "
            f"{type(connectivity).__name__} connectivity cannot be given "
            f"to the InferenceCompiler (its synapses are drawn at build "
            f"time); evaluate with ml_genn_delays.evaluate on the "
            f"training network instead")
    total = np.zeros(pre.shape)
    for kind, init in spec.parts:
        if is_value_initializer(init):
            raise ValueError(
                f"Connection {conn.name}: {kind.name} delays are an "
                f"initializer ({init!r}); draw them into an array or load "
                f"a trained model before compiling for inference")
        values = np.asarray(init, dtype=float)
        if values.ndim == 0:
            total += values
        else:
            total += values[pre if kind.name == "axonal" else post]
    return np.minimum(np.floor(total + 0.5), spec.max_delay_steps)


@contextmanager
def _synapse_delays_in_connectivity(network):
    """Put every per-neuron learnable delay into its connectivity as
    mlGeNN's own per-synapse delays (``Dense(w, d)``) for the duration of
    a compile.

    mlGeNN's compilers know only per-synapse delays (synaptic ones are in
    the connectivity already, and mlGeNN rounds them to the nearest step
    as training does): they would compile axonal and dendritic delays,
    which our Connection keeps in its ``delay_spec``, as no delay at all,
    without a word.
    """
    saved = []
    try:
        for conn in network.connections:
            spec = getattr(conn, "delay_spec", None)
            if (isinstance(spec, Learnable)
                    and spec.kind.name != "synaptic"):
                saved.append((conn.connectivity, conn.connectivity.delay))
                conn.connectivity.delay = synapse_delays(conn)
        yield
    finally:
        for connectivity, delay in saved:
            connectivity.delay = delay


class InferenceCompiler(MLGeNNInferenceCompiler):
    """mlGeNN's InferenceCompiler (same arguments) for networks whose
    connections have learnable delays of any kind.

    Each learnable delay is compiled as a fixed per-synapse delay rounded
    as in training. Load a trained model into the network first
    (:func:`ml_genn_delays.load_model`); mlGeNN's own InferenceCompiler
    would drop axonal and dendritic delays silently. Its forward dynamics
    are mlGeNN's inference ones, not EventProp training's;
    :func:`ml_genn_delays.evaluate` gives the accuracy training measured.
    """

    def compile(self, network, name=None, **genn_kwargs):
        with _synapse_delays_in_connectivity(network):
            return super().compile(network, name, **genn_kwargs)
