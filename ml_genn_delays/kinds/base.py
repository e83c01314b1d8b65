"""The questions every delay kind answers (see docs/architecture.md)."""
from abc import ABC, abstractmethod

from ml_genn.utils.value import is_value_array, is_value_initializer
from pygenn import init_var


def pre_post_var_value(init):
    """``init`` as GeNN takes it for a presynaptic or postsynaptic
    variable of a synapse group. mlGeNN turns initializers into GeNN's only
    for ``var_vals``; ``pre_var_vals`` and ``post_var_vals`` reach GeNN
    as given, so an mlGeNN ``Uniform`` there failed to compile."""
    if is_value_initializer(init):
        snippet = init.get_snippet()
        return init_var(snippet.snippet, snippet.param_vals)
    if is_value_array(init):
        return init.flatten()
    return init


class DelayKind(ABC):
    """Where a learnable delay lives and how it enters the GeNN models.

    A kind is stateless: one instance describes the kind, the values live
    in a GeNN group (the synapse group for per-synapse delays, a neuron
    population for per-neuron ones). The compiler, evaluation, io and
    resume code only talk to kinds through this interface, so adding a
    kind means adding one module under ``ml_genn_delays/kinds/``.

    Every kind shares one weight update model (genn_models): the forward
    pass adds the weight to the postsynaptic input ``delay`` steps later,
    the backward pass reads the adjoints at the delayed step, and one
    synapse's delay gradient ``-w (lambda_I - lambda_V)(t_k + d)`` is
    accumulated where the kind keeps its gradient.
    """

    #: Name users pass as ``Learnable(kind=...)``
    name = None

    @property
    def parts(self):
        """The kinds whose variables make up this one (a mixed kind has
        several, see kinds/mixed.py)."""
        return (self,)

    #: Suffix of the delay file written for this kind
    file_suffix = None

    #: True when the per-synapse delay gradient is sent to the
    #: presynaptic neuron with ``addToPre`` (the synapse group's own
    #: presynaptic channel, race-free in GeNN) rather than accumulated in
    #: a synapse variable
    pre_channel = False

    #: True when the connection's postsynaptic input goes to a channel of
    #: its own in the target neuron (``channel(conn)``), not to ``Isyn``
    post_channel = False

    def channel(self, conn) -> str:
        """The target neuron's additional input that the kind's channel
        (``pre_channel`` or ``post_channel``) lands in."""
        raise NotImplementedError

    @abstractmethod
    def delay_var(self, conn) -> str:
        """Name of the GeNN variable holding ``conn``'s delays."""

    @abstractmethod
    def gradient_var(self, conn) -> str:
        """Name of the GeNN variable holding ``conn``'s delay gradient."""

    @abstractmethod
    def delay_expression(self, conn) -> str:
        """C expression for one synapse's (float) delay, in steps."""

    @abstractmethod
    def gradient_code(self, conn, dl_dd: str) -> str:
        """Synapse code accumulating one synapse's delay gradient."""

    @abstractmethod
    def add_synapse_terms(self, wum, conn, init):
        """Add the kind's variables or neuron references to the weight
        update model of ``conn`` (``init``: the initial delays)."""

    def add_neuron_terms(self, neuron_model, conn, init, feedback: bool,
                         compile_state=None):
        """Add the kind's variables to a neuron model (per-neuron kinds:
        the population that holds ``conn``'s delays); variables to reset
        every example are registered with ``compile_state``."""

    def holds(self, conn, pop) -> bool:
        """Whether population ``pop`` holds ``conn``'s delays."""
        return False

    @abstractmethod
    def holder(self, conn, var, neuron_populations, connection_populations):
        """The GeNN group holding ``conn``'s variable ``var`` (its delay
        or delay gradient variable)."""

    @abstractmethod
    def var_ref(self, holder, name: str):
        """A GeNN variable reference to variable ``name`` of ``holder``
        (also used on custom updates, e.g. batch reductions)."""

    @abstractmethod
    def shape(self, conn):
        """Shape of the delay values of connection ``conn``."""

    def genn_var(self, holder, var):
        """The pygenn variable object of variable ``var``."""
        return holder.vars[var]

    def pull(self, holder, var):
        """Copy a kind variable from the device and return its values."""
        genn_var = self.genn_var(holder, var)
        genn_var.pull_from_device()
        return genn_var.values

    def push(self, holder, var, values):
        """Copy values of a kind variable to the device."""
        genn_var = self.genn_var(holder, var)
        genn_var.values = values
        genn_var.push_to_device()
