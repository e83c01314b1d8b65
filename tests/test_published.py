"""The paper's training rules and set-ups (ml_genn_delays.published,
configs, augmentations)."""
import numpy as np
import pytest
from ml_genn import Network, Population
from ml_genn.compilers.event_prop_compiler import default_params
from ml_genn.connectivity import Dense
from ml_genn.neurons import LeakyIntegrate, LeakyIntegrateFire, SpikeInput
from ml_genn.synapses import Exponential

from ml_genn_delays import Connection, EventPropCompiler
from ml_genn_delays.configs import CONFIGS, get_config
from ml_genn_delays.datasets import Blend, Shift, bin_spikes, yin_yang
from ml_genn_delays.published import (LearningRateSchedule,
                                      bump_silent_inputs, trial_steps)


def test_every_published_architecture_is_named():
    for dataset in ("shd", "ssc", "braille"):
        for kind in ("ff", "rec"):
            for hidden in (64, 128, 256, 512, 1024):
                for suffix in ("", "_nodelay"):
                    name = f"{dataset}_{kind}_{hidden}{suffix}"
                    config = CONFIGS[name]
                    assert config.arch == name
                    assert config.delays == (suffix == "")
    for hidden in (5, 10, 15, 20, 25, 30):
        assert CONFIGS[f"yy_ff_{hidden}"].arch == f"yy_ff_{hidden}"


def test_published_hyperparameters():
    shd = get_config("shd_rec_512")
    assert (shd.batch_size, shd.max_delay_steps, shd.delay_init_max,
            shd.delay_lr, shd.lr, shd.lr_ease_in, shd.reg_lambda,
            shd.reg_nu_upper, shd.max_spikes) == (
        256, 1000, 150.0, 0.1, 1e-3, 1e-5, 5e-11, 14.0, 1500)
    assert set(shd.augment) == {"blend", "shift"}
    assert get_config("shd_ff_512").delay_init_max == 100.0
    ssc = get_config("ssc_ff_1024")
    assert (ssc.num_layers, ssc.num_output, ssc.delay_init_max,
            ssc.augment) == (2, 35, 50.0, ("shift",))
    braille = get_config("braille_rec_256")
    assert (braille.num_input, braille.num_output, braille.delay_lr) == (
        24, 27, 0.025)
    # --published: SHD selects on training accuracy (no validation split)
    assert shd.validation_fraction > 0
    assert get_config("shd_rec_512", published=True).validation_fraction == 0
    yy = get_config("yy_ff_30", published=True)
    assert (yy.dt, yy.lr, yy.delay_lr, yy.batch_size, yy.epochs) == (
        0.005, 0.02, 10.0, 150, 300)
    # train.py: Adam(LR) with mlGeNN's betas and max_spikes, and its early
    # stopping loop, for Yin-Yang too
    assert (yy.adam_beta2, yy.max_spikes, yy.patience) == (0.999, 500, 15)
    # train.py's EaseInSchedule stops at 0.001 for every data set...
    assert (braille.lr_ease_in, braille.lr, braille.lr_decay) == (
        1.5e-5, 1e-3, 1.0)
    # ...but its "BRAILE" typo gives Braille the decay branch instead
    published = get_config("braille_rec_256", published=True)
    assert (published.lr_ease_in, published.lr, published.lr_decay) == (
        None, 1.5e-5, 0.9975)


def test_published_yin_yang_adam_betas_reach_the_compiler():
    from ml_genn_delays.experiment import build_model, compile_model
    for published, beta2 in ((False, 0.99), (True, 0.999)):
        config = get_config("yy_ff_5", published=published)
        compiled = compile_model(build_model(config, 0),
                                 name=f"betas_{published}")
        assert compiled.optimisers[0][0].beta2 == beta2


def test_learning_rate_schedule_eases_in_and_decays():
    schedule = LearningRateSchedule([1e-3, 0.1], decay=0.5, ease_in=1e-5,
                                    examples_per_step=4)
    assert schedule.rate(0, epoch=0, step=0) == pytest.approx(1e-5)
    assert schedule.rate(0, 0, 10) == pytest.approx(1e-5 * 1.05 ** 10)
    assert schedule.rate(0, 0, 200) == pytest.approx(0.5e-3)   # capped
    assert schedule.rate(1, 0, 0) == pytest.approx(0.05)       # no ease-in
    assert schedule.rate(1, 2, 0) == pytest.approx(0.1 * 0.5 ** 3)


def test_trial_holds_the_latest_spike():
    assert trial_steps(999.0, 1.0) == 1000
    assert trial_steps(10.5, 1.0) == 12


def test_bin_spikes_keeps_one_per_channel_and_step():
    times, units = bin_spikes(np.array([0.2, 0.7, 0.9, 1.5, 1.6]),
                              np.array([3, 3, 1, 3, 0]), 1.0)
    assert times.tolist() == [0.0, 0.0, 1.0, 1.0]
    assert units.tolist() == [1, 3, 0, 3]
    with pytest.raises(ValueError, match="units must be >= 0"):
        bin_spikes(np.array([1.0, 2.0]), np.array([-1, 3]), 1.0)


def test_shift_moves_all_channels_together_and_drops_outside():
    rng = np.random.default_rng(0)
    sample = (np.array([1.0, 2.0, 3.0]), np.array([0, 5, 9]))
    for _ in range(20):
        [(times, units)], _ = Shift(3, num_input=10)([sample], [0], rng)
        offsets = set((units - sample[1][np.isin(sample[0], times)]))
        assert len(offsets) == 1 and -3 <= offsets.pop() < 3
        assert np.all((units >= 0) & (units < 10))


@pytest.mark.parametrize("make, match", [
    (lambda: Shift(0), r"Shift: max_shift must be a whole number >= 1"),
    (lambda: Shift(2.5), r"max_shift .* got 2.5"),
    (lambda: Shift(3, num_input=0), r"Shift: num_input"),
    (lambda: Blend(1.5), r"Blend: p_blend must lie in \[0, 1\], got 1.5"),
    (lambda: Blend(float("nan")), r"p_blend must lie"),
    (lambda: Blend(fraction=-1.0), r"fraction must lie in \[0, inf\)"),
    # inf passed and failed only when called, in int(round(inf * n))
    (lambda: Blend(fraction=float("inf")), r"fraction must lie in "
                                           r"\[0, inf\), got inf"),
    (lambda: Blend(num_input=2.0), r"Blend: num_input"),
    (lambda: Blend(max_time=0.0), r"max_time and dt must be positive"),
    (lambda: Blend(dt=-1.0), r"dt=-1.0"),
    (lambda: yin_yang(size=2.5), r"yin_yang: size must be a whole number"),
])
def test_bad_augmentation_and_data_sizes_refused(make, match):
    # Shift(0) failed in numpy's integers(0, 0); the rest ran with them
    with pytest.raises(ValueError, match=match):
        make()


def test_blend_adds_same_class_mixtures():
    rng = np.random.default_rng(0)
    samples = [(np.arange(10.0) + 100 * c, np.full(10, 10 * c))
               for c in range(4)]
    labels = np.array([0, 1, 0, 1])
    out, out_labels = Blend(1.0, num_input=40, max_time=1000.0,
                            fraction=5.0)(samples, labels, rng)
    assert len(out) == 24 and out_labels.tolist()[:4] == labels.tolist()
    # Class 0 blends samples 0 and 2 (units 0 and 20): they meet halfway
    # at 10, unless a sample is blended with itself
    allowed = {0: {0, 10, 20}, 1: {10, 20, 30}}
    middles = 0
    for (times, units), label in zip(out[4:], out_labels[4:]):
        assert len(set(units)) == 1 and units[0] in allowed[label]
        middles += units[0] == 10 * (label + 1)
        assert np.all(np.diff(times) >= 0)
    assert middles > 0


def test_bump_silent_inputs_raises_only_silent_neurons():
    network = Network(default_params)
    with network:
        inp = Population(SpikeInput(max_spikes=10), 3)
        hid = Population(LeakyIntegrateFire(tau_refrac=None), 4)
        out = Population(LeakyIntegrate(readout="sum_var"), 2)
        conn = Connection(inp, hid, Dense(np.zeros((3, 4))), Exponential(5.0))
        Connection(hid, out, Dense(1.0), Exponential(5.0))
    compiled = EventPropCompiler(10, "sparse_categorical_crossentropy",
                                 max_spikes=10).compile(network, name="bump")
    with compiled:
        silent = bump_silent_inputs(compiled, [conn],
                                    [np.array([0, 3, 0, 1])], 0.002)
        var = compiled.connection_populations[conn].vars["g"]
        var.pull_from_device()
        weights = var.view.reshape(3, 4).copy()
    assert silent == 2
    np.testing.assert_allclose(weights, [[0.002, 0, 0.002, 0]] * 3)


def test_blend_of_binned_samples_is_binned_again():
    # data.py blends raw events, then bins them: the halfway shift moves
    # binned spikes off the dt grid and two samples can share a bin
    rng = np.random.default_rng(1)
    samples = [bin_spikes(rng.uniform(0, 100, 80), rng.integers(0, 5, 80),
                          1.0) for _ in range(6)]
    labels = np.zeros(6, dtype=int)
    off_grid, shared = 0, 0
    for dt in (None, 1.0):
        out, _ = Blend(1.0, num_input=5, max_time=1000.0, fraction=3.0,
                       dt=dt)(samples, labels, np.random.default_rng(2))
        for times, units in out[6:]:
            steps = np.round(times).astype(int)
            on_grid = np.allclose(times, steps)
            unique = len(set(zip(steps, units))) == len(times)
            if dt is None:
                off_grid += not on_grid
                shared += not unique
            else:
                assert on_grid and unique and np.all(np.diff(times) >= 0)
    assert off_grid and shared   # without dt, both happen
