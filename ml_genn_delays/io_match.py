"""Pairing a network's connections and learned populations with the
files of a model folder (pure numpy, like io).

By name where every name is there; otherwise names the user gave pair
first and the rest by the positions of their source and target
populations, which the manifest records (older manifests and folders
without one give them through mlGeNN's ``Pop<n>`` numbering).
"""
import re
from typing import NamedTuple, Optional

from .errors import ModelFileError
from .io_files import _natural_key
from .io_params import learned_populations
from .io_state import _connections, _is_compiled


def population_positions(target):
    """``{population: its position in the network}`` (creation order)."""
    pops = (list(target.neuron_populations) if _is_compiled(target)
            else list(target.populations))
    return {p: i for i, p in enumerate(pops)}


#: mlGeNN's default connection name between default-named populations:
#: numbered by a process-wide counter, so equal names in two processes
#: need not be the same connection
_COUNTED_NAME = re.compile(r"Conn_Pop(\d+)_Pop(\d+)")


class _Saved(NamedTuple):
    """A saved connection: its file stem, the (source, target) positions
    of its populations (None where nothing says), whether the manifest
    recorded them (else a sort key only) and its place in the saved
    order."""
    stem: str
    positions: Optional[tuple]
    recorded: bool
    order: int


def _from_entry(entry):
    """A manifest entry's connection: positions recorded since 2026-11-29,
    else numbered by mlGeNN's default population names ``Pop<n>``."""
    if "source_index" in entry:
        return _Saved(entry["name"],
                      (entry["source_index"], entry["target_index"]), True,
                      entry["index"])
    numbers = [re.fullmatch(r"Pop(\d+)", str(entry.get(end)))
               for end in ("source", "target")]
    return _Saved(entry["name"],
                  None if None in numbers else
                  tuple(int(n.group(1)) for n in numbers), False,
                  entry["index"])


def _saved_connections(files, entries):
    """The saved connections: from the manifest's entries, else from the
    file names (mlGeNN's ``Conn_Pop<i>_Pop<j>`` numbers its
    populations)."""
    if entries is not None:
        return [_from_entry(e) for e in entries]
    saved = []
    for order, stem in enumerate(sorted(files, key=_natural_key)):
        counted = _COUNTED_NAME.fullmatch(stem)
        positions = counted and tuple(map(int, counted.groups()))
        saved.append(_Saved(stem, positions, False, order))
    return saved


def entries_of(manifest, what, files):
    """The manifest's entries of ``what`` ("connections" or "populations")
    when the checkpoint has files of each (files of no entry are refused
    later, by name), else None."""
    entries = manifest.get(what)
    if entries is None or not {e["name"] for e in entries} <= set(files):
        return None
    return entries


def match_connections(target, files, entries):
    """Pair each connection with the file stem saved for it.

    By name where every name is there. Otherwise names the user gave pair
    first, and the rest by the positions of their source and target
    populations: counted default names differ in a second network, which
    may also create its connections in another order, and same-shaped
    connections must not swap. Recorded positions must match exactly.
    """
    conns = _connections(target)
    if all(c.name in files for c in conns) and len(files) == len(conns):
        return {c: c.name for c in conns}
    order = population_positions(target)
    here = {c: (order[c.source()], order[c.target()]) for c in conns}
    pairs = {c: c.name for c in conns
             if c.name in files and not _COUNTED_NAME.fullmatch(c.name)}
    rest = [c for c in conns if c not in pairs]
    saved = [s for s in _saved_connections(files, entries)
             if s.stem not in pairs.values()]
    if len(saved) != len(rest):
        raise ModelFileError(
            f"The files hold {len(saved) + len(pairs)} connections "
            f"({', '.join(sorted(files))}) but the network has "
            f"{len(conns)} ({', '.join(c.name for c in conns)})")
    if all(s.positions is not None for s in saved):
        theirs = sorted(s.positions for s in saved)
        ours = sorted(here[c] for c in rest)
        if all(s.recorded for s in saved) and theirs != ours:
            raise ModelFileError(
                f"The saved connections join populations at positions "
                f"(source, target) {theirs} but the network's join "
                f"{ours}: build the network the model was trained with, "
                f"or give its connections their saved names "
                f"({', '.join(s.stem for s in saved)}) with name=")
        saved.sort(key=lambda s: (*s.positions, s.order))
        # Python's sort is stable: ties keep the network's order
        rest.sort(key=lambda c: here[c])
    else:
        # Nothing says where the saved populations were: the saved
        # network's connection order (or the files'), against ours
        saved.sort(key=lambda s: s.order)
    pairs.update(zip(rest, (s.stem for s in saved)))
    return pairs


def match_populations(target, files, entries, directory):
    """Pair each population with learned parameters with its file stem:
    by name, else by position among such populations."""
    pops = learned_populations(target)
    if all(p.name in files for p in pops) and len(files) == len(pops):
        return {p: p.name for p in pops}
    if entries is not None:
        saved = [e["name"] for e in sorted(entries,
                                           key=lambda e: e["index"])]
    else:
        saved = sorted(files, key=_natural_key)
    if len(saved) != len(pops):
        raise ModelFileError(
            f"{directory} holds learned neuron parameters of "
            f"{len(saved)} populations ({', '.join(saved) or 'none'}) but "
            f"the network learns them in {len(pops)} "
            f"({', '.join(p.name for p in pops) or 'none'})")
    return dict(zip(pops, saved))
