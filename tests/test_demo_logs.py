"""The demo's logs step: the audit trail of the demo's apply, fetched from the simulated target, in a workbook
where every event is initiated by ccsync's app; the provisioning workbook is well-formed even when empty."""

from __future__ import annotations

import json

import pandas as pd
from click.testing import CliRunner

from toolkit.cli.main import cli


def test_demo_fetches_the_logs_of_its_runs_and_writes_both_workbooks(tmp_path, monkeypatch):
    monkeypatch.setenv("CCSYNC_CACHE_DIR", str(tmp_path / "tokens"))
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["demo", "--output", "json", "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    logs = doc["sync"]["steps"]["logs"]
    # The target's audit trail holds the writes of the apply step and of the CSV migration step.
    writes = sum(doc["sync"]["steps"][step].get("writesSent", 0) for step in ("apply", "migrate"))
    assert logs["fetched"]["target"]["audit"] == logs["auditEvents"] > 0
    assert logs["fetched"]["target"]["throttled"] == 0 and logs["fetched"]["source"]["throttled"] == 0
    events = pd.read_excel(out / "logs-audit.xlsx", sheet_name="Events")
    # ccsync's own writes, and the users Entra's sync engine provisioned in the demo's xts step.
    assert set(events["Initiated by"]) <= {"ccsync", "Microsoft.Azure.SyncFabric"}
    ours = events[events["Initiated by"] == "ccsync"]
    assert 0 < len(ours) <= writes + 20
    assert "Add user" in set(events["Activity"]) or "Invite external user" in set(events["Activity"])
    assert (out / "logs-audit.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    prov = pd.read_excel(out / "logs-provisioning.xlsx", sheet_name="Events")
    assert len(prov) == logs["provisioningEvents"]
