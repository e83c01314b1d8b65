"""Delay kinds: where a learnable delay lives (one module per kind)."""
from .axonal import AxonalDelay
from .base import DelayKind
from .dendritic import DendriticDelay
from .synaptic import SynapticDelay

KINDS = {k.name: k for k in (SynapticDelay(), AxonalDelay(),
                             DendriticDelay())}


def get_kind(kind) -> DelayKind:
    """Look up a delay kind by name (or pass a DelayKind through)."""
    if isinstance(kind, DelayKind):
        return kind
    try:
        return KINDS[kind]
    except (KeyError, TypeError):
        raise ValueError(f"Unknown delay kind {kind!r}; choose one of "
                         f"{sorted(KINDS)}") from None
