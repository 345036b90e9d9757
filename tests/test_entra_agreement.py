"""The entra-engine plan against the simulated sync engine (hypothesis): for random tenants, scoping filters,
thresholds and changes between cycles, the outcome the plan predicts for each user is what the engine's next cycle
does, for every user whose outcome the plan claims to know (``unknown`` is excluded: the plan says it cannot
predict it, and why).

The planner and the engine share no code (``toolkit.simulator.syncengine`` must not import ``toolkit.plan``,
checked below), so agreement means two readings of Microsoft's rules agree. Each example runs a fresh simulator:
a commercial source and a GCC High target configured as the demo's pair, the job scoped to one group.
The plan reads the job over Graph (schema, secrets, assignments), the tenants with ccsync's export; the job's
links come from the source tenant's provisioning records, the list ``GET /auditLogs/provisioning`` serves.
"""

from __future__ import annotations

import ast
import json
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import SEED_APP, user_id
from toolkit.export import export_tenant
from toolkit.graph import GraphClient
from toolkit.plan.entra_job import exported_from_provisioning, links_from_provisioning, read_job
from toolkit.plan.entra_predict import predict_cycle
from toolkit.simulator import SimConfig, Simulator
from toolkit.xts.calls import TenantSide
from xts_sim import GROUP, SOURCE, TARGET, callers, pair_seeds, ready_cross_cloud_pair

ROOT = Path(__file__).resolve().parent.parent
GROUP_REF = "https://graph.microsoft.com/v1.0/directoryObjects/{}"
N = 8

FILTERS = [None,
           [{"sourceOperandName": "department", "operatorName": "EQUALS", "targetOperand": {"values": ["Sales"]}}],
           [{"sourceOperandName": "department", "operatorName": "NOT_EQUALS", "targetOperand": {"values": ["HR"]}},
            {"sourceOperandName": "jobTitle", "operatorName": "IS_NOT_NULL", "targetOperand": {"values": []}}],
           [{"sourceOperandName": "accountEnabled", "operatorName": "IS_TRUE", "targetOperand": {"values": []}}],
           [{"sourceOperandName": "jobTitle", "operatorName": "REGEX_MATCH", "targetOperand": {"values": ["^Title [1-4]$"]}}]]

user_st = st.fixed_dictionaries({
    "department": st.sampled_from(["Sales", "HR", "Engineering", None]),
    "jobTitle": st.sampled_from(["Title 1", "Title 7", None]),
    "enabled": st.booleans(),
    "kind": st.sampled_from(["member"] * 6 + ["guest", "unverified-mail"]),
    "in_group": st.booleans(),
    "in_target": st.sampled_from([None] * 5 + ["accepted", "pending", "internal"]),
})
change_st = st.fixed_dictionaries({
    "department": st.sampled_from([None, "Sales", "HR", "Legal"]),
    "jobTitle": st.sampled_from([None, "Title 2", "Title 9"]),
    "enabled": st.sampled_from([None, None, True, False]),
    "group": st.sampled_from([None, "add", "remove", "remove"]),
    "delete": st.sampled_from([False] * 7 + [True]),
    "target_edit": st.sampled_from([False] * 3 + [True]),    # an admin edits the synced user in the target
})
world_st = st.fixed_dictionaries({
    "users": st.lists(user_st, min_size=N, max_size=N),
    "filter": st.sampled_from(range(len(FILTERS))),
    "threshold": st.sampled_from([None, 1, 2, 100]),
    "first_cycle": st.sampled_from([True, True, True, False]),
    "changes": st.lists(change_st, min_size=N, max_size=N),
})


def _seeds(world: dict) -> list[dict]:
    seeds = pair_seeds(users=N)
    source, target = seeds[0], seeds[1]
    members = []
    for n, (u, spec) in enumerate(zip(source["users"], world["users"]), start=1):
        u.update(department=spec["department"], jobTitle=spec["jobTitle"], accountEnabled=spec["enabled"])
        if spec["kind"] == "guest":
            u.update(userType="Guest", creationType="Invitation",
                     userPrincipalName=f"guest{n}_adatum.com#EXT#@fourthcoffee.onmicrosoft.com")
        elif spec["kind"] == "unverified-mail":
            u["mail"] = f"user{n}@fourthcoffee.net"          # a domain the source has not verified
        if spec["in_group"]:
            members.append(u["id"])
        mail = u["mail"]
        if spec["in_target"] in ("accepted", "pending") and spec["kind"] == "member":
            target["users"].append({
                "id": f"00000000-0000-4000-9000-{n:012d}", "displayName": f"B2B {n}", "mail": mail,
                "userPrincipalName": f"{mail.replace('@', '_')}#EXT#@northwindgov.onmicrosoft.com",
                "accountEnabled": True, "userType": "Member", "creationType": "Invitation",
                "externalUserState": "Accepted" if spec["in_target"] == "accepted" else "PendingAcceptance",
                "assignedLicenses": [], "businessPhones": []})
        elif spec["in_target"] == "internal":
            # an internal target user holding the source user's address as a proxy address
            target["users"].append({
                "id": f"00000000-0000-4000-9100-{n:012d}", "displayName": f"Internal {n}", "mail": mail,
                "userPrincipalName": f"internal{n}@northwindgov.onmicrosoft.com", "proxyAddresses": [f"SMTP:{mail}"],
                "accountEnabled": True, "userType": "Member", "assignedLicenses": [], "businessPhones": []})
    group = next(g for g in source["groups"] if g["id"] == GROUP)
    group["members"] = members
    return seeds


def _mutate(sim, src, tgt, world: dict) -> None:
    for n, ch in enumerate(world["changes"], start=1):
        uid = user_id(n)
        if ch["target_edit"]:
            synced = next((u for u in sim.tenant(TARGET).users.values() if u.get("creationType") == "Invitation"
                           and str(u.get("mail", "")).lower() == f"user{n}@fourthcoffee.com"), None)
            if synced is not None:
                assert tgt.patch(f"users/{synced['id']}", {"department": "Edited in target"}).status_code == 204
        if ch["delete"]:
            assert src.delete(f"users/{uid}").status_code == 204
            continue
        patch = {k: v for k, v in (("department", ch["department"]), ("jobTitle", ch["jobTitle"]),
                                   ("accountEnabled", ch["enabled"])) if v is not None}
        if patch:
            assert src.patch(f"users/{uid}", patch).status_code == 204
        member = world["users"][n - 1]["in_group"]
        if ch["group"] == "add" and not member:
            assert src.post(f"groups/{GROUP}/members/$ref", {"@odata.id": GROUP_REF.format(uid)}).status_code == 204
        elif ch["group"] == "remove" and member:
            assert src.call("DELETE", f"groups/{GROUP}/members/{uid}/$ref").status_code == 204


def _engine_outcomes(records: list[dict]) -> dict[str, str]:
    """What the engine's cycle did per source user, in the plan's words."""
    by_user: dict[str, set[str]] = {}
    for r in records:
        status = r["provisioningStatusInfo"]["status"]
        action = r["provisioningAction"]
        word = ("fail" if status == "failure" else "held" if action == "stageddelete" else
                "skip" if status == "skipped" else action)
        by_user.setdefault(r["sourceIdentity"]["id"], set()).add(word)
    out = {}
    for uid, words in by_user.items():
        # a disabled user with other changes gets an update and a disable record: the plan calls it "disable"
        out[uid] = next(w for w in ("fail", "held", "disable", "delete", "create", "update", "skip") if w in words)
    return out


def _value(v: object) -> str | None:
    return None if v is None else str(v).lower() if str(v).lower() in ("true", "false") else str(v)


def _attribute_disagreements(prediction, records: list[dict]) -> list[tuple]:
    """For planned creates, updates and disables: every planned value is what the engine wrote, and the engine
    wrote nothing else except attributes the plan says it cannot predict."""
    written: dict[str, dict[str, str | None]] = {}
    for r in records:
        if r["provisioningStatusInfo"]["status"] == "success":
            for m in r["modifiedProperties"]:
                written.setdefault(r["sourceIdentity"]["id"], {})[m["displayName"]] = _value(m["newValue"])
    plan = prediction.plan
    out = []
    for op in plan.ops[plan.ops["kind"].isin(["create", "update", "disable"]) & ~plan.ops["held"]].itertuples():
        planned = {c.attribute: _value(c.newValue) for c in plan.changes[plan.changes["opId"] == op.opId].itertuples()}
        engine = written.get(op.sourceId, {})
        differ = {a: (v, engine.get(a, "(not written)")) for a, v in planned.items() if engine.get(a) != v}
        unpredictable = {part.split(":")[0].strip() for part in (op.cannotPredict or "").split(";") if part}
        extra = set(engine) - set(planned) - unpredictable - {"IsSoftDeleted"}
        if op.kind == "create":
            extra = set()                    # create: the engine may write more (e.g. the UPN ccsync does not plan)
        if differ or extra:
            out.append((op.sourceId, op.kind, {"planned vs written": differ, "written, not planned": sorted(extra)}))
    return out


def _agrees(planned: str, held: bool, observed: str | None) -> bool:
    if held:
        return observed in ("held", None)
    if planned in ("unchanged", "skip"):
        return observed in (None, "skip")
    return planned == observed


def _run(world: dict) -> tuple[list, dict, object]:
    """Plan the next cycle of a freshly configured pair, run it, and return (disagreements, stray, prediction)."""
    sim = Simulator(SimConfig(seed_dir=None, seeds=_seeds(world))).start()
    try:
        src, tgt, _ = callers(sim)
        settings_json = ({"Enabled": False, "DeleteThresholdEnabled": False} if world["threshold"] is None else
                         {"Enabled": False, "DeleteThresholdEnabled": True, "DeleteThresholdValue": world["threshold"]})
        sp, job_id = ready_cross_cloud_pair(sim, src, tgt, notification=settings_json)
        clauses = FILTERS[world["filter"]]
        if clauses:
            path = f"servicePrincipals/{sp['id']}/synchronization/jobs/{job_id}/schema"
            schema = src.get(path).json()
            schema["synchronizationRules"][0]["objectMappings"][0]["scope"] = {
                "groups": [{"name": "random filter", "clauses": clauses}]}
            assert src.call("PUT", path, json=schema).status_code == 204
        if world["first_cycle"]:
            sim.run_sync_cycle(SOURCE)
            _mutate(sim, src, tgt, world)

        profiles = {(p.tenant, p.client_id): p for p in sim.profiles()}
        src_profile, tgt_profile = profiles[(SOURCE, SEED_APP)], profiles[(TARGET, SEED_APP)]
        side = TenantSide.from_profile("source", src_profile, secret=sim.secret_for(SOURCE, SEED_APP))
        snap = read_job(side, read_logs=False)
        records = list(sim.tenant(SOURCE).provisioning)
        job = replace(snap.job, links=links_from_provisioning(records), exported=exported_from_provisioning(records))
        source = export_tenant(side.client, groups=job.assigned_groups, cloud="commercial")
        target = export_tenant(GraphClient.from_profile(tgt_profile, secret=sim.secret_for(TARGET, SEED_APP)),
                               cloud="gcch")
        prediction = predict_cycle(snap.schema, source, target, job)

        before = len(sim.tenant(SOURCE).provisioning)
        sim.run_sync_cycle(SOURCE)
        records = sim.tenant(SOURCE).provisioning[before:]
        observed = _engine_outcomes(records)
    finally:
        sim.stop()
    predicted = prediction.outcomes
    claimed = predicted[predicted["outcome"] != "unknown"]
    wrong = [(r.sourceId, r.outcome, bool(r.held), observed.get(r.sourceId), r.reason)
             for r in claimed.itertuples() if not _agrees(r.outcome, bool(r.held), observed.get(r.sourceId))]
    wrong += _attribute_disagreements(prediction, records)
    # and nothing happened to a user the plan did not consider
    considered = set(predicted["sourceId"])
    stray = {u: o for u, o in observed.items() if u not in considered and o != "skip"}
    return wrong, stray, prediction


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(world_st)
def test_the_plan_predicts_what_the_engine_does(world):
    wrong, stray, _ = _run(world)
    assert not wrong and not stray, {"disagree": wrong, "not planned": stray, "world": world}


def test_deletes_above_the_threshold_are_held_in_both():
    member = {"department": "Sales", "jobTitle": "Title 1", "enabled": True, "kind": "member", "in_group": True,
              "in_target": None}
    keep = {"department": None, "jobTitle": None, "enabled": None, "group": None, "delete": False,
            "target_edit": False}
    world = {"users": [dict(member) for _ in range(N)], "filter": 0, "threshold": 2, "first_cycle": True,
             "changes": [dict(keep, group="remove") if n < 3 else dict(keep, enabled=False) if n == 3 else keep
                         for n in range(N)]}
    wrong, stray, prediction = _run(world)
    assert not wrong and not stray, {"disagree": wrong, "not planned": stray}
    assert prediction.plan.header["cycle"]["quarantine"] == "TooManyDeletes"
    assert int(prediction.outcomes["held"].sum()) == 4          # three soft deletes and one disable


def test_the_engine_and_the_planner_share_no_code():
    for path in (ROOT / "toolkit" / "simulator").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                module = ("." * node.level) + (node.module or "")
                assert "plan" not in module.split("."), f"{path.name} imports {module}"
            elif isinstance(node, ast.Import):
                assert not any(a.name.startswith("toolkit.plan") for a in node.names), path.name
    for path in (ROOT / "toolkit" / "plan").glob("entra_*.py"):
        assert "simulator" not in path.read_text(encoding="utf-8"), path.name


def test_target_side_edits_are_kept_in_both_until_the_source_changes():
    member = {"department": "Sales", "jobTitle": "Title 1", "enabled": True, "kind": "member", "in_group": True,
              "in_target": None}
    keep = {"department": None, "jobTitle": None, "enabled": None, "group": None, "delete": False,
            "target_edit": False}
    world = {"users": [dict(member) for _ in range(N)], "filter": 0, "threshold": None, "first_cycle": True,
             "changes": [dict(keep, target_edit=True, jobTitle="Title 2" if n == 1 else None) if n < 3 else keep
                         for n in range(N)]}
    wrong, stray, prediction = _run(world)
    assert not wrong and not stray, {"disagree": wrong, "not planned": stray}
    outcomes = dict(zip(prediction.outcomes["sourceId"], prediction.outcomes["outcome"]))
    assert outcomes[user_id(1)] == "unchanged" and outcomes[user_id(3)] == "unchanged"   # edits kept
    assert outcomes[user_id(2)] == "update"                                              # source changed
