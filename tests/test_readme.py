"""The README's snippet runs and does what it says."""
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_snippet_learns_sequence(capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert len(blocks) == 1
    exec(compile(blocks[0], "README_snippet", "exec"), {"__name__": "readme"})
    assert "accuracy 100%" in capsys.readouterr().out
