import pytest


@pytest.fixture(autouse=True)
def _in_tmp_dir(tmp_path, monkeypatch):
    # GeNN generates code into the working directory: keep it per test
    monkeypatch.chdir(tmp_path)
