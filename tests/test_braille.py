"""Braille loader on fixture pickles in the published layout."""
import os

import numpy as np
import pytest
from fixtures import write_braille

from ml_genn_delays.datasets import load_braille
from ml_genn_delays.errors import DataFileError
from ml_genn_delays.datasets.braille import LETTERS, NUM_INPUT


def test_splits_are_stratified_seeded_and_disjoint(tmp_path):
    write_braille(tmp_path, per_letter=10)
    parts = {s: load_braille(tmp_path, s, raw=True, seed=3)
             for s in ("train", "valid", "test")}
    sizes = {s: len(y) for s, (_, y) in parts.items()}
    assert sizes == {"train": 189, "valid": 27, "test": 54}  # 70/10/20
    for _, y in parts.values():
        assert len(np.unique(y)) == len(LETTERS) == 27
    again = load_braille(tmp_path, "test", raw=True, seed=3)[1]
    np.testing.assert_array_equal(again, parts["test"][1])
    other = load_braille(tmp_path, "test", raw=True, seed=4)[0]
    assert any(len(a[0]) != len(b[0]) or np.any(a[0] != b[0])
               for a, b in zip(other, parts["test"][0]))


def test_events_become_24_channels_in_ms(tmp_path):
    events = [[[] , []] for _ in range(12)]
    events[0][0] = [0.0104, 0.0106]   # ON of taxel 0: 10.4 and 10.6 ms
    events[11][1] = [0.0201]          # OFF of taxel 11 -> channel 23
    write_braille(tmp_path, events=[events] * 10, letters=["A"] * 10)
    samples, labels = load_braille(tmp_path, "train", dt=1.0, raw=True)
    times, units = samples[0]
    assert labels[0] == LETTERS.index("A")
    np.testing.assert_array_equal(times, [10.0, 11.0, 20.0])
    np.testing.assert_array_equal(units, [0, 0, 23])
    spikes, _ = load_braille(tmp_path, "train")
    assert len(spikes[0].end_spikes) == NUM_INPUT


def test_missing_file_names_what_is_expected(tmp_path):
    with pytest.raises(FileNotFoundError, match="data_braille_letters_th_"
                       r"\*\.pkl.*reading_braille_data.*zenodo"):
        load_braille(tmp_path)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("letters, events, message", [
    (["A", "?"], None, "sample 1 has letter '\\?'"),
    (["A"], [[[[0.01], []]] * 11], "11 taxels"),
    (["A"], [[[[-0.01], []]] + [[[], []]] * 11], "negative"),
    (["A"], [[[[], []]] * 12], "no spikes"),
])
def test_bad_data_names_the_sample(tmp_path, letters, events, message):
    write_braille(tmp_path, letters=letters * 10 if events else letters,
                  events=events * 10 if events else None)
    with pytest.raises(ValueError, match=message):
        load_braille(tmp_path, "train")


@pytest.mark.parametrize("bad", [-1, 0, 2.5, True])
def test_max_examples_below_one_refused(tmp_path, bad):
    # 2.5 failed in a slice, True kept one example
    write_braille(tmp_path)
    with pytest.raises(ValueError, match=f"max_examples must be a whole "
                                         f"number >= 1, got {bad!r}"):
        load_braille(tmp_path, "train", max_examples=bad)


def test_a_set_too_small_for_a_test_split_says_so(tmp_path):
    # 2 per letter: 1 train, 1 validation, 0 test (the run then evaluated
    # nothing); an empty validation split alone only changes selection
    write_braille(tmp_path, per_letter=2)
    with pytest.raises(DataFileError, match=r"its 54 samples \(2 of the "
                       r"rarest letter\) leave the test split empty.*at "
                       r"least 3"):
        load_braille(tmp_path, "test")
    assert len(load_braille(tmp_path, "train")[1]) == 27
    write_braille(tmp_path, per_letter=3)
    with pytest.warns(UserWarning, match="leave the validation split empty"
                      ".*select models on training accuracy"):
        assert len(load_braille(tmp_path, "valid")[1]) == 0
    assert len(load_braille(tmp_path, "test")[1]) == 27


def test_training_spikes_without_augmentation_are_converted_once(tmp_path):
    """Braille has no augmentation: its training spikes, the same every
    epoch, were converted again every epoch."""
    from ml_genn_delays.configs import get_config
    from ml_genn_delays.datasets.splits import load_splits
    write_braille(tmp_path, per_letter=10)
    splits = load_splits(get_config("braille_ff_64"), tmp_path)
    assert not splits.augmentations
    rng = np.random.default_rng(0)
    first, y_first = splits.epoch_train(rng)
    second, y_second = splits.epoch_train(rng)
    assert second is first
    np.testing.assert_array_equal(y_second, y_first)
    fresh = splits.spikes(splits.train)
    assert len(first) == len(fresh) == len(y_first)
    for a, b in zip(first, fresh):
        np.testing.assert_array_equal(a.spike_times, b.spike_times)
        np.testing.assert_array_equal(a.end_spikes, b.end_spikes)
