"""``ccsync plan`` with the entra engine, offline: a saved job schema, snapshots, and the job's provisioning logs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from toolkit.cli.main import cli
from toolkit.export import write_snapshot
from toolkit.export.build import build_tenant_data
from toolkit.export.raw import RawTenant

SOURCE_TID = "11111111-1111-4111-8111-111111111111"
TARGET_TID = "22222222-2222-4222-8222-222222222222"
SCHEMA = Path(__file__).parent / "fixtures" / "entra-schema" / "azure2azure-default.json"


def _snapshot(folder, tid, cloud, name, domain, users, members=None):
    groups = [{"id": "g1", "displayName": "CCS-Sync-Scope"}] if members is not None else []
    raw = RawTenant(tenant_id=tid, cloud=cloud, fetched_at="2026-11-26T10:00:00Z", users=users,
                    subscribed_skus=[], domains=[{"id": domain, "isVerified": True, "isDefault": True,
                                                  "isInitial": False}],
                    organization=[{"id": tid, "displayName": name}], groups=groups,
                    group_members={"g1": [{"id": m, "@odata.type": "#microsoft.graph.user"} for m in members]}
                    if members is not None else {}, scoping_group_ids=["g1"] if members is not None else [])
    return write_snapshot(raw, build_tenant_data(raw), folder)


@pytest.fixture()
def tenants(tmp_path):
    users = [{"id": f"s{i}", "userPrincipalName": f"user{i}@contoso.com", "mail": f"user{i}@contoso.com",
              "displayName": f"User {i}", "accountEnabled": True, "userType": "Member", "department": "Sales"}
             for i in range(4)]
    users[3]["department"] = "HR"
    src = _snapshot(tmp_path / "src", SOURCE_TID, "commercial", "Contoso", "contoso.com", users, ["s0", "s1", "s3"])
    tgt_users = [{"id": "t1", "userPrincipalName": "user1_contoso.com#EXT#@fabrikam.onmicrosoft.com",
                  "mail": "user1@contoso.com", "displayName": "Old name", "accountEnabled": True,
                  "userType": "Member", "creationType": "Invitation", "externalUserState": "Accepted",
                  "department": "Sales"}]
    tgt = _snapshot(tmp_path / "tgt", TARGET_TID, "commercial", "Fabrikam", "fabrikam.com", tgt_users)
    log = tmp_path / "provisioning.json"
    log.write_text(json.dumps({"value": [{
        "activityDateTime": "2026-11-25T10:00:00Z", "provisioningAction": "create",
        "provisioningStatusInfo": {"status": "success", "errorInformation": None},
        "sourceIdentity": {"id": "s1", "displayName": "User 1"}, "targetIdentity": {"id": "t1"},
        "modifiedProperties": [{"displayName": "displayName", "oldValue": None, "newValue": "Old name"}]}]}))
    return src, tgt, log


def run(*args):
    return CliRunner().invoke(cli, [*map(str, args)])


def test_entra_plan_offline_writes_plan_workbook_and_json(tenants, tmp_path):
    src, tgt, log = tenants
    result = run("plan", "--schema", SCHEMA, "--source", src, "--target", tgt, "--assigned-group", "CCS-Sync-Scope",
                 "--provisioning-log", log, "--out", tmp_path / "plan.json", "--report", tmp_path / "plan.xlsx",
                 "-o", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["engine"] == "entra"
    assert doc["counts"]["create"] == 2 and doc["counts"]["update"] == 1     # s0, s3 created; s1 renamed
    plan = json.loads((tmp_path / "plan.json").read_text())
    assert plan["engine"] == "entra" and plan["schema"]["sha256"] and plan["scopeChanges"] == []
    update = next(op for op in plan["operations"] if op["kind"] == "update")
    assert {"attribute": "displayName", "old": "Old name", "new": "User 1", "flow": "always"} in update["changes"]
    wb = openpyxl.load_workbook(tmp_path / "plan.xlsx")
    assert "Schema mappings" in wb.sheetnames and "Fail" in wb.sheetnames
    targets = [row[1].value for row in wb["Schema mappings"].iter_rows(min_row=2)]
    assert "alternativeSecurityIds" in targets and "userType" in targets


def test_entra_plan_with_a_scope_file_plans_membership_changes(tenants, tmp_path):
    src, tgt, log = tenants
    scope = tmp_path / "scope.txt"
    scope.write_text('filter Sales\n    department EQUALS "Sales"\n', encoding="utf-8")
    result = run("plan", "--schema", SCHEMA, "--source", src, "--target", tgt, "--assigned-group", "g1",
                 "--provisioning-log", log, "--scope", scope, "--out", tmp_path / "plan.json", "-o", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert [(c["action"], c["userId"]) for c in doc["scopeChanges"]] == [("addMember", "s2"), ("removeMember", "s3")]
    assert doc["counts"]["create"] == 2          # s0 and s2 (s3 leaves scope before the cycle)


def test_entra_plan_needs_the_job(tenants, tmp_path):
    src, tgt, _ = tenants
    result = run("plan", "--engine", "entra", "--source", src, "--target", tgt, "--out", tmp_path / "p.json")
    assert result.exit_code == 2 and "--job" in result.output
