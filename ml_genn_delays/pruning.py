"""Delay pruning: keep only a fraction of a connection's learnable delays
non-zero; the pruned ones are set to 0 and stay 0."""
from numbers import Real

import numpy as np
from ml_genn import Connection
from ml_genn.callbacks import Callback

from .evaluation import get_delays, set_delays
from .monitors import EpochOrder
from .wholes import require_whole


def _connection_list(connections):
    """``connections`` as a list (one Connection too), or None; anything
    else is refused here rather than when training starts."""
    if connections is None:
        return None
    if isinstance(connections, Connection):
        return [connections]
    listed = (list(connections)
              if isinstance(connections, (list, tuple, set)) else None)
    if listed is None or not all(isinstance(c, Connection) for c in listed):
        raise TypeError(f"DelayPruning: connections must be a list of "
                        f"Connections (or one), got {connections!r}")
    return listed


class DelayPruning(Callback):
    """Prune learnable delays by magnitude while training.

    At the end of epoch ``start`` and every ``every`` epochs after it, up
    to ``stages`` times, the delays of each learnable connection that are
    not yet pruned are ranked by size and the smallest are pruned (set to
    0, no delay) until the kept fraction is ``1 - (1 - keep) s / stages``
    at stage ``s``: ``keep`` after the last stage. Pruned delays
    stay 0: after every optimiser step they are written back to 0, so
    their Adam moments cannot move them. A pruned delay costs the same
    time as any other (its synapse still delivers, with delay 0); what
    pruning buys is a sparse delay structure, as in the axonal/dendritic
    delay papers (20% of delays kept).

    Parameters
    ----------
    keep : float
        Fraction of each connection's delays that stay learnable, in
        (0, 1].
    every : int
        Epochs between stages.
    start : int
        First epoch (0-based) at whose end to prune.
    stages : int
        Prune gradually in this many stages (the pruned set only grows).
    connections : list of Connection, or Connection, optional
        Which connections (default: every learnable one).

    Notes
    -----
    Epochs are the numbers mlGeNN gives: each ``train`` call counts from
    its ``start_epoch`` (0 unless given). Training one epoch per call,
    pass ``start_epoch=epoch`` (a repeated number warns).
    """

    def __init__(self, keep: float, every: int = 1, start: int = 0,
                 stages: int = 1, connections=None):
        if (isinstance(keep, bool) or not isinstance(keep, Real)
                or not 0.0 < keep <= 1.0):
            raise ValueError(f"DelayPruning: keep must be a number in "
                             f"(0, 1], got {keep!r}")
        # every=1.5 pruned at epochs 0, 3, 6, ... without a word
        require_whole(every, "DelayPruning: every", meaning="epochs "
                      "between stages")
        require_whole(start, "DelayPruning: start", 0,
                      meaning="the first epoch to prune after, from 0")
        require_whole(stages, "DelayPruning: stages")
        self.keep = keep
        self.every = every
        self.start = start
        self.stages = stages
        self.connections = _connection_list(connections)
        self.pruned = {}
        self._order = EpochOrder("DelayPruning", "its stages, set in "
                                 "epochs, come once or never")

    def set_params(self, compiled_network, **kwargs):
        self._net = compiled_network
        # Examples per optimiser step (our CPU batches): delays move only
        # at a step, after the examples b > 0 with b % n == 0
        # (training.GradientAccumulation)
        self._n = getattr(compiled_network, "examples_per_step", 1)
        specs = getattr(compiled_network, "learnable_delays", None)
        if specs is None:
            raise ValueError("DelayPruning prunes the learnable delays of a "
                             "network compiled by ml_genn_delays."
                             "EventPropCompiler; another compiler built "
                             "this one")
        conns = (self.connections if self.connections is not None
                 else list(specs))
        without = [c.name for c in conns if c not in specs]
        if without:
            raise ValueError(f"DelayPruning: connections {without} have no "
                             f"learnable delays to prune")
        for conn in conns:
            self.pruned.setdefault(conn, None)

    def on_epoch_end(self, epoch, metrics):
        self._order.see(epoch)
        stage, off = divmod(epoch - self.start, self.every)
        if epoch < self.start or off or stage >= self.stages:
            return
        fraction = 1.0 - (1.0 - self.keep) * (stage + 1) / self.stages
        for conn, mask in self.pruned.items():
            delays = get_delays(self._net, conn)
            if isinstance(delays, dict):
                # Mixed delays: each kind pruned on its own
                old = mask or {}
                self.pruned[conn] = {name: self._rank(values,
                                                      old.get(name), fraction)
                                     for name, values in delays.items()}
            else:
                self.pruned[conn] = self._rank(delays, mask, fraction)
            self._zero(conn)

    @staticmethod
    def _rank(delays, mask, fraction):
        """Mask of the delays to prune: all but the largest ``fraction``
        of the unpruned ones (pruned ones rank last)."""
        pruned = (np.zeros(delays.shape, dtype=bool) if mask is None
                  else mask)
        # Rounded first: 1 - 0.7 is 0.30000000000000004, whose ceil over
        # 20 delays would keep 7, not 6
        n_keep = int(np.ceil(np.round(fraction * delays.size, 9)))
        order = np.argsort(np.where(pruned, -np.inf, delays), axis=None)
        keep = np.zeros(delays.size, dtype=bool)
        keep[order[::-1][:n_keep]] = True
        # The pruned set only grows, even where a schedule asks for more
        # than is left (a run resumed with more epochs has later stages)
        return ~keep.reshape(delays.shape) | pruned

    def on_batch_end(self, batch, metrics):
        # After mlGeNN's (or our accumulated) optimiser step; on the CPU
        # a read of every delay per example cost about 4% of its time
        if self._n > 1 and (batch == 0 or batch % self._n):
            return
        for conn in self.pruned:
            self._zero(conn)

    def _zero(self, conn):
        mask = self.pruned[conn]
        if mask is None:
            return
        delays = get_delays(self._net, conn)
        masks, values = ((mask, delays) if isinstance(mask, dict)
                         else ({"": mask}, {"": delays}))
        changed = {name: values[name] for name, m in masks.items()
                   if np.any(values[name][m] != 0.0)}
        for name in changed:
            changed[name][masks[name]] = 0.0
        if changed:
            set_delays(self._net, conn,
                       changed if isinstance(mask, dict) else changed[""])

    def saved_masks(self, conns) -> list:
        """The pruned masks of ``conns`` as JSON values (a resumable run
        keeps them): None, a list of bools, or for mixed delays a dict of
        them by kind name."""
        def plain(mask):
            if isinstance(mask, dict):
                return {name: m.tolist() for name, m in mask.items()}
            return None if mask is None else mask.tolist()
        return [plain(self.pruned.get(conn)) for conn in conns]

    def restore_masks(self, conns, saved):
        """Take back what :meth:`saved_masks` gave."""
        def array(mask):
            if isinstance(mask, dict):
                return {name: np.array(m, dtype=bool)
                        for name, m in mask.items()}
            return None if mask is None else np.array(mask, dtype=bool)
        for conn, mask in zip(conns, saved):
            self.pruned[conn] = array(mask)

    @property
    def last_stage(self) -> int:
        """The epoch at whose end it prunes for the last time."""
        return self.start + (self.stages - 1) * self.every

    def kept_fraction(self, conn) -> float:
        """Fraction of ``conn``'s delays not pruned (all kinds together
        for mixed delays)."""
        mask = self.pruned.get(conn)
        if mask is None:
            return 1.0
        masks = list(mask.values()) if isinstance(mask, dict) else [mask]
        return float(1.0 - np.concatenate([m.ravel() for m in masks]).mean())
