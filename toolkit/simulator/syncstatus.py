"""A simulated sync job's status after each cycle: the last execution and its counts, steady state,
consecutive failures, and quarantine (connection failures, the escrow proportion, TooManyDeletes) with its
reduced retry frequency (synchronizationStatus, synchronizationQuarantine; docs/entra-sync-simulator.md).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from .enterprise_apps import NEVER, SyncJob
from .syncconnection import SyncFailure
from .synccycle import Cycle, iso

__all__ = ["parse_interval", "quarantine", "finish_failed", "finish_cycle"]


def parse_interval(text: str) -> float:
    """Seconds of an ISO-8601 duration such as PT40M, PT5S, P1DT2H."""
    import re
    m = re.fullmatch(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?", text or "")
    if not m:
        return 40 * 60.0
    d, h, mi, s = m.groups()
    return int(d or 0) * 86400 + int(h or 0) * 3600 + int(mi or 0) * 60 + float(s or 0)


def quarantine(job: SyncJob, reason: str, error: dict[str, Any]) -> None:
    """Put the job in quarantine (synchronizationQuarantine). Retries come at a reduced frequency; how much
    reduced is not documented: we double the interval per attempt, up to a day."""
    now = datetime.now(timezone.utc)
    q = job.status.get("quarantine") or {"seriesBegan": iso(now), "seriesCount": 0, "currentBegan": iso(now)}
    q["seriesCount"] = int(q.get("seriesCount") or 0) + 1
    q["reason"] = reason
    q["error"] = error
    delay = min(parse_interval(job.schedule.get("interval", "PT40M")) * (2 ** q["seriesCount"]), 86400.0)
    q["nextAttempt"] = iso(now + timedelta(seconds=delay))
    job.status["quarantine"] = q
    job.status["code"] = "Quarantine"
    job.retry_delay = delay


def _execution(cycle: Cycle | None, began: datetime, state: str, error: dict[str, Any] | None) -> dict[str, Any]:
    c = cycle.counts if cycle else dict.fromkeys(("imported", "deltas", "entitled", "exports", "exported",
                                                  "escrowed"), 0)
    return {"activityIdentifier": cycle.cycle_id if cycle else str(uuid.uuid4()), "countEntitled": c["entitled"],
            "countEntitledForProvisioning": c["entitled"], "countEscrowed": c["escrowed"],
            "countEscrowedRaw": c["escrowed"], "countExported": c["exported"], "countExports": c["exports"],
            "countImported": c["imported"], "countImportedDeltas": c["deltas"], "countImportedReferenceDeltas": 0,
            "state": state, "timeBegan": iso(began), "timeEnded": iso(),
            "error": error or {"code": "None", "message": "", "tenantActionable": False}}


def finish_failed(job: SyncJob, failure: SyncFailure, began: datetime) -> None:
    error = {"code": failure.code, "message": failure.message, "tenantActionable": True}
    job.status["lastExecution"] = _execution(None, began, "Failed", error)
    job.status["countSuccessiveCompleteFailures"] = int(job.status.get("countSuccessiveCompleteFailures") or 0) + 1
    quarantine(job, "EncounteredQuarantineException", error)
    job.cycles += 1


def finish_cycle(cycle: Cycle, began: datetime) -> None:
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
        quarantine(job, "EncounteredEscrowProportionThreshold",
                    {"code": info.get("errorCode", "Unknown"), "message": info.get("reason", ""),
                     "tenantActionable": True})
    elif not quarantined and (status.get("quarantine") or {}).get("reason") != "TooManyDeletes":
        status["quarantine"] = None
        status["code"] = "Active"
    if status["code"] == "Active" and not c["escrowed"]:
        now = iso()
        if status.get("steadyStateFirstAchievedTime") in (None, NEVER):
            status["steadyStateFirstAchievedTime"] = now
        status["steadyStateLastAchievedTime"] = now
    linked = sum(1 for t in set(job.links.values()) if t in cycle.target.users)
    status["synchronizedEntryCountByType"] = [{"key": "user to User", "value": linked}] if linked else []
    job.full_cycle = False
    job.force_deletes = False      # ForceDeletes releases what one cycle holds back, not future deletions
    job.cycles += 1
