"""What the builds have in common: the files of a folder, a deterministic zip, the cache and its locks.

:mod:`workmail_sandbox.sam.build` (pip) and :mod:`workmail_sandbox.sam._npm` (npm) build on it.
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import io
import json
import os
import shutil
import signal
import stat
import subprocess
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import SandboxError

#: Bumped when the layout of the cache or of a build changes: old cache entries are then not reused.
BUILD_FORMAT = 1


#: Left out of every folder zipped: version control, SAM's own output, Python's caches.
ALWAYS_EXCLUDED = (".git", ".hg", ".svn", ".aws-sam", "__pycache__", "*.pyc")


_FIXED_DATE = (1980, 1, 1, 0, 0, 0)


_OUTPUT_KEPT = 64 * 1024  # the tail of pip's output kept for the error message


_MANIFEST = "build.json"


@dataclass(frozen=True)
class Build:
    """A built function or layer: its zip, the zip's SHA-256, and what went into it."""

    zip_bytes: bytes = field(repr=False)
    sha256: str
    folder: str  # the zip unpacked, in the cache: read it, never write to it
    installed: tuple[str, ...]  # distributions in the build (pip installed them), sorted
    warnings: tuple[str, ...]  # one line each


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


def _scan(top: Path, patterns: tuple[str, ...], max_bytes: int, label: str, root: Path, *,
          top_excluded: tuple[str, ...] = ()) -> dict[str, Path]:  # fmt: skip
    """``{zip name: file}`` for the files under ``top``, skipping ``patterns`` (names at any depth)
    and the folders ``top_excluded`` (at the top only)."""
    found: dict[str, Path] = {}
    total = 0
    skip = {os.path.realpath(root)}  # a cache kept inside the code folder is not code
    for folder, dirs, names in os.walk(top):  # symbolic links to folders are not followed
        at_top = folder == os.fspath(top)
        dirs[:] = sorted(
            d for d in dirs if not _excluded(d, patterns) and not (at_top and d in top_excluded)
            and os.path.realpath(os.path.join(folder, d)) not in skip
        )  # fmt: skip
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


def _cache_key(**payload: Any) -> str:
    """A cache entry's key (hex SHA-256): the build format and ``payload``, as sorted JSON."""
    return hashlib.sha256(json.dumps({"format": BUILD_FORMAT, **payload}, sort_keys=True).encode()).hexdigest()


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


def _cached(root: Path, key: str, prefix: str, fill: Callable[[Path], dict[str, Any]]) -> tuple[Path, dict[str, Any]]:
    """The cache entry ``key``: its folder and manifest, made once by ``fill`` (which fills a temporary
    folder and returns the manifest) under a lock, and moved into place whole."""
    final = root / "deps" / key[:32]
    if not (final / _MANIFEST).is_file():
        with _locked(root / "locks" / f"{key[:32]}.lock"):
            if not (final / _MANIFEST).is_file():
                shutil.rmtree(final, ignore_errors=True)  # a folder without its manifest is not an entry
                temporary = _temporary(root, prefix)
                try:
                    manifest = fill(temporary)
                    (temporary / _MANIFEST).write_text(json.dumps(manifest, sort_keys=True), encoding="utf-8")
                    _move_into_place(temporary, final)
                finally:
                    shutil.rmtree(temporary, ignore_errors=True)
    return final, json.loads((final / _MANIFEST).read_text(encoding="utf-8"))


def _run_quietly(command: list[str], cwd: Path, env: Mapping[str, str], timeout: float) -> tuple[int | None, list[str]]:
    """Run ``command`` with its output to a temporary file; ``(exit status, the output's last lines)``.

    The status is None when it did not finish in ``timeout`` seconds: it was stopped, with
    what it started (its own process group on POSIX).
    """
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(  # noqa: S603 - a program we located, arguments as a list
            command, cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL, stdout=output,
            stderr=subprocess.STDOUT, start_new_session=os.name == "posix",
        )  # fmt: skip
        status: int | None = None
        try:
            status = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
        finally:
            if process.poll() is None:
                with contextlib.suppress(OSError):
                    if os.name == "posix":
                        os.killpg(process.pid, signal.SIGKILL)
                    else:
                        process.kill()
                process.wait()
        if status in (0, None):
            return status, []
        size = output.seek(0, os.SEEK_END)
        output.seek(max(0, size - _OUTPUT_KEPT))
        return status, [line.strip() for line in output.read().decode("utf-8", "replace").splitlines() if line.strip()]

