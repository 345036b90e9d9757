"""``ccsync migrate validate|plan``: a CSV (portal bulk template or Graph property headers) checked row by row,
then turned into the plan ``ccsync apply`` executes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from .options import TENANT_HELP, link_attribute_option, report_option, tenant_option
from .output import add_rows, cell, common_options, emit, info, key_value_table, new_table, warn
from .tenants import open_tenant

_FILE = click.argument("csv_path", metavar="FILE", type=click.Path(exists=True, dir_okay=False))
_TARGET_HELP = (TENANT_HELP.format(role="target") + " Adds the tenant checks: verified domain, duplicates, licences "
                "and free seats, groups, managers.")
_REPORT_HELP = "Write the validation workbook, and the same rows as FILE.csv (UTF-8 with BOM)."


def _validate(csv_path: str, target: str | None) -> Any:
    from toolkit.errors import InputError
    from toolkit.migrate import read_table, validate_table
    from toolkit.migrate.validate import groups_named

    table = read_table(csv_path)
    info(f"Read {len(table.rows)} row(s) from {csv_path} ({table.encoding}, {table.describe()['delimiter']}-"
         f"separated)")
    tenant = None
    if target:
        live_groups = groups_named(table) if not Path(target).exists() else []
        while True:
            try:
                tenant = open_tenant(target, groups=live_groups, role="target tenant")
                break
            except InputError as err:
                # A group the tenant does not have (or has twice): read the tenant without it; the rows naming it
                # are reported. Only the group the error names is dropped, the others are still resolved.
                bad = [g for g in live_groups if f"'{g}'" in err.message or f"id {g}" in err.message]
                if not bad:
                    raise
                warn(str(err))
                live_groups = [g for g in live_groups if g not in bad]
    return validate_table(table, tenant)


def _write_reports(validation: Any, report_path: str | None) -> dict[str, str]:
    from toolkit.migrate.report import write_validation_csv, write_validation_workbook

    if not report_path:
        return {}
    xlsx = Path(report_path)
    csv = xlsx.with_suffix(".csv")
    out = {"report": str(write_validation_workbook(xlsx, validation)),
           "reportCsv": str(write_validation_csv(csv, validation))}
    info(f"Wrote {out['report']} and {out['reportCsv']}")
    return out


def _render(validation: Any) -> Any:
    def render(console: Any) -> None:
        s = validation.summary()
        console.print(key_value_table([("file", s["file"]["path"]), ("layout", s["layout"]),
                                       ("encoding", s["file"]["encoding"]), ("rows", s["rows"]),
                                       ("valid", s["valid"]), ("invalid", s["invalid"]),
                                       ("tenant checks", "yes" if s["tenantChecks"] else "no (give --target)")],
                                      title="CSV migration: validation"))
        problems = [(p.row, cell(p.column), cell(p.value), cell(p.problem), cell(p.fix))
                    for p in validation.problems()[:100]]
        if problems:
            console.print(add_rows(new_table("row", "column", "value", "problem", "fix", title="Problems"),
                                   problems))
        for note in validation.notes:
            console.print(f"note: {note}")
    return render


@click.group("migrate")
def migrate_group() -> None:
    """One-time migrations from a CSV: the Entra portal's bulk-create or bulk-invite template (as downloaded,
    'version:v1.0' line and all), or headers named after Graph user properties (userPrincipalName,
    displayName, password, usageLocation, licenses, groups, manager, invitedUserEmailAddress, ...). Files in
    UTF-8 (with or without BOM), UTF-16 (Excel's Unicode Text) or Windows-1252; comma, semicolon or tab.

    Validate first, then plan, then run the plan with 'ccsync apply' (exactly once, resumable).
    """


@migrate_group.command("validate")
@_FILE
@tenant_option("target", help=_TARGET_HELP)
@report_option(help=_REPORT_HELP)
@common_options
def validate_command(csv_path: str, target: str | None, report_path: str | None) -> None:
    """Check every row of FILE before anything is written: required fields, UPN syntax, duplicates in the file,
    password rules, Yes/No values, usageLocation codes, Graph's length limits, spaces, formula-like values; with
    --target also the tenant checks. Each problem names the row, column, value and the fix. Passwords are
    never shown. Exit code 1 when any row is invalid.

    With --output json: {"rows", "valid", "invalid", "notes", "rowResults": [{"row", "userPrincipalName" or
    "invitedUserEmailAddress", "valid", "errors": [{"column", "value", "problem", "fix"}]}]}.

    Example: ccsync migrate validate samples/migration-portal.csv --target fabrikam --report check.xlsx
    """
    validation = _validate(csv_path, target)
    data = {**validation.to_dict(), **_write_reports(validation, report_path)}
    if validation.invalid_rows:
        warn(f"{len(validation.invalid_rows)} of {len(validation.rows)} row(s) are invalid.")
    emit(data, _render(validation))
    if validation.exit_code:
        raise click.exceptions.Exit(validation.exit_code)


@migrate_group.command("plan")
@_FILE
@tenant_option("target", required=True, help=_TARGET_HELP)
@click.option("--out", "out_path", type=click.Path(dir_okay=False), metavar="PLAN.json", required=True,
              help="Where to write the plan (the same plan format 'ccsync apply' executes).")
@report_option(help=_REPORT_HELP)
@click.option("--skip-invalid", is_flag=True, default=False,
              help="Plan the valid rows even though others are invalid (they are listed, and exit code is 1).")
@link_attribute_option(help="The extension attribute where ccsync records which CSV row created a user (exactly "
                            "once).")
@common_options
def plan_command(csv_path: str, target: str, out_path: str, report_path: str | None, skip_invalid: bool,
                 link_attribute: str) -> None:
    """Validate FILE against the target and write a plan of one create per valid row: POST /users for members,
    invitations for guests and external members, with licences, group memberships and managers (set by apply
    once the user and its manager exist; the manager may be a row of FILE or a target user). Passwords are not in
    the plan: apply re-reads them from FILE (and refuses if FILE changed), or generates them into
    PLAN.passwords.csv (0600) for you to hand on. Without --skip-invalid nothing is planned when a row is
    invalid. Then: ccsync apply PLAN.json --profile TARGET.

    Example: ccsync migrate plan users.csv --target fabrikam --out migration.json --report check.xlsx
    """
    from toolkit.migrate import plan_migration

    validation = _validate(csv_path, target)
    reports = _write_reports(validation, report_path)
    data: dict[str, Any] = {**validation.to_dict(), **reports}
    if validation.invalid_rows and not skip_invalid:
        warn(f"{len(validation.invalid_rows)} of {len(validation.rows)} row(s) are invalid: nothing was planned. "
             "Fix them, or plan the valid rows with --skip-invalid.")
        data["planFile"] = None
        emit(data, _render(validation))
        raise click.exceptions.Exit(1)
    plan = plan_migration(validation, skip_invalid=skip_invalid, link_attribute=link_attribute)
    saved = plan.save(out_path)
    info(f"Wrote the plan to {saved} ({len(plan.ops)} user(s) to create)")
    mig = plan.header["migration"]
    if mig["passwordsGenerated"]:
        info(f"{mig['passwordsGenerated']} user(s) have no password in the file: 'ccsync apply' generates them "
             f"into {saved.name}.passwords.csv (readable only by you) for you to hand on.")
    if mig["passwordsFromFile"]:
        info(f"Keep {Path(csv_path).name} unchanged until the apply is done: apply re-reads its passwords and "
             "refuses a changed file.")
    if mig["managersLeftOut"]:
        warn(f"row(s) {', '.join(map(str, mig['managersLeftOut']))} name a manager whose own row is invalid and "
             "was left out: their manager is not set. Fix that row and plan again, or set it afterwards.")
    data.update({"planFile": str(saved), "counts": plan.counts(), "migration": mig})

    def render(console: Any) -> None:
        _render(validation)(console)
        console.print(key_value_table([("plan file", str(saved)), ("users to create", len(plan.ops)),
                                       ("next", f"ccsync apply {saved} --profile <target profile>")],
                                      title="Migration plan"))

    emit(data, render)
    if validation.invalid_rows:
        raise click.exceptions.Exit(1)
