"""Every relative link in the README, the docs and the notebooks points at a file that exists."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _documents():
    yield from sorted(ROOT.glob("*.md"))
    yield from sorted((ROOT / "docs").rglob("*.md"))
    yield from sorted((ROOT / "data").rglob("README.md"))
    yield from sorted((ROOT / "examples").rglob("README.md"))
    yield from sorted((ROOT / "notebooks").rglob("*.ipynb"))


def _text(path: Path) -> str:
    if path.suffix == ".ipynb":
        notebook = nbformat.read(path, as_version=4)
        return "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize("document", list(_documents()), ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(document):
    broken = []
    for target in LINK.findall(_text(document)):
        if re.match(r"^[a-z]+:", target) or target.startswith(("#", "<")):
            continue  # a URL, an anchor in the same page, or a placeholder
        path = target.split("#", 1)[0]
        if path and not (document.parent / path).exists():
            broken.append(target)
    assert not broken, f"{document.relative_to(ROOT)} links to missing files: {broken}"
