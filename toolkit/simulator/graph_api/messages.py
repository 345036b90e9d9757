"""One request and one answer of the simulated Graph, and the request helpers every family shares.

* ``GraphRequest`` / ``GraphResult``: what a handler gets and gives back (a top-level request or a $batch item);
* ``JSON_TYPE``: Graph's JSON content type;
* ``error_body`` / ``complete_error``: Graph's error body and its ``innerError`` (date, request-id,
  client-request-id);
* ``query_ci``, ``body_object``, ``check_top``: a query option by case-insensitive name, a write's JSON object
  body (Graph's 400 otherwise), and ``$top``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Mapping

from ..odata import bad_request, parse_top
from ..state import TenantState

__all__ = ["GraphRequest", "GraphResult", "JSON_TYPE", "error_body", "complete_error", "query_ci", "body_object",
           "check_top"]

JSON_TYPE = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"


@dataclass
class GraphRequest:
    """One Graph request inside the simulator (top-level, or one item of a $batch)."""

    method: str
    path: str                         # after /v1.0, starting with "/"
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    tenant: TenantState
    app_id: str
    roles: frozenset[str]
    base_url: str                     # https://127.0.0.1:<port>

    def header(self, name: str, default: str = "") -> str:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), default)

    @property
    def app(self) -> Any:
        return self.tenant.apps.get(self.app_id)


@dataclass
class GraphResult:
    status: int
    body: Any = None                  # dict -> JSON, str -> text/plain, None -> empty
    headers: dict[str, str] = field(default_factory=dict)


def query_ci(query: Mapping[str, str], name: str) -> str | None:
    return next((v for k, v in query.items() if k.lower() == name.lower()), None)


def error_body(code: str, message: str) -> dict[str, Any]:
    # innerError (date, request-id, client-request-id) is filled in by complete_error, which knows the ids
    return {"error": {"code": code, "message": message}}


def complete_error(body: Any, request_id: str, client_request_id: str) -> Any:
    """Add Graph's ``innerError`` {date, request-id, client-request-id} to an error body (in place)."""
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        inner = body["error"].setdefault("innerError", {})
        # A throttled answer's innerError carries code "429" (docs/graph-facts.md 8.1).
        if body["error"].get("code") == "TooManyRequests":
            inner.setdefault("code", "429")
        inner.setdefault("date", datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"))
        inner.setdefault("request-id", request_id)
        inner.setdefault("client-request-id", client_request_id)
    return body


def body_object(req: GraphRequest) -> dict[str, Any]:
    if not isinstance(req.body, dict):
        raise bad_request("Write requests (excluding DELETE) must contain the Content-Type header declaration.",
                          "BadRequest") if req.body is None else bad_request(
            "Invalid request body: a JSON object was expected.", "BadRequest")
    return req.body


def check_top(req: GraphRequest, default: int) -> int:
    return parse_top(req.query, default)
