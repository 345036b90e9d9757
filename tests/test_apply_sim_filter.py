"""The simulator's $filter on onPremisesExtensionAttributes/extensionAttributeN (added for apply's link look-up).

Microsoft's documented example (microsoft-graph-docs, concepts/extensibility-overview.md, "onPremises extension
attributes"): ``GET /users?$filter=onPremisesExtensionAttributes/extensionAttribute13 ne null&$count=true``
with ``ConsistencyLevel: eventual``: filters on these attributes are advanced queries.
"""

from __future__ import annotations

from typing import Iterator

import pytest

from toolkit.simulator import SimConfig, Simulator

from conftest import graph_caller
from apply_helpers import FABRIKAM

EVENTUAL = {"ConsistencyLevel": "eventual"}


@pytest.fixture()
def caller() -> Iterator:
    with Simulator(SimConfig()) as running:
        c = graph_caller(running, FABRIKAM)
        users = c.all_items("/users", params={"$select": "id"})
        c.patch(f"/users/{users[0]['id']}", json={"onPremisesExtensionAttributes": {"extensionAttribute15": "ccsync:a:b"}})
        c.first_id = users[0]["id"]
        yield c


def test_eq_on_an_extension_attribute_finds_the_user(caller) -> None:
    resp = caller.get("/users", params={"$filter": "onPremisesExtensionAttributes/extensionAttribute15 eq 'ccsync:a:b'",
                                        "$count": "true", "$select": "id,onPremisesExtensionAttributes"},
                      headers=EVENTUAL)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert [u["id"] for u in body["value"]] == [caller.first_id] and body["@odata.count"] == 1
    assert body["value"][0]["onPremisesExtensionAttributes"]["extensionAttribute15"] == "ccsync:a:b"


def test_ne_null_and_in(caller) -> None:
    ne = caller.get("/users", params={"$filter": "onPremisesExtensionAttributes/extensionAttribute15 ne null",
                                      "$count": "true", "$select": "id"}, headers=EVENTUAL)
    assert [u["id"] for u in ne.json()["value"]] == [caller.first_id]
    within = caller.get("/users", params={"$filter": "onPremisesExtensionAttributes/extensionAttribute15 in "
                                                     "('x', 'ccsync:a:b')", "$count": "true", "$select": "id"},
                        headers=EVENTUAL)
    assert [u["id"] for u in within.json()["value"]] == [caller.first_id]


def test_it_is_an_advanced_query_and_names_are_checked(caller) -> None:
    plain = caller.get("/users", params={"$filter": "onPremisesExtensionAttributes/extensionAttribute15 eq 'x'"})
    assert plain.status_code == 400 and plain.json()["error"]["code"] == "Request_UnsupportedQuery"
    bad = caller.get("/users", params={"$filter": "onPremisesExtensionAttributes/extensionAttribute16 eq 'x'",
                                       "$count": "true"}, headers=EVENTUAL)
    assert bad.status_code == 400 and "extensionAttribute16" in bad.json()["error"]["message"]
    whole = caller.get("/users", params={"$filter": "onPremisesExtensionAttributes eq 'x'", "$count": "true"},
                       headers=EVENTUAL)
    assert whole.status_code == 400
