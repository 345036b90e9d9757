"""Graph routes for the cross-tenant sync configuration app: ``applicationTemplates/{id}/instantiate``,
``servicePrincipals`` (list with $filter, get, delete), their ``appRoleAssignedTo`` and ``appRoleAssignments``,
and ``DELETE /applications/{id}``.

State lives in ``enterprise_apps.py`` (``TenantState.enterprise_apps``). Rules and sources:
docs/entra-sync-simulator.md ("Configuration app").
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

from .enterprise_apps import CTS_TEMPLATE_ID, now_iso
from .graph_api import GraphRequest, GraphResult, GraphService, RouteTable
from .odata import GraphFault, PropertyRule, bad_request, not_found, parse_filter, parse_select, parse_top

# Permissions, least to most privileged (applicationtemplate-instantiate, serviceprincipal-list/get/delete,
# serviceprincipal-post-approleassignedto / -list-approleassignedto / -delete-approleassignedto,
# application-delete pages).
_APP_WRITE = frozenset({"Application.ReadWrite.OwnedBy", "Application.ReadWrite.All", "Directory.ReadWrite.All"})
ROUTES = RouteTable(permissions={
    "apps.read": frozenset({"Application.Read.All", "Directory.Read.All", *_APP_WRITE}),
    "apps.write": _APP_WRITE,
    "approles.read": frozenset({"Application.Read.All", "AppRoleAssignment.ReadWrite.All", "Directory.Read.All",
                                "Application.ReadWrite.All", "Directory.ReadWrite.All"}),
    "approles.write": frozenset({"AppRoleAssignment.ReadWrite.All"}),
})
route = ROUTES.route        # @route adds to this module's table only; toolkit.simulator.registry reads it
# POST/DELETE appRoleAssignedTo need AppRoleAssignment.ReadWrite.All AND one of these (the pages list pairs)
_APPROLE_COMPANION = frozenset({"Application.Read.All", "Directory.Read.All", "Application.ReadWrite.All",
                                "Directory.ReadWrite.All"})

# servicePrincipal $filter support (servicePrincipal resource page: appId, displayName, applicationTemplateId,
# servicePrincipalType, id, tags)
SP_FILTERS = {
    "id": PropertyRule(frozenset({"eq", "ne", "not", "in"}), "guid"),
    "appId": PropertyRule(frozenset({"eq", "ne", "not", "in"}), "string"),
    "displayName": PropertyRule(frozenset({"eq", "ne", "not", "in", "startsWith", "startswith"}), "string"),
    "applicationTemplateId": PropertyRule(frozenset({"eq", "ne", "not"}), "string"),
    "servicePrincipalType": PropertyRule(frozenset({"eq", "ne", "not", "in"}), "string"),
    "tags": PropertyRule(frozenset({"any"}), "collection_string"),
}
_SP_PROPERTIES = {"id", "deletedDateTime", "accountEnabled", "appId", "applicationTemplateId", "appDisplayName",
                  "alternativeNames", "appOwnerOrganizationId", "displayName", "appRoleAssignmentRequired",
                  "loginUrl", "logoutUrl", "homepage", "notificationEmailAddresses", "preferredSingleSignOnMode",
                  "preferredTokenSigningKeyThumbprint", "replyUrls", "servicePrincipalNames",
                  "servicePrincipalType", "tags", "tokenEncryptionKeyId", "samlSingleSignOnSettings", "addIns",
                  "appRoles", "info", "keyCredentials", "oauth2PermissionScopes", "passwordCredentials",
                  "verifiedPublisher"}


def _service_principal(req: GraphRequest, sp_id: str) -> dict[str, Any]:
    sp = req.tenant.enterprise_apps.service_principal(sp_id)
    if sp is None:
        raise not_found(sp_id)
    return sp


@route("POST", r"/applicationTemplates/(?P<template_id>[^/]+)/instantiate", "apps.write")
def instantiate(svc: GraphService, req: GraphRequest, template_id: str) -> GraphResult:
    # Only the cross-tenant synchronization template is simulated; other gallery apps are out of scope.
    if template_id.lower() != CTS_TEMPLATE_ID:
        raise not_found(template_id)
    body = req.body if isinstance(req.body, dict) else None
    if body is None or not isinstance(body.get("displayName"), str) or not body["displayName"].strip():
        raise bad_request("Property 'displayName' is required.", "BadRequest")
    with req.tenant.lock:
        application, sp = req.tenant.enterprise_apps.instantiate_cts(body["displayName"].strip())
        out = {"@odata.context": svc.context(req, "microsoft.graph.applicationServicePrincipal"),
               "application": copy.deepcopy(application), "servicePrincipal": copy.deepcopy(sp)}
    return GraphResult(201, out)


@route("GET", r"/servicePrincipals", "apps.read")
def list_service_principals(svc: GraphService, req: GraphRequest) -> GraphResult:
    top = parse_top(req.query, svc.page_size)
    select = parse_select(req.query, _SP_PROPERTIES, "microsoft.graph.servicePrincipal")
    with req.tenant.lock:
        apps = req.tenant.enterprise_apps
        sps = list(apps.service_principals.values())
        text = req.query.get("$filter")
        if text and not req.query.get("$skiptoken"):
            flt = parse_filter(text, SP_FILTERS, "ServicePrincipal")
            sps = [sp for sp in sps if flt.matches(sp)]

        def resolve(sp_id: str) -> dict[str, Any] | None:
            sp = apps.service_principals.get(sp_id)
            if sp is None:
                return None
            return {k: copy.deepcopy(sp.get(k)) for k in (["id", *select] if select else sp)}
        context = "servicePrincipals" + (f"({','.join(select)})" if select else "")
        return svc.page(req, [sp["id"] for sp in sps], resolve, svc.context(req, context), top)


@route("GET", r"/servicePrincipals/(?P<sp_id>[^/]+)", "apps.read")
def get_service_principal(svc: GraphService, req: GraphRequest, sp_id: str) -> GraphResult:
    with req.tenant.lock:
        out = {"@odata.context": svc.context(req, "servicePrincipals/$entity")}
        out.update(copy.deepcopy(_service_principal(req, sp_id)))
    return GraphResult(200, out)


@route("DELETE", r"/servicePrincipals/(?P<sp_id>[^/]+)", "apps.write")
def delete_service_principal(svc: GraphService, req: GraphRequest, sp_id: str) -> GraphResult:
    # Deleting the configuration leaves synced users untouched (graph-facts 3, "Deprovisioning").
    with req.tenant.lock:
        sp = _service_principal(req, sp_id)
        req.tenant.enterprise_apps.delete_service_principal(sp["id"])
    return GraphResult(204)


@route("DELETE", r"/applications/(?P<app_id>[^/]+)", "apps.write")
def delete_application(svc: GraphService, req: GraphRequest, app_id: str) -> GraphResult:
    with req.tenant.lock:
        if not req.tenant.enterprise_apps.delete_application(app_id.lower()):
            raise not_found(app_id)
    return GraphResult(204)


# ============================================================================ app role assignments

@route("GET", r"/servicePrincipals/(?P<sp_id>[^/]+)/appRoleAssignedTo", "approles.read")
def list_assigned_to(svc: GraphService, req: GraphRequest, sp_id: str) -> GraphResult:
    top = parse_top(req.query, svc.page_size)
    with req.tenant.lock:
        sp = _service_principal(req, sp_id)
        items = {a["id"]: a for a in req.tenant.enterprise_apps.assignments(sp["id"])}
        return svc.page(req, list(items), lambda i: copy.deepcopy(items.get(i)),
                        svc.context(req, f"servicePrincipals('{sp['id']}')/appRoleAssignedTo"), top)


@route("GET", r"/servicePrincipals/(?P<sp_id>[^/]+)/appRoleAssignments", "approles.read")
def list_app_role_assignments(svc: GraphService, req: GraphRequest, sp_id: str) -> GraphResult:
    """The app roles granted TO this service principal (its application permissions, e.g. the target-side
    cross-cloud sync principal's Graph permissions)."""
    with req.tenant.lock:
        sp = _service_principal(req, sp_id)
        value = [{k: v for k, v in a.items() if not k.startswith("@sim.")}
                 for a in req.tenant.enterprise_apps.app_permissions.get(sp["id"], [])]
    return GraphResult(200, {"@odata.context": svc.context(req, f"servicePrincipals('{sp['id']}')/appRoleAssignments"),
                             "value": value})


@route("POST", r"/servicePrincipals/(?P<sp_id>[^/]+)/appRoleAssignedTo", "approles.write")
def assign(svc: GraphService, req: GraphRequest, sp_id: str) -> GraphResult:
    if not req.roles & _APPROLE_COMPANION:
        raise GraphFault(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
    body = req.body if isinstance(req.body, dict) else {}
    for name in ("principalId", "resourceId", "appRoleId"):
        if not isinstance(body.get(name), str) or not body[name]:
            raise bad_request(f"Property '{name}' is required.")
    with req.tenant.lock:
        tenant = req.tenant
        apps = tenant.enterprise_apps
        sp = _service_principal(req, sp_id)
        if body["resourceId"].lower() != sp["id"]:
            raise bad_request("Invalid value specified for property 'resourceId' of resource 'AppRoleAssignment'.")
        if body["appRoleId"].lower() not in {r["id"] for r in sp["appRoles"]} | {str(uuid.UUID(int=0))}:
            raise bad_request("Permission being assigned was not found on application.")
        pid = body["principalId"].lower()
        user = tenant.users.get(pid)
        group = tenant.groups.get(pid)
        if user is None and group is None:
            raise bad_request(f"Resource '{pid}' does not exist or one of its queried reference-property objects "
                              "are not present.", "Request_ResourceNotFound")
        principal = user or group
        existing = [a for a in apps.assignments(sp["id"])
                    if a["principalId"] == pid and a["appRoleId"] == body["appRoleId"].lower()]
        if existing:
            # Entra refuses a second identical assignment (error text as Graph returns it for duplicates)
            raise bad_request("Permission being assigned already exists on the object", "Request_BadRequest")
        assignment = {"id": _assignment_id(), "deletedDateTime": None, "appRoleId": body["appRoleId"].lower(),
                      "createdDateTime": now_iso(fraction=True), "principalDisplayName": principal.get("displayName"),
                      "principalId": pid, "principalType": "User" if user is not None else "Group",
                      "resourceDisplayName": sp["displayName"], "resourceId": sp["id"]}
        apps.assigned_to.setdefault(sp["id"], {})[assignment["id"]] = assignment
        out = {"@odata.context": svc.context(req, f"servicePrincipals('{sp['id']}')/appRoleAssignedTo/$entity")}
        out.update(copy.deepcopy(assignment))
    return GraphResult(201, out)


@route("DELETE", r"/servicePrincipals/(?P<sp_id>[^/]+)/appRoleAssignedTo/(?P<assignment_id>[^/]+)", "approles.write")
def unassign(svc: GraphService, req: GraphRequest, sp_id: str, assignment_id: str) -> GraphResult:
    if not req.roles & _APPROLE_COMPANION:
        raise GraphFault(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
    with req.tenant.lock:
        sp = _service_principal(req, sp_id)
        assignments = req.tenant.enterprise_apps.assigned_to.get(sp["id"], {})
        if assignment_id not in assignments:
            raise not_found(assignment_id)
        del assignments[assignment_id]
    return GraphResult(204)


def _assignment_id() -> str:
    # appRoleAssignment ids are opaque base64url strings in Graph ("{keyId}" in the how-to)
    import base64
    return base64.urlsafe_b64encode(uuid.uuid4().bytes + uuid.uuid4().bytes[:8]).decode().rstrip("=")
