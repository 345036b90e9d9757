"""The simulated Graph /users surface: paging, $top, $select, $filter, $count, CRUD, soft delete and restore."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import SEED_READER, SEED_TENANT, graph_caller, small_sim, user_id

EXAMPLES = Path(__file__).parent / "fixtures" / "graph-examples"   # Microsoft's published examples (SOURCES.md)
DEFAULT_PROPS = {"businessPhones", "displayName", "givenName", "id", "jobTitle", "mail", "mobilePhone",
                 "officeLocation", "preferredLanguage", "surname", "userPrincipalName"}


@pytest.fixture(scope="module")
def small():
    simulator = small_sim(users=25, page_size=10)
    yield simulator
    simulator.stop()


def test_default_page_is_100_with_opaque_absolute_next_link(sim):
    g = graph_caller(sim, "contoso.com")
    total = len(sim.tenant("contoso.com").users)
    resp = g.get("users", params={"$top": 7})
    body = resp.json()
    assert resp.status_code == 200
    assert len(body["value"]) == 7
    assert body["@odata.nextLink"].startswith(g.base + "/v1.0/users?")
    assert "$skiptoken=" in body["@odata.nextLink"]
    everyone = g.all_items("users", params={"$top": 7})
    assert len(everyone) == total
    assert len({u["id"] for u in everyone}) == total
    page = g.get("users").json()
    assert len(page["value"]) == min(100, total)


def test_default_properties_match_the_documented_set(sim):
    g = graph_caller(sim, "contoso.com")
    user = g.get("users", params={"$top": 1}).json()["value"][0]
    assert set(user) == DEFAULT_PROPS
    assert isinstance(user["businessPhones"], list)


def test_top_1000_is_rejected_with_graphs_message(sim):
    g = graph_caller(sim, "contoso.com")
    resp = g.get("users", params={"$top": 1000})
    assert resp.status_code == 400
    err = resp.json()["error"]
    assert err["code"] == "Request_BadRequest"
    assert err["message"] == "Invalid page size specified: '1000'. Must be between 1 and 999 inclusive."
    assert set(err["innerError"]) >= {"date", "request-id", "client-request-id"}
    assert g.get("users", params={"$top": 0}).status_code == 400
    assert g.get("users", params={"$top": 999}).status_code == 200


def test_select_matches_documented_assignedlicenses_example(sim):
    example = json.loads((EXAMPLES / "user-list-assignedlicenses.json").read_text())
    g = graph_caller(sim, "contoso.com")
    body = g.get("users", params={"$select": "id,mail,assignedLicenses"}).json()
    assert body["@odata.context"].endswith("$metadata#users(id,mail,assignedLicenses)")
    ours = next(u for u in body["value"] if u["assignedLicenses"])
    theirs = example["value"][0]
    assert list(ours) == list(theirs)
    assert set(ours["assignedLicenses"][0]) == set(theirs["assignedLicenses"][0])
    assert isinstance(ours["assignedLicenses"][0]["disabledPlans"], list)


def test_select_unknown_property_is_a_bad_request(sim):
    g = graph_caller(sim, "contoso.com")
    resp = g.get("users", params={"$select": "id,favouriteColour"})
    assert resp.status_code == 400
    assert "favouriteColour" in resp.json()["error"]["message"]


def test_select_only_properties_are_returned_only_on_select(sim):
    g = graph_caller(sim, "contoso.com")
    first = g.get("users", params={"$top": 1}).json()["value"][0]
    assert "accountEnabled" not in first and "userType" not in first
    chosen = g.get("users", params={"$top": 1, "$select": "id,accountEnabled,userType,licenseAssignmentStates"})
    user = chosen.json()["value"][0]
    assert set(user) == {"id", "accountEnabled", "userType", "licenseAssignmentStates"}


def test_single_only_property_on_collection_is_501(sim):
    g = graph_caller(sim, "contoso.com")
    assert g.get("users", params={"$select": "id,skills"}).status_code == 501


@pytest.mark.parametrize("flt,expected", [
    ("department eq 'Sales'", lambda u: u["department"] == "Sales"),
    ("startswith(displayName,'User 1')", lambda u: u["displayName"].startswith("User 1")),
    ("accountEnabled eq false", lambda u: u["accountEnabled"] is False),
    ("userType eq 'Member' and department eq 'Engineering'", lambda u: u["department"] == "Engineering"),
    ("department eq 'Sales' or jobTitle eq 'Title 2'", lambda u: u["department"] == "Sales" or u["jobTitle"] == "Title 2"),
    (f"id in ('{user_id(1)}','{user_id(2)}')", lambda u: u["id"] in (user_id(1), user_id(2))),
    ("assignedLicenses/any(x:x/skuId eq 05e9a617-0261-4cee-bb44-138d3ef5d965)",
     lambda u: any(a["skuId"] == "05e9a617-0261-4cee-bb44-138d3ef5d965" for a in u["assignedLicenses"])),
])
def test_documented_filters(small, flt, expected):
    g = graph_caller(small, SEED_TENANT)
    select = "id,displayName,department,jobTitle,accountEnabled,assignedLicenses,userType"
    got = g.all_items("users", params={"$filter": flt, "$select": select})
    everyone = g.all_items("users", params={"$select": select})
    assert got, flt
    assert {u["id"] for u in got} == {u["id"] for u in everyone if expected(u)}


def test_advanced_filters_need_consistency_level_and_count(small):
    g = graph_caller(small, SEED_TENANT)
    for flt in ("endswith(mail,'@fourthcoffee.com')", "assignedLicenses/$count eq 0", "department ne 'Sales'",
                "not(department eq 'Sales')"):
        plain = g.get("users", params={"$filter": flt})
        assert plain.status_code == 400, flt
        assert plain.json()["error"]["code"] == "Request_UnsupportedQuery"
        adv = g.get("users", params={"$filter": flt, "$count": "true"}, headers={"ConsistencyLevel": "eventual"})
        assert adv.status_code == 200, (flt, adv.text)
        assert adv.json()["@odata.count"] >= len(adv.json()["value"]) > 0
    unlicensed = g.get("users", params={"$filter": "assignedLicenses/$count eq 0", "$count": "true",
                                        "$select": "id,assignedLicenses"},
                       headers={"ConsistencyLevel": "eventual"}).json()
    assert all(u["assignedLicenses"] == [] for u in unlicensed["value"])


def test_unsupported_filter_gets_graphs_error(small):
    g = graph_caller(small, SEED_TENANT)
    resp = g.get("users", params={"$filter": "endswith(displayName,'1')", "$count": "true"},
                 headers={"ConsistencyLevel": "eventual"})
    assert resp.status_code == 400
    err = resp.json()["error"]
    assert err["code"] == "Request_UnsupportedQuery"
    assert "displayName" in err["message"]
    broken = g.get("users", params={"$filter": "department eq"})
    assert broken.status_code == 400


def test_count_segment_and_parameter(small):
    g = graph_caller(small, SEED_TENANT)
    resp = g.get("users/$count", headers={"ConsistencyLevel": "eventual"})
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("text/plain")
    assert int(resp.text) == 25
    no_header = g.get("users/$count")
    assert no_header.status_code == 400
    assert no_header.json()["error"]["message"] == "$count is not currently supported."
    ignored = g.get("users", params={"$count": "true"}).json()
    assert "@odata.count" not in ignored


def test_paging_follows_snapshot_and_counts_on_every_page(small):
    g = graph_caller(small, SEED_TENANT)
    first = g.get("users", params={"$count": "true"}, headers={"ConsistencyLevel": "eventual"}).json()
    assert len(first["value"]) == 10 and first["@odata.count"] == 25
    second = g.get(first["@odata.nextLink"], headers={"ConsistencyLevel": "eventual"}).json()
    assert second["@odata.count"] == 25
    assert {u["id"] for u in first["value"]}.isdisjoint(u["id"] for u in second["value"])
    bad = g.get("users", params={"$skiptoken": "not-a-token"})
    assert bad.status_code == 400


def test_get_by_id_and_upn(small):
    g = graph_caller(small, SEED_TENANT)
    by_id = g.get(f"users/{user_id(2)}")
    by_upn = g.get("users/USER2@fourthcoffee.com")
    assert by_id.status_code == by_upn.status_code == 200
    assert by_id.json()["id"] == by_upn.json()["id"] == user_id(2)
    assert by_id.json()["@odata.context"].endswith("$metadata#users/$entity")
    missing = g.get("users/00000000-0000-4000-8000-999999999999")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "Request_ResourceNotFound"


def test_create_update_delete_restore_cycle(fresh):
    g = graph_caller(fresh, SEED_TENANT)
    tenant = fresh.tenant(SEED_TENANT)
    audit_before = len(tenant.audit)
    new = {"accountEnabled": True, "displayName": "Nestor Wilke", "mailNickname": "nestorw",
           "userPrincipalName": "nestorw@fourthcoffee.com",
           "passwordProfile": {"forceChangePasswordNextSignIn": True, "password": "xWwvJ]6NMw+bWH-d"}}
    created = g.post("users", new)
    assert created.status_code == 201, created.text
    uid = created.json()["id"]
    assert created.json()["userPrincipalName"] == "nestorw@fourthcoffee.com"
    assert "passwordProfile" not in created.json()

    dup = g.post("users", {**new, "mailNickname": "other"})
    assert dup.status_code == 400
    assert dup.json()["error"]["message"] == ("Another object with the same value for property userPrincipalName "
                                              "already exists.")
    unverified = g.post("users", {**new, "userPrincipalName": "x@fourthcoffee.net"})
    assert unverified.status_code == 400
    assert "verified domain" in unverified.json()["error"]["message"]
    missing = g.post("users", {k: v for k, v in new.items() if k != "mailNickname"})
    assert missing.status_code == 400

    patched = g.patch(f"users/{uid}", {"jobTitle": "Director", "usageLocation": "GB"})
    assert patched.status_code == 204 and patched.content == b""
    assert g.get(f"users/{uid}", params={"$select": "jobTitle,usageLocation"}).json()["jobTitle"] == "Director"
    assert g.patch(f"users/{uid}", {"createdDateTime": "2020-01-01T00:00:00Z"}).status_code == 400
    assert g.patch(f"users/{uid}", {"userPrincipalName": "user1@fourthcoffee.com"}).status_code == 400

    assert g.delete(f"users/{uid}").status_code == 204
    assert g.get(f"users/{uid}").status_code == 404
    deleted = g.get("directory/deletedItems/microsoft.graph.user").json()
    assert [u["id"] for u in deleted["value"]] == [uid]
    assert deleted["value"][0]["deletedDateTime"]
    one = g.get(f"directory/deletedItems/{uid}").json()
    assert one["@odata.type"] == "#microsoft.graph.user"
    restored = g.post(f"directory/deletedItems/{uid}/restore")
    assert restored.status_code == 200
    assert g.get(f"users/{uid}").status_code == 200

    assert g.delete(f"users/{uid}").status_code == 204
    assert g.delete(f"directory/deletedItems/{uid}").status_code == 204
    assert g.get(f"directory/deletedItems/{uid}").status_code == 404

    activities = [e["activityDisplayName"] for e in tenant.audit[audit_before:]]
    assert activities == ["Add user", "Update user", "Delete user", "Restore user", "Delete user",
                          "Hard delete user"]
    entry = tenant.audit[audit_before + 1]
    assert entry["category"] == "UserManagement" and entry["loggedByService"] == "Core Directory"
    assert entry["operationType"] == "Update" and entry["result"] == "success"
    assert entry["initiatedBy"]["app"]["appId"] == "7d4c0f7e-3c1b-4e8e-9a51-0c2f4b1e9d10"
    assert entry["initiatedBy"]["app"]["servicePrincipalId"]
    target = entry["targetResources"][0]
    assert target["id"] == uid and target["type"] == "User"
    changes = {m["displayName"]: m for m in target["modifiedProperties"]}
    assert json.loads(changes["jobTitle"]["newValue"]) == ["Director"]
    assert json.loads(changes["jobTitle"]["oldValue"]) == []


def test_replication_lag_hides_new_users_for_a_while():
    from toolkit.simulator.faults import FaultConfig
    import time

    simulator = small_sim(faults=FaultConfig(replication_lag_s=0.6))
    try:
        g = graph_caller(simulator, SEED_TENANT)
        created = g.post("users", {"accountEnabled": True, "displayName": "Lagging", "mailNickname": "lag",
                                   "userPrincipalName": "lag@fourthcoffee.com",
                                   "passwordProfile": {"password": "Secr3t!Secr3t!"}})
        assert created.status_code == 201
        uid = created.json()["id"]
        assert g.get(f"users/{uid}").status_code == 404
        assert g.get(f"users/{uid}").json()["error"]["code"] == "Request_ResourceNotFound"
        assert g.patch(f"users/{uid}", {"jobTitle": "x"}).status_code == 404
        assert uid not in {u["id"] for u in g.all_items("users")}
        time.sleep(0.7)
        assert g.get(f"users/{uid}").status_code == 200
        assert uid in {u["id"] for u in g.all_items("users")}
    finally:
        simulator.stop()


def test_reader_app_cannot_write(small):
    g = graph_caller(small, SEED_TENANT, SEED_READER)
    assert g.get("users").status_code == 200
    resp = g.patch(f"users/{user_id(1)}", {"jobTitle": "x"})
    assert resp.status_code == 403
    err = resp.json()["error"]
    assert err["code"] == "Authorization_RequestDenied"
    assert err["message"] == "Insufficient privileges to complete the operation."
    assert g.get("subscribedSkus").status_code == 403


def test_orderby(small):
    g = graph_caller(small, SEED_TENANT)
    names = [u["displayName"] for u in g.all_items("users", params={"$orderby": "displayName desc"})]
    assert names == sorted(names, reverse=True) and len(names) == 25
    with_filter = g.get("users", params={"$orderby": "displayName", "$filter": "department eq 'Sales'"})
    assert with_filter.status_code == 400
    advanced = g.get("users", params={"$orderby": "displayName", "$filter": "department eq 'Sales'",
                                      "$count": "true"}, headers={"ConsistencyLevel": "eventual"})
    assert advanced.status_code == 200
    got = [u["displayName"] for u in advanced.json()["value"]]
    assert got == sorted(got)
    assert g.get("users", params={"$orderby": "nonsense"}).status_code == 400
