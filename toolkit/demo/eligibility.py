"""The demo's eligibility step: is cross-cloud sync licensed for each source user in scope (and the workbook)."""

from __future__ import annotations

from typing import Any

from .runs import TARGET_CLOUD, SyncRun

__all__ = ["step_eligibility"]


def step_eligibility(sync: SyncRun) -> dict[str, Any]:
    from toolkit.licensing import evaluate_eligibility
    from toolkit.licensing.eligibility import STATUSES
    from toolkit.plan import scope_user_ids
    from toolkit.report import write_eligibility_workbook

    source = sync.data["source"]
    result = evaluate_eligibility(source, source.cloud, TARGET_CLOUD,
                                  scope_user_ids=scope_user_ids(source, sync.data["scope"]))
    sync.data["eligibility"] = result
    report = write_eligibility_workbook(sync.out_dir / "eligibility.xlsx", result.users, result.seats,
                                        source.skus, result.summary, STATUSES)
    s = result.summary
    return {"pair": result.pair.to_dict(), "usersInScope": s.get("usersInScope"), "eligible": s.get("eligible"),
            "notEligible": s.get("notEligible"), "byStatus": {k: v for k, v in s.get("byStatus", {}).items() if v},
            "report": str(report)}
