"""Mixed delays: an axonal and a dendritic delay on one connection; the
delay of synapse ij is d_i + d_j, each part in [0, max_delay_steps] and
the delay buffers 2 x max_delay_steps long, so that no sum is ever
clamped (a clamped synapse's delay does not move with its parts, and its
terms in their gradients would be wrong).

Each part keeps its own variables, gradient and optimiser, exactly as
alone: the axonal gradient is the row sum and the dendritic one the
column sum of the per-synapse gradient at the total delay, and neither
mechanism (the axonal ``addToPre`` channel, the dendritic arrival
sensitivity) depends on how the arrival time was made up.
"""
from .base import DelayKind


class MixedDelay(DelayKind):
    """The sum of several per-neuron kinds (``parts``) on one connection.

    Only what the weight update model needs is answered here; everything
    about variables (holders, references, shapes, files) is asked of each
    part (``spec.parts``).
    """

    def __init__(self, parts):
        self._parts = tuple(parts)
        self.name = "+".join(p.name for p in self.parts)
        self.pre_channel = any(p.pre_channel for p in self.parts)
        self.post_channel = any(p.post_channel for p in self.parts)

    @property
    def parts(self):
        return self._parts

    def delay_expression(self, conn):
        return "(" + " + ".join(p.delay_expression(conn)
                                for p in self.parts) + ")"

    def gradient_code(self, conn, dl_dd):
        return "\n".join(p.gradient_code(conn, dl_dd) for p in self.parts)

    def add_synapse_terms(self, wum, conn, init):
        for part, part_init in zip(self.parts, init):
            part.add_synapse_terms(wum, conn, part_init)

    def _single(self, *args):
        raise TypeError(f"Delays of kind {self.name} have one variable per "
                        f"part; ask each of spec.parts")

    delay_var = gradient_var = holder = var_ref = shape = _single
