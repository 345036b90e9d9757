"""Predicting the next cycle of Entra's cross-tenant sync job, per source user."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pandas as pd
import pytest

from dataclasses import replace

from toolkit.plan import load_plan
from toolkit.plan.entra_predict import JobState, predict_cycle

from plan_helpers import SOURCE_TID, member, target_tenant, tenant

SCHEMA = json.loads((Path(__file__).parent / "fixtures" / "entra-schema" / "azure2azure-default.json")
                    .read_text(encoding="utf-8"))
GROUP = ("grp-1", "CCS-Sync-Scope")


def synced(i: int, **extra) -> dict:
    """A target user as Entra's job creates it for source member i (external member, redeemed)."""
    row = {"id": f"tgt-{i:04d}", "userPrincipalName": f"user{i}_contoso.com#EXT#@fabrikam.onmicrosoft.com",
           "mail": f"user{i}@contoso.com", "displayName": f"User {i}", "givenName": "User", "department": "Sales",
           "accountEnabled": True, "userType": "Member", "creationType": "Invitation",
           "externalUserState": "Accepted"}
    row.update(extra)
    return row


def source(users: list[dict], members: list[str]) -> object:
    return tenant(users, groups=[(GROUP[0], GROUP[1], m) for m in members])


def job(links: dict[str, str] | None = None, **kw) -> JobState:
    kw.setdefault("assigned_groups", (GROUP[0],))
    frame = pd.DataFrame(list((links or {}).items()), columns=["sourceId", "targetId"])
    return JobState(job_id="Azure2Azure.1", links=frame, **kw)


def outcome(pred, sid: str) -> dict:
    rows = pred.outcomes[pred.outcomes["sourceId"] == sid]
    assert len(rows) == 1, f"{sid}: {rows.to_dict('records')}"
    return rows.iloc[0].to_dict()


def test_create_update_disable_delete_and_unchanged():
    users = [member(1), member(2, department="R&D"), member(3, accountEnabled=False), member(4), member(6)]
    src = source(users, ["src-0001", "src-0002", "src-0003", "src-0006"])   # 4 left the group; 5 deleted
    tgt = target_tenant([synced(2), synced(3), synced(4), synced(5), synced(6)])
    links = {f"src-{i:04d}": f"tgt-{i:04d}" for i in (2, 3, 4, 5, 6)}
    pred = predict_cycle(SCHEMA, src, tgt, job(links))
    assert outcome(pred, "src-0001")["outcome"] == "create"
    assert outcome(pred, "src-0002")["outcome"] == "update"
    assert outcome(pred, "src-0003")["outcome"] == "disable"
    assert outcome(pred, "src-0004")["outcome"] == "delete"
    assert "no longer assigned" in outcome(pred, "src-0004")["reason"]
    assert outcome(pred, "src-0005")["outcome"] == "delete"
    assert outcome(pred, "src-0006")["outcome"] == "unchanged"
    plan = pred.plan
    assert plan.header["engine"] == "entra" and plan.header["job"]["id"] == "Azure2Azure.1"
    assert plan.header["schema"]["sha256"] and "src-0006" not in set(plan.ops["sourceId"])
    ch = plan.changes.merge(plan.ops[["opId", "sourceId"]], on="opId")
    dept = ch[(ch["sourceId"] == "src-0002") & (ch["attribute"] == "department")].iloc[0]
    assert (dept["oldValue"], dept["newValue"]) == ("Sales", "R&D")
    created = set(ch.loc[ch["sourceId"] == "src-0001", "attribute"])
    assert {"displayName", "userType", "showInAddressList", "accountEnabled"} <= created
    assert "alternativeSecurityIds" not in created and "IsSoftDeleted" not in created
    # showInAddressList is not returned by Graph: updates of it are named "cannot predict", not guessed
    assert "showInAddressList" in outcome(pred, "src-0002")["cannotPredict"]


def test_only_direct_members_internal_members_and_the_filter_are_in_scope():
    users = [member(1), member(2, userType="Guest", creationType="Invitation"), member(3, department="HR"),
             member(4)]
    src = tenant(users, groups=[(GROUP[0], GROUP[1], "src-0001"), (GROUP[0], GROUP[1], "src-0002"),
                                (GROUP[0], GROUP[1], "src-0003"), (GROUP[0], GROUP[1], "grp-nested"),
                                ("grp-nested", "Nested", "src-0004")])
    schema = copy.deepcopy(SCHEMA)
    schema["synchronizationRules"][0]["objectMappings"][0]["scope"] = {"groups": [
        {"name": "Sales", "clauses": [{"sourceOperandName": "department", "operatorName": "EQUALS",
                                       "targetOperand": {"values": ["Sales"]}}]}]}
    pred = predict_cycle(schema, src, target_tenant([]), job())
    assert outcome(pred, "src-0001")["outcome"] == "create"
    assert "external source user" in outcome(pred, "src-0002")["reason"]
    assert "scoping filter" in outcome(pred, "src-0003")["reason"]
    assert outcome(pred, "src-0003")["outcome"] == "skip"
    assert "src-0004" not in set(pred.outcomes["sourceId"])      # nested members are not in scope
    # SyncAll: every internal member is in scope, assigned or not
    every = predict_cycle(SCHEMA, src, target_tenant([]), job(assigned_groups=(), secrets={"SyncAll": "true"}))
    assert outcome(every, "src-0004")["outcome"] == "create"


def test_failures_carry_entra_reasons():
    users = [member(1, mail="a@unverified.example"), member(2, mail="same@contoso.com"),
             member(3, mail="same@contoso.com"), member(4), member(5)]
    src = source(users, [u["id"] for u in users])
    tgt = target_tenant([
        {"id": "int-4", "userPrincipalName": "user4@contoso.com", "mail": "user4@contoso.com",
         "userType": "Member", "creationType": None, "accountEnabled": True},
        synced(5, id="pend-5", externalUserState="PendingAcceptance")])
    pred = predict_cycle(SCHEMA, src, tgt, job())
    assert "not on a domain verified" in outcome(pred, "src-0001")["reason"]
    for sid in ("src-0002", "src-0003"):     # one target user for both: which one is not documented
        assert outcome(pred, sid)["outcome"] == "unknown" and "shares its mail" in outcome(pred, sid)["reason"]
    assert "InvitationCreationFailureAmbiguousUser" in outcome(pred, "src-0004")["reason"]
    assert "PendingAcceptance" in outcome(pred, "src-0005")["reason"]
    assert set(pred.plan.ops["kind"]) == {"fail", "unknown"}


def test_redeemed_b2b_user_is_matched_and_labelled():
    src = source([member(7, department="Finance")], ["src-0007"])
    tgt = target_tenant([synced(7, creationType="Invitation", userType="Guest")])
    pred = predict_cycle(SCHEMA, src, tgt, job())
    row = outcome(pred, "src-0007")
    assert (row["outcome"], row["matchedBy"], row["targetId"]) == ("update", "b2b", "tgt-0007")
    # userType is "Only during object creation": an existing guest stays a guest (documented)
    ch = pred.plan.changes
    assert "userType" not in set(ch["attribute"]) and "department" in set(ch["attribute"])


def test_deletion_threshold_quarantines_and_holds():
    users = [member(i) for i in range(1, 4)]
    src = source(users, [])                                   # everyone left the group
    tgt = target_tenant([synced(i) for i in range(1, 4)])
    links = {f"src-{i:04d}": f"tgt-{i:04d}" for i in range(1, 4)}
    on = {"SyncNotificationSettings": json.dumps({"Enabled": False, "DeleteThresholdEnabled": True,
                                                  "DeleteThresholdValue": 2})}
    pred = predict_cycle(SCHEMA, src, tgt, job(links, secrets=on))
    assert pred.plan.header["cycle"]["quarantine"] == "TooManyDeletes"
    assert pred.plan.counts()["held"] == 3 and pred.plan.counts()["delete"] == 3
    off = predict_cycle(SCHEMA, src, tgt, job(links, secrets={"SyncNotificationSettings": json.dumps(
        {"DeleteThresholdEnabled": False})}))
    assert off.plan.header["cycle"]["quarantine"] is None and off.plan.counts()["held"] == 0



@pytest.mark.parametrize("settings, expected", [
    (None, 500),                                                      # no SyncNotificationSettings secret
    ({"Enabled": False}, 500),                                        # flag absent: the documented default
    ({"DeleteThresholdEnabled": True}, 500),
    ({"DeleteThresholdEnabled": "True", "DeleteThresholdValue": 7}, 7),
    ({"DeleteThresholdEnabled": False, "DeleteThresholdValue": 7}, None),
])
def test_deletion_threshold_follows_the_documented_default_like_the_engine(settings, expected):
    # [CTS-PORTAL] step 10: "By default, the threshold is set to 500"; planner and simulated engine agree.
    from toolkit.simulator.syncengine import delete_threshold

    secrets = {} if settings is None else {"SyncNotificationSettings": json.dumps(settings)}
    assert job({}, secrets=secrets).deletion_threshold == expected
    assert delete_threshold(settings or {}) == expected

def test_flow_types_without_delete_keep_target_users():
    schema = copy.deepcopy(SCHEMA)
    schema["synchronizationRules"][0]["objectMappings"][0]["flowTypes"] = "Add, Update"
    src = source([member(1)], [])
    pred = predict_cycle(schema, src, target_tenant([synced(1)]), job({"src-0001": "tgt-0001"}))
    row = outcome(pred, "src-0001")
    assert row["outcome"] == "skip" and "does not allow Delete" in row["reason"]


def test_unevaluable_scoping_gives_unknown_with_the_reason():
    schema = copy.deepcopy(SCHEMA)
    schema["synchronizationRules"][0]["objectMappings"][0]["scope"] = {"groups": [
        {"name": "bits", "clauses": [{"sourceOperandName": "employeeId", "operatorName": "&",
                                      "targetOperand": {"values": ["4"]}}]}]}
    pred = predict_cycle(schema, source([member(1)], ["src-0001"]), target_tenant([]), job())
    row = outcome(pred, "src-0001")
    assert row["outcome"] == "unknown" and "cannot predict" in row["reason"]
    assert pred.plan.counts()["unknown"] == 1


def test_entra_plan_file_round_trip(tmp_path):
    users = [member(1), member(2, mail="x@unverified.example")]
    pred = predict_cycle(SCHEMA, source(users, ["src-0001", "src-0002"]), target_tenant([]), job())
    path = pred.plan.save(tmp_path / "plan.json")
    again = load_plan(path)
    assert again.header["engine"] == "entra"
    assert again.counts() == pred.plan.counts() and again.counts()["fail"] == 1
    doc = json.loads(path.read_text())
    create = next(op for op in doc["operations"] if op["kind"] == "create")
    assert "showInAddressList" not in (create["cannotPredict"] or "")
    assert again.ops["cannotPredict"].tolist() == pred.plan.ops["cannotPredict"].tolist()
    # the same inputs give the same bytes
    assert pred.plan.dumps() == predict_cycle(SCHEMA, source(users, ["src-0001", "src-0002"]),
                                              target_tenant([]), job()).plan.dumps()


def test_cross_cloud_licence_gaps_are_listed_and_manager_never_planned():
    schema = copy.deepcopy(SCHEMA)
    schema["synchronizationRules"][0]["objectMappings"][0]["attributeMappings"].append(
        {"flowType": "Always", "source": {"expression": "[manager]", "name": "manager", "type": "Attribute"},
         "targetAttributeName": "manager"})
    src = source([member(1)], ["src-0001"])
    tgt = target_tenant([], cloud="gcch")
    pred = predict_cycle(schema, src, tgt, job())
    row = outcome(pred, "src-0001")
    assert row["outcome"] == "create"
    assert row["licence"] and "missing" in row["licence"]
    attrs = set(pred.plan.changes["attribute"])
    assert "manager" not in attrs
    assert "never planned" in pred.plan.header["schema"]["attributes"][-1]["cannotPredict"]


def test_an_assigned_group_without_members_is_named_in_the_plan():
    pred = predict_cycle(SCHEMA, source([member(1)], ["src-0001"]), target_tenant([]),
                         job(assigned_groups=(GROUP[0], "grp-empty")))
    assert pred.plan.header["job"]["assignedGroupsWithoutMembers"] == ["grp-empty"]
    assert outcome(pred, "src-0001")["outcome"] == "create"


def test_scope_file_plans_membership_changes_and_the_cycle_after_them():
    from toolkit.plan.entra_scope import plan_scope_changes
    from toolkit.plan.rules import parse_scope

    users = [member(1), member(2, department="HR"), member(3), member(4, userType="Guest",
                                                                    creationType="Invitation")]
    src = source(users, ["src-0001", "src-0002"])
    tgt = target_tenant([synced(2)])
    state = job({"src-0002": "tgt-0002"})
    desired = parse_scope('filter Sales\n    department EQUALS "Sales"\n', "scope.txt")
    sc = plan_scope_changes(src, state, desired)
    got = [(r["action"], r["userId"]) for r in sc.to_list()]
    assert got == [("addMember", "src-0003"), ("removeMember", "src-0002")]     # the guest is never added
    pred = predict_cycle(SCHEMA, sc.source_after, tgt, sc.job_after)
    assert outcome(pred, "src-0003")["outcome"] == "create"
    assert outcome(pred, "src-0002")["outcome"] == "delete"
    # a scope file naming another group assigns it and unassigns the old one
    src2 = tenant(users, groups=[(GROUP[0], GROUP[1], "src-0001"), ("grp-2", "Other", "src-0003")])
    sc2 = plan_scope_changes(src2, job(), parse_scope("group Other\n", "scope.txt"))
    assert [(r["action"], r["groupId"]) for r in sc2.to_list()] == [("assignGroup", "grp-2"),
                                                                    ("unassignGroup", "grp-1")]
    assert sc2.job_after.assigned_groups == ("grp-2",)


def test_disabled_new_users_are_created_disabled_and_ext_users_are_external():
    users = [member(1, accountEnabled=False), member(2, userPrincipalName="x_fabrikam.com#EXT#@contoso.com")]
    pred = predict_cycle(SCHEMA, source(users, ["src-0001", "src-0002"]), target_tenant([]), job())
    assert outcome(pred, "src-0001")["outcome"] == "create"
    ch = pred.plan.changes
    assert ch.loc[ch["attribute"] == "accountEnabled", "newValue"].tolist() == ["false"]
    assert "external source user" in outcome(pred, "src-0002")["reason"]


def test_a_link_to_a_target_user_that_is_gone_is_not_guessed():
    pred = predict_cycle(SCHEMA, source([member(1)], ["src-0001"]), target_tenant([]), job({"src-0001": "tgt-gone"}))
    row = outcome(pred, "src-0001")
    assert row["outcome"] == "unknown" and "restores" in row["reason"]


def test_mail_is_written_on_create_and_upn_mapping_is_not_predicted():
    schema = copy.deepcopy(SCHEMA)
    maps = schema["synchronizationRules"][0]["objectMappings"][0]["attributeMappings"]
    for name in ("mail", "userPrincipalName"):
        maps.append({"flowType": "Always", "source": {"expression": f"[{name}]", "name": name, "type": "Attribute"},
                     "targetAttributeName": name})
    src = source([member(1), member(2, mail="new2@contoso.com")], ["src-0001", "src-0002"])
    pred = predict_cycle(schema, src, target_tenant([synced(2)]), job({"src-0002": "tgt-0002"}))
    created = pred.plan.changes.merge(pred.plan.ops[["opId", "sourceId"]], on="opId")
    assert "user1@contoso.com" in created.loc[created["attribute"] == "mail", "newValue"].tolist()
    assert "userPrincipalName" not in set(created["attribute"])
    row = outcome(pred, "src-0002")
    assert row["outcome"] == "unchanged" and "mail: cannot predict updates" in row["cannotPredict"]
    assert "userPrincipalName: cannot predict" in row["cannotPredict"]


def test_target_side_edits_persist_until_the_source_user_changes():
    # what the job wrote when it created users 1 and 2 (their create records' modifiedProperties)
    first = predict_cycle(SCHEMA, source([member(1), member(2)], ["src-0001", "src-0002"]), target_tenant([]), job())
    written = first.plan.changes.merge(first.plan.ops[["opId", "sourceId"]], on="opId")
    exported = written.rename(columns={"newValue": "value"})[["sourceId", "attribute", "value"]]
    users = [member(1), member(2, department="Legal"), member(3)]
    src = source(users, ["src-0001", "src-0002", "src-0003"])
    # an admin edited every target user's department; user 3 has a link but no logged writes
    tgt = target_tenant([synced(i, department="Edited") for i in (1, 2, 3)])
    links = {f"src-{i:04d}": f"tgt-{i:04d}" for i in (1, 2, 3)}
    state = replace(job(links), exported=exported)
    pred = predict_cycle(SCHEMA, src, tgt, state)
    assert outcome(pred, "src-0001")["outcome"] == "unchanged"     # source unchanged: the edit stays
    assert outcome(pred, "src-0002")["outcome"] == "update"        # source changed: mapped values written again
    assert "target-side edit" in outcome(pred, "src-0003")["reason"]
    # without the job's writes the plan says how it decided
    plain = predict_cycle(SCHEMA, src, tgt, job(links))
    assert outcome(plain, "src-0001")["outcome"] == "update"
    assert any("was not given" in n for n in plain.plan.header["notEvaluated"])
