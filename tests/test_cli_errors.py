"""Mistakes on the command line, missing or corrupt files and a missing
GeNN backend end in one line saying what was wrong and how to fix it,
not in a traceback, and are refused before anything is trained."""
import glob
import re

import pytest
from fixtures import write_braille
from pygenn.genn_model import backend_modules

from ml_genn_delays.configs import get_config
from ml_genn_delays.datasets.braille import load_braille
from ml_genn_delays.learnable import GENN_MAX_DELAY_STEPS
from scripts import load_script

QUICK = ["--epochs", "1", "--max-examples", "8", "--batch-size", "4",
         "--no-progress"]
no_cuda = pytest.mark.skipif("cuda" in backend_modules,
                             reason="this GeNN has CUDA")


def usage_error(folder, script, args, capsys):
    """The stderr of ``script``'s parser refusing ``args`` (exit 2)."""
    with pytest.raises(SystemExit) as stop:
        load_script(folder, script).main(args)
    assert stop.value.code == 2
    return capsys.readouterr().err


@pytest.mark.parametrize("dataset, name", [
    ("shd", "SHD"), ("ssc", "SSC"), ("braille", "Braille")])
def test_missing_data_dir_is_a_usage_error(dataset, name, tmp_path, capsys):
    err = usage_error("examples", f"train_{dataset}",
                      [*QUICK, "--out", str(tmp_path / "out")], capsys)
    assert f"{name} needs --data-dir DIR" in err
    assert not (tmp_path / "out").exists()


def test_test_script_needs_data_dir_for_shd(tmp_path, capsys):
    (tmp_path / "shd_ff_64" / "0").mkdir(parents=True)
    err = usage_error("models", "test", ["--arch", "shd_ff_64",
                                         "--model-dir", str(tmp_path)],
                      capsys)
    assert "shd_ff_64 is a SHD model: give --data-dir DIR" in err


def test_test_script_missing_seed_is_one_line(capsys):
    with pytest.raises(SystemExit, match=r"No model for yy_ff_30 seed 99: "
                       r".*yy_ff_30/99 is missing \(seeds there: 0, 1"):
        load_script("models", "test").main(["--arch", "yy_ff_30",
                                            "--seed", "99"])
    # Found before compiling: no GeNN code was generated
    assert not glob.glob("*_CODE")


def test_test_script_model_file_error_is_one_line():
    # The zoo's yy_ff_30 was trained at dt 0.1 ms, --published runs at
    # 0.005 ms: load_model refuses it with a ModelFileError
    with pytest.raises(SystemExit, match=r"^error: .*yy_ff_30/0 was "
                                         r"trained at dt = 0.1 ms"):
        load_script("models", "test").main(["--arch", "yy_ff_30", "--seed",
                                            "0", "--published"])
    # Found before compiling: no GeNN code was generated
    assert not glob.glob("*_CODE")


@no_cuda
def test_test_script_missing_backend_is_one_line():
    with pytest.raises(SystemExit, match="^error: GeNN backend 'cuda' is "
                                         "not available"):
        load_script("models", "test").main(["--arch", "yy_ff_30", "--seed",
                                            "0", "--backend", "cuda"])


@no_cuda
def test_training_missing_backend_is_one_line(tmp_path):
    with pytest.raises(SystemExit, match="^error: GeNN backend 'cuda' is "
                                         "not available"):
        load_script("examples", "train_yin_yang").main(
            [*QUICK, "--hidden", "5", "--backend", "cuda",
             "--out", str(tmp_path)])


def test_test_script_bad_raster_example_refused_before_compiling(
        tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as stop:
        load_script("models", "test").main(
            ["--arch", "yy_ff_30", "--seed", "0", "--raster",
             str(tmp_path / "rasters"), "--example", "-1"])
    assert stop.value.code == 2
    assert "--example -1: the test split has" in capsys.readouterr().err
    assert not glob.glob("*_CODE")


def test_corrupt_braille_pickle_names_the_file(tmp_path):
    path = write_braille(tmp_path)
    data = open(path, "rb").read()
    with open(path, "wb") as f:
        f.write(data[:len(data) // 2])
    with pytest.raises(ValueError, match=re.escape(path) + ": not a Braille "
                       "pickle .*'letter' and 'events'.*truncated"):
        load_braille(tmp_path)


@pytest.mark.parametrize("gap", ["0", "-5", "0.5", "100000", "nan"])
def test_bad_sequence_gap_is_a_usage_error(gap, capsys):
    err = usage_error("examples", "sequence_detection",
                      ["--gap", gap, "--epochs", "1"], capsys)
    assert re.search(r"--gap: must lie in \[1, 43689\] ms, got "
                     + re.escape(gap), err)
    assert not glob.glob("*_CODE")


def test_sequence_gap_range_fits_the_network():
    example = load_script("examples", "sequence_detection")
    assert example._gap("43689") == 43689.0 and example._gap("1") == 1.0
    # main's largest delay, 1.5 gaps, is one GeNN can hold
    assert round(1.5 * example.MAX_GAP) <= GENN_MAX_DELAY_STEPS


def test_misordered_architecture_says_the_form():
    with pytest.raises(ValueError) as error:
        get_config("yy_rec_30_adlif_axonal")
    message = str(error.value)
    assert ("<dataset>_<ff|rec>_<hidden>[_nodelay][_axonal|_dendritic|"
            "_axonal_dendritic][_adlif], the suffixes in that order"
            in message)
    assert "did you mean 'yy_rec_30_axonal_adlif'?" in message
    assert get_config("yy_rec_30_axonal_adlif").arch == \
        "yy_rec_30_axonal_adlif"


def test_misordered_architecture_on_the_command_line(tmp_path):
    with pytest.raises(SystemExit, match="suffixes in that order.*did you "
                                         "mean 'yy_ff_5_axonal_adlif'"):
        load_script("examples", "train_yin_yang").main(
            [*QUICK, "--arch", "yy_ff_5_adlif_axonal",
             "--out", str(tmp_path / "out")])
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("args", [
    ["--arch", "yy_ff_5_nodelay", "--delay-kind", "axonal"],
    ["--hidden", "5", "--no-delays", "--delay-kind", "dendritic"],
    ["--hidden", "5", "--no-delays", "--delay-kind", "synaptic"]])
def test_delay_kind_without_delays_is_a_usage_error(args, tmp_path, capsys):
    err = usage_error("examples", "train_yin_yang",
                      [*QUICK, *args, "--out", str(tmp_path / "out")],
                      capsys)
    assert "sets the kind of delays; this run has none" in err
    assert not (tmp_path / "out").exists()


def test_nodelay_architecture_with_a_delay_kind_is_refused():
    with pytest.raises(ValueError, match="'yy_ff_30_nodelay_axonal' is "
                                         "_nodelay and _axonal at once"):
        get_config("yy_ff_30_nodelay_axonal")


def test_broken_data_file_is_one_line(tmp_path):
    # Data files that are not what they should be: one line naming the
    # file (a DataFileError), not a traceback
    for split in ("train", "test"):
        (tmp_path / f"shd_{split}.h5").write_text("not HDF5")
    with pytest.raises(SystemExit, match=r"^error: .*shd_train.h5: not an "
                                         r"SHD/SSC file"):
        load_script("examples", "train_shd").main(
            ["--data-dir", str(tmp_path), "--out", str(tmp_path / "out"),
             *QUICK])


@pytest.mark.parametrize("variable", ["PMI_SIZE", "OMPI_COMM_WORLD_SIZE"])
def test_training_under_mpirun_is_one_line(tmp_path, monkeypatch, variable):
    # Every rank would train alone on all the data into one folder
    monkeypatch.setenv(variable, "2")
    with pytest.raises(SystemExit, match="^error: The training runner .* "
                                         "run one process: under mpirun"):
        load_script("examples", "train_yin_yang").main(
            [*QUICK, "--hidden", "5", "--out", str(tmp_path)])
    assert not list(tmp_path.iterdir())


def test_training_run_given_a_communicator_is_refused(tmp_path):
    from ml_genn_delays.run_folder import SeveralProcessesError
    from ml_genn_delays.runner import TrainingRun
    with pytest.raises(SeveralProcessesError, match="API"):
        TrainingRun(get_config("yy_ff_5"), {}, out=str(tmp_path),
                    communicator=object())


@pytest.mark.parametrize("value, refused", [("1", False), ("", False),
                                            ("abc", False), ("3", True)])
def test_launcher_variables_are_read_safely(monkeypatch, value, refused):
    # An unreadable value crashed every run with a ValueError
    from ml_genn_delays.run_folder import (SeveralProcessesError,
                                           refuse_several_processes)
    monkeypatch.setenv("PMI_SIZE", value)
    if refused:
        with pytest.raises(SeveralProcessesError):
            refuse_several_processes()
        # Independent runs (each its own seed or folder) may go ahead
        monkeypatch.setenv("ML_GENN_DELAYS_INDEPENDENT_RUNS", "1")
    refuse_several_processes()
