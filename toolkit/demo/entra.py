"""The demo's entra-engine step: plan and apply through Entra's own sync job (the one the ``xts`` step set up).

1. **Preview**: read the job live (schema, assigned groups, settings, provisioning-log links), export both tenants
   as they are now, and predict the job's next cycle as it stands, per user (``ccsync plan --job``).
2. **Scope change**: plan the changes to the job's assigned groups and their direct members that reach the
   desired scope in ``samples/entra-scope.txt``, and predict the cycle after them; write the plan file and
   workbook (``ccsync plan --job ... --scope ...``).
3. **Apply through the job**: make the scope changes (journaled), start the job, let the cycle run (the demo's
   simulated Entra runs it now rather than after Entra's 40-minute interval), then verify: planned vs. observed per
   user from the provisioning logs and the target users, and a results workbook (``ccsync apply PLAN``).

Everything goes through the library calls those commands use. A mismatch is shown and warned about, never hidden.
"""

from __future__ import annotations

from typing import Any

from .runs import SyncRun, forget_database
from .xts import CYCLE_WAIT_SECONDS, tenant_sides

__all__ = ["step_entra", "SCOPE_SAMPLE"]

SCOPE_SAMPLE = "entra-scope.txt"
_ATTENTION = ("fail", "unknown", "conflict", "blocked")


def _attention(plan: Any) -> list[dict[str, Any]]:
    ops = plan.ops[plan.ops["kind"].isin(_ATTENTION)]
    return [{"kind": r.kind, "user": r.sourceUpn, "reason": r.reason} for r in ops.itertuples()]


def step_entra(sync: SyncRun) -> dict[str, Any]:
    from toolkit.apply.entra import apply_entra_plan, verify_entra_plan
    from toolkit.apply.journal import default_journal_path
    from toolkit.export import export_tenant
    from toolkit.plan import load_plan
    from toolkit.plan.entra_job import read_job
    from toolkit.plan.entra_plan import plan_entra
    from toolkit.plan.entra_predict import predict_cycle
    from toolkit.plan.rules import load_scope
    from toolkit.report.entra_plan import write_entra_plan_workbook, write_entra_results_workbook
    from toolkit.xts.control import read_status

    xts = sync.sections["xts"]
    job_id, sp_id = xts["jobId"], xts["servicePrincipalId"]
    source, target = tenant_sides(sync)
    snap = read_job(source, job_id=job_id)
    scope_file = sync.samples / SCOPE_SAMPLE
    # Seeds given with --seed-dir may come without the sample: then the demo applies the job as it stands.
    scope = load_scope(scope_file) if scope_file.is_file() else None
    folder = sync.out_dir / "entra"
    src = export_tenant(sync.source.client, groups=[*snap.job.assigned_groups, *(scope.groups if scope else ())],
                        out_dir=folder / "snapshots" / sync.source.profile.name, cloud=sync.source.profile.cloud,
                        overwrite=True)
    tgt = export_tenant(sync.target.client, out_dir=folder / "snapshots" / sync.target.profile.name,
                        cloud=sync.target.profile.cloud, overwrite=True)

    # 1. The next cycle of the job as it stands.
    preview = predict_cycle(snap.schema, src, tgt, snap.job).plan

    # 2. The scope change and the cycle after it: the plan the admin reviews (same header as 'ccsync plan --job').
    made = plan_entra(snap, src, tgt, scope)
    pred, plan = made.prediction, made.plan
    plan_file = plan.save(sync.out_dir / "entra-plan.json")
    plan_report = write_entra_plan_workbook(sync.out_dir / "entra-plan.xlsx", plan,
                                            schema_frame=pred.schema.portal_frame(), plan_file=str(plan_file))
    plan = load_plan(plan_file)                 # apply what was written, as 'ccsync apply PLAN' does

    # 3. Apply through the job, run the cycle, verify.
    journal = default_journal_path(plan_file)
    forget_database(journal)
    run_cycle = getattr(sync.sim, "run_sync_cycle", None)
    result = apply_entra_plan(plan, source, journal_path=journal, wait=run_cycle is None,
                              timeout_s=CYCLE_WAIT_SECONDS, poll_s=1.0, target_side=target)
    if run_cycle is not None:
        run_cycle(source.tenant_id, job_id)
        result.notes = [n for n in result.notes if not n.startswith("not waiting")]
        result.cycle_ended = (read_status(source, job_id=job_id)[0].to_dict().get("lastExecution") or {}).get(
            "timeEnded")
        result.verification = verify_entra_plan(plan, source, since=result.started_at, sp_id=sp_id,
                                                target_side=target)
    results_report = write_entra_results_workbook(sync.out_dir / "entra-plan.json.results.xlsx", plan, result,
                                                  plan_file=str(plan_file))
    if result.mismatches:
        sync.warn(f"[sync] the job's cycle did not do what the plan predicted for {result.mismatches} user(s): "
                  f"see {results_report}")
    return {"jobId": job_id,
            "preview": {"counts": preview.counts(), "deletionThreshold": snap.job.deletion_threshold,
                        "quarantine": preview.header["cycle"]["quarantine"], "needsAttention": _attention(preview)},
            "scopeFile": str(scope_file) if scope is not None else None, "scopeNotes": made.notes,
            "plan": {"counts": plan.counts(), "planFile": str(plan_file), "report": str(plan_report),
                     "schemaSha256": plan.header["schema"]["sha256"]},
            **result.to_dict(), "journal": str(journal), "report": str(results_report)}
