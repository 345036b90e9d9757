"""JSON batching (``POST /$batch``) as concepts/json-batching.md documents it (graph-facts.md section 7).

* at most 20 requests; ids unique (case-insensitive); a malformed batch is a whole-batch ``400``;
* each request is evaluated on its own, including throttling (an inner ``429`` carries its own ``Retry-After``);
* ``dependsOn`` orders requests; a request whose dependency failed answers ``424 Failed Dependency``;
* the outer status is ``200`` whatever the inner statuses; responses may come in any order (correlate by id).
"""

from __future__ import annotations

import random
import uuid
from typing import Any, Callable
from urllib.parse import parse_qsl, urlsplit

from ..odata import GraphFault
from .messages import JSON_TYPE, GraphRequest, GraphResult, complete_error
from .routing import AUTHENTICATED, RouteTable
from .service import GraphService

__all__ = ["ROUTES", "run_batch", "MAX_BATCH"]

ROUTES = RouteTable()
route = ROUTES.route        # @route adds to this module's table only; toolkit.simulator.registry reads it

MAX_BATCH = 20


def _fail(message: str) -> GraphFault:
    # The docs give the statuses, not the texts; these name the problem the way the service's messages do.
    return GraphFault(400, "BadRequest", message)


def run_batch(svc: GraphService, outer: GraphRequest, finish: Callable[[GraphResult], dict[str, Any]],
              rng: random.Random | None = None) -> GraphResult:
    """Execute the batch in ``outer.body``; ``finish`` renders one inner result as {status, headers, body}."""
    body = outer.body
    if not isinstance(body, dict) or not isinstance(body.get("requests"), list):
        raise _fail("Invalid batch payload format.")
    items = body["requests"]
    if not items:
        raise _fail("Invalid batch payload format: the requests array is empty.")
    if len(items) > MAX_BATCH:
        raise _fail(f"Invalid batch payload format: the number of requests ({len(items)}) exceeds the limit "
                    f"of {MAX_BATCH}.")
    seen: dict[str, dict[str, Any]] = {}
    for item in items:
        if not isinstance(item, dict):
            raise _fail("Invalid batch payload format.")
        rid = item.get("id")
        if not isinstance(rid, str) or not rid:
            raise _fail("Invalid batch payload format: every request needs a string 'id'.")
        if rid.lower() in seen:
            raise _fail(f"Batch request contains duplicate id '{rid}'; ids must be unique within a batch.")
        if not isinstance(item.get("method"), str) or not isinstance(item.get("url"), str):
            raise _fail(f"Request id : {rid} has no 'method' or 'url'.")
        headers = item.get("headers") or {}
        if not isinstance(headers, dict):
            raise _fail(f"Request id : {rid} has invalid 'headers'.")
        if item.get("body") is not None and not any(k.lower() == "content-type" for k in headers):
            raise _fail(f"Write request id : {rid} does not contain Content-Type header or body.")
        seen[rid.lower()] = item
    for item in items:
        deps = item.get("dependsOn") or []
        if not isinstance(deps, list) or any(not isinstance(d, str) or d.lower() not in seen for d in deps):
            raise _fail(f"Request id : {item['id']} depends on a request id that is not in the batch.")

    order = _topological(items)
    results: dict[str, dict[str, Any]] = {}
    failed: set[str] = set()
    for item in order:
        rid = item["id"]
        deps = [d.lower() for d in item.get("dependsOn") or []]
        if any(d in failed for d in deps):
            failed.add(rid.lower())
            results[rid] = {"id": rid, **finish(GraphResult(
                424, {"error": {"code": "FailedDependency",
                                "message": "The request failed because one of its dependencies failed."}}))}
            continue
        result = _execute_item(svc, outer, item)
        if result.status >= 400:
            failed.add(rid.lower())
        results[rid] = {"id": rid, **finish(result)}
    responses = [results[item["id"]] for item in order]
    if rng is not None:
        # Graph may answer in any order; keep dependency order only where dependsOn chains exist
        independent = not any(item.get("dependsOn") for item in items)
        if independent:
            rng.shuffle(responses)
    return GraphResult(200, {"responses": responses})


def _topological(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_id = {i["id"].lower(): i for i in items}
    done: dict[str, dict[str, Any]] = {}
    visiting: set[str] = set()

    def visit(key: str) -> None:
        if key in done:
            return
        if key in visiting:
            raise _fail("Batch requests have a circular dependsOn chain.")
        visiting.add(key)
        for dep in by_id[key].get("dependsOn") or []:
            visit(dep.lower())
        visiting.discard(key)
        done[key] = by_id[key]

    for item in items:
        visit(item["id"].lower())
    return list(done.values())


def _execute_item(svc: GraphService, outer: GraphRequest, item: dict[str, Any]) -> GraphResult:
    url = item["url"].strip()
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:
        return GraphResult(400, {"error": {"code": "BadRequest",
                                           "message": "Batch request URLs must be relative to the version root."}})
    path = "/" + parts.path.lstrip("/")
    if path.lower() == "/$batch":
        return GraphResult(400, {"error": {"code": "BadRequest", "message": "Nested batch requests are not "
                                           "supported."}})
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    inner = GraphRequest(method=item["method"].upper(), path=path, query=query,
                         headers={str(k): str(v) for k, v in (item.get("headers") or {}).items()},
                         body=item.get("body"), tenant=outer.tenant, app_id=outer.app_id, roles=outer.roles,
                         base_url=outer.base_url)
    return svc.execute(inner)


def inner_headers(result: GraphResult) -> dict[str, str]:
    """Headers of one inner response, as the documented example shows them."""
    headers = {"Cache-Control": "no-cache"}
    if result.status < 400 and isinstance(result.body, dict):
        headers.update({"OData-Version": "4.0", "Content-Type": JSON_TYPE})
    elif isinstance(result.body, str):
        headers["Content-Type"] = "text/plain"
    elif result.body is not None:
        headers["Content-Type"] = "application/json"
    headers.update(result.headers)
    return headers


@route("POST", r"/\$batch", AUTHENTICATED)
def batch_route(svc: GraphService, req: GraphRequest) -> GraphResult:
    """The $batch endpoint itself needs only a valid token; every inner request is checked on its own."""
    client_id = req.header("client-request-id")

    def finish(result: GraphResult) -> dict[str, Any]:
        rid = str(uuid.uuid4())
        return {"status": result.status, "headers": inner_headers(result),
                "body": complete_error(result.body, rid, client_id or rid)}
    return run_batch(svc, req, finish, svc.rng)
