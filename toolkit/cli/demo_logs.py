"""The demo's logs step: fetch the provisioning and audit logs of the demo's runs from the simulated tenants
into archives, and write both workbooks.

Audit logs show ccsync's own writes in the target tenant (initiated by the ccsync app). Provisioning logs come
from Entra's own sync engine; until the simulator runs one, the simulated tenants have none, and the
provisioning workbook says so (an empty but well-formed report).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from .output import key_value_table

__all__ = ["step_logs", "render_logs"]


def _forget(path: Path) -> None:
    # Every demo starts fresh simulated tenants (new ids): an archive from an earlier run belongs to another tenant.
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)


def step_logs(sync: Any) -> dict[str, Any]:
    from toolkit.logs import FetchOptions, fetch_for_profile
    from toolkit.report.logs import log_report

    # The demo ran minutes ago: one window per log kind, one request each, well under 5 per 10 s.
    options = FetchOptions(since=dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1))
    fetched, archives = {}, {}
    for role, run in (("source", sync.source), ("target", sync.target)):
        archive = sync.out_dir / f"logs-{run.profile.name}.sqlite"
        _forget(archive)
        result = fetch_for_profile(run.profile, str(archive), options, client=run.client)
        archives[role] = archive
        fetched[role] = {k.kind: k.stored for k in result.kinds}
        fetched[role]["throttled"] = result.throttled
    # Entra's sync job runs in the source tenant (its provisioning logs); ccsync wrote to the target (its audit).
    prov = log_report("provisioning", sync.out_dir / "logs-provisioning.xlsx", archive=archives["source"])
    audit = log_report("audit", sync.out_dir / "logs-audit.xlsx", archive=archives["target"],
                       csv_path=sync.out_dir / "logs-audit.csv")
    return {"fetched": fetched, "archives": {k: str(v) for k, v in archives.items()},
            "provisioningWorkbook": prov["report"], "provisioningEvents": prov["summary"]["events"],
            "auditWorkbook": audit["report"], "auditEvents": audit["summary"]["events"],
            "auditCsv": audit.get("csv")}


def render_logs(console: Any, sync: Any, section: dict[str, Any]) -> None:
    f = section["fetched"]
    console.print(key_value_table([
        ("source tenant logs", f"{f['source'].get('provisioning', 0)} provisioning, {f['source'].get('audit', 0)} audit"),
        ("target tenant logs", f"{f['target'].get('provisioning', 0)} provisioning, {f['target'].get('audit', 0)} audit"),
        ("provisioning workbook", f"{section['provisioningWorkbook']} ({section['provisioningEvents']} events)"),
        ("audit workbook", f"{section['auditWorkbook']} ({section['auditEvents']} events)")],
        title="Provisioning and audit logs"))
