"""Issue 15, class 2: one apply per plan at a time.

Two ``ccsync apply`` processes of one plan: the second stops with exit 1, naming the first one's process id and
start time, and writes nothing; the first finishes and every operation happened exactly once. A lock left by a
process that died (SIGKILL) is taken over, and the run says so.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Iterator

import pytest
from click.testing import CliRunner

from toolkit.apply.lock import ApplyLock, lock_path
from toolkit.cli.main import cli
from toolkit.errors import BusyError
from toolkit.simulator import SimConfig, Simulator

from apply_helpers import FABRIKAM, link_of, linked_users, make_plan, profile, source_tenant, source_user

ROOT = Path(__file__).resolve().parents[1]


def _holder(journal: Path) -> subprocess.Popen:
    """Another process holding the plan's apply lock (until it is killed)."""
    code = ("import sys, time; from toolkit.apply.lock import ApplyLock; ApplyLock(sys.argv[1]).acquire(); "
            "print('locked', flush=True); time.sleep(120)")
    proc = subprocess.Popen([sys.executable, "-c", code, str(journal)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_a_held_lock_refuses_a_second_holder_naming_pid_and_start(tmp_path):
    journal = tmp_path / "plan.json.journal.sqlite"
    other = _holder(journal)
    try:
        with pytest.raises(BusyError) as info:
            ApplyLock(journal).acquire()
        assert info.value.exit_code == 1 and info.value.pid == other.pid
        assert f"process {other.pid}" in str(info.value) and "started 20" in str(info.value)
        assert info.value.to_dict()["pid"] == other.pid
    finally:
        other.kill()
        other.wait()


def test_a_lock_left_by_a_killed_process_is_taken_over_and_said(tmp_path):
    journal = tmp_path / "plan.json.journal.sqlite"
    other = _holder(journal)
    other.send_signal(signal.SIGKILL)
    other.wait()
    lock = ApplyLock(journal).acquire()
    try:
        assert lock.took_over and f"process {other.pid}" in lock.took_over and "no longer running" in lock.took_over
        assert json.loads(lock_path(journal).read_text())["pid"] == os.getpid()
    finally:
        lock.release()
    assert not lock_path(journal).exists()                      # a clean release leaves no lock file behind
    again = ApplyLock(journal).acquire()
    assert again.took_over is None
    again.release()


def test_the_same_process_cannot_hold_it_twice_either(tmp_path):
    journal = tmp_path / "j.sqlite"
    with ApplyLock(journal):
        with pytest.raises(BusyError, match=f"process {os.getpid()}"):
            ApplyLock(journal).acquire()


# --- two real applies of one plan ----------------------------------------------------------------------------------

@pytest.fixture()
def gated_sim() -> Iterator[Simulator]:
    with Simulator(SimConfig()) as running:
        yield running


def _cli(sim: Simulator, tmp_path: Path, plan: Path) -> subprocess.Popen:
    config = sim.write_profiles(tmp_path / "config.toml")
    prof = profile(sim, FABRIKAM)
    env = dict(os.environ, **{prof.secret_env: sim.secret_for(FABRIKAM)},
               CCSYNC_CACHE_DIR=str(tmp_path / "tokens"))
    cmd = [sys.executable, "-m", "toolkit.cli", "apply", str(plan), "--profile", prof.name, "--config", str(config),
           "--yes", "--concurrency", "1", "--progress", "none", "--output", "json"]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_concurrent_applies_of_one_plan(gated_sim, tmp_path, monkeypatch):
    monkeypatch.setenv("CCSYNC_CACHE_DIR", str(tmp_path / "tokens"))          # the subprocesses share this key
    users = [source_user(i) for i in range(40)]
    plan = make_plan(gated_sim, source_tenant(users)).save(tmp_path / "plan.json")
    # Hold every Graph answer until the second run is over, so the first is surely mid-run (no timing guess).
    gate = threading.Event()
    real_latency = gated_sim.faults.latency
    monkeypatch.setattr(gated_sim.faults, "latency", lambda: (gate.wait(120), real_latency())[1])
    first = _cli(gated_sim, tmp_path, plan)
    lock = lock_path(tmp_path / "plan.json.journal.sqlite")
    deadline = time.monotonic() + 120
    while not (lock.exists() and lock.read_text().strip()):          # wait until the first run holds the lock
        assert first.poll() is None, first.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    try:
        second = _cli(gated_sim, tmp_path, plan)
        out2, err2 = second.communicate(timeout=120)
    finally:
        gate.set()
    out1, err1 = first.communicate(timeout=300)
    assert second.returncode == 1, err2
    assert "another apply of this plan is running" in err2 and f"process {first.pid}" in err2 and "started" in err2
    assert json.loads(out2)["error"] == "BusyError" and json.loads(out2)["pid"] == first.pid
    assert "an earlier apply of this plan was interrupted" not in err2
    assert first.returncode == 0, err1
    assert json.loads(out1)["summary"]["states"] == {"done": 40}
    links = linked_users(gated_sim)
    assert all(len(links[link_of(i)]) == 1 for i in range(40))           # exactly once


def test_cli_says_it_took_over_a_dead_runs_lock(tmp_path, monkeypatch):
    with Simulator(SimConfig()) as sim:
        monkeypatch.setenv("CCSYNC_CACHE_DIR", str(tmp_path / "tokens"))
        plan = make_plan(sim, source_tenant([source_user(1)])).save(tmp_path / "plan.json")
        dead = _holder(tmp_path / "plan.json.journal.sqlite")
        dead.send_signal(signal.SIGKILL)
        dead.wait()
        config = sim.write_profiles(tmp_path / "config.toml")
        prof = profile(sim, FABRIKAM)
        result = CliRunner().invoke(cli, ["apply", str(plan), "--profile", prof.name, "--config", str(config),
                                          "--yes", "--progress", "none"], env={prof.secret_env: sim.secret_for(FABRIKAM)})
        assert result.exit_code == 0, result.output
        assert f"took over the apply lock of process {dead.pid}" in result.stderr
