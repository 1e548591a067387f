"""What ``sam build`` does for Python functions and layers: the code and its dependencies, as one zip.

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
subprocess, in the code folder, with your ``pip.conf`` and ``PIP_*`` variables.

Deviations: pip installs for the Python running the kit (the sandbox runs functions on
it, whatever ``Runtime`` says), not in a Lambda-like container. boto3, botocore and
s3transfer are left out: the sandbox runs functions with the kit's boto3, whose botocore
carries the emulators' hooks (Lambda would use a packaged boto3 before the runtime's); a
warning says so when ``requirements.txt`` or a dependency asks for them. Only
``python3.x`` runtimes are built; others are zipped as they are (npm is not run). Links
to folders are not followed. The cache is never pruned. The sandbox clears proxy
variables and sets fake credentials while it runs; this module sits below it and cannot
ask it, so the caller passes what it saved as ``saved_environ`` (:func:`pip_environment`).
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import io
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import sysconfig
import tempfile
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from ..errors import SandboxError

__all__ = [
    "ALWAYS_EXCLUDED", "BUILD_FORMAT", "DEFAULT_PIP_TIMEOUT", "KIT_PACKAGES", "MAX_UNZIPPED_BYTES", "PYTHON_EXCLUDED",
    "Build", "build_function", "build_layer", "cache_root", "dependency_key", "pip_environment",
]  # fmt: skip

#: Bumped when the layout of the cache or of a build changes: old cache entries are then not reused.
BUILD_FORMAT = 1
#: Lambda's limit on a deployment package's unzipped size, layers included (262144000 bytes).
MAX_UNZIPPED_BYTES = 250 * 1024 * 1024
#: Seconds pip may take before it is stopped.
DEFAULT_PIP_TIMEOUT = 600.0
#: Left out of every build: the sandbox runs functions with the kit's own copies.
KIT_PACKAGES = ("boto3", "botocore", "s3transfer")
#: Left out of every folder zipped: version control, SAM's own output, Python's caches.
ALWAYS_EXCLUDED = (".git", ".hg", ".svn", ".aws-sam", "__pycache__", "*.pyc")
#: Left out of a Python function's or layer's code, as SAM's pip workflow leaves them out.
PYTHON_EXCLUDED = (
    *ALWAYS_EXCLUDED, ".chalice", ".gitignore", "*.so", ".Python", "*.egg-info", "*.egg", "pip-log.txt",
    "pip-delete-this-directory.txt", "htmlcov", ".tox", ".nox", ".coverage", ".cache", ".pytest_cache",
    ".python-version", ".mypy_cache", ".dmypy.json", ".pyre", ".env", ".venv", "venv", "venv.bak", "env.bak",
    "ENV", "env", ".vscode", ".idea",
)  # fmt: skip

_FIXED_DATE = (1980, 1, 1, 0, 0, 0)
_OUTPUT_KEPT = 64 * 1024  # the tail of pip's output kept for the error message
_MANIFEST = "build.json"
_NAME = re.compile(r"^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)")


@dataclass(frozen=True)
class Build:
    """A built function or layer: its zip, the zip's SHA-256, and what went into it."""

    zip_bytes: bytes = field(repr=False)
    sha256: str
    folder: str  # the zip unpacked, in the cache: read it, never write to it
    installed: tuple[str, ...]  # distributions in the build (pip installed them), sorted
    warnings: tuple[str, ...]  # one line each


def cache_root() -> str:
    """``$WORKMAIL_SANDBOX_CACHE``, else ``$XDG_CACHE_HOME/workmail-sandbox``, else ``~/.cache/workmail-sandbox``."""
    explicit = os.environ.get("WORKMAIL_SANDBOX_CACHE")
    if explicit:
        return os.path.abspath(os.path.expanduser(explicit))
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = xdg if xdg and os.path.isabs(xdg) else os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "workmail-sandbox")


def pip_environment(
    environ: Mapping[str, str] | None = None, *, saved: Mapping[str, str | None] | None = None
) -> dict[str, str]:
    """The environment pip runs with: yours, as it was before the sandbox changed it.

    ``environ`` defaults to ``os.environ``. ``saved`` is what the running sandbox
    saved when it started (``Sandbox._saved_env``: each variable it set or removed,
    ``None`` for one that did not exist): putting it back drops its fake AWS
    credentials and brings back your proxy variables. Without ``saved``, while the
    sandbox runs, every ``AWS_*`` variable is dropped (they are the sandbox's) and
    proxies stay unset. ``PIP_USER``, ``PIP_PREFIX`` and ``PIP_ROOT`` would clash
    with ``--target``: they are switched off.
    """
    from ..emulators._core import STATE  # not the sandbox module: it sits above this one

    env = dict(os.environ if environ is None else environ)
    if saved is not None:
        env.update({key: value for key, value in saved.items() if value is not None})
        for key in [key for key, value in saved.items() if value is None]:
            env.pop(key, None)
    elif STATE.active:
        for key in [key for key in env if key.startswith("AWS_") or key == "MOTO_ACCOUNT_ID"]:
            del env[key]
    env.pop("PIP_PREFIX", None)
    env.pop("PIP_ROOT", None)
    env["PIP_USER"] = "0"
    return env


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
        entries = _scan(source, ALWAYS_EXCLUDED, max_bytes, label, root)
        notes = [_npm_note(source, label)] if runtime.startswith("nodejs") else []
        return _finish(entries, root, (), [note for note in notes if note])
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


def _folder(path: str | os.PathLike[str], label: str, prop: str) -> Path:
    folder = Path(path).expanduser().resolve()
    if not folder.is_dir():
        raise SandboxError(
            f"{label}: {os.fspath(path)!r} is not a folder.",
            fix=f"point {prop} at the folder that holds the code (relative to the template's folder)",
        )
    return folder


def _excluded(name: str, patterns: tuple[str, ...]) -> bool:
    return any(name == pattern or fnmatch.fnmatchcase(name, pattern) for pattern in patterns)


def _scan(top: Path, patterns: tuple[str, ...], max_bytes: int, label: str, root: Path) -> dict[str, Path]:
    """``{zip name: file}`` for the files under ``top``, skipping ``patterns`` (names at any depth)."""
    found: dict[str, Path] = {}
    total = 0
    skip = {os.path.realpath(root)}  # a cache kept inside the code folder is not code
    for folder, dirs, names in os.walk(top):  # symbolic links to folders are not followed
        dirs[:] = sorted(
            d for d in dirs if not _excluded(d, patterns) and os.path.realpath(os.path.join(folder, d)) not in skip
        )
        for name in sorted(names):
            path = Path(folder, name)
            if _excluded(name, patterns) or not path.is_file():  # sockets, broken links
                continue
            total += path.stat().st_size
            if total > max_bytes:
                raise SandboxError(
                    f"{label}: {top} holds more than {max_bytes:,} bytes, Lambda's limit for a deployment "
                    "package unzipped (layers included).",
                    fix="keep data, virtual environments and build output out of the code folder",
                )
            found[path.relative_to(top).as_posix()] = path
    return found


def _finish(files: Mapping[str, Path], root: Path, installed: tuple[str, ...], notes: list[str]) -> Build:
    data = _zip(files)
    digest = hashlib.sha256(data).hexdigest()
    return Build(data, digest, _unpacked(data, digest, root), tuple(sorted(installed)), tuple(notes))


def _zip(files: Mapping[str, Path]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            path = files[name]
            info = zipfile.ZipInfo(name, date_time=_FIXED_DATE)
            info.create_system = 3  # Unix, whatever the host: the same bytes everywhere
            info.compress_type = zipfile.ZIP_DEFLATED
            try:
                mode = 0o755 if path.stat().st_mode & 0o111 else 0o644
                info.external_attr = (stat.S_IFREG | mode) << 16
                with path.open("rb") as src, archive.open(info, "w") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
            except OSError as error:
                raise SandboxError(
                    f"{path} cannot be read ({error.strerror or error}).", fix="check the file's permissions"
                ) from None
    return buffer.getvalue()


def _unpacked(data: bytes, digest: str, root: Path) -> str:
    """The zip unpacked into ``<root>/builds/<digest>`` (once: the folder is named after its content)."""
    folder = root / "builds" / digest[:32]
    if folder.is_dir():
        return str(folder)
    temporary = _temporary(root, "build-")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist():
                target = Path(archive.extract(info, temporary))
                target.chmod((info.external_attr >> 16) & 0o777 or 0o644)
        _move_into_place(temporary, folder)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
    return str(folder)


def _temporary(root: Path, prefix: str) -> Path:
    (root / "tmp").mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=prefix, dir=root / "tmp"))


def _move_into_place(temporary: Path, final: Path) -> None:
    final.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(temporary, final)
    except OSError:
        if not final.is_dir():  # otherwise another build put the same content there first
            raise


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
    payload = {
        "format": BUILD_FORMAT,
        "requirements": hashlib.sha256(path.read_bytes()).hexdigest(),
        "runtime": runtime,
        "python": f"{sys.implementation.name}{sys.version_info[0]}.{sys.version_info[1]}{getattr(sys, 'abiflags', '')}",
        "platform": sysconfig.get_platform(),
        "local": _local_references(path),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+b") as handle:
        try:
            import fcntl
        except ImportError:  # Windows: os.replace alone keeps the cache whole (pip may then run twice)
            yield
            return
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _dependencies(
    requirements: Path, runtime: str, root: Path, label: str, saved_environ: Mapping[str, str | None] | None,
    timeout: float,
) -> tuple[Path, dict[str, Any]]:  # fmt: skip
    """The installed dependencies' folder and manifest, from the cache or from one pip run."""
    key = dependency_key(requirements, runtime)
    final = root / "deps" / key[:32]
    if not (final / _MANIFEST).is_file():
        with _locked(root / "locks" / f"{key[:32]}.lock"):
            if not (final / _MANIFEST).is_file():
                shutil.rmtree(final, ignore_errors=True)  # a folder without its manifest is not an entry
                temporary = _temporary(root, "deps-")
                try:
                    site = temporary / "site"
                    _run_pip(requirements, site, label, pip_environment(saved=saved_environ), timeout)
                    site.mkdir(exist_ok=True)
                    manifest = _remove_kit_packages(site)
                    manifest["installed"] = sorted(_metadata(info)[0] for info in site.glob("*.dist-info"))
                    (temporary / _MANIFEST).write_text(json.dumps(manifest, sort_keys=True), encoding="utf-8")
                    _move_into_place(temporary, final)
                finally:
                    shutil.rmtree(temporary, ignore_errors=True)
    return final / "site", json.loads((final / _MANIFEST).read_text(encoding="utf-8"))


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
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter, arguments as a list
            command, cwd=requirements.parent, env=dict(env), stdin=subprocess.DEVNULL, stdout=output,
            stderr=subprocess.STDOUT, start_new_session=os.name == "posix",
        )  # fmt: skip
        try:
            status = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise SandboxError(
                f"{label}: pip did not finish installing {requirements} in {timeout:g} s, and was stopped.",
                fix="pass a longer timeout=..., or check that pip can reach its index (index-url, proxy variables)",
            ) from None
        finally:
            if process.poll() is None:  # stop pip and what it started (its own process group on POSIX)
                with contextlib.suppress(OSError):
                    if os.name == "posix":
                        os.killpg(process.pid, signal.SIGKILL)
                    else:
                        process.kill()
                process.wait()
        if status == 0:
            return
        size = output.seek(0, os.SEEK_END)
        output.seek(max(0, size - _OUTPUT_KEPT))
        lines = [line.strip() for line in output.read().decode("utf-8", "replace").splitlines() if line.strip()]
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


def _npm_note(source: Path, label: str) -> str | None:
    """A warning when package.json lists dependencies that were never installed."""
    package = source / "package.json"
    try:
        dependencies = json.loads(package.read_text(encoding="utf-8")).get("dependencies")
    except (OSError, ValueError, AttributeError):
        return None
    if not dependencies or (source / "node_modules").is_dir():
        return None
    return (
        f"{label}: {package} lists {len(dependencies)} dependencies and {source} has no node_modules folder; "
        f"the sandbox does not run npm, so the zip has none of them (run npm install in {source} first)."
    )
