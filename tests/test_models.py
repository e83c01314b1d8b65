"""Re-evaluating saved models gives the accuracy training measured."""
import pytest

from ml_genn_delays.configs import get_config
from ml_genn_delays.datasets.splits import load_splits
from ml_genn_delays.experiment import evaluate_saved
from ml_genn_delays.runner import TrainingRun
from scripts import load_script


@pytest.mark.parametrize("arch", ["yy_ff_5", "yy_ff_5_nodelay",
                                  "yy_ff_5_axonal"])
def test_reevaluation_equals_training_accuracy(arch, tmp_path):
    config = get_config(arch, epochs=2)
    splits = load_splits(config, max_examples=300)
    result = TrainingRun(config, splits, seed=1, out=tmp_path,
                         progress=False, name="reeval").run()
    again = evaluate_saved(config, [result.directory], splits.test,
                           splits.y_test)
    assert abs(100 * again[0] - 100 * result.test_accuracy) <= 0.1


def test_models_test_script_on_zoo(capsys, tmp_path):
    results = load_script("models", "results").RESULTS
    assert "yy_ff_30" in results and 0 in results["yy_ff_30"]
    test = load_script("models", "test")
    assert test.main(["--arch", "yy_ff_30", "--seed", "0",
                      "--raster", str(tmp_path / "rasters")]) == 0
    out = capsys.readouterr().out
    assert "yy_ff_30 seed 0: test accuracy" in out and "ok" in out
    png = tmp_path / "rasters" / "yy_ff_30-0.png"
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_models_test_script_refuses_bad_example_before_testing(
        capsys, tmp_path):
    test = load_script("models", "test")
    with pytest.raises(SystemExit):     # a usage error, not a traceback
        test.main(["--arch", "yy_ff_30", "--seed", "0", "--example",
                   "5000", "--raster", str(tmp_path / "rasters")])
    # Refused first: no model was tested, no raster drawn
    out, err = capsys.readouterr()
    assert "--example 5000: the test split has 1000 examples, 0 to 999" in err
    assert "test accuracy" not in out
    assert not list((tmp_path / "rasters").iterdir())


def test_built_networks_get_eventprop_default_params():
    """Synapses made outside the network's context miss default_params
    (EventProp's scale_i) and change the dynamics: re-evaluated zoo
    models then lost 4 points."""
    from ml_genn_delays.experiment import build_model
    for arch in ("yy_ff_5", "shd_rec_64", "ssc_ff_64"):
        model = build_model(get_config(arch, num_hidden=4))
        assert all(c.synapse.scale_i for c in model.connections)


def test_test_script_config_from_run_json_or_name(tmp_path):
    """Seeds with a run.json (newer runs) and without (the zoo's older
    ones) evaluate together when they describe the same set-up."""
    import argparse
    import json
    from ml_genn_delays.run_folder import RUN_FILE, read_run, run_description
    config_of_runs = load_script("models", "test").config_of_runs

    def run_config(args, directories):
        return config_of_runs(args, [read_run(d) for d in directories])
    config = get_config("yy_ff_5")
    splits = load_splits(config, max_examples=4)
    dirs = [tmp_path / str(s) for s in range(2)]
    for d in dirs:
        d.mkdir()
    (dirs[0] / RUN_FILE).write_text(json.dumps(
        run_description(config, splits, 0)))
    args = argparse.Namespace(arch="yy_ff_5", published=False)
    assert run_config(args, dirs) == config
    (dirs[1] / RUN_FILE).write_text(json.dumps(
        run_description(get_config("yy_ff_5", dt=0.05), splits, 1)))
    with pytest.raises(SystemExit, match="different settings"):
        run_config(args, dirs)


def test_inference_compiler_gives_the_zoo_its_recorded_accuracy():
    """Our InferenceCompiler runs examples as training does, so a zoo
    model loaded into it scores exactly its recorded test accuracy
    (mlGeNN's, even with reset_in_syn_between_batches=True, scored 94.0
    for this model's 95.9: a last-step spike reached the next example,
    input arriving in the last step counted)."""
    from ml_genn_delays import InferenceCompiler, load_model
    from ml_genn_delays.experiment import build_model
    results = load_script("models", "results").RESULTS
    config, x, y, max_input_spikes = load_script("models", "test").test_data(
        get_config("yy_ff_30"), None)
    model = build_model(config, max_input_spikes=max_input_spikes)
    load_model(model.network, load_script("models", "test").HERE
               + "/yy_ff_30/0")
    compiled = InferenceCompiler(
        evaluate_timesteps=config.example_timesteps, dt=config.dt,
        batch_size=1).compile(model.network, name="zoo_inference")
    with compiled:
        metrics, _ = compiled.evaluate({model.input: x}, {model.output: y},
                                       callbacks=[])
    assert round(100 * metrics[model.output].result, 2) == \
        results["yy_ff_30"][0]
