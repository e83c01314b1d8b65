"""Delay kinds: where a learnable delay lives (one module per kind)."""
from .axonal import AxonalDelay
from .base import DelayKind
from .dendritic import DendriticDelay
from .mixed import MixedDelay
from .synaptic import SynapticDelay

KINDS = {k.name: k for k in (SynapticDelay(), AxonalDelay(),
                             DendriticDelay())}


#: Kinds that may be combined on one connection (delays add up)
MIXABLE = ("axonal", "dendritic")


def given_names(kind):
    """``"axonal+dendritic"`` (as the CLI's --delay-kind) as the tuple
    of its names, in the order given; anything else unchanged."""
    if isinstance(kind, str) and "+" in kind:
        return tuple(kind.split("+"))
    return kind


def get_kind(kind) -> DelayKind:
    """Look up a delay kind by name (or pass a DelayKind through); a tuple
    of names, e.g. ``("axonal", "dendritic")``, or the names joined by
    ``+`` give their sum."""
    if isinstance(kind, DelayKind):
        return kind
    kind = given_names(kind)
    if isinstance(kind, (tuple, list)):
        names = list(kind)
        if (len(names) < 2 or len(set(names)) != len(names)
                or not set(names) <= set(MIXABLE)):
            raise ValueError(f"Mixed delay kinds must be distinct names "
                             f"from {MIXABLE}, e.g. ('axonal', "
                             f"'dendritic'); got {kind!r}")
        return MixedDelay([KINDS[n] for n in sorted(names)])
    try:
        return KINDS[kind]
    except (KeyError, TypeError):
        raise ValueError(f"Unknown delay kind {kind!r}; choose one of "
                         f"{sorted(KINDS)} or both per-neuron ones, "
                         f"'{'+'.join(MIXABLE)}' (or the tuple "
                         f"{MIXABLE})") from None
