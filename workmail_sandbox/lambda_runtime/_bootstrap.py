"""A minimal Python runtime for a worker process, speaking the Lambda Runtime API.

Used when AWS's runtime interface client (``awslambdaric``) is not installed: it
imports the handler named by ``_HANDLER`` from ``LAMBDA_TASK_ROOT``, then loops
on ``/invocation/next``, calling the handler and posting ``/response`` or
``/error`` in the shapes Lambda's Python runtime uses. Run as
``python -m workmail_sandbox.lambda_runtime._bootstrap``.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback
import urllib.request
from typing import Any


def _post(api: str, path: str, body: bytes, error_type: str | None = None) -> None:
    headers = {"Content-Type": "application/json"}
    if error_type:
        headers["Lambda-Runtime-Function-Error-Type"] = error_type
    request = urllib.request.Request(f"http://{api}/2018-06-01/runtime/{path}", data=body, headers=headers)
    urllib.request.urlopen(request, timeout=30).read()


def _error(error: BaseException, error_type: str | None = None) -> dict[str, Any]:
    frames = traceback.format_list(traceback.extract_tb(error.__traceback__))
    return {"errorMessage": str(error), "errorType": error_type or type(error).__name__, "requestId": "",
            "stackTrace": frames}  # fmt: skip


class _Context:
    def __init__(self, headers: Any) -> None:
        self.aws_request_id = headers["Lambda-Runtime-Aws-Request-Id"]
        self.invoked_function_arn = headers["Lambda-Runtime-Invoked-Function-Arn"]
        self._deadline_ms = int(headers["Lambda-Runtime-Deadline-Ms"])
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        context = headers.get("Lambda-Runtime-Client-Context")
        self.client_context = json.loads(context) if context else None
        self.identity = None

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


def main() -> None:
    api = os.environ["AWS_LAMBDA_RUNTIME_API"]
    sys.path.insert(0, os.environ.get("LAMBDA_TASK_ROOT", os.getcwd()))
    module_name, _, function_name = os.environ["_HANDLER"].rpartition(".")
    try:
        handler = getattr(importlib.import_module(module_name.replace("/", ".")), function_name)
    except ImportError as error:
        kind = "Runtime.ImportModuleError"
        failure = {"errorMessage": f"Unable to import module '{module_name}': {error}", "errorType": kind,
                   "requestId": "", "stackTrace": []}  # fmt: skip
        _post(api, "init/error", json.dumps(failure).encode(), kind)
        sys.exit(1)
    except Exception as error:
        _post(api, "init/error", json.dumps(_error(error)).encode(), type(error).__name__)
        sys.exit(1)
    while True:
        with urllib.request.urlopen(f"http://{api}/2018-06-01/runtime/invocation/next", timeout=None) as answer:
            event, headers = json.loads(answer.read() or b"null"), answer.headers
        request_id = headers["Lambda-Runtime-Aws-Request-Id"]
        try:
            result = handler(event, _Context(headers))
            body = json.dumps(result).encode()
        except Exception as error:
            print(f"[ERROR] {type(error).__name__}: {error}", flush=True)
            _post(api, f"invocation/{request_id}/error", json.dumps(_error(error)).encode(), type(error).__name__)
            continue
        _post(api, f"invocation/{request_id}/response", body)


if __name__ == "__main__":
    main()
