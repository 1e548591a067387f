"""Imported by Python at the start of every worker process the sandbox runs a function in.

It puts the kit's network guard in, so function code in a worker reaches loopback
only: the sandbox's endpoint (AWS_ENDPOINT_URL) and its Runtime API. Everything
else is refused, as in the sandbox's own process (docs/safety.md).
"""

try:
    from workmail_sandbox.network import NetworkGuard

    NetworkGuard().install()
except Exception as _error:  # pragma: no cover - a worker without the kit must not run unguarded
    import sys

    sys.stderr.write(f"workmail-sandbox: the network guard could not be installed in the worker: {_error}\n")
    raise SystemExit(70) from None
