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
