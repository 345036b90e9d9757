"""``ccsync apply`` from the command line: JSON output, refusals with exit code 2, results files, exit code 1."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import pytest
from click.testing import CliRunner

from toolkit.cli.main import cli
from toolkit.simulator import SimConfig, Simulator

from apply_helpers import (FABRIKAM, linked_users, make_plan, mapping_with_usage_location, profile,
                               source_tenant, source_user)


@pytest.fixture()
def sim() -> Iterator[Simulator]:
    with Simulator(SimConfig()) as running:
        yield running


def _run(sim: Simulator, tmp_path: Path, *args: str, tenant: str = FABRIKAM):
    config = sim.write_profiles(tmp_path / "config.toml")
    prof = profile(sim, tenant)
    runner = CliRunner()
    return runner.invoke(cli, ["apply", *args, "--profile", prof.name, "--config", str(config), "--output", "json",
                               "--progress", "none"], env={prof.secret_env: sim.secret_for(tenant)})


def test_cli_applies_writes_results_and_says_nothing_to_do_next_time(sim: Simulator, tmp_path: Path) -> None:
    plan = make_plan(sim, source_tenant([source_user(i) for i in range(4)])).save(tmp_path / "plan.json")
    result = _run(sim, tmp_path, str(plan))
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["summary"]["states"] == {"done": 4}
    assert Path(doc["workbook"]).name == "plan.json.results.xlsx" and Path(doc["workbook"]).exists()
    assert Path(doc["csv"]).exists() and Path(doc["journal"]).name == "plan.json.journal.sqlite"
    assert "4 done, 0 failed" in result.stderr
    again = _run(sim, tmp_path, str(plan))
    assert again.exit_code == 0 and json.loads(again.stdout)["nothingToDo"] is True
    assert "Nothing to do" in again.stderr


def test_cli_what_if_lists_operations_and_writes_nothing(sim: Simulator, tmp_path: Path) -> None:
    plan = make_plan(sim, source_tenant([source_user(i) for i in range(3)])).save(tmp_path / "plan.json")
    before = set(sim.tenant(FABRIKAM).users)
    result = _run(sim, tmp_path, str(plan), "--what-if")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert [op["state"] for op in doc["operations"]] == ["planned"] * 3
    assert set(sim.tenant(FABRIKAM).users) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml", "plan.json"]


def test_cli_refuses_a_tampered_plan_with_exit_2(sim: Simulator, tmp_path: Path) -> None:
    plan = make_plan(sim, source_tenant([source_user(1)])).save(tmp_path / "plan.json")
    doc = json.loads(plan.read_text())
    doc["operations"][0]["source"]["userPrincipalName"] = "mallory@contoso.com"
    plan.write_text(json.dumps(doc))
    before = set(sim.tenant(FABRIKAM).users)
    result = _run(sim, tmp_path, str(plan), "--yes")
    assert result.exit_code == 2
    assert "integrity hash does not match" in result.stderr
    assert json.loads(result.stdout)["error"] == "InputError"
    assert set(sim.tenant(FABRIKAM).users) == before
    assert not (tmp_path / "plan.json.journal.sqlite").exists()


def test_cli_refuses_a_plan_for_another_cloud(sim: Simulator, tmp_path: Path) -> None:
    plan = make_plan(sim, source_tenant([source_user(1)])).save(tmp_path / "plan.json")
    result = _run(sim, tmp_path, str(plan), tenant="eeb79c22-e3fa-51b3-b1d1-4e626ca2d1cc")   # Litware, gcc
    assert result.exit_code == 2
    assert "targets the gcch cloud, but the profile signs in to gcc" in result.stderr


def test_cli_deletes_need_yes_when_not_interactive(sim: Simulator, tmp_path: Path) -> None:
    first = make_plan(sim, source_tenant([source_user(i) for i in range(2)])).save(tmp_path / "first.json")
    assert _run(sim, tmp_path, str(first)).exit_code == 0
    plan = make_plan(sim, source_tenant([source_user(0)])).save(tmp_path / "plan.json")
    refused = _run(sim, tmp_path, str(plan))
    assert refused.exit_code == 2 and "--yes" in refused.stderr
    assert len(linked_users(sim)) == 2
    done = _run(sim, tmp_path, str(plan), "--yes")
    assert done.exit_code == 0 and len(linked_users(sim)) == 1


def test_cli_exit_code_1_when_an_operation_fails(sim: Simulator, tmp_path: Path) -> None:
    tenant = sim.tenant(FABRIKAM)
    sku = next(iter(tenant.skus))
    # The SKU has no free unit, so Graph refuses the licence of the new user.
    units = tenant.skus[sku]["prepaidUnits"]["enabled"]
    tenant.skus[sku]["prepaidUnits"]["enabled"] = tenant.skus[sku]["consumedUnits"]
    plan = make_plan(sim, source_tenant([source_user(1)]), target_licenses=(sku,),
                     mapping=mapping_with_usage_location()).save(tmp_path / "plan.json")
    try:
        result = _run(sim, tmp_path, str(plan))
    finally:
        tenant.skus[sku]["prepaidUnits"]["enabled"] = units
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    [op] = doc["operations"]
    assert op["state"] == "failed" and op["errorCode"] == "Request_BadRequest" and op["requestId"]
    assert op["httpStatus"] == 400 and op["attempts"] == 2
    assert "licences" in op["action"]


def test_the_simulator_only_quota_window_scale_is_hidden_from_help_but_stays_a_registered_option() -> None:
    runner = CliRunner()
    help_text = runner.invoke(cli, ["apply", "--help"]).output
    assert "--quota-window-scale" not in help_text and "--operation" in help_text
    doc = json.loads(runner.invoke(cli, ["commands", "--output", "json"]).stdout)
    params = {p["name"]: p for e in doc["commands"] if e["path"] == "apply" for p in e["params"]}
    assert params["quota_window_scale"]["hidden"] is True and params["operations"]["hidden"] is False
    assert params["quota_window_scale"]["opts"] == ["--quota-window-scale"]     # the cmdlet still passes it


def test_results_files_go_where_the_admin_says(sim: Simulator, tmp_path: Path) -> None:
    plan = make_plan(sim, source_tenant([source_user(1)])).save(tmp_path / "plan.json")
    out = tmp_path / "out"
    out.mkdir()
    result = _run(sim, tmp_path, str(plan), "--results", str(out / "r.xlsx"), "--csv", str(out / "r.csv"),
                  "--journal", str(out / "j.sqlite"))
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert (doc["workbook"], doc["csv"], doc["journal"]) == (str(out / "r.xlsx"), str(out / "r.csv"),
                                                             str(out / "j.sqlite"))
    assert {"j.sqlite", "r.csv", "r.xlsx"} <= {p.name for p in out.iterdir()}
    assert not (tmp_path / "plan.json.results.xlsx").exists()
