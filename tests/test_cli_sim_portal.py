"""`ccsync sim portal ...` and `ccsync sim run-cycle`: portal-only admin steps and immediate cycles on a running
simulator, through its control channel (never through Graph)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from click.testing import CliRunner

from toolkit.cli.main import cli
from toolkit.simulator.portal import control_environment
from xts_sim import SOURCE, TARGET, callers, configure_source, configure_target, new_job, pair_sim, target_user_for


def _run(env, *args):
    return CliRunner().invoke(cli, list(args), env=env)


def test_portal_steps_and_run_cycle_reach_the_running_simulator():
    sim = pair_sim()
    try:
        env = control_environment(sim)
        src, tgt, _ = callers(sim)
        result = _run(env, "sim", "portal", "tick-cross-cloud-sync", "--tenant", TARGET, "--source-cloud",
                      "commercial", "--output", "json")
        assert result.exit_code == 0, result.output
        principal = json.loads(result.stdout)["servicePrincipal"]
        assert principal["id"] in [s["id"] for s in tgt.get("servicePrincipals").json()["value"]]
        result = _run(env, "sim", "portal", "create-configuration", "--tenant", SOURCE, "--name", "Northwind Gov",
                      "-o", "json")
        assert result.exit_code == 0, result.output
        sp = json.loads(result.stdout)["servicePrincipal"]
        assert src.patch("policies/crossTenantAccessPolicy",
                         {"allowedCloudEndpoints": ["microsoftonline.us"]}).status_code == 204
        configure_target(tgt)
        configure_source(src)
        new_job(src, sp)
        result = _run(env, "sim", "run-cycle", "--tenant", SOURCE, "-o", "json")
        assert result.exit_code == 0, result.output
        (job,) = json.loads(result.stdout)["jobs"]
        assert job["status"]["code"] == "Active" and job["status"]["lastExecution"]["countExported"] == 3
        assert target_user_for(sim, "user2@fourthcoffee.com") is not None
        # refusals: the tenant's own cloud, a wrong token, no simulator in this shell
        result = _run(env, "sim", "portal", "tick-cross-cloud-sync", "--tenant", TARGET, "--source-cloud", "gcch")
        assert result.exit_code == 2 and "own cloud" in result.output
        result = _run({**env, "CCSYNC_SIM_CONTROL_TOKEN": "wrong"}, "sim", "run-cycle")
        assert result.exit_code == 2 and "control token" in result.output
        result = _run({k: "" for k in env}, "sim", "run-cycle")
        assert result.exit_code == 2 and "ccsync sim serve" in result.output
    finally:
        sim.stop()


def test_serve_with_sync_interval_writes_the_control_environment(tmp_path):
    profiles = tmp_path / "sim" / "profiles.toml"
    proc = subprocess.Popen([sys.executable, "-m", "toolkit.cli", "sim", "serve", "--write-profiles", str(profiles),
                             "--sync-interval", "1s", "-o", "json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, text=True, env={**os.environ})
    try:
        secrets = profiles.parent / "sim-secrets.env"
        deadline = time.monotonic() + 60
        while not secrets.exists():
            assert proc.poll() is None, proc.stderr.read()
            assert time.monotonic() < deadline, "sim serve did not start"
            time.sleep(0.1)
        time.sleep(0.3)
        values = dict(line.split("=", 1) for line in secrets.read_text().splitlines() if not line.startswith("#"))
        env = {k: values[k] for k in ("CCSYNC_SIM_CONTROL_URL", "CCSYNC_SIM_CONTROL_TOKEN", "CCSYNC_SIM_CA_BUNDLE")}
        cmd = [sys.executable, "-m", "toolkit.cli", "sim", "portal", "tick-cross-cloud-sync", "--tenant",
               "litwareinc.com", "--source-cloud", "gcch", "-o", "json"]
        done = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **env}, timeout=60,
                              stdin=subprocess.DEVNULL)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["servicePrincipal"]["displayName"] == \
            "Cross-cloud synchronization (Microsoft Azure Government)"
        assert values["CCSYNC_SIM_CONTROL_TOKEN"] not in done.stdout + done.stderr
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
    assert proc.returncode == 0


def test_sync_interval_must_be_positive():
    result = CliRunner().invoke(cli, ["sim", "serve", "--sync-interval", "0s"])
    assert result.exit_code == 2
