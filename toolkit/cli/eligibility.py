"""``ccsync eligibility``: per user, is cross-tenant / cross-cloud sync licensed; per tenant, the seats short."""

from __future__ import annotations

from typing import Any

import click

from .options import CLOUD_HELP, catalog_option, cloud_option, csv_option, report_option, scope_option, tenant_option
from .output import add_rows, common_options, emit, info, key_value_table, new_table
from .tenants import open_tenant, records


@click.command("eligibility")
@tenant_option("source", required=True)
@cloud_option("target", required=True, short=True,
              help="The cloud users are synchronized to (commercial, gcc, gcch, dod, china).")
@cloud_option("source", help=CLOUD_HELP.format(role="source").rstrip(".")
              + " (graph.microsoft.com serves commercial and GCC).")
@scope_option(help="Scoping file (groups and filters) deciding who is in scope; default: every user.")
@catalog_option()
@report_option(help="Write the Excel compliance workbook (Summary, Users, SKUs, Legend).")
@csv_option(help="Write the per-user rows as CSV (UTF-8 with BOM, opens cleanly in Excel).")
@common_options
def eligibility_command(source: str, target_cloud: str, source_cloud: str | None, scope_file: str | None,
                        catalog_csv: str | None,
                        report_path: str | None, csv_path: str | None) -> None:
    """Decide for every source user whether their licences allow cross-tenant sync to the target cloud (P1/P2,
    plus Entra ID Governance or Entra Suite across clouds), with the reason and the fix; count seats short.
    Exits 1 when a user in scope is not eligible.

    Example: ccsync eligibility --source contoso --target-cloud gcch --scope samples/scope.txt --report elig.xlsx
    """
    from toolkit.licensing import Catalog, evaluate_eligibility
    from toolkit.licensing.eligibility import STATUSES
    from toolkit.plan import load_scope, scope_user_ids
    from toolkit.report import write_csv, write_eligibility_workbook

    scope = load_scope(scope_file) if scope_file else None
    catalog = Catalog.from_official_csv(catalog_csv) if catalog_csv else None
    tenant = open_tenant(source, groups=scope.groups if scope else (), role="source tenant", cloud=source_cloud,
                         cloud_flag="--source-cloud")
    scope_ids = scope_user_ids(tenant, scope) if scope else None
    result = evaluate_eligibility(tenant, tenant.cloud, target_cloud, scope_user_ids=scope_ids, catalog=catalog)
    outputs = {}
    if report_path:
        outputs["report"] = str(write_eligibility_workbook(report_path, result.users, result.seats, tenant.skus,
                                                           result.summary, STATUSES))
        info(f"Wrote {outputs['report']}")
    if csv_path:
        outputs["csv"] = str(write_csv(result.users, csv_path))
        info(f"Wrote {outputs['csv']}")
    summary = result.summary
    data = {"summary": summary, "seats": records(result.seats), "outputs": outputs,
            "users": records(result.users)}

    def render(console: Any) -> None:
        console.print(key_value_table([
            ("tenant", f"{tenant.display_name} ({tenant.tenant_id})"),
            ("pair", f"{tenant.cloud} -> {target_cloud} ({result.pair.kind})"),
            ("users", summary.get("usersTotal")), ("in scope", summary.get("usersInScope")),
            ("eligible", summary.get("eligible")), ("not eligible", summary.get("notEligible"))],
            title="Licence eligibility"))
        by_status = [(STATUSES[s][0], n) for s, n in summary.get("byStatus", {}).items() if n]
        console.print(add_rows(new_table("status", "users", title="Users by status"), by_status))
        seats = result.seats
        if len(seats):
            console.print(add_rows(new_table("entitlement", "SKU", "available", "needed", "shortfall",
                                             title="Seats"),
                                   seats[["entitlement", "skuPartNumber", "available", "needed", "shortfall"]]
                                   .astype(object).where(seats.notna(), None).values.tolist()))
        for note in summary.get("notes", []):
            console.print(f"note: {note}")

    emit(data, render)
    if summary.get("notEligible"):
        raise click.exceptions.Exit(1)

