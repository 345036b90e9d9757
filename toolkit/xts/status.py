"""A sync job's status, read as an admin needs it: state, last run, quarantine, and a diagnosis with the fix.

Input is the documented ``synchronizationJob`` shape (synchronization-synchronizationjob.md, -status.md,
-quarantine.md, -taskexecution.md; graph-facts 2.3). Diagnoses cover the documented failure codes (graph-facts
1.4 and 10): ``ExternalTenantNotFound``, ``AzureActiveDirectoryTokenExpired``,
``AzureActiveDirectoryCrossTenantSyncPolicyCheckFailure`` (and its older name), the ``TooManyDeletes``
quarantine and the escrow thresholds. Entra's docs renamed "Azure Active Directory" to "Microsoft Entra ID" in
prose, so codes are matched on both spellings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Diagnosis", "JobStatus", "diagnose", "job_status", "status_frame", "STATUS_COLUMNS", "CODE_FIXES",
           "normalize_code"]

_NULL_TIME = "0001-01-01T00:00:00Z"


@dataclass(frozen=True)
class Diagnosis:
    code: str
    severity: str          # error, warning, info
    message: str
    fix: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "severity": self.severity, "message": self.message, "fix": self.fix}


def normalize_code(code: str | None) -> str:
    return (code or "").replace("Microsoft Entra ID", "AzureActiveDirectory").replace(" ", "")


CODE_FIXES: dict[str, tuple[str, str]] = {
    "ExternalTenantNotFound": (
        "The target tenant was not found by this cloud's authentication authority: the configuration was not "
        "created as a cross-cloud configuration.",
        "In the source portal, delete the configuration and create it again with 'Setup cross-tenant "
        "synchronization across Microsoft clouds' ticked; then run 'ccsync xts enable' again."),
    "AzureActiveDirectoryTokenExpired": (
        "The identity of the calling application could not be established: the target tenant has not ticked "
        "'Cross-cloud synchronization' for the source's cloud.",
        "In the target tenant's portal: External Identities > Cross-tenant access settings > Microsoft cloud "
        "settings: tick 'Cross-cloud synchronization' next to the source cloud; then 'ccsync xts restart'."),
    "AzureActiveDirectoryCrossTenantSyncPolicyCheckFailure": (
        "The cross-tenant access policies do not allow the sync: the target has not allowed inbound user "
        "synchronization for this tenant, or automatic redemption is not enabled on both sides.",
        "Run 'ccsync xts enable --source ... --target ...' (it sets inbound sync and automatic redemption in the "
        "target and outbound redemption in the source), then 'ccsync xts restart'."),
    "AzureDirectoryB2BManagementPolicyCheckFailure": (
        "Automatic redemption is not configured (source outbound and/or target inbound).",
        "Run 'ccsync xts enable ...' to enable automatic redemption on both sides, then 'ccsync xts restart'."),
}

_QUARANTINE_FIXES: dict[str, tuple[str, str]] = {
    "TooManyDeletes": (
        "The accidental-deletion threshold was exceeded: the deletions and disables of this cycle are held back "
        "(provisioning logs show them as StagedDelete).",
        "If the deletions are intended: 'ccsync xts restart --force-deletes'. If not: fix the scope (group "
        "membership, assignments) and run 'ccsync xts restart'."),
    "EncounteredBaseEscrowThreshold": (
        "Too many entries failed to provision (escrow threshold).",
        "Look at the provisioning logs' error codes, fix the cause, then 'ccsync xts restart' (clears escrows)."),
    "EncounteredTotalEscrowThreshold": (
        "Too many entries failed to provision in total (escrow threshold).",
        "Look at the provisioning logs' error codes, fix the cause, then 'ccsync xts restart' (clears escrows)."),
    "EncounteredEscrowProportionThreshold": (
        "Too large a share of the entries failed to provision (escrow proportion threshold).",
        "Look at the provisioning logs' error codes, fix the cause, then 'ccsync xts restart' (clears escrows)."),
    "QuarantinedOnDemand": ("The job was put in quarantine on request.", "Run 'ccsync xts restart' to lift it."),
    "IngestionInterrupted": ("Ingestion was interrupted.", "Run 'ccsync xts restart'."),
}


def _code_diagnosis(code: str | None, message: str | None, where: str) -> Diagnosis | None:
    norm = normalize_code(code)
    if not norm or norm == "None":
        return None
    for known, (meaning, fix) in CODE_FIXES.items():
        if norm.endswith(known) or norm == known:
            detail = meaning
            if known == "AzureActiveDirectoryCrossTenantSyncPolicyCheckFailure" and message:
                lowered = message.lower()
                if "inbound synchronization" in lowered:
                    detail = "The target tenant has not enabled inbound synchronization with this tenant " \
                             "(the job's target side is not configured)."
                elif "automatic user consent" in lowered:
                    detail = "The source tenant has not enabled automatic user consent (outbound automatic " \
                             "redemption) with the target tenant."
            return Diagnosis(known, "error", f"{where}: {detail}" + (f" ({message})" if message else ""), fix)
    return Diagnosis(code or "", "error", f"{where}: {code}: {message or ''}".rstrip(": "),
                     "See the provisioning logs and Microsoft's troubleshooting page (troubleshootingUrl).")


def diagnose(job: dict[str, Any]) -> list[Diagnosis]:
    """What is wrong with a job (documented codes first), each with its fix; [] for a healthy job."""
    status = job.get("status") or {}
    schedule = job.get("schedule") or {}
    out: list[Diagnosis] = []
    quarantine = status.get("quarantine")
    if status.get("code") == "Quarantine" or (quarantine and (quarantine.get("reason") or quarantine.get("error"))):
        quarantine = quarantine or {}
        reason = quarantine.get("reason") or "Unknown"
        err = quarantine.get("error") or {}
        by_code = _code_diagnosis(err.get("code"), err.get("message"), f"in quarantine ({reason})")
        if reason in _QUARANTINE_FIXES:
            meaning, fix = _QUARANTINE_FIXES[reason]
            out.append(Diagnosis(reason, "error", f"in quarantine since {quarantine.get('currentBegan') or '?'}: "
                                                  f"{meaning}", fix))
        if by_code:
            out.append(by_code)
        if not out:
            out.append(Diagnosis(reason, "error", f"in quarantine ({reason}); the service retries at a reduced "
                                                  "frequency.", "See the provisioning logs, fix, then 'ccsync xts restart'."))
    last = status.get("lastExecution") or {}
    if last.get("state") == "Failed":
        err = last.get("error") or {}
        diag = _code_diagnosis(err.get("code"), err.get("message"), "the last cycle failed")
        if diag and diag.code not in {d.code for d in out}:
            out.append(diag)
        elif not diag and not out and last.get("timeBegan") not in (None, _NULL_TIME):
            out.append(Diagnosis("Failed", "error", "the last cycle failed without an error code.",
                                 "See the provisioning logs; then 'ccsync xts restart'."))
    elif last.get("state") == "EntryLevelErrors":
        out.append(Diagnosis("EntryLevelErrors", "warning",
                             f"the last cycle had errors for {last.get('countEscrowed') or 0} entries.",
                             "See each entry's error code in the provisioning logs (GET /auditLogs/provisioning, or the "
                             "portal's Provisioning logs)."))
    if schedule.get("state") == "Disabled" or status.get("code") == "NotConfigured":
        out.append(Diagnosis("NotStarted", "warning", "the job is not started (schedule Disabled).",
                             "Run 'ccsync xts start' (or 'ccsync xts enable' to finish the setup)."))
    elif schedule.get("state") == "Paused" or status.get("code") == "Paused":
        out.append(Diagnosis("Paused", "info", "the job is paused.", "Run 'ccsync xts start' to resume it."))
    return out


@dataclass
class JobStatus:
    """A plain summary of a job's status (the CLI's table, the cmdlet's object)."""

    service_principal_id: str
    configuration: str | None
    job_id: str
    template_id: str | None
    state: str | None                  # schedule.state
    interval: str | None
    code: str | None                   # status.code
    last_execution: dict[str, Any] | None
    last_successful: str | None
    steady_state_last: str | None
    quarantine: dict[str, Any] | None
    entry_counts: dict[str, int]
    diagnoses: list[Diagnosis] = field(default_factory=list)

    @property
    def quarantined(self) -> bool:
        return self.code == "Quarantine" or bool(self.quarantine and (self.quarantine.get("reason")
                                                                       or self.quarantine.get("error")))

    @property
    def failing(self) -> bool:
        """Quarantined, or the last cycle failed: ``ccsync xts status`` exits 1."""
        return self.quarantined or any(d.severity == "error" for d in self.diagnoses)

    def to_dict(self) -> dict[str, Any]:
        return {"servicePrincipalId": self.service_principal_id, "configuration": self.configuration,
                "jobId": self.job_id, "templateId": self.template_id, "state": self.state,
                "interval": self.interval, "code": self.code, "lastExecution": self.last_execution,
                "lastSuccessfulExecution": self.last_successful, "steadyStateLastAchievedTime": self.steady_state_last,
                "quarantine": self.quarantine, "synchronizedEntryCountByType": self.entry_counts,
                "quarantined": self.quarantined, "failing": self.failing,
                "diagnoses": [d.to_dict() for d in self.diagnoses]}


def _time(value: Any) -> str | None:
    return None if value in (None, "", _NULL_TIME) else str(value)


def job_status(job: dict[str, Any], *, service_principal_id: str = "", configuration: str | None = None) -> JobStatus:
    """Summarise a synchronizationJob payload and diagnose it."""
    status = job.get("status") or {}
    schedule = job.get("schedule") or {}
    last = status.get("lastExecution")
    last_summary = None
    if last:
        last_summary = {k: last.get(k) for k in ("state", "timeBegan", "timeEnded", "countImported", "countExported",
                                                 "countEscrowed", "countEntitled")}
        last_summary["timeBegan"], last_summary["timeEnded"] = _time(last.get("timeBegan")), _time(last.get("timeEnded"))
        if (last.get("error") or {}).get("code") not in (None, "", "None"):
            last_summary["error"] = last.get("error")
    successful = (status.get("lastSuccessfulExecution") or {}).get("timeEnded")
    counts = {p.get("key"): int(p.get("value") or 0) for p in status.get("synchronizedEntryCountByType") or []}
    return JobStatus(service_principal_id, configuration, job.get("id") or "", job.get("templateId"),
                     schedule.get("state"), schedule.get("interval"), status.get("code"), last_summary,
                     _time(successful), _time(status.get("steadyStateLastAchievedTime")), status.get("quarantine"),
                     counts, diagnose(job))


STATUS_COLUMNS = ["configuration", "servicePrincipalId", "jobId", "state", "code", "lastExecutionState",
                  "lastExecutionEnded", "quarantineReason", "usersSynchronized", "failing"]


def status_frame(statuses: list[JobStatus]) -> Any:
    """One row per job (``STATUS_COLUMNS``)."""
    import pandas as pd

    rows = [{"configuration": s.configuration, "servicePrincipalId": s.service_principal_id, "jobId": s.job_id,
             "state": s.state, "code": s.code, "lastExecutionState": (s.last_execution or {}).get("state"),
             "lastExecutionEnded": (s.last_execution or {}).get("timeEnded"),
             "quarantineReason": (s.quarantine or {}).get("reason"),
             "usersSynchronized": sum(v for k, v in s.entry_counts.items() if "user" in (k or "").lower()),
             "failing": s.failing} for s in statuses]
    return pd.DataFrame(rows, columns=STATUS_COLUMNS)
