"""The pytest plugin's gc.freeze at the first sandbox start (workmail_sandbox/pytest_plugin.py docstring).

Each case runs a small project's session with ``pytest.main`` in a fresh interpreter, which prints
what the permanent generation held during the test, during pytest's final collections and after.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

RUNNER = textwrap.dedent('''
    import gc, json, sys
    import pytest
    import _pytest.unraisableexception as unraisable

    seen = {"final": []}
    real = unraisable.gc_collect_harder

    def spy(iterations):
        seen["final"].append(gc.get_freeze_count())
        real(iterations)

    unraisable.gc_collect_harder = spy
    code = pytest.main(sys.argv[1:])
    seen["after"] = gc.get_freeze_count()
    seen["code"] = int(code)
    print("RESULT " + json.dumps(seen))
''')

TESTS = textwrap.dedent('''
    import gc, json, pathlib

    def test_plain():
        pathlib.Path("before.json").write_text(json.dumps(gc.get_freeze_count()))

    def test_with_the_sandbox(workmail_sandbox):
        pathlib.Path("during.json").write_text(json.dumps(gc.get_freeze_count()))
''')


def _session(tmp_path, *options: str) -> dict:
    (tmp_path / "test_gc.py").write_text(TESTS)
    (tmp_path / "run.py").write_text(RUNNER)
    done = subprocess.run(
        [sys.executable, "run.py", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
         *options, "test_gc.py"],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )  # fmt: skip
    line = next((x for x in done.stdout.splitlines() if x.startswith("RESULT ")), None)
    assert line is not None, done.stdout[-3000:] + done.stderr[-2000:]
    seen = json.loads(line.removeprefix("RESULT "))
    assert seen["code"] == 0, done.stdout[-3000:]
    seen["before"] = json.loads((tmp_path / "before.json").read_text())
    seen["during"] = json.loads((tmp_path / "during.json").read_text())
    return seen


def test_the_first_sandbox_freezes_what_exists_until_the_session_ends(tmp_path):
    seen = _session(tmp_path)
    assert seen["before"] == 0, "nothing is frozen before a test uses the sandbox"
    assert seen["during"] > 10_000, "pytest, boto3, moto and the kit are out of the collector's way"
    # pytest's two final collections (unraisable exceptions) run while they are still frozen
    assert len(seen["final"]) == 2 and all(count > seen["during"] * 0.9 for count in seen["final"])
    assert seen["after"] == 0, "the session gives every object back to the collector"


@pytest.mark.parametrize("value", ["false", "0"])
def test_the_ini_option_turns_it_off(tmp_path, value):
    seen = _session(tmp_path, "-o", f"workmail_sandbox_freeze_gc={value}")
    assert seen["during"] == 0 and seen["final"] == [0, 0] and seen["after"] == 0
