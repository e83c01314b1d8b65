"""EventPropCompiler that learns delays: a thin subclass of mlGeNN's."""
from copy import copy

import numpy as np

from ml_genn.compilers import EventPropCompiler as MLGeNNEventPropCompiler
from ml_genn.compilers.compiler import create_reset_custom_update
from ml_genn.compilers.event_prop_compiler import (
    gradient_batch_reduce_model)
from ml_genn.callbacks import CustomUpdateOnBatchEnd, CustomUpdateOnTimestepEnd
from ml_genn.neurons import (Input, LeakyIntegrate, LeakyIntegrateFire)
from ml_genn.optimisers import Adam, Optimiser
from ml_genn.optimisers import default_optimisers
from ml_genn.utils.module import get_object
from ml_genn.synapses import Exponential
from ml_genn.utils.model import CustomUpdateModel
from ml_genn.utils.network import get_underlying_conn
from ml_genn.utils.value import is_value_constant
from pygenn import (SynapseMatrixType, SynapseMatrixWeight, create_var_ref,
                    create_wu_var_ref)

from .checks import (check_batch_size, check_compiler_arguments,
                     check_finite_weights, check_optimiser,
                     check_time_constants,
                     warn_delays_past_example,
                     warn_unlike_event_prop_defaults)
from .backends import (backend_name, caller_model_name,
                       check_genn_kwargs, one_example_at_a_time,
                       with_cpu_optimisation)
from .genn_models import (add_spike_counters, block_last_step_spikes,
                          delayed_weight_update_model, gradient_scale_model)
from .io_files import package_version
from .io_state import COMPILED_NETWORKS, check_loaded_dt
from .kinds.synaptic import SynapticDelay
from .learnable import Learnable
from .neurons.event_prop import get_neuron_kind
from .monitors import training_checks
from .training import GradientAccumulation, HostAllReduce

#: Delay optimiser used when none is given (the paper's SHD set-up)
DEFAULT_DELAY_OPTIMISER = Adam(0.1)

#: Optimiser of learnable neuron parameters (LearnableParam) by default
DEFAULT_PARAM_OPTIMISER = Adam(0.01)

_SUPPORTED_MATRIX_TYPES = (SynapseMatrixType.DENSE, SynapseMatrixType.SPARSE)


def _qualified(neuron):
    """``module.Class``: mlGeNN has an AdaptiveLeakyIntegrateFire too."""
    return f"{type(neuron).__module__}.{type(neuron).__name__}"


class EventPropCompiler(MLGeNNEventPropCompiler):
    """mlGeNN's EventPropCompiler, learning the delays of connections made
    with ``ml_genn_delays.Connection(..., delay=Learnable(...))``.

    Takes every argument of :class:`ml_genn.compilers.EventPropCompiler`.
    Differences:

    Parameters
    ----------
    delay_optimiser : Optimiser or str, optional
        Optimiser for all learnable delays. Default ``Adam(0.1)``; when a
        network uses mlGeNN's own ``delay_learn_conns`` and no delay
        optimiser is given, mlGeNN's default (the weight optimiser) is kept.
    batch_size : int
        On GPU backends, the GeNN batch size. On GeNN's CPU backend, which
        simulates one example at a time, gradients are accumulated over
        ``batch_size`` examples and applied once (see
        :class:`ml_genn_delays.training.GradientAccumulation`).
    param_optimiser : Optimiser or str, optional
        Optimiser for every :class:`ml_genn_delays.LearnableParam` of the
        network's neurons (time constants, adaptation). Default
        ``Adam(0.01)``.
    delay_learn_conns : sequence of Connection
        mlGeNN's way of asking for learnable (synaptic) delays; these
        connections are learned exactly like ``Learnable`` ones.
    strict_buffer_checking : bool
        If True, spikes dropped by the EventProp spike buffers raise
        :class:`ml_genn_delays.monitors.SpikeBufferOverflowError`;
        otherwise they give one warning per ``train`` call.
    communicator : ml_genn.communicators.MPI, optional
        Data-parallel training across processes (``batch_size`` is the
        global batch, split evenly between ranks; each rank trains on its
        own share of the data). On CUDA mlGeNN reduces gradients with
        NCCL; on the CPU backend they are all-reduced on the host before
        every optimiser step, and each rank builds its model in its own
        directory (``<name>_rank<r>``).
    optimize_code : bool, optional
        GeNN's preference. GeNN compiles CPU models without optimisation
        unless asked; on the CPU backend ours defaults to True (``-O3
        -ffast-math``: training is about 3x faster). Pass False for
        GeNN's default. On CUDA GeNN's default is kept.
    """

    def __init__(self, example_timesteps: int, losses, optimiser="adam",
                 delay_optimiser=None, batch_size: int = 1,
                 delay_learn_conns=(), strict_buffer_checking: bool = False,
                 param_optimiser=None, **kwargs):
        check_batch_size(batch_size)
        if delay_optimiser is None and not delay_learn_conns:
            delay_optimiser = DEFAULT_DELAY_OPTIMISER
        # mlGeNN's delay path is folded into ours, so give it nothing:
        # one implementation serves both ways of asking for delays.
        # Strict checking is ours too: mlGeNN's asserts kill the process.
        super().__init__(example_timesteps, losses, optimiser=optimiser,
                         delay_optimiser=delay_optimiser,
                         batch_size=batch_size, delay_learn_conns=[],
                         strict_buffer_checking=False, **kwargs)
        self.legacy_delay_conns = [get_underlying_conn(c)
                                   for c in delay_learn_conns]
        self.strict_spike_buffer = strict_buffer_checking
        self.host_communicator = None
        self._batch_sizes = (self.batch_size, self.full_batch_size)
        check_genn_kwargs(self, self.genn_kwargs)
        self.genn_kwargs = with_cpu_optimisation(self.genn_kwargs)
        self._param_optimiser = get_object(
            param_optimiser or DEFAULT_PARAM_OPTIMISER, Optimiser,
            "Optimiser", default_optimisers)
        check_compiler_arguments(
            example_timesteps, batch_size, self.dt, self.max_spikes,
            {"optimiser": self._optimiser,
             "delay_optimiser": self._delay_optimiser,
             "param_optimiser": self._param_optimiser})

    def compile(self, network, name=None, **kwargs):
        if name is None:
            name = caller_model_name()
        check_loaded_dt(network, self.dt)
        warn_unlike_event_prop_defaults(network)
        check_time_constants(network)
        check_finite_weights(network)
        warn_delays_past_example(network, self.example_timesteps, self.dt)
        COMPILED_NETWORKS.add(network)
        self.host_communicator = None
        comm = self.communicator
        if comm is not None and self.rng_seed == 0:
            # rng_seed 0 lets every rank's GeNN draw its own seed, so
            # weights and delays from initializers would differ between
            # ranks that only share gradients: give all rank 0's
            seed = np.random.randint(1, 2 ** 31 - 1, size=1, dtype=np.int64)
            comm.broadcast(seed, 0)
            self.rng_seed = int(seed[0])
        if comm is None or backend_name(self.genn_kwargs) == "cuda":
            return super().compile(network, name, **kwargs)
        # mlGeNN's communicator asks GeNN for NCCL reductions (CUDA only):
        # hide it from mlGeNN and reduce on the host instead
        self.communicator, self.host_communicator = None, comm
        try:
            return super().compile(network, f"{name}_rank{comm.rank}",
                                   **kwargs)
        finally:
            self.communicator = comm

    def pre_compile(self, network, genn_model, **kwargs):
        # On the CPU: batches of 1, accumulated (GradientAccumulation)
        self.accumulate_examples = one_example_at_a_time(
            self, genn_model, self._batch_sizes)

        compile_state = super().pre_compile(network, genn_model, **kwargs)
        compile_state.learnable_delays = {
            conn: spec for conn in network.connections
            if (spec := self._learnable_spec(conn)) is not None}
        if any(kind.name != "synaptic"
               for s in compile_state.learnable_delays.values()
               for kind, _ in s.parts):
            # Axonal (dendritic) delays are pre- (post-)synaptic weight
            # update variables, which GeNN fuses across connections whose
            # initial values are equal; a fused one's variables cannot be
            # read or set through the second connection (tests/
            # test_axonal.py, equal initial delays)
            genn_model.fuse_pre_post_weight_update_models = False
        compile_state.ring_buffer_pops = []
        # (population, GeNN variable, gradient variable, LearnableParam)
        compile_state.learnable_params = [
            (pop, *learned) for pop in network.populations
            if (kind := get_neuron_kind(pop.neuron)) is not None
            for learned in kind.learnable(pop.neuron)]
        for pop, param, _, spec in compile_state.learnable_params:
            if spec.optimiser is not None:
                check_optimiser(f"LearnableParam optimiser of {pop.name}'s "
                                f"{param}", spec.optimiser)
        return compile_state

    def _learnable_spec(self, conn):
        spec = getattr(conn, "delay_spec", None)
        if conn in self.legacy_delay_conns:
            if spec is not None:
                raise ValueError(f"Connection {conn.name}: delays given "
                                 f"both as delay= and in delay_learn_conns")
            if conn.max_delay_steps is None:
                raise ValueError(f"Connection {conn.name} is in "
                                 f"delay_learn_conns but has no "
                                 f"max_delay_steps; set it on the "
                                 f"Connection")
            spec = Learnable(conn.connectivity.delay, conn.max_delay_steps)
        if not isinstance(spec, Learnable):
            return None

        # Refuse what the delay models do not (yet) support, by name
        if not isinstance(conn.synapse, Exponential):
            raise NotImplementedError(
                f"Connection {conn.name}: learnable delays need an "
                f"Exponential synapse, not {type(conn.synapse).__name__}")
        source, target = conn.source().neuron, conn.target().neuron
        if not isinstance(source, (Input, LeakyIntegrateFire)):
            raise NotImplementedError(
                f"Connection {conn.name}: learnable delays need an input "
                f"or LeakyIntegrateFire source (mlGeNN's, or "
                f"ml_genn_delays.AdaptiveLeakyIntegrateFire), not "
                f"{_qualified(source)}")
        if not isinstance(target, (LeakyIntegrate, LeakyIntegrateFire)):
            raise NotImplementedError(
                f"Connection {conn.name}: learnable delays need a "
                f"LeakyIntegrateFire or LeakyIntegrate target (mlGeNN's, "
                f"or ml_genn_delays.AdaptiveLeakyIntegrateFire), not "
                f"{_qualified(target)}")
        return spec

    def build_neuron_model(self, pop, model, compile_state):
        neuron_kind = get_neuron_kind(pop.neuron)
        if neuron_kind is None:
            model = super().build_neuron_model(pop, model, compile_state)
        else:
            # mlGeNN builds it as a hidden LIF neuron; the kind swaps in
            # its own adjoint
            neuron_kind.check(pop)
            with neuron_kind.as_mlgenn_lif(pop.neuron):
                model = super().build_neuron_model(pop, model, compile_state)
            neuron_kind.add_adjoint(model, pop, compile_state, self.dt)
        # Per-neuron delays of outgoing (axonal) or incoming connections
        for conn, spec in compile_state.learnable_delays.items():
            for kind, init in spec.parts:
                if kind.holds(conn, pop):
                    kind.add_neuron_terms(
                        model, conn, init,
                        feedback=not isinstance(conn.source().neuron, Input),
                        compile_state=compile_state)
        if model.has_var("RingReadEndOffset"):
            compile_state.ring_buffer_pops.append(pop)
            add_spike_counters(model)
            if pop.neuron.readout is None:
                block_last_step_spikes(model, self.example_timesteps,
                                       self.dt)
        return model

    def build_weight_update_model(self, conn, connect_snippet,
                                  compile_state):
        spec = compile_state.learnable_delays.get(conn)
        if spec is None:
            kernel = connect_snippet.matrix_type & SynapseMatrixWeight.KERNEL
            if (connect_snippet.trainable and kernel
                    and not (is_value_constant(connect_snippet.delay)
                             and connect_snippet.delay == 0)):
                # mlGeNN says "EventProp compiler does not kernel
                # connectivity with delays"
                raise NotImplementedError(
                    f"Connection {conn.name}: EventProp cannot train "
                    f"{type(conn.connectivity).__name__} (kernel "
                    f"connectivity) with a delay; give it none, or put the "
                    f"delay on a Dense or sparse connection")
            return super().build_weight_update_model(conn, connect_snippet,
                                                     compile_state)
        if (not connect_snippet.trainable
                or connect_snippet.matrix_type not in _SUPPORTED_MATRIX_TYPES):
            raise NotImplementedError(
                f"Connection {conn.name}: learnable delays support Dense "
                f"and sparse connectivity, not "
                f"{type(conn.connectivity).__name__}")

        source = conn.source().neuron
        feedback = not isinstance(source, Input)
        # Per-synapse delays live in the connectivity, others in the spec
        init = (connect_snippet.delay if isinstance(spec.kind, SynapticDelay)
                else spec.init)
        wum = delayed_weight_update_model(
            spec.kind, conn, conn.synapse.tau, spec.longest_delay_steps,
            connect_snippet.weight, init, feedback)
        if feedback and not spec.kind.pre_channel:
            compile_state.feedback_connections.append(conn)
        compile_state.checkpoint_connection_vars.append((conn, "g"))
        if isinstance(spec.kind, SynapticDelay):
            # mlGeNN's Checkpoint writes it as <epoch>-<conn>-d.npy
            compile_state.checkpoint_connection_vars.append((conn, "d"))
        # mlGeNN builds the weight optimiser; delays get theirs below
        compile_state.add_optimiser_connection(conn, True, False)
        return wum

    def create_compiled_network(self, genn_model, neuron_populations,
                                connection_populations, compile_state):
        if compile_state.timestep_softmax_populations:
            # mlGeNN bug (2.3.1): per_timestep_loss=True with avg_var or
            # sum_var readouts fails here with a bare KeyError: 0 (its loop
            # unpacks enumerate the wrong way round) and, past that, with
            # KeyError: 'Temp' (its per-timestep softmax omits the
            # temperature). Not worked around: it would mean rewriting
            # mlGeNN's per-timestep softmax
            raise NotImplementedError(
                "per_timestep_loss=True does not build in mlGeNN "
                f"{package_version('ml_genn') or '(version unknown)'} (its "
                "per-timestep softmax fails); "
                "use the default per-trial loss (per_timestep_loss=False)")
        compiled = super().create_compiled_network(
            genn_model, neuron_populations, connection_populations,
            compile_state)

        pops = (neuron_populations, connection_populations)
        # (gradient reference, pygenn gradient variable) of every learned
        # delay and neuron parameter, for accumulation and all-reduce
        gradients = []
        delay_cus = []
        parts = [(conn, spec, kind) for conn, spec
                 in compile_state.learnable_delays.items()
                 for kind, _ in spec.parts]
        for i, (conn, spec, kind) in enumerate(parts):
            if kind.pre_channel:
                connection_populations[conn].pre_target_var = \
                    kind.channel(conn)
            if kind.post_channel:
                connection_populations[conn].post_target_var = \
                    kind.channel(conn)

            def holder(var, conn=conn, kind=kind):
                return kind.holder(conn, var, *pops)
            delay_cus.append(self._learn(
                genn_model, self._delay_optimiser, f"Delay{i}",
                kind.delay_var(conn), kind.gradient_var(conn),
                (0.0, spec.max_delay_steps), holder, kind.var_ref,
                kind.genn_var, gradients))
        if delay_cus:
            compiled.optimisers.append((self._delay_optimiser, delay_cus))
        compiled.delay_optimiser_updates = delay_cus

        # One optimiser for the parameters, but where a LearnableParam
        # brings its own (time constants of 200 ms and factors near 1
        # hardly suit one rate)
        param_optimisers = {}   # id: [what, optimiser, custom updates]
        for i, (pop, param, gradient_var, spec) in enumerate(
                compile_state.learnable_params):
            # A copy, as mlGeNN copies the optimisers it is given (one
            # object shared by parameters stays one optimiser)
            entry = param_optimisers.setdefault(
                id(spec.optimiser),
                ["neuron parameters", self._param_optimiser, []]
                if spec.optimiser is None else
                [f"{pop.name}'s {param}", copy(spec.optimiser), []])
            optimiser = entry[1]
            entry[2].append(self._learn(
                genn_model, optimiser, f"Param{i}", param, gradient_var,
                (spec.low, spec.high),
                lambda var, p=neuron_populations[pop]: p,
                create_var_ref, lambda p, var: p.vars[var], gradients))
        param_optimisers = list(param_optimisers.values())
        compiled.optimisers += [(o, cus) for _, o, cus in param_optimisers]

        if self.accumulate_examples > 1 or self.host_communicator:
            weight_pops = [connection_populations[c] for c, weight, _
                           in compile_state.optimiser_connections if weight]
            gradients += [(create_wu_var_ref(p, "Gradient"),
                           p.vars["Gradient"]) for p in weight_pops]
            all_reduce = (None if self.host_communicator is None else
                          HostAllReduce(self.host_communicator,
                                        [var for _, var in gradients]))
            self._add_gradient_accumulation(
                genn_model, compiled, [ref for ref, _ in gradients],
                all_reduce)

        # mlGeNN zeroes postsynaptic input at the start of the last step;
        # spikes of the step before still arrive through delays after the
        # example ends. Zero again at its end so nothing reaches the next.
        last_step = self.example_timesteps - 1
        for callbacks in (compiled.base_train_callbacks,
                          compiled.base_validate_callbacks):
            callbacks.append(CustomUpdateOnTimestepEnd(
                "ZeroOutPost", lambda timestep: timestep == last_step))

        # Every rank holds the same weights and rates: one warns
        comm = self.host_communicator or self.communicator
        compiled.base_train_callbacks += training_checks(
            genn_model, connection_populations,
            {p.name: neuron_populations[p]
             for p in compile_state.ring_buffer_pops},
            self.max_spikes, self.strict_spike_buffer,
            self.accumulate_examples, self._optimiser,
            {**({"delays": self._delay_optimiser} if delay_cus else {}),
             **{what: o for what, o, _ in param_optimisers}},
            quiet=comm is not None and comm.rank != 0)
        compiled.learnable_delays = compile_state.learnable_delays
        compiled.learnable_params = compile_state.learnable_params
        compiled.examples_per_step = self.accumulate_examples
        return compiled

    def _learn(self, genn_model, optimiser, label, var, gradient_var, clamp,
               holder, make_ref, genn_var, gradients):
        """Learn ``var`` from ``gradient_var`` (a delay or a neuron
        parameter): the clamped optimiser's custom update, returned, and
        the zeroing of the gradient; ``holder(name)`` is the GeNN group
        holding variable ``name``, ``make_ref(group, name)`` a reference
        to it and ``genn_var(group, name)`` its pygenn variable. Appends
        the gradient's (reference, variable) to ``gradients``."""
        gradient_ref = make_ref(holder(gradient_var), gradient_var)
        gradients.append((gradient_ref,
                          genn_var(holder(gradient_var), gradient_var)))
        zero = create_reset_custom_update(
            [(gradient_var, "scalar", 0.0)],
            lambda name: make_ref(holder(name), name))
        self.add_custom_update(genn_model, zero, "ZeroGradient",
                               f"CUZero{label}Gradient")
        return self._optimiser_update(
            optimiser, label, make_ref(holder(var), var), gradient_ref,
            genn_model, clamp, make_ref)

    def _optimiser_update(self, optimiser, label, var_ref, gradient_ref,
                          genn_model, clamp, make_ref):
        """A clamped optimiser's custom update (as mlGeNN's
        ``_create_optimiser_custom_update``, whose batch reduction only
        handles synapse variables; per-neuron delays and parameters need
        neuron ones). ``make_ref(group, name)`` makes a variable reference
        of the reduction's kind."""
        if self.full_batch_size > 1:
            reduction = self.add_custom_update(
                genn_model, CustomUpdateModel(
                    gradient_batch_reduce_model, {}, {"ReducedGradient": 0.0},
                    {"Gradient": gradient_ref}),
                "GradientBatchReduce", f"CUBatchReduce{label}")
            model = optimiser.get_model(
                make_ref(reduction, "ReducedGradient"), var_ref, False,
                clamp)
        else:
            model = optimiser.get_model(gradient_ref, var_ref, True, clamp)
        return self.add_custom_update(genn_model, model, "GradientLearn",
                                      f"Learn{label}")

    def _add_gradient_accumulation(self, genn_model, compiled,
                                   gradient_refs, all_reduce):
        # Mean over the global batch: every rank's examples
        ranks = (1 if self.host_communicator is None
                 else self.host_communicator.num_ranks)
        scale = 1.0 / (self.accumulate_examples * ranks)
        for i, ref in enumerate(gradient_refs):
            self.add_custom_update(genn_model,
                                   gradient_scale_model(ref, scale),
                                   "GradientScale", f"CUGradientScale{i}")
        # Swap mlGeNN's per-example optimiser step for an every-N one
        callbacks = compiled.base_train_callbacks
        for i, c in enumerate(callbacks):
            if (isinstance(c, CustomUpdateOnBatchEnd)
                    and c.name == "GradientLearn"):
                callbacks[i] = GradientAccumulation(self.accumulate_examples,
                                                    all_reduce)
