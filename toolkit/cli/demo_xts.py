"""The demo's Entra-sync step: configure Entra's own cross-cloud sync Contoso (commercial) -> Fabrikam Federal
(GCC High) with the group CCS-Sync-Scope, wait for its first cycle, then show the job's status and the users it
provisioned (from the source's provisioning logs, each read back from the target).

Everything goes through ``toolkit.xts`` and the demo's Graph clients, exactly as ``ccsync xts enable`` does.
"""

from __future__ import annotations

import time
from typing import Any

from .output import add_rows, cell, key_value_table, new_table

__all__ = ["step_xts", "render_xts", "DEMO_GROUP", "CYCLE_WAIT_SECONDS"]

DEMO_GROUP = "CCS-Sync-Scope"
CYCLE_WAIT_SECONDS = 60.0


def _sides(sync: Any) -> tuple[Any, Any]:
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


def _provisioned(sync: Any, source: Any, sp_id: str) -> list[dict[str, Any]]:
    records = source.read_all("/auditLogs/provisioning", step="source.logs",
                              params={"$filter": f"servicePrincipal/id eq '{sp_id}'", "$top": "100"})
    users: dict[str, dict[str, Any]] = {}
    for r in records:
        target_id = (r.get("targetIdentity") or {}).get("id")
        status = (r.get("provisioningStatusInfo") or {}).get("status")
        if target_id and status == "success":
            users[target_id] = {"action": r.get("provisioningAction"),
                                "source": (r.get("sourceIdentity") or {}).get("details", {}).get("UserPrincipalName")
                                or (r.get("sourceIdentity") or {}).get("displayName")}
    out = []
    for target_id, info in users.items():
        try:
            u = sync.target.client.get(f"/users/{target_id}",
                                       params={"$select": "id,displayName,userPrincipalName,userType,accountEnabled"})
        except Exception:  # noqa: BLE001 - a user soft-deleted since is shown without its target details
            u = {"id": target_id}
        out.append({**info, "targetId": target_id, "displayName": u.get("displayName"),
                    "userPrincipalName": u.get("userPrincipalName"), "userType": u.get("userType"),
                    "accountEnabled": u.get("accountEnabled")})
    return out


def step_xts(sync: Any) -> dict[str, Any]:
    from toolkit.xts.control import read_status
    from toolkit.xts.enable import EnableOptions, check_sides, execute_enable, plan_enable

    source, target = _sides(sync)
    pair = check_sides("enable", source, target)
    plan = plan_enable(source, target, EnableOptions(groups=[DEMO_GROUP]), pair)
    result = execute_enable(plan)
    sp_id, job_id = result.ids["servicePrincipalId"], result.ids["jobId"]
    _wait_for_cycle(source, sp_id, job_id, CYCLE_WAIT_SECONDS)
    status = read_status(source, job_id=job_id)[0]
    again = plan_enable(source, target, EnableOptions(groups=[DEMO_GROUP]), pair)
    return {"configuration": plan.name, "servicePrincipalId": sp_id, "jobId": job_id,
            "writesSent": len(result.sent), "message": result.message(),
            "manualSteps": [m.to_dict() for m in plan.manual], "status": status.to_dict(),
            "secondRunWrites": len(again.writes), "provisioned": _provisioned(sync, source, sp_id)}


def render_xts(console: Any, sync: Any, section: dict[str, Any]) -> None:
    status = section["status"]
    last = status.get("lastExecution") or {}
    console.print(key_value_table([
        ("configuration", section["configuration"]), ("job", section["jobId"]),
        ("writes sent", section["writesSent"]), ("second enable would send", f"{section['secondRunWrites']} write(s)"),
        ("job state", f"{status['state']} / {status['code']}"),
        ("last cycle", f"{last.get('state')} (exported {last.get('countExported')})" if last else "none yet"),
        ("quarantine", (status.get("quarantine") or {}).get("reason") if status["quarantined"] else "no"),
        ("diagnosis", "; ".join(d["code"] for d in status["diagnoses"]) or "healthy")],
        title="Entra cross-cloud sync (ccsync xts)"))
    if section["provisioned"]:
        console.print(add_rows(new_table("source user", "action", "target UPN", "userType", "enabled",
                                         title="Users provisioned by Entra's sync"),
                               [(cell(u["source"]), u["action"], cell(u["userPrincipalName"]), u["userType"],
                                 u["accountEnabled"]) for u in section["provisioned"]]))
