"""Train/validation/test splits of any configured data set, as the
training runs of the examples need them."""
from dataclasses import dataclass, field, replace

import numpy as np

from ..configs import DATASET_NAMES
from ..published import trial_steps
from .augment import make_augmentations
from .braille import NUM_INPUT as BRAILLE_INPUTS, load_braille
from .heidelberg import NUM_INPUT as HEIDELBERG_INPUTS, load_heidelberg
from .samples import (check_max_examples, latest_spike_time,
                      max_sample_spikes, to_spikes)
from .yin_yang import yin_yang, yin_yang_spikes


#: SHD and SSC spikes at or after this time [ms] are dropped, in every
#: split, as the paper's data.py does
HEIDELBERG_MAX_TIME = 1000.0


@dataclass
class Splits:
    """Samples of each split as ``(times [ms], units)`` pairs (or
    PreprocessedSpikes when ``raw`` is False), labels, and the training
    augmentations to apply every epoch."""
    num_input: int
    train: list
    y_train: np.ndarray
    valid: list
    y_valid: np.ndarray
    test: list
    y_test: np.ndarray
    raw: bool = True
    augmentations: list = field(default_factory=list)
    _unaugmented: tuple = field(default=None, init=False, repr=False,
                                compare=False)

    def spikes(self, samples):
        return to_spikes(samples, self.num_input) if self.raw else samples

    def epoch_train(self, rng):
        """This epoch's (augmented) training spikes and labels."""
        if not self.augmentations:
            # The same every epoch (Braille): converted once (again if
            # the training samples were replaced)
            if self._unaugmented is None or self._unaugmented[0] is not \
                    self.train:
                self._unaugmented = (self.train, self.spikes(self.train))
            return self._unaugmented[1], np.asarray(self.y_train)
        samples, labels = self.train, self.y_train
        for augmentation in self.augmentations:
            samples, labels = augmentation(samples, labels, rng)
        return self.spikes(samples), np.asarray(labels)

    def all_samples(self):
        return [s for part in (self.train, self.valid, self.test)
                if part is not None for s in part]


def _hold_out(samples, labels, fraction, seed):
    """Split ``fraction`` of the examples off as a validation set."""
    order = np.random.default_rng(seed).permutation(len(samples))
    n_valid = int(round(fraction * len(samples)))
    valid, train = np.sort(order[:n_valid]), np.sort(order[n_valid:])
    return ([samples[i] for i in train], labels[train],
            [samples[i] for i in valid], labels[valid])


def load_splits(config, data_dir=None, max_examples=None, seed=0) -> Splits:
    """Load the data set of ``config`` (Yin-Yang is generated; SHD, SSC
    and Braille are read from ``data_dir``).

    ``max_examples`` caps every split (quick runs); ``seed`` fixes the
    held-out validation split and Braille's split.
    """
    check_max_examples(max_examples)
    dataset = config.dataset
    if dataset == "yin_yang":
        def split(name):
            points, labels = yin_yang(name, size=max_examples)
            return (yin_yang_spikes(points, config.dt, config.example_time,
                                    config.input_early, config.input_late),
                    labels)
        return Splits(4, *split("train"), *split("validation"),
                      *split("test"), raw=False)
    if data_dir is None:
        raise ValueError(f"{DATASET_NAMES[dataset]} needs --data-dir (the "
                         f"folder holding its files)")
    if dataset == "braille":
        def split(name):
            return load_braille(data_dir, name, dt=config.dt, seed=seed,
                                max_examples=max_examples, raw=True)
        splits = Splits(BRAILLE_INPUTS, *split("train"), *split("valid"),
                        *split("test"))
    elif dataset in ("shd", "ssc"):
        def split(name):
            return load_heidelberg(data_dir, dataset, name, max_examples,
                                   dt=config.dt, raw=True,
                                   max_time=HEIDELBERG_MAX_TIME)
        train, y_train = split("train")
        if dataset == "ssc":
            valid, y_valid = split("valid")
        elif config.validation_fraction > 0:
            train, y_train, valid, y_valid = _hold_out(
                train, y_train, config.validation_fraction, seed)
        else:
            # As published: SHD has no validation split
            valid, y_valid = None, None
        splits = Splits(HEIDELBERG_INPUTS, train, y_train, valid, y_valid,
                        *split("test"))
    else:
        raise ValueError(f"Unknown data set {dataset!r}")
    return splits


def fit_trial(splits: Splits, config):
    """Set the trial length from the latest input spike (train.py) and the
    training augmentations of ``config``; return the updated config and
    the most input spikes one example can have (a blend may hold up to
    twice the largest sample)."""
    samples = splits.all_samples()
    steps = trial_steps(latest_spike_time(samples), config.dt)
    config = replace(config, example_time=steps * config.dt)
    splits.augmentations = make_augmentations(
        config.augment, splits.num_input, max_time=config.example_time,
        dt=config.dt)
    factor = 2 if "blend" in config.augment else 1
    return config, factor * max_sample_spikes(samples)
