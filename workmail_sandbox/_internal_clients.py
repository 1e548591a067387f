"""The kit's own boto3 clients for its calls into moto (fake keys: they never reach AWS).

The SAR emulator, the CloudFormation fix-ups and the lessons' fast path make
AWS calls of their own (stage code in S3, create a change set, attach a
policy). They go through these clients, which exist only while the sandbox
runs and share the process's one botocore model loader.
"""

from __future__ import annotations

import threading
from typing import Any

from . import _moto
from .emulators._core import STATE
from .errors import SandboxError

__all__ = ["INTERNAL_ACCESS_KEY", "require_sandbox", "sandbox_account", "sandbox_client"]

#: The access key the kit's internal clients use; ``emulators._core`` refuses it outside the sandbox.
INTERNAL_ACCESS_KEY = "AKIAWORKMAILSANDBOX0"

_lock = threading.RLock()
_clients: dict[tuple[str, str], Any] = {}
_session: Any = None


def sandbox_client(service: str, region: str) -> Any:
    """A boto3 client for the kit's own calls into moto (fake keys: never reaches AWS)."""
    require_sandbox(f"{service} call")
    global _session
    with _lock:
        key = (service, region)
        if key not in _clients:
            if _session is None:
                import boto3.session  # boto3's session module: only once a client is needed

                _session = boto3.session.Session(
                    aws_access_key_id=INTERNAL_ACCESS_KEY, aws_secret_access_key="workmail-sandbox", region_name=region
                )
                _moto.share_model_loader(_session)
            _clients[key] = _session.client(service, region_name=region)
        return _clients[key]


def require_sandbox(what: str) -> None:
    """Raise :class:`SandboxError` unless the sandbox runs (``what`` names the refused action)."""
    if not STATE.active:
        raise SandboxError(
            f"The sandbox is not running, so the kit will not make its {what}.",
            fix="start it first (workmail_sandbox.sandbox.start()), or use boto3 directly against AWS in aws mode",
        )


def sandbox_account() -> str:
    """The sandbox's account id."""
    return STATE.account_id
