"""A CSV migration end to end: validate and plan through the CLI, then ``ccsync apply`` killed with SIGKILL at
random moments and resumed, against the simulator over HTTPS: exactly one target user per valid row, and each
row's manager (one the file adds, or one already in the target) set on it, and on no one else."""

from __future__ import annotations

import csv
import json
import os
import random
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Iterator

import pytest

from toolkit.export import export_tenant
from toolkit.simulator import SimConfig, Simulator
from toolkit.simulator.faults import FaultConfig
from toolkit.simulator.manager import MANAGER_KEY
from toolkit.simulator.throttling import ThrottleConfig

from apply_helpers import FABRIKAM, client, profile

SCALE = 0.05
ROOT = Path(__file__).resolve().parents[1]
D = "fabrikamfederal.us"
GROUP = "CCS-Sync-Pilot"


@pytest.fixture()
def sim() -> Iterator[Simulator]:
    faults = FaultConfig(replication_lag_s=0.2, latency_ms=2.0)
    with Simulator(SimConfig(faults=faults, throttle=ThrottleConfig(time_scale=SCALE))) as running:
        yield running


def _manager_for(i: int, existing: str) -> str:
    """Rows i % 5 == 1 report to a member three rows on (created later in plan order, never an invalid row);
    rows i % 5 == 3 to a user already in the target."""
    return f"mig{i + 3:04d}@{D}" if i % 5 == 1 else existing if i % 5 == 3 else ""


def _write_csv(path: Path, members: int, guests: int, existing_manager: str) -> tuple[list[str], list[str],
                                                                                      list[int]]:
    """Plain Graph headers; every 10th member has no password (generated), every 25th row is invalid; managers
    as ``_manager_for`` says."""
    rows, upns, addresses, invalid = [], [], [], []
    for i in range(members):
        upn = f"mig{i:04d}@{D}"
        pw = "" if i % 10 == 0 else f"Kx{i}!meadow-run"
        bad = i % 25 == 7
        rows.append([upn if not bad else f"mig {i:04d}@{D}", f"Migrated {i}", pw, "US", "Finance",
                     GROUP if i % 50 == 0 else "", "", _manager_for(i, existing_manager)])
        (invalid if bad else upns).append(len(rows) + 1 if bad else upn)   # type: ignore[arg-type]
    for i in range(guests):
        address = f"guest{i:03d}@partner.example"
        rows.append(["", f"Guest {i}", "", "", "", "", address, ""])
        addresses.append(address)
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["userPrincipalName", "displayName", "password", "usageLocation", "department", "groups",
                    "invitedUserEmailAddress", "manager"])
        w.writerows(rows)
    return upns, addresses, invalid   # type: ignore[return-value]


def _ccsync(sim: Simulator, tmp_path: Path, *args: str) -> subprocess.Popen:
    config = sim.write_profiles(tmp_path / "config.toml")
    prof = profile(sim, FABRIKAM)
    env = dict(os.environ, **{prof.secret_env: sim.secret_for(FABRIKAM)})
    cmd = [sys.executable, "-m", "toolkit.cli", *args, "--config", str(config), "--output", "json"]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _apply(sim: Simulator, tmp_path: Path, plan: Path) -> subprocess.Popen:
    return _ccsync(sim, tmp_path, "apply", str(plan), "--profile", profile(sim, FABRIKAM).name, "--resume",
                   "--quota-window-scale", str(SCALE), "--progress", "none")


def test_migration_killed_and_resumed_creates_exactly_one_user_per_valid_row(sim: Simulator,
                                                                             tmp_path: Path) -> None:
    source = tmp_path / "users.csv"
    boss = sorted(u["userPrincipalName"] for u in sim.tenant(FABRIKAM).users.values()
                  if u.get("creationType") is None)[0]
    upns, addresses, invalid = _write_csv(source, members=600, guests=60, existing_manager=boss)
    snapshot = tmp_path / "fabrikam"
    export_tenant(client(sim), groups=[GROUP], cloud="gcch", out_dir=snapshot)
    plan = tmp_path / "migration.json"
    proc = _ccsync(sim, tmp_path, "migrate", "plan", str(source), "--target", str(snapshot), "--out", str(plan),
                   "--skip-invalid")
    out, err = proc.communicate(timeout=120)
    doc = json.loads(out)
    assert proc.returncode == 1, err                       # invalid rows are reported even when skipped
    assert doc["invalid"] == len(invalid) and doc["counts"]["create"] == len(upns) + len(addresses)
    assert "meadow-run" not in plan.read_text(encoding="utf-8")

    rng = random.Random(12)
    killed = 0
    for _ in range(4):
        run = _apply(sim, tmp_path, plan)
        time.sleep(rng.uniform(1.2, 2.0))
        if run.poll() is None:
            run.send_signal(signal.SIGKILL)
            killed += 1
        run.communicate(timeout=60)
    assert killed >= 2                                      # the kills did land in the middle of the run
    run = _apply(sim, tmp_path, plan)
    out, err = run.communicate(timeout=300)
    assert run.returncode == 0, err
    # Passwords from the file reach Graph only: not the output, the journal or the results.
    written = [out, err]
    for p in tmp_path.glob("migration.json.*"):
        if p.suffix == ".xlsx":
            with zipfile.ZipFile(p) as book:
                written += [book.read(name).decode("utf-8", "replace") for name in book.namelist()]
        elif not p.name.endswith(".passwords.csv"):
            written.append(p.read_bytes().decode("latin-1"))
    assert len(written) >= 5 and not [w for w in written if "meadow-run" in w]
    summary = json.loads(out)["summary"]
    assert summary["states"] == {"done": len(upns) + len(addresses)}
    assert summary["created"] == {"members": len(upns), "invitations": len(addresses)}

    tenant = sim.tenant(FABRIKAM)
    users = list(tenant.users.values())
    by_upn: dict[str, int] = {}
    by_mail: dict[str, int] = {}
    for u in users:
        by_upn[str(u.get("userPrincipalName", "")).lower()] = by_upn.get(str(u.get("userPrincipalName", "")).lower(), 0) + 1
        if u.get("creationType") == "Invitation":
            by_mail[str(u.get("mail", "")).lower()] = by_mail.get(str(u.get("mail", "")).lower(), 0) + 1
    assert all(by_upn.get(u) == 1 for u in upns), [u for u in upns if by_upn.get(u) != 1][:5]
    assert all(by_mail.get(a) == 1 for a in addresses)
    assert not [u for u in users if str(u.get("userPrincipalName", "")).startswith("mig ")]
    assert sum(1 for u in users if str(u.get("userPrincipalName", "")).startswith("mig")) == len(upns)
    guest = next(u for u in users if str(u.get("mail", "")).lower() == addresses[0])
    assert guest["userType"] == "Guest"
    group = next(g for g in tenant.groups.values() if g["displayName"] == GROUP)
    first = next(u for u in users if u.get("userPrincipalName") == upns[0])
    assert group["members"].count(first["id"]) == 1
    # Exactly one manager per row that names one (the right one), none on any other user.
    tenant_ids = {u["id"]: u["userPrincipalName"] for u in users}
    managers = {u["userPrincipalName"]: tenant_ids.get(u.get(MANAGER_KEY)) for u in users if u.get(MANAGER_KEY)}
    expected = {f"mig{i:04d}@{D}": _manager_for(i, boss) for i in range(600)
                if f"mig{i:04d}@{D}" in upns and _manager_for(i, boss)}
    assert len(expected) == 240 and managers == expected
    handed = list(csv.DictReader((tmp_path / "migration.json.passwords.csv").read_text(encoding="utf-8-sig")
                                 .splitlines()))
    assert {r["userPrincipalName"] for r in handed} == {u for i, u in enumerate(upns) if u.endswith(
        tuple(f"mig{n:04d}@{D}" for n in range(0, 600, 10)))}
