"""The simulated Graph manager relationship, held to user-post-manager.md, user-list-manager.md and
user-delete-manager.md (plain requests, not ccsync's client)."""

from __future__ import annotations

from conftest import SEED_READER, graph_caller, user_id


def _ref(g, uid: str) -> dict[str, str]:
    return {"@odata.id": f"{g.base}/v1.0/users/{uid}"}


def test_put_manager_ref_answers_204_and_get_manager_returns_the_user(fresh):
    g = graph_caller(fresh, "fourthcoffee.com")
    resp = g.call("PUT", f"users/{user_id(2)}/manager/$ref", json=_ref(g, user_id(1)))
    assert resp.status_code == 204 and resp.content == b""
    got = g.get(f"users/{user_id(2)}/manager")
    assert got.status_code == 200
    body = got.json()
    assert body["id"] == user_id(1) and body["userPrincipalName"] == "user1@fourthcoffee.com"
    assert body["@odata.type"] == "#microsoft.graph.user"
    # by UPN too, and $select narrows the manager's properties
    narrow = g.get("users/user2@fourthcoffee.com/manager", params={"$select": "id,displayName"}).json()
    assert {k for k in narrow if not k.startswith("@")} == {"id", "displayName"}
    # the documented example body uses graph.microsoft.com/v1.0/users/{id}; directoryObjects is a read URL too
    again = g.call("PUT", f"users/{user_id(2)}/manager/$ref",
                   json={"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{user_id(3)}"})
    assert again.status_code == 204
    assert g.get(f"users/{user_id(2)}/manager").json()["id"] == user_id(3)


def test_manager_errors_use_graphs_codes(fresh):
    g = graph_caller(fresh, "fourthcoffee.com")
    missing = "00000000-0000-4000-8000-999999999999"
    no_user = g.call("PUT", f"users/{missing}/manager/$ref", json=_ref(g, user_id(1)))
    assert no_user.status_code == 404 and no_user.json()["error"]["code"] == "Request_ResourceNotFound"
    no_manager = g.call("PUT", f"users/{user_id(2)}/manager/$ref", json=_ref(g, missing))
    assert no_manager.status_code == 404
    err = no_manager.json()["error"]
    assert err["code"] == "Request_ResourceNotFound" and missing in err["message"]
    assert set(err["innerError"]) >= {"date", "request-id", "client-request-id"}
    itself = g.call("PUT", f"users/{user_id(2)}/manager/$ref", json=_ref(g, user_id(2)))
    assert itself.status_code == 400 and itself.json()["error"]["code"] == "Request_BadRequest"
    bad_url = g.call("PUT", f"users/{user_id(2)}/manager/$ref", json={"@odata.id": user_id(1)})
    assert bad_url.status_code == 400
    assert bad_url.json()["error"]["message"] == "Invalid URL format specified in payload."
    none_yet = g.get(f"users/{user_id(4)}/manager")
    assert none_yet.status_code == 404 and none_yet.json()["error"]["code"] == "Request_ResourceNotFound"
    assert g.get(f"users/{missing}/manager").status_code == 404
    # nothing was changed by the refused writes
    assert g.get(f"users/{user_id(2)}/manager").status_code == 404


def test_reader_can_read_but_not_assign(fresh):
    g = graph_caller(fresh, "fourthcoffee.com")
    assert g.call("PUT", f"users/{user_id(2)}/manager/$ref", json=_ref(g, user_id(1))).status_code == 204
    reader = graph_caller(fresh, "fourthcoffee.com", SEED_READER)
    assert reader.get(f"users/{user_id(2)}/manager").status_code == 200
    denied = reader.call("PUT", f"users/{user_id(3)}/manager/$ref", json=_ref(reader, user_id(1)))
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "Authorization_RequestDenied"


def test_delete_manager_ref_removes_it_and_each_write_is_audited(fresh):
    g = graph_caller(fresh, "fourthcoffee.com")
    assert g.call("PUT", f"users/{user_id(2)}/manager/$ref", json=_ref(g, user_id(1))).status_code == 204
    gone = g.delete(f"users/{user_id(2)}/manager/$ref")
    assert gone.status_code == 204 and gone.content == b""
    assert g.get(f"users/{user_id(2)}/manager").status_code == 404
    assert g.delete(f"users/{user_id(2)}/manager/$ref").status_code == 404
    audit = [e for e in fresh.tenant("fourthcoffee.com").audit if e["targetResources"][0]["id"] == user_id(2)]
    assert [e["activityDisplayName"] for e in audit] == ["Set user manager", "Update user"]
    first = audit[0]
    assert first["category"] == "UserManagement" and first["loggedByService"] == "Core Directory"
    assert first["targetResources"][1]["id"] == user_id(1)
    assert first["targetResources"][0]["modifiedProperties"][0]["displayName"] == "Manager"


def test_expand_manager_on_a_user_nests_the_chain(fresh):
    g = graph_caller(fresh, "fourthcoffee.com")
    for worker, boss in ((3, 2), (2, 1)):
        assert g.call("PUT", f"users/{user_id(worker)}/manager/$ref", json=_ref(g, user_id(boss))).status_code == 204
    one = g.get(f"users/{user_id(3)}", params={"$expand": "manager"}).json()
    assert one["manager"]["id"] == user_id(2) and "manager" not in one["manager"]
    chain = g.get(f"users/{user_id(3)}", params={"$expand": "manager($levels=max;$select=id,displayName)",
                                                  "$select": "id,displayName"}).json()
    assert chain["id"] == user_id(3)
    assert chain["manager"]["id"] == user_id(2) and chain["manager"]["manager"]["id"] == user_id(1)
    assert set(chain["manager"]) == {"@odata.type", "id", "displayName", "manager"}
    alone = g.get(f"users/{user_id(1)}", params={"$expand": "manager"}).json()
    assert alone["id"] == user_id(1) and "manager" not in alone
    assert g.get(f"users/{user_id(3)}", params={"$expand": "manager($levels=0)"}).status_code == 400


def test_manager_through_batch(fresh):
    g = graph_caller(fresh, "fourthcoffee.com")
    resp = g.post("$batch", json={"requests": [
        {"id": "1", "method": "PUT", "url": f"/users/{user_id(4)}/manager/$ref", "body": _ref(g, user_id(1)),
         "headers": {"Content-Type": "application/json"}},
        {"id": "2", "method": "GET", "url": f"/users/{user_id(4)}/manager?$select=id", "dependsOn": ["1"]}]})
    assert resp.status_code == 200
    answers = {r["id"]: r for r in resp.json()["responses"]}
    assert answers["1"]["status"] == 204
    assert answers["2"]["status"] == 200 and answers["2"]["body"]["id"] == user_id(1)
