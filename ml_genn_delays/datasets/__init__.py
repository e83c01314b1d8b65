"""Data sets used by the examples, tests and benchmarks."""
from .augment import Blend, Shift, make_augmentations
from .braille import find_braille_file, load_braille
from .heidelberg import find_file, load_heidelberg
from .samples import bin_spikes, to_spikes
from .sequence import sequence_detection
from .yin_yang import yin_yang, yin_yang_spikes

__all__ = ["Blend", "Shift", "bin_spikes", "find_braille_file", "find_file",
           "load_braille", "load_heidelberg", "make_augmentations",
           "sequence_detection", "to_spikes", "yin_yang", "yin_yang_spikes"]
