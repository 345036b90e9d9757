"""Graph routes for ``/policies``: the cross-tenant access policy (Microsoft cloud settings, default, partners,
partner identity synchronization) and the authorization policy.

State lives in ``crosstenant.py`` (``TenantState.cross_tenant``). Rules, with their Microsoft sources, are
summarised in docs/entra-sync-simulator.md ("Policies").
"""

from __future__ import annotations

import copy
from typing import Any

from .crosstenant import INVITE_SETTINGS, PARTNER_PROPERTIES, POLICY_SIZE_LIMIT, SUPPORTED_CLOUD_ENDPOINTS, new_partner
from .graph_api import GraphRequest, GraphResult, GraphService, RouteTable
from .odata import GraphFault, bad_request

# Permissions, least to most privileged (crosstenantaccesspolicy-get/-update, ...partner-*, authorizationpolicy-*
# pages). Directory.ReadWrite.All is not listed by these pages, so it does not grant them.
ROUTES = RouteTable(permissions={
    "ctap.read": frozenset({"Policy.Read.All", "Policy.ReadWrite.CrossTenantAccess"}),
    "ctap.write": frozenset({"Policy.ReadWrite.CrossTenantAccess"}),
    "authz.read": frozenset({"Policy.Read.All", "Policy.ReadWrite.Authorization"}),
    "authz.write": frozenset({"Policy.ReadWrite.Authorization"}),
})
route = ROUTES.route        # @route adds to this module's table only; toolkit.simulator.registry reads it

_BASE = r"/policies/crossTenantAccessPolicy"
_PARTNER = _BASE + r"/partners/(?P<tenant_id>[^/()]+)"


def _body(req: GraphRequest) -> dict[str, Any]:
    if not isinstance(req.body, dict):
        raise bad_request("Invalid request body: a JSON object was expected.", "BadRequest")
    return req.body


def _unknown_property(name: str, type_name: str) -> GraphFault:
    return GraphFault(400, "BadRequest", f"The property '{name}' does not exist on type 'microsoft.graph.{type_name}'. "
                      "Make sure to only use property names that are defined by the type or mark the type as open type.")


def _object_not_found() -> GraphFault:
    # [CTS-GRAPH] troubleshooting: PATCH on a partner / sync policy that does not exist (graph-facts 10).
    return GraphFault(404, "Directory_ObjectNotFound", "Unable to read the company information from the directory.")


_PARTNER_EXISTS = "Another object with the same value for property tenantId already exists."
_SYNC_EXISTS = "A conflicting object with one or more of the specified property values is present in the directory."


def _conflict(tenant_id: str, message: str) -> GraphResult:
    # [CTS-GRAPH] troubleshooting: 409 Conflict, Request_MultipleObjectsWithSameKeyValue with details
    # ConflictingObjects; the partner POST and the identitySynchronization PUT have their own messages.
    return GraphResult(409, {"error": {
        "code": "Request_MultipleObjectsWithSameKeyValue", "message": message,
        "details": [{"code": "ConflictingObjects", "message": message, "target": tenant_id}]}})


def _check_size(size: int) -> None:
    # crosstenantaccesspolicy-update.md: the policy is capped at 25 KB, a write beyond it is 400 Bad Request.
    # The exact error code and message are not documented.
    if size > POLICY_SIZE_LIMIT:
        raise bad_request(f"The cross-tenant access policy would be {size} bytes; the maximum size is "
                          f"{POLICY_SIZE_LIMIT} bytes (25 KB).")


# ============================================================================ crossTenantAccessPolicy

@route("GET", _BASE, "ctap.read")
def get_policy(svc: GraphService, req: GraphRequest) -> GraphResult:
    # The Graph page's example wraps the object in "value"; an entity GET returns the object itself (that is
    # what the $entity context says), so we do. Clients should accept both.
    with req.tenant.lock:
        body = {"@odata.context": svc.context(req, "policies/crossTenantAccessPolicy/$entity")}
        body.update(req.tenant.cross_tenant.policy_view())
        return GraphResult(200, body)


@route("PATCH", _BASE, "ctap.write")
def update_policy(svc: GraphService, req: GraphRequest) -> GraphResult:
    body = _body(req)
    for name in body:
        if name not in ("displayName", "allowedCloudEndpoints") and not name.startswith("@"):
            raise _unknown_property(name, "crossTenantAccessPolicy")
    with req.tenant.lock:
        policy = req.tenant.cross_tenant
        view = policy.policy_view()
        if "allowedCloudEndpoints" in body:
            values = body["allowedCloudEndpoints"]
            if not isinstance(values, list) or any(v not in SUPPORTED_CLOUD_ENDPOINTS for v in values):
                raise bad_request("Invalid value specified for property 'allowedCloudEndpoints' of resource "
                                  f"'crossTenantAccessPolicy'. Supported values: {', '.join(SUPPORTED_CLOUD_ENDPOINTS)}.")
            # PATCH replaces the collection (graph-facts 1.3): unsupplied properties keep their values, a
            # supplied list is the new list.
            view["allowedCloudEndpoints"] = list(dict.fromkeys(values))
        if "displayName" in body:
            view["displayName"] = body["displayName"]
        _check_size(policy.size_with(policy=view))
        policy.allowed_cloud_endpoints = view["allowedCloudEndpoints"]
        policy.display_name = view["displayName"]
    return GraphResult(204)


@route("GET", _BASE + r"/default", "ctap.read")
def get_default(svc: GraphService, req: GraphRequest) -> GraphResult:
    with req.tenant.lock:
        body = {"@odata.context": svc.context(req, "policies/crossTenantAccessPolicy/default/$entity")}
        body.update(copy.deepcopy(req.tenant.cross_tenant.default))
        return GraphResult(200, body)


# ============================================================================ partners

@route("GET", _BASE + r"/partners", "ctap.read")
def list_partners(svc: GraphService, req: GraphRequest) -> GraphResult:
    with req.tenant.lock:
        value = [copy.deepcopy(p) for p in req.tenant.cross_tenant.partners.values()]
    return GraphResult(200, {"@odata.context": svc.context(req, "policies/crossTenantAccessPolicy/partners"),
                             "value": value})


def _validate_partner(body: dict[str, Any]) -> None:
    for name, value in body.items():
        if name.startswith("@"):
            continue
        if name not in PARTNER_PROPERTIES:
            raise _unknown_property(name, "crossTenantAccessPolicyConfigurationPartner")
        if name == "automaticUserConsentSettings" and value is not None:
            if not isinstance(value, dict) or any(k not in ("inboundAllowed", "outboundAllowed") or
                                                  not (v is None or isinstance(v, bool)) for k, v in value.items()):
                raise bad_request("Invalid value specified for property 'automaticUserConsentSettings' of resource "
                                  "'crossTenantAccessPolicyConfigurationPartner'.")


@route("POST", _BASE + r"/partners", "ctap.write")
def create_partner(svc: GraphService, req: GraphRequest) -> GraphResult:
    body = _body(req)
    _validate_partner(body)
    tid = str(body.get("tenantId") or "").strip().lower()
    if not tid:
        raise bad_request("Property 'tenantId' is required.")
    with req.tenant.lock:
        policy = req.tenant.cross_tenant
        if tid in policy.partners:
            return _conflict(tid, _PARTNER_EXISTS)
        partner = new_partner(tid)
        for name, value in body.items():
            if name in PARTNER_PROPERTIES and name != "tenantId":
                partner[name] = copy.deepcopy(value)
        _check_size(policy.size_with(partners={**policy.partners, tid: partner}))
        policy.partners[tid] = partner
        out = {"@odata.context": svc.context(req, "policies/crossTenantAccessPolicy/partners/$entity")}
        out.update(copy.deepcopy(partner))
    return GraphResult(201, out)


@route("GET", _PARTNER, "ctap.read")
def get_partner(svc: GraphService, req: GraphRequest, tenant_id: str) -> GraphResult:
    with req.tenant.lock:
        partner = req.tenant.cross_tenant.partner(tenant_id)
        if partner is None:
            raise _object_not_found()
        out = {"@odata.context": svc.context(req, "policies/crossTenantAccessPolicy/partners/$entity")}
        out.update(copy.deepcopy(partner))
    return GraphResult(200, out)


@route("PATCH", _PARTNER, "ctap.write")
def update_partner(svc: GraphService, req: GraphRequest, tenant_id: str) -> GraphResult:
    body = _body(req)
    _validate_partner(body)
    with req.tenant.lock:
        policy = req.tenant.cross_tenant
        current = policy.partner(tenant_id)
        if current is None:
            raise _object_not_found()
        if "tenantId" in body and str(body["tenantId"]).lower() != current["tenantId"]:
            raise bad_request("Property 'tenantId' is read-only and cannot be changed.")
        updated = copy.deepcopy(current)
        for name, value in body.items():
            if name not in PARTNER_PROPERTIES or name == "tenantId":
                continue
            if name == "automaticUserConsentSettings" and isinstance(value, dict):
                # The how-to PATCHes inboundAllowed alone in one tenant and outboundAllowed alone in the other;
                # whether Graph merges or replaces this complex value is not documented. We merge, so the
                # other direction keeps its value.
                merged = dict(updated.get("automaticUserConsentSettings") or {})
                merged.update(value)
                updated[name] = merged
            else:
                updated[name] = copy.deepcopy(value)
        _check_size(policy.size_with(partners={**policy.partners, current["tenantId"]: updated}))
        policy.partners[current["tenantId"]] = updated
    return GraphResult(204)


@route("DELETE", _PARTNER, "ctap.write")
def delete_partner(svc: GraphService, req: GraphRequest, tenant_id: str) -> GraphResult:
    with req.tenant.lock:
        policy = req.tenant.cross_tenant
        partner = policy.partner(tenant_id)
        if partner is None:
            raise _object_not_found()
        del policy.partners[partner["tenantId"]]
        # The partner's identity sync policy is one of its relationships; we remove it with the partner (the docs
        # do not say otherwise).
        policy.identity_sync.pop(partner["tenantId"], None)
    return GraphResult(204)


# ============================================================================ identitySynchronization

_SYNC_FIELDS = ("displayName", "userSyncInbound", "tenantId")


def _sync_body(req: GraphRequest) -> dict[str, Any]:
    body = _body(req)
    for name, value in body.items():
        if name.startswith("@"):
            continue
        if name not in _SYNC_FIELDS:
            raise _unknown_property(name, "crossTenantIdentitySyncPolicyPartner")
        if name == "userSyncInbound" and value is not None and (
                not isinstance(value, dict) or not isinstance(value.get("isSyncAllowed", False), bool)):
            raise bad_request("Invalid value specified for property 'userSyncInbound' of resource "
                              "'crossTenantIdentitySyncPolicyPartner'.")
    return body


@route("GET", _PARTNER + r"/identitySynchronization", "ctap.read")
def get_identity_sync(svc: GraphService, req: GraphRequest, tenant_id: str) -> GraphResult:
    with req.tenant.lock:
        policy = req.tenant.cross_tenant
        partner = policy.partner(tenant_id)
        sync = policy.identity_sync.get(partner["tenantId"]) if partner else None
        if sync is None:
            raise _object_not_found()
        out = {"@odata.context": svc.context(
            req, f"policies/crossTenantAccessPolicy/partners('{partner['tenantId']}')/identitySynchronization/$entity")}
        out.update(copy.deepcopy(sync))
    return GraphResult(200, out)


@route("PUT", _PARTNER + r"/identitySynchronization", "ctap.write")
def put_identity_sync(svc: GraphService, req: GraphRequest, tenant_id: str) -> GraphResult:
    body = _sync_body(req)
    with req.tenant.lock:
        policy = req.tenant.cross_tenant
        partner = policy.partner(tenant_id)
        # The partner entry comes first in the how-to (step A before B); a PUT without one is answered like a
        # missing object (the docs do not show this case).
        if partner is None:
            raise _object_not_found()
        tid = partner["tenantId"]
        if tid in policy.identity_sync:
            # graph-facts 2.1 step B: PUT when one exists -> 409; PATCH instead
            return _conflict(tid, _SYNC_EXISTS)
        sync = {"tenantId": tid, "displayName": body.get("displayName"),
                "userSyncInbound": copy.deepcopy(body.get("userSyncInbound") or {"isSyncAllowed": False})}
        _check_size(policy.size_with(identity_sync={**policy.identity_sync, tid: sync}))
        policy.identity_sync[tid] = sync
    return GraphResult(204)


@route("PATCH", _PARTNER + r"/identitySynchronization", "ctap.write")
def update_identity_sync(svc: GraphService, req: GraphRequest, tenant_id: str) -> GraphResult:
    body = _sync_body(req)
    with req.tenant.lock:
        policy = req.tenant.cross_tenant
        partner = policy.partner(tenant_id)
        sync = policy.identity_sync.get(partner["tenantId"]) if partner else None
        if sync is None:
            raise _object_not_found()
        updated = copy.deepcopy(sync)
        for name in ("displayName", "userSyncInbound"):
            if name in body:
                updated[name] = copy.deepcopy(body[name])
        _check_size(policy.size_with(identity_sync={**policy.identity_sync, sync["tenantId"]: updated}))
        policy.identity_sync[sync["tenantId"]] = updated
    return GraphResult(204)


@route("DELETE", _PARTNER + r"/identitySynchronization", "ctap.write")
def delete_identity_sync(svc: GraphService, req: GraphRequest, tenant_id: str) -> GraphResult:
    with req.tenant.lock:
        policy = req.tenant.cross_tenant
        partner = policy.partner(tenant_id)
        if partner is None or partner["tenantId"] not in policy.identity_sync:
            raise _object_not_found()
        del policy.identity_sync[partner["tenantId"]]
    return GraphResult(204)


# ============================================================================ authorizationPolicy

_AUTHZ_WRITABLE = {"allowInvitesFrom", "allowedToSignUpEmailBasedSubscriptions", "allowedToUseSSPR",
                   "allowEmailVerifiedUsersToJoinOrganization", "allowUserConsentForRiskyApps", "blockMsolPowerShell",
                   "displayName", "description", "guestUserRoleId", "defaultUserRolePermissions"}


@route("GET", r"/policies/authorizationPolicy", "authz.read")
def get_authorization_policy(svc: GraphService, req: GraphRequest) -> GraphResult:
    # v1.0 returns the single object (authorizationpolicy-get.md)
    with req.tenant.lock:
        out = {"@odata.context": svc.context(req, "policies/authorizationPolicy/$entity")}
        out.update(copy.deepcopy(req.tenant.cross_tenant.authorization))
    return GraphResult(200, out)


@route("PATCH", r"/policies/authorizationPolicy", "authz.write")
def update_authorization_policy(svc: GraphService, req: GraphRequest) -> GraphResult:
    body = _body(req)
    for name, value in body.items():
        if name.startswith("@"):
            continue
        if name not in _AUTHZ_WRITABLE:
            raise _unknown_property(name, "authorizationPolicy")
        if name == "allowInvitesFrom" and value not in INVITE_SETTINGS:
            raise bad_request("Invalid value specified for property 'allowInvitesFrom' of resource "
                              f"'authorizationPolicy'. Supported values: {', '.join(INVITE_SETTINGS)}.")
    with req.tenant.lock:
        auth = req.tenant.cross_tenant.authorization
        for name, value in body.items():
            if name in _AUTHZ_WRITABLE:
                if name == "defaultUserRolePermissions" and isinstance(value, dict):
                    auth[name] = {**(auth.get(name) or {}), **copy.deepcopy(value)}
                else:
                    auth[name] = copy.deepcopy(value)
    return GraphResult(204)
