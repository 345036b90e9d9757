"""Deleted users in the simulated Graph: ``/directory/deletedItems`` list (cast to ``graph.user``), get, restore and
permanent delete. A deleted user keeps its direct licences and group memberships for a restore.
"""

from __future__ import annotations

from typing import Any, Mapping

from ..odata import bad_request, not_found, project
from .messages import GraphRequest, GraphResult, check_top
from .routing import RouteTable
from .schema import USER_COLLECTIONS, USER_DEFAULT, user_select
from .service import GraphService

__all__ = ["ROUTES"]

ROUTES = RouteTable()
route = ROUTES.route        # @route adds to this module's table only; toolkit.simulator.registry reads it


def _deleted_view(user: Mapping[str, Any], select: list[str] | None) -> dict[str, Any]:
    out = {"@odata.type": "#microsoft.graph.user"}
    out.update(project(user, select or USER_DEFAULT + ["deletedDateTime"], USER_COLLECTIONS))
    return out


# Microsoft's SDKs send the short cast "graph.user"; Graph accepts it like "microsoft.graph.user".
@route("GET", r"/directory/deletedItems/(?:microsoft\.)?graph\.user", "deleted.read")
def list_deleted_users(svc: GraphService, req: GraphRequest) -> GraphResult:
    top = check_top(req, svc.page_size)
    select = user_select(req, collection=True)
    tenant = req.tenant
    with tenant.lock:
        ids = list(tenant.deleted)
        return svc.page(req, ids, lambda i: (_deleted_view(tenant.deleted[i], select) if i in tenant.deleted
                                             else None),
                        svc.context(req, "directory/deletedItems/microsoft.graph.user"), top)


@route("GET", r"/directory/deletedItems/(?P<oid>[^/]+)", "deleted.read")
def get_deleted(svc: GraphService, req: GraphRequest, oid: str) -> GraphResult:
    select = user_select(req, collection=False)
    with req.tenant.lock:
        user = req.tenant.deleted.get(oid.lower())
        if user is None:
            raise not_found(oid)
        out = {"@odata.context": svc.context(req, "directory/deletedItems/$entity")}
        out.update(_deleted_view(user, select))
        return GraphResult(200, out)


@route("POST", r"/directory/deletedItems/(?P<oid>[^/]+)/restore", "deleted.restore")
def restore_deleted(svc: GraphService, req: GraphRequest, oid: str) -> GraphResult:
    tenant = req.tenant
    with tenant.lock:
        user = tenant.deleted.get(oid.lower())
        if user is None:
            raise not_found(oid)
        upn = str(user.get("userPrincipalName", ""))
        if any(str(u.get("userPrincipalName", "")).lower() == upn.lower() for u in tenant.users.values()):
            raise bad_request("Another object with the same value for property userPrincipalName already exists.")
        # Proxy-address conflicts refuse the restore unless autoReconcileProxyConflict drops them
        # (directory-deleteditems-restore: optional body parameter autoReconcileProxyConflict).
        body = req.body if isinstance(req.body, dict) else {}
        taken = [p for p in user.get("proxyAddresses") or []
                 if tenant.address_owner(str(p).split(":", 1)[-1], except_id=user["id"]) is not None]
        if taken and not body.get("autoReconcileProxyConflict"):
            raise bad_request("Another object with the same value for property proxyAddresses already exists.")
        if taken:
            user["proxyAddresses"] = [p for p in user.get("proxyAddresses") or [] if p not in taken]
            if user.get("mail") and any(str(t).split(":", 1)[-1].lower() == str(user["mail"]).lower() for t in taken):
                user["mail"] = None
        del tenant.deleted[user["id"]]
        uid = user["id"]
        tenant.direct_licenses[uid] = user.pop("_directLicenses", [])
        for gid in user.pop("_groups", []) or []:
            if gid in tenant.groups and uid not in tenant.groups[gid]["members"]:
                tenant.groups[gid]["members"].append(uid)
        user["deletedDateTime"] = None
        tenant.users[uid] = user
        tenant.invalidate_upns()
        tenant.relicense_user(uid)
        tenant.record_change(uid, "upsert")
        tenant.add_audit(activity="Restore user", category="UserManagement", operation="Restore", app=req.app,
                         target=user, target_type="User")
        out = {"@odata.context": svc.context(req, "directoryObjects/$entity")}
        out.update(_deleted_view(user, None))
        return GraphResult(200, out)


@route("DELETE", r"/directory/deletedItems/(?P<oid>[^/]+)", "deleted.restore")
def purge_deleted(svc: GraphService, req: GraphRequest, oid: str) -> GraphResult:
    tenant = req.tenant
    with tenant.lock:
        user = tenant.deleted.pop(oid.lower(), None)
        if user is None:
            raise not_found(oid)
        tenant.invalidate_upns()
        tenant.record_change(user["id"], "harddelete")
        tenant.add_audit(activity="Hard delete user", category="UserManagement", operation="Delete", app=req.app,
                         target=user, target_type="User")
        return GraphResult(204)
