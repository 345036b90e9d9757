"""$batch: splitting, dependsOn chains, per-item results and retries, concurrency, pacing of inner writes."""

from __future__ import annotations

import json
import os
import sys
import threading
import time

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from graph_support import ROOT, FakeClock, Reply, graph_error_body, make_client, reply  # noqa: E402

from toolkit.errors import GraphBadRequest, GraphError, GraphNotFound, GraphThrottled, InputError  # noqa: E402
from toolkit.graph import BatchRequest, Quota, WritePacer, plan_batches  # noqa: E402


def item(id: str, status: int, body=None, **headers) -> dict:
    out = {"id": id, "status": status, "headers": {"Content-Type": "application/json", **headers}}
    if body is not None:
        out["body"] = body
    return out


def batch_handler(answer):
    """A handler answering each $batch POST by calling ``answer(list_of_inner_requests, round)``."""
    rounds = []

    def handle(request):
        assert request.method == "POST" and request.url == f"{ROOT}/$batch"
        inner = json.loads(request.body)["requests"]
        rounds.append(inner)
        return reply(200, {"responses": answer(inner, len(rounds))})

    return handle, rounds


def test_mixed_item_results_retry_only_the_throttled_after_the_longest_retry_after():
    requests_ = [
        BatchRequest("1", "GET", "/users/a"),
        BatchRequest("2", "POST", "/users", body={"displayName": "B"}),
        BatchRequest("3", "GET", "/users/missing"),
        BatchRequest("4", "PATCH", "/users/d", body={"jobTitle": "x"}),
        BatchRequest("5", "POST", "/invitations", body={"invitedUserEmailAddress": "e@x.com"}),
        BatchRequest("6", "POST", "/users/e/assignLicense", body={"addLicenses": []}, depends_on=("5",)),
    ]

    def answer(inner, round_no):
        if round_no == 1:
            # Order differs from the request order, as Graph allows.
            return [
                item("6", 424, graph_error_body("FailedDependency", "dependency failed")),
                item("3", 404, graph_error_body("Request_ResourceNotFound", "Resource 'missing' does not exist",
                                                request_id="rid-404")),
                item("1", 200, {"id": "a"}),
                item("5", 429, graph_error_body("TooManyRequests", "slow"), **{"Retry-After": "7"}),
                item("2", 201, {"id": "b"}),
                item("4", 429, graph_error_body("TooManyRequests", "slow"), **{"retry-after": "3"}),
            ]
        return [item(r["id"], 204 if r["method"] == "PATCH" else 201, None if r["method"] == "PATCH" else {})
                for r in inner]

    handler, rounds = batch_handler(answer)
    events = []
    client, adapter, clock = make_client(handler=handler, on_event=events.append)
    results = client.batch(requests_)

    assert [r.id for r in results] == ["1", "2", "3", "4", "5", "6"]
    assert [r.status for r in results] == [200, 201, 404, 204, 201, 201]
    assert [r.attempts for r in results] == [1, 1, 1, 2, 2, 2]
    assert results[0].body == {"id": "a"} and results[0].ok
    err = results[2].error
    assert isinstance(err, GraphNotFound) and err.request_id == "rid-404"
    assert str(err).startswith(f"GET {ROOT}/users/missing -> 404 Request_ResourceNotFound")
    assert all(r.error is None for i, r in enumerate(results) if i != 2)
    # Only the throttled items and the 424 that depended on one went again, after the longest Retry-After.
    assert [r["id"] for r in rounds[1]] == ["4", "5", "6"]
    assert rounds[1][2]["dependsOn"] == ["5"]
    assert clock.sleeps == [7.0]
    stats = client.stats.to_dict()
    assert stats["batch_requests"] == 2 and stats["requests"] == 2 and stats["batch_items"] == 9
    assert stats["throttled"] == 2 and stats["retries"] == 3 and stats["writes_sent"] == 4 + 3
    assert stats["item_by_status"] == {"200": 1, "201": 3, "204": 1, "404": 1, "424": 1, "429": 2}
    assert [e["event"] for e in events] == ["batch_start", "batch_retry", "batch_done", "batch_end"]
    assert events[-1] == {"event": "batch_end", "requests": 6, "ok": 5, "failed": 1}


def test_424_after_a_dependency_that_really_failed_is_final():
    reqs = [BatchRequest("a", "POST", "/users", body={}),
            BatchRequest("b", "PATCH", "/users/x", body={}, depends_on=["a"])]

    def answer(inner, round_no):
        return [item("a", 400, graph_error_body("Request_BadRequest", "Property 'mailNickname' is required")),
                item("b", 424, graph_error_body("FailedDependency", "The dependent request failed"))]

    handler, rounds = batch_handler(answer)
    client, _, clock = make_client(handler=handler)
    a, b = client.batch(reqs)
    assert len(rounds) == 1 and clock.sleeps == []
    assert a.status == 400 and "mailNickname" in str(a.error)
    assert b.status == 424 and type(b.error) is GraphError and b.error.code == "FailedDependency"


def test_items_still_throttled_after_the_budget_fail_with_graph_throttled():
    def answer(inner, round_no):
        return [item(r["id"], 429, graph_error_body("TooManyRequests", "slow", request_id=f"r{round_no}"),
                     **{"Retry-After": "1"}) for r in inner]

    handler, rounds = batch_handler(answer)
    client, _, clock = make_client(handler=handler, max_attempts=3)
    (result,) = client.batch([BatchRequest("1", "GET", "/users/a")])
    assert len(rounds) == 3 and clock.sleeps == [1.0, 1.0]
    assert isinstance(result.error, GraphThrottled) and "r3" in str(result.error)
    assert result.error.retry_after == 1.0 and result.attempts == 3


def test_504_items_are_resubmitted_only_for_idempotent_methods():
    def answer(inner, round_no):
        return [item(r["id"], 504 if round_no == 1 else 200, {}) for r in inner]

    handler, rounds = batch_handler(answer)
    client, _, _ = make_client(handler=handler, rng=None)
    get, post = client.batch([BatchRequest("g", "GET", "/users/a"), BatchRequest("p", "POST", "/users", body={})])
    assert [r["id"] for r in rounds[1]] == ["g"]
    assert get.status == 200 and post.status == 504 and post.error is not None


def test_wire_format_relative_urls_content_type_and_consistency_level():
    handler, rounds = batch_handler(lambda inner, n: [item(r["id"], 200, {}) for r in inner])
    client, _, _ = make_client(handler=handler)
    client.batch([
        BatchRequest("1", "patch", f"{ROOT}/users/u1", body={"jobTitle": "x"}),
        BatchRequest("2", "GET", "users/$count?$filter=userType eq 'Guest'"),
        BatchRequest("3", "POST", "/users", body={"a": 1}, headers={"content-type": "application/json"}),
    ])
    w1, w2, w3 = rounds[0]
    assert w1 == {"id": "1", "method": "PATCH", "url": "/users/u1",
                  "headers": {"Content-Type": "application/json"}, "body": {"jobTitle": "x"}}
    assert w2 == {"id": "2", "method": "GET", "url": "/users/$count?$filter=userType eq 'Guest'",
                  "headers": {"ConsistencyLevel": "eventual"}}
    assert w3["headers"] == {"content-type": "application/json"}


def test_whole_batch_400_raises_bad_request():
    client, _, _ = make_client([reply(400, graph_error_body("BadRequest", "Invalid batch payload format."))])
    with pytest.raises(GraphBadRequest, match="Invalid batch payload"):
        client.batch([BatchRequest("1", "GET", "/users")])


def test_top_is_checked_inside_batches_too():
    client, adapter, _ = make_client([])
    with pytest.raises(InputError, match="'1000'"):
        client.batch([BatchRequest("1", "GET", "/users?$top=1000")])
    assert adapter.requests == []


# --- splitting -------------------------------------------------------------------------------------------

def test_split_at_20_keeps_depends_on_chains_in_one_batch():
    reqs = [BatchRequest(f"r{i}", "PATCH", f"/users/{i}", body={}) for i in range(45)]
    # A chain r17 <- r18 <- ... <- r21 straddles the natural cut after r19.
    for i in range(18, 22):
        reqs[i] = BatchRequest(f"r{i}", "PATCH", f"/users/{i}", body={}, depends_on=(f"r{i - 1}",))
    batches = plan_batches(reqs)
    assert all(len(b) <= 20 for b in batches)
    assert sorted(r.id for b in batches for r in b) == sorted(r.id for r in reqs)
    chain = {f"r{i}" for i in range(17, 22)}
    holding = [b for b in batches if chain & {r.id for r in b}]
    assert len(holding) == 1 and chain <= {r.id for r in holding[0]}
    assert len(batches) == 3


def test_running_a_split_batch_sends_every_chain_member_together():
    reqs = [BatchRequest(f"r{i}", "GET", f"/users/{i}") for i in range(25)]
    reqs += [BatchRequest("c0", "POST", "/users", body={})] + [
        BatchRequest(f"c{i}", "PATCH", f"/users/c{i}", body={}, depends_on=(f"c{i - 1}",)) for i in range(1, 6)]
    handler, rounds = batch_handler(lambda inner, n: [item(r["id"], 200, {}) for r in inner])
    client, _, _ = make_client(handler=handler, max_workers=1)
    results = client.batch(reqs)
    assert [r.id for r in results] == [r.id for r in reqs] and all(r.ok for r in results)
    assert all(len(r) <= 20 for r in rounds) and sum(len(r) for r in rounds) == 31
    for sent in rounds:
        ids = {r["id"] for r in sent}
        for r in sent:
            assert set(r.get("dependsOn", [])) <= ids


@pytest.mark.parametrize("reqs,message", [
    ([BatchRequest(f"c{i}", "PATCH", "/users/x", body={}, depends_on=((f"c{i - 1}",) if i else ()))
      for i in range(21)], "21 batch requests"),
    ([BatchRequest("a", "GET", "/users"), BatchRequest("A", "GET", "/groups")], "used twice"),
    ([BatchRequest("a", "GET", "/users", depends_on=("zz",))], "'zz', which is not in the batch"),
    ([BatchRequest("a", "GET", "/users", depends_on=("b",)), BatchRequest("b", "GET", "/g", depends_on=("a",))],
     "cycle"),
])
def test_invalid_batches_are_refused_before_sending(reqs, message):
    client, adapter, _ = make_client([])
    with pytest.raises(InputError, match=message):
        client.batch(reqs)
    assert adapter.requests == []


# --- concurrency and pacing ------------------------------------------------------------------------------

def test_several_batches_run_in_flight_at_once():
    active, peak = [0], [0]
    lock = threading.Lock()

    def handler(request):
        inner = json.loads(request.body)["requests"]
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.05)
        with lock:
            active[0] -= 1
        return reply(200, {"responses": [item(r["id"], 200, {"n": r["id"]}) for r in inner]})

    client, adapter, _ = make_client(handler=handler, max_workers=4)
    reqs = [BatchRequest(str(i), "GET", f"/users/{i}") for i in range(100)]
    results = client.batch(reqs)
    assert [r.body["n"] for r in results] == [str(i) for i in range(100)]
    assert len(adapter.requests) == 5 and peak[0] >= 2


def test_a_failed_batch_is_raised_while_others_complete():
    calls = []

    def handler(request):
        inner = json.loads(request.body)["requests"]
        calls.append(inner[0]["id"])
        if inner[0]["id"] == "0":
            return reply(403, graph_error_body("Authorization_RequestDenied", "Insufficient privileges"))
        return reply(200, {"responses": [item(r["id"], 200, {}) for r in inner]})

    client, _, _ = make_client(handler=handler, max_workers=2)
    with pytest.raises(GraphError, match="Authorization_RequestDenied") as info:
        client.batch([BatchRequest(str(i), "GET", f"/users/{i}") for i in range(60)])
    # What finished before the failure is handed back, never silently lost.
    partial = info.value.partial_results
    assert all(r.status == 200 for r in partial) and not any(r.id in [str(i) for i in range(20)] for r in partial)
    assert {r.id for r in partial} >= {str(i) for i in range(20, 40)}   # the batch running beside the failed one


def test_each_write_inside_a_batch_is_paced_and_counted():
    clock = FakeClock()
    pacer = WritePacer(writes=Quota("writes", 10, 10.0), clock=clock, sleep=clock.sleep)
    send_times = []

    def handler(request):
        inner = json.loads(request.body)["requests"]
        send_times.append((clock(), len(inner)))
        return reply(200, {"responses": [item(r["id"], 204) for r in inner]})

    client, _, _ = make_client(handler=handler, clock=clock, pacer=pacer, max_workers=1)
    reqs = [BatchRequest(str(i), "PATCH", f"/users/{i}", body={"jobTitle": "t"}) for i in range(30)]
    reqs += [BatchRequest(f"g{i}", "GET", f"/users/{i}") for i in range(10)]
    results = client.batch(reqs)
    assert all(r.status == 204 or r.status == 200 for r in results)
    assert client.stats.writes_sent == 30 and pacer.writes.total_sent == 30
    # 30 writes at 10 per 10 s cannot all go in the first 10 s.
    assert clock() - 1000.0 >= 20.0
    assert [n for _, n in send_times] == [20, 20]


def test_inner_throttling_signals_slow_the_pacer():
    clock = FakeClock()
    pacer = WritePacer(writes=Quota("writes", 100, 10.0), clock=clock, sleep=clock.sleep)

    def answer(inner, round_no):
        if round_no == 1:
            return [item(inner[0]["id"], 429, {}, **{"Retry-After": "2"})] + [
                item(r["id"], 204) for r in inner[1:]]
        return [item(r["id"], 204) for r in inner]

    handler, _ = batch_handler(answer)
    client, _, _ = make_client(handler=handler, clock=clock, pacer=pacer)
    client.batch([BatchRequest(str(i), "PATCH", f"/users/{i}", body={}) for i in range(3)])
    assert pacer.writes.slowdowns == 1


def test_empty_batch_sends_nothing():
    client, adapter, _ = make_client([])
    assert client.batch([]) == []
    assert adapter.requests == []


def test_missing_item_in_the_response_is_reported_not_lost():
    client, _, _ = make_client([Reply(200, {"responses": []})] * 6)
    (result,) = client.batch([BatchRequest("1", "POST", "/users", body={})])
    assert result.status == 502 and "no entry for this request id" in str(result.error)
