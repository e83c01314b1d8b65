"""Yin-Yang with learnable delays on the CPU backend (slow: ~3 min)."""
import pytest

from ml_genn_delays.configs import get_config
from ml_genn_delays.datasets import yin_yang, yin_yang_spikes
from ml_genn_delays.experiment import build_model, compile_model, train


@pytest.mark.slow
def test_yin_yang_30_hidden_with_delays_reaches_90_percent():
    config = get_config("yy_ff_30")
    assert config.delays and config.batch_size > 1  # CPU batches in use
    x_train, y_train = yin_yang("train")
    x_test, y_test = yin_yang("test")
    model = build_model(config, seed=0)
    compiled = compile_model(model)
    with compiled:
        history = train(model, compiled,
                        yin_yang_spikes(x_train, config.dt,
                                        config.example_time), y_train,
                        yin_yang_spikes(x_test, config.dt,
                                        config.example_time), y_test,
                        progress=False)
    # The accuracy of the final model, not the best epoch
    assert history[-1] >= 0.90, history
