"""GeNN backends and the GeNN arguments a compiler is given (checked when
the compiler is made, not when GeNN builds the model), and the whole
memory of a GeNN variable."""
import difflib
import inspect
import os

#: GeNN's CPU backends (batch size 1: see GradientAccumulation)
CPU_BACKENDS = ("single_threaded_cpu",)


def backend_name(genn_kwargs):
    """The GeNN backend a model built with ``genn_kwargs`` gets."""
    from pygenn.genn_model import backend_modules
    return genn_kwargs.get("backend") or next(iter(backend_modules))


def with_cpu_optimisation(genn_kwargs):
    """``genn_kwargs`` plus ``optimize_code=True`` on the CPU backend,
    unless given: GeNN builds CPU code at -O0 by default (measured
    3.3-3.5x slower per training example, benchmarks/README.md)."""
    if backend_name(genn_kwargs) in CPU_BACKENDS:
        return {"optimize_code": True, **genn_kwargs}
    return dict(genn_kwargs)


def is_sparse(group) -> bool:
    """Whether a pygenn group is a synapse group of sparse synapses (whose
    values are read through the host's copy of its synapses, which GeNN
    fills on a GPU only when asked); False for neuron groups."""
    from pygenn import SynapseMatrixConnectivity
    return bool(getattr(group, "matrix_type", 0)
                & SynapseMatrixConnectivity.SPARSE)


def whole_array(var):
    """A pygenn variable's whole host array, to copy or reduce in place
    (pull first): ``var.view``, which pygenn refuses for the variables of
    sparse synapses, whose rows it pads to the longest (the padding is
    copied or summed too, harmlessly: no synapse reads it)."""
    from pygenn.model_preprocessor import SynapseVariable
    if (isinstance(var, SynapseVariable)
            and is_sparse(var.group.synapse_group)):
        return var._view     # (pygenn has no public name for it)
    return var.view


def one_example_at_a_time(compiler, genn_model, batch_sizes) -> int:
    """Give ``compiler`` (and ``genn_model``) the ``(batch_size,
    full_batch_size)`` it was made with, or batches of 1 on GeNN's CPU
    backend, which simulates one example at a time (and fails at load
    with more). Returns how many examples make one of the batches asked
    for: ``batch_size`` on the CPU, else 1."""
    compiler.batch_size, compiler.full_batch_size = batch_sizes
    if genn_model.backend_name not in CPU_BACKENDS:
        return 1
    compiler.batch_size = compiler.full_batch_size = 1
    genn_model.batch_size = 1
    return batch_sizes[0]


def caller_model_name():
    """The default model name of a ``compile(network)`` given none: as
    mlGeNN, the file that called ``compile``, without its extension (GeNN
    writes the model's code to ``<name><compiler>_CODE``). mlGeNN's own
    lookup, called from our subclass, would name every model after our
    module, so scripts in one folder would share, and rebuild, one code
    folder."""
    caller = inspect.currentframe().f_back.f_back.f_code.co_filename
    return os.path.splitext(os.path.basename(caller))[0]


def check_genn_kwargs(compiler, genn_kwargs):
    """Refuse what GeNN refuses only when it builds the model: a backend
    this GeNN was built without (a bare KeyError there), or a keyword that
    is neither an argument of GeNNModel nor a preference of the backend
    (a misspelt ``delay_optimizer`` would fail at ``with compiled:``)."""
    from pygenn import GeNNModel
    from pygenn.genn_model import backend_modules

    from .errors import BackendUnavailableError

    name = genn_kwargs.get("backend")
    if name is not None and name not in backend_modules:
        raise BackendUnavailableError(
            f"GeNN backend {name!r} is not available: this GeNN was built "
            f"with {list(backend_modules)} only. For CUDA, build GeNN with "
            f"CUDA_PATH set (pip install . in its checkout) on a machine "
            f"with the CUDA toolkit; otherwise use one of those")
    preferences = backend_modules[backend_name(genn_kwargs)].Preferences()
    model_args = set(inspect.signature(GeNNModel).parameters) - {
        "precision", "model_name", "preference_kwargs"}
    unknown = [k for k in genn_kwargs
               if k not in model_args and not hasattr(preferences, k)]
    if not unknown:
        return
    # Suggest the compiler's own arguments as well as GeNN's
    known = set(model_args) | {p for p in dir(preferences)
                               if not p.startswith("_")}
    for cls in type(compiler).__mro__:
        if "__init__" in vars(cls):
            known |= set(inspect.signature(cls.__init__).parameters)
    hints = [f"{k!r} (did you mean {close[0]!r}?)"
             if (close := difflib.get_close_matches(k, known, n=1)) else
             repr(k) for k in unknown]
    raise TypeError(
        f"{type(compiler).__name__}: unknown argument(s) {', '.join(hints)}"
        f": neither an argument of the compiler nor a GeNN option of the "
        f"{backend_name(genn_kwargs)} backend")
