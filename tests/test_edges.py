"""Edges of model files, runs, data and the published set-up that a
mutation review of the non-gradient code (session 18: 125 mutations, 51
missed by the suite) found no test held: file-name parsing, manifest
checks, matching without a manifest, listed synapses, a resume of a run
that learns, early stopping and selection, the training state's checks,
CPU batches, delay bounds, splits, augmentation, Braille pickles, the
ease-in schedule, command-line overrides and the published hyperparameter
tables."""
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
                            UncheckedModelWarning, load_model, save_model)
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


# io_match without a manifest: connections sorted by source, then target
def test_files_without_manifest_match_by_source_then_target(tmp_path):
    w_ac = np.arange(6.0).reshape(3, 2)
    w_bb = np.full((2, 2), 7.0)
    network, _, _ = skip_network(w_ac, w_bb)
    save_model(network, tmp_path, checkpoint=0)
    os.remove(tmp_path / "manifest.json")
    fresh, ac, bb = skip_network(np.zeros((3, 2)), np.zeros((2, 2)))
    with pytest.warns(UncheckedModelWarning):
        load_model(fresh, tmp_path)
    np.testing.assert_array_equal(ac.connectivity.weight, w_ac.ravel())
    np.testing.assert_array_equal(bb.connectivity.weight, w_bb.ravel())


# io_match without a manifest: Pop9 comes before Pop10 (natural order)
def test_files_without_manifest_sort_population_numbers_naturally(
        tmp_path):
    w_in = np.arange(6.0, dtype=np.float32)         # 3 x 2
    w_out = np.arange(8.0, dtype=np.float32) + 10   # 2 x 4
    np.save(tmp_path / "5-Conn_Pop9_Pop10-g.npy", w_in)
    np.save(tmp_path / "5-Conn_Pop9_Pop10-d.npy", np.ones(6, np.float32))
    np.save(tmp_path / "5-Conn_Pop10_Pop11-g.npy", w_out)
    fresh, first, second = two_layer(np.zeros((3, 2)), np.zeros((2, 4)))
    with pytest.warns(UncheckedModelWarning):
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


# runner/resume: a resumed run equals an uninterrupted one in a run that
# LEARNS (test_resume_equals_uninterrupted_run's SHD fixture, and Yin-Yang
# at its own weights on 8 examples, leave the hidden layer silent: no
# gradient, so Adam's moments and the shuffling order never matter there)
def test_resume_of_a_learning_run_equals_uninterrupted(tmp_path):
    from ml_genn_delays.configs import get_config
    from ml_genn_delays.datasets.splits import load_splits
    from ml_genn_delays.resume import STATE_ARRAYS
    from ml_genn_delays.runner import TrainingRun

    def run(out, epochs, resume=False):
        config = get_config("yy_ff_5", input_hidden=(4.0, 0.5),
                            batch_size=2, epochs=epochs)
        return TrainingRun(config, load_splits(config, None, 8), seed=0,
                           out=str(tmp_path / out), resume=resume,
                           progress=False).run()
    straight = run("a", 2)
    run("b", 1)
    # A resumed run starts in a new process, with numpy's global RNG (which
    # mlGeNN shuffles with) wherever that process left it
    np.random.seed(12345)
    resumed = run("b", 2, resume=True)
    a, b = (np.load(tmp_path / d / "yy_ff_5" / "0" / "resume" / STATE_ARRAYS)
            for d in "ab")
    moments = [k for k in a.files if k.startswith("optimiser")]
    assert moments and all(np.any(a[k] != 0) for k in moments)
    assert sorted(a.files) == sorted(b.files)
    for key in a.files:
        if key != "__epoch__":
            np.testing.assert_allclose(b[key], a[key], rtol=1e-6, atol=1e-7,
                                       err_msg=key)
    for key in ("train_accuracy", "valid_accuracy", "delay_mean",
                "weight_lr"):
        assert ([r[key] for r in straight.rows]
                == [r[key] for r in resumed.rows]), key


def _yy_run(tmp_path, resume=False, seed=0, overwrite=False, **overrides):
    from ml_genn_delays.configs import get_config
    from ml_genn_delays.datasets.splits import load_splits
    from ml_genn_delays.runner import TrainingRun
    # Nothing learns (both rates 0, no silent-neuron bumps): every epoch
    # has the accuracies of the first
    config = get_config("yy_ff_5", lr=0.0, delay_lr=0.0, silent_bump=0.0,
                        batch_size=2, **overrides)
    return TrainingRun(config, load_splits(config, None, 8, seed=seed),
                       seed=seed, out=str(tmp_path), resume=resume,
                       overwrite=overwrite, progress=False)


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
            improved = run._select(state, {"train_accuracy": train,
                                           "valid_accuracy": valid,
                                           "test_accuracy": test}, epoch)
            assert improved == (epoch in (0, 2))
            if epoch == 1:
                assert state["waiting"] == 1
            if epoch == 2:
                assert state["waiting"] == 0
    assert (state["best_epoch"], state["best_test"], state["waiting"]) == (
        2, 0.2, 1)
    # Each best saved; the earlier ones are removed by run(), once the
    # resume state names the new best
    run_dir = tmp_path / "yy_ff_5" / "0"
    assert {p.name.split("-")[0] for p in run_dir.glob("*.npy")} == {"0",
                                                                     "2"}
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


# resume: the state holds no gradients (cleared at every epoch's first
# batch; on a GPU one copy per example, 256 times the weights, written
# every epoch); a state of an earlier version, which held them, loads
def test_training_state_holds_no_gradients_and_takes_older_ones(tmp_path):
    import json
    from ml_genn_delays.resume import (STATE_ARRAYS, STATE_JSON,
                                       load_training_state,
                                       save_training_state)
    net = TinyNet("ours", recurrent=True)
    compiled = net.compile(20, "ts_gradients")
    with compiled:
        save_training_state(compiled, tmp_path, {"epoch": 0})
        with np.load(tmp_path / STATE_ARRAYS) as arrays:
            saved = dict(arrays)
        assert {"conn0/g", "conn0/delay", "conn1/delay"} <= set(saved)
        assert not [k for k in saved if "radient" in k]
        # As an earlier version wrote it
        older = {**saved, "conn0/Gradient": np.zeros(20),
                 "conn0/delay_gradient": np.zeros(20)}
        np.savez(tmp_path / STATE_ARRAYS, **older)
        state = json.loads((tmp_path / STATE_JSON).read_text())
        state["arrays"] = sorted(k for k in older if k != "__epoch__")
        (tmp_path / STATE_JSON).write_text(json.dumps(state))
        assert load_training_state(compiled, tmp_path)["epoch"] == 0


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


# published.LearningRateSchedule: the ease-in counts optimiser steps
# (examples_per_step examples each), ceil(batches / examples_per_step) of
# them per epoch
def test_ease_in_counts_optimiser_steps_not_examples():
    from ml_genn_delays.published import LearningRateSchedule
    net = TinyNet("ours")
    compiled = net.compile(20, "ease_steps")
    schedule = LearningRateSchedule([1e-3, 0.1], ease_in=1e-5,
                                    examples_per_step=4)
    with compiled:
        schedule.set_params(compiled_network=compiled, num_batches=10)
        schedule.on_epoch_begin(1)
        schedule.on_batch_begin(5)
        # 3 steps in epoch 0 (10 examples, 4 per step), 1 so far in 1
        assert compiled.optimisers[0][0].alpha == pytest.approx(
            1e-5 * 1.05 ** 4)
        assert compiled.optimisers[1][0].alpha == pytest.approx(0.1)


# cli: every override reaches the Config; --keep-delays 1 keeps all
def test_command_line_overrides_reach_the_config():
    from ml_genn_delays.cli import config_from_args, make_parser
    parser = make_parser("test", "yy_ff_30")
    args = parser.parse_args(["--hidden", "7", "--epochs", "3",
                              "--batch-size", "4", "--recurrent",
                              "--keep-delays", "1"])
    config = config_from_args(args, "yin_yang")
    assert (config.num_hidden, config.epochs, config.batch_size,
            config.recurrent) == (7, 3, 4, True)
    assert args.keep_delays == 1.0


@pytest.mark.parametrize("argv, dataset, same_as", [
    (["--published", "--no-delays"], "yin_yang", "yy_ff_30_nodelay"),
    (["--published", "--hidden", "10"], "yin_yang", "yy_ff_10"),
    (["--arch", "ssc_ff_512", "--recurrent"], "ssc", "ssc_rec_512"),
    (["--arch", "braille_ff_256", "--recurrent", "--no-delays"], "braille",
     "braille_rec_256_nodelay"),
    (["--arch", "shd_rec_64_axonal", "--delay-kind", "synaptic"], "shd",
     "shd_rec_64")])
def test_overrides_of_the_architecture_take_its_own_set_up(argv, dataset,
                                                          same_as):
    """--hidden, --recurrent, --no-delays, ... name an architecture, whose
    own (published) set-up is used: they used to replace one field of
    --arch's, so yy_ff_30 --published --no-delays kept yy_ff_30's learning
    rate and dt, and ssc_ff_512 --recurrent kept two layers."""
    from ml_genn_delays.cli import config_from_args, make_parser
    from ml_genn_delays.configs import get_config
    args = make_parser("test", "yy_ff_30").parse_args(argv)
    published = "--published" in argv
    assert (config_from_args(args, dataset)
            == get_config(same_as, published=published))


# configs: every number of docs/published.md's table (and arguments.py's
# per-hidden Yin-Yang values), for every registered size and both kinds
COMMON = dict(num_input=700, dt=1.0, max_delay_steps=1000, batch_size=256,
              epochs=500, patience=15, lr=1e-3, lr_ease_in=1e-5,
              lr_decay=1.0, delay_lr=0.1, input_hidden=(0.03, 0.01),
              hidden_hidden=(0.02, 0.03), recurrent_weights=(0.0, 0.02),
              hidden_output=(0.0, 0.03), recurrent_delay_init_max=0.0,
              readout="avg_var_exp_weight", loss="sce", max_spikes=1500,
              reg_nu_upper=14.0, silent_bump=0.002)
EXPECTED = {
    ("shd", "ff"): dict(num_output=20, num_layers=1, delay_init_max=100.0,
                        reg_lambda=5e-11, augment=("blend", "shift"),
                        validation_fraction=0.1),
    ("shd", "rec"): dict(num_output=20, num_layers=1, delay_init_max=150.0,
                         reg_lambda=5e-11, augment=("blend", "shift"),
                         validation_fraction=0.1),
    ("ssc", "ff"): dict(num_output=35, num_layers=2, delay_init_max=50.0,
                        reg_lambda=5e-12, augment=("shift",)),
    ("ssc", "rec"): dict(num_output=35, num_layers=1, delay_init_max=150.0,
                         reg_lambda=5e-11, augment=("shift",)),
    ("braille", "ff"): dict(num_input=24, num_output=27, num_layers=2,
                            delay_init_max=0.0, reg_lambda=1e-10,
                            lr_ease_in=1.5e-5, delay_lr=0.025, augment=()),
    ("braille", "rec"): dict(num_input=24, num_output=27, num_layers=1,
                             delay_init_max=0.0, reg_lambda=1e-10,
                             lr_ease_in=1.5e-5, delay_lr=0.025, augment=()),
}


@pytest.mark.parametrize("dataset, kind", sorted(EXPECTED))
def test_published_table_pinned(dataset, kind):
    from ml_genn_delays.configs import get_config
    for hidden in (64, 128, 256, 512, 1024):
        config = get_config(f"{dataset}_{kind}_{hidden}")
        expected = {**COMMON, **EXPECTED[(dataset, kind)]}
        assert {k: getattr(config, k) for k in expected} == expected
    published = get_config(f"{dataset}_{kind}_64", published=True)
    if dataset == "braille":
        assert (published.lr, published.lr_ease_in, published.lr_decay) == (
            1.5e-5, None, 0.9975)
    elif dataset == "shd":
        assert published.validation_fraction == 0.0


# arguments.py yy_delay_arguments / yy_nodelay_arguments comments:
# (lr, dt, delay lr) by hidden size, and the shared set-up
YY_DELAY = {30: (0.02, 0.005, 10.0), 25: (0.02, 0.005, 6.0),
            20: (0.015, 0.005, 6.0), 15: (0.015, 0.005, 10.0),
            10: (0.01, 0.01, 5.0), 5: (0.015, 0.005, 10.0)}
YY_NODELAY = {30: (0.005, 0.01), 25: (0.01, 0.005), 20: (0.015, 0.005),
              15: (0.01, 0.005), 10: (0.02, 0.005), 5: (0.02, 0.01)}


def test_published_yin_yang_pinned():
    from ml_genn_delays.configs import get_config
    for hidden in YY_DELAY:
        delay = get_config(f"yy_ff_{hidden}", published=True)
        nodelay = get_config(f"yy_ff_{hidden}_nodelay", published=True)
        assert (delay.lr, delay.dt, delay.delay_lr) == YY_DELAY[hidden]
        assert (nodelay.lr, nodelay.dt) == YY_NODELAY[hidden]
        assert nodelay.delay_lr == 0.0
        for config in (delay, nodelay):
            assert (config.batch_size, config.epochs, config.lr_decay,
                    config.example_time, config.input_early,
                    config.input_late, config.input_hidden,
                    config.hidden_output, config.rmse_delta,
                    config.max_delay_steps, config.adam_beta2,
                    config.max_spikes, config.patience) == (
                150, 300, 0.9975, 20.0, 1.5, 20.0, (1.0, 1.0), (1.0, 1.0),
                2.0, 1000, 0.999, 500, 15)


# checks.check_compiler_arguments: dt 0 is no time step
def test_zero_dt_refused():
    from ml_genn_delays import EventPropCompiler
    with pytest.raises(ValueError, match="dt must be a positive number of "
                                         "ms, got 0.0"):
        EventPropCompiler(10, "sparse_categorical_crossentropy", dt=0.0)


def test_a_sequential_network_learns_delays_through_delay_learn_conns(
        tmp_path):
    # mlGeNN's Layer makes mlGeNN's Connection (no delay=): its own
    # Dense(w, d) + max_delay_steps + delay_learn_conns (README), and the
    # model saves and loads back into a fresh SequentialNetwork
    from ml_genn import InputLayer, Layer, SequentialNetwork
    from ml_genn.optimisers import Adam
    from networks import random_spikes
    from ml_genn_delays import (EventPropCompiler, get_delays, load_model,
                                save_model)

    def build():
        net = SequentialNetwork(default_params)
        with net:
            inp = InputLayer(SpikeInput(max_spikes=1000), 5)
            hid = Layer(Dense(np.linspace(0.5, 1.5, 20).reshape(5, 4),
                              np.full((5, 4), 3.0)),
                        LeakyIntegrateFire(v_thresh=1.0, tau_mem=20.0), 4,
                        Exponential(5.0), max_delay_steps=10)
            out = Layer(Dense(0.5), LeakyIntegrate(
                tau_mem=20.0, readout="avg_var_exp_weight"), 3,
                Exponential(5.0))
        return net, inp, hid.connection(), out

    net, inp, conn, out = build()
    compiled = EventPropCompiler(
        20, "sparse_categorical_crossentropy", optimiser=Adam(1e-2),
        delay_optimiser=Adam(0.5), delay_learn_conns=[conn]).compile(
            net, name="sequential")
    with compiled:
        compiled.train({inp: random_spikes(4, 5, 20, 0.3, seed=1)},
                       {out: np.array([0, 1, 2, 0])}, num_epochs=2)
        learned = get_delays(compiled, conn)
        save_model(compiled, tmp_path, "final")
    assert np.abs(learned - 3.0).max() > 0.1
    fresh, _, fresh_conn, _ = build()
    load_model(fresh, tmp_path)
    np.testing.assert_array_equal(np.ravel(fresh_conn.connectivity.delay),
                                  learned.ravel())


# resume: the training state of sparse synapses (pygenn's view refuses
# their variables: saving it failed)
def test_training_state_of_sparse_synapses_round_trips(tmp_path):
    from ml_genn_delays import EventPropCompiler, get_delays, set_delays
    from ml_genn_delays.resume import (load_training_state,
                                       save_training_state)
    from mpi_train import build_network
    from networks import random_spikes
    network, inp, _, out, conns = build_network("sparse")
    compiled = EventPropCompiler(
        20, "sparse_categorical_crossentropy", max_spikes=100).compile(
            network, name="sparse_state")
    x = random_spikes(4, 5, 20, 0.3, seed=2)
    with compiled:
        compiled.train({inp: x}, {out: np.arange(4) % 3}, num_epochs=1)
        save_training_state(compiled, tmp_path, {"epoch": 0})
        trained = get_delays(compiled, conns[0]).copy()
        set_delays(compiled, conns[0], 0.0)
        assert load_training_state(compiled, tmp_path)["epoch"] == 0
        np.testing.assert_array_equal(get_delays(compiled, conns[0]),
                                      trained)
