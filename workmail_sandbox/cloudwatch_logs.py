"""Writing log lines straight into moto's CloudWatch Logs backend.

The runtime (function logs) and the flow engine (WorkMail's event log) write
many lines per message; going through boto3 would cost a request each, so both
append to moto's in-process backend directly, creating the group and stream on
first use. Sandbox only.
"""

from __future__ import annotations

__all__ = ["write_log_events"]


def write_log_events(account: str, region: str, group: str, stream: str, lines: list[tuple[int, str]]) -> None:
    """Append ``(timestamp ms, message)`` lines to ``group``/``stream``, creating both if needed."""
    from moto.logs.models import logs_backends

    logs = logs_backends[account][region]
    log_group = logs.groups.get(group)
    if log_group is None:
        logs.ensure_log_group(group)
        log_group = logs.groups[group]
    log_stream = log_group.streams.get(stream)
    if log_stream is None:
        log_group.create_log_stream(stream)
        log_stream = log_group.streams[stream]
    log_stream.put_log_events([{"timestamp": stamp, "message": text} for stamp, text in lines])
