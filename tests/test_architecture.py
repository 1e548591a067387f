"""The package's shape: no import circles, no monoliths, moto's internals in one module.

The import graph counts every import of a ``workmail_sandbox`` module, at module
level and inside functions (a function-level import still ties two modules
together); imports under ``if TYPE_CHECKING:`` are left out, because they only
serve annotations. A package's own ``__init__`` importing its submodules is an
edge like any other. docs/architecture.md describes the layers.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "workmail_sandbox"
MAX_LINES = 600


def _modules() -> dict[str, tuple[Path, bool]]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        if "apps" in path.relative_to(PACKAGE).parts[:1] and path.name != "__init__.py":
            continue  # the kit's function apps are Lambda code, not part of the package's graph
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        found[".".join(parts)] = (path, is_package)
    return found


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                skipped.update(id(inner) for inner in ast.walk(child))
    return skipped


def _targets(module: str, is_package: bool, node: ast.AST, modules: dict) -> list[str]:
    names: list[str] = []
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom):
        if node.level:
            base = module.split(".") if is_package else module.split(".")[:-1]
            base = base[: len(base) - (node.level - 1)]
            source = ".".join(base + ([node.module] if node.module else []))
        else:
            source = node.module or ""
        names = [f"{source}.{alias.name}" if f"{source}.{alias.name}" in modules else source for alias in node.names]
    resolved = []
    for name in names:
        while name and name not in modules and "." in name:
            name = name.rsplit(".", 1)[0]
        if name in modules and name != module:
            resolved.append(name)
    return resolved


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, (path, is_package) in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skipped = _type_checking_nodes(tree)
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)) and id(node) not in skipped:
                graph[name].update(_targets(name, is_package, node, modules))
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_sees_function_level_imports():
    graph = import_graph()
    assert graph, "the package has modules"
    assert "workmail_sandbox.errors" in graph["workmail_sandbox.sandbox"]


def test_no_import_circles():
    graph = import_graph()
    found = cycles(graph)
    described = [" <-> ".join(c) + " (" + "; ".join(f"{m} -> {sorted(graph[m] & set(c))}" for m in c) + ")" for c in found]
    assert not found, "import circles: " + " | ".join(described)


def test_no_module_is_a_monolith():
    """Over MAX_LINES lines only when the docstring says why it is one concept ("One concept:")."""
    too_long = []
    for name, (path, _) in _modules().items():
        text = path.read_text(encoding="utf-8")
        lines = text.count("\n")
        docstring = ast.get_docstring(ast.parse(text)) or ""
        if lines > MAX_LINES and "One concept:" not in docstring:
            too_long.append(f"{name} ({lines} lines)")
    assert not too_long, "split these, or say in the docstring why each is one concept: " + ", ".join(too_long)


def test_moto_and_botocore_internals_stay_in_the_adapter():
    """Private names of moto or botocore (``_x`` attributes, BUILTIN_HANDLERS) appear only in _moto.py."""
    offenders = []
    for name, (path, _) in _modules().items():
        if name == "workmail_sandbox._moto":
            continue
        text = path.read_text(encoding="utf-8")
        for marker in ("BUILTIN_HANDLERS", "._instances", "_parsed_resources", "_create_output_map", "._lambdas",
                       "._functions", "instances_tracked", "bucket_accounts", "session._session", "._session.",
                       "logs_backends", "iam_backends", "cloudformation_backends"):
            if marker in text:
                offenders.append(f"{name}: {marker}")
    assert not offenders, "use workmail_sandbox._moto for: " + ", ".join(offenders)


#: The layers of docs/architecture.md, top to bottom: a module may import its own layer and those below.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    (
        "entry points",
        (
            "cli", "lessons", "widgets", "workshop", "pytest_plugin", "doctor", "replay_folder", "replay_jobs",
            "project_invoke", "endpoint", "replay_dask", "_quickpath", "migrate",
        ),
    ),
    ("deployment", ("deploy",)),
    ("mail flow", ("organization", "flow", "replay", "replay_summary", "smtp_door", "ses.receiving")),
    ("sandbox", ("sandbox", "aws")),
    ("runtime", ("lambda_runtime",)),
    ("emulators", ("emulators",)),
    ("permissions", ("permissions",)),
    ("templates", ("apps", "sam")),
    (
        "state and adapters",
        (
            "emulators._core", "_moto", "_internal_clients", "invocation", "network", "stand_ins", "_http_stand_ins",
            "call_log", "ses._hooks",
            # the endpoint's wire transport, which worker processes call (serve() is an entry point)
            "endpoint.server", "endpoint.services",
        ),
    ),
    ("pure models", ("events", "responses", "mail", "rules", "iam", "workmail_service", "clock", "errors",
                     "_yaml_limits", "_text_files", "ses", "handler_logs", "_gc_pause", "_lazy")),
]


def _layer(module: str) -> int | None:
    relative = module.removeprefix("workmail_sandbox").removeprefix(".")
    best: tuple[int, int] | None = None  # (length of the matching prefix, layer)
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            matches = relative == prefix or relative.startswith(prefix + ".")
            if matches and (best is None or len(prefix) > best[0]):
                best = (len(prefix), index)
    return None if best is None else best[1]


def test_every_module_has_a_layer():
    missing = [m for m in import_graph() if m != "workmail_sandbox" and _layer(m) is None]
    assert not missing, "add these to LAYERS (and docs/architecture.md): " + ", ".join(sorted(missing))


def test_imports_go_down_the_layers():
    upward = []
    for module, targets in import_graph().items():
        here = _layer(module)
        if here is None:
            continue
        for target in targets:
            there = _layer(target)
            if there is not None and there < here:
                upward.append(f"{module} ({LAYERS[here][0]}) -> {target} ({LAYERS[there][0]})")
    assert not upward, "imports that go up a layer: " + "; ".join(sorted(upward))
