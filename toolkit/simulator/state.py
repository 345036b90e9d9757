"""The simulator's directory: every tenant of every simulated cloud, loaded from Graph-shaped seed dicts.

A ``TenantState`` holds one tenant's users, groups, subscribed SKUs, domains, organization, apps, soft-deleted
users, directory audit log and the change log that ``/users/delta`` reads. Each tenant has its own lock;
handlers take it for the whole read or write so that a request sees one consistent state.

Licence derivation (``TenantState.recompute_licenses``) follows Microsoft's group-licensing model
(licensing-facts.md; graph-facts.md 6.1): a user's Graph ``assignedLicenses`` is the union of direct and
group-based assignments, ``licenseAssignmentStates`` has one entry per assignment path (``assignedByGroup``
null for direct), an assignment that finds no free unit of its SKU is in state ``Error`` with
``CountViolation``, and ``consumedUnits`` counts users holding at least one active assignment of the SKU.
"""

from __future__ import annotations

import copy
import json
import re
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Mapping

from ..errors import InputError

__all__ = ["Directory", "TenantState", "now_iso", "load_seed_dir"]

# SimApp is owned by the login package (login/directory.py); seeds are turned into it here.
from .login.directory import SimApp  # noqa: E402
from .crosstenant import CrossTenantPolicy  # noqa: E402
from .enterprise_apps import seed_enterprise_apps  # noqa: E402


def now_iso() -> str:
    """UTC time in Graph's DateTimeOffset form (``2024-01-31T10:11:12Z``)."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


@dataclass
class Change:
    """One entry of the change log that users/delta replays: which user, which properties, what kind."""

    seq: int
    user_id: str
    kind: str                    # "upsert" | "softdelete" | "harddelete"
    properties: frozenset[str]   # changed property names (empty = all, for creates and restores)


class TenantState:
    """One simulated tenant. Mutate only while holding ``lock``; every write goes through a method here."""

    def __init__(self, seed: Mapping[str, Any], source: str = "<dict>"):
        self.source = source
        org = dict(seed.get("organization") or {})
        tid = str(org.get("id") or "")
        if not _GUID.match(tid):
            raise InputError("organization.id must be the tenant GUID.", source=source, field="organization.id",
                             hint="Give the tenant's id as a GUID in the seed's organization object.")
        self.tenant_id = tid.lower()
        self.cloud = str(seed.get("cloud") or "").lower()
        if not self.cloud:
            raise InputError("the seed names no cloud.", source=source, field="cloud",
                             hint="Set \"cloud\" to one of commercial, gcc, gcch, dod, china.")
        self.display_name = str(org.get("displayName") or self.tenant_id)
        self.lock = threading.RLock()
        self.domain_objects: list[dict[str, Any]] = [self._domain(d) for d in seed.get("domains") or []]
        if not self.domain_objects:
            raise InputError("the seed has no domains.", source=source, field="domains",
                             hint="List at least the tenant's initial *.onmicrosoft.com domain.")
        self.domains: list[str] = [d["id"] for d in self.domain_objects]
        self.organization = self._organization(org)
        self.apps: dict[str, SimApp] = {}
        for app in seed.get("apps") or []:
            app_id = str(app["appId"]).lower()
            self.apps[app_id] = SimApp(
                app_id=app_id, display_name=str(app.get("displayName") or "app"),
                roles=list(app.get("roles") or []),
                # a fresh secret per simulator start: nothing real can leak from a seed file
                secrets=[secrets.token_urlsafe(32)],
                certificates=list(app.get("certificates") or []))
        self.skus: dict[str, dict[str, Any]] = {}
        for sku in seed.get("subscribedSkus") or []:
            s = copy.deepcopy(dict(sku))
            s["skuId"] = str(s["skuId"]).lower()
            s.setdefault("accountName", self.display_name)
            s.setdefault("accountId", self.tenant_id)
            s.setdefault("appliesTo", "User")
            s.setdefault("capabilityStatus", "Enabled")
            s.setdefault("prepaidUnits", {"enabled": 0, "warning": 0, "suspended": 0, "lockedOut": 0})
            s.setdefault("servicePlans", [])
            s.setdefault("subscriptionIds", [str(uuid.uuid5(uuid.NAMESPACE_URL, self.tenant_id + s["skuId"]))])
            s["id"] = f"{self.tenant_id}_{s['skuId']}"
            s["consumedUnits"] = 0
            self.skus[s["skuId"]] = s
        self.users: dict[str, dict[str, Any]] = {}
        self.annotations: dict[str, dict[str, Any]] = {}   # other "@sim.*" seed keys, kept off the Graph object
        self.direct_licenses: dict[str, list[dict[str, Any]]] = {}
        self.forced_license_errors: dict[str, dict[str, str]] = {}
        self.license_updated: dict[tuple[str, str, str | None], str] = {}
        created = now_iso()
        for raw in seed.get("users") or []:
            user = dict(raw)    # top-level copy: handlers replace values, never mutate nested ones
            uid = str(user.get("id") or uuid.uuid4()).lower()
            user["id"] = uid
            self.direct_licenses[uid] = [self._license(x) for x in user.pop("assignedLicenses", []) or []]
            errors = user.pop("@sim.licenseErrors", None) or {}
            self.forced_license_errors[uid] = {str(k).lower(): str(v) for k, v in errors.items()}
            user.pop("licenseAssignmentStates", None)
            sim_keys = [k for k in user if k[:1] == "@"]
            if sim_keys:
                self.annotations[uid] = {k: user.pop(k) for k in sim_keys if k.startswith("@sim.")}
            user.setdefault("createdDateTime", created)
            user.setdefault("accountEnabled", True)
            user.setdefault("userType", "Member")
            user.setdefault("businessPhones", [])
            self.users[uid] = user
        self.groups: dict[str, dict[str, Any]] = {}
        for raw in seed.get("groups") or []:
            group = dict(raw)
            gid = str(group.get("id") or uuid.uuid4()).lower()
            group["id"] = gid
            group["members"] = [str(m).lower() for m in group.get("members") or []]
            group["assignedLicenses"] = [self._license(x) for x in group.get("assignedLicenses") or []]
            group.setdefault("groupTypes", [])
            group.setdefault("createdDateTime", created)
            for k in [k for k in group if k.startswith("@sim.")]:
                group.pop(k)
            self.groups[gid] = group
        # Organizational contacts (GET /contacts): mail-enabled objects that hold addresses in the directory.
        self.contacts: dict[str, dict[str, Any]] = {}
        for raw in seed.get("contacts") or []:
            contact = dict(raw)
            cid = str(contact.get("id") or uuid.uuid4()).lower()
            contact["id"] = cid
            contact.setdefault("proxyAddresses", [f"SMTP:{contact['mail']}"] if contact.get("mail") else [])
            self.contacts[cid] = contact
        self.deleted: dict[str, dict[str, Any]] = {}
        self.audit: list[dict[str, Any]] = []
        # provisioningObjectSummary records (GET /auditLogs/provisioning), Graph-shaped, oldest first; the sync
        # engine appends, the auditLogs routes read.
        self.provisioning: list[dict[str, Any]] = []
        self.changes: list[Change] = []
        self.seq = 0
        # cross-tenant access settings and authorization policy (crosstenant.py; routes in policies.py)
        self.cross_tenant = CrossTenantPolicy.from_seed(seed, _cloud_endpoint(self.cloud), source)
        # gallery apps, service principals, sync jobs and secrets (enterprise_apps.py; routes in applications.py
        # and synchronization.py)
        self.enterprise_apps = seed_enterprise_apps(self, dict(seed))
        self.visible_after: dict[str, float] = {}   # replication lag: user id -> monotonic time it appears
        self.indexed_after: dict[str, float] = {}   # advanced-query index lag: user id -> time it is searchable
        self.snapshots: dict[str, list[str]] = {}    # opaque paging snapshots (skiptoken -> ordered ids)
        self.consumers: dict[str, set[str]] = {}     # skuId -> users holding an active assignment of it
        self._upns: dict[str, str] | None = None
        self.recompute_licenses()

    # --- seed normalisation -------------------------------------------------------------------------------

    @staticmethod
    def _license(x: Mapping[str, Any]) -> dict[str, Any]:
        return {"disabledPlans": [str(p).lower() for p in x.get("disabledPlans") or []],
                "skuId": str(x["skuId"]).lower()}

    @staticmethod
    def _domain(d: Mapping[str, Any]) -> dict[str, Any]:
        out = {"authenticationType": "Managed", "availabilityStatus": None, "id": "", "isAdminManaged": True,
               "isDefault": False, "isInitial": False, "isRoot": True, "isVerified": True,
               "passwordNotificationWindowInDays": None, "passwordValidityPeriodInDays": None,
               "supportedServices": [], "state": None}
        out.update(copy.deepcopy(dict(d)))
        out["id"] = str(out["id"]).lower()
        return out

    def _organization(self, org: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.tenant_id, "deletedDateTime": None, "businessPhones": [], "city": None, "country": None,
            "countryLetterCode": None, "createdDateTime": now_iso(), "displayName": self.display_name,
            "marketingNotificationEmails": [], "onPremisesLastSyncDateTime": None, "onPremisesSyncEnabled": None,
            "postalCode": None, "preferredLanguage": None, "privacyProfile": None, "securityComplianceNotificationMails": [],
            "securityComplianceNotificationPhones": [], "state": None, "street": None,
            "technicalNotificationMails": [], "tenantType": "AAD", "assignedPlans": [], "provisionedPlans": []}
        out.update(copy.deepcopy(dict(org)))
        out["id"] = self.tenant_id
        out["verifiedDomains"] = org.get("verifiedDomains") or [
            {"capabilities": ", ".join(d.get("supportedServices") or []) or "None", "isDefault": d["isDefault"],
             "isInitial": d["isInitial"], "name": d["id"], "type": d["authenticationType"]}
            for d in self.domain_objects if d.get("isVerified")]
        return out

    # --- lookups ------------------------------------------------------------------------------------------

    @property
    def initial_domain(self) -> str:
        for d in self.domain_objects:
            if d.get("isInitial"):
                return d["id"]
        return self.domains[0]

    def verified_domains(self) -> set[str]:
        return {d["id"] for d in self.domain_objects if d.get("isVerified")}

    def is_visible(self, user_id: str) -> bool:
        """False while a just-created user is still 'replicating' (FaultConfig.replication_lag_s)."""
        until = self.visible_after.get(user_id)
        return until is None or time.monotonic() >= until

    def find_user(self, key: str, *, include_hidden: bool = False) -> dict[str, Any] | None:
        """A user by object id or userPrincipalName (case-insensitive), as Graph's /users/{id|upn} resolves."""
        k = key.lower()
        user = self.users.get(k)
        if user is None:
            uid = self._upn_index().get(k)
            user = self.users.get(uid) if uid else None
        if user is None or (not include_hidden and not self.is_visible(user["id"])):
            return None
        return user

    def _upn_index(self) -> dict[str, str]:
        # rebuilt lazily after writes that touch UPNs (invalidate_upns); lookups stay O(1) on large tenants.
        # Live users only: a soft-deleted user's UPN may be taken by a new user, and then restoring the deleted
        # one fails on the conflict (Restore-EntraDeletedDirectoryObject -NewUserPrincipalName exists for that).
        if self._upns is None:
            self._upns = {str(u.get("userPrincipalName", "")).lower(): uid for uid, u in self.users.items()}
        return self._upns

    def address_owner(self, address: str, except_id: str | None = None) -> dict[str, Any] | None:
        """The live object (user, group, contact) whose mail or proxy address is ``address`` (case-insensitive).

        Entra keeps proxyAddresses unique across mail-enabled objects (docs/direct-engine.md).
        """
        want = address.lower()
        for obj in [*self.users.values(), *self.groups.values(), *self.contacts.values()]:
            if obj.get("id") == except_id:
                continue
            if str(obj.get("mail") or "").lower() == want or want in {
                    str(a).split(":", 1)[-1].lower() for a in obj.get("proxyAddresses") or []}:
                return obj
        return None

    def invalidate_upns(self) -> None:
        self._upns = None

    def upn_taken(self, upn: str, except_id: str | None = None) -> bool:
        """True when another live user already has this UPN (soft-deleted users do not hold theirs)."""
        uid = self._upn_index().get(upn.lower())
        return uid is not None and uid != except_id

    def visible_users(self, *, eventual: bool = False) -> list[dict[str, Any]]:
        """Users a list request sees; ``eventual`` (ConsistencyLevel: eventual) reads the lagging index."""
        users = list(self.users.values()) if not self.visible_after else [
            u for u in self.users.values() if self.is_visible(u["id"])]
        if eventual and self.indexed_after:
            now = time.monotonic()
            users = [u for u in users if self.indexed_after.get(u["id"], 0.0) <= now]
        return users

    def user_groups(self, user_id: str) -> list[str]:
        """Ids of groups that have the user as a DIRECT member (group licences are not inherited by nesting)."""
        return [g["id"] for g in self.groups.values() if user_id in g["members"]]

    # --- licences -----------------------------------------------------------------------------------------

    def recompute_licenses(self) -> None:
        """Derive every user's assignedLicenses / licenseAssignmentStates and every SKU's consumedUnits.

        Users are processed in directory order, direct assignments before group ones, so the users that run
        into CountViolation are the ones that came last (Entra picks no documented order; this one is stable).
        """
        self.consumers = {sku: set() for sku in self.skus}
        member_of: dict[str, list[str]] = {}
        for gid, group in self.groups.items():
            for member in group["members"]:
                member_of.setdefault(member, []).append(gid)
        stamp = now_iso()
        for uid in self.users:
            self._derive_user(uid, member_of.get(uid, []), stamp)
        self._update_consumed(self.skus)

    def relicense_user(self, uid: str) -> bool:
        """Re-derive one user's licences after a change to its own assignments or memberships.

        Other users keep their states: as in Entra, a unit freed here does not by itself clear another user's
        CountViolation (an admin reprocesses it). Returns True when the user's assignedLicenses changed.
        """
        user = self.users.get(uid)
        before = copy.deepcopy(user.get("assignedLicenses")) if user else None
        touched = {sku for sku, users in self.consumers.items() if uid in users}
        for sku in touched:
            self.consumers[sku].discard(uid)
        if user is not None:
            self._derive_user(uid, self.user_groups(uid))
            touched |= {a["skuId"] for a in user["assignedLicenses"]}
        self._update_consumed(touched)
        return user is not None and user.get("assignedLicenses") != before

    def _update_consumed(self, skus: Iterable[str]) -> None:
        for sku_id in skus:
            if sku_id in self.skus:
                self.skus[sku_id]["consumedUnits"] = len(self.consumers.get(sku_id, ()))

    def _derive_user(self, uid: str, group_ids: list[str], stamp: str | None = None) -> None:
        user = self.users[uid]
        paths: list[tuple[str | None, dict[str, Any]]] = [(None, x) for x in self.direct_licenses.get(uid, [])]
        for gid in group_ids:
            paths += [(gid, x) for x in self.groups[gid].get("assignedLicenses") or []]
        states, assigned = [], {}
        forced = self.forced_license_errors.get(uid, {})
        for group_id, lic in paths:
            sku_id = lic["skuId"]
            sku = self.skus.get(sku_id)
            error = forced.get(sku_id)
            holders = self.consumers.setdefault(sku_id, set())
            if error is None and sku is not None and uid not in holders:
                if len(holders) >= int(sku["prepaidUnits"].get("enabled", 0)):
                    error = "CountViolation"
            if error is None and sku is not None:
                holders.add(uid)
            updated = self.license_updated.get((uid, sku_id, group_id))
            if updated is None:
                updated = self.license_updated[(uid, sku_id, group_id)] = stamp or now_iso()
            states.append({"assignedByGroup": group_id, "disabledPlans": list(lic["disabledPlans"]),
                           "error": error or "None", "lastUpdatedDateTime": updated, "skuId": sku_id,
                           "state": "Error" if error else "Active"})
            if sku_id in assigned:
                # a plan stays enabled if any assignment enables it (Microsoft's merge rule)
                assigned[sku_id]["disabledPlans"] = sorted(
                    set(assigned[sku_id]["disabledPlans"]) & set(lic["disabledPlans"]))
            else:
                assigned[sku_id] = {"disabledPlans": list(lic["disabledPlans"]), "skuId": sku_id}
        user["assignedLicenses"] = list(assigned.values())
        user["licenseAssignmentStates"] = states

    def available_units(self, sku_id: str) -> int:
        sku = self.skus[sku_id]
        return int(sku["prepaidUnits"].get("enabled", 0)) - len(self.consumers.get(sku_id, ()))

    # --- change log and audit ----------------------------------------------------------------------------

    def record_change(self, user_id: str, kind: str = "upsert", properties: Iterable[str] = ()) -> None:
        self.seq += 1
        self.changes.append(Change(self.seq, user_id, kind, frozenset(properties)))

    def add_audit(self, *, activity: str, category: str, operation: str, app: SimApp | None,
                  target: Mapping[str, Any], target_type: str, modified: Iterable[tuple[str, Any, Any]] = (),
                  service: str = "Core Directory", extra_targets: Iterable[dict[str, Any]] = ()) -> dict[str, Any]:
        """Append the directoryAudit entry Entra writes for a change made by an app (graph-facts.md 5)."""
        resource: dict[str, Any] = {
            "id": target.get("id"), "displayName": target.get("displayName"), "type": target_type,
            "userPrincipalName": target.get("userPrincipalName") if target_type == "User" else None,
            "groupType": None if target_type == "User" else (
                "unifiedGroups" if "Unified" in (target.get("groupTypes") or []) else "azureAD"),
            # Entra writes old/new values as JSON-encoded strings (e.g. "[\"Jane\"]")
            "modifiedProperties": [{"displayName": name, "oldValue": json.dumps([old]) if old is not None else "[]",
                                    "newValue": json.dumps([new]) if new is not None else "[]"}
                                   for name, old, new in modified]}
        initiator_app = None
        if app is not None:
            initiator_app = {"appId": app.app_id, "displayName": app.display_name,
                             "servicePrincipalId": self.service_principal_id(app.app_id),
                             "servicePrincipalName": None}
        entry = {
            "id": f"Directory_{uuid.uuid4()}", "category": category, "correlationId": str(uuid.uuid4()),
            "result": "success", "resultReason": "", "activityDisplayName": activity,
            "activityDateTime": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "loggedByService": service, "operationType": operation,
            "initiatedBy": {"user": None, "app": initiator_app},
            "targetResources": [resource, *extra_targets], "additionalDetails": []}
        self.audit.append(entry)
        return entry

    def service_principal_id(self, app_id: str) -> str:
        """The app's service principal object id in this tenant (stable for a given tenant and app)."""
        return str(uuid.uuid5(uuid.NAMESPACE_OID, f"{self.tenant_id}/{app_id}"))

    def user_count(self) -> int:
        return len(self.users)

    def partner(self, tenant_id: str) -> dict[str, Any] | None:
        """This tenant's cross-tenant access partner entry for another tenant, or None (crosstenant.py)."""
        return self.cross_tenant.partner(tenant_id)


class Directory:
    """All tenants of one simulator, across clouds."""

    def __init__(self) -> None:
        self.tenants: dict[str, TenantState] = {}
        self._lock = threading.Lock()

    def add_tenant(self, seed: Mapping[str, Any] | TenantState, source: str = "<dict>") -> TenantState:
        """Add a tenant from a seed dict (the seed-file format, or a generator's output)."""
        tenant = seed if isinstance(seed, TenantState) else TenantState(seed, source)
        with self._lock:
            if tenant.tenant_id in self.tenants:
                raise InputError(f"tenant {tenant.tenant_id} is seeded twice.", source=source,
                                 field="organization.id", hint="Give every seed its own tenant id.")
            # a domain is verified in at most one tenant per Entra instance (clouds sharing login hosts)
            instance = _entra_instance(tenant.cloud)
            taken = {d for t in self.tenants.values() if _entra_instance(t.cloud) == instance
                     for d in t.verified_domains()}
            clash = taken.intersection(tenant.verified_domains())
            if clash:
                raise InputError(f"domain {sorted(clash)[0]} is already verified in another seeded tenant.",
                                 source=source, field="domains", hint="A domain can be verified in one tenant only.")
            self.tenants[tenant.tenant_id] = tenant
        return tenant

    def find_tenant(self, id_or_domain: str, cloud: str | None = None) -> TenantState | None:
        """The tenant with this id or one of its verified domains (case-insensitive), else None.

        ``cloud`` narrows a domain lookup to that cloud (the same domain may be verified in two Entra instances).
        """
        key = (id_or_domain or "").strip().lower()
        if key in self.tenants:
            return self.tenants[key]
        for tenant in self.tenants.values():
            if key in tenant.verified_domains() and (cloud is None or tenant.cloud == cloud):
                return tenant
        return None

    def clouds(self) -> list[str]:
        return sorted({t.cloud for t in self.tenants.values()})

    def in_cloud(self, cloud: str) -> list[TenantState]:
        return [t for t in self.tenants.values() if t.cloud == cloud]


def _cloud_endpoint(cloud: str) -> str:
    from ..clouds import CLOUDS
    return CLOUDS[cloud].allowed_cloud_endpoint if cloud in CLOUDS else cloud


def _entra_instance(cloud: str) -> str:
    from ..clouds import CLOUDS
    return CLOUDS[cloud].entra_instance if cloud in CLOUDS else cloud


def load_seed_dir(directory: Directory, seed_dir: str | Path) -> list[TenantState]:
    """Load every ``*.json`` seed in ``seed_dir`` (sorted by name) into ``directory``."""
    path = Path(seed_dir)
    if not path.is_dir():
        raise InputError(f"seed directory {path} does not exist.", source=str(path),
                         hint="Point SimConfig.seed_dir at a folder of tenant seed files (samples/tenants).")
    loaded = []
    for file in sorted(path.glob("*.json")):
        try:
            seed = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot read the seed: {exc}", source=str(file),
                             hint="Fix the JSON syntax of the seed file.") from exc
        if not isinstance(seed, dict):
            raise InputError("a seed must be a JSON object.", source=str(file))
        loaded.append(directory.add_tenant(seed, source=str(file)))
    return loaded
