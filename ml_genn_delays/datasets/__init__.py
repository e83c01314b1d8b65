"""Data sets used by the examples, tests and benchmarks."""
from .heidelberg import find_file, load_heidelberg
from .sequence import sequence_detection
from .yin_yang import yin_yang, yin_yang_spikes

__all__ = ["find_file", "load_heidelberg", "sequence_detection", "yin_yang",
           "yin_yang_spikes"]
