"""``ccsync report provisioning|audit``: Excel workbooks (and CSV) from log files in any format or the archive."""

from __future__ import annotations

from typing import Any

import click

from .logs import parse_when
from .options import archive_option, csv_option, since_option, until_option
from .output import add_rows, common_options, emit, info, key_value_table, new_table


@click.group("report")
def report_group() -> None:
    """Excel reports from provisioning and audit logs (files in any export format, or the local archive)."""


def _log_report_options(func: Any) -> Any:
    func = csv_option(help="Also write the events as CSV (UTF-8 with BOM, opens cleanly in Excel).")(func)
    func = until_option(help="Only events before this time (UTC).")(func)
    func = since_option(help="Only events from this time (UTC; or 7d / 12h).")(func)
    func = archive_option(help="Read the archive 'ccsync logs fetch' wrote instead of files.")(func)
    func = click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False), metavar="FILE.xlsx",
                        help="The workbook to write.")(func)
    func = click.argument("files", nargs=-1, type=click.Path(dir_okay=False))(func)
    return func


def _run(kind: str, files: tuple[str, ...], out_path: str, archive_path: str | None, since: str | None,
         until: str | None, csv_path: str | None) -> None:
    from toolkit.report.logs import log_report

    result = log_report(kind, out_path, files=files, archive=archive_path, since=parse_when(since, "--since"),
                        until=parse_when(until, "--until"), csv_path=csv_path)
    info(f"Wrote {result['report']}" + (f" and {result['csv']}" if result.get("csv") else ""))
    s = result["summary"]
    if s["skippedRecords"]:
        info(f"{s['skippedRecords']} record(s) skipped: " + ", ".join(f"{n} {r}" for r, n in
                                                                        s["skippedByReason"].items()))

    def render(console: Any) -> None:
        console.print(key_value_table([("source", s["sourceName"]), ("from", s.get("from")), ("to", s.get("to")),
                                       ("events", s["events"]), ("failed", s["failures"]),
                                       ("skipped records", s["skippedRecords"]), ("duplicates merged", s["duplicates"]),
                                       ("workbook", result["report"])], title=f"{kind.capitalize()} report"))
        if result["skipped"]:
            console.print(add_rows(new_table("file", "where", "why", title="Skipped records (first 20)"),
                                   [(x["source"], x["where"], x["reason"]) for x in result["skipped"][:20]]))

    emit(result, render)


@report_group.command("provisioning")
@_log_report_options
@common_options
def provisioning_command(files: tuple[str, ...], out_path: str, archive_path: str | None, since: str | None,
                         until: str | None, csv_path: str | None) -> None:
    """Provisioning workbook: Summary (source, time range, events per cycle, action and status, top error codes,
    charts), Events, Failures (each error code with a plain explanation and what to do), Steps and Modified
    properties. FILES: Graph JSON (collection, array, JSON lines, several pages), the portal's JSON or three-CSV
    download, Azure Monitor diagnostic records, Log Analytics exports (CSV or JSON).

    Example: ccsync report provisioning ProvisioningLogs.csv --out provisioning.xlsx
    """
    _run("provisioning", files, out_path, archive_path, since, until, csv_path)


@report_group.command("audit")
@_log_report_options
@common_options
def audit_command(files: tuple[str, ...], out_path: str, archive_path: str | None, since: str | None,
                  until: str | None, csv_path: str | None) -> None:
    """Audit workbook: activity by category, initiator (the sync service shows as Microsoft.Azure.SyncFabric,
    ccsync as its app's name), result and target, with every modified property old -> new. FILES as for
    'report provisioning' (Graph JSON, Azure Monitor records, Log Analytics AuditLogs exports).

    Example: ccsync report audit --archive ccsync-logs-contoso.sqlite --since 7d --out audit.xlsx
    """
    _run("audit", files, out_path, archive_path, since, until, csv_path)
