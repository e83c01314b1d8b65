"""What a network or a compiled network holds, as model files need it:
its connections, their weights and delays (per kind), and the synapses a
sparse connection drew. Part of :mod:`ml_genn_delays.io`; pure numpy,
mlGeNN and GeNN are imported only where a network or a compiled network
is read."""
import hashlib
import weakref
from numbers import Number

import numpy as np

from .backends import is_sparse
from .errors import ModelFileError

#: File suffix of a connection's weights
WEIGHT_SUFFIX = "g"

#: Networks our compiler has compiled (weakly held): saving one of them
#: rather than its compiled network is almost always a mistake
COMPILED_NETWORKS = weakref.WeakSet()


#: dt [ms] of the model last loaded into each (uncompiled) network, with
#: its directory: the compilers refuse to build it at another dt
LOADED_DT = weakref.WeakKeyDictionary()


def dt_mismatch(what, saved_dt, dt):
    """The ModelFileError for ``what`` (a model) trained at ``saved_dt``
    run at ``dt``, or None when they agree (or nothing was recorded)."""
    if saved_dt is None or np.isclose(saved_dt, dt, rtol=1e-6, atol=0.0):
        return None
    # Delays are in timesteps: at another dt they mean other times
    return ModelFileError(
        f"{what} was trained at dt = {saved_dt} ms but this network runs "
        f"at dt = {dt} ms; its delays are timesteps of {saved_dt} ms. "
        f"Compile with dt={saved_dt}, the dt it was trained with.")


def check_loaded_dt(network, dt):
    """At compile time: refuse a dt other than that of the model
    :func:`ml_genn_delays.load_model` put into ``network``."""
    saved_dt, directory = LOADED_DT.get(network, (None, None))
    error = dt_mismatch(f"The model loaded into this network ({directory})",
                        saved_dt, float(dt))
    if error is not None:
        raise error


def _is_compiled(target):
    return hasattr(target, "connection_populations")


def require_loaded(compiled_net, what: str):
    """A compiled network's values live on the device only inside its
    ``with`` block; outside it GeNN fails with a bare AttributeError."""
    if not hasattr(compiled_net, "genn_model"):
        raise TypeError(f"{what} takes a compiled network (what "
                        f"compiler.compile(network) returns), inside its "
                        f"`with` block, not a {type(compiled_net).__name__}")
    # pygenn's GeNNModel has no public "loaded" flag
    if not getattr(compiled_net.genn_model, "_loaded", True):
        raise RuntimeError(f"{what} needs the compiled network loaded: call "
                           f"it inside `with compiled_net:`")


def _connections(target):
    """Connections in network order."""
    return (list(target.connection_populations) if _is_compiled(target)
            else list(target.connections))


def _learnable(target, conn):
    """The Learnable spec of ``conn`` (or None)."""
    if _is_compiled(target):
        return learnable_delays(target, conn).get(conn)
    spec = getattr(conn, "delay_spec", None)
    return spec if hasattr(spec, "kind") else None


def mlgenn_delays(target, conn):
    """mlGeNN's own per-synapse delays of a network's ``conn``
    (``Dense(w, d)`` with ``max_delay_steps``) as a Learnable, or None.
    Learned through ``delay_learn_conns``, a compiled network files them
    as synaptic delays (``-d.npy``), which load into the network's
    ``Dense`` as mlGeNN's own ``Network.load`` loads them."""
    if (_is_compiled(target) or getattr(conn, "delay_spec", None) is not None
            or getattr(conn, "max_delay_steps", None) is None
            or not hasattr(conn.connectivity, "delay")):
        return None
    from .learnable import Learnable    # (needs mlGeNN; io does not)
    return Learnable(conn.connectivity.delay, conn.max_delay_steps)


def learnable_delays(compiled_net, conn=None):
    """``{connection: Learnable}`` of a network compiled by our
    EventPropCompiler. Another compiler (mlGeNN's own, or an inference
    compiler) compiles ``delay=Learnable(...)`` as fixed delays or not at
    all; asked about a ``conn`` with such a delay, say so rather than lose
    its delays without a word."""
    specs = getattr(compiled_net, "learnable_delays", None)
    if (specs is None and hasattr(getattr(conn, "delay_spec", None), "kind")
            and listed_synapses(conn) is None):
        raise ValueError(
            f"Connection {conn.name} has delay=Learnable(...) on "
            f"{type(conn.connectivity).__name__} connectivity, which draws "
            f"its synapses when the model is built, so a trained model "
            f"loads only into a network compiled by "
            f"ml_genn_delays.EventPropCompiler (with the rng_seed it was "
            f"trained with), not into this one: evaluate it with "
            f"ml_genn_delays.evaluate there.")
    if specs is None and hasattr(getattr(conn, "delay_spec", None), "kind"):
        raise ValueError(
            f"Connection {conn.name} has delay=Learnable(...), but this "
            f"compiled network holds no learnable delays: a compiler other "
            f"than ml_genn_delays.EventPropCompiler built it (mlGeNN's "
            f"compilers apply synaptic ones as fixed delays and do not "
            f"learn them; an inference compiler fixes them). Train with "
            f"ml_genn_delays.EventPropCompiler; save, load and read delays "
            f"through that compiled network, or load_model into the "
            f"Network before compiling it for inference.")
    return specs or {}


def drawn_not_saved(target):
    """What GeNN draws when the model is built and model files do not
    hold: fixed delays and fixed AdLIF parameters given as initializers.
    A reload draws them anew, other values even with the same rng_seed
    (the loaded arrays shift GeNN's random stream)."""
    # Only reached with a network, so mlGeNN is there
    from ml_genn.initializers import Initializer
    found = [f"the fixed delays of connection {conn.name}"
             for conn in _connections(target)
             if (spec := getattr(conn, "delay_spec", None)) is not None
             and not hasattr(spec, "kind")
             and isinstance(spec.init, Initializer)]
    populations = (target.neuron_populations if _is_compiled(target)
                   else target.populations)
    for pop in populations:
        learned = getattr(pop.neuron, "learnable_params", None)
        if learned is None:
            continue    # not an AdaptiveLeakyIntegrateFire
        found += [f"{name} of population {pop.name}"
                  for name in ("tau_mem", "tau_adapt", "a", "b")
                  if name not in learned
                  and isinstance(getattr(pop.neuron, name), Initializer)]
    return found


def _sizes(conn):
    return (int(np.prod(conn.source().shape)),
            int(np.prod(conn.target().shape)))


def _holder(target, conn, kind):
    """The GeNN group holding ``conn``'s weights (kind None) or the
    delays of ``kind`` (one part of its spec)."""
    if kind is None:
        return target.connection_populations[conn]
    return kind.holder(conn, kind.delay_var(conn),
                       target.neuron_populations,
                       target.connection_populations)


def _sparse_group(target, conn):
    """A compiled connection's GeNN group if its synapses are sparse
    (its variables are then read through its pulled synapses), else None."""
    genn_pop = target.connection_populations[conn]
    return genn_pop if is_sparse(genn_pop) else None


def _genn_values(target, conn, var, kind=None):
    """Values of a compiled connection's variable (a sparse one's
    synapses pulled first, by the caller)."""
    holder = _holder(target, conn, kind)
    if kind is not None:
        return np.array(kind.pull(holder, var), dtype=np.float32).ravel()
    genn_var = holder.vars[var]
    genn_var.pull_from_device()
    return np.array(genn_var.values, dtype=np.float32).ravel()


def listed_synapses(conn):
    """``(pre, post)`` indices of each synapse of an uncompiled connection,
    in the order the connection takes per-synapse values: Dense every pair
    (row-major), OneToOne, or listed by hand (``pre_ind``/``post_ind``,
    checked here). None where the network alone does not say which
    synapses there are (drawn at build, e.g. FixedProbability; kernels,
    e.g. Conv2D)."""
    connectivity = conn.connectivity
    n_pre, n_post = _sizes(conn)
    pre = getattr(connectivity, "pre_ind", None)
    if pre is not None:
        pre = np.ravel(np.asarray(pre, dtype=np.int64))
        post = getattr(connectivity, "post_ind", None)
        post = None if post is None else np.ravel(
            np.asarray(post, dtype=np.int64))
        if post is None or len(post) != len(pre):
            raise ValueError(f"Connection {conn.name}: list one post_ind "
                             f"per pre_ind ({len(pre)} pre_ind, "
                             f"{'no' if post is None else len(post)} "
                             f"post_ind)")
        if len(pre) and (min(pre.min(), post.min()) < 0
                         or pre.max() >= n_pre or post.max() >= n_post):
            raise ValueError(f"Connection {conn.name}: pre_ind must lie in "
                             f"[0, {n_pre}) and post_ind in [0, {n_post})")
        return pre, post
    # Only reached with a network, so mlGeNN is there
    from ml_genn.connectivity import Dense, OneToOne
    if isinstance(connectivity, OneToOne):
        index = np.arange(n_pre, dtype=np.int64)
        return index, index
    if isinstance(connectivity, Dense):
        return np.divmod(np.arange(n_pre * n_post, dtype=np.int64), n_post)
    return None


def _given_synapses(conn):
    """``(pre, post, order)`` of an uncompiled connection's synapses in
    GeNN's order (``order`` takes the connection's own order to GeNN's, by
    pre then post, as pygenn's set_sparse_connections stores them). None
    for Dense (every pair, row-major either way); a ValueError where the
    network alone does not say which synapses there are."""
    # Only reached with a network, so mlGeNN is there
    from ml_genn.connectivity import Dense, FixedProbability
    connectivity = conn.connectivity
    if isinstance(connectivity, Dense):
        return None
    listed = listed_synapses(conn)
    if listed is None:
        why = ("draws its synapses when the model is built"
               if isinstance(connectivity, FixedProbability) else
               "has no value per pair of neurons")
        raise ValueError(
            f"Connection {conn.name}: {type(connectivity).__name__} {why}, "
            f"so the network alone does not say which values go where; "
            f"save or load the compiled network (inside its `with` block)")
    pre, post = listed
    order = np.lexsort((post, pre))
    return pre[order], post[order], order


def _synapse_count(conn):
    """Synapses of an uncompiled connection (see _given_synapses)."""
    given = _given_synapses(conn)
    return int(np.prod(_sizes(conn))) if given is None else len(given[0])


def _fingerprint(pre, post):
    indices = [np.asarray(i, dtype=np.int64) for i in (pre, post)]
    return hashlib.sha1(b"".join(i.tobytes() for i in indices)).hexdigest()


def _synapses(target, conn, pulled=False):
    """Fingerprint of a sparse connection's synapses (pre and post indices
    in GeNN's order), or None (Dense). ``pulled``: a compiled network's
    synapses were just pulled (by _state), so are not pulled again."""
    if not _is_compiled(target):
        given = _given_synapses(conn)
        return None if given is None else _fingerprint(*given[:2])
    genn_pop = _sparse_group(target, conn)
    if genn_pop is None:
        return None
    if not pulled:
        genn_pop.pull_connectivity_from_device()
    return _fingerprint(genn_pop.get_sparse_pre_inds(),
                        genn_pop.get_sparse_post_inds())


def check_same_synapses(target, conn, entry, directory, pulled=False):
    """Refuse a model whose manifest ``entry`` describes other synapses
    than ``conn`` has (another shape; Dense against sparse; another draw
    or listing): its values would land on other synapses. ``pulled``: a
    compiled network's synapses were just pulled."""
    shape, here = entry.get("shape"), list(_sizes(conn))
    if shape is not None and list(shape) != here:
        raise ModelFileError(
            f"Connection {conn.name}: {directory} holds a {shape[0]} x "
            f"{shape[1]} connection ({entry.get('source')} -> "
            f"{entry.get('target')}); this one is {here[0]} x {here[1]}")
    if "synapses" not in entry:
        return      # written before manifests recorded synapses
    recorded, current = entry["synapses"], _synapses(target, conn, pulled)
    if recorded == current:
        return
    kind = type(conn.connectivity).__name__
    if recorded is None:
        why = f"it was saved from Dense synapses (every pair), this is {kind}"
    elif current is None:
        why = "it was saved from sparse synapses, this connection is Dense"
    elif getattr(conn.connectivity, "pre_ind", None) is not None:
        why = ("this connection lists its synapses by hand (pre_ind/"
               "post_ind): list the ones the model was trained with")
    else:
        why = (f"{kind} is drawn when the model is built: compile with the "
               f"rng_seed it was trained with (a non-zero one; 0 draws "
               f"anew every time)")
    raise ModelFileError(f"Connection {conn.name}: {directory} was saved "
                         f"from other synapses than this one has; {why}")


def fixed_delays(conn):
    """``max_delay_steps`` (or True where unknown) of ``conn``'s fixed,
    non-zero delays (``delay=Fixed(...)``, a number or array, or mlGeNN's
    ``Dense(w, d)``); None where it has none. Model files do not hold
    them, the manifest records that they were there."""
    spec = getattr(conn, "delay_spec", None)
    if hasattr(spec, "kind"):
        return None     # learnable
    delay = (spec.init if spec is not None
             else getattr(conn.connectivity, "delay", None))
    if delay is None or (isinstance(delay, (Number, np.ndarray))
                         and not np.any(delay)):
        return None
    return (spec.max_delay_steps if spec is not None
            else conn.max_delay_steps or True)


def check_same_fixed_delays(conn, spec, entry, recorded, directory):
    """Refuse a model trained with fixed delays into a connection without
    them, or the reverse where the manifest ``recorded`` fixed delays
    (saved by a version that did): its weights suit the delays they were
    trained with. The fixed values themselves are not in the files.
    ``spec``: the connection's learnable delays, if any (their files are
    checked elsewhere)."""
    if spec is not None:
        return
    delay = entry.get("delay")
    saved = isinstance(delay, dict) and delay.get("kind") == "fixed"
    here = fixed_delays(conn) is not None
    if saved and not here:
        raise ModelFileError(
            f"Connection {conn.name}: {directory} was trained with fixed "
            f"delays (max {entry['delay'].get('max_delay_steps')} steps), "
            f"which model files do not hold; give this connection the same "
            f"delay=Fixed(...)")
    if here and recorded and delay is None:
        raise ModelFileError(
            f"Connection {conn.name} has fixed delays, but {directory} was "
            f"trained without delays there; remove the delay or load a "
            f"model trained with it")


def _delay_size(target, conn, kind):
    """How many delay values ``conn`` has (its kind's shape; for synaptic
    delays, the number of synapses)."""
    if kind.name != "synaptic":
        return int(np.prod(kind.shape(conn)))
    if _is_compiled(target):
        return target.connection_populations[conn].vars["g"].values.size
    return _synapse_count(conn)


def _network_values(conn, value, what, kind=None):
    """Values given to an uncompiled connection: per synapse (weights,
    synaptic delays; in GeNN's synapse order, the order a compiled
    network's files have) or per neuron (axonal, dendritic ``kind``)."""
    per_synapse = kind is None or kind.name == "synaptic"
    if not isinstance(value, (Number, np.ndarray, list, tuple)):
        raise ValueError(f"Connection {conn.name}: the {what} is an "
                         f"initializer, not values; save the compiled "
                         f"network")
    given = _given_synapses(conn) if per_synapse else None
    size = (int(np.prod(kind.shape(conn))) if not per_synapse
            else int(np.prod(_sizes(conn))) if given is None
            else len(given[0]))
    if isinstance(value, Number):
        return np.full(size, value, dtype=np.float32)
    values = np.asarray(value, dtype=np.float32).ravel()
    if values.size != size:
        # GeNN would cut a longer array short without a word
        raise ValueError(f"Connection {conn.name}: {values.size} "
                         f"{what} values given for {size} "
                         f"{'synapses' if per_synapse else 'neurons'}")
    return values if given is None else values[given[2]]


def _network_order(conn, values):
    """Inverse of _network_values' reordering: file (GeNN) order to the
    order the connection lists its synapses in."""
    given = _given_synapses(conn)
    if given is None:
        return values
    listed = np.empty_like(values)
    listed[given[2]] = values
    return listed


def _network_delays(conn, kind, init):
    """Initial delays of one part of an uncompiled connection's spec
    (per-synapse delays sit in the connectivity)."""
    return conn.connectivity.delay if kind.name == "synaptic" else init


def _state(target, conn):
    """{suffix: float32 array} of the connection's weights and delays."""
    spec = _learnable(target, conn)
    parts = [] if spec is None else spec.parts
    if _is_compiled(target):
        sparse = _sparse_group(target, conn)
        if sparse is not None:
            sparse.pull_connectivity_from_device()   # once for every var
        state = {WEIGHT_SUFFIX: _genn_values(target, conn, "g")}
        for kind, _ in parts:
            state[kind.file_suffix] = _genn_values(
                target, conn, kind.delay_var(conn), kind)
    else:
        state = {WEIGHT_SUFFIX: _network_values(
            conn, conn.connectivity.weight, "weight")}
        for kind, init in parts:
            state[kind.file_suffix] = _network_values(
                conn, _network_delays(conn, kind, init), "delay", kind)
    return state
