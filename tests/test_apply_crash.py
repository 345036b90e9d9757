"""Crash safety: ``ccsync apply`` in a child process, killed with SIGKILL at random moments, resumed each time.

Besides the random moments, deterministic ones: the child kills itself at a phase boundary or right after its
N-th journal write (``toolkit/apply/killpoints.py``, test-only, through ``CCSYNC_TEST_KILL_AT``), so every run
of the suite hits the same places: before the journal exists, with operations registered but nothing sent,
with a ``$batch`` answered but not yet journaled (its operations left ``sent``), and so on.

The simulator runs in this test process; after the last resume every operation must have taken effect exactly
once, checked on the simulator's own state: one target user per created source user, every update applied,
every delete done, group memberships present once. Ctrl-C (SIGINT) must stop cleanly: no operation left
``sent``.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from toolkit.apply import apply_plan
from toolkit.apply.killpoints import ENV as KILL_AT
from toolkit.simulator import SimConfig, Simulator
from toolkit.simulator.faults import FaultConfig
from toolkit.simulator.throttling import ThrottleConfig

from apply_helpers import (FABRIKAM, client, link_of, linked_users, make_plan, profile, source_tenant,
                                source_user)

SCALE = 0.05
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def sim() -> Iterator[Simulator]:
    faults = FaultConfig(replication_lag_s=0.2, latency_ms=2.0)
    with Simulator(SimConfig(faults=faults, throttle=ThrottleConfig(time_scale=SCALE))) as running:
        yield running


def _cli(sim: Simulator, tmp_path: Path, plan: Path, *extra: str, kill_at: str | None = None) -> subprocess.Popen:
    config = sim.write_profiles(tmp_path / "config.toml")
    prof = profile(sim, FABRIKAM)
    env = dict(os.environ, **{prof.secret_env: sim.secret_for(FABRIKAM)})
    env.pop(KILL_AT, None)
    if kill_at is not None:
        env[KILL_AT] = kill_at                    # test-only: the child SIGKILLs itself there (killpoints.py)
    cmd = [sys.executable, "-m", "toolkit.cli", "apply", str(plan), "--profile", prof.name, "--config", str(config),
           "--yes", "--resume", "--quota-window-scale", str(SCALE), "--progress", "none", "--output", "json", *extra]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _scenario(sim: Simulator, tmp_path: Path, existing: int, new: int, gone: int) -> tuple[Any, Path, list]:
    """Users 0..existing-1 already synced; the plan updates the survivors, deletes ``gone``, creates ``new``."""
    group = next(iter(sim.tenant(FABRIKAM).groups))
    seed = make_plan(sim, source_tenant([source_user(i) for i in range(existing)]))
    done = apply_plan(seed, client(sim, scale=SCALE), cloud="gcch", plan_path=seed.save(tmp_path / "seed.json"))
    assert done.failed == 0
    survivors = range(gone, existing)
    wanted = [source_user(i, jobTitle=f"Title {i}") for i in survivors] + \
             [source_user(existing + i) for i in range(new)]
    plan = make_plan(sim, source_tenant(wanted), target_groups=(group,), deletion_threshold=10_000)
    counts = plan.counts()
    assert (counts["update"], counts["create"], counts["delete"]) == (len(survivors), new, gone)
    return plan, plan.save(tmp_path / "plan.json"), wanted


def _check_exactly_once(sim: Simulator, existing: int, new: int, gone: int) -> None:
    tenant = sim.tenant(FABRIKAM)
    group = next(iter(tenant.groups))
    links = linked_users(sim)
    for i in range(gone, existing):
        [user] = links[link_of(i)]
        assert user["jobTitle"] == f"Title {i}", f"update of user {i} lost"
    for i in range(existing, existing + new):
        users = links.get(link_of(i), [])
        assert len(users) == 1, f"source user {i} has {len(users)} target users"
        assert users[0]["jobTitle"] == "Engineer"
        assert tenant.groups[group]["members"].count(users[0]["id"]) == 1
    for i in range(gone):
        assert link_of(i) not in links, f"user {i} was not deleted"
    invited = [u for u in tenant.users.values() if str(u.get("mail", "")).startswith("user")]
    assert len(invited) == existing - gone + new          # no stray users without a link either


def _attempts(journal: Path) -> int:
    """How many sends the journal has recorded so far (0 before it exists)."""
    if not journal.exists():
        return 0
    try:
        with sqlite3.connect(journal) as db:
            return int(db.execute("SELECT COALESCE(SUM(attempts), 0) FROM ops").fetchone()[0])
    except sqlite3.OperationalError:          # the child is still creating the journal
        return 0


def _wait_until_sending(proc: subprocess.Popen, journal: Path, before: int, timeout: float = 60.0) -> None:
    """Wait until this run has sent a request (the journal's send count passed ``before``), or ended: start-up
    and reconciliation time vary with the machine's load, so delays before a kill are measured from here."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
        if _attempts(journal) > before:
            return


def _kill_and_resume(sim: Simulator, tmp_path: Path, plan: Path, kills: int, rng: random.Random,
                     window: tuple[float, float]) -> int:
    """Start, SIGKILL a random delay after the run began sending, repeat; then let a last run finish. Returns how
    many kills left operations ``sent`` (in flight, outcome unknown) in the journal."""
    in_flight_kills = 0
    journal = tmp_path / "plan.json.journal.sqlite"
    for _ in range(kills):
        before = _attempts(journal)
        proc = _cli(sim, tmp_path, plan)
        _wait_until_sending(proc, journal, before)
        time.sleep(rng.uniform(*window))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
        if journal.exists():
            try:
                with sqlite3.connect(journal) as db:
                    in_flight_kills += db.execute("SELECT COUNT(*) FROM ops WHERE state = 'sent'").fetchone()[0] > 0
            except sqlite3.OperationalError:      # killed while it was creating the journal
                pass
    proc = _cli(sim, tmp_path, plan)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    doc = json.loads(out)
    assert doc["summary"]["states"].get("failed", 0) == 0
    return in_flight_kills


def test_sigkill_at_random_moments_then_resume_gives_exactly_once(sim: Simulator, tmp_path: Path) -> None:
    existing, new, gone = 300, 300, 30
    _, plan, _ = _scenario(sim, tmp_path, existing, new, gone)
    killed = _kill_and_resume(sim, tmp_path, plan, kills=5, rng=random.Random(5), window=(0.05, 0.7))
    _check_exactly_once(sim, existing, new, gone)
    assert killed >= 2
    with sqlite3.connect(tmp_path / "plan.json.journal.sqlite") as db:
        assert dict(db.execute("SELECT state, COUNT(*) FROM ops GROUP BY state").fetchall()) == \
            {"done": existing - gone + new + gone}
    # A run after the end says there is nothing to do.
    proc = _cli(sim, tmp_path, plan)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0 and json.loads(out)["nothingToDo"] is True


@pytest.mark.slow
def test_many_sigkills_over_a_few_thousand_operations(sim: Simulator, tmp_path: Path) -> None:
    existing, new, gone = 1500, 1500, 100
    _, plan, _ = _scenario(sim, tmp_path, existing, new, gone)
    killed = _kill_and_resume(sim, tmp_path, plan, kills=15, rng=random.Random(11), window=(0.1, 1.5))
    _check_exactly_once(sim, existing, new, gone)
    assert killed >= 6


def test_ctrl_c_stops_after_in_flight_requests_and_resume_finishes(sim: Simulator, tmp_path: Path) -> None:
    existing, new, gone = 100, 400, 0
    _, plan, _ = _scenario(sim, tmp_path, existing, new, gone)
    journal = tmp_path / "plan.json.journal.sqlite"
    proc = _cli(sim, tmp_path, plan)
    _wait_until_sending(proc, journal, _attempts(journal))
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, err
    doc = json.loads(out)
    assert doc["interrupted"] is True and "--resume" in doc["message"]
    with sqlite3.connect(journal) as db:
        states = dict(db.execute("SELECT state, COUNT(*) FROM ops GROUP BY state").fetchall())
    assert "sent" not in states and states.get("pending", 0) > 0
    proc = _cli(sim, tmp_path, plan)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    _check_exactly_once(sim, existing, new, gone)


def _states(journal: Path) -> dict[str, int]:
    if not journal.exists():
        return {}
    with sqlite3.connect(journal) as db:
        return dict(db.execute("SELECT state, COUNT(*) FROM ops GROUP BY state").fetchall())


def _kill_at_each(sim: Simulator, tmp_path: Path, plan: Path, points: list[str]) -> dict[str, dict[str, int]]:
    """One run per kill point, each of which must die there (SIGKILL); the journal's states after each."""
    journal = tmp_path / "plan.json.journal.sqlite"
    seen = {}
    for point in points:
        proc = _cli(sim, tmp_path, plan, kill_at=point)
        _, err = proc.communicate(timeout=180)
        assert proc.returncode == -signal.SIGKILL, f"{point}: the run did not die there ({proc.returncode}): {err}"
        seen[point] = _states(journal)
    return seen


def _finish(sim: Simulator, tmp_path: Path, plan: Path) -> None:
    proc = _cli(sim, tmp_path, plan)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert json.loads(out)["summary"]["states"].get("failed", 0) == 0


def test_sigkill_at_each_phase_boundary_then_resume_gives_exactly_once(sim: Simulator, tmp_path: Path) -> None:
    existing, new, gone = 40, 40, 4
    _, plan, _ = _scenario(sim, tmp_path, existing, new, gone)
    seen = _kill_at_each(sim, tmp_path, plan, ["phase:verify", "phase:reconcile", "phase:check", "phase:send",
                                               "phase:settle", "journal:4"])
    assert seen["phase:verify"] == {}                                   # died before the journal existed
    assert seen["phase:check"] == {"pending": existing + new}           # registered; nothing sent yet
    assert "sent" in seen["phase:settle"]                   # a $batch answered, its outcome not journaled
    # The last run dies after everything is journaled, before its results: the next one has nothing to do.
    seen = _kill_at_each(sim, tmp_path, plan, ["phase:done"])
    assert seen["phase:done"] == {"done": existing + new}
    _check_exactly_once(sim, existing, new, gone)
    proc = _cli(sim, tmp_path, plan)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0 and json.loads(out)["nothingToDo"] is True, err


@pytest.mark.slow
def test_sigkill_after_each_of_the_first_journal_writes_then_resume_gives_exactly_once(sim: Simulator,
                                                                                       tmp_path: Path) -> None:
    existing, new, gone = 120, 120, 12
    _, plan, _ = _scenario(sim, tmp_path, existing, new, gone)
    # Every run starts over (resume): its own 1st, 2nd, ... journal write is a later moment of the whole apply.
    seen = _kill_at_each(sim, tmp_path, plan, [f"journal:{n}" for n in range(1, 8)])
    assert any("sent" in states for states in seen.values())
    _finish(sim, tmp_path, plan)
    _check_exactly_once(sim, existing, new, gone)
