"""ml_genn_delays: learnable spike delays for mlGeNN's EventProp.

Everything but :mod:`ml_genn_delays.io` needs GeNN and mlGeNN; those names
are imported on first use, so the package and its model-file module import
on a machine without GeNN (tools that only inspect ``-g.npy`` / ``-d.npy``
files and manifests need nothing more).
"""
from importlib import import_module

from .io import ModelFileError, load_model, save_model

__version__ = "0.1.0"

_LAZY = {"Connection": ".connection", "EventPropCompiler": ".compiler",
         "InferenceCompiler": ".inference",
         "Fixed": ".learnable", "Learnable": ".learnable", "SGD": ".sgd",
         "SpikeBufferOverflowError": ".monitors",
         "NonFiniteError": ".monitors",
         "BackendUnavailableError": ".errors",
         "UncheckedModelWarning": ".errors",
         "NoGradientWarning": ".errors",
         "ModelCheckpoint": ".training", "DelayPruning": ".pruning",
         "evaluate": ".evaluation", "get_delays": ".evaluation",
         "set_delays": ".evaluation", "record_example": ".evaluation",
         "get_params": ".evaluation", "spike_counts": ".evaluation",
         "plot_raster": ".plots", "plot_delay_history": ".plots",
         "DelayRecorder": ".recorders",
         "AdaptiveLeakyIntegrateFire": ".neurons",
         "LearnableParam": ".neurons"}

__all__ = sorted(["ModelFileError", "load_model", "save_model", *_LAZY])


def __getattr__(name):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return __all__
