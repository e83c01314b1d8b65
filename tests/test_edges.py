"""Edges of model files, runs and data that a mutation review of the
non-gradient code (session 18) found no test held: file-name parsing,
manifest checks, matching without a manifest, listed synapses, early
stopping and selection, the training state's checks, CPU batches,
delay bounds, splits, augmentation and Braille pickles."""
import json
import os

import numpy as np
import pytest
from ml_genn import Network, Population
from ml_genn.compilers.event_prop_compiler import default_params
from ml_genn.connectivity import Dense
from ml_genn.neurons import LeakyIntegrate, LeakyIntegrateFire, SpikeInput
from ml_genn.synapses import Exponential

from ml_genn_delays import (Connection, Learnable, ModelFileError,
                            load_model, save_model)
from networks import TinyNet


def two_layer(weights_in, weights_out, name_in=None):
    """input (3) -> hidden (2) -> output (4), Dense, learnable delays on
    the first connection."""
    network = Network(default_params)
    with network:
        a = Population(SpikeInput(max_spikes=10), 3)
        b = Population(LeakyIntegrateFire(tau_refrac=None), 2)
        c = Population(LeakyIntegrate(readout="avg_var"), 4)
        first = Connection(a, b, Dense(weights_in), Exponential(5.0),
                           delay=Learnable(np.full((3, 2), 2.0), 10),
                           name=name_in)
        second = Connection(b, c, Dense(weights_out), Exponential(5.0))
    return network, first, second


# io_files._FILE: the checkpoint is everything before the FIRST '-'
def test_connection_names_with_a_dash_keep_their_checkpoint(tmp_path):
    w_out = np.zeros((2, 4))
    for checkpoint, value in ((0, 1.0), (1, 2.0)):
        network, _, _ = two_layer(np.full((3, 2), value), w_out,
                                  name_in="in-hid")
        save_model(network, tmp_path, checkpoint=checkpoint)
    fresh, first, _ = two_layer(np.zeros((3, 2)), w_out, name_in="in-hid")
    load_model(fresh, tmp_path, checkpoint=1)
    np.testing.assert_array_equal(first.connectivity.weight, 2.0)


# io_files._read_manifest: dt must be > 0; shapes exactly 2 numbers
@pytest.mark.parametrize("edit, match", [
    (lambda m: m.update(dt=0), "dt 0 is not a positive number"),
    (lambda m: m["connections"][0].update(shape=[3, 2, 1]),
     "2-number shape")])
def test_manifest_dt_zero_and_three_number_shape_refused(tmp_path, edit,
                                                         match):
    network, _, _ = two_layer(np.ones((3, 2)), np.ones((2, 4)))
    save_model(network, tmp_path, checkpoint=0)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    edit(manifest)
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    fresh, _, _ = two_layer(np.zeros((3, 2)), np.zeros((2, 4)))
    with pytest.raises(ModelFileError, match=match):
        load_model(fresh, tmp_path)


# io.save_model: checkpoint=True is no epoch (it would be saved as "True")
def test_boolean_checkpoint_refused(tmp_path):
    network, _, _ = two_layer(np.ones((3, 2)), np.ones((2, 4)))
    with pytest.raises(ValueError, match="checkpoint must be given"):
        save_model(network, tmp_path / "m", checkpoint=True)
    assert not (tmp_path / "m").exists()


def skip_network(w_ac, w_bb):
    """Pop A (3) -> Pop C (2) and Pop B (2) -> Pop B, created in that
    order (A, B, C): by source A->C comes first, by target B->B."""
    network = Network(default_params)
    with network:
        a = Population(SpikeInput(max_spikes=10), 3)
        b = Population(LeakyIntegrateFire(tau_refrac=None), 2)
        c = Population(LeakyIntegrate(readout="avg_var"), 2)
        ac = Connection(a, c, Dense(w_ac), Exponential(5.0))
        bb = Connection(b, b, Dense(w_bb), Exponential(5.0))
    return network, ac, bb


# io._match without a manifest: connections sorted by source, then target
def test_files_without_manifest_match_by_source_then_target(tmp_path):
    w_ac = np.arange(6.0).reshape(3, 2)
    w_bb = np.full((2, 2), 7.0)
    network, _, _ = skip_network(w_ac, w_bb)
    save_model(network, tmp_path, checkpoint=0)
    os.remove(tmp_path / "manifest.json")
    fresh, ac, bb = skip_network(np.zeros((3, 2)), np.zeros((2, 2)))
    load_model(fresh, tmp_path)
    np.testing.assert_array_equal(ac.connectivity.weight, w_ac.ravel())
    np.testing.assert_array_equal(bb.connectivity.weight, w_bb.ravel())


# io._match without a manifest: Pop9 comes before Pop10 (natural order)
def test_files_without_manifest_sort_population_numbers_naturally(
        tmp_path):
    w_in = np.arange(6.0, dtype=np.float32)         # 3 x 2
    w_out = np.arange(8.0, dtype=np.float32) + 10   # 2 x 4
    np.save(tmp_path / "5-Conn_Pop9_Pop10-g.npy", w_in)
    np.save(tmp_path / "5-Conn_Pop9_Pop10-d.npy", np.ones(6, np.float32))
    np.save(tmp_path / "5-Conn_Pop10_Pop11-g.npy", w_out)
    fresh, first, second = two_layer(np.zeros((3, 2)), np.zeros((2, 4)))
    load_model(fresh, tmp_path)
    np.testing.assert_array_equal(first.connectivity.weight, w_in)
    np.testing.assert_array_equal(second.connectivity.weight, w_out)


def listed_pair(pre, post):
    """Pop (3) -> Pop (2), synapses listed by hand."""
    from ml_genn.connectivity import FixedProbability
    connectivity = FixedProbability(0.5, 1.0)
    connectivity.pre_ind, connectivity.post_ind = pre, post
    network = Network(default_params)
    with network:
        a = Population(SpikeInput(max_spikes=5), 3)
        b = Population(LeakyIntegrate(readout="sum_var"), 2)
        Connection(a, b, connectivity, Exponential(5.0),
                   delay=Learnable(1.0, 10))
    return network


# io_state.listed_synapses: index n_pre (n_post) is one past the end
@pytest.mark.parametrize("pre, post", [([0, 3], [0, 1]), ([0, 2], [0, 2])])
def test_listed_index_one_past_the_end_refused(tmp_path, pre, post):
    with pytest.raises(ValueError, match=r"pre_ind must lie in \[0, 3\) "
                                         r"and post_ind in \[0, 2\)"):
        save_model(listed_pair(np.array(pre), np.array(post)),
                   tmp_path / "m", 0)
    assert not (tmp_path / "m").exists()


def _yy_run(tmp_path, resume=False, **overrides):
    from ml_genn_delays.configs import get_config
    from ml_genn_delays.datasets.splits import load_splits
    from ml_genn_delays.runner import TrainingRun
    # Nothing learns (both rates 0, no silent-neuron bumps): every epoch
    # has the accuracies of the first
    config = get_config("yy_ff_5", lr=0.0, delay_lr=0.0, silent_bump=0.0,
                        batch_size=2, **overrides)
    return TrainingRun(config, load_splits(config, None, 8), seed=0,
                       out=str(tmp_path), resume=resume, progress=False)


# runner: a tie is no improvement; patience P stops after P + 1 epochs
# without one (train.py: early_stop = 15, break when it drops below 0);
# a stopped run stays stopped on resume; patience may change on resume
def test_early_stopping_counts_ties_as_no_improvement(tmp_path):
    result = _yy_run(tmp_path, epochs=6, patience=1).run()
    assert [r["epoch"] for r in result.rows] == [0, 1, 2]
    assert result.best_epoch == 0
    run_dir = tmp_path / "yy_ff_5" / "0"
    assert {p.name.split("-")[0] for p in run_dir.glob("*.npy")} == {"0"}
    # Resumed with more epochs, a stopped run trains no further
    result = _yy_run(tmp_path, resume=True, epochs=8, patience=1).run()
    assert [r["epoch"] for r in result.rows] == [0, 1, 2]
    # ...unless its patience grows (a setting a resume may change)
    result = _yy_run(tmp_path, resume=True, epochs=8, patience=5).run()
    assert [r["epoch"] for r in result.rows] == list(range(7))
    assert result.best_epoch == 0


# runner._select: validation accuracy chooses (not test), an improvement
# resets the patience count, training accuracy where there is no
# validation set
def test_selection_on_validation_accuracy_resets_the_patience_count(
        tmp_path):
    run = _yy_run(tmp_path, epochs=1)
    state = {"best": None, "best_epoch": None, "best_test": None,
             "waiting": 0}
    rows = [(0.5, 0.5, 0.9), (0.9, 0.4, 0.8), (0.1, 0.6, 0.2),
            (0.2, 0.6, 0.7)]
    with run.compiled:
        for epoch, (train, valid, test) in enumerate(rows):
            run._select(state, {"train_accuracy": train,
                                "valid_accuracy": valid,
                                "test_accuracy": test}, epoch)
            if epoch == 1:
                assert state["waiting"] == 1
            if epoch == 2:
                assert state["waiting"] == 0
    assert (state["best_epoch"], state["best_test"], state["waiting"]) == (
        2, 0.2, 1)
    run_dir = tmp_path / "yy_ff_5" / "0"
    assert {p.name.split("-")[0] for p in run_dir.glob("*.npy")} == {"2"}
    state = {"best": None, "best_epoch": None, "best_test": None,
             "waiting": 0}
    with run.compiled:
        for epoch, (train, _, test) in enumerate(rows):
            run._select(state, {"train_accuracy": train,
                                "valid_accuracy": "",
                                "test_accuracy": test}, epoch)
    assert (state["best_epoch"], state["best_test"]) == (1, 0.8)


# resume.load_training_state: learning rates restored; arrays of another
# epoch, another network or other shapes refused
def test_training_state_restores_rates_and_refuses_mismatches(tmp_path):
    import shutil
    from ml_genn_delays.resume import (STATE_ARRAYS, load_training_state,
                                       save_training_state)
    net = TinyNet("ours")
    compiled = net.compile(20, "ts_rates")
    good, mixed = tmp_path / "good", tmp_path / "mixed"
    with compiled:
        optimiser = compiled.optimisers[0][0]
        optimiser.alpha = 0.25
        save_training_state(compiled, good, {"epoch": 0})
        save_training_state(compiled, mixed, {"epoch": 0})
        shutil.copy(mixed / STATE_ARRAYS, tmp_path / "epoch0.npz")
        optimiser.alpha = 0.5
        assert load_training_state(compiled, good)["epoch"] == 0
        assert optimiser.alpha == 0.25
        save_training_state(compiled, mixed, {"epoch": 1})
        shutil.copy(tmp_path / "epoch0.npz", mixed / STATE_ARRAYS)
        with pytest.raises(ModelFileError, match="different epochs"):
            load_training_state(compiled, mixed)
    for other, match in ((TinyNet("ours", recurrent=True), "another network"),
                         (TinyNet("ours", num_hid=6), "has shape")):
        compiled = other.compile(20, f"ts_{match.split()[-1]}")
        with compiled:
            with pytest.raises(ModelFileError, match=match):
                load_training_state(compiled, good)


# training.NoStepWarning: batches per epoch round UP (5 examples at batch
# 4 are 2 batches: one step is taken)
def test_five_examples_at_batch_four_take_a_step_without_warning():
    import warnings
    from ml_genn_delays import SGD
    from networks import pull, random_spikes
    net = TinyNet("ours")
    compiled = net.compile(20, "five_at_four", batch_size=4,
                           optimiser=SGD(1.0), delay_optimiser=SGD(1.0))
    x = random_spikes(5, 5, 20, 0.2, seed=1)
    with compiled:
        before = pull(compiled, net.c_out, "g")
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)
            compiled.train({net.inp: x}, {net.out: [0, 1, 2, 0, 1]},
                           num_epochs=1, shuffle=False)
        assert np.any(pull(compiled, net.c_out, "g") != before)


# learnable: GeNN's largest delay is allowed; a Fixed delay beyond its
# max_delay_steps is refused
def test_delay_bounds_at_their_edges():
    from ml_genn_delays import Fixed
    from ml_genn_delays.learnable import GENN_MAX_DELAY_STEPS
    assert Learnable(0.0, GENN_MAX_DELAY_STEPS).max_delay_steps == 65534
    with pytest.raises(ValueError, match="delays reach 20.0 steps but "
                                         "max_delay_steps is 10"):
        Fixed(20.0, max_delay_steps=10)


# datasets.splits: SHD holds out round(10%) of its training set for
# validation (17 examples: 2 validation, 15 training), the rest trains
def test_held_out_validation_split_sizes(tmp_path):
    from fixtures import write_heidelberg
    from ml_genn_delays.configs import get_config
    from ml_genn_delays.datasets.splits import load_splits
    write_heidelberg(tmp_path, "shd", n=17)
    splits = load_splits(get_config("shd_ff_16"), tmp_path)
    assert (len(splits.train), len(splits.valid), len(splits.test)) == (
        15, 2, 17)
    assert len(splits.y_train) == 15 and len(splits.y_valid) == 2


# datasets.splits.fit_trial: a blend can hold two samples' spikes
def test_fit_trial_doubles_the_input_spike_budget_with_blend(tmp_path):
    from fixtures import write_heidelberg
    from ml_genn_delays.configs import get_config
    from ml_genn_delays.datasets.samples import max_sample_spikes
    from ml_genn_delays.datasets.splits import fit_trial, load_splits
    for dataset, arch, factor in (("shd", "shd_ff_16", 2),
                                  ("ssc", "ssc_ff_16", 1)):
        write_heidelberg(tmp_path / dataset, dataset, n=6)
        config = get_config(arch)
        splits = load_splits(config, tmp_path / dataset)
        _, spikes = fit_trial(splits, config)
        assert spikes == factor * max_sample_spikes(splits.all_samples())


# datasets.augment: the published augmentations (docs/published.md: Blend
# p 0.5, then Shift +-40 channels) with data.py's proportion of blends
def test_published_augmentations_and_their_order():
    from ml_genn_delays.datasets.augment import (Blend, Shift,
                                                 make_augmentations)
    blend, shift = make_augmentations(("shift", "blend"), 700, 1000.0, 1.0)
    assert isinstance(blend, Blend) and isinstance(shift, Shift)
    assert (blend.p_blend, shift.max_shift) == (0.5, 40)
    # 16 samples: 16 * 7644 / 8156 = 14.995 blends, rounded to 15
    rng = np.random.default_rng(0)
    samples = [(np.array([1.0, 2.0]), np.array([3, 4]))] * 16
    out, labels = blend(samples, np.zeros(16, dtype=int), rng)
    assert len(out) == len(labels) == 31


# datasets.augment.Blend: spikes moved past max_time are dropped
def test_blend_drops_spikes_shifted_past_the_trial():
    from ml_genn_delays.datasets.augment import Blend
    samples = [(np.arange(10.0), np.full(10, 1)),
               (np.arange(100.0, 110.0), np.full(10, 1))]
    out, _ = Blend(1.0, num_input=5, max_time=55.0, fraction=5.0)(
        samples, np.array([0, 0]), np.random.default_rng(0))
    assert any(len(t) < 20 for t, _ in out[2:])    # pairs of 0 and 1
    assert all(np.all(t < 55.0) for t, _ in out[2:])


# datasets.braille: two pickles are ambiguous unless threshold= says which
def test_several_braille_pickles_need_a_threshold(tmp_path):
    from fixtures import write_braille
    from ml_genn_delays.datasets import load_braille
    write_braille(tmp_path, threshold=1)
    write_braille(tmp_path, threshold=2, seed=1)
    with pytest.raises(ValueError, match="Several Braille pickles.*"
                                         "threshold="):
        load_braille(tmp_path, "train", raw=True)
    assert len(load_braille(tmp_path, "train", threshold=2, raw=True)[1])


# runner/resume: a resumed run equals an uninterrupted one in a run that
# learns (the SHD resume test's hidden layer stays silent, and so does
# yy_ff_5 on 8 examples: no gradient, all-zero Adam moments, so neither
# the moments nor the shuffling order were ever compared)
def test_resume_of_a_learning_run_equals_uninterrupted(tmp_path, capsys):
    from scripts import load_script
    from ml_genn_delays.resume import STATE_ARRAYS
    example = load_script("examples", "train_yin_yang")
    args = ["--hidden", "30", "--max-examples", "16", "--batch-size", "2",
            "--no-progress"]
    example.main([*args, "--epochs", "2", "--out", str(tmp_path / "a")])
    example.main([*args, "--epochs", "1", "--out", str(tmp_path / "b")])
    example.main([*args, "--epochs", "2", "--out", str(tmp_path / "b"),
                  "--resume"])
    capsys.readouterr()
    a, b = (np.load(tmp_path / d / "yy_ff_30" / "0" / "resume" /
                    STATE_ARRAYS) for d in "ab")
    moments = [k for k in a.files if k.startswith("optimiser")]
    assert moments and all(np.count_nonzero(a[k]) > a[k].size // 4
                           for k in moments)
    assert sorted(a.files) == sorted(b.files)
    for key in a.files:
        if key != "__epoch__":
            np.testing.assert_allclose(b[key], a[key], rtol=1e-6, atol=1e-7,
                                       err_msg=key)
