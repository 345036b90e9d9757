"""Applying plans to a simulated target: the end state, re-planning to zero, what-if, stale targets, refusals."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Iterator

import pytest

from toolkit.apply import apply_plan, write_results_csv, write_results_workbook
from toolkit.errors import InputError
from toolkit.plan.planfile import SyncPlan, load_plan
from toolkit.simulator import SimConfig, Simulator

from apply_helpers import (FABRIKAM, client, link_of, linked_users, make_plan, mapping_with_usage_location,
                                sim_time, source_tenant, source_user)


@pytest.fixture()
def sim() -> Iterator[Simulator]:
    with Simulator(SimConfig()) as running:
        yield running


def _save(plan: SyncPlan, tmp_path: Path, name: str = "plan.json") -> Path:
    return plan.save(tmp_path / name)


def test_apply_creates_updates_and_replans_to_zero(sim: Simulator, tmp_path: Path) -> None:
    tenant = sim.tenant(FABRIKAM)
    sku = max(tenant.skus, key=tenant.available_units)
    n = min(30, tenant.available_units(sku))
    assert n >= 5
    group = next(iter(tenant.groups))
    users = [source_user(i) for i in range(n)]
    options = dict(mapping=mapping_with_usage_location(), target_licenses=(sku,), target_groups=(group,))
    plan = make_plan(sim, source_tenant(users), **options)
    assert plan.counts()["create"] == n
    path = _save(plan, tmp_path)
    before = len(tenant.users)

    result = apply_plan(plan, client(sim), cloud="gcch", plan_path=path, options=sim_time())

    assert result.failed == 0, result.failures.to_dict("records")
    assert result.summary["states"] == {"done": n}
    assert len(tenant.users) == before + n
    links = linked_users(sim)
    for i in range(n):
        [user] = links[link_of(i)]                       # exactly one target user per source user
        assert user["userType"] == "Member" and user["creationType"] == "Invitation"
        assert user["mail"] == f"user{i:05d}@contoso.com"
        assert user["jobTitle"] == "Engineer" and user["usageLocation"] == "US"
        assert user["id"] in tenant.groups[group]["members"]
        assert sku in [a["skuId"] for a in tenant.direct_licenses[user["id"]]]

    # The journal knows every operation as done, with the new user's id.
    with sqlite3.connect(tmp_path / "plan.json.journal.sqlite") as db:
        rows = db.execute("SELECT state, target_id FROM ops").fetchall()
        assert {s for s, _ in rows} == {"done"} and all(t for _, t in rows)
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"

    # Re-planning against the target as it is now leaves nothing to do.
    again = make_plan(sim, source_tenant(users), **options)
    assert again.counts()["total"] == 0
    empty = apply_plan(again, client(sim), cloud="gcch", plan_path=_save(again, tmp_path, "again.json"),
                       options=sim_time())
    assert empty.nothing_to_do and "no operation to carry out" in empty.message()

    # A second apply of the finished plan does nothing and says so.
    second = apply_plan(load_plan(path), client(sim), cloud="gcch", plan_path=path, options=sim_time())
    assert second.nothing_to_do and second.exit_code == 0
    assert "already applied" in second.message()
    assert len(tenant.users) == before + n


def test_update_patches_only_changed_attributes_and_deletes_need_confirmation(sim: Simulator,
                                                                               tmp_path: Path) -> None:
    users = [source_user(i) for i in range(6)]
    first = make_plan(sim, source_tenant(users))
    apply_plan(first, client(sim), cloud="gcch", plan_path=_save(first, tmp_path, "first.json"), options=sim_time())
    changed = [source_user(i, jobTitle="Manager") if i < 3 else source_user(i) for i in range(5)]  # 5 left
    plan = make_plan(sim, source_tenant(changed))
    assert plan.counts()["update"] == 3 and plan.counts()["delete"] == 1
    path = _save(plan, tmp_path)
    tenant = sim.tenant(FABRIKAM)

    with pytest.raises(InputError, match="deletes 1"):
        apply_plan(plan, client(sim), cloud="gcch", plan_path=path, options=sim_time())
    assert all(u["jobTitle"] == "Engineer" for link, [u] in linked_users(sim).items())

    result = apply_plan(plan, client(sim), cloud="gcch", plan_path=path,
                        options=sim_time(allow_destructive=True))
    assert result.failed == 0 and result.summary["states"] == {"done": 4}
    links = linked_users(sim)
    assert [links[link_of(i)][0]["jobTitle"] for i in range(5)] == ["Manager"] * 3 + ["Engineer"] * 2
    assert link_of(5) not in links                          # soft-deleted: in the deleted items
    assert any((u.get("onPremisesExtensionAttributes") or {}).get("extensionAttribute15") == link_of(5)
               for u in tenant.deleted.values())
    assert make_plan(sim, source_tenant(changed)).counts()["total"] == 0


def test_a_create_whose_linked_user_was_deleted_is_restored_not_duplicated(sim: Simulator, tmp_path: Path) -> None:
    users = [source_user(i) for i in range(3)]
    first = make_plan(sim, source_tenant(users))
    apply_plan(first, client(sim), cloud="gcch", plan_path=_save(first, tmp_path, "first.json"), options=sim_time())
    gone = make_plan(sim, source_tenant(users[:2]))
    apply_plan(gone, client(sim), cloud="gcch", plan_path=_save(gone, tmp_path, "gone.json"),
               options=sim_time(allow_destructive=True))
    deleted_id = next(u["id"] for u in sim.tenant(FABRIKAM).deleted.values()
                      if (u.get("onPremisesExtensionAttributes") or {}).get("extensionAttribute15") == link_of(2))
    # The planner only sees active users, so the returning source user is planned as a create ...
    back = make_plan(sim, source_tenant(users))
    assert back.counts()["create"] == 1
    result = apply_plan(back, client(sim), cloud="gcch", plan_path=_save(back, tmp_path, "back.json"),
                        options=sim_time())
    # ... and apply restores the deleted user instead of inviting a second one.
    assert result.frame["kind"].tolist() == ["restore"] and result.failed == 0
    assert [u["id"] for u in linked_users(sim)[link_of(2)]] == [deleted_id]
    # Had the run been killed with the restore in flight, resuming finds the restored user: still one user.
    from toolkit.apply import Journal
    from toolkit.plan.planfile import canonical_digest

    journal = Journal(tmp_path / "back.json.journal.sqlite", canonical_digest(back.to_document()))
    journal.update([{"op_id": back.ops["opId"][0], "state": "sent", "step": "main", "sent_at": 0.0}])
    journal.close()
    resumed = apply_plan(back, client(sim), cloud="gcch", plan_path=tmp_path / "back.json",
                         options=sim_time(resume=True))
    assert resumed.frame["kind"].tolist() == ["restore"] and resumed.summary["states"] == {"done": 1}
    assert [u["id"] for u in linked_users(sim)[link_of(2)]] == [deleted_id]


def test_what_if_reports_and_writes_nothing(sim: Simulator, tmp_path: Path) -> None:
    plan = make_plan(sim, source_tenant([source_user(i) for i in range(5)]))
    path = _save(plan, tmp_path)
    before = set(sim.tenant(FABRIKAM).users)
    result = apply_plan(plan, client(sim), cloud="gcch", plan_path=path, options=sim_time(what_if=True))
    assert result.what_if and result.summary["states"] == {"planned": 5}
    assert set(sim.tenant(FABRIKAM).users) == before
    assert not (tmp_path / "plan.json.journal.sqlite").exists()
    assert "nothing was written" in result.message()


def test_stale_target_is_skipped_not_clobbered(sim: Simulator, tmp_path: Path) -> None:
    users = [source_user(i) for i in range(4)]
    first = make_plan(sim, source_tenant(users))
    apply_plan(first, client(sim), cloud="gcch", plan_path=_save(first, tmp_path, "first.json"), options=sim_time())
    plan = make_plan(sim, source_tenant([source_user(i, department="Legal") for i in range(4)]))
    assert plan.counts()["update"] == 4
    # Someone edits user 1 in the target after the plan was made.
    victim = linked_users(sim)[link_of(1)][0]
    client(sim).patch(f"users/{victim['id']}", json={"department": "Finance"})

    result = apply_plan(plan, client(sim), cloud="gcch", plan_path=_save(plan, tmp_path), options=sim_time())

    row = result.frame.set_index("targetId").loc[victim["id"]]
    assert row["state"] == "skipped"
    assert "department is 'Finance', the plan expected 'Sales'" in row["message"]
    assert "plan again" in row["action"]
    assert sim.tenant(FABRIKAM).users[victim["id"]]["department"] == "Finance"     # not overwritten
    others = [linked_users(sim)[link_of(i)][0]["department"] for i in (0, 2, 3)]
    assert others == ["Legal"] * 3
    assert result.exit_code == 0


def test_plan_for_another_cloud_or_tenant_is_refused_before_writing(sim: Simulator, tmp_path: Path) -> None:
    plan = make_plan(sim, source_tenant([source_user(1)]))
    before = set(sim.tenant(FABRIKAM).users)
    litware = "eeb79c22-e3fa-51b3-b1d1-4e626ca2d1cc"
    with pytest.raises(InputError, match="targets the gcch cloud, but the profile signs in to gcc"):
        apply_plan(plan, client(sim, litware), cloud="gcc", plan_path=tmp_path / "p.json", options=sim_time())
    other = SyncPlan(header={**plan.header, "target": {**plan.header["target"],
                                                       "tenantId": "99999999-9999-4999-8999-999999999999"}},
                     ops=plan.ops, changes=plan.changes)
    with pytest.raises(InputError, match="but the profile reaches tenant " + FABRIKAM):
        apply_plan(other, client(sim), cloud="gcch", plan_path=tmp_path / "p.json", options=sim_time())
    assert set(sim.tenant(FABRIKAM).users) == before
    assert not list(tmp_path.iterdir())


def test_journal_of_another_plan_and_unfinished_runs_are_refused(sim: Simulator, tmp_path: Path) -> None:
    plan_a = make_plan(sim, source_tenant([source_user(1)]))
    plan_b = make_plan(sim, source_tenant([source_user(2)]))
    journal = tmp_path / "shared.sqlite"
    apply_plan(plan_a, client(sim), cloud="gcch", options=sim_time(journal_path=journal))
    with pytest.raises(InputError, match="belongs to another plan"):
        apply_plan(plan_b, client(sim), cloud="gcch", options=sim_time(journal_path=journal))
    # An interrupted run (an operation sent, outcome unknown) is only continued with resume.
    path = _save(plan_b, tmp_path)
    from toolkit.apply import Journal
    from toolkit.plan.planfile import canonical_digest
    j = Journal(tmp_path / "plan.json.journal.sqlite", canonical_digest(plan_b.to_document()))
    j.add_operations([(plan_b.ops["opId"][0], "create")])
    j.mark_sent([(plan_b.ops["opId"][0], "main")])
    j.close()
    with pytest.raises(InputError, match="interrupted") as err:
        apply_plan(plan_b, client(sim), cloud="gcch", plan_path=path, options=sim_time())
    assert "--resume" in str(err.value)
    result = apply_plan(plan_b, client(sim), cloud="gcch", plan_path=path,
                        options=sim_time(resume=True, unknown_create_wait=0.5))
    assert result.summary["states"] == {"done": 1}
    assert len(linked_users(sim)[link_of(2)]) == 1


def test_failures_carry_graph_error_and_advice_into_workbook_and_csv(sim: Simulator, tmp_path: Path) -> None:
    tenant = sim.tenant(FABRIKAM)
    sku = next(iter(tenant.skus))
    # The SKU has no free unit left, so Graph refuses the licence: the create's follow-up fails.
    tenant.skus[sku]["prepaidUnits"]["enabled"] = tenant.skus[sku]["consumedUnits"]
    plan = make_plan(sim, source_tenant([source_user(i) for i in range(2)]), target_licenses=(sku,),
                     mapping=mapping_with_usage_location())
    result = apply_plan(plan, client(sim), cloud="gcch", plan_path=_save(plan, tmp_path), options=sim_time())
    assert result.failed == 2 and result.exit_code == 1
    failure = result.failures.iloc[0]
    assert failure["httpStatus"] == 400 and failure["errorCode"] == "Request_BadRequest"
    assert "available licenses" in failure["message"] and failure["requestId"]
    assert "licences" in failure["action"]
    xlsx = write_results_workbook(result, tmp_path / "results.xlsx", plan_file="plan.json")
    csv = write_results_csv(result, tmp_path / "results.csv")
    import openpyxl

    wb = openpyxl.load_workbook(xlsx)
    assert wb.sheetnames[:3] == ["Summary", "Failures", "Skipped"]
    cells = [c.value for row in wb["Failures"].iter_rows() for c in row]
    assert "Request_BadRequest" in cells and failure["requestId"] in cells
    assert "available licenses" in csv.read_text(encoding="utf-8-sig")
    # After fixing the cause, --retry-failed sends the failed operations again (and only them).
    tenant.skus[sku]["prepaidUnits"]["enabled"] += 10
    retry = apply_plan(plan, client(sim), cloud="gcch", plan_path=tmp_path / "plan.json",
                       options=sim_time(retry_failed=True))
    assert retry.summary["states"] == {"done": 2}
    assert len(linked_users(sim)[link_of(0)]) == 1


def test_disable_sets_account_enabled_false_for_disabled_and_departed_users(sim: Simulator, tmp_path: Path) -> None:
    users = [source_user(i) for i in range(4)]
    first = make_plan(sim, source_tenant(users))
    apply_plan(first, client(sim), cloud="gcch", plan_path=_save(first, tmp_path, "first.json"), options=sim_time())
    # User 1 is disabled at the source; user 3 left; the admin deprovisions by disabling.
    now = [source_user(0), source_user(1, accountEnabled=False), source_user(2)]
    plan = make_plan(sim, source_tenant(now), on_deprovision="disable")
    assert plan.counts()["disable"] == 2
    result = apply_plan(plan, client(sim), cloud="gcch", plan_path=_save(plan, tmp_path),
                        options=sim_time(allow_destructive=True))
    assert result.summary["states"] == {"done": 2}
    links = linked_users(sim)
    assert [links[link_of(i)][0]["accountEnabled"] for i in range(4)] == [True, False, True, False]
    assert make_plan(sim, source_tenant(now), on_deprovision="disable").counts()["total"] == 0


def test_a_host_can_stop_the_run_and_resume_it(sim: Simulator, tmp_path: Path) -> None:
    import threading

    plan = make_plan(sim, source_tenant([source_user(i) for i in range(120)]))
    path = _save(plan, tmp_path)
    stop = threading.Event()
    progress: list[dict] = []

    def on_event(event: dict) -> None:
        if event.get("event") == "apply_progress":
            progress.append(event)
            if event["completed"] >= 20:
                stop.set()

    first = apply_plan(plan, client(sim), cloud="gcch", plan_path=path,
                       options=sim_time(stop=stop, on_event=on_event, concurrency=1))
    assert first.interrupted and first.exit_code == 1 and "--resume" in first.message()
    states = first.summary["states"]
    assert "sent" not in states and states.get("pending", 0) > 0 and states.get("done", 0) >= 20
    assert all({"completed", "total", "rate", "eta"} <= set(e) for e in progress)
    rest = apply_plan(plan, client(sim), cloud="gcch", plan_path=path, options=sim_time(resume=True))
    assert rest.summary["states"] == {"done": 120}
    assert all(len(users) == 1 for users in linked_users(sim).values()) and len(linked_users(sim)) == 120


def test_resume_finds_a_created_user_by_its_link(sim: Simulator, tmp_path: Path) -> None:
    from toolkit.apply import Journal
    from toolkit.plan.planfile import canonical_digest

    plan = make_plan(sim, source_tenant([source_user(7)]))
    path = _save(plan, tmp_path)
    apply_plan(plan, client(sim), cloud="gcch", plan_path=path, options=sim_time())
    [user] = linked_users(sim)[link_of(7)]
    user["mail"] = "renamed@contoso.com"        # the invitation-mail fallback would not find it any more
    journal = Journal(tmp_path / "plan.json.journal.sqlite", canonical_digest(plan.to_document()))
    journal.update([{"op_id": plan.ops["opId"][0], "state": "sent", "step": "main", "target_id": None,
                     "sent_at": 0.0}])
    journal.close()
    resumed = apply_plan(plan, client(sim), cloud="gcch", plan_path=path,
                         options=sim_time(resume=True, unknown_create_wait=0.2))
    assert resumed.summary["states"] == {"done": 1}
    assert resumed.frame["targetId"].tolist() == [user["id"]]
    assert [u["id"] for u in linked_users(sim)[link_of(7)]] == [user["id"]]


def test_follow_ups_wait_their_delay_on_the_runs_clock(sim: Simulator, tmp_path: Path) -> None:
    """The executor reads time and waits only through its injected clock (toolkit/apply/clock.py): a 30-second
    follow-up delay is honoured, in simulated time, and the created users still end complete."""
    from toolkit.apply import ApplyOptions
    from toolkit.apply.clock import SimulatedClock

    group = next(g for g in sim.tenant(FABRIKAM).groups.values() if not g.get("mailEnabled"))["id"]
    plan = make_plan(sim, source_tenant([source_user(i) for i in range(3)]), target_groups=(group,))
    clock = SimulatedClock()
    result = apply_plan(plan, client(sim), cloud="gcch", plan_path=_save(plan, tmp_path),
                        options=ApplyOptions(clock=clock, follow_up_delay=30.0))
    assert result.summary["states"] == {"done": 3}
    assert clock.slept >= 30.0
    members = sim.tenant(FABRIKAM).groups[group]["members"]
    assert all(linked_users(sim)[link_of(i)][0]["id"] in members for i in range(3))
