"""The README's snippet runs and does what it says."""
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def snippets():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert len(blocks) == 2
    return blocks


def test_readme_snippet_learns_sequence(capsys):
    exec(compile(snippets()[0], "README_snippet", "exec"),
         {"__name__": "readme"})
    assert "accuracy 100%" in capsys.readouterr().out
    assert Path("raster.png").read_bytes()[:4] == b"\x89PNG"


def test_readme_adaptive_snippet_learns_long_gap_order(capsys):
    exec(compile(snippets()[1], "README_adaptive", "exec"),
         {"__name__": "readme_adaptive"})
    assert "adaptive accuracy 100%" in capsys.readouterr().out
