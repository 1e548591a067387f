"""Loading a function's code in its own namespace, as the Lambda Python runtime imports it.

The function's own modules (``app``, ``utils``, vendored packages) sit in
``sys.modules`` only while that function imports (:func:`run_init`) or runs
(:class:`ModuleSwap`); :class:`FunctionFinder` makes a top-level import from the
function's code find the function's own module.
"""

from __future__ import annotations

import contextvars
import importlib
import importlib.machinery
import os
import sys
import threading
import time
from typing import Any

from ._environment import Environment
from ._errors import error_payload, exception_error, exit_error, stack_trace
from ._workers import Outcome

__all__ = [
    "CODE_ROOTS",
    "CURRENT_ENV",
    "IMPORT_LOCK",
    "INIT_TIMEOUT_SECONDS",
    "Fault",
    "FunctionFinder",
    "ModuleSwap",
    "run_init",
    "top_level_names",
]

#: Lambda gives a function's init phase (module-level code) 10 seconds.
INIT_TIMEOUT_SECONDS = 10.0
_MISSING: Any = object()


def _is_own(module: Any, prefix: str) -> bool:
    path = getattr(module, "__file__", None)
    if path:
        return isinstance(path, str) and path.startswith(prefix)
    paths = getattr(module, "__path__", None)
    try:
        return bool(paths) and any(isinstance(p, str) and p.startswith(prefix) for p in paths or ())
    except Exception:  # pragma: no cover - exotic __path__ objects
        return False


#: The folders the runtimes unpack code into: a module from there belongs to a function.
CODE_ROOTS: set[str] = set()
#: Held while a function's code is imported, so no other invocation touches its module names then.
IMPORT_LOCK = threading.RLock()


CURRENT_ENV: contextvars.ContextVar[Environment | None] = contextvars.ContextVar(
    "workmail_sandbox_lambda_environment", default=None
)


class FunctionFinder:
    """First on ``sys.meta_path``: a top-level import made by a function's code finds
    the function's own module (``utils.py`` beside ``app.py``) in its own folder,
    whatever another invocation did to ``sys.path`` meanwhile."""

    @staticmethod
    def find_spec(name: str, path: Any = None, target: Any = None) -> Any:
        if path is not None:
            return None
        env = CURRENT_ENV.get()
        if env is None or name not in env.top_names:
            return None
        return importlib.machinery.PathFinder.find_spec(name, list(env.search_path))

    @staticmethod
    def invalidate_caches() -> None:
        return None


def _is_function_module(module: Any) -> bool:
    return any(_is_own(module, root + os.sep) for root in tuple(CODE_ROOTS))


class ModuleSwap:
    """The function's own modules in ``sys.modules`` while its code runs (in the worker thread).

    Host modules with the same names step aside and come back afterwards;
    modules the code imports lazily are remembered with the environment.
    """

    __slots__ = ("env", "saved", "count")

    def __init__(self, env: Environment) -> None:
        self.env = env

    def enter(self) -> None:
        env = self.env
        modules = sys.modules
        saved: dict[str, Any] = {}
        with IMPORT_LOCK:  # never in the middle of another function's import
            for name, module in env.modules.items():
                saved[name] = modules.get(name, _MISSING)
                modules[name] = module
            for name in env.top_names:
                if name not in env.modules and name in modules:
                    saved[name] = modules.pop(name)
            self.count = len(modules)
        self.saved = saved

    def exit(self) -> None:
        env = self.env
        modules = sys.modules
        with IMPORT_LOCK:
            if len(modules) != self.count:
                _collect_own(env)
            for name, module in env.modules.items():
                if modules.get(name) is module:
                    del modules[name]
            for name, previous in self.saved.items():
                # Another function's module is never put back: it would outlive its invocation.
                if previous is not _MISSING and name not in modules and not _is_function_module(previous):
                    modules[name] = previous


def _collect_own(env: Environment) -> None:
    """Adopt the modules imported from the function's folder."""
    prefixes = tuple(folder + os.sep for folder in env.search_path)
    for name, module in list(sys.modules.items()):
        if name not in env.modules and any(_is_own(module, prefix) for prefix in prefixes):
            env.modules[name] = module


def top_level_names(*folders: str) -> frozenset[str]:
    """The top-level module and package names in ``folders`` (a function's code and its layers)."""
    names = set()
    for folder in folders:
        for entry in os.listdir(folder):
            path = os.path.join(folder, entry)
            if os.path.isdir(path):
                if entry.isidentifier():
                    names.add(entry)
            elif entry.endswith((".py", ".pyc", ".so", ".pyd")):
                names.add(entry.split(".", 1)[0])
    return frozenset(names)


def _load_handler(env: Environment) -> None:
    """Import the handler module and find the handler, as the Lambda Python runtime does."""
    try:
        modname, fname = env.handler_spec.rsplit(".", 1)
    except ValueError as error:
        raise Fault("Runtime.MalformedHandlerName", f"Bad handler '{env.handler_spec}': {error}") from None
    if modname.split(".")[0] in sys.builtin_module_names:
        raise Fault("Runtime.BuiltInModuleConflict", f"Cannot use built-in module {modname} as a handler module")
    try:
        module = importlib.import_module(modname.replace("/", "."))
    except ImportError as error:
        raise Fault("Runtime.ImportModuleError", f"Unable to import module '{modname}': {error}") from None
    except SyntaxError as error:
        trace = [f'  File "{error.filename}" Line {error.lineno}\n    {error.text}']
        raise Fault("Runtime.UserCodeSyntaxError", f"Syntax error in module '{modname}': {error}", trace) from None
    try:
        env.handler = getattr(module, fname)
    except AttributeError:
        raise Fault("Runtime.HandlerNotFound", f"Handler '{fname}' missing on module '{modname}'") from None


class Fault(Exception):
    """An init failure the Lambda runtime reports with its own error type."""

    def __init__(self, error_type: str, message: str, trace: list[str] | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace or []


def run_init(env: Environment, outcome: Outcome, request_id: str) -> None:
    """The init phase: import the handler module (in the worker thread)."""
    outcome.ran_init = True
    started = time.perf_counter()
    locked = IMPORT_LOCK.acquire(timeout=INIT_TIMEOUT_SECONDS)
    modules = sys.modules
    # No host module (and no half-imported module of another function) may shadow the code's own names.
    saved = {name: modules.pop(name) for name in list(modules) if name.partition(".")[0] in env.top_names}
    sys.path[0:0] = env.search_path  # first, even if another invocation's folder went in after ours
    try:
        _load_handler(env)
    except Fault as fault:
        outcome.error = error_payload(fault.message, fault.error_type, "", fault.trace)
        outcome.init_failed = True
    except Exception as error:
        outcome.error = error_payload(str(error), type(error).__name__, "", stack_trace(error.__traceback__))
        outcome.init_failed = True
    except SystemExit as error:
        outcome.error = exit_error(request_id, error)
        outcome.init_failed = True
    except BaseException as error:  # KeyboardInterrupt, GeneratorExit: the code's error, not the caller's
        outcome.error = exception_error(error, "")
        outcome.init_failed = True
    finally:
        for folder in env.search_path:
            try:
                sys.path.remove(folder)
            except ValueError:  # pragma: no cover - the code removed it itself
                pass
        _collect_own(env)
        for name, module in env.modules.items():
            if modules.get(name) is module:
                del modules[name]
        for name, previous in saved.items():
            if name not in modules and not _is_function_module(previous):
                modules[name] = previous
        if locked:
            IMPORT_LOCK.release()
    end = time.perf_counter()
    outcome.init_ms = (end - started) * 1000
    outcome.init_end = end
