"""Evaluating compiled networks and reading/writing delays."""
import operator
from numbers import Number

import numpy as np
from ml_genn.callbacks import SpikeRecorder, VarRecorder
from ml_genn.compilers.inference_compiler import CompiledInferenceNetwork
from ml_genn.metrics import Metric, default_metrics
from ml_genn.utils.callback_list import CallbackList
from ml_genn.utils.data import batch_dataset, get_dataset_size
from ml_genn.utils.module import get_object_mapping
from ml_genn.utils.network import get_underlying_conn, get_underlying_pop

from .backends import is_sparse
from .genn_models import SPIKE_COUNT_VAR
from .io_params import param_state
from .io_state import learnable_delays, require_loaded


def evaluate(compiled_net, x: dict, y: dict,
             metrics="sparse_categorical_accuracy", callbacks=()):
    """Run inference with the forward dynamics used in training.

    mlGeNN's compiled training network has no ``evaluate``, so on one
    this runs the network's own validation pass (no learning) over ``x``
    and returns the metrics. An inference network runs its own
    ``evaluate``: one of :class:`ml_genn_delays.InferenceCompiler` has
    training's forward dynamics, one of mlGeNN's does not (it drops
    axonal and dendritic delays and carries input across examples).

    Parameters
    ----------
    compiled_net : CompiledTrainingNetwork or CompiledInferenceNetwork
        From :class:`ml_genn_delays.EventPropCompiler` or (its own
        ``evaluate`` is run) :class:`ml_genn_delays.InferenceCompiler`,
        inside its ``with`` block.
    x, y : dict
        Inputs and labels per population, as for ``train``.
    metrics : str, Metric or dict
        Metrics to compute (default: sparse categorical accuracy).
    callbacks : sequence of Callback
        Extra callbacks, e.g. ``VarRecorder`` or ``SpikeRecorder``.

    Returns
    -------
    metrics : dict
        Metric object per output population (``.result`` holds the value),
    callback_data : dict
        Data recorded by the callbacks.
    """
    require_loaded(compiled_net, "evaluate")
    size = get_dataset_size(x)
    if size is None or size != get_dataset_size(y):
        raise ValueError("evaluate: every input and output population "
                         "needs the same number of examples")
    if isinstance(compiled_net, CompiledInferenceNetwork):
        # No progress bar (mlGeNN's default): as on the training network
        return compiled_net.evaluate(x, y, metrics, list(callbacks))
    metric_objs = get_object_mapping(metrics, y.keys(), Metric, "Metric",
                                     default_metrics)
    batch_size = compiled_net.genn_model.batch_size
    num_batches = (size + batch_size - 1) // batch_size
    callback_list = CallbackList(
        list(compiled_net.base_validate_callbacks) + list(callbacks),
        compiled_network=compiled_net, num_batches=num_batches,
        num_epochs=1)
    callback_list.on_test_begin()
    callback_list.on_epoch_begin(0)
    for batch, (x_batch, y_batch) in enumerate(
            zip(batch_dataset(x, batch_size, size),
                batch_dataset(y, batch_size, size))):
        compiled_net._validate_batch(batch, x_batch, y_batch, metric_objs,
                                     callback_list)
    callback_list.on_epoch_end(0, metric_objs)
    callback_list.on_test_end(metric_objs)
    return metric_objs, callback_list.get_data()


def _data_spikes(sample, n):
    """(times, ids) of a PreprocessedSpikes input sample."""
    counts = np.diff(np.concatenate(([0], sample.end_spikes)))
    return (np.asarray(sample.spike_times, dtype=float),
            np.repeat(np.arange(n), counts))


def example_index(example, size, caller="record_example"):
    """``example`` as an int in ``[0, size)``, else a ValueError."""
    example = operator.index(example)  # an int, not 1.0
    if not 0 <= example < size:
        raise ValueError(f"{caller}: example {example} is not in "
                         f"the {size} examples given")
    return example


def record_example(compiled_net, x: dict, y: dict, example: int = 0):
    """Spikes and readout voltages of every population during one example.

    Runs the example through :func:`evaluate` (no learning) and records
    the spikes of every hidden population (each must be built with
    ``record_spikes=True``, else a ValueError says so), the input spikes
    of every input population (from ``x`` itself when the input does not
    record them) and the membrane voltage of every output population,
    e.g. for :func:`ml_genn_delays.plots.plot_raster`.

    Parameters
    ----------
    compiled_net : CompiledTrainingNetwork or CompiledInferenceNetwork
        Inside its ``with`` block (see :func:`evaluate`).
    x, y : dict
        Inputs and labels per population, as for :func:`evaluate`.
    example : int
        Index of the example in ``x`` and ``y``.

    Returns
    -------
    recording : dict
        ``spikes``: ``{population name: (times [ms], ids)}`` from the input
        up; ``neurons``: ``{population name: size}``; ``v``:
        ``{population name: (example_timesteps, n) array}``;
        ``label``: ``{population name: label}``; ``correct``:
        ``{population name: bool}`` (sparse categorical accuracy);
        ``dt``: the time step [ms].
    """
    require_loaded(compiled_net, "record_example")
    size = get_dataset_size(x)
    if size is None or size != get_dataset_size(y):
        raise ValueError("record_example: every input and output "
                         "population needs the same number of examples")
    example = example_index(example, size)
    x, y = ({p: v[example:example + 1] for p, v in d.items()}
            for d in (x, y))
    labels = {q: np.ravel(v) for q, v in y.items()}
    for q, label in labels.items():
        if (label.size != 1 or not np.issubdtype(label.dtype, np.number)
                or label[0] != np.round(label[0])):
            raise ValueError(f"record_example: the label of output "
                             f"{get_underlying_pop(q).name} must be one "
                             f"integer class, got {label!r}")
    pops = [get_underlying_pop(p) for p in compiled_net.neuron_populations]
    inputs = {get_underlying_pop(p): v[0] for p, v in x.items()}
    outputs = [get_underlying_pop(p) for p in y]
    callbacks = ([SpikeRecorder(p, key=("spikes", p.name))
                  for p in pops if p.record_spikes]
                 + [VarRecorder(p, "v", key=("v", p.name)) for p in outputs])
    unrecorded = [p.name for p in pops
                  if not (p.record_spikes or p in inputs or p in outputs)]
    if unrecorded:
        raise ValueError(f"record_example: hidden populations "
                         f"{unrecorded} do not record their spikes; build "
                         f"them with Population(..., record_spikes=True)")
    metrics, data = evaluate(compiled_net, x, y, callbacks=callbacks)
    spikes = {}
    for pop in pops:  # mlGeNN's order: inputs first, as built
        if pop.record_spikes:
            times, ids = data[("spikes", pop.name)]
            spikes[pop.name] = (np.asarray(times[0]), np.asarray(ids[0]))
        elif hasattr(inputs.get(pop), "end_spikes"):
            spikes[pop.name] = _data_spikes(inputs[pop], pop.shape[0])
    return {"spikes": spikes,
            "neurons": {p.name: int(np.prod(p.shape)) for p in pops},
            "v": {p.name: np.asarray(data[("v", p.name)][0])
                  for p in outputs},
            "label": {p.name: int(labels[q][0]) for p, q in zip(outputs, y)},
            "correct": {p.name: bool(metrics[q].result == 1.0)
                        for p, q in zip(outputs, y)},
            "dt": compiled_net.genn_model.dt}


def get_params(compiled_net, population):
    """Learned neuron parameters of a population (those given as
    :class:`ml_genn_delays.LearnableParam`).

    Parameters
    ----------
    compiled_net : CompiledTrainingNetwork
        From :class:`ml_genn_delays.EventPropCompiler`, inside its
        ``with`` block.
    population : Population
        E.g. a hidden ``AdaptiveLeakyIntegrateFire`` population.

    Returns
    -------
    dict
        ``{name: (n,) float32 array}`` by the neuron's Python names
        (e.g. ``tau_mem``, ``a``), as saved in ``-<name>.npy`` files.
    """
    require_loaded(compiled_net, "get_params")
    pop = get_underlying_pop(population)
    if pop not in compiled_net.neuron_populations:
        raise ValueError(f"Population {pop.name} is not in this compiled "
                         f"network")
    if not getattr(pop.neuron, "learnable_params", None):
        raise ValueError(f"Population {pop.name} learns no neuron "
                         f"parameters: give them as LearnableParam(...) "
                         f"of an AdaptiveLeakyIntegrateFire neuron")
    return param_state(compiled_net, pop, finite=False)


def spike_counts(compiled_net, population) -> np.ndarray:
    """Spikes each neuron of a population has fired since the compiled
    network was loaded (all examples: training, validation, evaluation),
    summed over the batch; read in one pull, without recording.

    Parameters
    ----------
    compiled_net : CompiledTrainingNetwork
        From :class:`ml_genn_delays.EventPropCompiler`, inside its
        ``with`` block.
    population : Population
        A spiking population whose spikes EventProp stores: an input, a
        hidden LIF or AdLIF population, or a LIF output
        (``first_spike_time``).

    Returns
    -------
    np.ndarray
        ``(n,)`` int64. Subtract two reads for the spikes between them
        (e.g. of one ``train`` call); a count wraps around after 2**32
        spikes of one neuron and batch slot.
    """
    require_loaded(compiled_net, "spike_counts")
    pop = get_underlying_pop(population)
    genn_pop = compiled_net.neuron_populations.get(pop)
    if genn_pop is None or SPIKE_COUNT_VAR not in genn_pop.vars:
        raise ValueError(f"Population {pop.name} has no spike count: only "
                         f"populations whose spikes EventProp stores for "
                         f"its backward pass (inputs, hidden LIF or AdLIF, "
                         f"LIF outputs) of a network compiled by "
                         f"ml_genn_delays.EventPropCompiler count them")
    var = genn_pop.vars[SPIKE_COUNT_VAR]
    var.pull_from_device()
    counts = np.reshape(var.values, (-1, genn_pop.num_neurons))
    return counts.astype(np.int64).sum(axis=0)


def _learnable(compiled_net, connection):
    """(conn, spec, [(kind, GeNN group holding its delays)])."""
    conn = get_underlying_conn(connection)
    require_loaded(compiled_net, "Reading or setting delays")
    specs = learnable_delays(compiled_net, conn)
    if conn not in specs:
        raise ValueError(f"Connection {conn.name} has no learnable delays "
                         f"in this compiled network")
    spec = specs[conn]
    holders = [(kind, kind.holder(conn, kind.delay_var(conn),
                                  compiled_net.neuron_populations,
                                  compiled_net.connection_populations))
               for kind, _ in spec.parts]
    for _, holder in holders:
        if not _is_dense(holder):
            # Sparse values are read and written through the host's copy
            # of the synapses, which GeNN fills on a GPU only when asked
            holder.pull_connectivity_from_device()
    return conn, spec, holders


def _is_dense(holder):
    """Per-neuron delays and Dense synapse groups have the kind's shape."""
    return not is_sparse(holder)


def _get(conn, kind, holder):
    values = np.array(kind.pull(holder, kind.delay_var(conn)))
    return (values.reshape(kind.shape(conn)) if _is_dense(holder)
            else values)


def get_delays(compiled_net, connection):
    """Current learnable delays of ``connection``.

    Parameters
    ----------
    compiled_net : CompiledTrainingNetwork
        Compiled by :class:`EventPropCompiler`, inside its ``with`` block.
    connection : Connection
        A connection with ``delay=Learnable(...)``.

    Returns
    -------
    np.ndarray or dict
        Delays in timesteps (float): Dense synaptic delays as
        ``(n_pre, n_post)``, sparse ones in GeNN's synapse order, axonal
        ones as ``(n_pre,)``, dendritic ones as ``(n_post,)``; mixed
        delays as a dict of these by kind name
        (``{"axonal": ..., "dendritic": ...}``).
    """
    conn, spec, holders = _learnable(compiled_net, connection)
    if len(holders) == 1:
        return _get(conn, *holders[0])
    return {kind.name: _get(conn, kind, holder) for kind, holder in holders}


def set_delays(compiled_net, connection, delays):
    """Set the learnable delays of ``connection`` and push them to the
    device.

    Parameters
    ----------
    compiled_net : CompiledTrainingNetwork
        Compiled by :class:`EventPropCompiler`, inside its ``with`` block.
    connection : Connection
        A connection with ``delay=Learnable(...)``.
    delays : number, array_like or dict
        In timesteps, within ``[0, max_delay_steps]``: one number for
        all, what :func:`get_delays` returns or the same values flat; for
        mixed delays a dict with some or all of the kinds (a single kind
        may also be given as ``{kind: values}``).

    Nothing is changed unless every value is valid.
    """
    conn, spec, holders = _learnable(compiled_net, connection)
    if len(holders) == 1:
        if not isinstance(delays, dict):
            delays = {holders[0][0].name: delays}
    elif isinstance(delays, Number) and not isinstance(delays, bool):
        delays = {kind.name: delays for kind, _ in holders}
    elif not isinstance(delays, dict):
        raise ValueError(f"Connection {conn.name} has {spec.kind.name} "
                         f"delays: pass a dict by kind name (or one "
                         f"number for all)")
    by_name = dict((kind.name, (kind, holder)) for kind, holder in holders)
    unknown = set(delays) - set(by_name)
    if unknown:
        raise ValueError(f"Connection {conn.name} has no {sorted(unknown)} "
                         f"delays; it has {sorted(by_name)}")
    checked = []
    for name, values in delays.items():
        kind, holder = by_name[name]
        current = np.asarray(kind.pull(holder, kind.delay_var(conn)))
        shape = kind.shape(conn) if _is_dense(holder) else current.shape
        try:
            # Strings ("3") would convert to numbers without a word
            if (isinstance(values, (str, bytes, dict))
                    or np.asarray(values).dtype.kind not in "iuf"):
                raise TypeError
            values = np.asarray(values, dtype=float)
            if values.ndim == 0:
                # One number for all, as Learnable(init=) takes it
                values = np.full(current.shape, float(values))
        except (TypeError, ValueError):
            raise ValueError(f"Connection {conn.name}: {name} delays must "
                             f"be numbers (an array of shape "
                             f"{tuple(shape)}), got {values!r:.60}") from None
        if values.shape not in (tuple(shape), current.shape):
            raise ValueError(f"Connection {conn.name}: {name} delays must "
                             f"have shape {tuple(shape)}, got "
                             f"{values.shape}")
        if not np.all(np.isfinite(values)):
            raise ValueError(f"Connection {conn.name}: {name} delays "
                             f"contain NaN/inf")
        if values.size and (values.min() < 0
                            or values.max() > spec.max_delay_steps):
            raise ValueError(f"Connection {conn.name}: {name} delays must "
                             f"lie in "
                             f"[0, {spec.max_delay_steps}] steps, got "
                             f"[{values.min()}, {values.max()}]")
        checked.append((kind, holder, values.reshape(current.shape)))
    for kind, holder, values in checked:
        kind.push(holder, kind.delay_var(conn), values)
