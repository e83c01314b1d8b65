"""Re-evaluating saved models gives the accuracy training measured."""
import pytest

from ml_genn_delays import save_model
from ml_genn_delays.configs import get_config
from ml_genn_delays.datasets import yin_yang, yin_yang_spikes
from ml_genn_delays.experiment import (build_model, compile_model,
                                       evaluate_saved, train)
from scripts import load_script


@pytest.mark.parametrize("arch", ["yy_ff_5", "yy_ff_5_nodelay"])
def test_reevaluation_equals_training_accuracy(arch, tmp_path):
    config = get_config(arch, epochs=2)
    x, y = yin_yang("train", size=256)
    x_test, y_test = yin_yang("test", size=300)
    spikes = lambda p: yin_yang_spikes(p, config.dt, config.example_time)
    model = build_model(config, seed=1)
    compiled = compile_model(model, name="reeval")
    with compiled:
        history = train(model, compiled, spikes(x), y, spikes(x_test),
                        y_test, progress=False)
        save_model(compiled, tmp_path / arch / "1", checkpoint=1)
    again = evaluate_saved(config, [tmp_path / arch / "1"], spikes(x_test),
                           y_test)
    assert abs(100 * again[0] - 100 * history[-1]) <= 0.1


def test_models_test_script_on_zoo(capsys):
    results = load_script("models", "results").RESULTS
    assert "yy_ff_30" in results and 0 in results["yy_ff_30"]
    test = load_script("models", "test")
    assert test.main(["--arch", "yy_ff_30", "--seed", "0"]) == 0
    out = capsys.readouterr().out
    assert "yy_ff_30 seed 0: test accuracy" in out and "ok" in out
