"""Simulated ``/auditLogs/provisioning`` and ``/auditLogs/directoryAudits`` (and ``/directoryAudits/{id}``).

Reads ``TenantState.provisioning`` (provisioningObjectSummary records, Graph-shaped, appended by the sync
engine or by tests) and ``TenantState.audit`` (directoryAudit entries the simulator writes for every change).
Rules, from docs/logs.md (provisioningobjectsummary-list.md, directoryaudit-list.md, directoryaudit-get.md):

- Permissions: ``AuditLog.Read.All`` **and** ``Directory.Read.All`` (or a higher Directory permission); a
  token missing either gets 403 ``Authorization_RequestDenied``.
- ``$filter``: provisioning supports ``eq``/``contains`` on ids, job/cycle/change ids, provisioningAction,
  identities and systems, ``eq`` on servicePrincipal id/name, and ``eq``/``gt``/``lt`` on activityDateTime
  (its filters are case-sensitive); directory audits ``eq``/``ge``/``le`` on activityDateTime, ``eq``/
  ``startswith`` on activityDisplayName, ``eq`` on id, correlationId, loggedByService and initiator fields,
  ``startswith`` on the initiating user's UPN, and ``targetResources/any(t:t/id eq ...)``. ``tolower(...)``
  around a property inside ``contains`` is accepted (Microsoft's cross-tenant sync how-to uses it).
  Anything else is 400 ``Request_UnsupportedQuery``.
- ``$orderby=activityDateTime [asc|desc]``; without it, newest first (what the portal and Graph show; the
  list pages do not state an order). ``$top`` 1..999 (no maximum is documented; 999 as for directory
  objects); paging through an opaque ``$skiptoken`` nextLink.
- Throttling: the reports limit, 5 requests per 10 s per app and tenant (``throttling.py`` classifies
  ``/auditLogs``).
- Availability: the list pages say "global-us"; the localized pages say China is not available, so the China
  cloud answers 400 as for an unknown segment.

``provisioning_record`` and ``dense_provisioning_log`` build records in the documented shape (the
cross-tenant sync example of the how-to) for tests and benchmarks.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import uuid
from typing import Any, Callable, Mapping

from .graph_api import GraphRequest, GraphResult, GraphService, RouteTable
from .odata import FilterTokens, GraphFault, parse_top, unsupported_query

__all__ = ["provisioning_record", "dense_provisioning_log", "PROVISIONING_FILTERS", "AUDIT_FILTERS"]

ROUTES = RouteTable(permissions={"auditlogs.read": frozenset({"AuditLog.Read.All"})})
route = ROUTES.route        # @route adds to this module's table only; toolkit.simulator.registry reads it
_DIRECTORY_READ = frozenset({"Directory.Read.All", "Directory.ReadWrite.All"})

# property path -> operators (graph-facts 4 and 5)
PROVISIONING_FILTERS: dict[str, set[str]] = {
    "id": {"eq", "contains"}, "changeId": {"eq", "contains"}, "cycleId": {"eq", "contains"},
    "jobId": {"eq", "contains"}, "tenantId": {"eq", "contains"}, "provisioningAction": {"eq", "contains"},
    "activityDateTime": {"eq", "gt", "lt"},
    "initiatedBy/id": {"eq", "contains"}, "initiatedBy/displayName": {"eq", "contains"},
    "servicePrincipal/id": {"eq", "contains"}, "servicePrincipal/displayName": {"eq", "contains"},
    "sourceIdentity/id": {"eq", "contains"}, "sourceIdentity/displayName": {"eq", "contains"},
    "sourceIdentity/identityType": {"eq", "contains"}, "targetIdentity/id": {"eq", "contains"},
    "targetIdentity/displayName": {"eq", "contains"}, "targetIdentity/identityType": {"eq", "contains"},
    "sourceSystem/displayName": {"eq", "contains"}, "targetSystem/displayName": {"eq", "contains"},
}
AUDIT_FILTERS: dict[str, set[str]] = {
    "activityDateTime": {"eq", "ge", "le"}, "activityDisplayName": {"eq", "startswith"}, "id": {"eq"},
    "correlationId": {"eq"}, "loggedByService": {"eq"},
    "initiatedBy/user/id": {"eq"}, "initiatedBy/user/displayName": {"eq"},
    "initiatedBy/user/userPrincipalName": {"eq", "startswith"}, "initiatedBy/app/appId": {"eq"},
    "initiatedBy/app/displayName": {"eq"},
    "targetResources/id": {"eq"}, "targetResources/displayName": {"eq", "startswith"},
}

_TOKEN = re.compile(r"""\s*(?:(?P<str>'(?:[^']|'')*')|(?P<dt>\d{4}-\d{2}-\d{2}T[0-9:.]+(?:Z|[+-]\d{2}:\d{2}))|
    (?P<num>-?\d+(?:\.\d+)?)|(?P<punct>[(),:])|(?P<word>[A-Za-z_$][A-Za-z0-9_$/.]*))""", re.VERBOSE)


def _parse_time(text: str) -> dt.datetime:
    m = re.match(r"^(.*?T\d{2}:\d{2}(?::\d{2})?)(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})?$", text)
    if not m:
        raise ValueError(text)
    base, frac, zone = m.groups()
    stamp = dt.datetime.fromisoformat(base + (("." + frac[:6].ljust(6, "0")) if frac else "")
                                      + ("+00:00" if zone in (None, "Z") else zone))
    return stamp.astimezone(dt.timezone.utc)


def _get(obj: Any, path: str) -> Any:
    for part in path.split("/"):
        if isinstance(obj, list):          # servicePrincipal is documented as a collection in one table
            obj = obj[0] if obj else None
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(part)
    return obj


class _Filter(FilterTokens):
    """A small recursive-descent parser for the documented subset (see the module docstring): the shared
    and/or grammar of ``FilterTokens``, with the comparisons and functions of the log resources (no 'not')."""

    def __init__(self, text: str, rules: Mapping[str, set[str]], resource: str, case_sensitive: bool):
        super().__init__(text, resource, _TOKEN, unquote=False)
        self.rules, self.cs = rules, case_sensitive

    def literal(self) -> Any:
        kind, val = self.take()
        if kind == "str":
            return val[1:-1].replace("''", "'")
        if kind == "dt":
            return _parse_time(val)
        if kind == "num":
            return float(val) if "." in val else int(val)
        if kind == "word" and val.lower() == "null":
            return None
        raise self.syntax(f"expected a literal but found '{val}'")

    def prop(self, name: str, op: str) -> str:
        known = {k.lower(): k for k in self.rules}
        real = known.get(name.lower())
        if real is None:
            root = name.split("/")[0]
            if root.lower() not in {k.split("/")[0].lower() for k in self.rules}:
                raise GraphFault(400, "BadRequest", f"Could not find a property named '{root}' on type "
                                 f"'microsoft.graph.{self.resource}'.")
            raise self.unsupported(name)
        if op not in self.rules[real]:
            raise self.unsupported(real)
        return real

    def norm(self, value: Any) -> Any:
        return value if self.cs or not isinstance(value, str) else value.lower()

    def parse_primary(self) -> Callable[[Mapping[str, Any]], bool]:
        kind, word = self.take()
        if word == "(":
            inner = self.parse_or()
            self.expect(")")
            return inner
        if kind != "word":
            raise self.syntax(f"unexpected '{word}'")
        low = word.lower()
        if low in ("contains", "startswith"):
            self.expect("(")
            lower = False
            if self.is_word("tolower"):
                self.take()
                self.expect("(")
                _, name = self.take()
                self.expect(")")
                lower = True
            else:
                _, name = self.take()
            self.expect(",")
            needle = self.literal()
            self.expect(")")
            real = self.prop(name, low)
            if not isinstance(needle, str):
                raise self.unsupported(real)
            fold = (lambda s: s.lower()) if lower or not self.cs else (lambda s: s)
            target = fold(needle)
            if low == "contains":
                return lambda o: isinstance(_get(o, real), str) and target in fold(_get(o, real))
            return lambda o: isinstance(_get(o, real), str) and fold(_get(o, real)).startswith(target)
        if low.endswith("/any"):
            return self.parse_any(word[:-4])
        _, op = self.take()
        op = op.lower()
        if op not in ("eq", "ne", "gt", "ge", "lt", "le"):
            raise self.syntax(f"unknown operator '{op}'")
        real = self.prop(word, op)
        value = self.literal()
        if real == "activityDateTime":
            if not isinstance(value, dt.datetime):
                raise self.syntax("activityDateTime compares with a DateTimeOffset such as 2024-01-31T00:00:00Z")
            cmp = {"eq": lambda a: a == value, "gt": lambda a: a > value, "lt": lambda a: a < value,
                   "ge": lambda a: a >= value, "le": lambda a: a <= value}[op]
            return lambda o: _stamp(o) is not None and cmp(_stamp(o))
        want = self.norm(value)
        return lambda o: self.norm(_get(o, real)) == want

    def parse_any(self, collection: str) -> Callable[[Mapping[str, Any]], bool]:
        self.expect("(")
        _, var = self.take()
        self.expect(":")
        kind, path = self.take()
        if not path.startswith(var + "/"):
            raise self.syntax(f"lambda variable '{var}' expected")
        sub = path[len(var) + 1:]
        _, op = self.take()
        real = self.prop(f"{collection}/{sub}", op.lower())
        value = self.norm(self.literal())
        self.expect(")")
        field = real.split("/", 1)[1]
        if op.lower() == "startswith":
            raise self.syntax("use startswith(t/displayName, '...') inside any()")
        return lambda o: any(isinstance(t, Mapping) and self.norm(t.get(field)) == value
                             for t in o.get(collection.split("/")[0]) or [])


def _stamp(rec: Mapping[str, Any]) -> dt.datetime | None:
    text = rec.get("activityDateTime")
    if not isinstance(text, str):
        return None
    try:
        return _parse_time(text)
    except ValueError:
        return None


def _check(req: GraphRequest, svc: GraphService) -> None:
    if not (req.roles & _DIRECTORY_READ):
        raise GraphFault(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
    if svc.cloud == "china":
        raise GraphFault(400, "BadRequest", "Resource not found for the segment 'auditLogs'.")


def _query(req: GraphRequest, name: str) -> str | None:
    return next((v for k, v in req.query.items() if k.lower() == name.lower()), None)


def _list(svc: GraphService, req: GraphRequest, records: list[dict[str, Any]], rules: Mapping[str, set[str]],
          resource: str, fragment: str, case_sensitive: bool) -> GraphResult:
    _check(req, svc)
    top = parse_top(req.query, svc.page_size)
    with req.tenant.lock:
        by_id = {str(r.get("id")): r for r in records}
        if _query(req, "$skiptoken"):
            ids: list[str] = []
        else:
            items = list(records)
            text = _query(req, "$filter")
            if text:
                pred = _Filter(text, rules, resource, case_sensitive).parse()
                items = [r for r in items if pred(r)]
            order = (_query(req, "$orderby") or "activityDateTime desc").split()
            if not order or order[0].lower() != "activitydatetime" or len(order) > 2 or (
                    len(order) == 2 and order[1].lower() not in ("asc", "desc")):
                raise unsupported_query(f"Unsupported sort property '{' '.join(order)}' for '{resource}'.")
            desc = len(order) == 1 or order[1].lower() == "desc"
            if len(order) == 1:
                desc = False                      # "$orderby=activityDateTime" is ascending, as OData says
            if _query(req, "$orderby") is None:
                desc = True                       # no $orderby: newest first
            epoch = dt.datetime.min.replace(tzinfo=dt.timezone.utc)
            items.sort(key=lambda r: _stamp(r) or epoch, reverse=desc)
            ids = [str(r.get("id")) for r in items]
        return svc.page(req, ids, lambda i: by_id.get(i), svc.context(req, fragment), top)


@route("GET", r"/auditLogs/provisioning", "auditlogs.read")
def list_provisioning(svc: GraphService, req: GraphRequest) -> GraphResult:
    return _list(svc, req, req.tenant.provisioning, PROVISIONING_FILTERS, "provisioningObjectSummary",
                 "auditLogs/provisioning", case_sensitive=True)


@route("GET", r"/auditLogs/directoryAudits", "auditlogs.read")
def list_directory_audits(svc: GraphService, req: GraphRequest) -> GraphResult:
    return _list(svc, req, req.tenant.audit, AUDIT_FILTERS, "directoryAudit", "auditLogs/directoryAudits",
                 case_sensitive=False)


@route("GET", r"/auditLogs/directoryAudits/(?P<aid>[^/]+)", "auditlogs.read")
def get_directory_audit(svc: GraphService, req: GraphRequest, aid: str) -> GraphResult:
    _check(req, svc)
    with req.tenant.lock:
        found = next((r for r in req.tenant.audit if str(r.get("id")) == aid), None)
    if found is None:
        raise GraphFault(404, "Request_ResourceNotFound", f"Resource '{aid}' does not exist or one of its queried "
                         "reference-property objects are not present.")
    return GraphResult(200, {"@odata.context": svc.context(req, "auditLogs/directoryAudits/$entity"), **found})


# --- records for tests and benchmarks ---------------------------------------------------------------------

def _iso(stamp: dt.datetime) -> str:
    return stamp.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def provisioning_record(*, tenant_id: str, when: dt.datetime, job_id: str, cycle_id: str,
                        service_principal: tuple[str, str], source: Mapping[str, Any], target_id: str | None,
                        action: str = "create", status: str = "success", error: Mapping[str, Any] | None = None,
                        modified: list[tuple[str, Any, Any]] | None = None,
                        target_system: str = "Azure Active Directory (target tenant)") -> dict[str, Any]:
    """One provisioningObjectSummary in the shape of Microsoft's cross-tenant sync example (graph-facts 4)."""
    upn = source.get("userPrincipalName")
    name = source.get("displayName")
    sp_id, sp_name = service_principal
    export = {"create": "EntryExportAdd", "update": "EntryExportUpdate", "delete": "EntryExportDelete",
              "disable": "EntryExportUpdateSoftDelete"}.get(action, "EntryExportUpdate")
    steps = [
        {"name": "EntryImportAdd" if action == "create" else "EntryImportUpdate", "provisioningStepType": "import",
         "status": "success", "description": f"Received User '{upn}' change of type (Add) from Azure Active Directory",
         "details": {"objectId": source.get("id"), "displayName": name, "userPrincipalName": upn}},
        {"name": "EntrySynchronizationScoping", "provisioningStepType": "scoping", "status": "success",
         "description": "Determine if User in scope by evaluating against each scoping filter",
         "details": {"Active in the source system": "True", "Assigned to the application": "True",
                     "Scoping filter evaluation passed": "True"}},
        {"name": "EntrySynchronizationAdd" if action == "create" else "EntrySynchronizationUpdate",
         "provisioningStepType": "matching", "status": "success",
         "description": "User will be created in Azure Active Directory (target tenant)" if action == "create"
         else "User will be updated in Azure Active Directory (target tenant)", "details": {}},
        {"name": export, "provisioningStepType": "export", "status": status,
         "description": (f"User '{upn}' was {'created' if action == 'create' else 'updated'} in Azure Active "
                         "Directory (target tenant)") if status == "success" else
         f"Failed to {action} User '{upn}' in Azure Active Directory (target tenant)",
         "details": {"ReportableIdentifier": upn} if status == "success" else dict(error or {})},
    ]
    return {
        "id": str(uuid.uuid4()), "activityDateTime": _iso(when), "tenantId": tenant_id, "jobId": job_id,
        "cycleId": cycle_id, "changeId": str(uuid.uuid4()), "provisioningAction": action,
        "durationInMilliseconds": 1200 + (hash(upn) % 4000 if upn else 0),
        "servicePrincipal": {"id": sp_id, "displayName": sp_name},
        "sourceSystem": {"id": str(uuid.uuid4()), "displayName": "Azure Active Directory", "details": {}},
        "targetSystem": {"id": str(uuid.uuid4()), "displayName": target_system,
                         "details": {"ServicePrincipalId": sp_id, "ServicePrincipalDisplayName": sp_name}},
        "initiatedBy": {"id": "", "displayName": "Azure AD Provisioning Service", "initiatorType": "system"},
        "sourceIdentity": {"id": source.get("id"), "displayName": name, "identityType": "User",
                           "details": {"id": source.get("id"), "odatatype": "User", "DisplayName": name,
                                       "UserPrincipalName": upn}},
        "targetIdentity": {"id": target_id or "", "displayName": "", "identityType": "User", "details": {}},
        "provisioningStatusInfo": {"status": status, "errorInformation": dict(error) if error else None},
        "provisioningSteps": steps,
        "modifiedProperties": [{"displayName": n, "oldValue": o, "newValue": v} for n, o, v in (modified or [])],
    }


_ERRORS = (
    {"errorCode": "AzureActiveDirectoryForbidden", "errorCategory": "nonServiceFailure",
     "reason": "Guest invitations not allowed for your company.", "additionalDetails": None,
     "recommendedAction": None},
    {"errorCode": "InvitationCreationFailureAmbiguousUser", "errorCategory": "nonServiceFailure",
     "reason": "The invited user's proxy address matches an internal user in the target tenant.",
     "additionalDetails": None, "recommendedAction": None},
    {"errorCode": "AzureActiveDirectoryCannotUpdateObjectsOriginatedInExternalService",
     "errorCategory": "nonServiceFailure",
     "reason": "Unable to update the specified properties for objects that have originated within an external "
               "service.", "additionalDetails": None, "recommendedAction": None},
)


def dense_provisioning_log(count: int, *, tenant_id: str, start: dt.datetime, end: dt.datetime,
                           job_id: str = "Azure2Azure.sim", seed: int = 7, failure_rate: float = 0.05,
                           cycle_size: int = 500) -> list[dict[str, Any]]:
    """``count`` provisioning records spread evenly over [start, end), oldest first, in cycles of
    ``cycle_size``; about ``failure_rate`` of them fail with a cross-tenant sync error code."""
    rng = random.Random(seed)
    span = (end - start).total_seconds()
    sp = (str(uuid.UUID(int=rng.getrandbits(128))), "Fabrikam Federal")
    out = []
    cycle = str(uuid.UUID(int=rng.getrandbits(128)))
    for i in range(count):
        if i and i % cycle_size == 0:
            cycle = str(uuid.UUID(int=rng.getrandbits(128)))
        when = start + dt.timedelta(seconds=span * i / max(count, 1))
        uid = str(uuid.UUID(int=rng.getrandbits(128)))
        fail = rng.random() < failure_rate
        action = rng.choice(("create", "update", "update", "update", "disable"))
        rec = provisioning_record(
            tenant_id=tenant_id, when=when, job_id=job_id, cycle_id=cycle, service_principal=sp,
            source={"id": uid, "displayName": f"User {i}", "userPrincipalName": f"user{i}@contoso.com"},
            target_id=None if fail else str(uuid.UUID(int=rng.getrandbits(128))), action=action,
            status="failure" if fail else "success", error=rng.choice(_ERRORS) if fail else None,
            modified=[("displayName", None if action == "create" else f"User {i} (old)", f"User {i}")])
        rec["id"] = str(uuid.UUID(int=rng.getrandbits(128)))
        rec["changeId"] = str(uuid.UUID(int=rng.getrandbits(128)))
        out.append(rec)
    return out
