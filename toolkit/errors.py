"""The one exception tree of ccsync.

Library code raises these and never prints or exits; the CLI (and the PowerShell bridge) turn them into an
``Error: ...`` line and an exit code. Every message names the thing that is wrong and how to fix it.

::

    CcsyncError                      exit 2 unless noted; .hint says what to do
    ├── ConfigError                  config file syntax, unknown profile, missing field
    ├── CloudError                   unknown cloud, unsupported cloud pair, detection failed
    ├── InputError                   bad file / row / field / GUID given by the user (.source, .row, .field)
    ├── CredentialError              missing secret, unreadable/expired/unregistered certificate
    ├── AuthError                    the identity platform refused a token (exit 1; .error_code, .correlation_id)
    ├── TransportError               TLS failure, connection refused/reset after retries (exit 1)
    ├── MissingPermissionError       the token lacks an application permission a command needs (.permission)
    ├── ConfigurationConflict        a tenant is already configured differently (.differences; --force)
    ├── SyncSetupIncomplete          a sync setup stopped part-way (exit 1; .done, .remaining)
    ├── BusyError                    another ccsync process holds the plan's apply lock (exit 1; .pid, .started)
    ├── WriteRefused                 the write-time guard refused a request a plan asked for (exit 1)
    └── GraphError                   Graph answered with an error (exit 1): method, url, status, code,
        │                            message, request_id, client_request_id
        ├── GraphBadRequest          400
        ├── GraphAuthorizationError  401 / 403
        ├── GraphNotFound            404
        ├── GraphConflict            409
        ├── GraphThrottled           429 that outlived the retry budget
        └── GraphServerError         5xx that outlived the retry budget

Secrets never enter a message: URLs are stripped of query strings that could carry tokens, and response bodies
are quoted only through Graph's ``error.code`` / ``error.message``.
"""

from __future__ import annotations

import re
from typing import Any, Mapping
from urllib.parse import urlsplit, urlunsplit

__all__ = [
    "CcsyncError", "ConfigError", "CloudError", "InputError", "CredentialError", "AuthError",
    "TransportError", "GraphError", "GraphBadRequest", "GraphAuthorizationError", "GraphNotFound",
    "GraphConflict", "GraphThrottled", "GraphServerError", "graph_error_for_status", "redact",
    "MissingPermissionError", "ConfigurationConflict", "SyncSetupIncomplete",
    "BusyError", "WriteRefused",
]


class CcsyncError(Exception):
    """Base of every error ccsync raises on purpose."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}" if self.hint else self.message

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly form, for ``--output json`` and the PowerShell bridge."""
        out = {"error": type(self).__name__, "message": self.message}
        if self.hint:
            out["hint"] = self.hint
        return out


class ConfigError(CcsyncError):
    """The configuration file or a profile in it is wrong."""


class CloudError(CcsyncError):
    """An unknown cloud, an unsupported pair of clouds, or a tenant whose cloud cannot be told."""


class InputError(CcsyncError):
    """Input given by the user is wrong; names the file, row and field where known."""

    def __init__(self, message: str, *, hint: str | None = None, source: str | None = None,
                 row: int | None = None, field: str | None = None):
        where = ", ".join(p for p in (
            f"file {source}" if source else "", f"row {row}" if row is not None else "",
            f"field '{field}'" if field else "") if p)
        super().__init__(f"{where}: {message}" if where else message, hint=hint)
        self.source, self.row, self.field = source, row, field

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out.update({k: v for k, v in (("source", self.source), ("row", self.row), ("field", self.field))
                    if v is not None})
        return out


class CredentialError(CcsyncError):
    """A secret or certificate needed to sign in is missing or unusable."""


class AuthError(CcsyncError):
    """The identity platform refused to issue a token."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None, error_code: str | None = None,
                 correlation_id: str | None = None):
        super().__init__(message, hint=hint)
        self.error_code = error_code
        self.correlation_id = correlation_id

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        if self.error_code:
            out["errorCode"] = self.error_code
        if self.correlation_id:
            out["correlationId"] = self.correlation_id
        return out


class TransportError(CcsyncError):
    """The request never got an HTTP answer (TLS, DNS, refused or reset connection)."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None, method: str | None = None,
                 url: str | None = None):
        super().__init__(message, hint=hint)
        self.method, self.url = method, redact(url) if url else url


class MissingPermissionError(CcsyncError):
    """The app's token lacks a Graph application permission (role) a command needs; names it and the tenant."""

    def __init__(self, message: str, *, hint: str | None = None, permission: str | None = None,
                 tenant: str | None = None):
        super().__init__(message, hint=hint)
        self.permission, self.tenant = permission, tenant

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out.update({"permission": self.permission, "tenant": self.tenant})
        return out


class ConfigurationConflict(CcsyncError):
    """A tenant already holds a setting with another value than the one asked for (changed only on request)."""

    def __init__(self, message: str, *, hint: str | None = None, differences: list[dict[str, Any]] | None = None):
        super().__init__(message, hint=hint)
        self.differences = differences or []

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["differences"] = self.differences
        return out


class SyncSetupIncomplete(CcsyncError):
    """A setup stopped before its end: says exactly which steps were done and which are left."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None, done: list[str] | None = None,
                 remaining: list[str] | None = None, details: dict[str, Any] | None = None):
        super().__init__(message, hint=hint)
        self.done, self.remaining, self.details = done or [], remaining or [], details or {}

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out.update({"done": self.done, "remaining": self.remaining, **self.details})
        return out


class BusyError(CcsyncError):
    """Another process is doing the same work right now (one apply per plan at a time)."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None, pid: int | None = None,
                 started: str | None = None):
        super().__init__(message, hint=hint)
        self.pid, self.started = pid, started

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out.update({k: v for k, v in (("pid", self.pid), ("started", self.started)) if v is not None})
        return out


class WriteRefused(CcsyncError):
    """A request a plan asked for was refused before it was sent (toolkit.apply.guard)."""

    exit_code = 1


class GraphError(CcsyncError):
    """Microsoft Graph answered with an error status."""

    exit_code = 1

    def __init__(self, *, method: str, url: str, status: int, code: str | None = None,
                 message: str | None = None, request_id: str | None = None,
                 client_request_id: str | None = None, hint: str | None = None,
                 retry_after: float | None = None, body: Any = None):
        self.method = method.upper()
        self.url = redact(url)
        self.status = status
        self.code = code
        self.graph_message = message
        self.request_id = request_id
        self.client_request_id = client_request_id
        self.retry_after = retry_after
        self.body = body
        parts = [f"{self.method} {self.url} -> {status}"]
        if code or message:
            parts.append(f"{code or 'error'}: {message or ''}".rstrip(": "))
        ids = []
        if request_id:
            ids.append(f"request-id {request_id}")
        if client_request_id:
            ids.append(f"client-request-id {client_request_id}")
        if ids:
            parts.append("(" + ", ".join(ids) + ")")
        super().__init__(" ".join(parts), hint=hint)

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out.update({"method": self.method, "url": self.url, "status": self.status, "code": self.code,
                    "graphMessage": self.graph_message, "requestId": self.request_id,
                    "clientRequestId": self.client_request_id})
        return out


class GraphBadRequest(GraphError):
    """400: the request is malformed or names an unsupported query."""


class GraphAuthorizationError(GraphError):
    """401/403: the token is missing a permission (application role) or is for the wrong cloud/tenant."""


class GraphNotFound(GraphError):
    """404: the object does not exist (or has not replicated yet)."""


class GraphConflict(GraphError):
    """409: an object with the same key already exists."""


class GraphThrottled(GraphError):
    """429 that kept coming back after the retry budget was spent."""


class GraphServerError(GraphError):
    """5xx that kept coming back after the retry budget was spent."""


_HINTS = {
    401: "The token was refused: check that the profile's cloud matches the tenant's cloud "
         "(tokens from one cloud are useless in another) and sign in again with 'ccsync login'.",
    403: "The app lacks a Graph application permission for this call: grant it in the app registration "
         "of this cloud's portal and give admin consent, then run 'ccsync login' to see the roles in the token.",
    429: "Graph kept throttling this app; try again later or lower the concurrency.",
}


def graph_error_for_status(status: int, **kwargs: Any) -> GraphError:
    """Build the right GraphError subclass for an HTTP status (used at the client's single choke point)."""
    if status == 400:
        cls: type[GraphError] = GraphBadRequest
    elif status in (401, 403):
        cls = GraphAuthorizationError
    elif status == 404:
        cls = GraphNotFound
    elif status == 409:
        cls = GraphConflict
    elif status == 429:
        cls = GraphThrottled
    elif status >= 500:
        cls = GraphServerError
    else:
        cls = GraphError
    kwargs.setdefault("hint", _HINTS.get(status))
    return cls(status=status, **kwargs)


_SECRET_PARAMS = re.compile(r"(?i)(client_secret|access_token|refresh_token|assertion|code|password|sig)=[^&]*")


def redact(url: str | None) -> str | None:
    """Drop values of query parameters that could carry a secret; keep the rest of the URL readable."""
    if not url:
        return url
    parts = urlsplit(url)
    query = _SECRET_PARAMS.sub(lambda m: f"{m.group(1)}=***", parts.query)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def graph_error_fields(body: Mapping[str, Any] | None) -> tuple[str | None, str | None]:
    """(code, message) from a Graph error body ``{"error": {"code", "message"}}``; (None, None) otherwise."""
    if isinstance(body, Mapping):
        err = body.get("error")
        if isinstance(err, Mapping):
            return err.get("code"), err.get("message")
    return None, None
