"""The demo's entra step: preview the job's next cycle (commercial -> GCC High), apply samples/entra-scope.txt
through the job, and show planned vs. observed per user, all against the simulated Entra and its sync engine."""

from __future__ import annotations

import json

import openpyxl
from click.testing import CliRunner

from toolkit.cli.main import cli


def _strict(text: str) -> dict:
    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def test_demo_previews_applies_a_scope_change_through_the_job_and_verifies(tmp_path, monkeypatch):
    monkeypatch.setenv("CCSYNC_CACHE_DIR", str(tmp_path / "tokens"))
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["demo", "--output", "json", "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    doc = _strict(result.stdout)
    assert doc["failed"] == []
    steps = doc["sync"]["steps"]
    entra = steps["entra"]
    assert entra["jobId"] == steps["xts"]["jobId"]
    # The preview: the earlier direct apply left B2B users PendingAcceptance, which the job will not join.
    preview = entra["preview"]
    assert preview["counts"]["fail"] > 0 and preview["deletionThreshold"] == 500
    assert any("PendingAcceptance" in a["reason"] for a in preview["needsAttention"])
    # The scope change: the nested pilot group is assigned itself; Legal members leave the scope group.
    changes = {(c["action"], c["groupName"], c["userPrincipalName"]) for c in entra["scopeChanges"]}
    assert ("assignGroup", "CCS-Sync-Pilot", None) in changes
    assert ("removeMember", "CCS-Sync-Scope", "kayla.lewis@contoso.com") in changes
    assert {c["state"] for c in entra["scopeChanges"]} == {"done"}
    # Applied through the job: the cycle ran, and it did what the plan predicted for every planned user.
    assert entra["run"] == "start" and entra["cycleEnded"]
    assert entra["mismatches"] == 0 and entra["users"]
    assert all(u["match"] for u in entra["users"])
    observed = {u["sourceUpn"]: u["observed"] for u in entra["users"]}
    assert observed["kayla.lewis@contoso.com"] == "delete"
    assert entra["plan"]["counts"]["delete"] == 1
    plan = json.loads((out / "entra-plan.json").read_text(encoding="utf-8"))
    assert plan["engine"] == "entra" and plan["job"]["id"] == entra["jobId"]
    assert len(plan["scopeChanges"]) == len(entra["scopeChanges"])
    wb = openpyxl.load_workbook(entra["report"])
    assert "Planned vs observed" in wb.sheetnames
    assert (out / "entra-plan.xlsx").is_file()
