"""The demo's plan step: the direct engine's sync plan (file and workbook), adopting as the samples mean."""

from __future__ import annotations

from typing import Any

from .runs import SyncRun

__all__ = ["step_plan", "demo_plan_options"]


def demo_plan_options() -> Any:
    """The demo adopts: Fabrikam's seed has a manually invited Contoso guest (Johanna Lorenz, PendingAcceptance)
    that the sample means ccsync to take over (samples/README.md), as an admin would with ``--adopt``."""
    from toolkit.plan import PlanOptions

    return PlanOptions(adopt=True)


def step_plan(sync: SyncRun) -> dict[str, Any]:
    from toolkit.plan import plan_sync
    from toolkit.report import write_plan_workbook

    plan = plan_sync(sync.data["source"], sync.data["target"], scope=sync.data["scope"],
                     eligibility=sync.data["eligibility"].users, options=demo_plan_options())
    path = plan.save(sync.out_dir / "plan.json")
    sync.data["plan"] = plan
    sync.data["planFile"] = path
    report = write_plan_workbook(sync.out_dir / "plan.xlsx", plan, plan_file=str(path))
    return {"counts": plan.counts(), "planFile": str(path), "report": str(report),
            "needsAttention": [{"kind": r.kind, "user": r.sourceUpn, "reason": r.reason}
                               for r in plan.ops[plan.ops["kind"].isin(["conflict", "blocked"])].itertuples()]}
