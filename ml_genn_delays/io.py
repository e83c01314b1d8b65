"""Saving and loading weights and delays as ``-g.npy`` / ``-d.npy`` files.

The layout is that of mlGeNN's Checkpoint callback with its Numpy
serialiser and of the deventprop release: per connection
``<checkpoint>-<connection name>-g.npy`` (weights, float32, Dense flat
row-major ``n_pre * n_post``) and, where it has learnable delays,
``<checkpoint>-<connection name>-d.npy`` (``-da.npy``: axonal,
``-dd.npy``: dendritic). Learned
neuron parameters go to ``<checkpoint>-<population name>-<parameter>.npy``
(:mod:`ml_genn_delays.io_params`). Directories written here also hold
``manifest.json``. Pure numpy: importable without GeNN.
"""
import json
import logging
import os
import warnings

import numpy as np

from .errors import ModelFileError, UncheckedModelWarning
from .io_files import (FORMAT, MANIFEST, _read,
                       _read_manifest, _scan, _versions, is_model_file,
                       remove_checkpoints)
from .io_journal import reading, save_all
from .io_match import (entries_of, match_connections, match_populations,
                       population_positions)
from .io_params import (CONNECTION_SUFFIXES, DELAY_FILE_KINDS,
                        apply_params, learned_populations, param_state,
                        read_params)
from .io_state import (COMPILED_NETWORKS, LOADED_DT, WEIGHT_SUFFIX,
                       _connections, drawn_not_saved, dt_mismatch,
                       _delay_size, _holder, _is_compiled, _learnable,
                       _network_order, _sizes, _sparse_group, _state,
                       _synapse_count, _synapses, check_same_fixed_delays,
                       listed_synapses,
                       check_same_synapses, fixed_delays, mlgenn_delays,
                       require_loaded)

logger = logging.getLogger(__name__)

__all__ = ["ModelFileError", "UncheckedModelWarning", "check_model_dt",
           "is_model_file", "load_model", "remove_checkpoints", "save_model"]


# -------------------------------------------------------------------- save
def _manifest_delay(spec, conn, checkpoint):
    entries = [{"kind": kind.name, "shape": list(kind.shape(conn)),
                "file": f"{checkpoint}-{conn.name}-{kind.file_suffix}.npy"}
               for kind, _ in spec.parts]
    # longest_delay_steps marks mixed models whose sums are not clamped
    entry = {"kind": spec.kind.name,
             "max_delay_steps": spec.max_delay_steps,
             "longest_delay_steps": spec.longest_delay_steps}
    if len(entries) == 1:
        return {**entry, "shape": entries[0]["shape"],
                "file": entries[0]["file"]}
    return {**entry, "parts": entries}


def save_model(target, directory, checkpoint):
    """Write the weights and delays of every connection (and the learned
    neuron parameters of every population that has them).

    Parameters
    ----------
    target : Network or CompiledTrainingNetwork
        A network (values given as arrays or constants; not with synapses
        drawn at build, FixedProbability) or a compiled network inside
        its ``with`` block (values pulled from the device). Both write
        per-synapse values in GeNN's order: Dense row-major, sparse
        synapses by pre, then post.
    directory : str or Path
        Created if missing.
    checkpoint : int or str
        Key before the first ``-`` of every file name, e.g. the epoch.
        Saved again, a checkpoint is replaced whole: its files of the
        earlier save that this one does not write (a connection since
        renamed) are removed with it.

    Returns
    -------
    list of str
        The files written (manifest last).
    """
    if _is_compiled(target):
        require_loaded(target, "save_model")
    elif target in COMPILED_NETWORKS:
        # Training changes the device copy, never the Network's arrays
        warnings.warn("save_model(network): this network has been "
                      "compiled, but its Network object holds the initial "
                      "values, not the trained ones; pass the compiled "
                      "network inside its `with` block to save those",
                      stacklevel=2)
    if checkpoint is None or isinstance(checkpoint, bool):
        raise ValueError(f"checkpoint must be given (e.g. the epoch), got "
                         f"{checkpoint!r}")
    drawn = drawn_not_saved(target)
    if drawn:
        warnings.warn(f"save_model: {', '.join(drawn)} are drawn by GeNN "
                      f"when the model is built and are not saved: a "
                      f"reload draws other values, even with the same "
                      f"rng_seed. Give them as arrays (e.g. drawn with "
                      f"numpy) to keep them.", stacklevel=2)
    checkpoint = str(checkpoint)
    if (not checkpoint or "-" in checkpoint or "/" in checkpoint
            or os.sep in checkpoint):
        raise ValueError(f"checkpoint must be non-empty without '-' or a "
                         f"path separator, got {checkpoint!r}")
    if os.path.exists(directory) and not os.path.isdir(directory):
        raise NotADirectoryError(f"Cannot save into {directory}: it is a "
                                 f"file, not a folder")
    conns = _connections(target)
    names = [c.name for c in conns]
    shared = sorted({n for n in names if names.count(n) > 1})
    if shared:
        # mlGeNN names connections Conn_<source>_<target>: two between
        # one pair of populations would write one set of files
        raise ValueError(f"Connections share the names {shared} (mlGeNN's "
                         f"default for two connections between the same "
                         f"populations), so their files would overwrite "
                         f"each other; give each its own name= ; nothing "
                         f"was saved")
    # Gather and check everything before writing anything
    entries, arrays = [], {}
    positions = population_positions(target)
    for index, conn in enumerate(conns):
        spec = _learnable(target, conn)
        state = _state(target, conn)
        fixed = None if spec is not None else fixed_delays(conn)
        for suffix, values in state.items():
            if not np.all(np.isfinite(values)):
                raise ValueError(f"Connection {conn.name}: {suffix} values "
                                 f"contain NaN or inf; nothing was saved")
            arrays[f"{checkpoint}-{conn.name}-{suffix}.npy"] = values
        entries.append({
            "index": index, "name": conn.name,
            "source": conn.source().name, "target": conn.target().name,
            "source_index": positions[conn.source()],
            "target_index": positions[conn.target()],
            "shape": list(_sizes(conn)),
            "weight_file": f"{checkpoint}-{conn.name}-{WEIGHT_SUFFIX}.npy",
            "delay": (_manifest_delay(spec, conn, checkpoint)
                      if spec is not None else None if fixed is None else
                      {"kind": "fixed", "max_delay_steps": fixed}),
            "synapses": _synapses(target, conn, pulled=True)})
    populations = []
    for index, pop in enumerate(learned_populations(target)):
        files = {}
        for name, values in param_state(target, pop).items():
            files[name] = f"{checkpoint}-{pop.name}-{name}.npy"
            arrays[files[name]] = values
        populations.append({"index": index, "name": pop.name,
                            "size": int(np.prod(pop.shape)),
                            "params": files})
    manifest = {"format": FORMAT, "checkpoint": checkpoint,
                "fixed_delays_recorded": True,
                "dt": (float(target.genn_model.dt) if _is_compiled(target)
                       else LOADED_DT.get(target, (None,))[0]),
                "connections": entries, "populations": populations,
                "versions": _versions()}
    os.makedirs(directory, exist_ok=True)
    items = [(os.path.join(directory, name),
              lambda f, v=values: np.save(f, v))
             for name, values in arrays.items()]
    items.append((os.path.join(directory, MANIFEST), lambda f: f.write(
        json.dumps(manifest, indent=1).encode())))
    # The checkpoint's files of an earlier save (e.g. of a connection
    # since renamed) go with this one: they would not load beside it
    removed = save_all(items, remove=lambda name: is_model_file(name)
                       and name.split("-", 1)[0] == checkpoint
                       and os.path.isfile(os.path.join(directory, name)))
    if removed:
        logger.info(f"removed {', '.join(removed)} from {directory}: files "
                    f"of checkpoint {checkpoint} this save does not write")
    return [path for path, _ in items]


# -------------------------------------------------------------------- load
def check_model_dt(directory, dt):
    """Refuse a model directory whose manifest records another dt than
    ``dt`` [ms] (ModelFileError), before anything is compiled for it."""
    path = os.path.join(str(directory), MANIFEST)
    if os.path.exists(path):
        error = dt_mismatch(str(directory), _read_manifest(path).get("dt"),
                            float(dt))
        if error is not None:
            raise error


def _name_saved_max(error, conn, spec, entry):
    """Delays above the connection's max_delay_steps: say the max they
    were saved with, if another (e.g. a mixed run of a named architecture
    begun while each part had the whole max, not half of it)."""
    saved = ((entry or {}).get("delay") or {}).get("max_delay_steps")
    # Only where that max would take them: not for negative delays, nor
    # for delays beyond the saved max too (saved below the connection's)
    low, high = getattr(error, "file_range", (-1.0, None))
    if (isinstance(saved, (int, float)) and not isinstance(saved, bool)
            and saved > spec.max_delay_steps and low >= 0.0
            and high <= saved):
        error.args = (f"{error.args[0]}. They were saved with "
                      f"max_delay_steps={saved}, connection {conn.name} "
                      f"has {spec.max_delay_steps}: give it "
                      f"max_delay_steps={saved} to load them",)


def _warn_clamped_sums(conn, entry, delays, directory):
    """A mixed model saved before sums of parts went unclamped (its
    manifest entry has no longest_delay_steps) trained with every sum
    above max_delay_steps cut to it; loaded now, those synapses arrive
    later than in training."""
    saved = entry.get("delay") or {}
    if ("parts" not in saved or "longest_delay_steps" in saved
            or not isinstance(saved.get("max_delay_steps"), (int, float))):
        return
    high = saved.get("max_delay_steps")
    # The synapses where the network lists them, else every pair
    listed = (listed_synapses(conn) if hasattr(conn, "connectivity")
              else None)
    by_side = [np.asarray(v, dtype=np.float64) for _, v in delays]
    total = (by_side[0][listed[0]] + by_side[1][listed[1]]
             if listed is not None and len(by_side) == 2
             else np.add.outer(*by_side).ravel())
    # Rounded as the weight update rounds, halves up (learnable.whole_steps;
    # not imported: io imports without GeNN)
    above = int(np.count_nonzero(np.floor(total + 0.5) > high))
    if above:
        warnings.warn(
            f"Connection {conn.name}: {directory} was saved before "
            f"manifests said whether {saved['kind']} delay sums were cut "
            f"to max_delay_steps={high} (ml_genn_delays before 2026-11-29 "
            f"cut them); {above} of {total.size} synapses sum above it "
            f"and, if they were cut, now arrive later than in training. "
            f"Re-evaluate the model (or train it on) before trusting its "
            f"accuracy.", stacklevel=4)


def load_model(target, directory, checkpoint=None):
    """Set weights, delays (``-g.npy``, ``-d``/``-da``/``-dd.npy``) and
    learned neuron parameters from a model directory.

    Parameters
    ----------
    target : Network or CompiledTrainingNetwork
        Before compiling (values become the connections' initial values,
        in the order each connection lists its synapses; FixedProbability
        draws its synapses at build, so it loads only compiled) or
        compiled, inside its ``with`` block (values are pushed to the
        device). Files hold per-synapse values in GeNN's order.
    directory : str or Path
        Written by :func:`save_model`, mlGeNN's Checkpoint callback or
        the deventprop release (one checkpoint per directory).
    checkpoint : int or str, optional
        Which checkpoint. By default the only one or, of several, the one
        ``manifest.json`` describes (saved last); without a manifest,
        needed when the directory holds several.

    Returns
    -------
    dict
        Connection (or population) name -> list of files loaded into it.

    Nothing is changed unless every file is present and valid.
    """
    if _is_compiled(target):
        require_loaded(target, "load_model into a compiled network")
    directory = str(directory)
    # Every file as one save wrote them (another process may be saving)
    with reading(directory):
        return _load_model(target, directory, checkpoint)


def _load_model(target, directory, checkpoint):
    manifest_path = os.path.join(directory, MANIFEST)
    manifest = (_read_manifest(manifest_path)
                if os.path.isfile(manifest_path) else {})
    checkpoint, files = _scan(directory, checkpoint,
                              latest=manifest.get("checkpoint"))
    saved_dt, saved_entries, recorded_fixed = None, {}, False
    if manifest:
        recorded_fixed = manifest.get("fixed_delays_recorded") is True
        # One run writes a directory: its dt, connections and populations
        # hold for every checkpoint (the manifest is the latest's)
        saved_dt = manifest.get("dt")
        saved_entries = {e["name"]: e
                         for e in manifest.get("connections", [])}
    else:
        # mlGeNN's Checkpoint callback and the released models write none
        warnings.warn(f"{directory} has no {MANIFEST} (save_model writes "
                      f"one), so the model's dt, delay kinds and synapses "
                      f"cannot be checked against the network's, and "
                      f"connections not named as saved are paired by "
                      f"their file names' order (population order for "
                      f"mlGeNN's Conn_Pop<i>_Pop<j>): load it only into "
                      f"the network it was trained with",
                      UncheckedModelWarning, stacklevel=3)
    if _is_compiled(target):
        error = dt_mismatch(directory, saved_dt, float(target.genn_model.dt))
        if error is not None:
            raise error
    # Connection files end in -g/-d/-da; others hold neuron parameters
    param_files = {stem: sfx for stem, sfx in files.items()
                   if not set(sfx) & set(CONNECTION_SUFFIXES)}
    files = {stem: sfx for stem, sfx in files.items()
             if stem not in param_files}
    pairs = match_connections(
        target, files, entries_of(manifest, "connections", files))

    loaded, report = [], {}
    for conn, stem in pairs.items():
        spec = _learnable(target, conn)
        sparse = _sparse_group(target, conn) if _is_compiled(target) else None
        if sparse is not None:
            # Its values (and the synapse check) go through the host's
            # copy of its synapses, which GeNN fills on a GPU only when
            # asked: pulled once here
            sparse.pull_connectivity_from_device()
        if stem in saved_entries:
            check_same_synapses(target, conn, saved_entries[stem], directory,
                                pulled=True)
            check_same_fixed_delays(conn, spec, saved_entries[stem],
                                    recorded_fixed, directory)
        size = (target.connection_populations[conn].vars["g"].values.size
                if _is_compiled(target) else _synapse_count(conn))
        suffixes = files.get(stem, {})
        saved_kinds = [DELAY_FILE_KINDS[s] for s in sorted(suffixes)
                       if s in DELAY_FILE_KINDS]
        # The kinds of the model's learned delays: its files' and its
        # manifest's (a lost delay file is not a model without them)
        recorded = (saved_entries.get(stem, {}).get("delay") or {}).get(
            "kind", "fixed")
        model_kinds = sorted(set(saved_kinds) | (
            set() if recorded == "fixed" else set(recorded.split("+"))))
        if spec is None and model_kinds == ["synaptic"]:
            spec = mlgenn_delays(target, conn)
        parts = [] if spec is None else [k for k, _ in spec.parts]
        expected = [WEIGHT_SUFFIX] + [k.file_suffix for k in parts]
        if "synaptic" in saved_kinds and len(saved_kinds) > 1:
            raise ModelFileError(
                f"{directory} holds delay files of several kinds for "
                f"connection {conn.name} ({sorted(suffixes.values())}), "
                f"which no connection has together (synaptic delays "
                f"combine with no other kind); remove the stray ones")
        if model_kinds and model_kinds != sorted(k.name for k in parts):
            has = ("no learnable delays" if spec is None else
                   f"learnable {spec.kind.name} delays")
            kinds = "+".join(model_kinds)
            mlgenn = (" (or, for mlGeNN's own Dense(w, d) delays, "
                      "max_delay_steps=)" if spec is None
                      and kinds == "synaptic"
                      and hasattr(conn.connectivity, "delay") else "")
            raise ModelFileError(
                f"Connection {conn.name} has {has}, but the model in "
                f"{directory} has {kinds} delays for it "
                f"({sorted(suffixes.values())}); give it "
                f"delay=Learnable(..., kind=\"{kinds}\"){mlgenn} as the "
                f"model was trained, or remove those files")
        for suffix in expected:
            if suffix not in suffixes:
                name = f"{checkpoint}-{stem}-{suffix}.npy"
                raise ModelFileError(
                    f"Missing {name} for connection {conn.name} in "
                    f"{directory}; it holds "
                    f"{sorted(n for s in files.values() for n in s.values())}")
        extra = sorted(suffixes[s] for s in set(suffixes) - set(expected))
        if extra:
            raise ModelFileError(
                f"{directory} holds {extra} for connection {conn.name}, "
                f"files a connection does not have; remove them")
        owner = f"connection {conn.name}"
        dense = (tuple(_sizes(conn)) if size == np.prod(_sizes(conn))
                 else None)
        weights = _read(directory, suffixes[WEIGHT_SUFFIX], owner,
                        "weights", size, shape=dense)
        try:
            delays = [(kind, _read(directory, suffixes[kind.file_suffix],
                                   owner, f"{kind.name} delays (steps)",
                                   _delay_size(target, conn, kind), 0.0,
                                   spec.max_delay_steps,
                                   dense if kind.name == "synaptic"
                                   else None))
                      for kind in parts]
        except ModelFileError as error:
            _name_saved_max(error, conn, spec, saved_entries.get(stem))
            raise
        if stem in saved_entries:
            _warn_clamped_sums(conn, saved_entries[stem], delays, directory)
        loaded.append((conn, spec, weights, delays))
        report[conn.name] = [suffixes[s] for s in expected]
    unmatched = set(files) - set(pairs.values())
    if unmatched:
        raise ModelFileError(f"Files for {sorted(unmatched)} match no "
                             f"connection of the network")

    params = [
        (pop, stem, read_params(
            pop, directory, param_files.get(stem, {}), stem,
            lambda name, what, size, low, high, pop=pop: _read(
                directory, name, f"population {pop.name}", what, size, low,
                high)))
        for pop, stem in match_populations(
            target, param_files,
            entries_of(manifest, "populations", param_files),
            directory).items()]

    # Everything checked: apply
    for pop, stem, values in params:
        apply_params(target, pop, values)
        report[pop.name] = [param_files[stem][n] for n in values]
    for conn, spec, weights, delays in loaded:
        if _is_compiled(target):
            genn_pop = target.connection_populations[conn]
            genn_pop.vars["g"].values = weights
            genn_pop.vars["g"].push_to_device()
            for kind, values in delays:
                kind.push(_holder(target, conn, kind), kind.delay_var(conn),
                          values)
        else:
            # Files hold GeNN's synapse order; the network its own
            conn.connectivity.weight = _network_order(conn, weights)
            for kind, values in delays:
                if kind.name == "synaptic":
                    conn.connectivity.delay = _network_order(conn, values)
                else:
                    spec.with_part_init(kind, values)
    if not _is_compiled(target):
        # The dt is checked when the network is compiled
        if saved_dt is None:
            LOADED_DT.pop(target, None)
        else:
            LOADED_DT[target] = (saved_dt, directory)
    for name, names in report.items():
        logger.info(f"loaded {', '.join(names)} into {name}")
    return report


