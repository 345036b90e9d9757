"""Carry out an entra-engine plan through Entra's own sync job: stale check, scope changes, run, verify.

1. **Stale check** (nothing is written when it fails): the plan's integrity (``load_plan``); the profile reaches
   the plan's source tenant in the plan's source cloud; the job's schema has the plan's SHA-256; its scope and
   behaviour settings (assigned groups and users, ``SyncAll``, the deletion threshold) are the ones the plan was
   computed from (on ``resume``: the ones before or after the plan's scope changes, or a mix of them).
2. **Scope changes** the admin approved in the plan (``scopeChanges``), in order, journaled in SQLite next to the
   plan exactly as ``ccsync apply`` journals target writes: ``sent`` is on disk before a request leaves; a change
   whose outcome is unknown after a crash is sent again, which is safe because each is idempotent in Graph's
   answers (adding what exists answers 400 "already exist(s)", removing what is gone answers 404; both count as
   done). Paced by the Graph client's write pacer. As with the direct engine, a journal an earlier run left
   unfinished (a change sent or failed, or the job not yet started) is continued only with ``resume``.
3. **Run**: start the job (``POST .../start``), or provision the planned users on demand (5 requests per 10 s).
4. **Wait** for a cycle that ended after the run began (``status.lastExecution.timeEnded``, other than the one
   that had ended when it began), up to a timeout.
5. **Verify** (``toolkit.apply.entra_verify``): planned vs. observed per user, from the job's provisioning logs
   since the run began and, when a target side is given, the target users.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from ..errors import GraphBadRequest, GraphConflict, GraphNotFound, InputError
from ..plan.entra_job import read_job
from ..plan.entra_schema import schema_digest
from ..plan.planfile import canonical_digest
from .entra_verify import verify_cycle
from .journal import Journal

__all__ = ["EntraApplyResult", "apply_entra_plan", "check_stale", "verify_entra_plan", "scope_change_call"]


@dataclass
class EntraApplyResult:
    scope_changes: pd.DataFrame                 # changeId, action, groupName, userPrincipalName, state, message
    run: str                                    # start | on-demand | none
    on_demand: list[dict] = field(default_factory=list)
    started_at: str | None = None
    cycle_ended: str | None = None              # lastExecution.timeEnded of the cycle waited for
    verification: pd.DataFrame | None = None    # VERIFY_COLUMNS
    notes: list[str] = field(default_factory=list)

    @property
    def mismatches(self) -> int:
        return 0 if self.verification is None else int((~self.verification["match"]).sum())

    @property
    def failed_changes(self) -> int:
        return int((self.scope_changes["state"] == "failed").sum()) if len(self.scope_changes) else 0

    def to_dict(self) -> dict[str, Any]:
        ver = None if self.verification is None else self.verification.to_dict("records")
        return {"run": self.run, "startedAt": self.started_at, "cycleEnded": self.cycle_ended,
                # NaN (no user on a group assignment) is not JSON: None instead.
                "scopeChanges": self.scope_changes.astype(object).where(self.scope_changes.notna(), None)
                .to_dict("records"), "onDemand": self.on_demand,
                "users": [{"sourceId": r["sourceId"], "sourceUpn": r["sourceUpn"], "planned": r["planned"],
                           "observed": r["observed"], "match": r["match"], "detail": r["detail"]}
                          for r in (ver or [])],
                "mismatches": self.mismatches, "failedScopeChanges": self.failed_changes, "notes": self.notes}


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def check_stale(plan: Any, side: Any, *, resuming: bool = False) -> Any:
    """Refuse a plan the job no longer matches; returns the job as read (JobSnapshot)."""
    header = plan.header
    if header.get("engine") != "entra":
        raise InputError("this is not an entra-engine plan", hint="Apply it with 'ccsync apply PLAN --profile "
                                                                  "TARGET' (the direct engine).")
    source = header["source"]
    if side.cloud != source["cloud"]:
        raise InputError(f"the profile is in the {side.cloud} cloud; the plan's source tenant is in "
                         f"{source['cloud']}", hint="Use the source tenant's profile (--profile).")
    if source.get("tenantId") and str(side.tenant_id).lower() != str(source["tenantId"]).lower():
        raise InputError(f"the profile reaches tenant {side.tenant_id}; the plan's source is {source['tenantId']}",
                         hint="Use the source tenant's profile (--profile).")
    snap = read_job(side, job_id=header["job"]["id"], read_logs=False)
    if schema_digest(snap.schema) != header["schema"]["sha256"]:
        raise InputError("the job's schema changed since the plan was made (stale plan)",
                         hint="Make a new plan with 'ccsync plan --job ...'.")
    now = snap.job
    before, after = header.get("jobBefore") or header["job"], header["job"]
    same_settings = (now.sync_all == before["syncAll"] and now.deletion_threshold == before["deletionThreshold"])
    if not same_settings:
        raise InputError("the job's scope settings (SyncAll or the deletion threshold) changed since the plan was "
                         "made (stale plan)", hint="Make a new plan with 'ccsync plan --job ...'.")
    groups_now = {g.lower() for g in now.assigned_groups}
    if resuming:
        allowed = {g.lower() for g in before["assignedGroups"]} | {g.lower() for g in after["assignedGroups"]}
        fresh = groups_now <= allowed
    else:
        fresh = now.scope_digest() == before["scopeSha256"]
    if not fresh:
        raise InputError("the job's assigned groups or users changed since the plan was made (stale plan)",
                         hint="Make a new plan with 'ccsync plan --job ... --scope ...'.")
    return snap


def scope_change_call(side: Any, change: dict, *, sp: dict, assignments: list[dict]) -> Any:
    """The Graph call of one scope change (an xts Call), or None when there is nothing left to do."""
    from toolkit.xts.app import msiam_role_id
    from toolkit.xts.calls import Call

    action, group, user = change["action"], change["groupId"], change.get("userId")
    if action == "assignGroup":
        return Call(side.role, "source.assignments", "POST", f"/servicePrincipals/{sp['id']}/appRoleAssignedTo",
                    {"appRoleId": msiam_role_id(sp), "resourceId": sp["id"], "principalId": group},
                    f"assign group {change.get('groupName')} to the configuration",
                    permission="AppRoleAssignment.ReadWrite.All")
    if action == "unassignGroup":
        found = [a for a in assignments if a.get("principalId") == group]
        if not found:
            return None
        return Call(side.role, "source.assignments", "DELETE",
                    f"/servicePrincipals/{sp['id']}/appRoleAssignedTo/{found[0]['id']}", None,
                    f"unassign group {change.get('groupName')}", permission="AppRoleAssignment.ReadWrite.All")
    graph = getattr(side.client, "base_url", "https://graph.microsoft.com").rstrip("/")
    if action == "addMember":
        return Call(side.role, "source.members", "POST", f"/groups/{group}/members/$ref",
                    {"@odata.id": f"{graph}/v1.0/directoryObjects/{user}"},
                    f"add {change.get('userPrincipalName')} to {change.get('groupName')}",
                    permission="GroupMember.ReadWrite.All")
    if action == "removeMember":
        return Call(side.role, "source.members", "DELETE", f"/groups/{group}/members/{user}/$ref", None,
                    f"remove {change.get('userPrincipalName')} from {change.get('groupName')}",
                    permission="GroupMember.ReadWrite.All")
    raise InputError(f"unknown scope change {action!r} in the plan", hint="Make a new plan.")


def _already(err: Exception, action: str) -> bool:
    """Graph's answer that the change is already in place (so a resend after a crash is done, not failed)."""
    if action in ("assignGroup", "addMember"):
        text = f"{getattr(err, 'graph_message', '')} {err}".lower()
        return isinstance(err, (GraphBadRequest, GraphConflict)) and ("already exist" in text)
    return isinstance(err, GraphNotFound)


def _unfinished(journal: Journal) -> bool:
    """An earlier run stopped before starting the job: a scope change sent or failed, or no run recorded."""
    if "runStartedAt" not in journal.meta():
        return True
    return any(e.state == "failed" or (e.state in ("pending", "sent") and e.attempts > 0)
               for e in journal.entries().values())


def _apply_scope_changes(plan: Any, side: Any, journal: Journal, snap: Any) -> pd.DataFrame:
    from toolkit.xts.app import read_assignments
    from toolkit.xts.control import locate_one

    changes = plan.header.get("scopeChanges") or []
    journal.add_operations([(c["changeId"], c["action"]) for c in changes])
    entries = journal.entries()
    target = locate_one(side, job_id=plan.header["job"]["id"])
    assignments = read_assignments(side, target.sp_id) if any(
        c["action"] == "unassignGroup" for c in changes) else []
    for c in changes:
        entry = entries.get(c["changeId"])
        if entry is not None and entry.state in ("done", "skipped"):
            continue
        call = scope_change_call(side, c, sp=target.service_principal, assignments=assignments)
        if call is None:
            journal.update([{"op_id": c["changeId"], "state": "done", "message": "already in place"}])
            continue
        journal.mark_sent([(c["changeId"], "main")])
        try:
            side.send(call)
            journal.update([{"op_id": c["changeId"], "state": "done", "http_status": call.status}])
        except Exception as err:             # noqa: BLE001 - every Graph answer is journaled, then re-raised if odd
            if _already(err, c["action"]):
                journal.update([{"op_id": c["changeId"], "state": "done", "message": "already in place",
                                 "http_status": getattr(err, "status", None)}])
                continue
            status = getattr(err, "status", None)
            if status is None:
                raise                        # transport failure: stays 'sent', resend on --resume
            journal.update([{"op_id": c["changeId"], "state": "failed", "http_status": status,
                             "error_code": getattr(err, "code", None), "message": str(err)}])
    done = journal.entries()
    rows = [{"changeId": c["changeId"], "action": c["action"], "groupName": c.get("groupName"),
             "userPrincipalName": c.get("userPrincipalName"), "state": done[c["changeId"]].state,
             "message": done[c["changeId"]].message} for c in changes]
    return pd.DataFrame(rows, columns=["changeId", "action", "groupName", "userPrincipalName", "state", "message"])


def apply_entra_plan(plan: Any, side: Any, *, journal_path: str | Path, resume: bool = False,
                     on_demand: bool = False, wait: bool = True, timeout_s: float = 3600.0, poll_s: float = 30.0,
                     target_side: Any = None, sleep: Callable[[float], None] = time.sleep,
                     clock: Callable[[], str] = _now) -> EntraApplyResult:
    """Steps 1-5 of the module docstring; ``side`` is the source tenant's ``toolkit.xts`` TenantSide."""
    from toolkit.xts.control import locate_one
    from toolkit.xts.job import control_call, provision_on_demand

    digest = canonical_digest(plan.to_document())
    with Journal(journal_path, digest, target_tenant=side.tenant_id) as journal:
        resuming = "staleCheckedAt" in journal.meta()
        if resuming and not resume and _unfinished(journal):
            # As the direct engine (executor.py): an interrupted run is continued only when the admin asks.
            raise InputError("an earlier apply of this plan was interrupted (scope changes unfinished or failed, "
                             "or the job not yet started)", source=str(journal.path),
                             hint="Continue it with --resume (ccsync checks the job again and resends only the "
                                  "scope changes not known to be done).")
        snap = check_stale(plan, side, resuming=resuming)
        if not resuming:
            journal.set_meta("staleCheckedAt", clock())
        changes = _apply_scope_changes(plan, side, journal, snap)
        result = EntraApplyResult(scope_changes=changes, run="none")
        if result.failed_changes:
            result.notes.append(f"{result.failed_changes} scope change(s) failed: the job was not started; fix "
                                "them and run again with --resume")
            return result
        target = locate_one(side, job_id=plan.header["job"]["id"])
        started = journal.meta().get("runStartedAt")
        if started is None:
            if not on_demand:
                # The cycle that ended before this run: the wait below needs a different one.
                journal.set_meta("cycleEndedBefore", _last_ended(side, target) or "")
            started = clock()
            journal.set_meta("runStartedAt", started)
            if on_demand:
                users = [s for s, k in zip(plan.ops["sourceId"], plan.ops["kind"])
                         if k in ("create", "update", "disable", "delete") and s]
                result.on_demand = [r.to_dict() for r in provision_on_demand(side, target.sp_id, target.job_id,
                                                                             users)]
                result.run = "on-demand"
            else:
                side.send(control_call(side, target.sp_id, target.job_id, "start"))
                result.run = "start"
        result.started_at = started
        if not wait:
            result.notes.append("not waiting for the cycle: follow it with 'ccsync xts status', then verify with "
                                "'ccsync apply PLAN --profile SOURCE --verify-only'")
            return result
        if not on_demand:
            waited = 0.0
            before = journal.meta().get("cycleEndedBefore")
            while True:
                ended = _last_ended(side, target)
                # A cycle that ended after the start: compared to the second (the start is recorded to the second,
                # Graph's timeEnded has a fraction, and a cycle often ends in the same second as the start), and
                # not the cycle that had already ended when the run began.
                if ended and str(ended)[:19] >= started[:19] and str(ended) != before:
                    result.cycle_ended = str(ended)
                    break
                if waited >= timeout_s:
                    result.notes.append(f"no cycle ended within {int(timeout_s)} s; verified what the logs show "
                                        "so far")
                    break
                sleep(poll_s)
                waited += poll_s
        result.verification = verify_entra_plan(plan, side, since=started, target_side=target_side,
                                                sp_id=target.sp_id)
        return result


def _last_ended(side: Any, target: Any) -> str | None:
    """The job's ``status.lastExecution.timeEnded`` (None before its first cycle)."""
    from toolkit.xts.job import job_path

    job = side.read(job_path(target.sp_id, target.job_id), step="source.status", permission="Synchronization.Read.All")
    return (((job or {}).get("status") or {}).get("lastExecution") or {}).get("timeEnded")


def verify_entra_plan(plan: Any, side: Any, *, since: str, sp_id: str, target_side: Any = None) -> pd.DataFrame:
    """Planned vs. observed from the job's provisioning logs since ``since`` (and the target users, if given)."""
    # Graph documents eq/gt/lt for activityDateTime: "gt" one second before the run began, so a record stamped
    # in the same second as the start (second precision) is not lost.
    after = (dt.datetime.strptime(since, "%Y-%m-%dT%H:%M:%SZ") - dt.timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    records = side.read_all("/auditLogs/provisioning", step="source.provisioningLogs", permission="AuditLog.Read.All",
                            params={"$filter": f"servicePrincipal/id eq '{sp_id}' and activityDateTime gt {after}"})
    target_users = None
    if target_side is not None:
        ids = set(plan.ops["targetId"].dropna()) | {((r.get("targetIdentity") or {}).get("id")) for r in records}
        rows = []
        for tid in sorted(i for i in ids if i):
            user = target_side.read_or_none(f"/users/{tid}", step="target.verify", permission="User.Read.All")
            if user:
                rows.append(user)
        target_users = pd.DataFrame(rows) if rows else pd.DataFrame(columns=["id"])
    return verify_cycle(plan, records, target_users)
