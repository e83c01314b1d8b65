"""SHD/SSC loaders on fixture files in the exact .h5 layout."""
import os

import pytest
from fixtures import write_h5

from ml_genn_delays.datasets import find_file, load_heidelberg

SAMPLES = [([0.001, 0.0105, 0.25], [3, 699, 0]), ([0.5, 0.5], [1, 2])]


def check(spikes, labels):
    assert labels.tolist() == [1, 0]
    # Stored per neuron, in ms (tonic keeps whole microseconds)
    assert sorted(spikes[0].spike_times.tolist()) == pytest.approx(
        [1.0, 10.5, 250.0], abs=2e-3)
    assert spikes[0].end_spikes[-1] == 3 and len(spikes[0].end_spikes) == 700


def test_files_directly_in_data_dir(tmp_path):
    write_h5(tmp_path / "shd_train.h5", SAMPLES, [1, 0])
    check(*load_heidelberg(tmp_path, "shd", "train"))


def test_tonic_layout_read_by_tonic(tmp_path):
    path = tmp_path / "SSC" / "ssc_valid.h5"
    write_h5(path, SAMPLES, [1, 0])
    # tonic only trusts a folder holding the .zip it downloaded
    (tmp_path / "SSC" / "ssc_valid.h5.zip").write_bytes(b"")
    check(*load_heidelberg(tmp_path, "ssc", "valid"))


def test_tonic_layout_without_marker_read_offline(tmp_path):
    write_h5(tmp_path / "SHD" / "shd_test.h5", SAMPLES, [1, 0])
    check(*load_heidelberg(tmp_path, "shd", "test"))
    assert os.listdir(tmp_path / "SHD") == ["shd_test.h5"]  # no download


def test_missing_files_named(tmp_path):
    with pytest.raises(FileNotFoundError) as error:
        find_file(tmp_path, "shd", "train")
    message = str(error.value)
    assert str(tmp_path / "shd_train.h5") in message
    assert str(tmp_path / "SHD" / "shd_train.h5") in message
    assert "zenkelab.org" in message
    with pytest.raises(ValueError, match="splits"):
        find_file(tmp_path, "shd", "valid")


@pytest.mark.parametrize("sample, label, match", [
    (([0.2, 0.1], [1, 2]), 0, "sample 1: spike times are not sorted"),
    (([-0.1, 0.1], [1, 2]), 0, "sample 1 has negative"),
    (([0.1], [700]), 0, "sample 1 has units outside 0..699"),
    (([], []), 0, "sample 1 has no spikes"),
    (([0.1], [5]), 20, "sample 1 has label 20"),
])
def test_bad_data_names_sample(tmp_path, sample, label, match):
    write_h5(tmp_path / "shd_train.h5", [SAMPLES[0], sample], [1, label])
    with pytest.raises(ValueError, match=match):
        load_heidelberg(tmp_path, "shd", "train")


def test_spikes_after_max_time_dropped(tmp_path):
    # The paper's data.py drops events at or after 1 s in every split; so
    # do the examples' splits (datasets.splits.HEIDELBERG_MAX_TIME)
    from ml_genn_delays.datasets.splits import HEIDELBERG_MAX_TIME
    write_h5(tmp_path / "shd_train.h5",
             [([0.5, 0.9995, 1.0, 1.2], [1, 2, 3, 4])], [0])
    kept, _ = load_heidelberg(tmp_path, "shd", "train", dt=1.0, raw=True,
                              max_time=HEIDELBERG_MAX_TIME)
    assert kept[0][1].tolist() == [1, 2]
    every, _ = load_heidelberg(tmp_path, "shd", "train", dt=1.0, raw=True)
    assert every[0][1].tolist() == [1, 2, 3, 4]


def test_max_examples_below_one_refused(tmp_path):
    write_h5(tmp_path / "shd_train.h5", SAMPLES, [1, 0])
    for bad in (0, -1, 1.5):
        with pytest.raises(ValueError, match=f"max_examples must be a whole "
                                             f"number >= 1, got {bad}"):
            load_heidelberg(tmp_path, "shd", "train", max_examples=bad)


def test_examples_splits_end_trials_by_1_s(tmp_path):
    from ml_genn_delays.configs import get_config
    from ml_genn_delays.datasets.splits import fit_trial, load_splits
    for split in ("train", "test"):
        write_h5(tmp_path / f"shd_{split}.h5",
                 [([0.5, 0.9995, 1.2], [1, 2, 3])] * 2, [0, 1])
    config, _ = fit_trial(load_splits(get_config("shd_ff_16"), tmp_path),
                          get_config("shd_ff_16"))
    assert config.example_time == 1000.0     # 1.2 s would give 1201


def test_file_of_another_kind_named(tmp_path):
    import h5py
    (tmp_path / "shd_train.h5").write_bytes(b"not hdf5")
    with pytest.raises(ValueError, match="shd_train.h5: not an SHD/SSC"):
        load_heidelberg(tmp_path, "shd", "train")
    with h5py.File(tmp_path / "shd_test.h5", "w") as f:
        f["labels"] = [0]
    with pytest.raises(ValueError, match="shd_test.h5: not an SHD/SSC.*"
                                         "spikes/times"):
        load_heidelberg(tmp_path, "shd", "test")


def test_a_file_of_the_other_data_set_refused(tmp_path):
    # SHD's labels 0..19 are valid SSC labels: the class list tells them
    # apart (an SHD file renamed, or put in the SSC folder by mistake)
    write_h5(tmp_path / "ssc_train.h5", SAMPLES, [1, 0], num_classes=20)
    with pytest.raises(ValueError, match=r"ssc_train.h5: its extra/keys "
                       r"lists 20 classes \(an SHD file\?\), SSC has 35"):
        load_heidelberg(tmp_path, "ssc", "train")
    write_h5(tmp_path / "SHD" / "shd_test.h5", SAMPLES, [1, 0],
             num_classes=35)
    (tmp_path / "SHD" / "shd_test.h5.zip").write_bytes(b"")   # tonic's
    with pytest.raises(ValueError, match=r"35 classes \(an SSC file\?\), "
                                         r"SHD has 20"):
        load_heidelberg(tmp_path, "shd", "test")


def test_times_written_in_ms_are_refused(tmp_path):
    """SHD/SSC files store seconds; a file written in ms lost nearly all
    of its spikes to the 1 s crop without a word, and trained on almost
    nothing (a trial)."""
    from ml_genn_delays.errors import DataFileError
    from ml_genn_delays.datasets.splits import HEIDELBERG_MAX_TIME
    in_ms = [([1.0, 10.5, 250.0], [3, 699, 0]), ([0.5, 500.0], [1, 2])]
    write_h5(tmp_path / "shd_train.h5", in_ms, [1, 0])
    with pytest.raises(DataFileError, match=r"shd_train.h5: 60% of its "
                       r"spikes lie at or after 10 s.* must be in seconds"):
        load_heidelberg(tmp_path, "shd", "train", dt=1.0,
                        max_time=HEIDELBERG_MAX_TIME)
    # Seconds, cropped shorter through the API: not taken for ms (review)
    in_s = [([0.001, 0.0105, 0.25], [3, 699, 0]), ([0.5, 0.9], [1, 2])]
    write_h5(tmp_path / "shd_train.h5", in_s, [1, 0])
    kept, _ = load_heidelberg(tmp_path, "shd", "train", raw=True,
                              max_time=300.0)
    assert [len(t) for t, _ in kept] == [3, 0]


def test_blend_takes_a_sample_emptied_by_the_crop():
    # Its mean channel and time are NaN: Blend failed converting them
    import numpy as np
    from ml_genn_delays.datasets.augment import Blend
    blend = Blend(p_blend=1.0, num_input=700, max_time=1000.0)
    full = (np.array([1.0, 5.0]), np.array([3, 4]))
    empty = (np.zeros(0), np.zeros(0, dtype=int))
    rng = np.random.default_rng(0)
    samples, labels = blend([full, empty], np.array([0, 0]), rng)
    assert len(samples) == len(labels) >= 2
    for times, units in samples[2:]:
        assert np.all(np.isfinite(times)) and set(units) <= {3, 4}
