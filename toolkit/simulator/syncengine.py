"""Entra's cross-tenant / cross-cloud synchronization engine, simulated: connection checks, provisioning cycles,
on-demand provisioning, and the scheduler that runs each active job on its interval.

What a cycle does (docs/entra-sync-simulator.md, "Sync engine", with Microsoft sources), and where each phase
lives:
- reads the job's schema (``syncschema``), its secrets (CompanyId = target tenant, SyncAll, SyncNotificationSettings)
  and the configuration's assignments (users, and DIRECT members of assigned groups) (``syncscope``);
- keeps internal members only (no guests or external users, no users with SMS sign-in), evaluates scoping filters
  (``syncscope``);
- matches target users by alternativeSecurityIds (AltSecIdFromNetId([netId])), never an internal target user
  (``syncmatch``);
- writes target users as Entra does: external members, already redeemed (userType from the mapping, creationType
  Invitation, externalUserState Accepted), with the target's audit log naming Microsoft.Azure.SyncFabric
  (``syncexport``, ``synctarget``);
- disables when the source user is disabled, soft-deletes when the user leaves scope, restores when it returns;
- holds deletions and disables back when there are more than the accidental-deletion threshold (quarantine
  TooManyDeletes, provisioningAction stageddelete) until restart with ForceDeletes (``syncdeletes``);
- appends one provisioningObjectSummary per action to the SOURCE tenant's ``provisioning`` list (``synclog``);
- sets the job's status: last execution, steady state, quarantine (``syncstatus``).

Cross-cloud pairs fail with the documented errors until both tenants are configured (``syncconnection``).
This module owns the cycle's walk over the users, the locks, on-demand provisioning and the schedule. Neither it
nor its phase modules may import ``toolkit.plan`` (see ``syncschema``).
"""

from __future__ import annotations

import threading
import time
import uuid
from datetime import datetime, timezone
from typing import Any

from .enterprise_apps import SyncJob, notification_settings
from .syncconnection import SyncFailure, check_connection
from .synccycle import Cycle
from .syncdeletes import DEFAULT_DELETE_THRESHOLD, apply_deletions, delete_threshold
from .syncexport import flow_types, provision
from .synclog import PROVISIONING_SERVICE, record
from .syncmatch import find_match, matching_value
from .syncschema import user_mapping
from .syncscope import load_assignments, scope_of, source_attributes
from .syncstatus import finish_cycle, finish_failed, parse_interval
from .synctarget import SYNC_FABRIC

__all__ = ["SyncFailure", "check_connection", "run_cycle", "run_due_cycles", "provision_on_demand", "SyncScheduler",
           "parse_interval", "DEFAULT_DELETE_THRESHOLD", "SYNC_FABRIC", "delete_threshold"]

# The engine's single lock: a cycle touches two tenants; it takes this, then both tenant locks in id order.
# Request handlers that call the engine must not hold a tenant lock while they do.
ENGINE_LOCK = threading.RLock()


# ============================================================================ cycle


def _lock_pair(a: Any, b: Any) -> list[Any]:
    tenants = sorted({id(a): a, id(b): b}.values(), key=lambda t: t.tenant_id)
    for t in tenants:
        t.lock.acquire()
    return tenants


def _secrets(source: Any, sp_id: str) -> tuple[str | None, bool, dict[str, Any]]:
    apps = source.enterprise_apps
    sync_all = str(apps.secret(sp_id, "SyncAll") or "false").lower() == "true"
    return apps.secret(sp_id, "CompanyId"), sync_all, notification_settings(apps.secret(sp_id, "SyncNotificationSettings"))


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
                finish_failed(job, failure, began)
                return job.view()
        target = directory.tenants[str(company).lower()]
        locked = _lock_pair(source, target)
        try:
            mapping = user_mapping(job.schema)
            cycle = Cycle(directory, source, target, sp, job, str(uuid.uuid4()),
                           initiated_by or dict(PROVISIONING_SERVICE), mapping or {})
            if mapping is not None:
                load_assignments(cycle, sync_all)
                deletions = _evaluate_all(cycle)
                apply_deletions(cycle, deletions, delete_threshold(settings))
            finish_cycle(cycle, began)
            return job.view()
        finally:
            for t in reversed(locked):
                t.lock.release()


def _evaluate_all(cycle: Cycle, only: str | None = None) -> list[tuple[str, dict[str, Any], str]]:
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
        read, assigned, in_scope, scoping = scope_of(cycle, uid, user, deleted_source)
        key = matching_value(cycle, read)
        match, match_deleted = find_match(cycle, key, uid)
        if in_scope:
            cycle.counts["entitled"] += 1
            provision(cycle, user, read, key, match, match_deleted, scoping)
        elif match is not None and not match_deleted and uid in cycle.job.links:
            # Out of scope: soft delete, not disable (overview FAQ "Deprovisioning"). A user who was disabled,
            # provisioned and then removed from scope is not soft-deleted (same FAQ).
            if match.get("accountEnabled") is False and user.get("accountEnabled") is False and not deleted_source:
                continue
            if "Delete" not in flow_types(cycle):
                continue
            pending.append((uid, match, "delete", ))
            cycle.job.staged_deletes.setdefault(uid, "delete")
            cycle.remember(uid, user, scoping, read)
        elif not in_scope and (only or (assigned and cycle.job.full_cycle)) and uid not in cycle.job.links:
            # skipped events: users assigned but out of scope, on full cycles and on demand
            reason = "NotEffectivelyEntitled"
            record(cycle, "other", "skipped", user, None, scoping, read, [], skip_reason=reason)
    # disables found during provisioning are queued too (they count toward the threshold)
    pending += cycle.disables
    cycle.disables = []
    return pending


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
            cycle = Cycle(directory, source, target, sp, job, str(uuid.uuid4()), initiated_by,
                           user_mapping(job.schema) or {})
            load_assignments(cycle, sync_all)
            pending = _evaluate_all(cycle, only=user_id)
            if pending:
                apply_deletions(cycle, pending, None, whole_cycle=False)
            if not cycle.records:
                # nothing to change: the documented RedundantExport skip
                user = source.users.get(user_id) or {"id": user_id}
                read = source_attributes(cycle, user)
                linked = target.users.get(job.links.get(user_id, ""))
                record(cycle, "other", "skipped", user, linked,
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
