"""How long each lesson takes a learner: words read at 200 words a minute, plus the time its cells run.

Not a speed benchmark of the kit: it produces the minutes lesson 00 quotes for
its routes. For each notebook in ``notebooks/`` it counts the words of every
markdown and code cell (a learner reads the code too; whitespace-separated
tokens, so a URL is one word) and divides by ``--wpm`` (200, a common figure
for reading technical text); it then runs the notebook top to bottom with
nbclient, in a fresh kernel with ``notebooks/`` as the working folder, and adds
the wall time of its code cells (kernel start-up left out). The sum is rounded
to whole minutes.

A route is a list of lessons, or of the first cells of one (``07:12`` is lesson
07 up to and including cell 12, the check of exercise 2); ``00:N`` up to the
``try_handler`` cell is "until your own handler runs".

Run: ``.venv/bin/python benchmarks/lesson_minutes.py`` (``--wpm 200``). It
prints one row per lesson and one per route, as markdown.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
#: Lesson 00's cell that calls try_handler (the route "your own function" ends there).
TRY_CELL = "lessons.try_handler("
#: The cell that checks workshop exercise 2 (the short route ends there).
EXERCISE_2_CHECK = "workshop.check(2,"


def words(cell) -> int:
    return len(re.findall(r"\S+", cell.source))


def run_seconds(path: Path) -> list[float]:
    """Seconds each cell of ``path`` takes to run (0 for markdown), in a fresh kernel."""
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=600, resources={"metadata": {"path": str(path.parent)}})
    took: list[float] = []
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                took.append(0.0)
                continue
            start = time.perf_counter()
            client.execute_cell(cell, index)
            took.append(time.perf_counter() - start)
    return took


def upto(nb, marker: str) -> int:
    """The index of the first code cell containing ``marker``."""
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and marker in cell.source:
            return index
    sys.exit(f"no cell contains {marker!r}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wpm", type=float, default=200.0)
    args = parser.parse_args()
    lessons = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    rows: dict[str, tuple[list[int], list[float]]] = {}
    for path in lessons:
        nb = nbformat.read(path, as_version=4)
        rows[path.stem[:2]] = ([words(c) for c in nb.cells], run_seconds(path))

    def minutes(lesson: str, last: int | None = None) -> tuple[int, float, float]:
        counts, seconds = rows[lesson]
        end = len(counts) if last is None else last + 1
        total_words = sum(counts[:end])
        run = sum(seconds[:end])
        return total_words, run, total_words / args.wpm + run / 60

    print(f"| lesson | words | run (s) | minutes at {args.wpm:.0f} words/min |")
    print("|---|---|---|---|")
    for lesson in rows:
        w, run, m = minutes(lesson)
        print(f"| {lesson} | {w:,} | {run:.1f} | {m:.0f} |")
    nb00 = nbformat.read(NOTEBOOKS / "00_start_here.ipynb", as_version=4)
    nb07 = nbformat.read(NOTEBOOKS / "07_workshop.ipynb", as_version=4)
    first = minutes("00", upto(nb00, TRY_CELL))
    short = [minutes("00"), minutes("03"), minutes("04"), minutes("07", upto(nb07, EXERCISE_2_CHECK))]
    full = [minutes(lesson) for lesson in rows]
    print()
    print("| route | minutes |")
    print("|---|---|")
    print(f"| 00 up to your own handler (the try_handler cell) | {first[2]:.1f} |")
    print(f"| 00 → 03 → 04 → 07 exercise 2 | {sum(m for _, _, m in short):.0f} |")
    print(f"| 00 → 08, the full series | {sum(m for _, _, m in full):.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
