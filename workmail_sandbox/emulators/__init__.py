"""AWS services moto lacks, answered in-process for real boto3 calls.

One package per service (``workmail``, ``messageflow``, ``serverlessrepo``),
each split as moto splits a service. :func:`install` registers them with
botocore; see :mod:`workmail_sandbox.emulators._core` for how.
"""

from __future__ import annotations

from ._core import STATE, EmulatedService, install_hooks, register, registered_services

__all__ = ["STATE", "EmulatedService", "install", "registered_services", "coverage"]


def install() -> None:
    """Register every emulated service and add botocore's hooks (idempotent)."""
    from .messageflow import SERVICE as messageflow
    from .serverlessrepo import SERVICE as serverlessrepo
    from .workmail import SERVICE as workmail

    from . import iam_managed_policies

    for service in (workmail, messageflow, serverlessrepo):
        register(service)
    install_hooks([s.service_id for s in registered_services().values()])
    iam_managed_policies.install()


def coverage() -> list[dict[str, str]]:
    """Each emulated service's operations against botocore's model: emulated or not.

    The README's coverage table is generated from this, so it cannot drift.
    """
    import botocore.session
    from botocore import xform_name

    install()
    session = botocore.session.get_session()
    names = {"workmail": "workmail", "workmailmessageflow": "workmailmessageflow",
             "serverlessapplicationrepository": "serverlessrepo"}
    rows = []
    for service_id, service in sorted(registered_services().items()):
        model = session.get_service_model(names.get(service_id, service_id))
        emulated = set(service.operations())
        for operation in sorted(model.operation_names):
            rows.append({
                "service": names.get(service_id, service_id),
                "operation": operation,
                "emulated": "yes" if xform_name(operation) in emulated else "no",
            })
    return rows
