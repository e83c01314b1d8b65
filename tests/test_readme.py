"""The README's snippet runs and does what it says."""
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def snippets():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert len(blocks) == 3
    return blocks


def test_readme_snippet_learns_sequence(capsys):
    exec(compile(snippets()[0], "README_snippet", "exec"),
         {"__name__": "readme"})
    assert "accuracy 100%" in capsys.readouterr().out
    assert Path("raster.png").read_bytes()[:4] == b"\x89PNG"


def test_readme_saved_model_runs_for_inference(capsys):
    # The inference snippet follows the first one (its data and model)
    namespace = {"__name__": "readme"}
    for i, name in ((0, "README_snippet"), (1, "README_inference")):
        exec(compile(snippets()[i], name, "exec"), namespace)
    out = capsys.readouterr().out
    assert "accuracy 100%" in out and "inference accuracy 100%" in out
    assert sorted(p.name for p in Path("sequence_model").iterdir()
                  if p.name.endswith(".npy")) == [
        f"final-{c.name}-{s}.npy" for c in namespace["network"].connections
        for s in ("d", "g")]


def test_readme_adaptive_snippet_learns_long_gap_order(capsys):
    exec(compile(snippets()[2], "README_adaptive", "exec"),
         {"__name__": "readme_adaptive"})
    assert "adaptive accuracy 100%" in capsys.readouterr().out


def test_readme_snippet_repeats_with_numpy_seeded(capsys):
    # The README: mlGeNN's shuffle takes numpy's global generator, so
    # seeding it makes the snippet's learned delays repeat exactly
    import numpy as np
    printed = []
    for run in range(2):
        np.random.seed(3)
        exec(compile(snippets()[0], "README_snippet", "exec"),
             {"__name__": "readme"})
        printed.append(capsys.readouterr().out)
    # "accuracy 100% [[d00 d01] [d10 d11]]": delays printed to 4 digits
    assert printed[0] == printed[1]
    delays = [float(v) for v in re.findall(r"\d+\.\d*", printed[0])]
    assert len(delays) == 4 and len(set(delays)) > 1


def _documented_calls():
    """(dotted name, [parameter names], partial, {name: default as
    written}) of each call in the first column of README's API table
    (``...``: only some listed)."""
    text = README.read_text().split("## API", 1)[1]
    for row in re.findall(r"^\| (`.*?) \|", text, re.M):
        for name, args in re.findall(r"`([\w.]+)\((.*?)\)`", row):
            given = [a.strip().split("=", 1)
                     for a in re.split(r",(?![^(]*\))", args) if a.strip()]
            names = [g[0].strip() for g in given]
            defaults = {g[0].strip(): g[1].strip() for g in given
                        if len(g) == 2}
            yield (name, [n for n in names if n != "..."],
                   "..." in names, defaults)


def test_the_api_table_gives_the_real_parameter_names():
    # Keyword calls with the table's names failed (compiled= for
    # compiled_net=, net_or_compiled= for target=)
    import ast
    import importlib
    import inspect
    import ml_genn_delays
    calls = list(_documented_calls())
    assert len(calls) > 20
    for name, names, partial, defaults in calls:
        module, _, attr = name.rpartition(".")
        owner = (importlib.import_module(f"ml_genn_delays.{module}")
                 if module else ml_genn_delays)
        params = inspect.signature(getattr(owner, attr)).parameters
        real = [("**" if p.kind is p.VAR_KEYWORD else
                 "*" if p.kind is p.VAR_POSITIONAL else "") + n
                for n, p in params.items()]
        if partial:
            assert set(names) <= set(real), (name, names, real)
        else:
            assert names == real, (name, names, real)
        # And the defaults written as Python literals
        for arg, written in defaults.items():
            try:
                value = ast.literal_eval(written)
            except (ValueError, SyntaxError):
                continue
            assert params[arg].default == value, (name, arg, written)
