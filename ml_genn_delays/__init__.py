"""ml_genn_delays: learnable spike delays for mlGeNN's EventProp."""
from .learnable import Fixed, Learnable
from .connection import Connection
from .compiler import EventPropCompiler
from .evaluation import evaluate, get_delays, set_delays
from .sgd import SGD
from .training import SpikeBufferOverflowError

__version__ = "0.1.0"

__all__ = ["Connection", "EventPropCompiler", "Fixed", "Learnable", "SGD",
           "SpikeBufferOverflowError", "evaluate", "get_delays",
           "set_delays"]
