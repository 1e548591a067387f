"""``data/generate_corpus.py`` as a module, for the tests that generate mail (it is a script, not in the package)."""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path
from types import ModuleType

SCRIPT = Path(__file__).resolve().parent.parent / "data" / "generate_corpus.py"


@functools.cache
def load_generator() -> ModuleType:
    """The script, loaded once per test process (its functions keep no state between calls)."""
    spec = importlib.util.spec_from_file_location("generate_corpus", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
