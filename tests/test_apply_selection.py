"""``ccsync apply PLAN --operation OPID``: only the chosen operations of a reviewed plan, the rest exactly once later.

This is how the PowerShell cmdlet confirms per user (ShouldProcess per operation, then one apply of the approved
ones), so the checks are what an admin would notice on the simulated target and in the journal.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Iterator

import pytest
from click.testing import CliRunner

from toolkit.apply import apply_plan
from toolkit.cli.main import cli
from toolkit.errors import InputError
from toolkit.simulator import SimConfig, Simulator

from apply_helpers import (FABRIKAM, client, link_of, linked_users, make_plan, mapping_with_usage_location,
                                profile, sim_time, source_tenant, source_user)


@pytest.fixture()
def sim() -> Iterator[Simulator]:
    with Simulator(SimConfig()) as running:
        yield running


def _journal(path: Path) -> dict[str, tuple[str, int]]:
    with sqlite3.connect(path) as db:
        return {o: (s, a) for o, s, a in db.execute("SELECT op_id, state, attempts FROM ops")}


def _ids_by_user(plan) -> dict[int, str]:
    return {int(upn[4:9]): op for op, upn in zip(plan.ops["opId"], plan.ops["sourceUpn"])}


def _cli(sim: Simulator, tmp_path: Path, *args: str):
    config = sim.write_profiles(tmp_path / "config.toml")
    prof = profile(sim, FABRIKAM)
    return CliRunner().invoke(cli, ["apply", *args, "--profile", prof.name, "--config", str(config), "--output",
                                    "json", "--progress", "none"], env={prof.secret_env: sim.secret_for(FABRIKAM)})


def test_selected_operations_now_the_rest_later_each_exactly_once(sim: Simulator, tmp_path: Path) -> None:
    tenant = sim.tenant(FABRIKAM)
    group = next(g for g in tenant.groups.values() if not g.get("mailEnabled"))["id"]
    sku = max(tenant.skus, key=tenant.available_units)
    plan = make_plan(sim, source_tenant([source_user(i) for i in range(5)]), target_groups=(group,),
                     target_licenses=(sku,), mapping=mapping_with_usage_location())
    path = plan.save(tmp_path / "plan.json")
    ids = _ids_by_user(plan)

    first = apply_plan(plan, client(sim), cloud="gcch", plan_path=path,
                       options=sim_time(operations=(ids[1], ids[3])))
    assert first.summary["states"] == {"done": 2} and first.exit_code == 0
    assert sorted(first.frame["opId"]) == sorted([ids[1], ids[3]])
    assert first.summary["notSelected"] == 3 and "3 operation(s) of the plan were not selected" in first.message()
    assert sorted(linked_users(sim)) == sorted([link_of(1), link_of(3)])
    # The create came with its follow-ups: licence and group, under the create's op id.
    for i in (1, 3):
        [user] = linked_users(sim)[link_of(i)]
        assert user["id"] in tenant.groups[group]["members"]
        assert sku in [a["skuId"] for a in tenant.direct_licenses[user["id"]]]
    # The others are untouched in the journal: pending, never sent, so not an interrupted run.
    journal = _journal(tmp_path / "plan.json.journal.sqlite")
    assert {ids[i]: journal[ids[i]] for i in (0, 2, 4)} == {ids[i]: ("pending", 0) for i in (0, 2, 4)}

    again = apply_plan(plan, client(sim), cloud="gcch", plan_path=path, options=sim_time(operations=(ids[1],)))
    assert again.nothing_to_do and "the selected operations were already applied" in again.message()

    rest = apply_plan(plan, client(sim), cloud="gcch", plan_path=path,
                      options=sim_time())          # no selection: the rest
    assert rest.summary["states"] == {"done": 5} and rest.summary["notSelected"] == 0
    links = linked_users(sim)
    assert all(len(links[link_of(i)]) == 1 for i in range(5)) and len(links) == 5
    assert [tenant.groups[group]["members"].count(links[link_of(i)][0]["id"]) for i in range(5)] == [1] * 5
    assert apply_plan(plan, client(sim), cloud="gcch", plan_path=path, options=sim_time()).nothing_to_do


def test_unknown_op_ids_are_refused_before_anything_is_written(sim: Simulator, tmp_path: Path) -> None:
    plan = make_plan(sim, source_tenant([source_user(1)]))
    path = plan.save(tmp_path / "plan.json")
    before = set(sim.tenant(FABRIKAM).users)
    with pytest.raises(InputError, match="no operation nope-1") as err:
        apply_plan(plan, client(sim), cloud="gcch", plan_path=path,
                   options=sim_time(operations=(plan.ops["opId"][0], "nope-1")))
    assert "--what-if" in (err.value.hint or "")
    result = _cli(sim, tmp_path, str(path), "--operation", "nope-2", "--operation", "nope-1")
    assert result.exit_code == 2
    assert "no operation nope-1, nope-2" in result.stderr and "--operation" in result.stderr
    assert json.loads(result.stdout)["error"] == "InputError"
    assert set(sim.tenant(FABRIKAM).users) == before
    assert not (tmp_path / "plan.json.journal.sqlite").exists()


def test_held_operations_stay_held_even_when_selected(sim: Simulator, tmp_path: Path) -> None:
    first = make_plan(sim, source_tenant([source_user(i) for i in range(3)]))
    apply_plan(first, client(sim), cloud="gcch", plan_path=first.save(tmp_path / "first.json"), options=sim_time())
    plan = make_plan(sim, source_tenant([source_user(9)]), deletion_threshold=1)
    held = plan.ops[plan.ops["held"]]["opId"].tolist()
    create = plan.ops[plan.ops["kind"] == "create"]["opId"].tolist()
    assert len(held) == 3 and len(create) == 1
    result = _cli(sim, tmp_path, str(plan.save(tmp_path / "plan.json")), "--yes", "--operation", held[0],
                  "--operation", create[0])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert [op["opId"] for op in doc["operations"]] == create
    [kept] = doc["summary"]["selection"]["notCarriedOut"]
    assert kept["opId"] == held[0] and kept["reason"].startswith("held")
    assert "held or not carried out" in doc["message"]
    assert all(len(linked_users(sim)[link_of(i)]) == 1 for i in range(3))        # nothing deleted
    assert len(linked_users(sim)[link_of(9)]) == 1


def test_what_if_with_operation_lists_only_those(sim: Simulator, tmp_path: Path) -> None:
    plan = make_plan(sim, source_tenant([source_user(i) for i in range(4)]))
    path = plan.save(tmp_path / "plan.json")
    ids = _ids_by_user(plan)
    result = _cli(sim, tmp_path, str(path), "--what-if", "--operation", ids[2])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert [(op["opId"], op["state"]) for op in doc["operations"]] == [(ids[2], "planned")]
    assert doc["summary"]["notSelected"] == 3 and "not selected" in doc["message"]
    assert not linked_users(sim)


def test_resume_and_retry_failed_respect_the_selection(sim: Simulator, tmp_path: Path) -> None:
    tenant = sim.tenant(FABRIKAM)
    sku = next(iter(tenant.skus))
    units = tenant.skus[sku]["prepaidUnits"]["enabled"]
    tenant.skus[sku]["prepaidUnits"]["enabled"] = tenant.skus[sku]["consumedUnits"]     # no free licence
    plan = make_plan(sim, source_tenant([source_user(i) for i in range(3)]), target_licenses=(sku,),
                     mapping=mapping_with_usage_location())
    path = plan.save(tmp_path / "plan.json")
    ids = _ids_by_user(plan)
    failed = apply_plan(plan, client(sim), cloud="gcch", plan_path=path,
                        options=sim_time(operations=(ids[0], ids[1])))
    assert failed.summary["states"] == {"failed": 2}
    tenant.skus[sku]["prepaidUnits"]["enabled"] = units + 10

    retried = apply_plan(plan, client(sim), cloud="gcch", plan_path=path,
                         options=sim_time(retry_failed=True, operations=(ids[0],)))
    assert retried.summary["states"] == {"done": 1} and retried.summary["notSelected"] == 2
    journal = _journal(tmp_path / "plan.json.journal.sqlite")
    assert (journal[ids[0]][0], journal[ids[1]][0], journal[ids[2]]) == ("done", "failed", ("pending", 0))

    # As if a run had died with user 2's create in flight: only a selection that includes it needs --resume.
    with sqlite3.connect(tmp_path / "plan.json.journal.sqlite") as db:
        db.execute("UPDATE ops SET state='sent', attempts=1, sent_at=0 WHERE op_id=?", (ids[2],))
    other = apply_plan(plan, client(sim), cloud="gcch", plan_path=path,
                       options=sim_time(retry_failed=True, operations=(ids[1],)))
    assert other.summary["states"] == {"done": 1}
    assert _journal(tmp_path / "plan.json.journal.sqlite")[ids[2]][0] == "sent"          # not looked at
    with pytest.raises(InputError, match="interrupted"):
        apply_plan(plan, client(sim), cloud="gcch", plan_path=path, options=sim_time(operations=(ids[2],)))
    resumed = apply_plan(plan, client(sim), cloud="gcch", plan_path=path,
                         options=sim_time(resume=True, operations=(ids[2],), unknown_create_wait=0.2))
    assert resumed.summary["states"] == {"done": 1}
    links = linked_users(sim)
    assert all(len(links[link_of(i)]) == 1 for i in range(3))


def test_the_powershell_bridge_reaches_it_as_a_repeatable_option(sim: Simulator, tmp_path: Path) -> None:
    """What Invoke-CcsSyncPlan sends after per-user ShouldProcess: the registry's 'operation' list option,
    through the in-process entry point (toolkit.interop.run_command, the CLI's own parsing)."""
    import os

    from toolkit.cli.registry import describe_tree
    from toolkit.interop.run import run_command

    [param] = [p for e in describe_tree(cli)["commands"] if e["path"] == "apply" for p in e["params"]
               if p["name"] == "operations"]
    assert param["opts"] == ["--operation"] and param["multiple"] and param["metavar"] == "OPID"
    plan = make_plan(sim, source_tenant([source_user(i) for i in range(3)]))
    path = plan.save(tmp_path / "plan.json")
    ids = _ids_by_user(plan)
    config = sim.write_profiles(tmp_path / "config.toml")
    prof = profile(sim, FABRIKAM)
    run = run_command("apply", [str(path), "--profile", prof.name, "--config", str(config), "--operation", ids[0],
                                "--operation", ids[2], "--progress", "none"],
                      environment={**os.environ, prof.secret_env: sim.secret_for(FABRIKAM)})
    assert run.exit_code == 0, (run.error, run.messages)
    assert sorted(op["opId"] for op in run.document["operations"]) == sorted([ids[0], ids[2]])
    assert run.document["summary"]["notSelected"] == 1
    assert sorted(linked_users(sim)) == sorted([link_of(0), link_of(2)])


def test_a_manager_left_out_fails_only_the_manager_step_and_says_which_operation(sim: Simulator,
                                                                                tmp_path: Path) -> None:
    import pandas as pd

    plan = make_plan(sim, source_tenant([source_user(i) for i in range(2)]))
    ids = _ids_by_user(plan)
    # User 1's manager is user 0, created by the same plan (as a migration plans it: '@managerOp').
    extra = pd.DataFrame([{"opId": ids[1], "attribute": "@managerOp", "oldValue": None, "newValue": ids[0],
                           "flow": "always"}], columns=plan.changes.columns)
    plan.changes = pd.concat([plan.changes, extra], ignore_index=True)
    path = plan.save(tmp_path / "plan.json")
    result = apply_plan(plan, client(sim), cloud="gcch", plan_path=path, options=sim_time(operations=(ids[1],)))
    [row] = result.frame.to_dict("records")
    assert (row["state"], row["step"]) == ("failed", "manager")
    assert f"--operation {ids[0]}" in row["message"] and len(linked_users(sim)[link_of(1)]) == 1
    assert link_of(0) not in linked_users(sim)
    rest = apply_plan(plan, client(sim), cloud="gcch", plan_path=path, options=sim_time(retry_failed=True))
    assert rest.summary["states"] == {"done": 2}, rest.frame.to_dict("records")
    users = linked_users(sim)
    [manager], [user] = users[link_of(0)], users[link_of(1)]
    from toolkit.simulator.manager import MANAGER_KEY

    assert user.get(MANAGER_KEY) == manager["id"]
