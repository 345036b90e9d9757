"""Groups, members, domains, organization, invitations and users/delta in the simulated Graph."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import (GROUP_LICENSED, GROUP_NESTED, SEED_INVITER, SEED_TENANT, graph_caller, small_sim, user_id)

EXAMPLES = Path(__file__).parent / "fixtures" / "graph-examples"   # Microsoft's published examples (SOURCES.md)


@pytest.fixture(scope="module")
def small():
    simulator = small_sim(page_size=2)
    yield simulator
    simulator.stop()


def test_groups_list_get_and_filter(small):
    g = graph_caller(small, SEED_TENANT)
    groups = g.all_items("groups")
    assert {x["id"] for x in groups} == {GROUP_LICENSED, GROUP_NESTED}
    assert all("assignedLicenses" not in x and "securityEnabled" in x for x in groups)
    one = g.get(f"groups/{GROUP_LICENSED}", params={"$select": "id,displayName,assignedLicenses"}).json()
    assert set(one) == {"@odata.context", "id", "displayName", "assignedLicenses"}
    found = g.get("groups", params={"$filter": "displayName eq 'Nested team'"}).json()["value"]
    assert [x["id"] for x in found] == [GROUP_NESTED]
    assert g.get("groups/00000000-0000-0000-0000-00000000dead").status_code == 404


def test_members_and_transitive_members(small):
    g = graph_caller(small, SEED_TENANT)
    direct = g.all_items(f"groups/{GROUP_LICENSED}/members")
    assert [m["id"] for m in direct] == [user_id(2), user_id(3), user_id(4), GROUP_NESTED]
    types = {m["id"]: m["@odata.type"] for m in direct}
    assert types[user_id(2)] == "#microsoft.graph.user" and types[GROUP_NESTED] == "#microsoft.graph.group"
    first_page = g.get(f"groups/{GROUP_LICENSED}/members").json()
    assert len(first_page["value"]) == 2 and "@odata.nextLink" in first_page
    transitive = g.all_items(f"groups/{GROUP_LICENSED}/transitiveMembers", params={"$select": "id,displayName"})
    assert {m["id"] for m in transitive} == {user_id(2), user_id(3), user_id(4), GROUP_NESTED, user_id(5)}
    assert all(set(m) == {"@odata.type", "id", "displayName"} for m in transitive)


def test_domains_and_organization(small):
    g = graph_caller(small, SEED_TENANT)
    domains = g.get("domains").json()["value"]
    assert {d["id"] for d in domains} == {"fourthcoffee.com", "fourthcoffee.onmicrosoft.com", "fourthcoffee.net"}
    for d in domains:
        assert {"authenticationType", "isDefault", "isInitial", "isVerified", "supportedServices"} <= set(d)
    assert g.get("domains/fourthcoffee.com").json()["isDefault"] is True
    org = g.get("organization").json()["value"][0]
    assert org["id"] == SEED_TENANT and org["displayName"] == "Fourth Coffee"
    assert {v["name"] for v in org["verifiedDomains"]} == {"fourthcoffee.com", "fourthcoffee.onmicrosoft.com"}


def test_invitation_matches_documented_example_and_creates_the_user(fresh):
    example = json.loads((EXAMPLES / "invitation-post.json").read_text())
    g = graph_caller(fresh, SEED_TENANT, SEED_INVITER)
    resp = g.post("invitations", {"invitedUserEmailAddress": "Admin@Fabrikam.com",
                                  "inviteRedirectUrl": "https://myapp.contoso.com"})
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert set(body) == set(example)
    for key, value in example.items():
        if value is not None and key != "@odata.context":
            assert type(body[key]) is type(value), key
    assert body["status"] == "PendingAcceptance" and body["invitedUserType"] == "Guest"
    assert body["@odata.context"].endswith("$metadata#invitations/$entity")
    tenant = fresh.tenant(SEED_TENANT)
    user = tenant.users[body["invitedUser"]["id"]]
    assert user["userPrincipalName"] == "Admin_Fabrikam.com#EXT#@fourthcoffee.onmicrosoft.com"
    assert (user["creationType"], user["userType"], user["externalUserState"]) == (
        "Invitation", "Guest", "PendingAcceptance")
    member = g.post("invitations", {"invitedUserEmailAddress": "m@partner.example.com",
                                    "inviteRedirectUrl": "https://myapps.microsoft.com",
                                    "invitedUserType": "Member"}).json()
    assert tenant.users[member["invitedUser"]["id"]]["userType"] == "Member"
    again = g.post("invitations", {"invitedUserEmailAddress": "admin@fabrikam.com",
                                   "inviteRedirectUrl": "https://myapp.contoso.com"}).json()
    assert again["invitedUser"]["id"] == body["invitedUser"]["id"]
    assert g.post("invitations", {"invitedUserEmailAddress": "a(b)@x.com",
                                  "inviteRedirectUrl": "https://x"}).status_code == 400
    assert g.post("invitations", {"invitedUserEmailAddress": "ok@x.com"}).status_code == 400
    invited = [e for e in tenant.audit if e["activityDisplayName"] == "Invite external user"]
    assert len(invited) == 2 and invited[0]["loggedByService"] == "Invited Users"
    # the inviter app may invite, but not read or write users
    assert g.get("users").status_code == 403


def test_delta_rounds_follow_the_documented_shape(fresh):
    example = json.loads((EXAMPLES / "user-delta.json").read_text())
    g = graph_caller(fresh, SEED_TENANT)
    pages, url = [], "users/delta"
    while True:
        body = g.get(url).json()
        pages.append(body)
        if "@odata.deltaLink" in body:
            break
        url = body["@odata.nextLink"]
        assert "$skiptoken=" in url
    assert all(p["@odata.context"].endswith("$metadata#users") for p in pages)
    first = pages[0]["value"][0]
    assert set(first) == set(example["value"][0])
    assert sum(len(p["value"]) for p in pages) == 6
    delta_link = pages[-1]["@odata.deltaLink"]
    assert "$deltatoken=" in delta_link

    assert g.patch(f"users/{user_id(2)}", {"jobTitle": "Lead"}).status_code == 204
    assert g.delete(f"users/{user_id(3)}").status_code == 204
    assert g.patch(f"users/{user_id(4)}", {"employeeId": "E4"}).status_code == 204   # not a tracked default
    later = g.get(delta_link).json()
    by_id = {v["id"]: v for v in later["value"]}
    assert by_id[user_id(2)]["jobTitle"] == "Lead"
    assert by_id[user_id(3)] == {"id": user_id(3), "@removed": {"reason": "changed"}}
    assert user_id(4) not in by_id
    assert g.delete(f"directory/deletedItems/{user_id(3)}").status_code == 204
    final = g.get(later["@odata.deltaLink"]).json()
    assert final["value"] == [{"id": user_id(3), "@removed": {"reason": "deleted"}}]

    latest = g.get("users/delta", params={"$deltaToken": "latest"}).json()
    assert latest["value"] == [] and "@odata.deltaLink" in latest
    selected = g.get("users/delta", params={"$select": "displayName,employeeId"}).json()
    while "@odata.nextLink" in selected:
        selected = g.get(selected["@odata.nextLink"]).json()
    assert g.patch(f"users/{user_id(4)}", {"employeeId": "E44"}).status_code == 204
    tracked = g.get(selected["@odata.deltaLink"]).json()["value"]
    assert tracked == [{"displayName": "User 04", "employeeId": "E44", "id": user_id(4)}]


def test_delta_with_id_filter_tracks_only_those_users(fresh):
    g = graph_caller(fresh, SEED_TENANT)
    flt = f"id eq '{user_id(1)}' or id eq '{user_id(2)}'"
    first = g.get("users/delta", params={"$filter": flt, "$select": "displayName,jobTitle"}).json()
    assert {v["id"] for v in first["value"]} == {user_id(1), user_id(2)}
    assert g.patch(f"users/{user_id(2)}", {"jobTitle": "Roaster"}).status_code == 204
    assert g.patch(f"users/{user_id(3)}", {"jobTitle": "Roaster"}).status_code == 204
    later = g.get(first["@odata.deltaLink"]).json()["value"]
    assert later == [{"displayName": "User 02", "jobTitle": "Roaster", "id": user_id(2)}]
    other = g.get("users/delta", params={"$filter": "displayName eq 'User 01'"})
    assert other.status_code == 400


def test_delta_with_select_matches_documented_example_plus_id(small):
    # The documented $select example (user-delta-2.json) shows only the selected properties; the service also
    # returns id on every delta item (a delta without ids could not be applied), so ours adds exactly that.
    example = json.loads((EXAMPLES / "user-delta-2.json").read_text())
    g = graph_caller(small, SEED_TENANT)
    body = g.get("users/delta", params={"$select": "displayName,jobTitle,mobilePhone"}).json()
    assert set(body) == set(example)
    assert set(body["value"][0]) - set(example["value"][0]) == {"id"}
    assert set(example["value"][0]) <= set(body["value"][0])
