"""Which AWS service an HTTP request is for, when every service shares one endpoint URL.

With ``AWS_ENDPOINT_URL`` set, an SDK sends every service's requests to the same
host, so the host no longer names the service. The request still says it: a
SigV4 ``Authorization`` header carries the credential scope
``<key>/<date>/<region>/<signing name>/aws4_request``, and JSON-protocol requests
name their target in ``X-Amz-Target`` (``<targetPrefix>.<Operation>``). Both map
back to botocore's service names through botocore's own service models
(``metadata.signingName``, ``endpointPrefix`` and ``targetPrefix``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cache

__all__ = ["ServiceRequest", "identify"]

#: Signing names that are not a botocore service name, resolved without reading every model.
_COMMON = {
    "states": "stepfunctions",
    "monitoring": "cloudwatch",
    "email": "ses",
    "serverlessrepo": "serverlessrepo",
}
#: Signing names several services share: the request's target or path tells them apart.
_SHARED_SIGNING_NAMES = frozenset({"ses", "iot", "es"})
_lock = threading.Lock()


@dataclass(frozen=True)
class ServiceRequest:
    """What the request's headers say: the services it may be for (most likely first) and the Region."""

    candidates: tuple[str, ...]
    region: str
    access_key: str


def _scope(authorization: str) -> tuple[str, str, str] | None:
    """``(access key, region, signing name)`` from a SigV4 Authorization header."""
    if not authorization.startswith("AWS4-HMAC-SHA256"):
        return None
    for part in authorization.split(" ", 1)[-1].split(","):
        name, _, value = part.strip().partition("=")
        if name == "Credential":
            fields = value.split("/")
            if len(fields) == 5:
                return fields[0], fields[2], fields[3]
    return None


@cache
def _index() -> tuple[dict[str, tuple[str, ...]], dict[str, str]]:
    """signing name -> services, target prefix -> service, from every botocore service model (read once)."""
    import botocore.session

    loader = botocore.session.get_session().get_component("data_loader")
    by_signing: dict[str, list[str]] = {}
    by_target: dict[str, str] = {}
    for name in loader.list_available_services("service-2"):
        metadata = loader.load_service_model(name, "service-2").get("metadata", {})
        signing = metadata.get("signingName") or metadata.get("endpointPrefix") or name
        by_signing.setdefault(signing, []).append(name)
        if metadata.get("targetPrefix"):
            by_target[metadata["targetPrefix"]] = name
    return {k: tuple(sorted(v, key=lambda s: (s != k, s))) for k, v in by_signing.items()}, by_target


def _available() -> frozenset[str]:
    import botocore.session

    return frozenset(botocore.session.get_session().get_available_services())


_AVAILABLE: frozenset[str] | None = None


def identify(headers: dict[str, str], default_region: str) -> ServiceRequest | None:
    """The services a request may be for, from its ``Authorization`` and ``X-Amz-Target`` headers.

    ``headers`` are lower-cased names. None for an unsigned request without a target.
    """
    global _AVAILABLE
    scope = _scope(headers.get("authorization", ""))
    target = headers.get("x-amz-target", "").partition(".")[0]
    access_key, region, signing = scope if scope else ("", default_region, "")
    with _lock:
        if _AVAILABLE is None:
            _AVAILABLE = _available()
    # The common case first, without reading every service model (that takes seconds).
    if signing in _COMMON:
        return ServiceRequest((_COMMON[signing],), region, access_key)
    if signing in _AVAILABLE and signing not in _SHARED_SIGNING_NAMES:
        return ServiceRequest((signing,), region, access_key)
    by_signing, by_target = _index()
    if target and target in by_target:
        return ServiceRequest((by_target[target],), region, access_key)
    if not signing:
        return None
    return ServiceRequest(tuple(by_signing.get(signing, (signing,))), region, access_key)
