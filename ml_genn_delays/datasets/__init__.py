"""Data sets used by the examples, tests and benchmarks."""
from .sequence import sequence_detection
from .yin_yang import yin_yang, yin_yang_spikes

__all__ = ["sequence_detection", "yin_yang", "yin_yang_spikes"]
