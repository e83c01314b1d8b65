"""Inference with mlGeNN's InferenceCompiler on networks with delays."""
from contextlib import contextmanager

import numpy as np
from ml_genn.callbacks import CustomUpdateOnTimestepBegin
from ml_genn.compilers import InferenceCompiler as MLGeNNInferenceCompiler
from ml_genn.connectivity import Dense
from ml_genn.initializers import Wrapper
from ml_genn.synapses import Delta
from ml_genn.utils.value import is_value_initializer

from .backends import (caller_model_name, check_genn_kwargs,
                       one_example_at_a_time)
from .genn_models import block_last_step_spikes
from .io_state import _sizes, check_loaded_dt, listed_synapses
from .learnable import Learnable, whole_steps


def _as_trained(delays, max_delay_steps):
    """Delays [steps] as training applies them: the float32 delay rounded
    to whole steps (:func:`whole_steps`) and clamped."""
    d = np.asarray(delays, dtype=np.float32)
    return np.minimum(whole_steps(d), max_delay_steps)


def synapse_delays(conn):
    """Per-synapse delays [steps] of ``conn`` as training applies them:
    ``min((int)(d + 0.5), spec.longest_delay_steps)`` with ``d`` the
    synaptic delay ``d_ij`` or the float32 sum of the per-neuron ones
    (axonal ``d_i``, dendritic ``d_j``).

    Returns an int for one delay shared by all synapses (GeNN takes only
    whole steps there), an ``(n_pre, n_post)`` array for Dense
    connectivity and one value per synapse for OneToOne or synapses
    listed by hand; a synaptic initializer is returned as it is (GeNN
    draws it).
    """
    spec = conn.delay_spec
    if not (isinstance(spec, Learnable) and spec.kind.name != "synaptic"):
        delay = conn.connectivity.delay
        if is_value_initializer(delay):
            return delay
        delay = _as_trained(delay, spec.max_delay_steps)
        return int(delay) if delay.ndim == 0 else delay
    listed = listed_synapses(conn)
    if listed is None:
        raise NotImplementedError(
            f"Connection {conn.name}: the InferenceCompiler takes "
            f"{spec.kind.name} delays on Dense, OneToOne or synapses "
            f"listed by hand (pre_ind/post_ind), not on "
            f"{type(conn.connectivity).__name__} connectivity; evaluate "
            f"with ml_genn_delays.evaluate on the training network instead")
    pre, post = listed
    total = np.zeros(pre.shape, dtype=np.float32)
    for kind, init in spec.parts:
        if is_value_initializer(init):
            raise ValueError(
                f"Connection {conn.name}: {kind.name} delays are an "
                f"initializer ({init!r}); draw them into an array or load "
                f"a trained model before compiling for inference")
        values = np.asarray(init, dtype=np.float32)
        if values.ndim == 0:
            total += values
        else:
            total += values[pre if kind.name == "axonal" else post]
    if isinstance(conn.connectivity, Dense):
        total = total.reshape(_sizes(conn))
    return _as_trained(total, spec.longest_delay_steps)


@contextmanager
def _synapse_delays_in_connectivity(network):
    """Put every delay given with ``delay=`` into its connectivity as
    mlGeNN's own per-synapse delays (``Dense(w, d)``), as training applies
    them, for the duration of a compile.

    mlGeNN's compilers know only per-synapse delays: they would compile
    axonal and dendritic delays, which our Connection keeps in its
    ``delay_spec``, as no delay at all, without a word; they round
    synaptic ones with halves to even, and a shared delay of a fraction
    of a step (e.g. ``Learnable(2.5)``) fails in GeNN.
    """
    saved = []
    try:
        for conn in network.connections:
            if getattr(conn, "delay_spec", None) is not None:
                saved.append((conn.connectivity, conn.connectivity.delay))
                delay = synapse_delays(conn)
                if isinstance(delay, int) and delay > 0:
                    # A shared delay would go to GeNN's presynaptic spike
                    # queue, which mlGeNN does not clear between examples
                    # (spikes of one reached the next): give every synapse
                    # its own, cleared like any per-synapse delay
                    delay = Wrapper("Constant", {"constant": float(delay)})
                conn.connectivity.delay = delay
        yield
    finally:
        for connectivity, delay in saved:
            connectivity.delay = delay


class InferenceCompiler(MLGeNNInferenceCompiler):
    """mlGeNN's InferenceCompiler for networks whose connections have
    delays (``delay=``) of any kind, running examples as training does.

    Each delay is compiled as a fixed per-synapse delay, rounded as in
    training (:func:`synapse_delays`). Load a trained model into the
    network first (:func:`ml_genn_delays.load_model`); compiling at
    another dt than the model's is refused (ModelFileError).
    mlGeNN's own InferenceCompiler would drop axonal and dendritic delays
    silently.

    Each example runs as in training's forward pass (and
    :func:`ml_genn_delays.evaluate`): synaptic input is zeroed between
    examples (``reset_in_syn_between_batches`` defaults to True here, to
    False in mlGeNN, where one example's current flows into the next) and
    at the start of each example's last step, and input and hidden
    neurons do not spike in that step (mlGeNN would deliver such a spike
    into the next example). With ``reset_time_between_batches=False``
    (examples run on in one time line) only the first applies.

    Parameters
    ----------
    evaluate_timesteps : int
        Timesteps of one example.
    **kwargs
        mlGeNN's InferenceCompiler arguments (``dt``, ``batch_size``,
        ``reset_time_between_batches``, ...) and GeNN's (``backend``, ...);
        on GeNN's CPU backend, which runs one example at a time, any
        ``batch_size`` runs as 1 (the same results);
        an argument neither knows is refused here (TypeError), as is a
        backend this GeNN lacks (BackendUnavailableError).
    """

    def __init__(self, evaluate_timesteps: int, *args, **kwargs):
        kwargs.setdefault("reset_in_syn_between_batches", True)
        super().__init__(evaluate_timesteps, *args, **kwargs)
        check_genn_kwargs(self, self.genn_kwargs)
        self._batch_sizes = (self.batch_size, self.full_batch_size)

    def pre_compile(self, network, genn_model, **kwargs):
        # Examples are independent: batches of 1 on the CPU give the
        # same results (callbacks see one example a batch)
        one_example_at_a_time(self, genn_model, self._batch_sizes)
        return super().pre_compile(network, genn_model, **kwargs)

    @property
    def _as_in_training(self) -> bool:
        # The example's last step is known only while time restarts
        return self.reset_time_between_batches

    def compile(self, network, name=None, **genn_kwargs):
        if name is None:
            name = caller_model_name()
        check_loaded_dt(network, self.dt)
        with _synapse_delays_in_connectivity(network):
            return super().compile(network, name, **genn_kwargs)

    def build_neuron_model(self, pop, model, compile_state):
        model = super().build_neuron_model(pop, model, compile_state)
        if (self._as_in_training and pop.neuron.readout is None
                and "threshold_condition_code" in model.model):
            # As training does
            block_last_step_spikes(model, self.evaluate_timesteps, self.dt)
        return model

    def create_compiled_network(self, genn_model, neuron_populations,
                                connection_populations, compile_state):
        compiled = super().create_compiled_network(
            genn_model, neuron_populations, connection_populations,
            compile_state)
        if self.reset_in_syn_between_batches:
            # mlGeNN zeroes no Delta connection between examples; with a
            # delay its dendritic buffer still holds input (e.g. of a
            # spike two steps before the end) that reached the next one
            for i, (conn, genn_pop) in enumerate(
                    connection_populations.items()):
                if (isinstance(conn.synapse, Delta)
                        and genn_pop.max_dendritic_delay_timesteps > 1):
                    self.add_out_post_zero_custom_update(
                        genn_model, genn_pop, "Reset",
                        f"CUZeroDeltaOutPost{i}")
        if self._as_in_training:
            # mlGeNN's EventProp zeroes every connection's input (and
            # pending delayed input) at the start of the last step
            for i, genn_pop in enumerate(connection_populations.values()):
                self.add_out_post_zero_custom_update(
                    genn_model, genn_pop, _ZERO_LAST_STEP,
                    f"CUZeroOutPostLast{i}")
            last = self.evaluate_timesteps - 1
            compiled.base_callbacks.append(CustomUpdateOnTimestepBegin(
                _ZERO_LAST_STEP, lambda timestep: timestep == last))
        return compiled


_ZERO_LAST_STEP = "ZeroOutPostLastStep"
