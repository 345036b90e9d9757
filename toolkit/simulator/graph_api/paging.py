"""How collection and entity answers of the simulated Graph are addressed and paged: ``@odata.context`` URLs,
``@odata.nextLink`` URLs, and pages over a snapshot of ids with an opaque ``$skiptoken``.

A collection's ids are frozen in ``TenantState.snapshots`` when its first page is served, so later pages are
stable while the directory changes; at most 512 snapshots are kept and the oldest expire first, after which a
token answers Graph's ``400 Directory_ExpiredPageToken``. ``users/delta`` pages over the same snapshots
(``delta.py``).
"""

from __future__ import annotations

from typing import Any, Callable, Mapping
from urllib.parse import quote, urlencode

from ..odata import GraphFault, decode_token, encode_token, new_snapshot_key
from .messages import GraphRequest, GraphResult, query_ci

__all__ = ["context_url", "context_for", "next_link", "page", "remember_snapshot", "expired_page_token"]

_MAX_SNAPSHOTS = 512


def context_url(req: GraphRequest, fragment: str) -> str:
    return f"{req.base_url}/v1.0/$metadata#{fragment}"


def context_for(base: str, select: list[str] | None) -> str:
    return f"{base}({','.join(select)})" if select else base


def remember_snapshot(tenant: Any, ids: list[str]) -> str:
    """Keep ``ids`` for the pages that follow; the key goes into their tokens."""
    key = new_snapshot_key()
    tenant.snapshots[key] = ids
    while len(tenant.snapshots) > _MAX_SNAPSHOTS:   # bounded: oldest snapshots expire first
        tenant.snapshots.pop(next(iter(tenant.snapshots)))
    return key


def expired_page_token() -> GraphFault:
    return GraphFault(400, "Directory_ExpiredPageToken", "The specified page token value has expired and can no "
                      "longer be included in your request.")


def page(req: GraphRequest, ids: list[str], resolve: Callable[[str], dict[str, Any] | None], context: str,
         top: int, count: int | None = None) -> GraphResult:
    """One page of a collection with an opaque ``$skiptoken`` nextLink over a snapshot of ``ids``."""
    tenant = req.tenant
    token = query_ci(req.query, "$skiptoken")
    offset, key = 0, None
    if token:
        data = decode_token(token)
        key, offset = data.get("k"), int(data.get("o", 0))
        snap = tenant.snapshots.get(str(key))
        if snap is None:
            raise expired_page_token()
        ids, top = snap, int(data.get("t", top))
        count = data.get("c") if count is None else count
    chunk = ids[offset:offset + top]
    body: dict[str, Any] = {"@odata.context": context}
    if count is not None:
        body["@odata.count"] = count
    if offset + top < len(ids):
        if key is None:
            key = remember_snapshot(tenant, list(ids))
        body["@odata.nextLink"] = next_link(req, {"$skiptoken": encode_token(
            {"k": key, "o": offset + top, "t": top, "c": count})})
    body["value"] = [obj for obj in (resolve(i) for i in chunk) if obj is not None]
    return GraphResult(200, body)


def next_link(req: GraphRequest, replace: Mapping[str, str], drop: tuple[str, ...] = ()) -> str:
    """The request's own URL with some query options replaced (``$skiptoken``, ``$deltatoken``) or dropped."""
    params = {k: v for k, v in req.query.items()
              if k.lower() not in {r.lower() for r in replace} | {d.lower() for d in drop}}
    params.update(replace)
    qs = urlencode(params, quote_via=quote, safe="$,'()/:=")
    return f"{req.base_url}/v1.0{req.path}" + (f"?{qs}" if qs else "")
