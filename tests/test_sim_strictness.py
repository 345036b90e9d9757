"""The simulated Graph held to what real Entra does where Microsoft's SDK and docs showed it was too lenient:
deletedItems casts, $search/$expand refusals, mail and proxyAddresses, deleted users' UPNs, restore conflicts,
invitation collisions, member adds the group kind refuses, replication lag, throttling headers, contacts."""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from toolkit.simulator import SimConfig, Simulator
from toolkit.simulator.faults import FaultConfig

from conftest import graph_caller, make_seed, user_id

DL = "aaaaaaaa-0000-4000-8000-000000000001"
DYNAMIC = "aaaaaaaa-0000-4000-8000-000000000002"
SECURITY = "aaaaaaaa-0000-4000-8000-000000000003"


def _seed() -> dict[str, Any]:
    seed = make_seed()
    seed["groups"] += [
        {"id": DL, "displayName": "Sales DL", "mailNickname": "sales", "mail": "sales@fourthcoffee.com",
         "proxyAddresses": ["SMTP:sales@fourthcoffee.com"], "securityEnabled": False, "mailEnabled": True,
         "groupTypes": [], "members": []},
        {"id": DYNAMIC, "displayName": "All staff", "mailNickname": "all", "securityEnabled": True,
         "mailEnabled": False, "groupTypes": ["DynamicMembership"], "membershipRule": "user.accountEnabled -eq true",
         "members": []},
        {"id": SECURITY, "displayName": "Plain", "mailNickname": "plain", "securityEnabled": True,
         "mailEnabled": False, "groupTypes": [], "members": []}]
    seed["contacts"] = [{"id": "cccccccc-0000-4000-8000-000000000001", "displayName": "Jane Partner",
                         "mail": "jane@partner.example"}]
    seed["users"][1]["proxyAddresses"] = ["SMTP:user2@fourthcoffee.com", "smtp:alias2@fourthcoffee.com"]
    return seed


@pytest.fixture()
def fresh2() -> Iterator[Simulator]:
    simulator = Simulator(SimConfig(seed_dir=None, seeds=[_seed()])).start()
    try:
        yield simulator
    finally:
        simulator.stop()


def test_deleted_items_answer_the_short_graph_user_cast_the_sdks_send(fresh2):
    g = graph_caller(fresh2, "fourthcoffee.com")
    assert g.delete(f"users/{user_id(4)}").status_code == 204
    long = g.get("directory/deletedItems/microsoft.graph.user").json()["value"]
    short = g.get("directory/deletedItems/graph.user")
    assert short.status_code == 200 and [u["id"] for u in short.json()["value"]] == [u["id"] for u in long]


def test_search_needs_the_eventual_header_and_works_with_it(fresh2):
    g = graph_caller(fresh2, "fourthcoffee.com")
    refused = g.get("users", params={"$search": '"displayName:User 02"'})
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "Request_UnsupportedQuery"
    found = g.get("users", params={"$search": '"mail:user2"'}, headers={"ConsistencyLevel": "eventual"})
    assert found.status_code == 200 and [u["id"] for u in found.json()["value"]] == [user_id(2)]
    bad = g.get("users", params={"$search": "user2"}, headers={"ConsistencyLevel": "eventual"})
    assert bad.status_code == 400


def test_expand_is_refused_not_ignored(fresh2):
    g = graph_caller(fresh2, "fourthcoffee.com")
    not_nav = g.get("users", params={"$expand": "department"})
    assert not_nav.status_code == 400
    advanced = g.get("users", params={"$expand": "manager", "$count": "true"},
                     headers={"ConsistencyLevel": "eventual"})
    assert advanced.status_code == 400 and advanced.json()["error"]["code"] == "Request_UnsupportedQuery"


def test_changing_mail_updates_proxy_addresses(fresh2):
    g = graph_caller(fresh2, "fourthcoffee.com")
    assert g.patch(f"users/{user_id(1)}", json={"mail": "first.one@fourthcoffee.com"}).status_code == 204
    user = g.get(f"users/{user_id(1)}", params={"$select": "mail,proxyAddresses"}).json()
    assert user["proxyAddresses"][0] == "SMTP:first.one@fourthcoffee.com"


def test_mail_must_be_unique_across_mail_enabled_objects_on_post_and_patch(fresh2):
    g = graph_caller(fresh2, "fourthcoffee.com")
    clash = g.patch(f"users/{user_id(1)}", json={"mail": "alias2@fourthcoffee.com"})
    assert clash.status_code == 400 and "proxyAddresses" in clash.json()["error"]["message"]
    body = {"accountEnabled": True, "displayName": "N", "mailNickname": "n", "mail": "sales@fourthcoffee.com",
            "userPrincipalName": "n@fourthcoffee.com",
            "passwordProfile": {"password": "Xy7!xy7!Xy7!", "forceChangePasswordNextSignIn": True}}
    assert g.post("users", json=body).status_code == 400


def test_a_deleted_users_upn_can_be_reused_and_then_its_restore_fails(fresh2):
    g = graph_caller(fresh2, "fourthcoffee.com")
    assert g.delete(f"users/{user_id(4)}").status_code == 204
    body = {"accountEnabled": True, "displayName": "New 4", "mailNickname": "new4",
            "userPrincipalName": "user4@fourthcoffee.com",
            "passwordProfile": {"password": "Xy7!xy7!Xy7!", "forceChangePasswordNextSignIn": True}}
    assert g.post("users", json=body).status_code == 201
    restore = g.post(f"directory/deletedItems/{user_id(4)}/restore")
    assert restore.status_code == 400 and "userPrincipalName" in restore.json()["error"]["message"]


def test_restore_with_a_proxy_conflict_needs_auto_reconcile(fresh2):
    g = graph_caller(fresh2, "fourthcoffee.com")
    assert g.delete(f"users/{user_id(2)}").status_code == 204
    assert g.patch(f"users/{user_id(1)}", json={"mail": "alias2@fourthcoffee.com"}).status_code == 204
    refused = g.post(f"directory/deletedItems/{user_id(2)}/restore")
    assert refused.status_code == 400 and "proxyAddresses" in refused.json()["error"]["message"]
    ok = g.post(f"directory/deletedItems/{user_id(2)}/restore", json={"autoReconcileProxyConflict": True})
    assert ok.status_code == 200
    user = g.get(f"users/{user_id(2)}", params={"$select": "proxyAddresses"}).json()
    assert "smtp:alias2@fourthcoffee.com" not in user["proxyAddresses"]


def test_invitation_to_an_address_another_object_holds_creates_a_user_without_mail(fresh2):
    g = graph_caller(fresh2, "fourthcoffee.com")
    inv = g.post("invitations", json={"invitedUserEmailAddress": "jane@partner.example",
                                      "inviteRedirectUrl": "https://myapps.microsoft.com"}).json()
    user = g.get(f"users/{inv['invitedUser']['id']}", params={"$select": "mail,otherMails,externalUserState"}).json()
    assert user["mail"] is None and user["otherMails"] == ["jane@partner.example"]
    assert user["externalUserState"] == "PendingAcceptance" and inv["status"] == "PendingAcceptance"
    again = g.post("invitations", json={"invitedUserEmailAddress": "jane@partner.example",
                                        "inviteRedirectUrl": "https://myapps.microsoft.com"}).json()
    assert again["invitedUser"]["id"] == inv["invitedUser"]["id"]


def test_member_adds_to_distribution_and_dynamic_groups_are_refused(fresh2):
    g = graph_caller(fresh2, "fourthcoffee.com")
    ref = {"@odata.id": f"{g.base}/v1.0/directoryObjects/{user_id(1)}"}
    for gid in (DL, DYNAMIC):
        resp = g.post(f"groups/{gid}/members/$ref", json=ref)
        assert resp.status_code == 400, gid
    assert g.post(f"groups/{SECURITY}/members/$ref", json=ref).status_code == 204


def test_contacts_are_listed():
    simulator = Simulator(SimConfig(seed_dir=None, seeds=[_seed()])).start()
    try:
        g = graph_caller(simulator, "fourthcoffee.com")
        body = g.get("contacts").json()
        assert [c["mail"] for c in body["value"]] == ["jane@partner.example"]
    finally:
        simulator.stop()


def test_member_add_during_replication_lag_is_the_documented_400_and_advanced_queries_lag():
    simulator = Simulator(SimConfig(seed_dir=None, seeds=[_seed()],
                                    faults=FaultConfig(replication_lag_s=30, index_lag_s=30))).start()
    try:
        g = graph_caller(simulator, "fourthcoffee.com")
        inv = g.post("invitations", json={"invitedUserEmailAddress": "x@partner.example",
                                          "inviteRedirectUrl": "https://myapps.microsoft.com"}).json()
        uid = inv["invitedUser"]["id"]
        resp = g.post(f"groups/{SECURITY}/members/$ref",
                      json={"@odata.id": f"{g.base}/v1.0/directoryObjects/{uid}"})
        assert resp.status_code == 400 and "do not exist" in resp.json()["error"]["message"]
        hits = g.get("users", params={"$filter": "mail eq 'x@partner.example'", "$count": "true"},
                     headers={"ConsistencyLevel": "eventual"}).json()
        assert hits["value"] == []
    finally:
        simulator.stop()


def test_an_injected_429_carries_the_documented_throttling_headers():
    simulator = Simulator(SimConfig(seed_dir=None, seeds=[make_seed()],
                                    faults=FaultConfig(p429=1.0, seed=1))).start()
    try:
        g = graph_caller(simulator, "fourthcoffee.com")
        resp = g.get("users")
        assert resp.status_code == 429
        assert resp.headers["Retry-After"]
        assert resp.headers["x-ms-throttle-scope"].startswith("Tenant_Application/Read/")
        assert resp.headers["x-ms-throttle-information"]
        assert resp.json()["error"]["innerError"]["code"] == "429"
    finally:
        simulator.stop()


def test_groups_carry_only_v1_properties(fresh2):
    g = graph_caller(fresh2, "fourthcoffee.com")
    group = g.get(f"groups/{SECURITY}").json()
    assert not {"creationOptions", "resourceBehaviorOptions", "resourceProvisioningOptions"} & set(group)
    assert g.get(f"groups/{SECURITY}", params={"$select": "creationOptions"}).status_code == 400


def test_a_user_mastered_on_premises_refuses_patch(fresh2):
    g = graph_caller(fresh2, "fourthcoffee.com")
    fresh2.tenant("fourthcoffee.com").users[user_id(1)]["onPremisesSyncEnabled"] = True
    resp = g.patch(f"users/{user_id(1)}", json={"jobTitle": "Changed"})
    assert resp.status_code == 400
    assert "originated within an external service" in resp.json()["error"]["message"]
