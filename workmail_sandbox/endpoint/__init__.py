"""The sandbox as a local AWS endpoint (and an SMTP door), for the AWS CLI, any SDK and SMTP clients.

:func:`serve` starts, on 127.0.0.1, one HTTP endpoint that answers every service
of the running sandbox over the real AWS wire protocols
(:mod:`.server`), the sandbox's controls under ``/workmail-sandbox-api/``
(:mod:`.control`, with a Python client in :mod:`.client`) and the SMTP door
(:mod:`workmail_sandbox.smtp_door`). ``workmail-sandbox serve`` does the same
from the shell::

    export AWS_ENDPOINT_URL=http://127.0.0.1:5055 AWS_DEFAULT_REGION=us-east-1
    export AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=...   # what serve prints
    aws lambda get-policy --function-name my-function

Functions the sandbox runs (a rule firing, or ``lambda invoke`` over HTTP) run in
the serving process, where the sandbox answers their SDK calls in-process.
"""

from __future__ import annotations

from typing import Any

from .server import CONTROL_PREFIX, DEFAULT_PORT, EndpointApp, EndpointServer, check_host

__all__ = ["CONTROL_PREFIX", "DEFAULT_PORT", "DEFAULT_SMTP_PORT", "LocalEndpoint", "serve"]

#: The SMTP door's port unless told otherwise (2525: a common unprivileged SMTP port).
DEFAULT_SMTP_PORT = 2525


class LocalEndpoint:
    """A running endpoint (and SMTP door): its URL, the environment to export, ``stop()``."""

    def __init__(self, sandbox: Any, server: EndpointServer, smtp: Any = None, *, own_sandbox: bool = False) -> None:
        self.sandbox = sandbox
        self.server = server
        self.smtp = smtp
        self._own_sandbox = own_sandbox

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``: the value of ``AWS_ENDPOINT_URL``."""
        return self.server.url

    @property
    def smtp_port(self) -> int | None:
        return None if self.smtp is None else int(self.smtp.port)

    def environment(self) -> dict[str, str]:
        """What a shell, a CI job or another language's SDK exports to use the sandbox."""
        from ..sandbox import FAKE_CREDENTIALS

        return {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_ACCESS_KEY_ID": FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            "AWS_SECRET_ACCESS_KEY": FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            "AWS_DEFAULT_REGION": self.sandbox.region,
            "AWS_REGION": self.sandbox.region,
        }

    def exports(self) -> str:
        """The environment as ``export NAME=value`` lines for a POSIX shell."""
        return "\n".join(f"export {name}={value}" for name, value in self.environment().items())

    def shell_prefix(self) -> str:
        """``env NAME=value ...`` to put before a shell command (a notebook's ``!`` line) so it uses this endpoint.

        :meth:`environment`, plus what a process that runs the sandbox would otherwise pass
        on: ``AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=false`` (the sandbox sets it to true for
        its in-process clients), no AWS config files or profile, no pager, and this
        Python's scripts folder first on ``PATH`` (where ``pip`` put ``aws``). POSIX shells.
        """
        import os
        import shlex
        import sysconfig

        env = {
            **self.environment(),
            "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "false",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_PAGER": "",
            "PATH": os.pathsep.join(p for p in (sysconfig.get_path("scripts"), os.environ.get("PATH", "")) if p),
        }
        values = " ".join(f"{name}={shlex.quote(value)}" for name, value in env.items())
        return f"env -u AWS_PROFILE -u AWS_DEFAULT_PROFILE {values}"

    def stop(self) -> None:
        """Stop the SMTP door and the HTTP server (and the sandbox, when :func:`serve` started it)."""
        if self.smtp is not None:
            self.smtp.stop()
            self.smtp = None
        self.server.stop()
        if self._own_sandbox and self.sandbox.started:
            self.sandbox.stop()

    def __enter__(self) -> LocalEndpoint:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def __repr__(self) -> str:
        smtp = f", SMTP on port {self.smtp_port}" if self.smtp is not None else ""
        return f"<LocalEndpoint {self.url}{smtp}>"


def serve(
    port: int = DEFAULT_PORT,
    *,
    smtp_port: int | None = DEFAULT_SMTP_PORT,
    submission_port: int | None = None,
    host: str = "127.0.0.1",
    allow_remote: bool = False,
) -> LocalEndpoint:
    """Serve the running sandbox (started if needed) on ``host:port``, with the SMTP door on ``smtp_port``.

    ``port=0`` (and ``smtp_port=0``) picks free ports; ``smtp_port=None`` leaves the SMTP
    door closed. Refuses a non-loopback ``host`` unless ``allow_remote=True``: the sandbox
    has no authentication. Returns a :class:`LocalEndpoint`; ``stop()`` ends it.
    """
    from ..sandbox import current, start
    from .control import ControlAPI

    check_host(host, allow_remote=allow_remote)
    running = current()
    sandbox = running if running is not None and running.started else start()
    own = sandbox is not running
    try:
        server = EndpointServer(EndpointApp(sandbox, ControlAPI(sandbox)), host=host, port=port,
                                allow_remote=allow_remote).start()  # fmt: skip
    except BaseException:
        if own:
            sandbox.stop()
        raise
    endpoint = LocalEndpoint(sandbox, server, own_sandbox=own)
    if smtp_port is not None:
        try:
            from ..smtp_door import SmtpDoor

            endpoint.smtp = SmtpDoor(sandbox, host=host, port=smtp_port, submission_port=submission_port,
                                     allow_remote=allow_remote).start()  # fmt: skip
        except BaseException:
            endpoint.stop()
            raise
    return endpoint
