"""Managers in a CSV migration, against the simulator over HTTPS: managers the file adds and managers already
in the target, set once both users exist; a manager whose create fails; the results counting members and
invitations separately."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Iterator

import pytest

from toolkit.apply import ApplyOptions, apply_plan_file
from toolkit.migrate import TargetIndex, plan_migration, validate_file
from toolkit.simulator import SimConfig, Simulator
from toolkit.simulator.faults import FaultConfig
from toolkit.simulator.manager import MANAGER_KEY
from toolkit.simulator.throttling import ThrottleConfig

from apply_helpers import FABRIKAM, client, export_target

D = "fabrikamfederal.us"
SCALE = 0.05
HEADER = ["userPrincipalName", "displayName", "password", "usageLocation", "manager", "invitedUserEmailAddress"]


@pytest.fixture()
def sim() -> Iterator[Simulator]:
    # Replication lag: a just-created manager is not visible at once, as in Entra.
    faults = FaultConfig(replication_lag_s=0.3)
    with Simulator(SimConfig(faults=faults, throttle=ThrottleConfig(time_scale=SCALE))) as running:
        yield running


def _existing(sim: Simulator, n: int) -> list[dict]:
    users = [u for u in sim.tenant(FABRIKAM).users.values() if u.get("creationType") is None
             and u.get("accountEnabled") is not False]
    return sorted(users, key=lambda u: u["userPrincipalName"])[:n]


def _write(path: Path, rows: list[list[str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        w.writerows(rows)
    return path


def _apply(sim: Simulator, plan: Path, **kwargs) -> object:
    opts = ApplyOptions(follow_up_delay=0.05, lag_tolerance=20.0, **kwargs)
    return apply_plan_file(plan, client(sim, scale=SCALE), cloud="gcch", options=opts)


def _manager_upn(sim: Simulator, upn: str) -> str | None:
    tenant = sim.tenant(FABRIKAM)
    user = tenant.find_user(upn, include_hidden=True)
    mid = user.get(MANAGER_KEY) if user else None
    return tenant.users[mid]["userPrincipalName"] if mid else None


def test_managers_from_the_file_and_from_the_target_are_set_once_both_exist(sim: Simulator,
                                                                           tmp_path: Path) -> None:
    a, b = _existing(sim, 2)
    pw = "Kx5!meadow-run"
    # Plan order is by UPN: 'zed.boss' (a manager the file adds) is created after the rows it manages.
    src = _write(tmp_path / "people.csv", [
        [f"ann.worker@{D}", "Ann Worker", pw, "US", f"zed.boss@{D}", ""],
        [f"bob.worker@{D}", "Bob Worker", pw, "US", b["id"], ""],               # existing, by object id
        [f"zed.boss@{D}", "Zed Boss", pw, "US", a["userPrincipalName"], ""],    # existing, by UPN
        [f"cy.nomanager@{D}", "Cy Nomanager", pw, "US", "", ""],
        ["", "Gus Guest", "", "", f"zed.boss@{D}", "gus@partner.example"],       # a guest's manager
        [f"self.boss@{D}", "Self Boss", pw, "US", f"self.boss@{D}", ""],         # invalid: own manager
        [f"bad name@{D}", "Bad Name", pw, "US", "", ""],                         # invalid UPN ...
        [f"dee.worker@{D}", "Dee Worker", pw, "US", f"bad name@{D}", ""],        # ... so Dee's manager is left out
    ])
    validation = validate_file(src, TargetIndex(export_target(sim)))
    problems = {(r.row, p.problem) for r in validation.invalid_rows for p in r.errors}
    assert (7, "names the user as their own manager") in problems
    assert [r.row for r in validation.invalid_rows] == [7, 8]
    plan = plan_migration(validation, skip_invalid=True)
    mig = plan.header["migration"]
    assert mig["managers"] == 4 and mig["managersLeftOut"] == [9]
    path = plan.save(tmp_path / "plan.json")

    result = _apply(sim, path)
    assert result.summary["states"] == {"done": 6}, result.failures.to_dict(orient="records")
    assert result.summary["created"] == {"members": 5, "invitations": 1}
    assert result.summary["createAs"] == "mixed"
    assert _manager_upn(sim, f"ann.worker@{D}") == f"zed.boss@{D}"
    assert _manager_upn(sim, f"bob.worker@{D}") == b["userPrincipalName"]
    assert _manager_upn(sim, f"zed.boss@{D}") == a["userPrincipalName"]
    assert _manager_upn(sim, f"cy.nomanager@{D}") is None
    assert _manager_upn(sim, f"dee.worker@{D}") is None
    guest = next(u for u in sim.tenant(FABRIKAM).users.values() if u.get("mail") == "gus@partner.example")
    assert _manager_upn(sim, guest["id"]) == f"zed.boss@{D}"
    frame = result.frame.set_index("sourceUpn")
    assert frame.loc[f"ann.worker@{D}", "result"] == "created, manager set"
    assert frame.loc[f"cy.nomanager@{D}", "result"] == "created"
    # Exactly one assignment per row with a manager, audited like Entra ('Set user manager').
    audit = [e for e in sim.tenant(FABRIKAM).audit if e["activityDisplayName"] == "Set user manager"]
    assert sorted(e["targetResources"][0]["userPrincipalName"] for e in audit) == sorted(
        [f"ann.worker@{D}", f"bob.worker@{D}", f"zed.boss@{D}", guest["userPrincipalName"]])

    again = _apply(sim, path)                      # a finished plan: nothing is sent twice
    assert again.nothing_to_do
    assert len([e for e in sim.tenant(FABRIKAM).audit if e["activityDisplayName"] == "Set user manager"]) == 4


def test_a_manager_whose_create_fails_fails_the_step_then_retry_failed_sets_it(sim: Simulator,
                                                                             tmp_path: Path) -> None:
    pw = "Kx5!meadow-run"
    src = _write(tmp_path / "people.csv", [
        [f"amy.worker@{D}", "Amy Worker", pw, "US", f"max.boss@{D}", ""],
        [f"max.boss@{D}", "Max Boss", pw, "US", "", ""],
    ])
    path = plan_migration(validate_file(src, TargetIndex(export_target(sim)))).save(tmp_path / "plan.json")
    # After planning, someone else takes the manager's UPN: its POST /users fails.
    g = client(sim)
    squatter = g.post("users", json={"accountEnabled": True, "displayName": "Squatter", "mailNickname": "maxb",
                                     "userPrincipalName": f"max.boss@{D}",
                                     "passwordProfile": {"password": "Qq9!squat-here"}})
    first = _apply(sim, path)
    rows = first.frame.set_index("sourceUpn")
    assert rows.loc[f"max.boss@{D}", "state"] == "failed"
    amy = rows.loc[f"amy.worker@{D}"]
    assert amy["state"] == "failed" and amy["step"] == "manager"
    assert f"max.boss@{D}" in amy["message"] and "--retry-failed" in amy["message"]
    assert sim.tenant(FABRIKAM).find_user(f"amy.worker@{D}", include_hidden=True) is not None   # created once
    assert first.exit_code == 1

    # (the squatter may still be replicating: Graph answers 404 for a moment, so the deletes wait it out)
    g.request("DELETE", f"users/{squatter['id']}", retry_not_found=10.0)
    g.request("DELETE", f"directory/deletedItems/{squatter['id']}", retry_not_found=10.0)
    second = _apply(sim, path, retry_failed=True)
    assert second.summary["states"] == {"done": 2}, second.failures.to_dict(orient="records")
    assert _manager_upn(sim, f"amy.worker@{D}") == f"max.boss@{D}"
    amys = [u for u in sim.tenant(FABRIKAM).users.values() if u["userPrincipalName"] == f"amy.worker@{D}"]
    assert len(amys) == 1
