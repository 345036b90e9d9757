"""Entra's cross-tenant / cross-cloud synchronization engine, simulated: connection checks, provisioning cycles,
on-demand provisioning, and the scheduler that runs each active job on its interval.

What a cycle does (docs/entra-sync-simulator.md, "Sync engine", with Microsoft sources):
- reads the job's schema (``syncschema``), its secrets (CompanyId = target tenant, SyncAll, SyncNotificationSettings)
  and the configuration's assignments (users, and DIRECT members of assigned groups);
- keeps internal members only (no guests or external users, no users with SMS sign-in), evaluates scoping filters;
- matches target users by alternativeSecurityIds (AltSecIdFromNetId([netId])), never an internal target user;
- writes target users as Entra does: external members, already redeemed (userType from the mapping, creationType
  Invitation, externalUserState Accepted), with the target's audit log naming Microsoft.Azure.SyncFabric;
- disables when the source user is disabled, soft-deletes when the user leaves scope, restores when it returns;
- holds deletions and disables back when there are more than the accidental-deletion threshold (quarantine
  TooManyDeletes, provisioningAction stageddelete) until restart with ForceDeletes;
- appends one provisioningObjectSummary per action to the SOURCE tenant's ``provisioning`` list.

Cross-cloud pairs fail with the documented errors until both tenants are configured (``check_connection``).
This module must not import ``toolkit.plan`` (see ``syncschema``).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any, Iterable

from .enterprise_apps import NEVER, SyncJob, notification_settings
from .login.directory import SimApp
from .syncschema import (SOURCE_DIRECTORY, TARGET_DIRECTORY, alt_sec_id, evaluate, net_id, scope_result,
                         user_mapping)

__all__ = ["SyncFailure", "check_connection", "run_cycle", "run_due_cycles", "provision_on_demand", "SyncScheduler",
           "parse_interval", "DEFAULT_DELETE_THRESHOLD", "SYNC_FABRIC"]

# The engine's single lock: a cycle touches two tenants; it takes this, then both tenant locks in id order.
# Request handlers that call the engine must not hold a tenant lock while they do.
ENGINE_LOCK = threading.RLock()
DEFAULT_DELETE_THRESHOLD = 500      # accidental-deletions.md: default threshold
# The first-party app that writes synced users in the target's audit log ([CTS-PORTAL] step 13). Its appId is
# the one seen in tenants' audit logs, not taken from a Microsoft page.
SYNC_FABRIC = SimApp(app_id="00000014-0000-0000-c000-000000000000", display_name="Microsoft.Azure.SyncFabric")
PROVISIONING_SERVICE = {"id": "", "displayName": "Azure AD Provisioning Service", "initiatorType": "system"}
_SOURCE_SYSTEM_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, f"ccsync-sim/{SOURCE_DIRECTORY}"))
_TARGET_SYSTEM_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, f"ccsync-sim/{TARGET_DIRECTORY}"))
_NOT_WRITTEN = {"alternativeSecurityIds", "IsSoftDeleted"}     # drive matching / deletion, not target properties


@dataclass
class SyncFailure:
    """A documented connection failure: Graph error code, message, and where it shows."""

    code: str
    message: str
    status: int = 400


def _iso(dt: datetime | None = None, fraction: bool = True) -> str:
    dt = dt or datetime.now(timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%f0Z" if fraction else "%Y-%m-%dT%H:%M:%SZ")


def parse_interval(text: str) -> float:
    """Seconds of an ISO-8601 duration such as PT40M, PT5S, P1DT2H."""
    import re
    m = re.fullmatch(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?", text or "")
    if not m:
        return 40 * 60.0
    d, h, mi, s = m.groups()
    return int(d or 0) * 86400 + int(h or 0) * 3600 + int(mi or 0) * 60 + float(s or 0)


def _instance(cloud: str) -> str:
    from ..clouds import CLOUDS
    return CLOUDS[cloud].entra_instance if cloud in CLOUDS else cloud


def _endpoint(cloud: str) -> str:
    from ..clouds import CLOUDS
    return CLOUDS[cloud].allowed_cloud_endpoint if cloud in CLOUDS else cloud


# ============================================================================ connection

def check_connection(directory: Any, source: Any, target_tenant_id: str | None, sp_id: str) -> SyncFailure | None:
    """What "Test connection" / a cycle finds about reaching the target tenant (graph-facts 1.4, 2.2 step F, 10).

    Order: the target must exist for this cloud's authority; cross-cloud: the configuration's cross-cloud
    checkbox, the source's Microsoft cloud settings, the target's cross-cloud checkbox; then the target's inbound
    sync policy and the source's outbound automatic redemption. The target's INBOUND automatic redemption is
    checked per user at export (AzureDirectoryB2BManagementPolicyCheckFailure), as the provisioning-log error
    table shows it.
    """
    if not target_tenant_id:
        # Docs silent: a job whose secrets name no target. We answer as for an unknown tenant.
        return SyncFailure("ExternalTenantNotFound", "The target tenant ID was not provided (CompanyId).")
    target = directory.tenants.get(str(target_tenant_id).lower())
    authority = f"login.microsoftonline.com/{target_tenant_id}"
    if target is None:
        return SyncFailure("ExternalTenantNotFound", f"The tenant '{target_tenant_id}' was not found by the "
                           f"authentication authority of the current cloud ({authority}).")
    cross_cloud = _instance(source.cloud) != _instance(target.cloud)
    if cross_cloud:
        if sp_id not in source.enterprise_apps.cross_cloud_configurations:
            # [CTS-PORTAL]: the configuration was not created with the cross-cloud checkbox
            return SyncFailure("ExternalTenantNotFound", f"The tenant '{target.tenant_id}' was not found by the "
                               f"authentication authority of the current cloud ({authority}). A configuration for "
                               "another Microsoft cloud must be created with 'Setup cross-tenant synchronization "
                               "across Microsoft clouds' selected.")
        if not source.cross_tenant.allows_cloud(_endpoint(target.cloud)):
            # Docs silent on the error when the source has not enabled the target's cloud; the source's authority
            # cannot see the other cloud's tenant, so we answer as the documented "not found".
            return SyncFailure("ExternalTenantNotFound", f"The tenant '{target.tenant_id}' was not found by the "
                               f"authentication authority of the current cloud ({authority}); the Microsoft cloud "
                               f"settings of this tenant do not include {_endpoint(target.cloud)}.")
        if not (target.cross_tenant.accepts_cross_cloud_sync_from(_endpoint(source.cloud))
                and target.cross_tenant.allows_cloud(_endpoint(source.cloud))):
            # [CTS-PORTAL]: the target has not ticked cross-cloud synchronization in its Microsoft cloud settings
            return SyncFailure("AzureActiveDirectoryTokenExpired", "The identity of the calling application could "
                               "not be established.")
    if not target.cross_tenant.inbound_sync_allowed(source.tenant_id):
        return SyncFailure("AzureActiveDirectoryCrossTenantSyncPolicyCheckFailure",
                           "The target tenant has not enabled inbound synchronization with this tenant.")
    if not source.cross_tenant.automatic_redemption(target.tenant_id, "outbound"):
        return SyncFailure("AzureActiveDirectoryCrossTenantSyncPolicyCheckFailure",
                           "The source tenant has not enabled automatic user consent with the target tenant.")
    return None


# ============================================================================ cycle

@dataclass
class _Cycle:
    directory: Any
    source: Any
    target: Any
    sp: dict[str, Any]
    job: SyncJob
    cycle_id: str
    initiated_by: dict[str, Any]
    mapping: dict[str, Any]
    assigned: dict[str, bool] = field(default_factory=dict)   # user id -> assigned (directly or by a group)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        ("imported", "deltas", "entitled", "exports", "exported", "escrowed"), 0))
    records: list[dict[str, Any]] = field(default_factory=list)
    # per-cycle working state
    disables: list[tuple[str, dict[str, Any], str]] = field(default_factory=list)
    context: dict[str, tuple[dict[str, Any], dict[str, str], Any]] = field(default_factory=dict)
    quarantined: bool = False
    alt_index: dict[str, tuple[str, bool]] | None = None
    homes: dict[str, dict[str, str]] = field(default_factory=dict)
    linked_mail: dict[str, str] | None = None
    proxies: dict[str, str] | None = None
    user_started: float = 0.0           # perf_counter when the current user's evaluation began
    upns: set[str] | None = None


def _lock_pair(a: Any, b: Any) -> list[Any]:
    tenants = sorted({id(a): a, id(b): b}.values(), key=lambda t: t.tenant_id)
    for t in tenants:
        t.lock.acquire()
    return tenants


def _secrets(source: Any, sp_id: str) -> tuple[str | None, bool, dict[str, Any]]:
    apps = source.enterprise_apps
    sync_all = str(apps.secret(sp_id, "SyncAll") or "false").lower() == "true"
    return apps.secret(sp_id, "CompanyId"), sync_all, notification_settings(apps.secret(sp_id, "SyncNotificationSettings"))


def delete_threshold(settings: dict[str, Any]) -> int | None:
    """The accidental-deletion threshold from SyncNotificationSettings: None when DeleteThresholdEnabled is
    false; DeleteThresholdValue, else the default 500 (accidental-deletions.md, graph-facts 2.2 step H)."""
    if settings.get("DeleteThresholdEnabled") is False or str(settings.get("DeleteThresholdEnabled")).lower() == "false":
        return None
    try:
        return int(settings.get("DeleteThresholdValue", DEFAULT_DELETE_THRESHOLD))
    except (TypeError, ValueError):
        return DEFAULT_DELETE_THRESHOLD


def run_cycle(directory: Any, source: Any, sp_id: str, job_id: str, *,
              initiated_by: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run one provisioning cycle of a job now (whatever its schedule). Returns the job's Graph view."""
    with ENGINE_LOCK:
        with source.lock:
            job = source.enterprise_apps.jobs.get(sp_id, {}).get(job_id)
            sp = source.enterprise_apps.service_principal(sp_id)
            if job is None or sp is None:
                raise KeyError(job_id)
            company, sync_all, settings = _secrets(source, sp_id)
        began = datetime.now(timezone.utc)
        failure = check_connection(directory, source, company, sp_id)
        if failure is not None:
            with source.lock:
                _finish_failed(job, failure, began)
                return job.view()
        target = directory.tenants[str(company).lower()]
        locked = _lock_pair(source, target)
        try:
            mapping = user_mapping(job.schema)
            cycle = _Cycle(directory, source, target, sp, job, str(uuid.uuid4()),
                           initiated_by or dict(PROVISIONING_SERVICE), mapping or {})
            if mapping is not None:
                _assigned(cycle, sync_all)
                deletions = _evaluate_all(cycle)
                _apply_deletions(cycle, deletions, delete_threshold(settings))
            _finish_cycle(cycle, began)
            return job.view()
        finally:
            for t in reversed(locked):
                t.lock.release()


def _assigned(cycle: _Cycle, sync_all: bool) -> None:
    """Users in scope of the assignment: every user with SyncAll, else assigned users and DIRECT members of
    assigned groups ([CTS-PORTAL] step 7: nested groups are not cascaded)."""
    source = cycle.source
    if sync_all:
        cycle.assigned = {uid: True for uid in source.users}
        return
    for a in source.enterprise_apps.assignments(cycle.sp["id"]):
        pid = a["principalId"]
        if a["principalType"] == "User":
            cycle.assigned[pid] = True
        elif pid in source.groups:
            for member in source.groups[pid]["members"]:
                if member in source.users:
                    cycle.assigned[member] = True


def _is_internal_member(user: dict[str, Any]) -> bool:
    # Only internal members of the source are synced: not guests, not external (B2B) users (graph-facts 3).
    return (user.get("userType", "Member") == "Member" and user.get("creationType") != "Invitation"
            and "#EXT#" not in str(user.get("userPrincipalName", "")).upper())


def _sms_sign_in(source: Any, uid: str) -> bool:
    # Users with SMS sign-in are skipped (known-issues.md). Graph does not show the setting: seeds mark such
    # users with "@sim.smsSignIn": true.
    return bool(source.annotations.get(uid, {}).get("@sim.smsSignIn"))


def _source_attributes(cycle: _Cycle, user: dict[str, Any], deleted: bool = False):
    uid = user["id"]

    def read(name: str) -> Any:
        if name == "netId":
            return net_id(cycle.source.tenant_id, uid)
        if name == "objectId":
            return uid
        if name == "IsSoftDeleted":
            return deleted
        if name == "appRoleAssignments":
            return "msiam_access" if cycle.assigned.get(uid) else None
        value = user.get(name)
        if value is None:   # attribute names are case-insensitive in schemas
            value = next((v for k, v in user.items() if k.lower() == name.lower()), None)
        return value
    return read


def _target_values(cycle: _Cycle, read: Any, creating: bool) -> dict[str, Any]:
    """Mapped values for the target (null source values are not provisioned: known-issues.md)."""
    out: dict[str, Any] = {}
    for m in cycle.mapping.get("attributeMappings") or []:
        name = m.get("targetAttributeName")
        if not name or name in _NOT_WRITTEN:
            continue
        if m.get("flowType") == "ObjectAddOnly" and not creating:
            continue
        value = evaluate(m.get("source") or {}, read)
        if value is None and m.get("defaultValue") not in (None, ""):
            value = m["defaultValue"]
        if value is None:
            continue
        out[name] = _typed(name, value, cycle.target.initial_domain)
    return out


def _typed(name: str, value: Any, target_domain: str) -> Any:
    if name in ("accountEnabled", "showInAddressList"):
        return value if isinstance(value, bool) else str(value).lower() == "true"
    if name == "userPrincipalName":
        # B2B users carry the external form of the home UPN (the form invitations produce, graph-facts 9.1); the
        # docs do not spell out this transformation for sync.
        text = str(value)
        return text if "#EXT#" in text.upper() else f"{text.replace('@', '_')}#EXT#@{target_domain}"
    return value


def _matching_value(cycle: _Cycle, read: Any) -> list[dict[str, Any]] | None:
    for m in cycle.mapping.get("attributeMappings") or []:
        if int(m.get("matchingPriority") or 0) > 0:
            return evaluate(m.get("source") or {}, read)
    return None


def _target_alt_sec_ids(cycle: _Cycle, user: dict[str, Any]) -> list[dict[str, Any]] | None:
    """A target user's alternativeSecurityIds: set by sync, or by redemption. A seeded B2B user that has
    redeemed (Accepted) is linked to the home account its mail signs in to; PendingAcceptance users have none
    ([CTS-PORTAL] troubleshooting)."""
    note = cycle.target.annotations.get(user["id"], {}).get("@sim.alternativeSecurityIds")
    if note:
        return note
    if user.get("creationType") != "Invitation" or user.get("externalUserState") != "Accepted":
        return None
    mail = str(user.get("mail") or "").lower()
    home = cycle.directory.find_tenant(mail.rsplit("@", 1)[-1]) if "@" in mail else None
    if home is None or home is cycle.target:
        return None
    homes = cycle.homes
    if home.tenant_id not in homes:
        by_mail: dict[str, str] = {}
        for u in home.users.values():
            for address in (u.get("mail"), u.get("userPrincipalName")):
                if address:
                    by_mail.setdefault(str(address).lower(), u["id"])
        homes[home.tenant_id] = by_mail
    home_user = homes[home.tenant_id].get(mail)
    return alt_sec_id(net_id(home.tenant_id, home_user)) if home_user else None


def _find_match(cycle: _Cycle, key: list[dict[str, Any]] | None, source_id: str) -> tuple[dict[str, Any] | None, bool]:
    """(target user, soft-deleted?) linked to this source user: the job's own link first, then any EXTERNAL
    target user with the same alternativeSecurityIds (sync never matches internal users, graph-facts 3)."""
    target = cycle.target
    linked = cycle.job.links.get(source_id)
    if linked:
        if linked in target.users:
            return target.users[linked], False
        if linked in target.deleted:
            return target.deleted[linked], True
    if not key:
        return None, False
    found = _alt_sec_index(cycle).get(_key(key))
    if found is None:
        return None, False
    uid, deleted = found
    pool = target.deleted if deleted else target.users
    return (pool[uid], deleted) if uid in pool else (None, False)


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _alt_sec_index(cycle: _Cycle) -> dict[str, tuple[str, bool]]:
    """alternativeSecurityIds -> (target user id, soft-deleted?) over the target's external users, built once a
    cycle (a scan per source user would be quadratic on large tenants)."""
    index = cycle.alt_index
    if index is None:
        index = {}
        for pool, deleted in ((cycle.target.deleted, True), (cycle.target.users, False)):
            for u in pool.values():
                if u.get("creationType") == "Invitation":
                    ids = _target_alt_sec_ids(cycle, u)
                    if ids:
                        index[_key(ids)] = (u["id"], deleted)
        cycle.alt_index = index
    return index


def _evaluate_all(cycle: _Cycle, only: str | None = None) -> list[tuple[str, dict[str, Any], str]]:
    """Create/update every in-scope user (or ``only`` that one); return the deletions and disables to apply."""
    pending: list[tuple[str, dict[str, Any], str]] = []
    source = cycle.source
    candidates = [only] if only else list(dict.fromkeys([*cycle.assigned, *cycle.job.links]))
    for uid in candidates:
        cycle.user_started = time.perf_counter()
        user = source.users.get(uid)
        deleted_source = user is None
        if deleted_source:
            user = source.deleted.get(uid) or {"id": uid, "displayName": None, "userPrincipalName": None}
        cycle.counts["imported"] += 1
        read = _source_attributes(cycle, user, deleted_source)
        in_filter, filter_detail = scope_result(cycle.mapping.get("scope"), read)
        assigned = bool(cycle.assigned.get(uid)) and not deleted_source
        internal = _is_internal_member(user) and not _sms_sign_in(source, uid)
        in_scope = assigned and internal and in_filter
        scoping = {"Active in the source system": str(not deleted_source), "Assigned to the application": str(assigned),
                   "User has the required role": str(assigned), "Scoping filter evaluation passed": str(in_filter),
                   "ScopeEvaluationResult": json.dumps(filter_detail)}
        key = _matching_value(cycle, read)
        match, match_deleted = _find_match(cycle, key, uid)
        if in_scope:
            cycle.counts["entitled"] += 1
            _provision(cycle, user, read, key, match, match_deleted, scoping)
        elif match is not None and not match_deleted and uid in cycle.job.links:
            # Out of scope: soft delete, not disable (overview FAQ "Deprovisioning"). A user who was disabled,
            # provisioned and then removed from scope is not soft-deleted (same FAQ).
            if match.get("accountEnabled") is False and user.get("accountEnabled") is False and not deleted_source:
                continue
            if "Delete" not in _flow_types(cycle):
                continue
            pending.append((uid, match, "delete", ))
            cycle.job.staged_deletes.setdefault(uid, "delete")
            _remember(cycle, uid, user, scoping, read)
        elif not in_scope and (only or (assigned and cycle.job.full_cycle)) and uid not in cycle.job.links:
            # skipped events: users assigned but out of scope, on full cycles and on demand
            reason = "NotEffectivelyEntitled"
            _record(cycle, "other", "skipped", user, None, scoping, read, [], skip_reason=reason)
    # disables found during provisioning are queued too (they count toward the threshold)
    pending += cycle.disables
    cycle.disables = []
    return pending


def _remember(cycle: _Cycle, uid: str, user: dict[str, Any], scoping: dict[str, str], read: Any) -> None:
    cycle.context[uid] = (user, scoping, read)


def _provision(cycle: _Cycle, user: dict[str, Any], read: Any, key: Any, match: dict[str, Any] | None,
               match_deleted: bool, scoping: dict[str, str]) -> None:
    target = cycle.target
    uid = user["id"]
    if match is None:
        if "Add" not in _flow_types(cycle):
            return
        values = _target_values(cycle, read, creating=True)
        # Two source users with the same mail: one target user, linked to both (known-issues.md).
        mail = str(values.get("mail") or "").lower()
        if mail:
            twins = cycle.linked_mail
            if twins is None:
                twins = {str(target.users[t].get("mail") or "").lower(): t for t in cycle.job.links.values()
                         if t in target.users}
                cycle.linked_mail = twins
            if mail in twins and twins[mail] in target.users:
                cycle.job.links[uid] = twins[mail]
                return
        error = _create_error(cycle, values)
        cycle.counts["exports"] += 1
        if error is not None:
            cycle.counts["escrowed"] += 1
            _record(cycle, "create", "failure", user, None, scoping, read, _changes({}, values), error=error)
            return
        created = _create_target_user(cycle, values, key)
        if key:
            _alt_sec_index(cycle)[_key(key)] = (created["id"], False)
        _taken_upns(cycle).add(str(created.get("userPrincipalName", "")).lower())
        cycle.job.links[uid] = created["id"]
        if mail and cycle.linked_mail is not None:
            cycle.linked_mail[mail] = created["id"]
        cycle.job.exported[uid] = dict(values)
        cycle.counts["exported"] += 1
        cycle.counts["deltas"] += 1
        _record(cycle, "create", "success", user, created, scoping, read, _changes({}, values))
        return
    cycle.job.links[uid] = match["id"]
    cycle.job.staged_deletes.pop(uid, None)
    if match_deleted:
        # Back in scope within 30 days: the soft-deleted target user is restored (overview FAQ
        # "Deprovisioning"; [CTS-PORTAL] says the next cycle does not restore - we follow the FAQ).
        _restore_target_user(cycle, match)
        cycle.counts["exports"] += 1
        cycle.counts["exported"] += 1
        cycle.counts["deltas"] += 1
        _record(cycle, "update", "success", user, match, scoping, read, [("IsSoftDeleted", "True", "False")])
    values = _target_values(cycle, read, creating=False)
    last = cycle.job.exported.get(uid)
    if not match_deleted and last is not None and all(last.get(k) == v for k, v in values.items()):
        # Sync does not read the target: edits made there persist until the source user changes ([OVERVIEW]
        # "target-side edits"; a target admin's block is lifted when the source user changes).
        return
    if "Update" not in _flow_types(cycle):
        return
    if values.get("accountEnabled") is False and match.get("accountEnabled") is not False:
        # Disable: the source user is blocked; it counts toward the deletion threshold (accidental-deletions.md).
        cycle.disables.append((uid, match, "disable"))
        cycle.job.staged_deletes.setdefault(uid, "disable")
        _remember(cycle, uid, user, scoping, read)
        values.pop("accountEnabled")
    changes = {k: v for k, v in values.items() if match.get(k) != v}
    if not changes:
        cycle.job.exported[uid] = {**(last or {}), **values}
        return
    cycle.counts["exports"] += 1
    cycle.counts["deltas"] += 1
    error = _update_error(cycle)
    if error is not None:
        cycle.counts["escrowed"] += 1
        _record(cycle, "update", "failure", user, match, scoping, read, _changes(match, changes), error=error)
        return
    old = {k: match.get(k) for k in changes}
    _update_target_user(cycle, match, changes)
    cycle.job.exported[uid] = {**(last or {}), **values}
    cycle.counts["exported"] += 1
    _record(cycle, "update", "success", user, match, scoping, read, _changes(old, changes))


def _flow_types(cycle: _Cycle) -> set[str]:
    """The object mapping's target object actions ("Add, Update, Delete"); the portal's "Target Object Actions"
    (graph-facts 10: unticking Delete stops soft deletes)."""
    return {t.strip() for t in str(cycle.mapping.get("flowTypes") or "Add, Update, Delete").split(",")}


def _changes(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    return [(k, old.get(k), v) for k, v in new.items()]


def _b2b_error(cycle: _Cycle) -> dict[str, Any] | None:
    if not cycle.target.cross_tenant.automatic_redemption(cycle.source.tenant_id, "inbound"):
        # howto-analyze-provisioning-logs.md (graph-facts 10): automatic redemption missing on either side
        return _error("AzureDirectoryB2BManagementPolicyCheckFailure",
                      "Policy permitting auto-redemption of invitations not configured.",
                      "Enable automatic redemption: outbound in the source tenant and inbound in the target tenant.")
    return None


def _create_error(cycle: _Cycle, values: dict[str, Any]) -> dict[str, Any] | None:
    error = _b2b_error(cycle)
    if error is not None:
        return error
    target = cycle.target
    mail = str(values.get("mail") or "")
    if mail:
        domain = mail.rsplit("@", 1)[-1].lower()
        if domain not in cycle.source.verified_domains():
            # the source mail must be on a verified domain (known-issues.md)
            return _error("InvitationCreationFailureInvalidPropertyValue",
                          f"The mail '{mail}' is not on a verified domain of the source tenant.",
                          "Give the user a mail address on a verified domain of the source tenant.")
        holder = _internal_proxies(cycle).get(f"smtp:{mail.lower()}")
        if holder is not None:
            return _error("InvitationCreationFailureAmbiguousUser",
                          f"A proxy address of the invited user matches the internal user '{holder}' in the target "
                          "tenant.", "Delete or change the conflicting internal user, or remove the user from scope.")
    upn = values.get("userPrincipalName")
    if upn and str(upn).lower() in _taken_upns(cycle):
        return _error("InvitationCreationFailure", f"Another object with the userPrincipalName '{upn}' exists.",
                      "Contact support if the conflict cannot be resolved in the target tenant.")
    return None


def _internal_proxies(cycle: _Cycle) -> dict[str, str]:
    """smtp proxy address (lower case) -> UPN of the target's INTERNAL user holding it (once per cycle)."""
    if cycle.proxies is None:
        cycle.proxies = {str(p).lower(): str(u.get("userPrincipalName")) for u in cycle.target.users.values()
                         if u.get("creationType") != "Invitation" for p in u.get("proxyAddresses") or []}
    return cycle.proxies


def _taken_upns(cycle: _Cycle) -> set[str]:
    """UPNs of the target's live and soft-deleted users (Graph keeps deleted UPNs taken), once per cycle."""
    if cycle.upns is None:
        cycle.upns = {str(u.get("userPrincipalName", "")).lower() for pool in (cycle.target.users,
                      cycle.target.deleted) for u in pool.values()}
    return cycle.upns


def _update_error(cycle: _Cycle) -> dict[str, Any] | None:
    return _b2b_error(cycle)


def _error(code: str, reason: str, action: str) -> dict[str, Any]:
    return {"errorCode": code, "errorCategory": "NonServiceFailure", "reason": reason,
            "additionalDetails": None, "recommendedAction": action}


# --- target writes ----------------------------------------------------------------------------------------

def _create_target_user(cycle: _Cycle, values: dict[str, Any], key: Any) -> dict[str, Any]:
    from .graph_api import _add_new_user      # the one place that adds a user to a simulated directory

    target = cycle.target
    uid = str(uuid.uuid4())
    now = _iso(fraction=False)
    mail = values.get("mail")
    user: dict[str, Any] = {
        "id": uid, "createdDateTime": now, "businessPhones": [], "userType": "Member",
        "creationType": "Invitation", "externalUserState": "Accepted", "externalUserStateChangeDateTime": now,
        "otherMails": [mail] if mail else [], "proxyAddresses": [f"SMTP:{mail}"] if mail else [],
        "identities": [{"signInType": "federated", "issuer": "ExternalAzureAD", "issuerAssignedId": None}]}
    user.update(values)
    user.setdefault("accountEnabled", True)
    if "mailNickname" not in user:
        user["mailNickname"] = str(user.get("userPrincipalName", uid)).split("@")[0]
    _add_new_user(SimpleNamespace(replication_lag_s=0.0), target, user)
    target.annotations.setdefault(uid, {})["@sim.alternativeSecurityIds"] = key
    target.add_audit(activity="Add user", category="UserManagement", operation="Add", app=SYNC_FABRIC,
                     target=user, target_type="User", modified=_changes({}, values))
    return user


def _update_target_user(cycle: _Cycle, user: dict[str, Any], changes: dict[str, Any]) -> None:
    target = cycle.target
    old = {k: user.get(k) for k in changes}
    user.update(changes)
    if "userPrincipalName" in changes:
        target.invalidate_upns()
    target.record_change(user["id"], "upsert", changes.keys())
    target.add_audit(activity="Update user", category="UserManagement", operation="Update", app=SYNC_FABRIC,
                     target=user, target_type="User", modified=_changes(old, changes))


def _soft_delete_target_user(cycle: _Cycle, user: dict[str, Any]) -> None:
    target = cycle.target
    uid = user["id"]
    target.users.pop(uid, None)
    user["deletedDateTime"] = _iso(fraction=False)
    user["_directLicenses"] = target.direct_licenses.pop(uid, [])
    user["_groups"] = [g["id"] for g in target.groups.values() if uid in g["members"]]
    for g in target.groups.values():
        if uid in g["members"]:
            g["members"].remove(uid)
    target.deleted[uid] = user
    target.relicense_user(uid)
    target.record_change(uid, "softdelete")
    target.add_audit(activity="Delete user", category="UserManagement", operation="Delete", app=SYNC_FABRIC,
                     target=user, target_type="User")


def _restore_target_user(cycle: _Cycle, user: dict[str, Any]) -> None:
    target = cycle.target
    uid = user["id"]
    target.deleted.pop(uid, None)
    user.pop("deletedDateTime", None)
    target.direct_licenses[uid] = user.pop("_directLicenses", [])
    for gid in user.pop("_groups", []) or []:
        if gid in target.groups and uid not in target.groups[gid]["members"]:
            target.groups[gid]["members"].append(uid)
    target.users[uid] = user
    target.relicense_user(uid)
    target.invalidate_upns()
    target.record_change(uid, "upsert")
    target.add_audit(activity="Restore user", category="UserManagement", operation="Restore", app=SYNC_FABRIC,
                     target=user, target_type="User")


def _apply_deletions(cycle: _Cycle, pending: list[tuple[str, dict[str, Any], str]], threshold: int | None,
                     whole_cycle: bool = True) -> None:
    """Deletes and disables of this cycle, unless there are more than the threshold (accidental-deletions.md):
    then none is applied, each is logged as stageddelete, and the job goes to quarantine TooManyDeletes.
    Restart with ForceDeletes applies them on the next cycle. On demand (``whole_cycle`` False) there is no
    threshold and the other users' held deletions stay held."""
    job = cycle.job
    context = cycle.context
    live = {uid for uid, _, _ in pending}
    if whole_cycle:
        for uid in [u for u in job.staged_deletes if u not in live]:
            job.staged_deletes.pop(uid)      # back in scope or already handled: nothing held for it any more
    if not pending:
        return
    if threshold is not None and len(pending) > threshold and not job.force_deletes:
        for uid, match, kind in pending:
            user, scoping, read = context[uid]
            _record(cycle, "stageddelete", "skipped", user, match, scoping, read, [], staged=kind)
        _quarantine(job, "TooManyDeletes", {
            "code": "TooManyDeletes", "tenantActionable": True,
            "message": f"The job has {len(pending)} deletions or disables to apply, more than the accidental "
                       f"deletion threshold of {threshold}."})
        cycle.quarantined = True
        return
    for uid, match, kind in pending:
        user, scoping, read = context[uid]
        cycle.counts["exports"] += 1
        cycle.counts["deltas"] += 1
        if kind == "disable":
            _update_target_user(cycle, match, {"accountEnabled": False})
            job.exported[uid] = {**job.exported.get(uid, {}), "accountEnabled": False}
            _record(cycle, "disable", "success", user, match, scoping, read, [("accountEnabled", True, False)])
        else:
            _soft_delete_target_user(cycle, match)
            _record(cycle, "delete", "success", user, match, scoping, read, [("IsSoftDeleted", "False", "True")])
        cycle.counts["exported"] += 1
        job.staged_deletes.pop(uid, None)
    if whole_cycle:
        job.force_deletes = False


# --- provisioning log records -------------------------------------------------------------------------------

_STEP_NAMES = {"create": ("EntryImportAdd", "EntrySynchronizationAdd", "EntryExportAdd"),
               "update": ("EntryImportUpdate", "EntrySynchronizationUpdate", "EntryExportUpdate"),
               "disable": ("EntryImportUpdate", "EntrySynchronizationUpdate", "EntryExportUpdate"),
               "delete": ("EntryImportDelete", "EntrySynchronizationDelete", "EntryExportDelete"),
               "stageddelete": ("EntryImportDelete", "EntrySynchronizationDelete", "EntryExportDelete"),
               "other": ("EntryImport", "EntrySynchronizationSkip", None)}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def _record(cycle: _Cycle, action: str, status: str, user: dict[str, Any], target_user: dict[str, Any] | None,
            scoping: dict[str, str], read: Any, modified: Iterable[tuple[str, Any, Any]], *,
            error: dict[str, Any] | None = None, skip_reason: str | None = None, staged: str | None = None) -> None:
    """One provisioningObjectSummary in the source tenant's provisioning log (graph-facts 4, the shape of the
    [CTS-GRAPH] step 13 example)."""
    source, target, sp = cycle.source, cycle.target, cycle.sp
    upn = user.get("userPrincipalName") or user.get("id")
    target_name = TARGET_DIRECTORY
    import_name, match_name, export_name = _STEP_NAMES[action]
    kind = {"create": "Add", "update": "Update", "disable": "Update", "delete": "Delete", "stageddelete": "Delete",
            "other": "Update"}[action]
    steps = [
        {"name": import_name, "provisioningStepType": "import", "status": "success",
         "description": f"Received User '{upn}' change of type ({kind}) from {SOURCE_DIRECTORY}",
         "details": {"objectId": user.get("id"), "accountEnabled": _text(user.get("accountEnabled")),
                     "displayName": user.get("displayName"), "mailNickname": user.get("mailNickname"),
                     "userPrincipalName": user.get("userPrincipalName"), "netId": read("netId"),
                     "alternativeSecurityIds": "None", "IsSoftDeleted": _text(bool(read("IsSoftDeleted"))),
                     "appRoleAssignments": read("appRoleAssignments") or ""}},
        {"name": "EntrySynchronizationScoping", "provisioningStepType": "scoping",
         "status": "success" if action != "other" else "skipped",
         "description": "Determine if User in scope by evaluating against each scoping filter", "details": scoping}]
    if action == "other":
        steps.append({"name": match_name, "provisioningStepType": "processing", "status": "skipped",
                      "description": (f"The state of the User '{upn}' in both the source and target systems "
                                      "already match. No change currently needs to be made."
                                      if skip_reason == "RedundantExport" else
                                      f"The User '{upn}' will be skipped: it is not in scope of the configuration."),
                      "details": {"SkipReason": skip_reason}})
    else:
        verb = {"create": "created", "update": "updated", "disable": "updated", "delete": "deleted",
                "stageddelete": "deleted"}[action]
        matched = target_user is not None and action != "create"
        steps.append({"name": match_name, "provisioningStepType": "matching", "status": "success",
                      "description": (f"User '{upn}' will be {verb} in {target_name}" +
                                      ("" if matched else f" (User is active and assigned in {SOURCE_DIRECTORY}, but "
                                                          f"no matching User was found in {target_name})")),
                      "details": {"matchingAttribute": "alternativeSecurityIds"}})
        if staged:
            steps.append({"name": "EntryExportStagedDelete", "provisioningStepType": "export", "status": "skipped",
                          "description": f"The {staged} of User '{upn}' was held back: the cycle exceeded the "
                                         "accidental deletion threshold.",
                          "details": {"StagedAction": "StagedDelete", "StagedOperation": staged}})
        else:
            steps.append({"name": export_name, "provisioningStepType": "export", "status": status,
                          "description": (f"User '{upn}' was {verb} in {target_name}" if status == "success" else
                                          f"Failed to export User '{upn}' to {target_name}"),
                          "details": {"ReportableIdentifier": upn} if not error else
                          {"ReportableIdentifier": upn, "ErrorCode": error["errorCode"]}})
    record = {
        "id": str(uuid.uuid4()), "activityDateTime": _iso(fraction=False),
        # the how-to's example shows the TARGET tenant's id here (graph-facts 4)
        "tenantId": target.tenant_id, "jobId": cycle.job.id, "cycleId": cycle.cycle_id,
        "changeId": str(uuid.uuid4()), "provisioningAction": action,
        "durationInMilliseconds": max(0, int((time.perf_counter() - cycle.user_started) * 1000))
        if cycle.user_started else 0,
        "servicePrincipal": {"id": sp["id"], "displayName": sp["displayName"]},
        "sourceSystem": {"id": _SOURCE_SYSTEM_ID, "displayName": SOURCE_DIRECTORY, "details": {}},
        "targetSystem": {"id": _TARGET_SYSTEM_ID, "displayName": target_name,
                         "details": {"ApplicationId": sp["appId"], "ServicePrincipalId": sp["id"],
                                     "ServicePrincipalDisplayName": sp["displayName"]}},
        "initiatedBy": dict(cycle.initiated_by),
        "sourceIdentity": {"id": user.get("id"), "displayName": user.get("displayName"), "identityType": "User",
                           "details": {"id": user.get("id"), "odatatype": "User",
                                       "DisplayName": user.get("displayName"), "UserPrincipalName": upn}},
        "targetIdentity": {"id": (target_user or {}).get("id") or "", "displayName": (target_user or {}).get(
            "displayName") or "", "identityType": "User", "details": {}},
        "provisioningStatusInfo": {"status": status, "errorInformation": error},
        "provisioningSteps": steps,
        "modifiedProperties": [{"displayName": name, "oldValue": _text(old), "newValue": _text(new)}
                               for name, old, new in modified],
    }
    source.provisioning.append(record)
    cycle.records.append(record)


# --- job status -------------------------------------------------------------------------------------------

def _quarantine(job: SyncJob, reason: str, error: dict[str, Any]) -> None:
    """Put the job in quarantine (synchronizationQuarantine). Retries come at a reduced frequency; how much
    reduced is not documented: we double the interval per attempt, up to a day."""
    now = datetime.now(timezone.utc)
    q = job.status.get("quarantine") or {"seriesBegan": _iso(now), "seriesCount": 0, "currentBegan": _iso(now)}
    q["seriesCount"] = int(q.get("seriesCount") or 0) + 1
    q["reason"] = reason
    q["error"] = error
    delay = min(parse_interval(job.schedule.get("interval", "PT40M")) * (2 ** q["seriesCount"]), 86400.0)
    q["nextAttempt"] = _iso(now + timedelta(seconds=delay))
    job.status["quarantine"] = q
    job.status["code"] = "Quarantine"
    job.retry_delay = delay


def _execution(cycle: _Cycle | None, began: datetime, state: str, error: dict[str, Any] | None) -> dict[str, Any]:
    c = cycle.counts if cycle else dict.fromkeys(("imported", "deltas", "entitled", "exports", "exported",
                                                  "escrowed"), 0)
    return {"activityIdentifier": cycle.cycle_id if cycle else str(uuid.uuid4()), "countEntitled": c["entitled"],
            "countEntitledForProvisioning": c["entitled"], "countEscrowed": c["escrowed"],
            "countEscrowedRaw": c["escrowed"], "countExported": c["exported"], "countExports": c["exports"],
            "countImported": c["imported"], "countImportedDeltas": c["deltas"], "countImportedReferenceDeltas": 0,
            "state": state, "timeBegan": _iso(began), "timeEnded": _iso(),
            "error": error or {"code": "None", "message": "", "tenantActionable": False}}


def _finish_failed(job: SyncJob, failure: SyncFailure, began: datetime) -> None:
    error = {"code": failure.code, "message": failure.message, "tenantActionable": True}
    job.status["lastExecution"] = _execution(None, began, "Failed", error)
    job.status["countSuccessiveCompleteFailures"] = int(job.status.get("countSuccessiveCompleteFailures") or 0) + 1
    _quarantine(job, "EncounteredQuarantineException", error)
    job.cycles += 1


def _finish_cycle(cycle: _Cycle, began: datetime) -> None:
    job, status = cycle.job, cycle.job.status
    c = cycle.counts
    state = "EntryLevelErrors" if c["escrowed"] else "Succeeded"
    execution = _execution(cycle, began, state, None)
    status["lastExecution"] = execution
    status["lastSuccessfulExecution"] = execution
    if c["exported"]:
        status["lastSuccessfulExecutionWithExports"] = execution
    status["countSuccessiveCompleteFailures"] = 0
    status["troubleshootingUrl"] = ""
    quarantined = cycle.quarantined
    if c["escrowed"] and c["escrowed"] == c["exports"] and not quarantined:
        # every export failed: the escrow proportion threshold (its value is not documented; we use 100%)
        first = next((r for r in reversed(cycle.records) if r["provisioningStatusInfo"]["errorInformation"]), None)
        info = (first or {}).get("provisioningStatusInfo", {}).get("errorInformation") or {}
        _quarantine(job, "EncounteredEscrowProportionThreshold",
                    {"code": info.get("errorCode", "Unknown"), "message": info.get("reason", ""),
                     "tenantActionable": True})
    elif not quarantined and (status.get("quarantine") or {}).get("reason") != "TooManyDeletes":
        status["quarantine"] = None
        status["code"] = "Active"
    if status["code"] == "Active" and not c["escrowed"]:
        now = _iso()
        if status.get("steadyStateFirstAchievedTime") in (None, NEVER):
            status["steadyStateFirstAchievedTime"] = now
        status["steadyStateLastAchievedTime"] = now
    linked = sum(1 for t in set(job.links.values()) if t in cycle.target.users)
    status["synchronizedEntryCountByType"] = [{"key": "user to User", "value": linked}] if linked else []
    job.full_cycle = False
    job.force_deletes = False      # ForceDeletes releases what one cycle holds back, not future deletions
    job.cycles += 1


# ============================================================================ on demand

def provision_on_demand(directory: Any, source: Any, sp_id: str, job_id: str, user_id: str,
                        initiated_by: dict[str, Any]) -> dict[str, Any]:
    """Provision one user now (provisionOnDemand): the same evaluation as a cycle for that user, without the
    deletion threshold; the job's schedule and status are left alone. Returns {"records": [...]} (the
    provisioning records written, at least one), or {"failure": SyncFailure}."""
    with ENGINE_LOCK:
        with source.lock:
            job = source.enterprise_apps.jobs.get(sp_id, {}).get(job_id)
            sp = source.enterprise_apps.service_principal(sp_id)
            if job is None or sp is None:
                raise KeyError(job_id)
            company, sync_all, _ = _secrets(source, sp_id)
        failure = check_connection(directory, source, company, sp_id)
        if failure is not None:
            return {"failure": failure}
        target = directory.tenants[str(company).lower()]
        locked = _lock_pair(source, target)
        try:
            cycle = _Cycle(directory, source, target, sp, job, str(uuid.uuid4()), initiated_by,
                           user_mapping(job.schema) or {})
            _assigned(cycle, sync_all)
            pending = _evaluate_all(cycle, only=user_id)
            if pending:
                _apply_deletions(cycle, pending, None, whole_cycle=False)
            if not cycle.records:
                # nothing to change: the documented RedundantExport skip
                user = source.users.get(user_id) or {"id": user_id}
                read = _source_attributes(cycle, user)
                linked = target.users.get(job.links.get(user_id, ""))
                _record(cycle, "other", "skipped", user, linked,
                        {"Active in the source system": "True", "Assigned to the application": "True",
                         "User has the required role": "True", "Scoping filter evaluation passed": "True",
                         "ScopeEvaluationResult": "{}"}, read, [], skip_reason="RedundantExport")
            return {"records": list(cycle.records)}
        finally:
            for t in reversed(locked):
                t.lock.release()


# ============================================================================ schedule

def _due(job: SyncJob, now: float) -> bool:
    if job.schedule.get("state") != "Active":
        return False
    q = job.status.get("quarantine")
    if q and q.get("reason") == "TooManyDeletes":
        return False     # waits for an admin: start, or restart (ForceDeletes)
    return now >= job.next_run


def run_due_cycles(directory: Any, *, interval_override: float | None = None) -> list[str]:
    """Run every job whose next cycle is due. Returns their ids."""
    ran = []
    now = time.monotonic()
    for source in list(directory.tenants.values()):
        with source.lock:
            jobs = source.enterprise_apps.all_jobs()
        for sp_id, job in jobs:
            if not _due(job, now):
                continue
            run_cycle(directory, source, sp_id, job.id)
            interval = interval_override or parse_interval(job.schedule.get("interval", "PT40M"))
            if job.status.get("quarantine"):
                interval = interval_override or job.retry_delay or interval
            job.next_run = time.monotonic() + interval
            ran.append(job.id)
    return ran


class SyncScheduler:
    """A background thread that runs due cycles. ``interval`` overrides every job's schedule (``ccsync sim serve
    --sync-interval``); None keeps each job's own (PT40M)."""

    def __init__(self, directory: Any, interval: float | None = None, tick: float = 0.5):
        self.directory = directory
        self.interval = interval
        self.tick = tick if interval is None else min(tick, max(interval / 4, 0.05))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="ccsync-sim-sync", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.tick):
            try:
                run_due_cycles(self.directory, interval_override=self.interval)
            except Exception:   # a broken job must not stop the scheduler; the job's status shows the failure
                continue

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

