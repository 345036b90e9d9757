"""The users family of the simulated Graph: ``/users`` list (``$filter``, ``$search``, ``$orderby``, ``$count``),
get, create, update and delete.

``GET /users/delta`` is answered by ``delta.py`` (the route is ``GET /users/{key}``); deleted users live in
``deleted.py``; licences (assignLicense, licenseDetails) in ``licences.py``; a user's manager in
``toolkit.simulator.manager``.
"""

from __future__ import annotations

import copy
import re
import uuid
from typing import Any, Mapping

from ..odata import (USER_FILTERS, GraphFault, apply_filter, bad_request, check_query_options, has_eventual,
                     is_advanced, not_found, parse_filter, search_matches, unsupported_query)
from ..state import TenantState, now_iso
from .delta import user_delta
from .messages import GraphRequest, GraphResult, body_object, check_top, query_ci
from .paging import context_for
from .routing import RouteTable
from .schema import USER_PROPERTIES, USER_READ_ONLY, existing_user, user_select, user_view
from .service import GraphService
from .writes import add_new_user

__all__ = ["ROUTES", "get_user"]

ROUTES = RouteTable()
route = ROUTES.route        # @route adds to this module's table only; toolkit.simulator.registry reads it

_UPN_LOCAL = re.compile(r"^[A-Za-z0-9'.\-_!#^~]+$")


def _filtered_users(req: GraphRequest) -> tuple[list[dict[str, Any]], bool]:
    users = req.tenant.visible_users(eventual=has_eventual(req.headers))
    text = query_ci(req.query, "$filter")
    advanced = is_advanced(req.headers, req.query)
    search = query_ci(req.query, "$search")
    if search:
        users = [u for u in users if search_matches(search, u, ("displayName", "mail", "userPrincipalName",
                                                                  "givenName", "surname", "mailNickname"))]
    if text:
        users = apply_filter(users, text, USER_FILTERS, "User", advanced=advanced)
    order = query_ci(req.query, "$orderby")
    if order:
        users = _order(users, order, text is not None, advanced)
    return users, advanced


_ORDER_DEFAULT = {"displayName", "userPrincipalName"}          # sortable without advanced queries
_ORDER_ADVANCED = {"createdDateTime", "mail", "givenName", "surname", "jobTitle", "department", "employeeId",
                   "usageLocation", "companyName", "country", "city"}


def _order(users: list[dict[str, Any]], order: str, filtered: bool, advanced: bool) -> list[dict[str, Any]]:
    """One-property $orderby (graph-facts 6.4: with $filter, or on most properties, it is an advanced query)."""
    parts = order.split()
    if not 1 <= len(parts) <= 2 or (len(parts) == 2 and parts[1].lower() not in ("asc", "desc")):
        raise GraphFault(400, "BadRequest", f"Invalid $orderby expression '{order}'.")
    known = {p.lower(): p for p in USER_PROPERTIES}
    prop = known.get(parts[0].lower())
    if prop is None:
        raise GraphFault(400, "BadRequest", f"Could not find a property named '{parts[0]}' on type "
                         "'microsoft.graph.user'.")
    if prop not in _ORDER_DEFAULT | _ORDER_ADVANCED:
        raise unsupported_query(f"Unsupported sort property '{prop}' for 'User'.")
    if (filtered or prop not in _ORDER_DEFAULT) and not advanced:
        raise unsupported_query()
    desc = len(parts) == 2 and parts[1].lower() == "desc"
    present = [u for u in users if u.get(prop) is not None]
    missing = [u for u in users if u.get(prop) is None]
    present.sort(key=lambda u: str(u[prop]).lower(), reverse=desc)
    return present + missing


@route("GET", r"/users", "users.read")
def list_users(svc: GraphService, req: GraphRequest) -> GraphResult:
    check_query_options(req.headers, req.query, "user", searchable=True, modelled=svc.routing.expansions)
    top = check_top(req, svc.page_size)
    select = user_select(req, collection=True)
    with req.tenant.lock:
        if query_ci(req.query, "$skiptoken"):
            users, advanced = [], is_advanced(req.headers, req.query)
            total = None
        else:
            users, advanced = _filtered_users(req)
            total = len(users) if advanced else None
        tenant = req.tenant

        def resolve(uid: str) -> dict[str, Any] | None:
            u = tenant.users.get(uid)
            return user_view(tenant, u, select) if u is not None else None
        return svc.page(req, [u["id"] for u in users], resolve,
                        svc.context(req, context_for("users", select)), top, total)


@route("GET", r"/users/\$count", "users.read")
def count_users(svc: GraphService, req: GraphRequest) -> GraphResult:
    if not has_eventual(req.headers):
        raise bad_request("$count is not currently supported.")
    with req.tenant.lock:
        users = req.tenant.visible_users()
        text = query_ci(req.query, "$filter")
        if text:
            flt = parse_filter(text, USER_FILTERS, "User")
            users = [u for u in users if flt.matches(u)]
        return GraphResult(200, str(len(users)), {"Content-Type": "text/plain;charset=utf-8"})


@route("GET", r"/users/(?P<key>[^/]+)", "users.read")
def get_user(svc: GraphService, req: GraphRequest, key: str) -> GraphResult:
    if key.lower() == "delta()" or key.lower() == "delta":
        return user_delta(svc, req)
    check_query_options(req.headers, req.query, "user", searchable=False, modelled=svc.routing.expansions)
    select = user_select(req, collection=False)
    with req.tenant.lock:
        user = req.tenant.find_user(key)
        if user is None:
            raise not_found(key)
        body = {"@odata.context": svc.context(req, context_for("users", select) + "/$entity")}
        body.update(user_view(req.tenant, user, select))
        return GraphResult(200, body)


def _validate_user_props(tenant: TenantState, props: Mapping[str, Any], *, creating: bool,
                         user_id: str | None = None) -> None:
    for name in props:
        if name.startswith("@"):
            continue
        if name not in USER_PROPERTIES:
            raise GraphFault(400, "BadRequest", f"The property '{name}' does not exist on type "
                             "'microsoft.graph.user'. Make sure to only use property names that are defined by "
                             "the type or mark the type as open type.")
        if name in USER_READ_ONLY:
            raise bad_request(f"Property '{name}' is read-only and cannot be set.")
    if "accountEnabled" in props and not isinstance(props["accountEnabled"], bool):
        raise bad_request("Invalid value specified for property 'accountEnabled' of resource 'User'.")
    for name in ("displayName", "mailNickname"):
        if name in props and (not isinstance(props[name], str) or not props[name].strip()):
            raise bad_request(f"Invalid value specified for property '{name}' of resource 'User'.")
    if "mailNickname" in props and len(props["mailNickname"]) > 64:
        raise bad_request("Invalid value specified for property 'mailNickname' of resource 'User'.")
    if "usageLocation" in props and props["usageLocation"] is not None and not (
            isinstance(props["usageLocation"], str) and re.fullmatch(r"[A-Za-z]{2}", props["usageLocation"])):
        raise bad_request("Invalid value specified for property 'usageLocation' of resource 'User'.")
    if "userType" in props and props["userType"] not in ("Member", "Guest"):
        raise bad_request("Invalid value specified for property 'userType' of resource 'User'.")
    if "userPrincipalName" in props:
        upn = props["userPrincipalName"]
        if not isinstance(upn, str) or upn.count("@") != 1:
            raise bad_request("Invalid value specified for property 'userPrincipalName' of resource 'User'.")
        local, domain = upn.split("@")
        if "#EXT#" not in local and not _UPN_LOCAL.match(local):
            raise bad_request("Invalid value specified for property 'userPrincipalName' of resource 'User'.")
        if domain.lower() not in tenant.verified_domains():
            raise bad_request("The domain portion of the userPrincipalName property is invalid. You must use one "
                              "of the verified domain names in your organization.")
        if tenant.upn_taken(upn, except_id=user_id):
            raise bad_request("Another object with the same value for property userPrincipalName already exists.")
    if props.get("mail"):
        # mail and proxyAddresses are unique across mail-enabled objects (docs/direct-engine.md).
        if not isinstance(props["mail"], str) or "@" not in props["mail"]:
            raise bad_request("Invalid value specified for property 'mail' of resource 'User'.")
        if tenant.address_owner(props["mail"], except_id=user_id) is not None:
            raise bad_request("Another object with the same value for property proxyAddresses already exists.")


def _mail_to_proxies(user: dict[str, Any], new_mail: str | None) -> None:
    """Setting mail makes it the primary SMTP proxy address; the old primary stays as a secondary one
    (user resource: "changes to the mail property update proxyAddresses")."""
    if not new_mail:
        return
    proxies = [p for p in user.get("proxyAddresses") or [] if str(p).split(":", 1)[-1].lower() != new_mail.lower()]
    proxies = ["smtp:" + p.split(":", 1)[1] if p.startswith("SMTP:") else p for p in proxies]
    user["proxyAddresses"] = [f"SMTP:{new_mail}", *proxies]


@route("POST", r"/users", "users.write")
def create_user(svc: GraphService, req: GraphRequest) -> GraphResult:
    body = body_object(req)
    tenant = req.tenant
    for required in ("accountEnabled", "displayName", "mailNickname", "userPrincipalName", "passwordProfile"):
        if body.get(required) in (None, ""):
            raise bad_request(f"Invalid value specified for property '{required}' of resource 'User'."
                              if required != "passwordProfile" else "A password must be specified to create a new user.")
    profile = body["passwordProfile"]
    if not isinstance(profile, dict) or not profile.get("password"):
        raise bad_request("A password must be specified to create a new user.")
    props = {k: v for k, v in body.items() if k != "passwordProfile"}
    with tenant.lock:
        _validate_user_props(tenant, props, creating=True)
        uid = str(uuid.uuid4())
        user: dict[str, Any] = {"id": uid, "businessPhones": [], "createdDateTime": now_iso(), "userType": "Member",
                                "creationType": None}
        user.update(copy.deepcopy(props))
        _mail_to_proxies(user, props.get("mail"))
        add_new_user(svc, tenant, user)
        tenant.add_audit(activity="Add user", category="UserManagement", operation="Add", app=req.app,
                         target=user, target_type="User",
                         modified=[(k, None, v) for k, v in props.items() if k in ("accountEnabled", "displayName",
                                   "userPrincipalName", "mailNickname", "userType", "usageLocation")])
        out = {"@odata.context": svc.context(req, "users/$entity")}
        out.update(user_view(tenant, user, None))
        return GraphResult(201, out, {"Location": f"{req.base_url}/v1.0/users/{uid}"})


@route("PATCH", r"/users/(?P<key>[^/]+)", "users.write")
def update_user(svc: GraphService, req: GraphRequest, key: str) -> GraphResult:
    body = body_object(req)
    tenant = req.tenant
    with tenant.lock:
        user = existing_user(tenant, key)
        props = {k: v for k, v in body.items() if not k.startswith("@")}
        _validate_user_props(tenant, props, creating=False, user_id=user["id"])
        if isinstance(props.get("onPremisesExtensionAttributes"), dict):
            # The docs are silent on PATCH of this complex property; scripts rely on the keys not sent being
            # kept (setting one extensionAttribute does not clear the others), so the simulator merges.
            props["onPremisesExtensionAttributes"] = {**(user.get("onPremisesExtensionAttributes") or {}),
                                                      **props["onPremisesExtensionAttributes"]}
        if user.get("onPremisesSyncEnabled") and props:
            # Source of authority is on-premises AD: Graph refuses the update (docs/graph-facts.md 10).
            raise bad_request("Unable to update the specified properties for objects that have originated within "
                              "an external service.")
        old_mail = user.get("mail")
        changed = [(k, user.get(k), v) for k, v in props.items() if user.get(k) != v and k != "passwordProfile"]
        for k, v in props.items():
            if k != "passwordProfile":
                user[k] = copy.deepcopy(v)
        if "mail" in props and props["mail"] != old_mail:
            _mail_to_proxies(user, props["mail"])
        if changed:
            tenant.record_change(user["id"], "upsert", {k for k, _, _ in changed})
        if "userPrincipalName" in props:
            tenant.invalidate_upns()
        tenant.add_audit(activity="Update user", category="UserManagement", operation="Update", app=req.app,
                         target=user, target_type="User", modified=changed)
        return GraphResult(204)


@route("DELETE", r"/users/(?P<key>[^/]+)", "users.delete")
def delete_user(svc: GraphService, req: GraphRequest, key: str) -> GraphResult:
    tenant = req.tenant
    with tenant.lock:
        user = existing_user(tenant, key)
        uid = user["id"]
        del tenant.users[uid]
        user["deletedDateTime"] = now_iso()
        user["_directLicenses"] = tenant.direct_licenses.pop(uid, [])
        user["_groups"] = [g["id"] for g in tenant.groups.values() if uid in g["members"]]
        for g in tenant.groups.values():
            if uid in g["members"]:
                g["members"].remove(uid)
        tenant.deleted[uid] = user
        tenant.invalidate_upns()            # the UPN is free for a new user while this one sits in deletedItems
        tenant.relicense_user(uid)          # frees the user's units
        tenant.record_change(uid, "softdelete")
        tenant.add_audit(activity="Delete user", category="UserManagement", operation="Delete", app=req.app,
                         target=user, target_type="User")
        return GraphResult(204)
