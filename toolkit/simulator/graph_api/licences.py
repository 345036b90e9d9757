"""Licences in the simulated Graph: ``/subscribedSkus`` list and get, and a user's ``assignLicense``,
``licenseDetails`` and ``reprocessLicenseAssignment``. How assignments become ``assignedLicenses`` and
``licenseAssignmentStates`` is ``TenantState.relicense_user`` (docs/licensing-facts.md).
"""

from __future__ import annotations

import base64
import copy
import uuid

from ..odata import bad_request, not_found
from ..state import now_iso
from .messages import GraphRequest, GraphResult, body_object
from .routing import RouteTable
from .schema import existing_user, user_view
from .service import GraphService
from .writes import relicense

__all__ = ["ROUTES"]

ROUTES = RouteTable()
route = ROUTES.route        # @route adds to this module's table only; toolkit.simulator.registry reads it


@route("GET", r"/subscribedSkus", "skus.read")
def list_skus(svc: GraphService, req: GraphRequest) -> GraphResult:
    with req.tenant.lock:
        return GraphResult(200, {"@odata.context": svc.context(req, "subscribedSkus"),
                                 "value": [copy.deepcopy(s) for s in req.tenant.skus.values()]})


@route("GET", r"/subscribedSkus/(?P<sid>[^/]+)", "skus.read")
def get_sku(svc: GraphService, req: GraphRequest, sid: str) -> GraphResult:
    with req.tenant.lock:
        for sku in req.tenant.skus.values():
            if sku["id"].lower() == sid.lower():
                out = {"@odata.context": svc.context(req, "subscribedSkus/$entity")}
                out.update(copy.deepcopy(sku))
                return GraphResult(200, out)
        raise not_found(sid)


@route("POST", r"/users/(?P<key>[^/]+)/assignLicense", "license.assign")
def assign_license(svc: GraphService, req: GraphRequest, key: str) -> GraphResult:
    body = body_object(req)
    tenant = req.tenant
    for name in ("addLicenses", "removeLicenses"):
        if not isinstance(body.get(name), list):
            raise bad_request(f"Invalid value specified for property '{name}' of resource 'User'.")
    with tenant.lock:
        user = existing_user(tenant, key)
        uid = user["id"]
        direct = {x["skuId"]: x for x in tenant.direct_licenses.get(uid, [])}
        add = []
        for item in body["addLicenses"]:
            sku_id = str((item or {}).get("skuId", "")).lower()
            if sku_id not in tenant.skus:
                raise bad_request(f"License {sku_id} does not correspond to a valid company License.")
            add.append({"skuId": sku_id, "disabledPlans": [str(p).lower() for p in item.get("disabledPlans") or []]})
        remove = [str(s).lower() for s in body["removeLicenses"]]
        for sku_id in remove:
            if sku_id not in direct:
                inherited = any(st["skuId"] == sku_id for st in user.get("licenseAssignmentStates") or [])
                # wording as Entra reports it; the Graph page documents no error table for assignLicense
                raise bad_request("User license is inherited from a group membership and it cannot be removed "
                                  "directly from the user." if inherited else "User does not have a corresponding license.")
        if add and not user.get("usageLocation"):
            raise bad_request("License assignment cannot be done for user with invalid usage location.")
        holding = {a["skuId"] for a in user.get("assignedLicenses") or []
                   if any(st["skuId"] == a["skuId"] and st["state"] == "Active"
                          for st in user.get("licenseAssignmentStates") or [])}
        for item in add:
            if item["skuId"] not in holding and tenant.available_units(item["skuId"]) <= 0:
                # Entra's message for an exhausted subscription (docs silent on the exact text)
                raise bad_request(f"Subscription with SKU {item['skuId']} does not have any available licenses.")
        old = sorted(direct)
        for sku_id in remove:
            direct.pop(sku_id, None)
            tenant.license_updated.pop((uid, sku_id, None), None)
        for item in add:
            direct[item["skuId"]] = item
            tenant.license_updated[(uid, item["skuId"], None)] = now_iso()
        tenant.direct_licenses[uid] = list(direct.values())
        relicense(tenant, uid)
        tenant.add_audit(activity="Change user license", category="UserManagement", operation="Update",
                         app=req.app, target=user, target_type="User",
                         modified=[("AssignedLicense", old, sorted(direct))])
        out = {"@odata.context": svc.context(req, "users/$entity")}
        out.update(user_view(tenant, user, None))
        return GraphResult(200, out)


@route("GET", r"/users/(?P<key>[^/]+)/licenseDetails", "license.read")
def license_details(svc: GraphService, req: GraphRequest, key: str) -> GraphResult:
    tenant = req.tenant
    with tenant.lock:
        user = existing_user(tenant, key)
        values = []
        for lic in user.get("assignedLicenses") or []:
            sku = tenant.skus.get(lic["skuId"], {})
            disabled = set(lic.get("disabledPlans") or [])
            raw = uuid.UUID(user["id"]).bytes + uuid.UUID(lic["skuId"]).bytes
            values.append({
                "id": base64.urlsafe_b64encode(raw).decode().rstrip("="), "skuId": lic["skuId"],
                "skuPartNumber": sku.get("skuPartNumber"),
                "servicePlans": [{"servicePlanId": p["servicePlanId"], "servicePlanName": p["servicePlanName"],
                                  "provisioningStatus": "Disabled" if p["servicePlanId"].lower() in disabled
                                  else p.get("provisioningStatus", "Success"),
                                  "appliesTo": p.get("appliesTo", "User")} for p in sku.get("servicePlans", [])]})
        return GraphResult(200, {"@odata.context": svc.context(req, f"users('{user['id']}')/licenseDetails"),
                                 "value": values})


@route("POST", r"/users/(?P<key>[^/]+)/reprocessLicenseAssignment", "users.write")
def reprocess_licenses(svc: GraphService, req: GraphRequest, key: str) -> GraphResult:
    """user-reprocesslicenseassignment: re-evaluates the user's group-based assignments (e.g. a CountViolation
    after units were freed); 200 with the user. Permissions: User.ReadWrite.All, Directory.ReadWrite.All."""
    tenant = req.tenant
    with tenant.lock:
        user = existing_user(tenant, key)
        relicense(tenant, user["id"])
        out = {"@odata.context": svc.context(req, "users/$entity")}
        out.update(user_view(tenant, user, None))
        return GraphResult(200, out)
