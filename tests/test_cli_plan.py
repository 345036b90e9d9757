"""``ccsync eligibility`` and ``ccsync plan`` from snapshots, as an admin runs them offline."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from toolkit.cli.main import cli
from toolkit.export import write_snapshot
from toolkit.export.raw import RawTenant
from toolkit.export.build import build_tenant_data

SOURCE_TID = "11111111-1111-4111-8111-111111111111"
TARGET_TID = "22222222-2222-4222-8222-222222222222"


def _snapshot(folder, tid, cloud, name, domain, users):
    raw = RawTenant(tenant_id=tid, cloud=cloud, fetched_at="2026-11-26T10:00:00Z", users=users,
                    subscribed_skus=[], domains=[{"id": domain, "isVerified": True, "isDefault": True,
                                                  "isInitial": False}],
                    organization=[{"id": tid, "displayName": name}], groups=[], group_members={},
                    scoping_group_ids=[])
    return write_snapshot(raw, build_tenant_data(raw), folder)


@pytest.fixture()
def snapshots(tmp_path):
    users = [{"id": f"s{i}", "userPrincipalName": f"user{i}@contoso.com", "mail": f"user{i}@contoso.com",
              "displayName": f"User {i}", "accountEnabled": True, "userType": "Member", "department": "Sales"}
             for i in range(3)]
    src = _snapshot(tmp_path / "src", SOURCE_TID, "commercial", "Contoso", "contoso.com", users)
    tgt = _snapshot(tmp_path / "tgt", TARGET_TID, "commercial", "Fabrikam", "fabrikam.com", [])
    return src, tgt


def run(*args):
    return CliRunner().invoke(cli, [*map(str, args)])


def test_plan_from_snapshots_writes_plan_and_workbook(snapshots, tmp_path):
    src, tgt = snapshots
    result = run("plan", "--source", src, "--target", tgt, "--out", tmp_path / "plan.json",
                 "--report", tmp_path / "plan.xlsx", "-o", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["counts"]["create"] == 3 and doc["pair"]["kind"] == "same-cloud"
    assert (tmp_path / "plan.json").is_file() and (tmp_path / "plan.xlsx").is_file()
    again = run("plan", "--source", src, "--target", tgt, "--out", tmp_path / "again.json")
    assert again.exit_code == 0
    assert (tmp_path / "again.json").read_bytes() == (tmp_path / "plan.json").read_bytes()


def test_plan_with_a_broken_mapping_names_the_line_and_exits_2(snapshots, tmp_path):
    src, tgt = snapshots
    mapping = tmp_path / "bad.map"
    mapping.write_text("displayName = [displayName]\ngivenName = Join(\" \", [givenName]\n", encoding="utf-8")
    result = run("plan", "--source", src, "--target", tgt, "--out", tmp_path / "p.json", "--mapping", mapping)
    assert result.exit_code == 2
    assert str(mapping) in result.stderr and "row 2" in result.stderr
    assert not (tmp_path / "p.json").exists()            # nothing half-written


def test_plan_refuses_an_unsupported_cloud_pair(snapshots, tmp_path):
    src, _ = snapshots
    china = _snapshot(tmp_path / "cn", TARGET_TID, "china", "Wingtip", "wingtip.cn", [])
    gcch = _snapshot(tmp_path / "gov", SOURCE_TID, "gcch", "Fabrikam Federal", "fabrikam.us", [])
    result = run("plan", "--source", china, "--target", gcch, "--out", tmp_path / "p.json")
    assert result.exit_code == 2 and "not supported" in result.stderr


def test_show_default_mapping_prints_entras_defaults():
    result = run("plan", "--show-default-mapping")
    assert result.exit_code == 0 and "once userType" in result.stdout and "displayName" in result.stdout


def test_eligibility_exits_1_when_users_in_scope_are_not_licensed(snapshots, tmp_path):
    src, _ = snapshots
    result = run("eligibility", "--source", src, "--target-cloud", "gcch", "-o", "json",
                 "--csv", tmp_path / "e.csv")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["summary"]["notEligible"] == 3
    assert {u["status"] for u in doc["users"]} == {"missing_p1_and_governance"}
    assert (tmp_path / "e.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def test_eligibility_counts_only_users_the_scoping_file_puts_in_scope(snapshots, tmp_path):
    src, _ = snapshots
    scope = tmp_path / "scope.txt"
    scope.write_text('filter One\n    userPrincipalName EQUALS "user1@contoso.com"\n', encoding="utf-8")
    result = run("eligibility", "--source", src, "--target-cloud", "gcch", "--scope", scope, "-o", "json")
    doc = json.loads(result.stdout)
    assert doc["summary"]["usersInScope"] == 1 and doc["summary"]["notEligible"] == 1
    assert {u["status"] for u in doc["users"] if u["userPrincipalName"] != "user1@contoso.com"} == {"not_in_scope"}
