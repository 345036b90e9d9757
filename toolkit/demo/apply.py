"""The demo's apply steps: apply the plan to the simulated target cloud (results workbook and CSV), then
re-plan against the target to show nothing is left to do."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .plan import demo_plan_options
from .runs import SyncRun, forget_database

__all__ = ["step_apply", "step_replan"]


def step_apply(sync: SyncRun) -> dict[str, Any]:
    import pandas as pd

    from toolkit.apply import ApplyOptions, apply_plan, default_journal_path, write_results_csv, \
        write_results_workbook

    plan, plan_file = sync.data["plan"], Path(sync.data["planFile"])
    # A journal left by an earlier demo describes a tenant that no longer exists: it would make this a no-op.
    forget_database(default_journal_path(plan_file))
    target = sync.target
    # The simulated target is throw-away, so the demo confirms deletes and disables itself.
    result = apply_plan(plan, target.client, cloud=target.profile.cloud, plan_path=plan_file,
                        options=ApplyOptions(allow_destructive=True))
    sync.data["apply"] = result
    workbook = write_results_workbook(result, sync.out_dir / "apply-results.xlsx", plan_file=str(plan_file))
    csv = write_results_csv(result, sync.out_dir / "apply-results.csv")
    s = result.summary
    return {"message": result.message(), "states": s["states"], "kinds": s["kinds"],
            "writesSent": s["writesSent"], "elapsedSeconds": s["elapsedSeconds"], "journal": result.journal,
            "workbook": str(workbook), "csv": str(csv),
            "failures": [{"user": r.sourceUpn, "status": None if pd.isna(r.httpStatus) else int(r.httpStatus),
                          "code": r.errorCode, "message": r.message} for r in result.failures.itertuples()]}


def step_replan(sync: SyncRun) -> dict[str, Any]:
    from toolkit.export import export_tenant
    from toolkit.plan import plan_sync

    target = export_tenant(sync.target.client, cloud=sync.target.profile.cloud)
    plan = plan_sync(sync.data["source"], target, scope=sync.data["scope"],
                     eligibility=sync.data["eligibility"].users, options=demo_plan_options())
    counts = plan.counts()
    remaining = int(len(plan.actionable))
    return {"counts": counts, "remainingOperations": remaining,
            "message": ("re-planning after the apply leaves no operation to carry out" if remaining == 0 else
                        f"re-planning after the apply still finds {remaining} operation(s)")}
