"""``users/delta`` in the simulated Graph (user-delta.md): the initial round (every visible user, paged, then a
deltaLink) and later rounds (the users changed since, and ``@removed`` for deleted ones), over the tenant's
change log. The users family answers ``GET /users/delta`` through ``user_delta``; the pages share the
collection snapshots of ``paging.py``.
"""

from __future__ import annotations

from typing import Any

from ..odata import USER_FILTERS, decode_token, encode_token, parse_filter
from .messages import GraphRequest, GraphResult, query_ci
from .paging import expired_page_token, remember_snapshot
from .schema import USER_DEFAULT, user_select, user_view
from .service import GraphService

__all__ = ["user_delta"]


def user_delta(svc: GraphService, req: GraphRequest) -> GraphResult:
    """users/delta: initial round (all users, paged, then a deltaLink), later rounds (changes and @removed)."""
    tenant = req.tenant
    skip = query_ci(req.query, "$skiptoken")
    delta = query_ci(req.query, "$deltatoken")
    with tenant.lock:
        if skip:
            state = decode_token(skip)
            return _delta_page(svc, req, state)
        if delta and delta.lower() == "latest":
            select, only = user_select(req, collection=True), _delta_filter(req)
            return _delta_page(svc, req, {"ids": [], "o": 0, "s": tenant.seq, "sel": select, "f": only})
        if delta:
            state = decode_token(delta)
            since, select, only = int(state.get("s", 0)), state.get("sel"), state.get("f")
            tracked = set(select or USER_DEFAULT)
            latest: dict[str, Any] = {}
            new_seq = tenant.seq
            for change in tenant.changes:
                if change.seq <= since or (only is not None and change.user_id not in only):
                    continue
                if change.kind == "upsert" and change.properties and not (change.properties & tracked):
                    continue
                if change.kind == "upsert" and not tenant.is_visible(change.user_id):
                    new_seq = min(new_seq, change.seq - 1)    # report it once it has replicated
                    continue
                latest.pop(change.user_id, None)
                latest[change.user_id] = change
            return _delta_page(svc, req, {"ids": list(latest), "o": 0, "s": new_seq, "sel": select, "f": only})
        select, only = user_select(req, collection=True), _delta_filter(req)
        ids = [u["id"] for u in tenant.visible_users() if only is None or u["id"] in only]
        return _delta_page(svc, req, {"ids": ids, "o": 0, "s": tenant.seq, "sel": select, "f": only})


_DELTA_FILTERS = {"id": USER_FILTERS["id"]}


def _delta_filter(req: GraphRequest) -> list[str] | None:
    """users/delta accepts only ``$filter=id eq '...' or id eq '...'`` (user-delta.md); the ids are tracked."""
    text = query_ci(req.query, "$filter")
    if not text:
        return None
    flt = parse_filter(text, _DELTA_FILTERS, "User")
    return [uid for uid in req.tenant.users if flt.matches({"id": uid})]


def _delta_page(svc: GraphService, req: GraphRequest, state: dict[str, Any]) -> GraphResult:
    tenant = req.tenant
    key = state.get("k")
    if key is None:
        key = remember_snapshot(tenant, state.pop("ids"))
    ids = tenant.snapshots.get(key)
    if ids is None:
        raise expired_page_token()
    offset, select = int(state.get("o", 0)), state.get("sel")
    size = svc.page_size
    values = []
    for uid in ids[offset:offset + size]:
        user = tenant.users.get(uid)
        if user is not None and tenant.is_visible(uid):
            view = user_view(tenant, user, select)
            view["id"] = uid
            values.append(view)
        elif uid in tenant.deleted:
            values.append({"id": uid, "@removed": {"reason": "changed"}})
        elif user is None:
            values.append({"id": uid, "@removed": {"reason": "deleted"}})
    body: dict[str, Any] = {"@odata.context": svc.context(req, "users")}
    path_req = GraphRequest(req.method, "/users/delta", {}, req.headers, None, tenant, req.app_id, req.roles,
                            req.base_url)
    if offset + size < len(ids):
        token = encode_token({"k": key, "o": offset + size, "s": state["s"], "sel": select, "f": state.get("f")})
        body["@odata.nextLink"] = svc.link(path_req, {"$skiptoken": token})
    else:
        tenant.snapshots.pop(key, None)
        body["@odata.deltaLink"] = svc.link(path_req, {"$deltatoken": encode_token(
            {"s": state["s"], "sel": select, "f": state.get("f")})})
    body["value"] = values
    return GraphResult(200, body)
