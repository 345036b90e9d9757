"""A user's manager in the simulated Graph v1.0: assign, read, remove, and ``$expand=manager``.

Sources (microsoft-graph-docs-contrib, api-reference/v1.0/api; summarised in docs/migrate.md "Managers"):

* ``user-post-manager.md``: ``PUT /users/{id}/manager/$ref`` with ``{"@odata.id": "<graph root>/users/{id}"}``
  (the read URL of a directoryObject or user); ``204 No Content``. Application permissions User.ReadWrite.All,
  Directory.ReadWrite.All.
* ``user-list-manager.md``: ``GET /users/{id | userPrincipalName}/manager`` returns the manager as a
  directoryObject (``200``); ``GET /users/{id}?$expand=manager($levels=n)`` nests the chain (``n`` is 1..1000
  or ``max``; without ``$levels`` only the immediate manager). Permissions User.Read.All and above.
* ``user-delete-manager.md``: ``DELETE /users/{id}/manager/$ref``; ``204 No Content``.
* Audit (entra-docs "audit log activities", Core Directory, category UserManagement): ``Set user manager``.
  The list has no activity for removing a manager; the simulator logs that as ``Update user`` with the
  ``Manager`` property cleared (Microsoft's docs are silent).

Errors: the pages document none. The simulator uses Graph's standard answers: an unknown user or manager is
``404 Request_ResourceNotFound`` "Resource '{id}' does not exist or one of its queried reference-property objects
are not present." (a user without a manager answers the same for the segment ``manager``); an ``@odata.id``
that is not a directory object URL is ``400 Request_BadRequest`` "Invalid URL format specified in payload." (the
service's text, quoted in msgraph-sdk-powershell issue 3150); a user as their own manager is
``400 Request_BadRequest`` (the docs are silent on this case and on its message).

The manager is kept on the user object under the private key ``_managerId`` (never projected: ``$select`` only
returns Graph properties). Only users can be managers here (organizational contacts are not simulated).
"""

from __future__ import annotations

import re
from typing import Any

from .graph_api import GraphRequest, GraphResult, GraphService, RouteTable
from .graph_api.schema import USER_COLLECTIONS, USER_DEFAULT, USER_PROPERTIES, existing_user
from .graph_api.users import get_user
from .odata import GraphFault, bad_request, not_found, parse_select, project
from .state import TenantState

__all__ = ["MANAGER_KEY", "manager_of"]

# ``$expand=manager`` is modelled (the other navigation properties of a user are refused with 501).
ROUTES = RouteTable(expansions={"user": {"manager"}})
route = ROUTES.route        # @route adds to this module's table only; toolkit.simulator.registry reads it

MANAGER_KEY = "_managerId"
_REF = re.compile(r"^https://[^/]+/v1\.0/(?:users|directoryObjects)/(?P<id>[^/?#]+)$", re.IGNORECASE)
_EXPAND = re.compile(r"^manager(?:\((?P<options>[^)]*)\))?$", re.IGNORECASE)
_MAX_LEVELS = 1000


def manager_of(tenant: TenantState, user: dict[str, Any]) -> dict[str, Any] | None:
    """The user's manager when it is a live, visible user (a deleted manager is no manager)."""
    mid = user.get(MANAGER_KEY)
    if not mid:
        return None
    return tenant.find_user(str(mid))


def _manager_view(manager: dict[str, Any], select: list[str] | None) -> dict[str, Any]:
    out: dict[str, Any] = {"@odata.type": "#microsoft.graph.user"}
    out.update(project(manager, select or USER_DEFAULT, USER_COLLECTIONS))
    return out


@route("PUT", r"/users/(?P<key>[^/]+)/manager/\$ref", "users.write")
def set_manager(svc: GraphService, req: GraphRequest, key: str) -> GraphResult:
    body = req.body
    if not isinstance(body, dict) or not isinstance(body.get("@odata.id"), str):
        raise bad_request("Invalid URL format specified in payload.")
    m = _REF.match(body["@odata.id"].strip())
    if not m:
        raise bad_request("Invalid URL format specified in payload.")
    tenant = req.tenant
    with tenant.lock:
        user = existing_user(tenant, key)
        manager = tenant.find_user(m.group("id"))
        if manager is None:
            raise not_found(m.group("id"))
        if manager["id"] == user["id"]:
            raise bad_request("A user cannot be assigned as their own manager.")
        old = manager_of(tenant, user)
        user[MANAGER_KEY] = manager["id"]
        tenant.add_audit(activity="Set user manager", category="UserManagement", operation="Update", app=req.app,
                         target=user, target_type="User",
                         extra_targets=[{"id": manager["id"], "displayName": manager.get("displayName"),
                                         "type": "User", "userPrincipalName": manager.get("userPrincipalName"),
                                         "groupType": None, "modifiedProperties": []}],
                         modified=[("Manager", old["id"] if old else None, manager["id"])])
        return GraphResult(204)


@route("GET", r"/users/(?P<key>[^/]+)/manager", "users.read")
def get_manager(svc: GraphService, req: GraphRequest, key: str) -> GraphResult:
    select = parse_select(req.query, USER_PROPERTIES, "microsoft.graph.directoryObject")
    tenant = req.tenant
    with tenant.lock:
        user = existing_user(tenant, key)
        manager = manager_of(tenant, user)
        if manager is None:
            raise not_found("manager")
        out: dict[str, Any] = {"@odata.context": svc.context(req, "directoryObjects/$entity")}
        out.update(_manager_view(manager, select))
        return GraphResult(200, out)


@route("DELETE", r"/users/(?P<key>[^/]+)/manager/\$ref", "users.write")
def remove_manager(svc: GraphService, req: GraphRequest, key: str) -> GraphResult:
    tenant = req.tenant
    with tenant.lock:
        user = existing_user(tenant, key)
        manager = manager_of(tenant, user)
        if manager is None:
            raise not_found("manager")
        del user[MANAGER_KEY]
        tenant.add_audit(activity="Update user", category="UserManagement", operation="Update", app=req.app,
                         target=user, target_type="User", modified=[("Manager", manager["id"], None)])
        return GraphResult(204)


# --- $expand=manager on GET /users/{id} ----------------------------------------------------------------------

def _expand_options(text: str) -> tuple[int, list[str] | None] | None:
    """(levels, $select) for ``manager``, ``manager($levels=n)``, ``manager($levels=n;$select=a,b)``; None when
    ``$expand`` asks for something else."""
    m = _EXPAND.match(text.strip())
    if not m:
        return None
    levels, select = 1, None
    for part in filter(None, (p.strip() for p in (m.group("options") or "").split(";"))):
        name, _, value = part.partition("=")
        if name.lower() == "$levels":
            if value.lower() == "max":
                levels = _MAX_LEVELS
            elif value.isdigit() and 1 <= int(value) <= _MAX_LEVELS:
                levels = int(value)
            else:
                raise bad_request(f"Invalid value '{value}' for $levels: give a number between 1 and 1000, or max.")
        elif name.lower() == "$select":
            select = parse_select({"$select": value}, USER_PROPERTIES, "microsoft.graph.user")
        else:
            raise GraphFault(400, "BadRequest", f"Query option '{name}' is not allowed in $expand=manager.")
    if select is not None and m.group("options") and "$levels" not in m.group("options").lower():
        # user-list-manager.md: "The $levels parameter is required" with $select inside $expand.
        raise bad_request("$select inside $expand=manager needs $levels, e.g. manager($levels=max;$select=id).")
    return levels, select


def _chain(tenant: TenantState, user: dict[str, Any], levels: int, select: list[str] | None) -> dict[str, Any] | None:
    manager = manager_of(tenant, user)
    if manager is None:
        return None
    view = _manager_view(manager, select)
    seen = {user["id"], manager["id"]}
    node, current = view, manager
    for _ in range(levels - 1):
        nxt = manager_of(tenant, current)
        if nxt is None or nxt["id"] in seen:           # a cycle ends the chain
            break
        seen.add(nxt["id"])
        node["manager"] = _manager_view(nxt, select)
        node, current = node["manager"], nxt
    return view


@route("GET", r"/users/(?P<key>[^/]+)", "users.read", ahead_of=get_user)
def get_user_expanding_manager(svc: GraphService, req: GraphRequest, key: str) -> GraphResult:
    """``GET /users/{id}``; with ``$expand=manager`` the manager (chain) is nested, as user-list-manager.md shows.
    It answers ahead of the users family's ``get_user`` (the registry places it) and delegates to it."""
    raw = next((v for k, v in req.query.items() if k.lower() == "$expand"), None)
    options = _expand_options(raw) if raw else None
    result = get_user(svc, req, key)
    if options is None or result.status != 200 or not isinstance(result.body, dict):
        return result
    levels, select = options
    with req.tenant.lock:
        user = req.tenant.find_user(key)
        chain = _chain(req.tenant, user, levels, select) if user is not None else None
    if chain is not None:
        result.body["manager"] = chain
    return result
