"""A function's code and layers, unpacked once per content hash, as Lambda mounts them.

The code goes to a folder of its own (``LAMBDA_TASK_ROOT``); each layer too, and
:meth:`CodeStore.layer_paths` lists the layers' ``python`` folders in the order
Lambda's Python runtime searches ``/opt``.
"""

from __future__ import annotations

import base64
import io
import os
import shutil
import tempfile
import threading
import uuid
import zipfile
from typing import Any

from .. import _moto
from ..errors import SandboxError
from ._loader import CODE_ROOTS

__all__ = ["CodeStore"]


class CodeStore:
    """The unpacked code of a runtime's functions and layers, in one temporary folder."""

    def __init__(self) -> None:
        self._folders: dict[str, str] = {}
        self._lock = threading.RLock()
        self._root: str | None = None

    def remove(self) -> None:
        """Delete every unpacked folder."""
        with self._lock:
            if self._root is not None:
                shutil.rmtree(self._root, ignore_errors=True)
                self._root = None
            self._folders.clear()

    def function_code(self, fn: Any) -> str:
        """The function's code, unpacked once per code hash."""
        return self.unpack(fn.code_bytes, fn.code_sha_256, f"The code of function {fn.function_name}")

    def layer_paths(self, fn: Any, account: str, region: str, run_time: str) -> list[str]:
        """Where Python finds the function's layers, as Lambda mounts them under ``/opt``.

        Lambda extracts the layers into ``/opt`` in order (a later layer's files win) and puts
        ``/opt/python/lib/pythonX.Y/site-packages`` and ``/opt/python`` on the path after the
        function's own folder; each layer here has a folder of its own, later layers first.
        """
        paths: list[str] = []
        for layer in reversed(list(fn.layers or ())):
            arn = str(layer.get("Arn"))
            content, sha = _moto.lambda_layer_content(account, region, arn)
            root = self.unpack(content, sha, f"Layer {arn}")
            version = run_time.removeprefix("python")
            for folder in (
                os.path.join(root, "python", "lib", f"python{version}", "site-packages"),
                os.path.join(root, "python"),
            ):
                if os.path.isdir(folder):
                    paths.append(folder)
        return paths

    def unpack(self, code: bytes, sha_256: str | None, what: str) -> str:
        """A zip unpacked once per content hash, in the runtime's own folder."""
        digest = base64.b64decode(sha_256).hex() if sha_256 else uuid.uuid4().hex
        with self._lock:
            path = self._folders.get(digest)
            if path is not None and os.path.isdir(path):
                return path
            if self._root is None or not os.path.isdir(self._root):
                self._root = tempfile.mkdtemp(prefix="workmail-sandbox-lambda-")
                CODE_ROOTS.add(self._root)
            path = os.path.join(self._root, digest[:32])
            staging = tempfile.mkdtemp(dir=self._root)
            try:
                with zipfile.ZipFile(io.BytesIO(code)) as archive:
                    archive.extractall(staging)
            except zipfile.BadZipFile:
                shutil.rmtree(staging, ignore_errors=True)
                raise SandboxError(
                    f"{what} is not a zip file.",
                    fix="deploy it with the bytes of a .zip (Code={'ZipFile': ...} or an S3 object)",
                ) from None
            if os.path.isdir(path):
                shutil.rmtree(staging, ignore_errors=True)
            else:
                os.replace(staging, path)
            self._folders[digest] = path
            return path
