"""The drop-in Connection: mlGeNN's Connection plus ``delay=``."""
import copy
from numbers import Number

import numpy as np
from ml_genn import Connection as MLGeNNConnection
from ml_genn.connectivity import (Connectivity, Dense, OneToOne,
                                  default_connectivity)
from ml_genn.connectivity.sparse_base import SparseBase
from ml_genn.utils.module import get_object
from ml_genn.utils.value import is_value_constant

from .kinds import get_kind
from .learnable import (Fixed, Learnable, as_delay_spec,
                        check_max_delay_steps)


def _has_delay(value) -> bool:
    return not (is_value_constant(value) and value == 0)


class Connection(MLGeNNConnection):
    """mlGeNN Connection with an optional (learnable) delay.

    Parameters
    ----------
    source, target : Population
        Populations to connect.
    connectivity : Connectivity or str
        mlGeNN connectivity, e.g. ``Dense(Normal(0.03, 0.01))``. Give the
        delay here via ``delay=``, not as ``Dense(weight, delay)``.
    synapse : Synapse or str
        Postsynaptic model, e.g. ``Exponential(5.0)``.
    name : str, optional
        Connection name (also used for checkpoint file names).
    delay : None, number, array, Initializer, Learnable or ``Learnable``
        ``None``: no delay. A number, array or initializer: a fixed delay
        in timesteps (arrays shaped as in :class:`Learnable`).
        ``Learnable(...)``: a delay learned by
        :class:`ml_genn_delays.EventPropCompiler`.
    max_delay_steps : int, optional
        For a fixed delay given as a number, array or initializer, the
        longest delay (default: the largest given, rounded up; see
        :class:`Fixed`); without ``delay=``, mlGeNN's own argument (its
        ``Dense(w, d)`` delays and ``delay_learn_conns`` need it). A
        ``Learnable`` or ``Fixed`` carries its own: another value here is
        an error.
    add_to_model : bool
        As in mlGeNN.

    Attributes
    ----------
    delay_spec : Learnable, Fixed or None
        The delay given to this connection.
    """

    def __init__(self, source, target, connectivity, synapse="delta",
                 name=None, delay=None, max_delay_steps=None,
                 add_to_model=True):
        # The name mlGeNN gives it (set only by its __init__, below)
        where = f"Connection {name or f'Conn_{source.name}_{target.name}'}"
        spec = as_delay_spec(delay, max_delay_steps)
        if isinstance(spec, Learnable):
            # Each connection owns its spec: load_model updates a spec's
            # initial per-neuron delays, which must not reach another
            # connection given the same Learnable object
            spec = copy.copy(spec)
        # Refused before mlGeNN adds the connection to the network
        resolved = (get_object(connectivity, Connectivity, "Connectivity",
                               default_connectivity)
                    if isinstance(spec, Learnable) else None)
        if resolved is not None and not isinstance(resolved,
                                                   (Dense, SparseBase)):
            # Pooling and convolution layers expand or share weights in
            # GeNN: no per-synapse delay file maps back onto them
            raise NotImplementedError(
                f"{where}: learnable delays support Dense, OneToOne, "
                f"FixedProbability and synapses listed by hand "
                f"(pre_ind/post_ind), not {type(resolved).__name__} "
                f"(GeNN shares or expands its weights, so its synapses "
                f"have no delays of their own to learn or save)")
        if spec is not None and max_delay_steps is not None:
            max_delay_steps = check_max_delay_steps(max_delay_steps, where)
            if max_delay_steps != spec.max_delay_steps:
                raise ValueError(
                    f"{where}: max_delay_steps={max_delay_steps} conflicts "
                    f"with the delay's max_delay_steps="
                    f"{spec.max_delay_steps}; give it once, in the delay")
        if spec is not None:
            max_delay_steps = spec.longest_delay_steps
        if isinstance(spec, Fixed) and isinstance(spec.init, Number) \
                and spec.init == 0:
            # mlGeNN bug: a delay of 0 with a max_delay_steps makes its
            # compilers ask GeNN for a delay buffer that a zero delay does
            # not create ("does not have dendritic delay buffer to
            # reference"); a zero delay needs no buffer
            max_delay_steps = None

        super().__init__(source, target, connectivity, synapse, name,
                         max_delay_steps, add_to_model)
        self.delay_spec = spec
        if spec is None:
            return

        conn_delay = getattr(self.connectivity, "delay", None)
        if conn_delay is None:
            raise NotImplementedError(
                f"Connection {self.name}: {type(self.connectivity).__name__}"
                f" connectivity has no delays")
        if _has_delay(conn_delay):
            raise ValueError(
                f"Connection {self.name}: a delay is given both in "
                f"{type(self.connectivity).__name__}(weight, delay) and as "
                f"delay=; give it once, as delay=")
        parts = (spec.parts if isinstance(spec, Learnable)
                 else [(get_kind("synaptic"), spec.init)])
        for kind, init in parts:
            if isinstance(init, np.ndarray):
                expected = self._delay_shape(kind)
                if init.shape != expected:
                    raise ValueError(
                        f"Connection {self.name}: {kind.name} delays must "
                        f"have shape {expected}, got {init.shape}")
        if isinstance(spec, Learnable) and spec.kind.name != "synaptic":
            # Per-neuron delays live in a neuron population, not in the
            # connectivity (the compiler reads them from the spec)
            return
        self.connectivity.delay = spec.init

    def _delay_shape(self, kind):
        """Shape an array of ``kind`` delays must have."""
        connectivity = self.connectivity
        if (kind.name != "synaptic"
                or not isinstance(connectivity, SparseBase)):
            return kind.shape(self)
        if connectivity.pre_ind is not None:
            # Synapses listed by hand: one delay each, in their order
            return (len(connectivity.pre_ind),)
        if isinstance(connectivity, OneToOne):
            return kind.shape(self)[:1]
        raise ValueError(
            f"Connection {self.name}: {type(self.connectivity).__name__} "
            f"draws its synapses when the model is built, so an array of "
            f"delays cannot be matched to them; give a number or an "
            f"initializer (e.g. Uniform(0, 20)) instead, and after "
            f"compiling read or set each synapse's delay with get_delays / "
            f"set_delays (GeNN's synapse order)")
