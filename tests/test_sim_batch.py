"""JSON batching in the simulated Graph, checked against concepts/json-batching.md and its example response."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import SEED_TENANT, graph_caller, small_sim, user_id
from toolkit.simulator.throttling import ThrottleConfig

EXAMPLES = Path(__file__).parent / "fixtures" / "graph-examples"   # Microsoft's published examples (SOURCES.md)


@pytest.fixture(scope="module")
def small():
    simulator = small_sim(batch_seed=7)
    yield simulator
    simulator.stop()


def _batch(g, requests_):
    return g.post("$batch", {"requests": requests_})


def test_batch_response_shape_matches_documented_example(small):
    example = json.loads((EXAMPLES / "batch-response.json").read_text())
    g = graph_caller(small, SEED_TENANT)
    resp = _batch(g, [
        {"id": "1", "method": "GET", "url": "/users?$top=1&$select=id,displayName,userPrincipalName"},
        {"id": "2", "method": "GET", "url": f"users/{user_id(1)}"},
        {"id": "3", "method": "GET", "url": "/users/00000000-0000-4000-8000-000000000999"},
        {"id": "4", "method": "PUT", "url": "/users"},
        {"id": "5", "method": "GET", "url": "/users?$count=true&$select=id,displayName,userPrincipalName",
         "headers": {"ConsistencyLevel": "eventual"}},
    ])
    assert resp.status_code == 200
    body = resp.json()
    assert set(body) == set(example)
    by_id = {r["id"]: r for r in body["responses"]}
    assert set(by_id) == {"1", "2", "3", "4", "5"}
    for r in body["responses"]:
        assert set(r) == {"id", "status", "headers", "body"}
    ok = by_id["1"]
    assert ok["status"] == 200
    assert ok["headers"]["Content-Type"] == example["responses"][0]["headers"]["Content-Type"]
    assert ok["body"]["@odata.context"].endswith("$metadata#users(id,displayName,userPrincipalName)")
    assert "@odata.nextLink" in ok["body"]
    assert by_id["3"]["status"] == 404
    assert set(by_id["3"]["body"]["error"]) == set(example["responses"][2]["body"]["error"])
    assert set(by_id["3"]["body"]["error"]["innerError"]) == {"date", "request-id", "client-request-id"}
    assert by_id["4"]["status"] == 405
    assert by_id["4"]["body"]["error"] == {**example["responses"][3]["body"]["error"],
                                           "innerError": by_id["4"]["body"]["error"]["innerError"]}
    assert by_id["5"]["body"]["@odata.count"] == 6


def test_batch_limits_and_malformed_batches(small):
    g = graph_caller(small, SEED_TENANT)
    many = [{"id": str(i), "method": "GET", "url": "/users"} for i in range(21)]
    assert _batch(g, many).status_code == 400
    assert _batch(g, many[:20]).status_code == 200
    dup = _batch(g, [{"id": "a", "method": "GET", "url": "/users"}, {"id": "A", "method": "GET", "url": "/users"}])
    assert dup.status_code == 400
    assert dup.json()["error"]["code"] == "BadRequest"
    no_type = _batch(g, [{"id": "1", "method": "PATCH", "url": f"/users/{user_id(1)}", "body": {"jobTitle": "x"}}])
    assert no_type.status_code == 400
    unknown_dep = _batch(g, [{"id": "1", "method": "GET", "url": "/users", "dependsOn": ["9"]}])
    assert unknown_dep.status_code == 400


def test_depends_on_orders_and_fails_with_424(fresh):
    g = graph_caller(fresh, SEED_TENANT)
    resp = _batch(g, [
        {"id": "3", "method": "GET", "url": f"/users/{user_id(1)}?$select=jobTitle", "dependsOn": ["2"]},
        {"id": "2", "method": "PATCH", "url": f"/users/{user_id(1)}", "body": {"jobTitle": "Barista"},
         "headers": {"Content-Type": "application/json"}, "dependsOn": ["1"]},
        {"id": "1", "method": "GET", "url": f"/users/{user_id(1)}"},
    ])
    by_id = {r["id"]: r for r in resp.json()["responses"]}
    assert [r["id"] for r in resp.json()["responses"]] == ["1", "2", "3"]
    assert by_id["2"]["status"] == 204 and by_id["3"]["body"]["jobTitle"] == "Barista"
    failing = _batch(g, [
        {"id": "1", "method": "PATCH", "url": f"/users/{user_id(1)}", "body": {"createdDateTime": "x"},
         "headers": {"Content-Type": "application/json"}},
        {"id": "2", "method": "GET", "url": "/users", "dependsOn": ["1"]},
        {"id": "3", "method": "GET", "url": "/users", "dependsOn": ["2"]},
    ]).json()
    statuses = {r["id"]: r["status"] for r in failing["responses"]}
    assert statuses == {"1": 400, "2": 424, "3": 424}


def test_independent_responses_may_come_back_in_another_order(small):
    g = graph_caller(small, SEED_TENANT)
    reqs = [{"id": str(i), "method": "GET", "url": f"/users/{user_id(1 + i % 6)}"} for i in range(20)]
    orders = {tuple(r["id"] for r in _batch(g, reqs).json()["responses"]) for _ in range(3)}
    assert any(order != tuple(str(i) for i in range(20)) for order in orders)
    assert all(sorted(order, key=int) == [str(i) for i in range(20)] for order in orders)


def test_each_batch_item_is_throttled_on_its_own():
    # a tiny RU quota (GET users/{id} costs 2 RU): the first inner requests use it up, later ones get their own 429
    simulator = small_sim(throttle=ThrottleConfig(ru_small=6, ru_window_s=60.0))
    try:
        g = graph_caller(simulator, SEED_TENANT)
        resp = _batch(g, [{"id": str(i), "method": "GET", "url": f"/users/{user_id(1)}"} for i in range(6)])
        assert resp.status_code == 200
        statuses = [r["status"] for r in resp.json()["responses"]]
        assert 200 in statuses and 429 in statuses
        throttled = next(r for r in resp.json()["responses"] if r["status"] == 429)
        assert float(throttled["headers"]["Retry-After"]) > 0
        assert throttled["body"]["error"]["code"] == "TooManyRequests"
        top = g.get("users")
        assert top.status_code == 429
        assert float(top.headers["Retry-After"]) > 0
        assert top.json()["error"]["code"] == "TooManyRequests"
    finally:
        simulator.stop()
