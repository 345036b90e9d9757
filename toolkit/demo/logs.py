"""The demo's logs step: fetch the provisioning and audit logs of the demo's runs from the simulated tenants
into archives, and write both workbooks.

Audit logs show ccsync's own writes in the target tenant (initiated by the ccsync app). Provisioning logs come
from Entra's own sync engine, which runs in the source tenant (the xts and entra steps).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from .runs import SyncRun, forget_database

__all__ = ["step_logs"]


def step_logs(sync: SyncRun) -> dict[str, Any]:
    from toolkit.logs import FetchOptions, fetch_for_profile
    from toolkit.report.logs import log_report

    # The demo ran minutes ago: one window per log kind, one request each, well under 5 per 10 s.
    options = FetchOptions(since=dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1))
    fetched, archives = {}, {}
    for role, run in (("source", sync.source), ("target", sync.target)):
        archive = sync.out_dir / f"logs-{run.profile.name}.sqlite"
        forget_database(archive)
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
