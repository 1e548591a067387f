"""The README's Python examples run as written (from the repository's root, as a reader would)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from workmail_sandbox import sandbox as sbx

ROOT = Path(__file__).resolve().parent.parent
BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), flags=re.S)


def test_the_readme_has_python_examples():
    assert len(BLOCKS) >= 3


@pytest.mark.parametrize("source", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_example_runs(source, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    sbx.stop()
    try:
        exec(compile(source, "README.md", "exec"), {"__name__": "readme_example"})
    finally:
        sbx.stop()
