"""The sync-plan workbook: ``reports/plan.toml`` filled from a ``toolkit.plan`` SyncPlan."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import pandas as pd

from .definitions import ReportDefinition, load_definition
from .workbook import build_workbook

__all__ = ["write_plan_workbook", "PLAN_KINDS"]

# kind -> (label, meaning), for the Legend sheet and the chart order.
PLAN_KINDS: dict[str, tuple[str, str]] = {
    "create": ("Create", "The user has no counterpart in the target: ccsync invites them as an external member "
                         "(or creates a member with POST /users) and writes the mapped attributes and the link."),
    "update": ("Update", "The target user differs from what the mapping computes: only the changed attributes "
                         "are written (PATCH)."),
    "disable": ("Disable", "The source account is disabled, or the user left scope and the plan disables "
                           "instead of deleting: accountEnabled becomes false."),
    "delete": ("Delete", "The source user was deleted or left scope: the target user is soft-deleted "
                         "(restorable for 30 days), as Entra does."),
    "conflict": ("Conflict", "ccsync will not guess: an ambiguous match, a collision, an internal target user, "
                             "or a value Graph would refuse. Resolve it, then plan again."),
    "blocked": ("Blocked", "Cross-cloud sync needs a licence the user lacks in the source tenant."),
}


def write_plan_workbook(path: str | os.PathLike[str], plan: Any, *, plan_file: str | None = None,
                        generated_at: dt.datetime | None = None,
                        definition: ReportDefinition | str | os.PathLike[str] = "plan") -> Path:
    """Write the plan workbook (Summary with a chart, a sheet per operation kind, attribute changes, legend)."""
    d = definition if isinstance(definition, ReportDefinition) else load_definition(definition)
    ops = plan.to_frame()
    frames: dict[str, pd.DataFrame] = {"operations": ops}
    for kind in PLAN_KINDS:
        frames[kind] = ops[ops["kind"] == kind].reset_index(drop=True)
    ch = plan.changes.merge(ops[["opId", "kind", "sourceUpn", "targetUpn"]], on="opId", how="left")
    frames["changes"] = ch[ch["kind"].isin(["update", "disable"])].reset_index(drop=True)
    header = plan.header
    values = {**header, "counts": plan.counts(), "deletionThreshold": header["options"]["deletionThreshold"],
              "sourceName": header["source"].get("displayName") or header["source"]["tenantId"],
              "targetName": header["target"].get("displayName") or header["target"]["tenantId"]}
    if plan_file:
        values["planFile"] = plan_file
    return build_workbook(d, path, frames=frames, values=values, vocabularies={"kinds": PLAN_KINDS},
                          generated_at=generated_at)
