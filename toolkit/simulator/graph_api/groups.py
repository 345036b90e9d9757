"""Groups in the simulated Graph: ``/groups`` list and get, members and transitive members, and adding or removing
a member (``members/$ref``), which re-derives the member's group-based licences.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from ..odata import (GROUP_FILTERS, apply_filter, bad_request, check_query_options, is_advanced, not_found,
                     parse_select, project)
from ..state import TenantState
from .messages import GraphRequest, GraphResult, body_object, check_top, query_ci
from .paging import context_for
from .routing import RouteTable
from .schema import GROUP_COLLECTIONS, GROUP_DEFAULT, GROUP_PROPERTIES, USER_COLLECTIONS, USER_DEFAULT, USER_PROPERTIES
from .service import GraphService
from .writes import relicense

__all__ = ["ROUTES"]

ROUTES = RouteTable()
route = ROUTES.route        # @route adds to this module's table only; toolkit.simulator.registry reads it


def _group_view(group: Mapping[str, Any], select: list[str] | None) -> dict[str, Any]:
    out = project(group, select or GROUP_DEFAULT, GROUP_COLLECTIONS)
    if "licenseProcessingState" in out and out["licenseProcessingState"] in (None, []):
        out["licenseProcessingState"] = {"state": "ProcessingComplete"}
    return out


@route("GET", r"/groups", "groups.read")
def list_groups(svc: GraphService, req: GraphRequest) -> GraphResult:
    check_query_options(req.headers, req.query, "group", searchable=True, modelled=svc.routing.expansions)
    top = check_top(req, svc.page_size)
    select = parse_select(req.query, GROUP_PROPERTIES, "microsoft.graph.group")
    tenant = req.tenant
    with tenant.lock:
        groups = list(tenant.groups.values())
        text = query_ci(req.query, "$filter")
        advanced = is_advanced(req.headers, req.query)
        if text and not query_ci(req.query, "$skiptoken"):
            groups = apply_filter(groups, text, GROUP_FILTERS, "Group", advanced=advanced)
        return svc.page(req, [g["id"] for g in groups],
                        lambda i: _group_view(tenant.groups[i], select) if i in tenant.groups else None,
                        svc.context(req, context_for("groups", select)), top,
                        len(groups) if advanced else None)


def _find_group(tenant: TenantState, gid: str) -> dict[str, Any]:
    group = tenant.groups.get(gid.lower())
    if group is None:
        raise not_found(gid)
    return group


@route("GET", r"/groups/(?P<gid>[^/]+)", "groups.read")
def get_group(svc: GraphService, req: GraphRequest, gid: str) -> GraphResult:
    check_query_options(req.headers, req.query, "group", searchable=False, modelled=svc.routing.expansions)
    select = parse_select(req.query, GROUP_PROPERTIES, "microsoft.graph.group")
    with req.tenant.lock:
        group = _find_group(req.tenant, gid)
        out = {"@odata.context": svc.context(req, context_for("groups", select) + "/$entity")}
        out.update(_group_view(group, select))
        return GraphResult(200, out)


def _member_view(tenant: TenantState, oid: str, select: list[str] | None) -> dict[str, Any] | None:
    if oid in tenant.users and tenant.is_visible(oid):
        out = {"@odata.type": "#microsoft.graph.user"}
        out.update(project(tenant.users[oid], select or USER_DEFAULT, USER_COLLECTIONS))
        return out
    if oid in tenant.groups:
        out = {"@odata.type": "#microsoft.graph.group"}
        out.update(project(tenant.groups[oid], select or GROUP_DEFAULT, GROUP_COLLECTIONS))
        return out
    return None


def _transitive(tenant: TenantState, gid: str) -> list[str]:
    seen: dict[str, None] = {}
    stack = list(reversed(tenant.groups[gid]["members"]))
    visited_groups = {gid}
    while stack:
        oid = stack.pop()
        if oid in seen:
            continue
        seen[oid] = None
        if oid in tenant.groups and oid not in visited_groups:
            visited_groups.add(oid)
            stack.extend(reversed(tenant.groups[oid]["members"]))
    return list(seen)


def _members(svc: GraphService, req: GraphRequest, gid: str, transitive: bool) -> GraphResult:
    top = check_top(req, svc.page_size)
    select = parse_select(req.query, USER_PROPERTIES | GROUP_PROPERTIES, "microsoft.graph.directoryObject")
    tenant = req.tenant
    with tenant.lock:
        group = _find_group(tenant, gid)
        ids = _transitive(tenant, group["id"]) if transitive else list(group["members"])
        return svc.page(req, ids, lambda i: _member_view(tenant, i, select),
                        svc.context(req, "directoryObjects"), top)


@route("GET", r"/groups/(?P<gid>[^/]+)/members", "groups.read")
def group_members(svc: GraphService, req: GraphRequest, gid: str) -> GraphResult:
    return _members(svc, req, gid, transitive=False)


@route("GET", r"/groups/(?P<gid>[^/]+)/transitiveMembers", "groups.read")
def group_transitive_members(svc: GraphService, req: GraphRequest, gid: str) -> GraphResult:
    return _members(svc, req, gid, transitive=True)


_REF = re.compile(r"/(?:directoryObjects|users|groups)/(?P<id>[0-9a-fA-F-]{36})$")


@route("POST", r"/groups/(?P<gid>[^/]+)/members/\$ref", "members.write")
def add_member(svc: GraphService, req: GraphRequest, gid: str) -> GraphResult:
    body = body_object(req)
    ref = body.get("@odata.id")
    m = _REF.search(str(ref or ""))
    if not m:
        raise bad_request("Invalid object identifier '" + str(ref) + "'.")
    oid = m.group("id").lower()
    tenant = req.tenant
    with tenant.lock:
        group = _find_group(tenant, gid)
        refusal = _member_add_refusal(group, req.roles)
        if refusal:
            raise bad_request(refusal)
        if oid in tenant.users and not tenant.is_visible(oid):
            # The documented replication-lag answer for an object created moments ago.
            raise bad_request("One or more added object references do not exist for the following modified "
                              "properties: 'members'.")
        if not (oid in tenant.users or oid in tenant.groups):
            raise not_found(oid)
        if oid in group["members"]:
            raise bad_request("One or more added object references already exist for the following modified "
                              "properties: 'members'.")
        group["members"].append(oid)
        relicense(tenant, oid)
        member = tenant.users.get(oid) or tenant.groups[oid]
        tenant.add_audit(activity="Add member to group", category="GroupManagement", operation="Assign",
                         app=req.app, target=group, target_type="Group",
                         extra_targets=[{"id": oid, "displayName": member.get("displayName"),
                                         "type": "User" if oid in tenant.users else "Group",
                                         "userPrincipalName": member.get("userPrincipalName"),
                                         "groupType": None, "modifiedProperties": []}],
                         modified=[("Group.DisplayName", None, group.get("displayName"))])
        return GraphResult(204)


def _member_add_refusal(group: Mapping[str, Any], roles: frozenset[str]) -> str | None:
    """Why Graph refuses a plain ``members/$ref`` add to this group (group-post-members.md), else None.

    Mail-enabled security groups and distribution groups are managed in Exchange; a dynamic group's members
    come from its rule; a role-assignable group needs RoleManagement.ReadWrite.Directory as well. The exact
    messages are not documented; these follow what Graph answers for each case.
    """
    types = [str(t).lower() for t in group.get("groupTypes") or []]
    if "dynamicmembership" in types:
        return "Insufficient privileges to complete the operation. Members of a dynamic group cannot be added."
    if group.get("mailEnabled") and "unified" not in types:
        return ("Cannot Update a mail-enabled security groups and or distribution list. Manage it in Exchange "
                "Online.")
    if group.get("isAssignableToRole") and "RoleManagement.ReadWrite.Directory" not in roles:
        return "Insufficient privileges to complete the operation. The group is role-assignable."
    return None


@route("DELETE", r"/groups/(?P<gid>[^/]+)/members/(?P<oid>[^/]+)/\$ref", "members.write")
def remove_member(svc: GraphService, req: GraphRequest, gid: str, oid: str) -> GraphResult:
    tenant = req.tenant
    with tenant.lock:
        group = _find_group(tenant, gid)
        if oid.lower() not in group["members"]:
            raise not_found(oid)
        group["members"].remove(oid.lower())
        relicense(tenant, oid.lower())
        member = tenant.users.get(oid.lower()) or tenant.groups.get(oid.lower()) or {"id": oid}
        tenant.add_audit(activity="Remove member from group", category="GroupManagement", operation="Unassign",
                         app=req.app, target=group, target_type="Group",
                         extra_targets=[{"id": oid.lower(), "displayName": member.get("displayName"),
                                         "type": "User" if oid.lower() in tenant.users else "Group",
                                         "userPrincipalName": member.get("userPrincipalName"),
                                         "groupType": None, "modifiedProperties": []}],
                         modified=[("Group.DisplayName", group.get("displayName"), None)])
        return GraphResult(204)
