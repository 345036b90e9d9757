"""The simulated Microsoft Graph v1.0 of one cloud: ``GraphService.execute(request)`` runs one
already-authenticated request (top-level or a $batch item): it charges the throttle model, checks the app role,
finds the route and renders Graph's answer; a ``GraphFault`` becomes Graph's error body.

The routes come from ``toolkit.simulator.registry`` (a ``Routing``): this module knows no resource. Handlers
get the service and the request; ``context``, ``page`` and ``link`` are their helpers (``paging.py``).
"""

from __future__ import annotations

import random
from typing import Any, Callable, Mapping

from ..odata import GraphFault
from . import paging
from .messages import GraphRequest, GraphResult, error_body
from .routing import AUTHENTICATED, Routing

__all__ = ["GraphService"]


class GraphService:
    """Graph v1.0 for one cloud's server: throttling, permissions, routing."""

    def __init__(self, cloud: str, throttle: Any, routing: Routing, page_size: int = 100,
                 replication_lag_s: float = 0.0, rng: random.Random | None = None, index_lag_s: float = 0.0):
        self.cloud = cloud
        self.throttle = throttle
        self.routing = routing  # the families' routes, permissions and expansions (toolkit.simulator.registry)
        self.page_size = page_size
        self.replication_lag_s = replication_lag_s
        self.index_lag_s = index_lag_s
        self.rng = rng          # shuffles $batch responses (Graph does not keep request order)

    def execute(self, req: GraphRequest) -> GraphResult:
        """Answer one request; Graph errors come back as GraphResult with Graph's error status."""
        extra: dict[str, str] = {}
        # the $batch envelope is not charged: each inner request is admitted on its own (throttling.py, and
        # Microsoft: inner requests are "evaluated individually against the service limits")
        if self.throttle is not None and req.path.rstrip("/").lower() != "/$batch":
            admission = self.throttle.admit(tenant_id=req.tenant.tenant_id, app_id=req.app_id, method=req.method,
                                            path=req.path, query=req.query,
                                            tenant_user_count=req.tenant.user_count())
            extra.update(admission.headers)
            if not admission.allowed:
                if admission.retry_after is not None:
                    extra.setdefault("Retry-After", _seconds(admission.retry_after))
                return GraphResult(429, error_body("TooManyRequests", "Please retry again later."), extra)
        try:
            result = self.dispatch(req)
        except GraphFault as fault:
            result = GraphResult(fault.status, error_body(fault.code, fault.message), dict(fault.headers))
        result.headers = {**extra, **result.headers}
        return result

    def dispatch(self, req: GraphRequest) -> GraphResult:
        path = req.path.rstrip("/") or "/"
        allowed_methods = []
        for r in self.routing.routes:
            m = r.pattern.match(path)
            if not m:
                continue
            if r.method != req.method:
                allowed_methods.append(r.method)
                continue
            if r.permission != AUTHENTICATED and not (req.roles & self.routing.roles[r.permission]):
                raise GraphFault(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
            return r.handler(self, req, **m.groupdict())
        if allowed_methods:
            raise GraphFault(405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.")
        segments = [s for s in path.split("/") if s]
        unknown = segments[0] if segments and segments[0].lower() not in _KNOWN_ROOTS else (
            segments[-1] if segments else "")
        raise GraphFault(400, "BadRequest", f"Resource not found for the segment '{unknown}'.")

    # --- helpers shared by handlers (paging.py) ---------------------------------------------------------

    def context(self, req: GraphRequest, fragment: str) -> str:
        return paging.context_url(req, fragment)

    def page(self, req: GraphRequest, ids: list[str], resolve: Callable[[str], dict[str, Any] | None],
             context: str, top: int, count: int | None = None) -> GraphResult:
        """One page of a collection with an opaque ``$skiptoken`` nextLink over a snapshot of ``ids``."""
        return paging.page(req, ids, resolve, context, top, count)

    def link(self, req: GraphRequest, replace: Mapping[str, str], drop: tuple[str, ...] = ()) -> str:
        return paging.next_link(req, replace, drop)


_KNOWN_ROOTS = {"users", "groups", "subscribedskus", "domains", "organization", "invitations", "directory",
                "contacts", "$batch", "auditlogs", "me", "policies", "serviceprincipals", "applicationtemplates",
                "applications"}


def _seconds(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return text or "0"
