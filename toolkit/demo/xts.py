"""The demo's Entra-sync step: configure Entra's own cross-cloud sync Contoso (commercial) -> Fabrikam Federal
(GCC High) with the group CCS-Sync-Scope, run a cycle (the simulator runs it now rather than after Entra's
40-minute interval), then report the job's status and the users it provisioned (from the source's provisioning
logs, each read back from the target).

Everything goes through ``toolkit.xts`` and the demo's Graph clients, exactly as ``ccsync xts enable`` does.
"""

from __future__ import annotations

import time
from typing import Any

from .runs import SyncRun

__all__ = ["step_xts", "tenant_sides", "DEMO_GROUP", "CYCLE_WAIT_SECONDS"]

DEMO_GROUP = "CCS-Sync-Scope"
CYCLE_WAIT_SECONDS = 60.0


def tenant_sides(sync: SyncRun) -> tuple[Any, Any]:
    from toolkit.xts.calls import TenantSide

    out = []
    for role, run in (("source", sync.source), ("target", sync.target)):
        side = TenantSide.from_profile(role, run.profile, client=run.client)
        side.load_organization()
        out.append(side)
    return out[0], out[1]


def _wait_for_cycle(source: Any, sp_id: str, job_id: str, timeout: float) -> dict[str, Any]:
    """Poll the job until a cycle has run (Entra starts the first cycle soon after start)."""
    from toolkit.xts.job import job_path

    deadline = time.monotonic() + timeout
    while True:
        job = source.read(job_path(sp_id, job_id), step="source.status")
        last = ((job.get("status") or {}).get("lastExecution") or {})
        if last.get("timeEnded") not in (None, "", "0001-01-01T00:00:00Z") or time.monotonic() > deadline:
            return job
        time.sleep(1.0)


def _target_user(sync: SyncRun, **query: str) -> dict[str, Any] | None:
    select = "id,displayName,userPrincipalName,userType,accountEnabled,mail"
    if "id" in query:
        from toolkit.errors import GraphNotFound

        try:
            return sync.target.client.get(f"/users/{query['id']}", params={"$select": select})
        except GraphNotFound:
            return None  # soft-deleted since
    found = sync.target.client.get("/users", params={"$filter": f"mail eq '{query['mail']}'", "$select": select})
    return (found.get("value") or [None])[0]


def _provisioned(sync: SyncRun, source: Any, sp_id: str) -> tuple[str, list[dict[str, Any]]]:
    """(where the list comes from, users): the source's provisioning logs (successful actions of this
    configuration), or, where the logs cannot be read, the scoping group's members looked up in the target."""
    from toolkit.errors import GraphError

    rows: list[dict[str, Any]] = []
    try:
        records = source.read_all("/auditLogs/provisioning", step="source.logs",
                                  params={"$filter": f"servicePrincipal/id eq '{sp_id}'"})
    except GraphError as err:
        records = None
        origin = f"scoping group members found in the target by mail (provisioning logs unavailable: {err.status})"
    if records is not None:
        origin = "provisioning logs of the source tenant"
        seen: set[str] = set()
        for r in records:
            target_id = (r.get("targetIdentity") or {}).get("id")
            if not target_id or (r.get("provisioningStatusInfo") or {}).get("status") != "success" or target_id in seen:
                continue
            seen.add(target_id)
            u = _target_user(sync, id=target_id) or {"id": target_id}
            rows.append({"source": (r.get("sourceIdentity") or {}).get("displayName"),
                         "action": r.get("provisioningAction"), **_user_cells(u)})
        return origin, rows
    group = source.read_all("/groups", step="source.assignments",
                            params={"$filter": f"displayName eq '{DEMO_GROUP}'", "$select": "id"})
    members = source.read_all(f"/groups/{group[0]['id']}/members", step="source.assignments",
                              params={"$select": "id,userPrincipalName,mail,userType"}) if group else []
    for m in members:
        if m.get("mail") and m.get("userType", "Member") == "Member":
            u = _target_user(sync, mail=m["mail"])
            if u is not None:
                rows.append({"source": m.get("userPrincipalName"), "action": None, **_user_cells(u)})
    return origin, rows


def _user_cells(u: dict[str, Any]) -> dict[str, Any]:
    return {"targetId": u.get("id"), "displayName": u.get("displayName"),
            "userPrincipalName": u.get("userPrincipalName"),
            "userType": u.get("userType"), "accountEnabled": u.get("accountEnabled")}


def step_xts(sync: SyncRun) -> dict[str, Any]:
    from toolkit.xts.control import read_status
    from toolkit.xts.enable import EnableOptions, check_sides, execute_enable, plan_enable

    source, target = tenant_sides(sync)
    pair = check_sides("enable", source, target)
    plan = plan_enable(source, target, EnableOptions(groups=[DEMO_GROUP]), pair)
    result = execute_enable(plan)
    sp_id, job_id = result.ids["servicePrincipalId"], result.ids["jobId"]
    run_cycle = getattr(sync.sim, "run_sync_cycle", None)
    if run_cycle is not None:
        # The demo's simulated Entra runs the cycle now instead of after Entra's 40-minute interval.
        run_cycle(source.tenant_id, job_id)
    else:
        _wait_for_cycle(source, sp_id, job_id, CYCLE_WAIT_SECONDS)
    status = read_status(source, job_id=job_id)[0]
    again = plan_enable(source, target, EnableOptions(groups=[DEMO_GROUP]), pair)
    origin, provisioned = _provisioned(sync, source, sp_id)
    return {"configuration": plan.name, "servicePrincipalId": sp_id, "jobId": job_id,
            "writesSent": len(result.sent), "message": result.message(),
            "manualSteps": [m.to_dict() for m in plan.manual], "status": status.to_dict(),
            "secondRunWrites": len(again.writes), "provisionedFrom": origin, "provisioned": provisioned}
