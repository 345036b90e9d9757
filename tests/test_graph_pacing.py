"""Write pacing against a simulated clock: quotas kept, throughput near the quota, slowing down on signals."""

from __future__ import annotations

import bisect
import os
import sys
import threading

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from graph_support import FakeClock, make_client, reply  # noqa: E402

from toolkit.graph import WRITE_QUOTA, Limiter, Quota, WritePacer  # noqa: E402


def max_in_any_window(times: list[float], window: float) -> int:
    """The most sends inside any half-open window of ``window`` seconds (as a server would count them)."""
    times = sorted(times)
    best = 0
    for i, t in enumerate(times):
        j = bisect.bisect_left(times, t + window)
        best = max(best, j - i)
    return best


def test_default_write_quota_is_97_percent_of_3000_per_150_seconds():
    assert (WRITE_QUOTA.limit, WRITE_QUOTA.window, WRITE_QUOTA.capacity) == (3000, 150.0, 2910)


def test_writes_stay_under_the_quota_and_reach_over_90_percent_of_it():
    clock = FakeClock(start=0.0)
    limiter = Limiter(Quota("writes", 3000, 150.0, fraction=0.97), clock=clock, sleep=clock.sleep)
    sent = []
    for _ in range(12_000):
        limiter.acquire()
        sent.append(clock())
    assert max_in_any_window(sent, 150.0) <= 3000
    elapsed = sent[-1] - sent[0]
    achieved = (len(sent) - 1) / elapsed * 150.0 / 3000
    assert 0.93 <= achieved <= 1.0, achieved


def test_sends_are_spread_after_a_small_burst_not_dumped_at_the_window_start():
    clock = FakeClock(start=0.0)
    limiter = Limiter(Quota("writes", 1000, 100.0), clock=clock, sleep=clock.sleep)
    sent = []
    for _ in range(200):
        limiter.acquire()
        sent.append(clock())
    assert sent[:50] == [0.0] * 50 and sent[50] > 0  # a burst of 5 % of the capacity
    assert max_in_any_window(sent[50:], 1.0) <= 11    # then 10 per second


def test_a_batch_worth_of_sends_is_granted_together():
    clock = FakeClock(start=0.0)
    pacer = WritePacer(writes=Quota("writes", 40, 1.0), clock=clock, sleep=clock.sleep)
    batch = [("PATCH", f"/users/{i}") for i in range(20)] + [("GET", "/users")]
    assert pacer.before_send_many(batch) == 0
    assert pacer.writes.total_sent == 20
    waited = pacer.before_send_many(batch)
    # The burst is used up: the next 20 wait for 20 tokens at 40/s, then go out at one instant.
    assert waited == pytest.approx(0.5, abs=1e-3) and pacer.writes.total_sent == 40


def test_pacer_keeps_a_quota_across_threads():
    clock = FakeClock(start=0.0)
    limiter = Limiter(Quota("writes", 50, 5.0), clock=clock, sleep=clock.sleep)
    sent, lock = [], threading.Lock()

    def worker():
        for _ in range(100):
            limiter.acquire()
            with lock:
                sent.append(clock())

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(sent) == 400 and limiter.total_sent == 400
    assert max_in_any_window(sent, 5.0) <= 50


def test_limit_percentage_that_our_own_sends_do_not_explain_slows_down_then_recovers():
    clock = FakeClock(start=0.0)
    events = []
    quota = Quota("writes", 1000, 100.0)
    pacer = WritePacer(writes=quota, clock=clock, sleep=clock.sleep, on_event=events.append)
    for _ in range(10):
        pacer.before_send("PATCH", "/users/1")
    # Someone else uses the quota: Graph says 90 % used, we sent 1 %.
    pacer.after_response("PATCH", "/users/1", 204, {"x-ms-throttle-limit-percentage": "0.9"})
    assert pacer.writes.factor == pytest.approx(0.8)
    assert events == [{"event": "pacer_slowdown", "quota": "writes",
                       "reason": "x-ms-throttle-limit-percentage 0.9 (own share 0.01)", "factor": 0.8}]
    # Fewer sends fit the next 20 s than for an unsignalled pacer.
    other = FakeClock(start=0.0)
    baseline = WritePacer(writes=quota, clock=other, sleep=other.sleep)
    for _ in range(10):
        baseline.before_send("PATCH", "/users/1")

    def sends_within(p: WritePacer, c: FakeClock, seconds: float) -> int:
        n, end = 0, c() + seconds
        while True:
            p.before_send("POST", "/users")
            if c() >= end:
                return n
            n += 1

    slowed, normal = sends_within(pacer, clock, 20.0), sends_within(baseline, other, 20.0)
    assert slowed <= normal * 0.9, (slowed, normal)
    # Recovery: +5 % of the pace per quarter window without a new signal, full pace after one window.
    clock.sleep(50.0 - clock())  # the signal came at 0.0
    assert pacer.writes.factor == pytest.approx(0.9)
    clock.sleep(50.0)
    assert pacer.writes.factor == 1.0


def test_limit_percentage_explained_by_our_own_sends_is_not_a_reason_to_slow_down():
    clock = FakeClock(start=0.0)
    pacer = WritePacer(writes=Quota("writes", 100, 10.0, fraction=0.97), clock=clock, sleep=clock.sleep)
    for _ in range(85):
        pacer.before_send("PATCH", "/users/1")
    pacer.after_response("PATCH", "/users/1", 204, {"x-ms-throttle-limit-percentage": "0.85"})
    assert pacer.writes.factor == 1.0
    # Over the limit is always a signal.
    pacer.after_response("PATCH", "/users/1", 204, {"x-ms-throttle-limit-percentage": "1.05"})
    assert pacer.writes.factor == pytest.approx(0.8)


def test_every_limit_percentage_header_counts_when_own_share_is_not_considered():
    clock = FakeClock(start=0.0)
    pacer = WritePacer(writes=Quota("writes", 100, 10.0), clock=clock, sleep=clock.sleep, own_share_margin=None)
    for _ in range(85):
        pacer.before_send("PATCH", "/users/1")
    pacer.after_response("PATCH", "/users/1", 204, {"x-ms-throttle-limit-percentage": "0.85"})
    assert pacer.writes.factor == pytest.approx(0.8)
    pacer.after_response("GET", "/users/1", 200, {"x-ms-throttle-limit-percentage": "1.5"})  # reads: not paced
    assert pacer.writes.slowdowns == 1


def test_a_burst_of_signals_counts_once():
    clock = FakeClock(start=0.0)
    pacer = WritePacer(writes=Quota("writes", 100, 30.0), clock=clock, sleep=clock.sleep)
    for _ in range(5):
        pacer.after_response("POST", "/users", 429, {})
    assert pacer.writes.factor == pytest.approx(0.8) and pacer.writes.slowdowns == 1
    clock.sleep(1.5)  # past the cooldown of window / 30
    pacer.after_response("POST", "/users", 429, {})
    assert pacer.writes.factor == pytest.approx(0.64)


def test_429_pauses_writes_for_its_retry_after():
    clock = FakeClock(start=0.0)
    pacer = WritePacer(writes=Quota("writes", 100, 10.0), clock=clock, sleep=clock.sleep)
    pacer.after_response("POST", "/users", 429, {"Retry-After": "4.5"})
    waited = pacer.before_send("POST", "/users")
    assert waited == pytest.approx(4.5, abs=1e-3)
    # Reads are not paced and not paused.
    assert pacer.before_send("GET", "/users") == 0


def test_reports_are_limited_to_5_per_10_seconds():
    clock = FakeClock(start=0.0)
    pacer = WritePacer(clock=clock, sleep=clock.sleep)
    sent = []
    for _ in range(12):
        pacer.before_send("GET", "https://graph.microsoft.com/v1.0/auditLogs/directoryAudits?$top=100")
        sent.append(clock())
    assert max_in_any_window(sent, 10.0 * 1.05) <= 5
    assert sent[-1] < 30.0


def test_invitations_have_their_own_limit_on_top_of_the_write_quota():
    clock = FakeClock(start=0.0)
    pacer = WritePacer(clock=clock, sleep=clock.sleep)
    assert [lim.quota.name for lim in pacer.limiters_for("POST", "/invitations")] == ["writes", "invitations"]
    assert [lim.quota.name for lim in pacer.limiters_for("GET", "invitations/x")] == ["invitations"]
    assert [lim.quota.name for lim in pacer.limiters_for("PATCH", "https://h/v1.0/Users/x")] == ["writes"]
    assert pacer.limiters_for("GET", "/users") == []
    assert pacer.limiters_for("POST", "/$batch") == []
    assert [lim.quota.name for lim in pacer.limiters_for(
        "POST", "/servicePrincipals/s/synchronization/jobs/j/provisionOnDemand")] == ["writes", "provisionOnDemand"]
    sent = []
    for _ in range(400):
        pacer.before_send("POST", "/invitations")
        sent.append(clock())
    assert max_in_any_window(sent, 5.0 * 1.05) <= 150


def test_scaled_pacer_shrinks_every_window():
    pacer = WritePacer.scaled(0.01)
    assert pacer.writes.quota.window == pytest.approx(1.5) and pacer.writes.quota.limit == 3000
    assert pacer.reports.quota.window == pytest.approx(0.1)


def test_client_paces_writes_and_counts_them_when_sent():
    clock = FakeClock(start=0.0)
    pacer = WritePacer(writes=Quota("writes", 10, 10.0), clock=clock, sleep=clock.sleep)
    sent_at = []

    def handler(request):
        sent_at.append(clock())
        return reply(204)

    client, _, _ = make_client(handler=handler, clock=clock, pacer=pacer)
    for i in range(25):
        client.patch(f"/users/{i}", json={"jobTitle": "x"})
    client.get("/users/1")
    assert client.stats.writes_sent == 25 and pacer.writes.total_sent == 25
    assert max_in_any_window(sent_at[:25], 10.0) <= 10


def test_client_feeds_limit_percentage_headers_to_the_pacer():
    clock = FakeClock(start=0.0)
    pacer = WritePacer(writes=Quota("writes", 1000, 10.0), clock=clock, sleep=clock.sleep)
    client, _, _ = make_client([reply(204, None, **{"x-ms-throttle-limit-percentage": "1.2"})], clock=clock,
                               pacer=pacer)
    client.patch("/users/1", json={})
    assert pacer.writes.slowdowns == 1 and pacer.snapshot()["writes"]["factor"] == pytest.approx(0.8)
