"""The simulated Microsoft Graph v1.0: a route table of handlers over a tenant's state.

``GraphService.execute(request)`` runs one already-authenticated request (top-level or a $batch item): it
charges the throttle model, checks the app role, finds the route and renders Graph's answer. Later modules add
resources by registering more routes with ``@route(...)`` (e.g. ``/auditLogs/directoryAudits`` reading
``TenantState.audit``); nothing else needs to change.

Application permissions per operation (the least-privileged first, then the higher ones Microsoft lists), from
the "Permissions" tables of the v1.0 API pages: user-list, user-get, user-post-users, user-update, user-delete,
user-delta, directory-deleteditems-list/get/restore/delete, subscribedsku-list/get, user-assignlicense,
user-list-licensedetails, group-list, group-get, group-list-members, group-list-transitivemembers,
group-post-members, group-delete-members, domain-list, domain-get, organization-list, invitation-post.
"""

from __future__ import annotations

import base64
import copy
import random
import re
import secrets
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Mapping
from urllib.parse import quote, urlencode

from .odata import (GROUP_FILTERS, USER_FILTERS, GraphFault, bad_request, check_query_options, decode_token,
                    encode_token, search_matches,
                    has_eventual, is_advanced, new_snapshot_key, not_found, parse_filter, parse_select,
                    parse_top, project, unsupported_query)
from .state import TenantState, now_iso

__all__ = ["GraphRequest", "GraphResult", "GraphService", "Route", "ROUTES", "route", "ROLES", "complete_error",
           "JSON_TYPE"]

_READ_USERS = frozenset({"User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"})
_WRITE_USERS = frozenset({"User.ReadWrite.All", "Directory.ReadWrite.All"})
ROLES: dict[str, frozenset[str]] = {
    "users.read": _READ_USERS,
    "users.write": _WRITE_USERS,
    "users.delete": frozenset({"User.DeleteRestore.All", *_WRITE_USERS}),
    "deleted.read": _READ_USERS,
    "deleted.restore": frozenset({"User.DeleteRestore.All", *_WRITE_USERS}),
    "skus.read": frozenset({"LicenseAssignment.Read.All", "LicenseAssignment.ReadWrite.All", "Organization.Read.All",
                            "Organization.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}),
    "license.assign": frozenset({"LicenseAssignment.ReadWrite.All", "User.ReadWrite.All", "Directory.ReadWrite.All"}),
    "license.read": frozenset({"LicenseAssignment.Read.All", "LicenseAssignment.ReadWrite.All", *_READ_USERS}),
    "groups.read": frozenset({"GroupMember.Read.All", "Group.Read.All", "Group.ReadWrite.All",
                              "GroupMember.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}),
    "members.write": frozenset({"GroupMember.ReadWrite.All", "Group.ReadWrite.All", "Directory.ReadWrite.All"}),
    "domains.read": frozenset({"Domain.Read.All", "Domain.ReadWrite.All", "Directory.Read.All",
                               "Directory.ReadWrite.All"}),
    "org.read": frozenset({"Organization.Read.All", "Organization.ReadWrite.All", "Directory.Read.All",
                           "Directory.ReadWrite.All", "User.Read.All"}),
    "invite": frozenset({"User.Invite.All", "User.ReadWrite.All", "Directory.ReadWrite.All"}),
}

JSON_TYPE = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"

# --- user schema (graph-facts 6.1; user resource v1.0) --------------------------------------------------

USER_DEFAULT = ["businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone", "officeLocation",
                "preferredLanguage", "surname", "userPrincipalName", "id"]
USER_COLLECTIONS = {"assignedLicenses", "assignedPlans", "businessPhones", "identities", "imAddresses", "interests",
                    "licenseAssignmentStates", "otherMails", "pastProjects", "provisionedPlans", "proxyAddresses",
                    "responsibilities", "schools", "skills", "onPremisesProvisioningErrors",
                    "serviceProvisioningErrors"}
USER_PROPERTIES = set(USER_DEFAULT) | USER_COLLECTIONS | set((
    "aboutMe accountEnabled ageGroup authorizationInfo birthday city companyName consentProvidedForMinor country "
    "createdDateTime creationType customSecurityAttributes deletedDateTime department employeeHireDate employeeId "
    "employeeLeaveDateTime employeeOrgData employeeType externalUserState externalUserStateChangeDateTime faxNumber "
    "hireDate isManagementRestricted isResourceAccount lastPasswordChangeDateTime legalAgeGroupClassification "
    "mailboxSettings mailNickname mySite onPremisesDistinguishedName onPremisesDomainName "
    "onPremisesExtensionAttributes onPremisesImmutableId onPremisesLastSyncDateTime onPremisesSamAccountName "
    "onPremisesSecurityIdentifier onPremisesSyncEnabled onPremisesUserPrincipalName passwordPolicies "
    "passwordProfile postalCode preferredDataLocation preferredName securityIdentifier showInAddressList "
    "signInActivity signInSessionsValidFromDateTime state streetAddress usageLocation userType").split())
# only on GET of a single user; on the collection Graph answers 501 (user-list.md)
USER_SINGLE_ONLY = {"aboutMe", "birthday", "hireDate", "interests", "mySite", "pastProjects", "preferredName",
                    "responsibilities", "schools", "skills", "mailboxSettings"}
USER_READ_ONLY = {"id", "createdDateTime", "creationType", "assignedLicenses", "assignedPlans",
                  "licenseAssignmentStates", "provisionedPlans", "proxyAddresses", "deletedDateTime",
                  "externalUserState", "externalUserStateChangeDateTime", "onPremisesSyncEnabled",
                  "onPremisesLastSyncDateTime", "onPremisesSecurityIdentifier", "onPremisesDistinguishedName",
                  "onPremisesDomainName", "onPremisesProvisioningErrors", "securityIdentifier", "signInActivity",
                  "lastPasswordChangeDateTime", "serviceProvisioningErrors", "isResourceAccount"}
USER_NEVER_RETURNED = {"passwordProfile"}
_UPN_LOCAL = re.compile(r"^[A-Za-z0-9'.\-_!#^~]+$")

# The v1.0 group type as Microsoft's v1.0 SDK models it (microsoftgraph/msgraph-sdk-python
# msgraph/generated/models/group.py, generated from the v1.0 metadata): creationOptions, resourceBehaviorOptions
# and resourceProvisioningOptions are beta properties, so v1.0 neither returns nor selects them.
GROUP_DEFAULT = ["id", "deletedDateTime", "classification", "createdDateTime", "description",
                 "displayName", "expirationDateTime", "groupTypes", "isAssignableToRole", "mail", "mailEnabled",
                 "mailNickname", "membershipRule", "membershipRuleProcessingState", "onPremisesDomainName",
                 "onPremisesLastSyncDateTime", "onPremisesNetBiosName", "onPremisesSamAccountName",
                 "onPremisesSecurityIdentifier", "onPremisesSyncEnabled", "preferredDataLocation",
                 "preferredLanguage", "proxyAddresses", "renewedDateTime", "securityEnabled", "securityIdentifier",
                 "theme", "visibility", "onPremisesProvisioningErrors", "serviceProvisioningErrors"]
GROUP_COLLECTIONS = {"groupTypes", "proxyAddresses", "onPremisesProvisioningErrors", "serviceProvisioningErrors",
                     "assignedLicenses", "licenseProcessingState", "assignedLabels"}
GROUP_PROPERTIES = set(GROUP_DEFAULT) | {"assignedLicenses", "licenseProcessingState", "hasMembersWithLicenseErrors",
                                         "assignedLabels"}


@dataclass
class GraphRequest:
    """One Graph request inside the simulator (top-level, or one item of a $batch)."""

    method: str
    path: str                         # after /v1.0, starting with "/"
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    tenant: TenantState
    app_id: str
    roles: frozenset[str]
    base_url: str                     # https://127.0.0.1:<port>

    def header(self, name: str, default: str = "") -> str:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), default)

    @property
    def app(self) -> Any:
        return self.tenant.apps.get(self.app_id)


@dataclass
class GraphResult:
    status: int
    body: Any = None                  # dict -> JSON, str -> text/plain, None -> empty
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Callable[..., GraphResult]
    permission: str


ROUTES: list[Route] = []


def route(method: str, pattern: str, permission: str) -> Callable[[Callable[..., GraphResult]],
                                                                  Callable[..., GraphResult]]:
    """Register a handler ``fn(service, request, **groups) -> GraphResult`` for METHOD and a path regex."""
    def deco(fn: Callable[..., GraphResult]) -> Callable[..., GraphResult]:
        ROUTES.append(Route(method.upper(), re.compile(f"^{pattern}$", re.IGNORECASE), fn, permission))
        return fn
    return deco


class GraphService:
    """Graph v1.0 for one cloud's server: throttling, permissions, routing."""

    def __init__(self, cloud: str, throttle: Any, page_size: int = 100, replication_lag_s: float = 0.0,
                 rng: random.Random | None = None, index_lag_s: float = 0.0):
        self.cloud = cloud
        self.throttle = throttle
        self.page_size = page_size
        self.replication_lag_s = replication_lag_s
        self.index_lag_s = index_lag_s
        self.rng = rng          # shuffles $batch responses (Graph does not keep request order)

    def execute(self, req: GraphRequest) -> GraphResult:
        """Answer one request; Graph errors come back as GraphResult with Graph's error status."""
        extra: dict[str, str] = {}
        # the $batch envelope is not charged: each inner request is admitted on its own (throttling.py, and
        # Microsoft: inner requests are "evaluated individually against the service limits")
        if self.throttle is not None and req.path.rstrip("/").lower() != "/$batch":
            admission = self.throttle.admit(tenant_id=req.tenant.tenant_id, app_id=req.app_id, method=req.method,
                                            path=req.path, query=req.query,
                                            tenant_user_count=req.tenant.user_count())
            extra.update(admission.headers)
            if not admission.allowed:
                if admission.retry_after is not None:
                    extra.setdefault("Retry-After", _seconds(admission.retry_after))
                return GraphResult(429, _error_body("TooManyRequests", "Please retry again later."), extra)
        try:
            result = self.dispatch(req)
        except GraphFault as fault:
            result = GraphResult(fault.status, _error_body(fault.code, fault.message), dict(fault.headers))
        result.headers = {**extra, **result.headers}
        return result

    def dispatch(self, req: GraphRequest) -> GraphResult:
        path = req.path.rstrip("/") or "/"
        allowed_methods = []
        for r in ROUTES:
            m = r.pattern.match(path)
            if not m:
                continue
            if r.method != req.method:
                allowed_methods.append(r.method)
                continue
            if r.permission != "authenticated" and not (req.roles & ROLES[r.permission]):
                raise GraphFault(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
            return r.handler(self, req, **m.groupdict())
        if allowed_methods:
            raise GraphFault(405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.")
        segments = [s for s in path.split("/") if s]
        unknown = segments[0] if segments and segments[0].lower() not in _KNOWN_ROOTS else (
            segments[-1] if segments else "")
        raise GraphFault(400, "BadRequest", f"Resource not found for the segment '{unknown}'.")

    # --- helpers shared by handlers ----------------------------------------------------------------------

    def context(self, req: GraphRequest, fragment: str) -> str:
        return f"{req.base_url}/v1.0/$metadata#{fragment}"

    def page(self, req: GraphRequest, ids: list[str], resolve: Callable[[str], dict[str, Any] | None],
             context: str, top: int, count: int | None = None) -> GraphResult:
        """One page of a collection with an opaque ``$skiptoken`` nextLink over a snapshot of ``ids``."""
        tenant = req.tenant
        token = _query_ci(req.query, "$skiptoken")
        offset, key = 0, None
        if token:
            data = decode_token(token)
            key, offset = data.get("k"), int(data.get("o", 0))
            snap = tenant.snapshots.get(str(key))
            if snap is None:
                raise GraphFault(400, "Directory_ExpiredPageToken", "The specified page token value has expired "
                                 "and can no longer be included in your request.")
            ids, top = snap, int(data.get("t", top))
            count = data.get("c") if count is None else count
        chunk = ids[offset:offset + top]
        body: dict[str, Any] = {"@odata.context": context}
        if count is not None:
            body["@odata.count"] = count
        if offset + top < len(ids):
            if key is None:
                key = new_snapshot_key()
                tenant.snapshots[key] = list(ids)
                while len(tenant.snapshots) > 512:   # bounded: oldest snapshots expire first
                    tenant.snapshots.pop(next(iter(tenant.snapshots)))
            body["@odata.nextLink"] = self.link(req, {"$skiptoken": encode_token(
                {"k": key, "o": offset + top, "t": top, "c": count})})
        body["value"] = [obj for obj in (resolve(i) for i in chunk) if obj is not None]
        return GraphResult(200, body)

    def link(self, req: GraphRequest, replace: Mapping[str, str], drop: tuple[str, ...] = ()) -> str:
        params = {k: v for k, v in req.query.items()
                  if k.lower() not in {r.lower() for r in replace} | {d.lower() for d in drop}}
        params.update(replace)
        qs = urlencode(params, quote_via=quote, safe="$,'()/:=")
        return f"{req.base_url}/v1.0{req.path}" + (f"?{qs}" if qs else "")


_KNOWN_ROOTS = {"users", "groups", "subscribedskus", "domains", "organization", "invitations", "directory",
                "contacts", "$batch", "auditlogs", "me", "policies", "serviceprincipals", "applicationtemplates",
                "applications"}


def _query_ci(query: Mapping[str, str], name: str) -> str | None:
    return next((v for k, v in query.items() if k.lower() == name.lower()), None)


def _seconds(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return text or "0"


def _error_body(code: str, message: str) -> dict[str, Any]:
    # innerError (date, request-id, client-request-id) is filled in by complete_error, which knows the ids
    return {"error": {"code": code, "message": message}}


def complete_error(body: Any, request_id: str, client_request_id: str) -> Any:
    """Add Graph's ``innerError`` {date, request-id, client-request-id} to an error body (in place)."""
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        inner = body["error"].setdefault("innerError", {})
        # A throttled answer's innerError carries code "429" (docs/graph-facts.md 8.1).
        if body["error"].get("code") == "TooManyRequests":
            inner.setdefault("code", "429")
        inner.setdefault("date", datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"))
        inner.setdefault("request-id", request_id)
        inner.setdefault("client-request-id", client_request_id)
    return body


def _body_object(req: GraphRequest) -> dict[str, Any]:
    if not isinstance(req.body, dict):
        raise bad_request("Write requests (excluding DELETE) must contain the Content-Type header declaration.",
                          "BadRequest") if req.body is None else bad_request(
            "Invalid request body: a JSON object was expected.", "BadRequest")
    return req.body


def _check_top(req: GraphRequest, default: int) -> int:
    return parse_top(req.query, default)


# ============================================================================ users

def _user_view(tenant: TenantState, user: Mapping[str, Any], select: list[str] | None) -> dict[str, Any]:
    props = select or USER_DEFAULT
    out = project(user, props, USER_COLLECTIONS)
    for p in USER_NEVER_RETURNED & set(out):
        out[p] = None
    return out


def _user_select(req: GraphRequest, collection: bool) -> list[str] | None:
    select = parse_select(req.query, USER_PROPERTIES, "microsoft.graph.user")
    if collection and select and USER_SINGLE_ONLY & set(select):
        raise GraphFault(501, "NotImplemented", "This operation target is not yet supported.")
    return select


def _context_for(base: str, select: list[str] | None) -> str:
    return f"{base}({','.join(select)})" if select else base


def _filtered_users(req: GraphRequest) -> tuple[list[dict[str, Any]], bool]:
    users = req.tenant.visible_users(eventual=has_eventual(req.headers))
    text = _query_ci(req.query, "$filter")
    advanced = is_advanced(req.headers, req.query)
    search = _query_ci(req.query, "$search")
    if search:
        users = [u for u in users if search_matches(search, u, ("displayName", "mail", "userPrincipalName",
                                                                  "givenName", "surname", "mailNickname"))]
    if text:
        flt = parse_filter(text, USER_FILTERS, "User")
        if flt.advanced and not advanced:
            raise unsupported_query()
        users = [u for u in users if flt.matches(u)]
    order = _query_ci(req.query, "$orderby")
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
    check_query_options(req.headers, req.query, "user", searchable=True)
    top = _check_top(req, svc.page_size)
    select = _user_select(req, collection=True)
    with req.tenant.lock:
        if _query_ci(req.query, "$skiptoken"):
            users, advanced = [], is_advanced(req.headers, req.query)
            total = None
        else:
            users, advanced = _filtered_users(req)
            total = len(users) if advanced else None
        tenant = req.tenant

        def resolve(uid: str) -> dict[str, Any] | None:
            u = tenant.users.get(uid)
            return _user_view(tenant, u, select) if u is not None else None
        return svc.page(req, [u["id"] for u in users], resolve,
                        svc.context(req, _context_for("users", select)), top, total)


@route("GET", r"/users/\$count", "users.read")
def count_users(svc: GraphService, req: GraphRequest) -> GraphResult:
    if not has_eventual(req.headers):
        raise bad_request("$count is not currently supported.")
    with req.tenant.lock:
        users = req.tenant.visible_users()
        text = _query_ci(req.query, "$filter")
        if text:
            flt = parse_filter(text, USER_FILTERS, "User")
            users = [u for u in users if flt.matches(u)]
        return GraphResult(200, str(len(users)), {"Content-Type": "text/plain;charset=utf-8"})


@route("GET", r"/users/(?P<key>[^/]+)", "users.read")
def get_user(svc: GraphService, req: GraphRequest, key: str) -> GraphResult:
    if key.lower() == "delta()" or key.lower() == "delta":
        return user_delta(svc, req)
    check_query_options(req.headers, req.query, "user", searchable=False)
    select = _user_select(req, collection=False)
    with req.tenant.lock:
        user = req.tenant.find_user(key)
        if user is None:
            raise not_found(key)
        body = {"@odata.context": svc.context(req, _context_for("users", select) + "/$entity")}
        body.update(_user_view(req.tenant, user, select))
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


def _relicense(tenant: TenantState, uid: str) -> None:
    """Re-derive one user's licences; a change of assignedLicenses is logged for users/delta."""
    if uid in tenant.users and tenant.relicense_user(uid):
        tenant.record_change(uid, "upsert", {"assignedLicenses"})


def _add_new_user(svc: GraphService, tenant: Any, user: dict[str, Any]) -> None:
    """Put a just-created user in the directory: licences derived, hidden for the replication lag, in delta."""
    uid = user["id"]
    tenant.users[uid] = user
    tenant.direct_licenses[uid] = []
    tenant.forced_license_errors[uid] = {}
    tenant.relicense_user(uid)
    tenant.invalidate_upns()
    if svc.replication_lag_s > 0:
        tenant.visible_after[uid] = time.monotonic() + svc.replication_lag_s
    index_lag = float(getattr(svc, "index_lag_s", 0.0) or 0.0)    # other writers (the sync engine) may not model it
    if index_lag > 0:
        tenant.indexed_after[uid] = time.monotonic() + max(index_lag, svc.replication_lag_s)
    tenant.record_change(uid, "upsert")


@route("POST", r"/users", "users.write")
def create_user(svc: GraphService, req: GraphRequest) -> GraphResult:
    body = _body_object(req)
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
        _add_new_user(svc, tenant, user)
        tenant.add_audit(activity="Add user", category="UserManagement", operation="Add", app=req.app,
                         target=user, target_type="User",
                         modified=[(k, None, v) for k, v in props.items() if k in ("accountEnabled", "displayName",
                                   "userPrincipalName", "mailNickname", "userType", "usageLocation")])
        out = {"@odata.context": svc.context(req, "users/$entity")}
        out.update(_user_view(tenant, user, None))
        return GraphResult(201, out, {"Location": f"{req.base_url}/v1.0/users/{uid}"})


@route("PATCH", r"/users/(?P<key>[^/]+)", "users.write")
def update_user(svc: GraphService, req: GraphRequest, key: str) -> GraphResult:
    body = _body_object(req)
    tenant = req.tenant
    with tenant.lock:
        user = tenant.find_user(key)
        if user is None:
            raise not_found(key)
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
        user = tenant.find_user(key)
        if user is None:
            raise not_found(key)
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


# --- deleted items ---------------------------------------------------------------------------------------

def _deleted_view(user: Mapping[str, Any], select: list[str] | None) -> dict[str, Any]:
    out = {"@odata.type": "#microsoft.graph.user"}
    out.update(project(user, select or USER_DEFAULT + ["deletedDateTime"], USER_COLLECTIONS))
    return out


# Microsoft's SDKs send the short cast "graph.user"; Graph accepts it like "microsoft.graph.user".
@route("GET", r"/directory/deletedItems/(?:microsoft\.)?graph\.user", "deleted.read")
def list_deleted_users(svc: GraphService, req: GraphRequest) -> GraphResult:
    top = _check_top(req, svc.page_size)
    select = _user_select(req, collection=True)
    tenant = req.tenant
    with tenant.lock:
        ids = list(tenant.deleted)
        return svc.page(req, ids, lambda i: (_deleted_view(tenant.deleted[i], select) if i in tenant.deleted
                                             else None),
                        svc.context(req, "directory/deletedItems/microsoft.graph.user"), top)


@route("GET", r"/directory/deletedItems/(?P<oid>[^/]+)", "deleted.read")
def get_deleted(svc: GraphService, req: GraphRequest, oid: str) -> GraphResult:
    select = _user_select(req, collection=False)
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


# --- delta ----------------------------------------------------------------------------------------------

def user_delta(svc: GraphService, req: GraphRequest) -> GraphResult:
    """users/delta: initial round (all users, paged, then a deltaLink), later rounds (changes and @removed)."""
    tenant = req.tenant
    skip = _query_ci(req.query, "$skiptoken")
    delta = _query_ci(req.query, "$deltatoken")
    with tenant.lock:
        if skip:
            state = decode_token(skip)
            return _delta_page(svc, req, state)
        if delta and delta.lower() == "latest":
            select, only = _user_select(req, collection=True), _delta_filter(req)
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
        select, only = _user_select(req, collection=True), _delta_filter(req)
        ids = [u["id"] for u in tenant.visible_users() if only is None or u["id"] in only]
        return _delta_page(svc, req, {"ids": ids, "o": 0, "s": tenant.seq, "sel": select, "f": only})


_DELTA_FILTERS = {"id": USER_FILTERS["id"]}


def _delta_filter(req: GraphRequest) -> list[str] | None:
    """users/delta accepts only ``$filter=id eq '...' or id eq '...'`` (user-delta.md); the ids are tracked."""
    text = _query_ci(req.query, "$filter")
    if not text:
        return None
    flt = parse_filter(text, _DELTA_FILTERS, "User")
    return [uid for uid in req.tenant.users if flt.matches({"id": uid})]


def _delta_page(svc: GraphService, req: GraphRequest, state: dict[str, Any]) -> GraphResult:
    tenant = req.tenant
    key = state.get("k")
    if key is None:
        key = new_snapshot_key()
        tenant.snapshots[key] = state.pop("ids")
        while len(tenant.snapshots) > 512:
            tenant.snapshots.pop(next(iter(tenant.snapshots)))
    ids = tenant.snapshots.get(key)
    if ids is None:
        raise GraphFault(400, "Directory_ExpiredPageToken", "The specified page token value has expired and can "
                         "no longer be included in your request.")
    offset, select = int(state.get("o", 0)), state.get("sel")
    size = svc.page_size
    values = []
    for uid in ids[offset:offset + size]:
        user = tenant.users.get(uid)
        if user is not None and tenant.is_visible(uid):
            view = _user_view(tenant, user, select)
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


# ============================================================================ licences

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
    body = _body_object(req)
    tenant = req.tenant
    for name in ("addLicenses", "removeLicenses"):
        if not isinstance(body.get(name), list):
            raise bad_request(f"Invalid value specified for property '{name}' of resource 'User'.")
    with tenant.lock:
        user = tenant.find_user(key)
        if user is None:
            raise not_found(key)
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
        _relicense(tenant, uid)
        tenant.add_audit(activity="Change user license", category="UserManagement", operation="Update",
                         app=req.app, target=user, target_type="User",
                         modified=[("AssignedLicense", old, sorted(direct))])
        out = {"@odata.context": svc.context(req, "users/$entity")}
        out.update(_user_view(tenant, user, None))
        return GraphResult(200, out)


@route("GET", r"/users/(?P<key>[^/]+)/licenseDetails", "license.read")
def license_details(svc: GraphService, req: GraphRequest, key: str) -> GraphResult:
    tenant = req.tenant
    with tenant.lock:
        user = tenant.find_user(key)
        if user is None:
            raise not_found(key)
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
        user = tenant.find_user(key)
        if user is None:
            raise not_found(key)
        _relicense(tenant, user["id"])
        out = {"@odata.context": svc.context(req, "users/$entity")}
        out.update(_user_view(tenant, user, None))
        return GraphResult(200, out)


# ============================================================================ groups

def _group_view(group: Mapping[str, Any], select: list[str] | None) -> dict[str, Any]:
    out = project(group, select or GROUP_DEFAULT, GROUP_COLLECTIONS)
    if "licenseProcessingState" in out and out["licenseProcessingState"] in (None, []):
        out["licenseProcessingState"] = {"state": "ProcessingComplete"}
    return out


@route("GET", r"/groups", "groups.read")
def list_groups(svc: GraphService, req: GraphRequest) -> GraphResult:
    check_query_options(req.headers, req.query, "group", searchable=True)
    top = _check_top(req, svc.page_size)
    select = parse_select(req.query, GROUP_PROPERTIES, "microsoft.graph.group")
    tenant = req.tenant
    with tenant.lock:
        groups = list(tenant.groups.values())
        text = _query_ci(req.query, "$filter")
        advanced = is_advanced(req.headers, req.query)
        if text and not _query_ci(req.query, "$skiptoken"):
            flt = parse_filter(text, GROUP_FILTERS, "Group")
            if flt.advanced and not advanced:
                raise unsupported_query()
            groups = [g for g in groups if flt.matches(g)]
        return svc.page(req, [g["id"] for g in groups],
                        lambda i: _group_view(tenant.groups[i], select) if i in tenant.groups else None,
                        svc.context(req, _context_for("groups", select)), top,
                        len(groups) if advanced else None)


def _find_group(tenant: TenantState, gid: str) -> dict[str, Any]:
    group = tenant.groups.get(gid.lower())
    if group is None:
        raise not_found(gid)
    return group


@route("GET", r"/groups/(?P<gid>[^/]+)", "groups.read")
def get_group(svc: GraphService, req: GraphRequest, gid: str) -> GraphResult:
    check_query_options(req.headers, req.query, "group", searchable=False)
    select = parse_select(req.query, GROUP_PROPERTIES, "microsoft.graph.group")
    with req.tenant.lock:
        group = _find_group(req.tenant, gid)
        out = {"@odata.context": svc.context(req, _context_for("groups", select) + "/$entity")}
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
    top = _check_top(req, svc.page_size)
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
    body = _body_object(req)
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
        _relicense(tenant, oid)
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
        _relicense(tenant, oid.lower())
        member = tenant.users.get(oid.lower()) or tenant.groups.get(oid.lower()) or {"id": oid}
        tenant.add_audit(activity="Remove member from group", category="GroupManagement", operation="Unassign",
                         app=req.app, target=group, target_type="Group",
                         extra_targets=[{"id": oid.lower(), "displayName": member.get("displayName"),
                                         "type": "User" if oid.lower() in tenant.users else "Group",
                                         "userPrincipalName": member.get("userPrincipalName"),
                                         "groupType": None, "modifiedProperties": []}],
                         modified=[("Group.DisplayName", group.get("displayName"), None)])
        return GraphResult(204)


# ============================================================================ domains, organization

@route("GET", r"/domains", "domains.read")
def list_domains(svc: GraphService, req: GraphRequest) -> GraphResult:
    return GraphResult(200, {"@odata.context": svc.context(req, "domains"),
                             "value": copy.deepcopy(req.tenant.domain_objects)})


@route("GET", r"/domains/(?P<name>[^/]+)", "domains.read")
def get_domain(svc: GraphService, req: GraphRequest, name: str) -> GraphResult:
    for d in req.tenant.domain_objects:
        if d["id"] == name.lower():
            out = {"@odata.context": svc.context(req, "domains/$entity")}
            out.update(copy.deepcopy(d))
            return GraphResult(200, out)
    raise not_found(name)


@route("GET", r"/organization", "org.read")
def list_organization(svc: GraphService, req: GraphRequest) -> GraphResult:
    return GraphResult(200, {"@odata.context": svc.context(req, "organization"),
                             "value": [copy.deepcopy(req.tenant.organization)]})


@route("GET", r"/organization/(?P<oid>[^/]+)", "org.read")
def get_organization(svc: GraphService, req: GraphRequest, oid: str) -> GraphResult:
    if oid.lower() != req.tenant.tenant_id:
        raise not_found(oid)
    out = {"@odata.context": svc.context(req, "organization/$entity")}
    out.update(copy.deepcopy(req.tenant.organization))
    return GraphResult(200, out)


# ============================================================================ contacts

_CONTACT_DEFAULT = ["id", "deletedDateTime", "companyName", "department", "displayName", "givenName", "jobTitle",
                    "mail", "mailNickname", "surname", "onPremisesSyncEnabled", "proxyAddresses", "addresses",
                    "phones", "onPremisesProvisioningErrors", "serviceProvisioningErrors"]
_CONTACT_COLLECTIONS = {"proxyAddresses", "addresses", "phones", "onPremisesProvisioningErrors",
                        "serviceProvisioningErrors"}
ROLES["contacts.read"] = frozenset({"OrgContact.Read.All", "Directory.Read.All", "Directory.ReadWrite.All"})


@route("GET", r"/contacts", "contacts.read")
def list_contacts(svc: GraphService, req: GraphRequest) -> GraphResult:
    """orgcontact-list: organizational contacts (mail-enabled; they hold addresses invitations may collide
    with). Permissions: OrgContact.Read.All (least), Directory.Read.All."""
    top = _check_top(req, svc.page_size)
    select = parse_select(req.query, set(_CONTACT_DEFAULT), "microsoft.graph.orgContact")
    tenant = req.tenant
    with tenant.lock:
        return svc.page(req, list(tenant.contacts),
                        lambda i: project(tenant.contacts[i], select or _CONTACT_DEFAULT, _CONTACT_COLLECTIONS)
                        if i in tenant.contacts else None,
                        svc.context(req, _context_for("contacts", select)), top)


# ============================================================================ invitations

_EMAIL = re.compile(r"^[A-Za-z0-9._\-']+@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9\-]+)+$")


# Entra's wording for these refusals; Microsoft documents neither the HTTP status nor the error code of
# POST /invitations when a policy blocks it (invitation-post.md lists none). The messages are the ones Entra
# shows (provisioning logs and Microsoft 365 surface the same texts); 403 is what admins report from Graph.
_INVITES_NOT_ALLOWED = ("Guest invitations not allowed for your company. Contact your company administrator for "
                        "more details.")
_BLOCKED_BY_CTAP = "This invitation is blocked by cross-tenant access settings."


def _check_invitation_policies(svc: GraphService, req: GraphRequest, email: str) -> None:
    """Refuse an invitation the inviting tenant's policies forbid (docs/direct-engine.md, "Prerequisites").

    * authorizationPolicy.allowInvitesFrom: ``none`` blocks every invitation; an app-only caller is also
      refused when invitations are restricted to admins and guest inviters (invitation-post.md: app-only
      invitations fail when B2B invitations are disabled or restricted to admins).
    * Across clouds (cross-cloud-settings.md): the inviting tenant must allow the invitee's cloud and have a
      partner entry for the invitee's home tenant that allows inbound B2B collaboration; the home tenant must
      allow the inviting tenant's cloud (and not block outbound B2B to it). Same cloud: the partner entry, else
      the default, decides inbound.
    """
    tenant = req.tenant
    policy = getattr(tenant, "cross_tenant", None)
    if policy is None:
        return
    allow = str(policy.authorization.get("allowInvitesFrom") or "everyone")
    if allow == "none" or allow == "adminsAndGuestInviters":
        # Every caller of this simulated Graph is an app (client credentials): app-only.
        raise GraphFault(403, "Authorization_RequestDenied", _INVITES_NOT_ALLOWED)
    directory = getattr(svc, "directory", None)
    if directory is None:
        return
    domain = email.rsplit("@", 1)[-1].lower()
    home = next((t for t in directory.tenants.values()
                 if t is not tenant and domain in t.verified_domains()), None)
    if home is None or getattr(home, "cross_tenant", None) is None:
        return                       # a consumer address or a tenant this simulator does not hold
    home_endpoint = home.cross_tenant.own_cloud_endpoint
    our_endpoint = policy.own_cloud_endpoint
    inbound = policy.b2b_collaboration_allowed(home.tenant_id, home_endpoint, "inbound")
    if home_endpoint != our_endpoint:
        outbound = home.cross_tenant.allows_cloud(our_endpoint) and (
            home.cross_tenant.partner(tenant.tenant_id) is None
            or home.cross_tenant.b2b_collaboration_allowed(tenant.tenant_id, our_endpoint, "outbound"))
    else:
        outbound = home.cross_tenant.b2b_collaboration_allowed(tenant.tenant_id, our_endpoint, "outbound")
    if not (inbound and outbound):
        raise GraphFault(403, "Authorization_RequestDenied", _BLOCKED_BY_CTAP)


@route("POST", r"/invitations", "invite")
def create_invitation(svc: GraphService, req: GraphRequest) -> GraphResult:
    """graph-facts 9.1: the guest/member user exists as soon as the invitation is created."""
    body = _body_object(req)
    email = body.get("invitedUserEmailAddress")
    redirect = body.get("inviteRedirectUrl")
    if not isinstance(email, str) or not email:
        raise bad_request("Invalid value specified for property 'invitedUserEmailAddress' of resource 'Invitation'.",
                          "BadRequest")
    if not isinstance(redirect, str) or not redirect:
        raise bad_request("Invalid value specified for property 'inviteRedirectUrl' of resource 'Invitation'.",
                          "BadRequest")
    if not _EMAIL.match(email) or email[0] in ".-" or email.split("@")[0][-1] in ".-":
        # characters forbidden per invitation-post.md; the exact message is not documented
        raise bad_request(f"The specified email address '{email}' is invalid.", "BadRequest")
    user_type = body.get("invitedUserType") or "Guest"
    if user_type not in ("Guest", "Member"):
        raise bad_request("Invalid value specified for property 'invitedUserType' of resource 'Invitation'.",
                          "BadRequest")
    tenant = req.tenant
    with tenant.lock:
        _check_invitation_policies(svc, req, email)
        want = email.lower()
        existing = next((u for u in tenant.users.values() if u.get("creationType") == "Invitation" and (
            str(u.get("mail") or "").lower() == want or want in [str(m).lower() for m in u.get("otherMails") or []])),
                        None)
        holder = tenant.address_owner(email) if existing is None else None
        if existing is not None:
            user = existing          # re-inviting returns the same user object (invitation-post.md)
        else:
            uid = str(uuid.uuid4())
            local = email.replace("@", "_")
            user = {"id": uid, "userPrincipalName": f"{local}#EXT#@{tenant.initial_domain}",
                    "displayName": body.get("invitedUserDisplayName") or email.split("@")[0],
                    "mail": email, "mailNickname": f"{local}#EXT#", "otherMails": [email],
                    "accountEnabled": True, "userType": user_type, "creationType": "Invitation",
                    "externalUserState": "PendingAcceptance", "externalUserStateChangeDateTime": now_iso(),
                    "businessPhones": [], "createdDateTime": now_iso(),
                    "proxyAddresses": [f"SMTP:{email}"],
                    "identities": [{"signInType": "userPrincipalName", "issuer": tenant.initial_domain,
                                    "issuerAssignedId": f"{local}#EXT#@{tenant.initial_domain}"}]}
            if holder is not None:
                # Another object already holds the address: Entra creates the user without mail or proxy
                # addresses and keeps the invited address in otherMails only (docs/direct-engine.md).
                user["mail"], user["proxyAddresses"] = None, []
            _add_new_user(svc, tenant, user)
            tenant.add_audit(activity="Add user", category="UserManagement", operation="Add", app=req.app,
                             target=user, target_type="User",
                             modified=[("userType", None, user_type), ("userPrincipalName", None,
                                                                       user["userPrincipalName"])])
            tenant.add_audit(activity="Invite external user", category="UserManagement", operation="Add",
                             app=req.app, target=user, target_type="User", service="Invited Users",
                             modified=[("InvitedUserEmailAddress", None, email)])
        invitation_id = str(uuid.uuid4())
        ticket = secrets.token_urlsafe(24)
        redeem = (f"{req.base_url}/redeem?rd=" + quote(
            f"https://invitations.microsoft.com/redeem/?tenant={tenant.tenant_id}&user={invitation_id}"
            f"&ticket={ticket}&ver=2.0", safe=""))
        info = body.get("invitedUserMessageInfo") or {}
        out = {"@odata.context": svc.context(req, "invitations/$entity"), "id": invitation_id,
               "inviteRedeemUrl": redeem, "invitedUserDisplayName": body.get("invitedUserDisplayName"),
               "invitedUserType": user_type, "invitedUserEmailAddress": email,
               "sendInvitationMessage": bool(body.get("sendInvitationMessage", False)),
               "resetRedemption": bool(body.get("resetRedemption", False)), "inviteRedirectUrl": redirect,
               "status": "Completed" if user.get("externalUserState") == "Accepted" else "PendingAcceptance",
               "invitedUserMessageInfo": {
                   "messageLanguage": info.get("messageLanguage"),
                   "customizedMessageBody": info.get("customizedMessageBody"),
                   "ccRecipients": info.get("ccRecipients") or [{"emailAddress": {"name": None, "address": None}}]},
               "invitedUser": {"id": user["id"]}}
        return GraphResult(201, out)
