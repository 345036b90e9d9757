"""The demo's last sync steps: apply the plan to the simulated target cloud, then re-plan to show nothing is left.

The functions take the demo's ``SyncRun`` (``toolkit.cli.demo``) and return JSON-friendly sections.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .output import add_rows, key_value_table, new_table

__all__ = ["step_apply", "render_apply", "step_replan", "render_replan"]


def _forget_old_journal(plan_file: Path) -> None:
    # Every demo starts a fresh simulator: a journal left by an earlier demo run describes a tenant that no
    # longer exists and would make this apply a no-op.
    from toolkit.apply import default_journal_path

    journal = default_journal_path(plan_file)
    for suffix in ("", "-wal", "-shm"):
        Path(str(journal) + suffix).unlink(missing_ok=True)


def step_apply(sync: Any) -> dict[str, Any]:
    import pandas as pd

    from toolkit.apply import ApplyOptions, apply_plan, write_results_csv, write_results_workbook

    plan, plan_file = sync.data["plan"], Path(sync.data["planFile"])
    _forget_old_journal(plan_file)
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


def render_apply(console: Any, sync: Any, section: dict[str, Any]) -> None:
    rows = [("result", section["message"]), ("writes sent", section["writesSent"]),
            ("elapsed (s)", section["elapsedSeconds"]), ("journal", section["journal"]),
            ("workbook", section["workbook"]), ("csv", section["csv"])]
    console.print(key_value_table(rows, title="Apply to the target cloud"))
    if section["failures"]:
        console.print(add_rows(new_table("source user", "status", "code", "message", title="Failed"),
                               [(f["user"], f["status"], f["code"], f["message"]) for f in section["failures"]]))


def demo_plan_options() -> Any:
    """The demo adopts: Fabrikam's seed has a manually invited Contoso guest (Johanna Lorenz, PendingAcceptance)
    that the sample means ccsync to take over (samples/README.md), as an admin would with ``--adopt``."""
    from toolkit.plan import PlanOptions

    return PlanOptions(adopt=True)


def step_replan(sync: Any) -> dict[str, Any]:
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


def render_replan(console: Any, sync: Any, section: dict[str, Any]) -> None:
    counts = section["counts"]
    console.print(key_value_table([("remaining operations", section["remainingOperations"]),
                                   ("conflicts (unchanged)", counts.get("conflict")),
                                   ("blocked (unchanged)", counts.get("blocked")), ("result", section["message"])],
                                  title="Re-plan after apply"))
