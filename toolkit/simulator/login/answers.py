"""How the simulated token service answers over HTTP: JSON that is never cached, and Entra's error shape.

Every login endpoint answers through :func:`json_response`; every refusal is a :class:`LoginFailure` (HTTP
status, OAuth ``error``, AADSTS number, description) that :func:`error_response` turns into Entra's error body.
Sources: entra-docs identity-platform/v2-oauth2-client-creds-grant-flow.md (error response) and
reference-error-codes.md (AADSTS numbers and wording).
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from typing import Any

from werkzeug import Request, Response

from ...clouds import CLOUDS

__all__ = ["LoginFailure", "json_response", "error_response", "tenant_not_found"]


class LoginFailure(Exception):
    """A refusal of the login side; :func:`error_response` makes it an Entra error response."""

    def __init__(self, status: int, error: str, code: int, description: str):
        super().__init__(description)
        self.status, self.error, self.code, self.description = status, error, code, description


def json_response(status: int, body: dict[str, Any], request: Request | None = None) -> Response:
    """``body`` as Entra sends it: not cacheable, with request ids (and the caller's client-request-id)."""
    headers = {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache",
               "x-ms-request-id": str(uuid.uuid4()), "x-ms-ests-server": "ccsync-sim"}
    if request is not None and request.headers.get("client-request-id"):
        headers["client-request-id"] = request.headers["client-request-id"]
    return Response(json.dumps(body), status=status, headers=headers,
                    content_type="application/json; charset=utf-8")


def error_response(request: Request, failure: LoginFailure, *, cloud: str, now: float) -> Response:
    """The error body of ``cloud``'s login host for ``failure``, stamped with ``now``."""
    # Entra's shape: error_description carries "AADSTSnnnn: ..." then trace id, correlation id and time.
    trace_id = str(uuid.uuid4())
    correlation_id = request.headers.get("client-request-id") or str(uuid.uuid4())
    stamp = datetime.fromtimestamp(now, timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
    description = (f"AADSTS{failure.code}: {failure.description}\r\nTrace ID: {trace_id}\r\n"
                   f"Correlation ID: {correlation_id}\r\nTimestamp: {stamp}")
    body = {"error": failure.error, "error_description": description, "error_codes": [failure.code],
            "timestamp": stamp, "trace_id": trace_id, "correlation_id": correlation_id,
            "error_uri": f"{CLOUDS[cloud].login_url}/error?code={failure.code}"}
    return json_response(failure.status, body, request)


def tenant_not_found(segment: str) -> LoginFailure:
    """AADSTS90002: the path's tenant is not a tenant of this cloud."""
    return LoginFailure(400, "invalid_request", 90002,
                        f"Tenant '{segment}' not found. Check to make sure you have the correct tenant ID and "
                        f"are signing into the correct cloud. Check with your subscription administrator, "
                        f"this may happen if there are no active subscriptions for the tenant.")
