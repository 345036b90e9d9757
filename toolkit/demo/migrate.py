"""The demo's migration step: samples/migration-portal.csv (the portal's bulk-create template) validated against
the simulated target, planned, and applied through the same executor as a sync."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .runs import SyncRun, forget_database

__all__ = ["step_migrate", "SAMPLE_CSV"]

SAMPLE_CSV = "migration-portal.csv"


def step_migrate(sync: SyncRun) -> dict[str, Any]:
    from toolkit.apply import ApplyOptions, apply_plan, default_journal_path
    from toolkit.export import export_tenant
    from toolkit.migrate import plan_migration, read_table, validate_table
    from toolkit.migrate.report import write_validation_csv, write_validation_workbook
    from toolkit.migrate.validate import groups_named

    source = sync.samples / SAMPLE_CSV
    if not source.is_file():
        return {"skipped": f"no {SAMPLE_CSV} next to the seeds"}
    table = read_table(source)
    target = export_tenant(sync.target.client, groups=groups_named(table), cloud=sync.target.profile.cloud)
    validation = validate_table(table, target)
    out = sync.out_dir
    workbook = write_validation_workbook(out / "migration-validation.xlsx", validation)
    write_validation_csv(out / "migration-validation.csv", validation)
    plan = plan_migration(validation, skip_invalid=True)
    plan_file = plan.save(out / "migration-plan.json")
    # Every demo starts a fresh simulator: forget a journal and hand-over file left by an earlier run.
    forget_database(default_journal_path(plan_file))
    Path(f"{plan_file}.passwords.csv").unlink(missing_ok=True)
    result = apply_plan(plan, sync.target.client, cloud=sync.target.profile.cloud, plan_path=plan_file,
                        options=ApplyOptions())
    return {"file": str(source), "layout": validation.layout.name, "rows": len(validation.rows),
            "valid": len(validation.valid_rows), "invalid": len(validation.invalid_rows),
            "planFile": str(plan_file), "workbook": str(workbook), "states": result.summary["states"],
            "writesSent": result.summary["writesSent"],
            "passwordsFile": f"{plan_file}.passwords.csv" if plan.header["migration"]["passwordsGenerated"] else None,
            "message": result.message()}
