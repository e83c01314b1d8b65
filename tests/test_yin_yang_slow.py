"""The main example: Yin-Yang with learnable delays on the CPU backend,
no arguments, >= 90% (slow: ~7 min on 2 cores)."""
import pytest

from ml_genn_delays.configs import get_config
from scripts import last_accuracy, load_script


@pytest.mark.slow
def test_train_yin_yang_default_reaches_90_percent(capsys):
    config = get_config("yy_ff_30")
    assert config.delays and config.batch_size > 1  # CPU batches in use
    load_script("examples", "train_yin_yang").main([])
    # Test accuracy of the model selected on validation (not on test)
    assert last_accuracy(capsys.readouterr().out) >= 90.0
