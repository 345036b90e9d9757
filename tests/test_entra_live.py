"""The entra engine end to end against the simulator, from the command line: plan a scope change through the live
job, apply it (scope changes, start), let the simulated engine run its cycle, and verify planned vs. observed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import pytest
from click.testing import CliRunner

from conftest import SEED_APP
from toolkit.cli.main import cli
from xts_sim import GROUP, SOURCE, TARGET, callers, pair_sim, ready_cross_cloud_pair, target_user_for


@pytest.fixture()
def world(tmp_path: Path) -> Iterator[tuple]:
    sim = pair_sim(users=8)
    try:
        src, tgt, _ = callers(sim)
        if src.get("auditLogs/provisioning").status_code != 200:
            pytest.skip("this checkout's simulator does not serve GET /auditLogs/provisioning yet (it comes with "
                        "the provisioning-log reader)")
        sp, job_id = ready_cross_cloud_pair(sim, src, tgt)
        sim.run_sync_cycle(SOURCE)
        config = sim.write_profiles(tmp_path / "config.toml")
        entries = {(e["tenant"], e["client_id"]): e for e in sim.profile_entries()}
        s, t = entries[(SOURCE, SEED_APP)], entries[(TARGET, SEED_APP)]
        env = {s["secret_env"]: sim.secret_for(SOURCE, SEED_APP), t["secret_env"]: sim.secret_for(TARGET, SEED_APP)}
        yield sim, src, sp, job_id, config, s["name"], t["name"], env
    finally:
        sim.stop()


def run(config: Path, env: dict, *args: str):
    return CliRunner().invoke(cli, [*args, "--config", str(config), "--output", "json"], env=env)


def test_plan_apply_cycle_verify(world, tmp_path: Path):
    sim, src, sp, job_id, config, source, target, env = world
    scope = tmp_path / "scope.txt"
    scope.write_text('filter Sales\n    department EQUALS "Sales"\n', encoding="utf-8")
    plan = tmp_path / "plan.json"
    result = run(config, env, "plan", "--job", source, "--target", target, "--scope", str(scope), "--out", str(plan),
                 "--report", str(tmp_path / "plan.xlsx"))
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["engine"] == "entra" and doc["job"]["id"] == job_id
    changes = [(c["action"], c["userPrincipalName"]) for c in doc["scopeChanges"]]
    assert ("removeMember", "user2@fourthcoffee.com") in changes and ("addMember", "user1@fourthcoffee.com") in changes
    kinds = {op["sourceUpn"]: op["kind"] for op in doc["operations"]}
    assert kinds["user2@fourthcoffee.com"] == "delete" and kinds["user1@fourthcoffee.com"] == "create"

    applied = run(config, env, "apply", str(plan), "--profile", source, "--no-wait", "--yes")
    assert applied.exit_code == 0, applied.output
    assert {c["state"] for c in json.loads(applied.stdout)["scopeChanges"]} == {"done"}
    sim.run_sync_cycle(SOURCE)
    verified = run(config, env, "apply", str(plan), "--profile", source, "--verify-only",
                   "--target-profile", target)
    assert verified.exit_code == 0, verified.output
    report = json.loads(verified.stdout)
    assert report["mismatches"] == 0 and report["users"]
    assert all(u["planned"] == u["observed"] or u["planned"] == "skip" for u in report["users"])


def test_apply_refuses_a_plan_whose_schema_changed(world, tmp_path: Path):
    sim, src, sp, job_id, config, source, target, env = world
    plan = tmp_path / "plan.json"
    assert run(config, env, "plan", "--job", source, "--target", target, "--out", str(plan)).exit_code == 0
    path = f"servicePrincipals/{sp['id']}/synchronization/jobs/{job_id}/schema"
    schema = src.get(path).json()
    schema["synchronizationRules"][0]["objectMappings"][0]["flowTypes"] = "Add, Update"
    assert src.call("PUT", path, json=schema).status_code == 204
    refused = run(config, env, "apply", str(plan), "--profile", source, "--yes")
    assert refused.exit_code == 2 and "schema changed" in refused.output
    assert not src.get(f"groups/{GROUP}/members").json()["value"] == []      # nothing was changed


def _sales_plan(config: Path, env: dict, source: str, target: str, tmp_path: Path) -> Path:
    scope = tmp_path / "scope.txt"
    scope.write_text('filter Sales\n    department EQUALS "Sales"\n', encoding="utf-8")
    plan = tmp_path / "plan.json"
    result = run(config, env, "plan", "--job", source, "--target", target, "--scope", str(scope), "--out", str(plan))
    assert result.exit_code == 0, result.output
    return plan


def test_apply_on_demand_provisions_the_planned_users_and_verifies(world, tmp_path: Path):
    # --on-demand against the simulated engine: no cycle runs; each planned user is provisioned now.
    sim, src, sp, job_id, config, source, target, env = world
    plan = _sales_plan(config, env, source, target, tmp_path)
    applied = run(config, env, "apply", str(plan), "--profile", source, "--on-demand", "--yes",
                  "--target-profile", target)
    assert applied.exit_code == 0, applied.output
    doc = json.loads(applied.stdout)
    assert doc["run"] == "on-demand" and doc["cycleEnded"] is None
    planned = {u["sourceUpn"]: u["planned"] for u in doc["users"]}
    assert planned["user1@fourthcoffee.com"] == "create" and planned["user2@fourthcoffee.com"] == "delete"
    assert {r["userId"] for r in doc["onDemand"]} == {u["sourceId"] for u in doc["users"]
                                                      if u["planned"] in ("create", "update", "delete", "disable")}
    assert {r["result"] for r in doc["onDemand"]} == {"Success"}
    assert doc["mismatches"] == 0
    assert target_user_for(sim, "user1@fourthcoffee.com") is not None


def _side(sim, role: str, tenant: str):
    from toolkit.xts.calls import TenantSide

    profile = next(p for p in sim.profiles() if p.tenant == tenant and p.client_id == SEED_APP)
    side = TenantSide.from_profile(role, profile, secret=sim.secret_for(tenant, SEED_APP))
    side.load_organization()
    return side


def test_apply_waits_for_the_cycle_the_engine_runs_then_verifies(world, tmp_path: Path, monkeypatch):
    from toolkit.apply.entra import apply_entra_plan
    from toolkit.plan import load_plan

    sim, src, sp, job_id, config, source, target, env = world
    monkeypatch.setenv("CCSYNC_CACHE_DIR", str(tmp_path / "tokens"))
    plan = load_plan(_sales_plan(config, env, source, target, tmp_path))
    polls: list[float] = []

    def time_passes(seconds: float) -> None:
        # While apply waits, Entra runs its cycle (the simulated engine runs it when asked).
        polls.append(seconds)
        sim.run_sync_cycle(SOURCE)

    result = apply_entra_plan(plan, _side(sim, "source", SOURCE), journal_path=tmp_path / "j.sqlite", poll_s=5.0,
                              timeout_s=60.0, sleep=time_passes, target_side=_side(sim, "target", TARGET))
    assert result.run == "start" and polls == [5.0]             # the cycle before the start does not count
    assert result.cycle_ended and result.cycle_ended[:19] >= result.started_at[:19]
    assert result.mismatches == 0 and not result.notes
    assert set(result.verification["observed"]) >= {"create", "delete"}


def test_apply_reports_what_the_logs_show_when_no_cycle_ends_in_time(world, tmp_path: Path, monkeypatch):
    from toolkit.apply.entra import apply_entra_plan
    from toolkit.plan import load_plan

    sim, src, sp, job_id, config, source, target, env = world
    monkeypatch.setenv("CCSYNC_CACHE_DIR", str(tmp_path / "tokens"))
    plan = load_plan(_sales_plan(config, env, source, target, tmp_path))
    polls: list[float] = []
    result = apply_entra_plan(plan, _side(sim, "source", SOURCE), journal_path=tmp_path / "j.sqlite", poll_s=5.0,
                              timeout_s=10.0, sleep=polls.append)
    assert polls == [5.0, 5.0] and result.cycle_ended is None
    assert any("no cycle ended within 10 s" in n for n in result.notes)
    # Nothing happened yet: the planned create and delete are reported as mismatches, not hidden.
    assert result.mismatches >= 2


def test_an_interrupted_apply_is_continued_only_with_resume(world, tmp_path: Path):
    sim, src, sp, job_id, config, source, target, env = world
    plan = _sales_plan(config, env, source, target, tmp_path)
    add = next(c for c in json.loads(plan.read_text())["scopeChanges"] if c["action"] == "addMember")
    assert src.call("DELETE", f"users/{add['userId']}").status_code == 204     # gone before the apply
    first = run(config, env, "apply", str(plan), "--profile", source, "--yes", "--no-wait")
    assert first.exit_code == 1, first.output
    states = {c["changeId"]: c["state"] for c in json.loads(first.stdout)["scopeChanges"]}
    assert states.pop(add["changeId"]) == "failed" and set(states.values()) == {"done"}
    assert "job was not started" in first.stderr
    again = run(config, env, "apply", str(plan), "--profile", source, "--yes", "--no-wait")
    assert again.exit_code == 2 and "interrupted" in again.output and "--resume" in again.output
    resumed = run(config, env, "apply", str(plan), "--profile", source, "--yes", "--no-wait", "--resume")
    assert resumed.exit_code == 1, resumed.output                 # resumed: the change is sent again, still fails
    assert json.loads(resumed.stdout)["failedScopeChanges"] == 1
