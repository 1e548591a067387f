"""What ``sam build`` does for a Node.js function: its ``package.json`` dependencies installed with npm.

``npm install --omit=dev`` with the user's npm configuration, once per content hash of
``package.json`` (and its lock file), the runtime, Node.js's version and the platform, in
the same cache as pip's builds (:mod:`workmail_sandbox.sam._build_files`).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import SandboxError
from ._build_files import (
    ALWAYS_EXCLUDED,
    Build,
    _cache_key,
    _cached,
    _finish,
    _run_quietly,
    _scan,
    pip_environment,
)

#: Left out of a Node.js function's code when npm installs its dependencies (npm pack never packs them);
#: the code folder's own top-level ``node_modules`` is left out too.
NODE_EXCLUDED = (*ALWAYS_EXCLUDED, ".npmrc")


#: What npm installs from, copied from the code folder to the folder npm runs in.
_NPM_INPUTS = ("package.json", "package-lock.json", "npm-shrinkwrap.json", ".npmrc")



def _build_node(
    source: Path, runtime: str, root: Path, label: str, saved_environ: Mapping[str, str | None] | None,
    timeout: float, max_bytes: int,
) -> Build:  # fmt: skip
    """A Node.js function: with npm, its code and the ``node_modules`` npm installed; without, the folder as it is."""
    package = source / "package.json"
    env = _npm_environment(saved_environ)
    npm = shutil.which("npm", path=env.get("PATH", os.defpath)) if _npm_dependencies(package) else None
    if npm is None:
        note = _npm_note(source, label)
        return _finish(_scan(source, ALWAYS_EXCLUDED, max_bytes, label, root), root, (), [note] if note else [])
    code = _scan(source, NODE_EXCLUDED, max_bytes, label, root, top_excluded=("node_modules",))
    modules, manifest = _node_modules(source, runtime, root, label, npm, env, timeout)
    files = {f"node_modules/{name}": path for name, path in _scan(modules, ALWAYS_EXCLUDED, sys.maxsize, label,
                                                                     root).items()}  # fmt: skip
    files.update(code)  # the code is copied over the dependencies
    installed = tuple(manifest["installed"])
    total = sum(path.stat().st_size for path in files.values())
    if total > max_bytes:
        raise SandboxError(
            f"{label}: the code with the node_modules npm installed ({len(installed)} packages) comes to "
            f"{total:,} bytes unzipped, over Lambda's limit of {max_bytes:,} bytes.",
            fix="move packages the function does not import out of dependencies in package.json "
            "(devDependencies are left out), or move large files out",
        )
    return _finish(files, root, installed, [])


def _npm_environment(saved: Mapping[str, str | None] | None) -> dict[str, str]:
    """The environment npm runs with: pip's (yours, as it was before the sandbox changed it), without the
    npm settings that would send ``npm install`` elsewhere than the folder it runs in (global, prefix)."""
    env = pip_environment(saved=saved)
    for key in [key for key in env if key.lower() in ("npm_config_global", "npm_config_location", "npm_config_prefix")]:
        del env[key]
    return env


def _npm_dependencies(package: Path) -> dict[str, Any]:
    """What ``package.json`` asks npm to install (``dependencies``, ``optionalDependencies``); {} if unreadable."""
    try:
        manifest = json.loads(package.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    found: dict[str, Any] = {}
    for name in ("dependencies", "optionalDependencies"):
        value = manifest.get(name) if isinstance(manifest, dict) else None
        if isinstance(value, dict):
            found.update(value)
    return found


@functools.lru_cache(maxsize=8)
def _node_version(node: str | None) -> str:
    """``node --version`` (``v20.11.1``), or ``"none"``: native packages are built for it."""
    if node is None:
        return "none"
    try:
        done = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30, check=False)  # noqa: S603
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return done.stdout.strip() or "unknown"


def npm_dependency_key(package_json: str | os.PathLike[str], runtime: str, *, node_version: str | None = None) -> str:
    """The cache key of the ``node_modules`` npm installs for a ``package.json`` (hex SHA-256).

    It follows the bytes of ``package.json`` and of the lock files beside it
    (``package-lock.json``, ``npm-shrinkwrap.json``), the runtime, the Node.js version
    (``node_version``; default: the ``node`` on the PATH) and the platform.
    """
    path = Path(package_json).resolve()
    locks = {
        name: hashlib.sha256((path.parent / name).read_bytes()).hexdigest()
        for name in ("package-lock.json", "npm-shrinkwrap.json")
        if (path.parent / name).is_file()
    }
    return _cache_key(
        npm=hashlib.sha256(path.read_bytes()).hexdigest(),
        locks=locks,
        runtime=runtime,
        node=node_version if node_version is not None else _node_version(shutil.which("node")),
        platform=sysconfig.get_platform(),
    )


def _node_modules(
    source: Path, runtime: str, root: Path, label: str, npm: str, env: Mapping[str, str], timeout: float
) -> tuple[Path, dict[str, Any]]:
    """The ``node_modules`` folder npm installed for ``source/package.json``, and its manifest (cached)."""
    package = source / "package.json"
    node_version = _node_version(shutil.which("node", path=env.get("PATH", os.defpath)))

    def fill(temporary: Path) -> dict[str, Any]:
        work = temporary / "package"
        work.mkdir()
        for name in _NPM_INPUTS:
            if (source / name).is_file():
                shutil.copyfile(source / name, work / name)
        _run_npm(package, work, label, npm, env, timeout)
        modules = temporary / "node_modules"
        if (work / "node_modules").is_dir():
            os.replace(work / "node_modules", modules)
        else:
            modules.mkdir()
        shutil.rmtree(work)
        return {"installed": _npm_installed(modules)}

    final, manifest = _cached(root, npm_dependency_key(package, runtime, node_version=node_version), "npm-", fill)
    return final / "node_modules", manifest


def _run_npm(package: Path, work: Path, label: str, npm: str, env: Mapping[str, str], timeout: float) -> None:
    """``npm install --omit=dev`` in ``work``; a failure raises :class:`SandboxError` with npm's reason."""
    command = [npm, "install", "--omit=dev", "--no-audit", "--no-fund"]
    status, lines = _run_quietly(command, work, env, timeout)
    if status is None:
        raise SandboxError(
            f"{label}: npm did not finish installing the dependencies of {package} in {timeout:g} s, and was stopped.",
            fix="pass a longer timeout=..., or check that npm can reach its registry (registry in .npmrc, proxy "
            "variables)",
        )
    if status == 0:
        return
    raise SandboxError(
        f"{label}: npm could not install the dependencies of {package} (exit status {status}): "
        f"{_npm_reason(lines) or 'no output'}.",
        fix="check the package names and versions in package.json, or your npm configuration (registry, proxy "
        f"variables); run npm install --omit=dev in {package.parent} to see npm's whole output",
    )


_NPM_SAID = re.compile(r"^npm (?:error|ERR!)\s?")


_NPM_NOISE = re.compile(r"^(?:code|errno|syscall|path|signal|command|A complete log|Log files were not written)\b")


def _npm_reason(lines: list[str]) -> str:
    """The line of npm's output that says why (``404 Not Found - GET ...``, ``notarget No matching version ...``)."""
    said = [_NPM_SAID.sub("", line).strip() for line in lines if _NPM_SAID.match(line)]
    said = [line for line in said if line]
    telling = [line for line in said if not _NPM_NOISE.match(line) and not re.fullmatch(r"\d{3}", line)]
    if "command failed" in said:  # a package's install script: its last words, and the script
        script = next((line for line in said if line.startswith("command ") and line != "command failed"), "")
        reason = f"{telling[-1] if telling else 'an install script failed'} ({script})" if script else ""
    else:
        reason = telling[0] if telling else said[0] if said else lines[-1] if lines else ""
    return reason.rstrip(".")[:500]


def _npm_installed(modules: Path) -> list[str]:
    """The packages in ``node_modules`` (npm's hidden lock file, else the folders), sorted."""
    try:
        packages = json.loads((modules / ".package-lock.json").read_text(encoding="utf-8"))["packages"]
        return sorted({key.rpartition("node_modules/")[2] for key in packages if "node_modules/" in key})
    except (OSError, ValueError, KeyError, TypeError):
        pass
    names: set[str] = set()
    for entry in modules.iterdir() if modules.is_dir() else ():
        if entry.name.startswith("@") and entry.is_dir():
            names.update(f"{entry.name}/{sub.name}" for sub in entry.iterdir() if sub.is_dir())
        elif not entry.name.startswith("."):
            names.add(entry.name)
    return sorted(names)


def _npm_note(source: Path, label: str) -> str | None:
    """A warning when package.json lists dependencies that were never installed (no npm, no node_modules)."""
    package = source / "package.json"
    dependencies = _npm_dependencies(package)
    if not dependencies or (source / "node_modules").is_dir():
        return None
    return (
        f"{label}: {package} lists {len(dependencies)} dependencies and {source} has no node_modules folder; "
        f"npm is not on the PATH, so the zip has none of them (install npm, or run npm install in {source} first)."
    )

