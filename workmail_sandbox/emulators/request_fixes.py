"""Requests moto would answer differently from AWS, completed before they reach it.

Each fix is a botocore ``before-parameter-build`` hook, so function code and the
learner's cells keep making exactly the call they would make on AWS:

* ``stepfunctions.StartExecution`` without ``name``: AWS generates a unique
  name (a UUID). moto's executing backend names it ``None``, so a second
  execution fails with ``ExecutionAlreadyExists``; the hook gives each call the
  UUID AWS would have generated.
"""

from __future__ import annotations

import uuid
from typing import Any

from .. import _moto
from ._core import STATE

__all__ = ["install"]


def _execution_name(params: dict[str, Any], **_: Any) -> None:
    """before-parameter-build.stepfunctions.StartExecution: the name AWS generates when none is given."""
    if STATE.active and not params.get("name"):
        params["name"] = str(uuid.uuid4())


_HOOKS = [("before-parameter-build.stepfunctions.StartExecution", _execution_name)]


def install() -> None:
    """Add the hooks to botocore's built-in handlers (idempotent)."""
    for event, handler in _HOOKS:
        _moto.register_builtin_handler(event, handler)
