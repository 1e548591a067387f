"""What ``sam build`` does for Python and Node.js functions and layers: the code and its dependencies, as one zip.

:func:`build_function` and :func:`build_layer` return a :class:`Build`: a deterministic
zip (fixed timestamps, sorted entries, 0o644/0o755 modes: the same inputs give the same
bytes, hence the same ``CodeSha256``), its SHA-256 and the folder it unpacks to (in the
cache, read-only). As AWS SAM does:

* ``sam build`` installs what a Python function's ``requirements.txt`` lists and puts it
  beside the code, at the top of the zip (SAM CLI reference, ``sam build``:
  https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-cli-command-reference-sam-build.html).
  Its pip workflow (aws/aws-lambda-builders, ``workflows/python_pip/workflow.py``) copies
  the dependencies first and the code over them (a file of the code wins), and leaves
  :data:`PYTHON_EXCLUDED` out of the code, never out of the dependencies: VCS folders,
  caches, virtual environments, editor settings, ``*.pyc``, ``*.so``. Tests and
  ``requirements.txt`` stay in.
* For a ``nodejs*`` function whose ``package.json`` lists ``dependencies``, SAM's npm
  workflow (aws/aws-lambda-builders, ``workflows/nodejs_npm``) packs the code without
  ``node_modules`` and runs ``npm install`` for production dependencies beside it; here
  ``npm install --omit=dev --no-audit --no-fund`` runs in a folder holding ``package.json``
  (and ``package-lock.json``, ``npm-shrinkwrap.json``, ``.npmrc`` when present), and its
  ``node_modules`` goes into the zip beside the code, in place of the code folder's own.
* A layer is built only when its resource has ``Metadata: BuildMethod``; a Python runtime
  there builds it as a function is built, into ``python/`` (where a Python runtime looks
  in ``/opt``); without one, SAM copies the folder as it is (SAM developer guide,
  "Building layers":
  https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/building-layers.html;
  the subfolder is ``get_layer_subfolder`` in aws/aws-sam-cli). ``makefile`` is refused.
* A package holds at most 250 MB unzipped, layers included (Lambda quotas,
  https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html; the API says
  262144000 bytes): a bigger build is refused.

Dependencies are installed once per :func:`dependency_key` (the requirements file's
bytes, the runtime, this Python's version and platform, the build format, the files a
requirement names by path) into the cache (:func:`cache_root`): into a temporary folder,
moved into place under a lock, so builds running at once neither corrupt the cache nor
run pip twice. pip runs as ``sys.executable -m pip install --target ...`` in a
subprocess, in the code folder, with your ``pip.conf`` and ``PIP_*`` variables. npm's
``node_modules`` is cached the same way, once per :func:`npm_dependency_key` (the bytes
of ``package.json`` and of its lock file, the runtime, the Node.js version, the
platform); npm runs with your ``.npmrc`` files and ``npm_config_*`` variables.

Deviations: pip installs for the Python running the kit (the sandbox runs functions on
it, whatever ``Runtime`` says), not in a Lambda-like container. boto3, botocore and
s3transfer are left out: the sandbox runs functions with the kit's boto3, whose botocore
carries the emulators' hooks (Lambda would use a packaged boto3 before the runtime's); a
warning says so when ``requirements.txt`` or a dependency asks for them. ``python3.x``
and ``nodejs*`` functions are built (``nodejs*`` ones only when ``npm`` is on the PATH;
without it, the folder is zipped as it is, its own ``node_modules`` included, with a
warning when that is missing); other runtimes and Node.js layers are zipped as they are.
npm installs for the Node.js on this machine, not in a Lambda-like container; a
dependency named by path (``file:``) is resolved from a temporary folder, and fails. Links
to folders are not followed. The cache is never pruned. The sandbox clears proxy
variables and sets fake credentials while it runs; this module sits below it and cannot
ask it, so the caller passes what it saved as ``saved_environ`` (:func:`pip_environment`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import sys
import sysconfig
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from ..errors import SandboxError
from ._build_files import (
    ALWAYS_EXCLUDED,
    BUILD_FORMAT,
    Build,
    _cache_key,
    _cached,
    _excluded,
    _finish,
    _folder,
    _run_quietly,
    _scan,
    pip_environment,
)
from ._npm import _build_node, npm_dependency_key

__all__ = [
    "ALWAYS_EXCLUDED", "BUILD_FORMAT", "DEFAULT_PIP_TIMEOUT", "KIT_PACKAGES", "MAX_UNZIPPED_BYTES", "PYTHON_EXCLUDED",
    "Build", "build_function", "build_layer", "cache_root", "dependency_key", "npm_dependency_key", "pip_environment",
]  # fmt: skip

#: Lambda's limit on a deployment package's unzipped size, layers included (262144000 bytes).
MAX_UNZIPPED_BYTES = 250 * 1024 * 1024
#: Seconds pip (or npm) may take before it is stopped.
DEFAULT_PIP_TIMEOUT = 600.0
#: Left out of every build: the sandbox runs functions with the kit's own copies.
KIT_PACKAGES = ("boto3", "botocore", "s3transfer")
#: Left out of a Python function's or layer's code, as SAM's pip workflow leaves them out.
PYTHON_EXCLUDED = (
    *ALWAYS_EXCLUDED, ".chalice", ".gitignore", "*.so", ".Python", "*.egg-info", "*.egg", "pip-log.txt",
    "pip-delete-this-directory.txt", "htmlcov", ".tox", ".nox", ".coverage", ".cache", ".pytest_cache",
    ".python-version", ".mypy_cache", ".dmypy.json", ".pyre", ".env", ".venv", "venv", "venv.bak", "env.bak",
    "ENV", "env", ".vscode", ".idea",
)  # fmt: skip


_NAME = re.compile(r"^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)")


def cache_root() -> str:
    """``$WORKMAIL_SANDBOX_CACHE``, else ``$XDG_CACHE_HOME/workmail-sandbox``, else ``~/.cache/workmail-sandbox``."""
    explicit = os.environ.get("WORKMAIL_SANDBOX_CACHE")
    if explicit:
        return os.path.abspath(os.path.expanduser(explicit))
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = xdg if xdg and os.path.isabs(xdg) else os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "workmail-sandbox")


# Building -------------------------------------------------------------------------------------


def build_function(
    code_dir: str | os.PathLike[str],
    *,
    runtime: str = "python3.12",
    cache_dir: str | None = None,
    logical_id: str = "",
    saved_environ: Mapping[str, str | None] | None = None,
    timeout: float = DEFAULT_PIP_TIMEOUT,
    max_bytes: int = MAX_UNZIPPED_BYTES,
) -> Build:
    """Build a function's code folder as ``sam build`` does (see the module docstring).

    ``saved_environ`` is the running sandbox's saved variables (:func:`pip_environment`);
    ``timeout`` bounds pip's run, ``max_bytes`` the unzipped size.
    """
    label = f"Function {logical_id}" if logical_id else "The function"
    source = _folder(code_dir, label, "CodeUri")
    root = Path(cache_dir or cache_root())
    if not _is_python(runtime, label):
        if runtime.startswith("nodejs"):
            return _build_node(source, runtime, root, label, saved_environ, timeout, max_bytes)
        return _finish(_scan(source, ALWAYS_EXCLUDED, max_bytes, label, root), root, (), [])
    return _build_python(source, "", runtime, root, label, saved_environ, timeout, max_bytes)


def build_layer(
    content_dir: str | os.PathLike[str],
    *,
    runtime: str = "python3.12",
    build_method: str | None = None,
    cache_dir: str | None = None,
    logical_id: str = "",
    saved_environ: Mapping[str, str | None] | None = None,
    timeout: float = DEFAULT_PIP_TIMEOUT,
    max_bytes: int = MAX_UNZIPPED_BYTES,
) -> Build:
    """Build a layer's content folder as ``sam build`` does: with a Python ``build_method``
    (its ``Metadata: BuildMethod``), the files and dependencies go into ``python/``;
    without one, the folder is zipped as it is. ``runtime`` is the layer's first
    compatible runtime, used in messages; the other arguments are :func:`build_function`'s.
    """
    label = f"Layer {logical_id}" if logical_id else "The layer"
    source = _folder(content_dir, label, "ContentUri")
    root = Path(cache_dir or cache_root())
    notes: list[str] = []
    if build_method is None:
        if (source / "requirements.txt").is_file():
            method = runtime if runtime.startswith("python3") else "python3.12"
            notes.append(
                f"{label}: {source / 'requirements.txt'} is not installed, because the layer has no "
                f"Metadata: BuildMethod (sam build then copies the folder as it is); add BuildMethod: {method} "
                "to install it into python/."
            )
        return _finish(_scan(source, ALWAYS_EXCLUDED, max_bytes, label, root), root, (), notes)
    if build_method == "makefile":
        raise SandboxError(
            f"{label} has BuildMethod makefile: sam build would run the Makefile's build target, "
            "and the sandbox does not run make.",
            fix="build the layer yourself (make) and point ContentUri at the folder it makes, without a BuildMethod",
        )
    if not _is_python(build_method, label):
        notes.append(f"{label}: the sandbox builds only python3.x layers; BuildMethod {build_method} is zipped as is.")
        return _finish(_scan(source, ALWAYS_EXCLUDED, max_bytes, label, root), root, (), notes)
    return _build_python(source, "python/", build_method, root, label, saved_environ, timeout, max_bytes)


def _build_python(
    source: Path, prefix: str, runtime: str, root: Path, label: str,
    saved_environ: Mapping[str, str | None] | None, timeout: float, max_bytes: int,
) -> Build:  # fmt: skip
    code = _scan(source, PYTHON_EXCLUDED, max_bytes, label, root)
    requirements = source / "requirements.txt"
    files: dict[str, Path] = {}
    installed: tuple[str, ...] = ()
    notes: list[str] = []
    lines = _requirement_lines(requirements) if requirements.is_file() else []
    if any(not line.startswith("-") or _option(line)[0] in _INSTALLING for line in lines):  # not only options
        site, manifest = _dependencies(requirements, runtime, root, label, saved_environ, timeout)
        files = _scan(site, ("__pycache__", "*.pyc"), sys.maxsize, label, root)  # the total is checked below
        installed = tuple(manifest["installed"])
        note = _kit_note(requirements, manifest, label)
        if note:
            notes.append(note)
    files.update(code)  # the code is copied over the dependencies, as SAM does
    total = sum(path.stat().st_size for path in files.values())
    if total > max_bytes:
        raise SandboxError(
            f"{label}: the code with its dependencies ({', '.join(installed) or 'none'}) comes to "
            f"{total:,} bytes unzipped, over Lambda's limit of {max_bytes:,} bytes.",
            fix="remove packages the function does not import from requirements.txt, or move large files out",
        )
    return _finish({prefix + name: path for name, path in files.items()}, root, installed, notes)


def _is_python(runtime: str, label: str) -> bool:
    if not isinstance(runtime, str) or not runtime:
        raise SandboxError(f"{label} has no runtime ({runtime!r}).", fix="pass runtime='python3.12' (its Runtime)")
    return re.fullmatch(r"python3\.\d+", runtime) is not None


# Dependencies ---------------------------------------------------------------------------------


def _requirement_lines(path: Path) -> list[str]:
    """The logical lines of a requirements file, without comments and blank lines (pip's rules)."""
    text = path.read_text(encoding="utf-8", errors="replace").replace("\r\n", "\n").replace("\\\n", "")
    lines = (re.sub(r"(^|\s)#.*$", "", raw).strip() for raw in text.splitlines())
    return [line for line in lines if line]


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


_INSTALLING = ("-r", "--requirement", "-e", "--editable")  # options that name something to install
_PATH_OPTIONS = ("-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-f", "--find-links")


def _option(line: str) -> tuple[str, str]:
    """``("-r", "other.txt")`` for ``-r other.txt``, ``-rother.txt`` or ``--requirement=other.txt``."""
    if line.startswith("--"):
        match = re.match(r"(--[A-Za-z-]+)[=\s]*(.*)$", line)
        return (match.group(1), match.group(2).strip()) if match else (line, "")
    return line[:2], line[2:].strip()


def _local_references(path: Path, depth: int = 0) -> list[tuple[str, str]]:
    """``(path, fingerprint)`` for the files and folders a requirements file names by path."""
    found: list[tuple[str, str]] = []
    for line in _requirement_lines(path):
        option, value = _option(line) if line.startswith("-") else ("", line)
        if option and option not in _PATH_OPTIONS:
            continue
        if not option and " @ " in line:
            value = line.split(" @ ", 1)[1].strip()
        if value.startswith("file:"):
            value = unquote(urlparse(value).path)
        elif "://" in value or not (option or value.startswith((".", "/", "~"))):
            continue  # a name from an index, or a URL
        local = (path.parent / os.path.expanduser(value.split(";")[0].split("[")[0].strip())).resolve()
        if option in _PATH_OPTIONS[:4] and local.is_file() and depth < 5:
            found += _local_references(local, depth + 1)
        found.append((str(local), _fingerprint(local)))
    return found


def _fingerprint(path: Path) -> str:
    """A file's content hash, or a folder's file names, sizes and modification times (bounded)."""
    if path.is_file():
        info = path.stat()
        big = info.st_size >= 2**26
        return f"{info.st_size}/{info.st_mtime_ns}" if big else hashlib.sha256(path.read_bytes()).hexdigest()
    if not path.is_dir():
        return "missing"
    digest = hashlib.sha256()
    for count, (folder, dirs, names) in enumerate(os.walk(path)):
        dirs[:] = sorted(d for d in dirs if not _excluded(d, PYTHON_EXCLUDED) and d not in ("build", "dist"))
        for name in sorted(names):
            info = os.stat(os.path.join(folder, name))
            digest.update(f"{os.path.join(folder, name)}\0{info.st_size}\0{info.st_mtime_ns}\n".encode())
        if count > 10_000:
            break
    return digest.hexdigest()


def dependency_key(requirements: str | os.PathLike[str], runtime: str) -> str:
    """The cache key of a requirements file's installed dependencies (hex SHA-256)."""
    path = Path(requirements).resolve()
    return _cache_key(
        requirements=hashlib.sha256(path.read_bytes()).hexdigest(),
        runtime=runtime,
        python=f"{sys.implementation.name}{sys.version_info[0]}.{sys.version_info[1]}{getattr(sys, 'abiflags', '')}",
        platform=sysconfig.get_platform(),
        local=_local_references(path),
    )


def _dependencies(
    requirements: Path, runtime: str, root: Path, label: str, saved_environ: Mapping[str, str | None] | None,
    timeout: float,
) -> tuple[Path, dict[str, Any]]:  # fmt: skip
    """The installed dependencies' folder and manifest, from the cache or from one pip run."""

    def fill(temporary: Path) -> dict[str, Any]:
        site = temporary / "site"
        _run_pip(requirements, site, label, pip_environment(saved=saved_environ), timeout)
        site.mkdir(exist_ok=True)
        manifest = _remove_kit_packages(site)
        manifest["installed"] = sorted(_metadata(info)[0] for info in site.glob("*.dist-info"))
        return manifest

    final, manifest = _cached(root, dependency_key(requirements, runtime), "deps-", fill)
    return final / "site", manifest


def _run_pip(requirements: Path, target: Path, label: str, env: Mapping[str, str], timeout: float) -> None:
    """``pip install --target`` in a subprocess; a failure raises :class:`SandboxError` with pip's reason."""
    command = [
        sys.executable, "-m", "pip", "install", "--target", str(target), "--disable-pip-version-check",
        "--no-input", "--no-compile", "--no-warn-conflicts", "-r", str(requirements),
    ]  # fmt: skip
    fix = (
        "check the requirement's name and version, or your pip configuration (index-url, find-links, proxy "
        f"variables); run {Path(sys.executable).name} -m pip install -r {requirements} to see pip's whole output"
    )
    status, lines = _run_quietly(command, requirements.parent, env, timeout)
    if status is None:
        raise SandboxError(
            f"{label}: pip did not finish installing {requirements} in {timeout:g} s, and was stopped.",
            fix="pass a longer timeout=..., or check that pip can reach its index (index-url, proxy variables)",
        )
    if status == 0:
        return
    errors = [line for line in lines if line.startswith("ERROR:")]
    reason = (errors[-1].removeprefix("ERROR:").strip() if errors else lines[-1] if lines else "")[:500]
    raise SandboxError(
        f"{label}: pip could not install {requirements} (exit status {status}): {reason or 'no output'}.", fix=fix
    )


def _metadata(dist_info: Path) -> tuple[str, str, list[str]]:
    """``(name, version, Requires-Dist names)`` of an installed distribution."""
    fields = {"Name": dist_info.name.split("-")[0], "Version": dist_info.name[:-10].partition("-")[2]}
    requires: list[str] = []
    path = dist_info / "METADATA"
    text = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""
    for line in text.split("\n\n", 1)[0].splitlines():
        key, _, value = line.partition(":")
        if key in ("Name", "Version"):
            fields[key] = value.strip()
        elif key == "Requires-Dist" and "extra ==" not in value:
            match = _NAME.match(value.strip())
            if match:
                requires.append(_canonical(match.group(1)))
    return fields["Name"], fields["Version"], requires


def _remove_kit_packages(site: Path) -> dict[str, Any]:
    """Delete boto3, botocore and s3transfer from ``site``; say which were there and who needed them."""
    removed: dict[str, str] = {}
    required_by: dict[str, list[str]] = {}
    for dist_info in sorted(site.glob("*.dist-info")):
        name, version, requires = _metadata(dist_info)
        if _canonical(name) in KIT_PACKAGES:
            removed[_canonical(name)] = version
            record = dist_info / "RECORD"
            for line in record.read_text(encoding="utf-8").splitlines() if record.is_file() else []:
                path = (site / line.rsplit(",", 2)[0]).resolve()
                if path.is_relative_to(site.resolve()) and path.is_file():
                    path.unlink()
            shutil.rmtree(dist_info, ignore_errors=True)
        else:
            for needed in requires:
                if needed in KIT_PACKAGES:
                    required_by.setdefault(needed, []).append(name)
    for package in KIT_PACKAGES:
        shutil.rmtree(site / package, ignore_errors=True)
    for folder, dirs, names in os.walk(site, topdown=False):  # folders the RECORDs emptied
        if not dirs and not names and Path(folder) != site:
            with contextlib.suppress(OSError):
                os.rmdir(folder)
    return {"removed": removed, "required_by": {k: sorted(v) for k, v in required_by.items() if k in removed}}


def _kit_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "(not installed)"


def _kit_note(requirements: Path, manifest: Mapping[str, Any], label: str) -> str | None:
    """One line when boto3, botocore or s3transfer was asked for (or pulled in) and left out."""
    removed: dict[str, str] = manifest.get("removed") or {}
    if not removed:
        return None
    asked: dict[str, str] = {}
    for line in _requirement_lines(requirements):
        match = _NAME.match(line)
        if match and _canonical(match.group(1)) in KIT_PACKAGES:
            asked[_canonical(match.group(1))] = line
    reasons = [f"asks for {', '.join(asked.values())}"] if asked else []
    for package, users in sorted((manifest.get("required_by") or {}).items()):
        if package not in asked:
            reasons.append(f"brings in {package} for {', '.join(users)}")
    left_out = ", ".join(f"{name} {version}" for name, version in sorted(removed.items()))
    return (
        f"{label}: {requirements} {'; '.join(reasons) or 'brings in ' + left_out}: the build leaves out "
        f"{left_out}, and the sandbox runs the function with the kit's boto3 {_kit_version('boto3')} (botocore "
        f"{_kit_version('botocore')}), which carries its emulators' hooks; on Lambda the packaged copy would be "
        "used instead of the runtime's. If the code needs a newer AWS API, upgrade boto3 where the kit is installed."
    )


# Node.js: npm -----------------------------------------------------------------------------------


