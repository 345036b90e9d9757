"""Apply under a bad day at Graph: throttling, 503s, connection resets, gateway timeouts and replication lag.

None of these faults may turn into a failed operation, a duplicate user or a lost update.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from toolkit.apply import ApplyOptions, apply_plan
from toolkit.simulator import SimConfig, Simulator
from toolkit.simulator.faults import FaultConfig
from toolkit.simulator.throttling import ThrottleConfig

from apply_helpers import client, link_of, linked_users, make_plan, source_tenant, source_user

SCALE = 0.05


@pytest.fixture()
def faulty() -> Iterator[Simulator]:
    faults = FaultConfig(p429=0.10, p503=0.02, p_reset=0.02, p504=0.01, replication_lag_s=0.3,
                         retry_after_s=0.1, seed=7)
    with Simulator(SimConfig(faults=faults, throttle=ThrottleConfig(time_scale=SCALE))) as running:
        yield running


def test_faults_cause_no_failures_duplicates_or_lost_updates(faulty: Simulator, tmp_path: Path) -> None:
    events: list[dict] = []
    opts = dict(lag_tolerance=15.0, unknown_create_wait=1.0, on_event=events.append)
    n = 200
    users = [source_user(i) for i in range(n)]
    first = make_plan(faulty, source_tenant(users))
    assert first.counts()["create"] == n
    result = apply_plan(first, client(faulty, scale=SCALE), cloud="gcch", plan_path=first.save(tmp_path / "a.json"),
                        options=ApplyOptions(**opts))
    assert result.failed == 0, result.failures[["kind", "httpStatus", "errorCode", "message"]].to_dict("records")
    assert result.summary["states"] == {"done": n}

    # Updates for everyone, plus new users, through the same weather.
    changed = [source_user(i, jobTitle=f"Title {i}") for i in range(n)] + [source_user(n + i) for i in range(50)]
    second = make_plan(faulty, source_tenant(changed))
    assert second.counts()["update"] == n and second.counts()["create"] == 50
    result = apply_plan(second, client(faulty, scale=SCALE), cloud="gcch",
                        plan_path=second.save(tmp_path / "b.json"), options=ApplyOptions(**opts))
    assert result.failed == 0, result.failures[["kind", "httpStatus", "errorCode", "message"]].to_dict("records")
    assert result.summary["states"] == {"done": n + 50}

    links = linked_users(faulty)
    assert all(len(links[link_of(i)]) == 1 for i in range(n + 50))          # no duplicates
    assert [links[link_of(i)][0]["jobTitle"] for i in range(n)] == [f"Title {i}" for i in range(n)]
    # The faults really happened: throttled batches, and batches whose outcome had to be reconciled.
    assert faulty.faults is not None
    assert any(e.get("event") == "apply_batch_lost" for e in events) or result.stats["throttled"] > 0
    assert make_plan(faulty, source_tenant(changed)).counts()["total"] == 0
