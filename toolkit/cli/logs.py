"""``ccsync logs fetch``: provisioning and audit logs from Graph into a local archive (SQLite)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import click

from .options import archive_option, job_id_option, profile_option, since_option, until_option
from .output import add_rows, common_options, emit, info, key_value_table, new_table, state

_RELATIVE = re.compile(r"^(\d+)\s*([dhm])$", re.IGNORECASE)


def parse_when(value: str | None, option: str) -> dt.datetime | None:
    """``2026-01-31``, ``2026-01-31T12:00:00Z``, any shape log exports use, or relative: ``7d``, ``12h``,
    ``30m`` (before now)."""
    if not value:
        return None
    from toolkit.errors import InputError
    from toolkit.logs import parse_timestamp

    m = _RELATIVE.match(value.strip())
    if m:
        n, unit = int(m.group(1)), m.group(2).lower()
        delta = {"d": dt.timedelta(days=n), "h": dt.timedelta(hours=n), "m": dt.timedelta(minutes=n)}[unit]
        return dt.datetime.now(dt.timezone.utc) - delta
    try:
        return parse_timestamp(value)
    except ValueError as exc:
        raise InputError(f"{option}: {exc}.", field=option,
                         hint="Use a date (2026-01-31), a UTC time (2026-01-31T12:00:00Z) or 7d / 12h / 30m.") from None


@click.group("logs")
def logs_group() -> None:
    """Provisioning and audit logs: fetch them within Graph's limits and keep them past Entra's retention."""


@logs_group.command("fetch")
@profile_option(help="Profile of the tenant whose logs to fetch (its app needs AuditLog.Read.All and "
                     "Directory.Read.All).")
@since_option(help="Start: a date, a UTC time, or 7d / 12h / 30m ago. Default: where the archive stopped (only new "
                   "records), else 30 days ago.")
@until_option(help="End (exclusive); default now.")
@job_id_option(help="Only provisioning events of this sync job (jobId).")
@archive_option(help="The SQLite archive (one per tenant). Default: ccsync-logs-<profile>.sqlite here.")
@click.option("--kind", "kinds", type=click.Choice(["provisioning", "audit"]), multiple=True,
              help="Which logs (repeatable). Default: both.")
@common_options
def fetch_command(profile_name: str, since: str | None, until: str | None, job_id: str | None,
                  archive_path: str | None, kinds: tuple[str, ...]) -> None:
    """Fetch provisioning logs (auditLogs/provisioning) and audit logs (auditLogs/directoryAudits) into a local
    archive that de-duplicates by id and keeps history past the tenant's 30-day retention. Requests are paced
    under Graph's 5 per 10 seconds; time windows shrink when dense; an interrupted fetch resumes; the next run
    fetches only what is new. Progress on stderr.

    Example: ccsync logs fetch --profile contoso --since 7d --archive logs/contoso.sqlite
    """
    from toolkit.config import get_profile
    from toolkit.logs import FetchOptions, default_archive_path, fetch_for_profile

    profile = get_profile(profile_name, state().config)
    options = FetchOptions(since=parse_when(since, "--since"), until=parse_when(until, "--until"), job_id=job_id,
                           **({"kinds": kinds} if kinds else {}))
    last = {"pages": 0}

    def progress(event: dict[str, Any]) -> None:
        if event["event"] == "page":
            last["pages"] += 1
            info(f"{event['kind']}: {event['window'][0]} .. {event['window'][1]}: {event['records']} record(s), "
                 f"{event['new']} new ({event['total']} so far)")
        elif event["event"] == "window-shrunk":
            info(f"{event['kind']}: window too heavy, halved to {event['seconds']:.0f} s")
        elif event["event"] == "done":
            info(f"{event['kind']}: done, {event['fetched']} fetched, {event['new']} new, "
                 f"{event['requests']} request(s)")

    result = fetch_for_profile(profile, archive_path or default_archive_path(profile_name), options,
                               on_progress=progress)
    data = result.to_dict()
    data["profile"] = profile_name

    def render(console: Any) -> None:
        console.print(key_value_table([("tenant", result.tenant_id), ("archive", result.archive),
                                       ("requests", result.requests), ("throttled (429)", result.throttled),
                                       ("seconds", f"{result.seconds:.1f}")], title="Logs fetched"))
        console.print(add_rows(new_table("kind", "fetched", "new", "in archive", "windows", "resumed", "from", "to"),
                               [(k.kind, k.fetched, k.new, k.stored, k.windows, k.resumed, k.since, k.until)
                                for k in result.kinds]))

    emit(data, render)
