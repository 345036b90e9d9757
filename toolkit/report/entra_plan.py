"""The entra-engine workbooks: the plan (``reports/plan-entra.toml``) and the results of applying it through the job
(``reports/apply-entra.toml``: planned vs. observed)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import pandas as pd

from .definitions import ReportDefinition, load_definition
from .workbook import build_workbook

__all__ = ["write_entra_plan_workbook", "write_entra_results_workbook", "ENTRA_PLAN_KINDS"]

ENTRA_PLAN_KINDS: dict[str, tuple[str, str]] = {
    "create": ("Create", "In scope with no target user: Entra's job creates an external member (already "
                         "redeemed) and writes the mapped attributes."),
    "update": ("Update", "Linked to a target user whose mapped attributes differ: the job writes the changed "
                         "ones."),
    "disable": ("Disable", "The source account is disabled: the job sets accountEnabled false in the target."),
    "delete": ("Soft delete", "Linked, and the source user left scope or was deleted: the job soft-deletes the "
                              "target user (restorable for 30 days)."),
    "skip": ("Skip", "Entra skips the user: out of the scoping filter, an external source user, a disabled user "
                     "not yet provisioned, or an action the schema switches off."),
    "fail": ("Fail", "Entra will fail this user, for the reason shown (unverified mail domain, duplicate mail, an "
                     "internal or pending target user in the way, a value too long)."),
    "unknown": ("Cannot predict", "ccsync does not evaluate a construct that decides this user's outcome (the "
                                  "reason names it): check it with 'ccsync xts provision' (on demand)."),
}


def write_entra_plan_workbook(path: str | os.PathLike[str], plan: Any, *, schema_frame: pd.DataFrame,
                              plan_file: str | None = None, generated_at: dt.datetime | None = None,
                              definition: ReportDefinition | str | os.PathLike[str] = "plan-entra") -> Path:
    """Write the workbook: Summary, a sheet per outcome, licence gaps, scope changes, attribute changes, the
    schema's mappings as the portal shows them, and the legend."""
    d = definition if isinstance(definition, ReportDefinition) else load_definition(definition)
    ops = plan.to_frame()
    for extra in ("cannotPredict", "licence"):
        if extra not in ops.columns:
            ops[extra] = None
    frames: dict[str, pd.DataFrame] = {"operations": ops}
    for kind in ENTRA_PLAN_KINDS:
        frames[kind] = ops[ops["kind"] == kind].reset_index(drop=True)
    frames["licence"] = ops[ops["licence"].notna()].reset_index(drop=True)
    ch = plan.changes.merge(ops[["opId", "kind", "sourceUpn", "targetUpn"]], on="opId", how="left")
    frames["changes"] = ch[ch["kind"].isin(["update", "disable"])].reset_index(drop=True)
    frames["schema"] = schema_frame
    scope_changes = plan.header.get("scopeChanges") or []
    frames["scopeChanges"] = pd.DataFrame(scope_changes, columns=["changeId", "action", "groupId", "groupName",
                                                                  "userId", "userPrincipalName"])
    header = plan.header
    values = {**header, "counts": plan.counts(), "deletionThreshold": header["options"]["deletionThreshold"],
              "quarantine": (header.get("cycle") or {}).get("quarantine"),
              "scopeChangeCount": len(scope_changes),
              "sourceName": header["source"].get("displayName") or header["source"]["tenantId"],
              "targetName": header["target"].get("displayName") or header["target"]["tenantId"]}
    if plan_file:
        values["planFile"] = plan_file
    return build_workbook(d, path, frames=frames, values=values, vocabularies={"kinds": ENTRA_PLAN_KINDS},
                          generated_at=generated_at)


def write_entra_results_workbook(path: str | os.PathLike[str], plan: Any, result: Any, *,
                                 plan_file: str | None = None, generated_at: dt.datetime | None = None,
                                 definition: ReportDefinition | str | os.PathLike[str] = "apply-entra") -> Path:
    """Summary, mismatches, planned vs. observed per user, and the scope changes with their journal state."""
    d = definition if isinstance(definition, ReportDefinition) else load_definition(definition)
    users = result.verification if result.verification is not None else pd.DataFrame(
        columns=["match", "sourceUpn", "planned", "held", "observed", "errorCode", "targetCheck", "detail",
                 "targetId", "sourceId"])
    frames = {"users": users.reset_index(drop=True), "mismatches": users[~users["match"].astype(bool)].reset_index(
        drop=True), "scopeChanges": result.scope_changes.reindex(
        columns=["changeId", "action", "groupName", "userPrincipalName", "state", "message"])}
    header = plan.header
    values = {"sourceName": header["source"].get("displayName") or header["source"]["tenantId"],
              "targetName": header["target"].get("displayName") or header["target"]["tenantId"],
              "jobId": header["job"].get("id"), "run": result.run, "startedAt": result.started_at,
              "cycleEnded": result.cycle_ended, "scopeChangeCount": len(result.scope_changes),
              "failedScopeChanges": result.failed_changes, "checked": len(users), "mismatches": result.mismatches}
    if plan_file:
        values["planFile"] = plan_file
    return build_workbook(d, path, frames=frames, values=values, vocabularies={}, generated_at=generated_at)
