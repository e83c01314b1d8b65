"""The questions every delay kind answers (see docs/architecture.md)."""
from abc import ABC, abstractmethod


class DelayKind(ABC):
    """Where a learnable delay lives and how it enters the GeNN models.

    A kind is stateless: one instance describes the kind, the values
    live in the connection's GeNN synapse group. The compiler only talks
    to kinds through this interface, so adding a kind means adding one
    module under ``ml_genn_delays/kinds/``.
    """

    #: Name users pass as ``Learnable(kind=...)``
    name = None

    #: C expression for the (float) delay of one synapse, in steps
    delay_expression = None

    #: Name of the GeNN variable holding the delay and its gradient
    delay_var = None
    gradient_var = None

    #: Suffix of the delay file written for this kind
    file_suffix = None

    @abstractmethod
    def add_variables(self, wum, init):
        """Add the delay and gradient variables to a WeightUpdateModel."""

    @abstractmethod
    def gradient_code(self, dl_dd: str) -> str:
        """Code that accumulates one synapse's delay gradient ``dl_dd``."""

    @abstractmethod
    def var_ref(self, genn_pop, name: str):
        """A GeNN variable reference to the kind's variable ``name``."""

    @abstractmethod
    def shape(self, conn):
        """Shape of the delay values of connection ``conn``."""

    def pull(self, genn_pop, var):
        """Copy a kind variable from the device and return its values."""
        genn_var = self.genn_var(genn_pop, var)
        genn_var.pull_from_device()
        return genn_var.values

    def push(self, genn_pop, var, values):
        """Copy values of a kind variable to the device."""
        genn_var = self.genn_var(genn_pop, var)
        genn_var.values = values
        genn_var.push_to_device()

    @abstractmethod
    def genn_var(self, genn_pop, var):
        """The pygenn variable object of kind variable ``var``."""
