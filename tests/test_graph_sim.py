"""GraphClient against the simulator over loopback HTTPS: real TLS, real msal sign-in, real throttling model."""

from __future__ import annotations

import threading
import time

import pytest

from toolkit.graph import BatchRequest, GraphClient, Quota, RetryPolicy, WritePacer

simulator = pytest.importorskip("toolkit.simulator")
from toolkit.simulator.faults import FaultConfig  # noqa: E402
from toolkit.simulator.throttling import ThrottleConfig  # noqa: E402


@pytest.fixture(autouse=True)
def _private_token_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CCSYNC_CACHE_DIR", str(tmp_path / "tokens"))


def start(**config) -> "simulator.Simulator":
    return simulator.Simulator(simulator.SimConfig(**config)).start()


def commercial(sim) -> tuple:
    profile = next(p for p in sim.profiles() if p.cloud == "commercial" and not p.name.endswith("reader"))
    return profile, sim.secret_for(profile.tenant)


def test_paging_count_and_delta_against_the_simulator():
    sim = start(page_size=4)
    try:
        profile, secret = commercial(sim)
        client = GraphClient.from_profile(profile, secret=secret, pacer=None)
        pages = list(client.iter_pages("/users", params={"$select": "id,userPrincipalName", "$top": 3}))
        users = [u for page in pages for u in page]
        assert len(pages) > 2 and all(len(page) <= 3 for page in pages)
        assert len({u["id"] for u in users}) == len(users) == client.count("/users")
        delta = client.iter_delta("/users/delta", params={"$select": "id"})
        assert {u["id"] for u in delta} == {u["id"] for u in users}
        assert delta.delta_link and "deltatoken" in delta.delta_link.lower()
        assert client.stats.by_status == {200: client.stats.requests}
    finally:
        sim.stop()


def test_batch_against_the_simulator_reports_each_item():
    sim = start()
    try:
        profile, secret = commercial(sim)
        client = GraphClient.from_profile(profile, secret=secret)
        users = cloud_users(client)
        reqs = [BatchRequest(f"p{i}", "PATCH", f"/users/{u['id']}", body={"jobTitle": f"title {i}"})
                for i, u in enumerate(users[:22])]
        reqs.append(BatchRequest("missing", "GET", "/users/00000000-0000-0000-0000-000000000000"))
        results = client.batch(reqs)
        assert [r.status for r in results[:-1]] == [204] * len(results[:-1])
        assert results[-1].status == 404 and results[-1].error.request_id
        assert client.get(f"/users/{users[21]['id']}", params={"$select": "jobTitle"})["jobTitle"] == "title 21"
        assert client.stats.batch_requests == 2 and client.stats.writes_sent == 22
    finally:
        sim.stop()


def test_pacer_keeps_single_writes_under_the_simulated_write_quota():
    # 40 writes per second (a scaled-down write quota): the pacer aims at 97 % and is never throttled.
    sim = start(throttle=ThrottleConfig(write_app_tenant=40, write_app_tenant_window_s=1.0))
    try:
        profile, secret = commercial(sim)
        pacer = WritePacer(writes=Quota("writes", 40, 1.0, fraction=0.97))
        client = GraphClient.from_profile(profile, secret=secret, pacer=pacer)
        users = cloud_users(client)
        started = time.monotonic()
        threads = [threading.Thread(target=lambda k=k: [
            client.patch(f"/users/{users[(k * 40 + i) % len(users)]['id']}", json={"department": f"d{i}"})
            for i in range(40)]) for k in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
        assert client.stats.writes_sent == 120 and client.stats.by_status[204] == 120
        assert client.stats.throttled == 0
        # 120 writes at <= 38.8/s after a 20-write burst take at least ~2.5 s: the pacer really waited. (How
        # close to the quota it gets is measured in bench/bench_writes.py, not asserted on a shared machine.)
        assert elapsed >= 2.4, elapsed
    finally:
        sim.stop()


def test_pacer_keeps_batched_writes_under_the_simulated_write_quota():
    # 62 writes per second: 97 % is 60, three batches of 20 per second, each granted and sent together.
    sim = start(throttle=ThrottleConfig(write_app_tenant=62, write_app_tenant_window_s=1.0))
    try:
        profile, secret = commercial(sim)
        pacer = WritePacer(writes=Quota("writes", 62, 1.0, fraction=0.97))
        client = GraphClient.from_profile(profile, secret=secret, pacer=pacer, max_workers=3)
        users = cloud_users(client)
        reqs = [BatchRequest(str(i), "PATCH", f"/users/{users[i % len(users)]['id']}",
                             body={"department": f"d{i}"}) for i in range(180)]
        started = time.monotonic()
        results = client.batch(reqs)
        elapsed = time.monotonic() - started
        assert all(r.status == 204 for r in results)
        assert client.stats.throttled == 0 and sim.throttle.stats()["throttled"] == 0
        # 9 batches at 3 per second: the last one cannot leave earlier than about 2.7 s after the first.
        assert elapsed >= 2.5, elapsed
    finally:
        sim.stop()


def test_without_a_pacer_throttled_batch_items_are_resubmitted_until_done():
    sim = start(throttle=ThrottleConfig(write_app_tenant=10, write_app_tenant_window_s=0.5))
    try:
        profile, secret = commercial(sim)
        client = GraphClient.from_profile(profile, secret=secret, pacer=None,
                                          retry=RetryPolicy(max_attempts=20, max_elapsed=30))
        users = cloud_users(client)
        reqs = [BatchRequest(str(i), "PATCH", f"/users/{users[i]['id']}", body={"jobTitle": "x"})
                for i in range(14)]
        results = client.batch(reqs)
        assert all(r.status == 204 for r in results)
        assert client.stats.item_by_status[429] > 0 and max(r.attempts for r in results) > 1
        assert sum(1 for r in results if r.attempts == 1) >= 8  # only the throttled ones went again
    finally:
        sim.stop()


def test_injected_503s_and_resets_on_reads_are_retried():
    faults = FaultConfig(p503=0.2, p_reset=0.1, retry_after_s=0.01, seed=3, methods=("GET",))
    sim = start(page_size=3, faults=faults)
    try:
        profile, secret = commercial(sim)
        client = GraphClient.from_profile(profile, secret=secret, pacer=None,
                                          retry=RetryPolicy(max_attempts=10, base=0.01, cap=0.05))
        users = list(client.iter_items("/users", params={"$select": "id"}))
        assert len(users) == len(sim.tenant(profile.tenant).users)
        assert client.stats.retries > 0
    finally:
        sim.stop()


def cloud_users(client):
    """Users Graph lets an app PATCH: hybrid users are mastered on-premises and refused (docs/graph-facts.md 10)."""
    return [u for u in client.iter_items("/users", params={"$select": "id,onPremisesSyncEnabled", "$top": 999})
            if not u.get("onPremisesSyncEnabled")]
