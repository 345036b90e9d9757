"""Simulator: Entra's sync engine. Cycles against a fresh commercial -> GCC High pair configured by plain Graph
calls and the two portal-only ticks: provisioning, updates, disables, soft deletes, the accidental-deletion
threshold and ForceDeletes, scope rules, the target's audit log, provisioning records, and cross-cloud failures
in cycles (docs/entra-sync-simulator.md)."""

from __future__ import annotations

import json
from typing import Iterator

import pytest

from conftest import user_id
from xts_sim import (CTAP, GROUP, SOURCE, TARGET, callers, configure_source, fixture, new_job, pair_sim,
                     ready_cross_cloud_pair, shape, target_user_for)

GROUP_REF = "https://graph.microsoft.com/v1.0/directoryObjects/{}"


@pytest.fixture
def pair() -> Iterator[tuple]:
    sim = pair_sim()
    try:
        yield (sim, *callers(sim))
    finally:
        sim.stop()


def _job(src, sp, job_id):
    return src.get(f"servicePrincipals/{sp['id']}/synchronization/jobs/{job_id}").json()


def _records(sim, action=None):
    recs = sim.tenant(SOURCE).provisioning
    return [r for r in recs if action is None or r["provisioningAction"] == action]


def test_cycle_provisions_direct_group_members_as_redeemed_external_members(pair):
    sim, src, tgt, _ = pair
    sp, job_id = ready_cross_cloud_pair(sim, src, tgt)
    sim.run_sync_cycle(SOURCE)
    for n in (2, 3, 4):
        u = target_user_for(sim, f"user{n}@fourthcoffee.com")
        assert u is not None, n
        assert u["userType"] == "Member" and u["creationType"] == "Invitation"
        assert u["externalUserState"] == "Accepted"
        assert u["userPrincipalName"] == f"user{n}_fourthcoffee.com#EXT#@northwindgov.onmicrosoft.com"
        assert u["displayName"] == f"User {n:02d}" and u["jobTitle"] == f"Title {n}"
        assert u["showInAddressList"] is True
    assert target_user_for(sim, "user3@fourthcoffee.com")["accountEnabled"] is False  # disabled at the source
    # user 5 is only in the NESTED group, user 1 is not assigned: neither is synced
    assert target_user_for(sim, "user5@fourthcoffee.com") is None
    assert target_user_for(sim, "user1@fourthcoffee.com") is None
    # what Graph shows in the target
    listed = tgt.get("users", params={"$filter": "creationType eq 'Invitation'",
                                      "$select": "id,userType,externalUserState,mail"}).json()["value"]
    assert {u["mail"] for u in listed} == {f"user{n}@fourthcoffee.com" for n in (2, 3, 4)}
    # job status after the cycle
    job = _job(src, sp, job_id)
    status = job["status"]
    assert status["code"] == "Active" and status["quarantine"] is None
    last = status["lastExecution"]
    assert last["state"] == "Succeeded" and last["countExported"] == 3 and last["countEntitled"] == 3
    assert set(last) == set(fixture("cts-syncjob-get.json")["status"]["lastExecution"])
    assert status["synchronizedEntryCountByType"] == [{"key": "user to User", "value": 3}]
    assert status["steadyStateLastAchievedTime"] != "0001-01-01T00:00:00Z"
    # target audit: written by Microsoft.Azure.SyncFabric
    adds = [a for a in sim.tenant(TARGET).audit if a["activityDisplayName"] == "Add user"]
    assert len(adds) == 3 and {a["initiatedBy"]["app"]["displayName"] for a in adds} == {"Microsoft.Azure.SyncFabric"}


def test_provisioning_records_have_graphs_shape(pair):
    sim, src, tgt, _ = pair
    sp, job_id = ready_cross_cloud_pair(sim, src, tgt)
    sim.run_sync_cycle(SOURCE)
    creates = _records(sim, "create")
    assert len(creates) == 3
    documented = fixture("cts-provisioning-list.json")["value"][0]
    rec = creates[0]
    assert set(documented) <= set(rec)
    for key in ("servicePrincipal", "sourceSystem", "targetSystem", "initiatedBy", "provisioningStatusInfo"):
        assert set(shape(documented[key])) <= set(shape(rec[key])), key
    assert rec["jobId"] == job_id and rec["servicePrincipal"]["id"] == sp["id"]
    assert rec["initiatedBy"] == {"id": "", "displayName": "Azure AD Provisioning Service", "initiatorType": "system"}
    assert rec["provisioningStatusInfo"] == {"status": "success", "errorInformation": None}
    steps = [(s["name"], s["provisioningStepType"]) for s in rec["provisioningSteps"]]
    assert steps[:2] == [("EntryImportAdd", "import"), ("EntrySynchronizationScoping", "scoping")]
    assert steps[-1] == ("EntryExportAdd", "export")
    assert json.loads(rec["provisioningSteps"][1]["details"]["ScopeEvaluationResult"]) == {}
    props = {p["displayName"]: p for p in rec["modifiedProperties"]}
    assert props["displayName"]["oldValue"] is None and props["displayName"]["newValue"].startswith("User ")
    assert len({r["cycleId"] for r in creates}) == 1 and len({r["changeId"] for r in creates}) == 3


def test_updates_disables_and_soft_deletes_across_cycles(pair):
    sim, src, tgt, _ = pair
    sp, job_id = ready_cross_cloud_pair(sim, src, tgt)
    sim.run_sync_cycle(SOURCE)
    before = len(_records(sim))
    sim.run_sync_cycle(SOURCE)
    assert len(_records(sim)) == before          # nothing changed: no record, no write
    assert src.patch(f"users/{user_id(2)}", {"jobTitle": "Director"}).status_code == 204
    assert src.patch(f"users/{user_id(4)}", {"accountEnabled": False}).status_code == 204
    assert src.call("DELETE", f"groups/{GROUP}/members/{user_id(2)}/$ref").status_code == 204
    sim.run_sync_cycle(SOURCE)
    # user 2 left the group after the title change: soft-deleted (not disabled) in the target
    assert target_user_for(sim, "user2@fourthcoffee.com") is None
    deleted = [u for u in sim.tenant(TARGET).deleted.values() if u.get("mail") == "user2@fourthcoffee.com"]
    assert len(deleted) == 1
    assert tgt.get(f"directory/deletedItems/{deleted[0]['id']}").status_code == 200
    assert target_user_for(sim, "user4@fourthcoffee.com")["accountEnabled"] is False
    assert [r["sourceIdentity"]["id"] for r in _records(sim, "delete")] == [user_id(2)]
    disable = _records(sim, "disable")
    assert [r["sourceIdentity"]["id"] for r in disable] == [user_id(4)]
    assert disable[0]["modifiedProperties"] == [{"displayName": "accountEnabled", "oldValue": "True",
                                                 "newValue": "False"}]
    # an attribute update on a user still in scope
    assert src.patch(f"users/{user_id(3)}", {"department": "Legal"}).status_code == 204
    sim.run_sync_cycle(SOURCE)
    assert target_user_for(sim, "user3@fourthcoffee.com")["department"] == "Legal"
    update = _records(sim, "update")[-1]
    assert update["modifiedProperties"] == [{"displayName": "department", "oldValue": "Sales", "newValue": "Legal"}]
    assert [a["activityDisplayName"] for a in sim.tenant(TARGET).audit][-1] == "Update user"
    # back in scope: the soft-deleted target user is restored, not duplicated
    assert src.post(f"groups/{GROUP}/members/$ref",
                    {"@odata.id": GROUP_REF.format(user_id(2))}).status_code == 204
    sim.run_sync_cycle(SOURCE)
    restored = target_user_for(sim, "user2@fourthcoffee.com")
    assert restored is not None and restored["id"] == deleted[0]["id"] and restored["jobTitle"] == "Director"


def test_deleted_source_user_is_soft_deleted_in_the_target(pair):
    sim, src, tgt, _ = pair
    ready_cross_cloud_pair(sim, src, tgt)
    sim.run_sync_cycle(SOURCE)
    assert src.delete(f"users/{user_id(4)}").status_code == 204
    sim.run_sync_cycle(SOURCE)
    assert target_user_for(sim, "user4@fourthcoffee.com") is None
    assert _records(sim, "delete")[0]["sourceIdentity"]["id"] == user_id(4)


def test_deletion_threshold_trips_quarantine_and_force_deletes_releases_it(pair):
    sim, src, tgt, _ = pair
    sp, job_id = ready_cross_cloud_pair(sim, src, tgt, notification={
        "Enabled": False, "DeleteThresholdEnabled": True, "DeleteThresholdValue": 1})
    sim.run_sync_cycle(SOURCE)
    for n in (2, 4):
        assert src.call("DELETE", f"groups/{GROUP}/members/{user_id(n)}/$ref").status_code == 204
    sim.run_sync_cycle(SOURCE)
    status = _job(src, sp, job_id)["status"]
    assert status["code"] == "Quarantine" and status["quarantine"]["reason"] == "TooManyDeletes"
    assert {"currentBegan", "nextAttempt", "reason", "seriesBegan", "seriesCount", "error"} <= set(status["quarantine"])
    staged = _records(sim, "stageddelete")
    assert sorted(r["sourceIdentity"]["id"] for r in staged) == [user_id(2), user_id(4)]
    assert all(r["provisioningStatusInfo"]["status"] == "skipped" for r in staged)
    assert target_user_for(sim, "user2@fourthcoffee.com") is not None      # held back
    # a quarantined TooManyDeletes job does not run again by itself
    assert sim.run_sync_cycle(SOURCE) == []
    path = f"servicePrincipals/{sp['id']}/synchronization/jobs/{job_id}/restart"
    assert src.post(path, {"criteria": {"resetScope": "ForceDeletes"}}).status_code == 204
    sim.run_sync_cycle(SOURCE)
    assert target_user_for(sim, "user2@fourthcoffee.com") is None
    assert target_user_for(sim, "user4@fourthcoffee.com") is None
    assert len(_records(sim, "delete")) == 2
    status = _job(src, sp, job_id)["status"]
    assert status["code"] == "Active" and status["quarantine"] is None


def test_default_threshold_is_500_and_disables_count(pair):
    from toolkit.simulator.syncengine import delete_threshold
    assert delete_threshold({}) == 500
    assert delete_threshold({"DeleteThresholdEnabled": False}) is None
    sim, src, tgt, _ = pair
    sp, job_id = ready_cross_cloud_pair(sim, src, tgt, notification={
        "DeleteThresholdEnabled": True, "DeleteThresholdValue": 0})
    sim.run_sync_cycle(SOURCE)
    assert src.patch(f"users/{user_id(2)}", {"accountEnabled": False}).status_code == 204
    sim.run_sync_cycle(SOURCE)
    assert _job(src, sp, job_id)["status"]["quarantine"]["reason"] == "TooManyDeletes"
    assert target_user_for(sim, "user2@fourthcoffee.com")["accountEnabled"] is True


def test_only_internal_members_are_synced(pair):
    sim, src, tgt, _ = pair
    sp, job_id = ready_cross_cloud_pair(sim, src, tgt, assign=[user_id(1), user_id(6)])
    source = sim.tenant(SOURCE)
    with source.lock:   # user 6 becomes a B2B guest of the source; user 1 signs in with SMS
        source.users[user_id(6)].update({"userType": "Guest", "creationType": "Invitation"})
        source.annotations.setdefault(user_id(1), {})["@sim.smsSignIn"] = True
    sim.run_sync_cycle(SOURCE)
    assert target_user_for(sim, "user6@fourthcoffee.com") is None
    assert target_user_for(sim, "user1@fourthcoffee.com") is None
    skipped = _records(sim, "other")
    assert {r["sourceIdentity"]["id"] for r in skipped} == {user_id(1), user_id(6)}
    assert all(r["provisioningStatusInfo"]["status"] == "skipped" for r in skipped)


def test_scoping_filter_limits_the_assigned_users(pair):
    sim, src, tgt, _ = pair
    sp, job_id = ready_cross_cloud_pair(sim, src, tgt)
    path = f"servicePrincipals/{sp['id']}/synchronization/jobs/{job_id}/schema"
    schema = src.get(path).json()
    schema.pop("@odata.context")
    schema["synchronizationRules"][0]["objectMappings"][0]["scope"] = {"groups": [{"name": "Engineering", "clauses": [
        {"operatorName": "EQUALS", "sourceOperandName": "department", "targetOperand": {"values": ["Engineering"]}}]}]}
    assert src.call("PUT", path, json=schema).status_code == 204
    sim.run_sync_cycle(SOURCE)
    # users 2 and 4 are Engineering, 3 is Sales
    assert target_user_for(sim, "user2@fourthcoffee.com") and target_user_for(sim, "user4@fourthcoffee.com")
    assert target_user_for(sim, "user3@fourthcoffee.com") is None
    scoping = next(r for r in _records(sim, "create") if r["sourceIdentity"]["id"] == user_id(2))
    details = scoping["provisioningSteps"][1]["details"]
    assert json.loads(details["ScopeEvaluationResult"]) == {"Engineering.department EQUALS 'Engineering'": True}


def test_existing_redeemed_b2b_user_is_matched_not_duplicated(pair):
    sim, src, tgt, _ = pair
    target = sim.tenant(TARGET)
    with target.lock:   # user 2 was invited and redeemed before sync was set up (an Accepted B2B member)
        target.users["b2b00000-0000-4000-8000-000000000002"] = {
            "id": "b2b00000-0000-4000-8000-000000000002", "displayName": "User Two (invited)",
            "mail": "user2@fourthcoffee.com", "userPrincipalName":
            "user2_fourthcoffee.com#EXT#@northwindgov.onmicrosoft.com", "userType": "Guest",
            "creationType": "Invitation", "externalUserState": "Accepted", "accountEnabled": True}
        target.invalidate_upns()
    ready_cross_cloud_pair(sim, src, tgt)
    sim.run_sync_cycle(SOURCE)
    matches = [u for u in target.users.values() if u.get("mail") == "user2@fourthcoffee.com"]
    assert [u["id"] for u in matches] == ["b2b00000-0000-4000-8000-000000000002"]
    # displayName flows; userType is applied on creation only, so the invited Guest stays a Guest
    assert matches[0]["displayName"] == "User 02" and matches[0]["userType"] == "Guest"


def test_missing_inbound_automatic_redemption_escrows_every_user_and_quarantines(pair):
    sim, src, tgt, _ = pair
    assert src.patch(CTAP, {"allowedCloudEndpoints": ["microsoftonline.us"]}).status_code == 204
    sim.portal_tick_cross_cloud_sync(TARGET, "commercial")
    assert tgt.post(f"{CTAP}/partners", {"tenantId": SOURCE}).status_code == 201
    assert tgt.call("PUT", f"{CTAP}/partners/{SOURCE}/identitySynchronization",
                    json={"userSyncInbound": {"isSyncAllowed": True}}).status_code == 204
    configure_source(src)
    sp = sim.portal_create_cross_cloud_configuration(SOURCE, "Northwind Gov")
    job_id = new_job(src, sp)
    sim.run_sync_cycle(SOURCE)
    failures = [r for r in _records(sim) if r["provisioningStatusInfo"]["status"] == "failure"]
    assert len(failures) == 3
    assert {r["provisioningStatusInfo"]["errorInformation"]["errorCode"] for r in failures} == {
        "AzureDirectoryB2BManagementPolicyCheckFailure"}
    status = _job(src, sp, job_id)["status"]
    assert status["lastExecution"]["state"] == "EntryLevelErrors" and status["lastExecution"]["countEscrowed"] == 3
    assert status["quarantine"]["reason"] == "EncounteredEscrowProportionThreshold"
    assert status["quarantine"]["error"]["code"] == "AzureDirectoryB2BManagementPolicyCheckFailure"
    # fixed: the next attempt succeeds and leaves quarantine
    assert tgt.patch(f"{CTAP}/partners/{SOURCE}",
                     {"automaticUserConsentSettings": {"inboundAllowed": True}}).status_code == 204
    sim.run_sync_cycle(SOURCE)
    status = _job(src, sp, job_id)["status"]
    assert status["code"] == "Active" and status["quarantine"] is None
    assert target_user_for(sim, "user2@fourthcoffee.com") is not None


@pytest.mark.parametrize("step, code", [
    ("graph_configuration", "ExternalTenantNotFound"),
    ("no_target_tick", "AzureActiveDirectoryTokenExpired"),
    ("no_inbound_sync", "AzureActiveDirectoryCrossTenantSyncPolicyCheckFailure"),
])
def test_cycle_on_an_unconfigured_cross_cloud_pair_quarantines_with_the_documented_code(pair, step, code):
    sim, src, tgt, _ = pair
    assert src.patch(CTAP, {"allowedCloudEndpoints": ["microsoftonline.us"]}).status_code == 204
    if step != "no_target_tick":
        sim.portal_tick_cross_cloud_sync(TARGET, "commercial")
    if step != "no_inbound_sync":
        from xts_sim import configure_target
        configure_target(tgt)
    configure_source(src)
    if step == "graph_configuration":
        from xts_sim import new_configuration
        sp = new_configuration(src)
    else:
        sp = sim.portal_create_cross_cloud_configuration(SOURCE, "Northwind Gov")
    job_id = new_job(src, sp)
    sim.run_sync_cycle(SOURCE)
    status = _job(src, sp, job_id)["status"]
    assert status["code"] == "Quarantine"
    assert status["quarantine"]["reason"] == "EncounteredQuarantineException"
    assert status["quarantine"]["error"]["code"] == code
    assert status["lastExecution"]["state"] == "Failed" and status["lastExecution"]["error"]["code"] == code
    assert status["countSuccessiveCompleteFailures"] == 1
    assert [u for u in sim.tenant(TARGET).users.values() if u.get("creationType") == "Invitation"] == []


def test_paused_job_does_not_run(pair):
    sim, src, tgt, _ = pair
    sp, job_id = ready_cross_cloud_pair(sim, src, tgt)
    assert src.post(f"servicePrincipals/{sp['id']}/synchronization/jobs/{job_id}/pause").status_code == 204
    assert sim.run_sync_cycle(SOURCE) == []
    assert target_user_for(sim, "user2@fourthcoffee.com") is None


def test_scheduler_runs_started_jobs_in_the_background():
    from toolkit.simulator import SimConfig, Simulator
    from xts_sim import pair_seeds
    sim = Simulator(SimConfig(seed_dir=None, seeds=pair_seeds(), sync_scheduler=True, sync_interval=0.2)).start()
    try:
        src, tgt, _ = callers(sim)
        ready_cross_cloud_pair(sim, src, tgt)
        import time
        for _ in range(200):
            if target_user_for(sim, "user2@fourthcoffee.com") is not None:
                break
            time.sleep(0.05)
        assert target_user_for(sim, "user2@fourthcoffee.com") is not None
    finally:
        sim.stop()


def test_sample_demo_pair_syncs_after_the_graph_steps_only():
    """Contoso -> Fabrikam Federal: the portal-only steps are done in the seeds, so the Graph steps suffice."""
    from conftest import graph_caller
    from toolkit.simulator import SimConfig, Simulator
    sim = Simulator(SimConfig()).start()
    try:
        contoso, fabrikam = sim.tenant("contoso.com"), sim.tenant("fabrikamfederal.us")
        src, tgt = graph_caller(sim, "contoso.com"), graph_caller(sim, "fabrikamfederal.us")
        assert tgt.call("PUT", f"{CTAP}/partners/{contoso.tenant_id}/identitySynchronization",
                        json={"userSyncInbound": {"isSyncAllowed": True}}).status_code == 204
        assert tgt.patch(f"{CTAP}/partners/{contoso.tenant_id}",
                         {"automaticUserConsentSettings": {"inboundAllowed": True}}).status_code == 204
        assert src.patch(f"{CTAP}/partners/{fabrikam.tenant_id}",
                         {"automaticUserConsentSettings": {"outboundAllowed": True}}).status_code == 204
        (sp,) = src.get("servicePrincipals", params={"$filter": "displayName eq 'Fabrikam Federal'"}).json()["value"]
        group = next(g for g in contoso.groups.values() if g["displayName"] == "CCS-Sync-Scope")
        job_id = new_job(src, sp, fabrikam.tenant_id, assign=[group["id"]])
        (view,) = sim.run_sync_cycle("contoso.com")
        assert view["status"]["code"] == "Active", view["status"]
        direct = [m for m in group["members"] if m in contoso.users]
        linked = contoso.enterprise_apps.jobs[sp["id"]][job_id].links
        assert linked and set(linked) <= set(direct)
        # B2B members who already redeemed in Fabrikam are matched, not duplicated
        for uid, tid in linked.items():
            mail = contoso.users[uid].get("mail")
            same = [u for u in fabrikam.users.values() if u.get("mail") == mail]
            assert len(same) == 1 and same[0]["id"] == tid
    finally:
        sim.stop()


def test_target_edits_persist_until_the_source_user_changes(pair):
    sim, src, tgt, _ = pair
    ready_cross_cloud_pair(sim, src, tgt)
    sim.run_sync_cycle(SOURCE)
    target_id = target_user_for(sim, "user2@fourthcoffee.com")["id"]
    assert tgt.patch(f"users/{target_id}", {"jobTitle": "Edited in GCC High"}).status_code == 204
    sim.run_sync_cycle(SOURCE)
    assert target_user_for(sim, "user2@fourthcoffee.com")["jobTitle"] == "Edited in GCC High"
    assert src.patch(f"users/{user_id(2)}", {"department": "Finance"}).status_code == 204
    sim.run_sync_cycle(SOURCE)
    synced = target_user_for(sim, "user2@fourthcoffee.com")
    assert synced["jobTitle"] == "Title 2" and synced["department"] == "Finance"


def test_without_the_delete_action_users_leaving_scope_stay(pair):
    sim, src, tgt, _ = pair
    sp, job_id = ready_cross_cloud_pair(sim, src, tgt)
    path = f"servicePrincipals/{sp['id']}/synchronization/jobs/{job_id}/schema"
    schema = src.get(path).json()
    schema.pop("@odata.context")
    schema["synchronizationRules"][0]["objectMappings"][0]["flowTypes"] = "Add, Update"
    assert src.call("PUT", path, json=schema).status_code == 204
    sim.run_sync_cycle(SOURCE)
    assert src.call("DELETE", f"groups/{GROUP}/members/{user_id(2)}/$ref").status_code == 204
    sim.run_sync_cycle(SOURCE)
    assert target_user_for(sim, "user2@fourthcoffee.com") is not None
    assert _records(sim, "delete") == []


def test_the_engine_has_its_own_reading_of_the_rules():
    """The planner (toolkit.plan) is compared with this engine: neither may borrow the other's code."""
    import ast
    from pathlib import Path

    import toolkit.simulator as simulator
    folder = Path(simulator.__file__).parent
    for name in ("syncengine.py", "syncschema.py", "synchronization.py", "enterprise_apps.py"):
        tree = ast.parse((folder / name).read_text(encoding="utf-8"))
        imported = {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert not any(m.startswith(("toolkit.plan", "..plan", "plan")) for m in imported), (name, imported)
