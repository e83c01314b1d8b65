"""Data set generators reproduce their references."""
import json
from pathlib import Path

import numpy as np
import pytest

from ml_genn_delays.datasets import sequence_detection, yin_yang

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" \
    / "yin_yang.json"


def reference():
    # The reference values are copied here so the test runs from a
    # checkout without shared/; the file, when present, must agree.
    ref = {"train": {"size": 5000, "class_counts": [1681, 1702, 1617],
                     "first_point_xy": [0.6803075385877797, 0.450499251969543],
                     "first_labels": [2, 1, 2, 1, 1, 1, 0, 2]},
           "validation": {"size": 1000, "class_counts": [316, 336, 348]},
           "test": {"size": 1000, "class_counts": [350, 316, 334],
                    "first_point_xy": [0.23409664559563403,
                                       0.4017249751828972],
                    "first_labels": [2, 2, 1, 1, 1, 2, 2, 0]}}
    if REFERENCE.exists():
        shared = json.loads(REFERENCE.read_text())
        for split, values in ref.items():
            for key, value in values.items():
                assert shared[split][key] == value
    return ref


@pytest.mark.parametrize("split", ["train", "validation", "test"])
def test_yin_yang_matches_reference(split):
    ref = reference()[split]
    points, labels = yin_yang(split)
    assert points.shape == (ref["size"], 4)
    assert np.bincount(labels).tolist() == ref["class_counts"]
    if "first_point_xy" in ref:
        np.testing.assert_allclose(points[0, :2], ref["first_point_xy"],
                                   rtol=0, atol=1e-15)
        assert labels[:8].tolist() == ref["first_labels"]
    np.testing.assert_allclose(points[:, 2:], 1.0 - points[:, :2])


def test_yin_yang_bad_split():
    with pytest.raises(ValueError, match="Unknown Yin-Yang split"):
        yin_yang("dev")


def test_sequence_detection_patterns():
    spikes, labels = sequence_detection(4, gap=10.0)
    assert labels.tolist() == [0, 1, 0, 1]
    # Spikes are stored per neuron: neuron 0 fires at 0 then neuron 1 at
    # 10 in class 0, the reverse in class 1
    assert spikes[0].spike_times.tolist() == [0.0, 10.0]
    assert spikes[1].spike_times.tolist() == [10.0, 0.0]
    assert spikes[0].end_spikes.tolist() == [1, 2]
    for bad in (0, 2.5, True):
        # 2.5 failed inside numpy, True gave one example
        with pytest.raises(ValueError, match="num_examples must be a "
                                             "whole number >= 1"):
            sequence_detection(bad)
    for kwargs in ({"start": float("nan")}, {"gap": float("inf")},
                   {"gap": -1.0}, {"jitter": 10.0}):
        with pytest.raises(ValueError, match="need gap > 0"):
            sequence_detection(4, **kwargs)
