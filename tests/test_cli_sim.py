"""``ccsync sim serve`` as a real process: endpoints, profiles, a 0600 secrets file, and a clean stop."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from toolkit.cli.main import cli
from toolkit.cli.sim import Milliseconds
from toolkit.simulator.launch import write_secrets_file
from toolkit.errors import InputError


def _start(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "toolkit.cli", "sim", "serve", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, env=env)


def _wait_for(path: Path, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"sim serve exited early: {proc.stderr.read()}")
        if time.monotonic() > deadline:
            raise AssertionError("sim serve did not write its files in time")
        time.sleep(0.1)


def test_sim_serve_then_login_from_another_process_then_ctrl_c(tmp_path):
    profiles = tmp_path / "sim" / "profiles.toml"
    env = {**os.environ}
    proc = _start(["--write-profiles", str(profiles), "--output", "json", "--latency", "5ms", "--faults", "seed=1"],
                  env)
    try:
        secrets = profiles.parent / "sim-secrets.env"
        _wait_for(secrets, proc)
        time.sleep(0.3)  # the JSON document follows the files
        assert stat.S_IMODE(secrets.stat().st_mode) == 0o600
        values = dict(line.split("=", 1) for line in secrets.read_text().splitlines() if not line.startswith("#"))
        cache_dir = values.pop("CCSYNC_CACHE_DIR")
        for name in ("CCSYNC_SIM_CONTROL_URL", "CCSYNC_SIM_CONTROL_TOKEN", "CCSYNC_SIM_CA_BUNDLE"):
            values.pop(name)   # the portal control channel (tests/test_cli_sim_portal.py)
        assert values and all(k.startswith("CCSYNC_") and k.endswith("_SECRET") for k in values)

        # The admin's next step, exactly as sim serve tells it: config + secrets from the env file, then login.
        login_env = {**os.environ, "CCSYNC_CONFIG": str(profiles), "CCSYNC_CACHE_DIR": cache_dir, **values}
        login = subprocess.run([sys.executable, "-m", "toolkit.cli", "login", "-p", "fabrikamfederal", "-o", "json"],
                               capture_output=True, text=True, env=login_env, timeout=60, stdin=subprocess.DEVNULL)
        assert login.returncode == 0, login.stderr
        assert json.loads(login.stdout)["cloud"] == "gcch"
        assert list(Path(cache_dir).glob("*.bin"))
    finally:
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, stderr
    doc = json.loads(stdout)
    assert set(doc["endpoints"]) == {"commercial", "gcc", "gcch", "dod", "china"}
    assert doc["endpoints"]["gcch"]["loginUrl"].startswith("https://127.0.0.1:")
    assert doc["profilesFile"] == str(profiles.resolve()) and doc["secretsFile"] == str(secrets.resolve())
    assert "fabrikamfederal" in {p["name"] for p in doc["profiles"]}
    assert "Press Ctrl-C" in stderr and "Simulator stopped." in stderr
    for secret in values.values():
        assert secret not in stdout and secret not in stderr
    assert not list(Path(cache_dir).glob("*.bin"))  # tokens of a stopped simulator are useless: removed


def test_sim_serve_without_write_profiles_uses_a_temporary_folder(tmp_path):
    proc = _start(["--output", "json"], {**os.environ})
    try:
        deadline = time.monotonic() + 60
        line = ""
        while "Press Ctrl-C" not in line:
            line = proc.stderr.readline()
            assert line or proc.poll() is None, "sim serve exited early"
            assert time.monotonic() < deadline
    finally:
        proc.send_signal(signal.SIGTERM)
        stdout, _ = proc.communicate(timeout=30)
    doc = json.loads(stdout)
    assert proc.returncode == 0
    assert "ccsync-sim-" in doc["profilesFile"] and not Path(doc["profilesFile"]).exists()


def test_bad_fault_spec_is_an_input_error_naming_the_key():
    result = CliRunner().invoke(cli, ["sim", "serve", "--faults", "429=2"])
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: file fault spec, field '429'")


def test_bad_latency_is_a_usage_error():
    result = CliRunner().invoke(cli, ["sim", "serve", "--latency", "soon"])
    assert result.exit_code == 2 and "'soon' is not a duration" in result.stderr


@pytest.mark.parametrize("text, ms", [("100ms", 100.0), ("0.5s", 500.0), ("250", 250.0), (" 2 S ", 2000.0)])
def test_latency_durations(text, ms):
    assert Milliseconds().convert(text, None, None) == ms


class _P:
    def __init__(self, name, tenant, env):
        self.name, self.tenant, self.client_id, self.secret_env, self.auth = name, tenant, "app", env, "secret"


def test_secrets_file_is_recreated_private_and_refuses_shared_variables(tmp_path):
    path = tmp_path / "sim-secrets.env"
    path.write_text("old")
    os.chmod(path, 0o644)
    names = write_secrets_file(path, [_P("a", "t1", "CCSYNC_A_SECRET")], lambda t, a: f"s-{t}", {"X": "1"})
    assert names == {"a": "CCSYNC_A_SECRET"}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "CCSYNC_A_SECRET=s-t1\nX=1\n" in path.read_text()
    with pytest.raises(InputError, match="both read their secret from CCSYNC_SHARED"):
        write_secrets_file(path, [_P("a", "t1", "CCSYNC_SHARED"), _P("b", "t2", "CCSYNC_SHARED")],
                           lambda t, a: f"s-{t}")


def test_serve_session_writes_private_files_and_removes_its_temporary_folder(capsys):
    # The library under 'ccsync sim serve': files for other processes, a document without secrets, no printing.
    from toolkit.simulator.launch import build_config, serve_session

    with serve_session(build_config(None), None) as session:
        folder = session.profiles_path.parent
        assert session.profiles_path.is_file() and "ccsync-sim-" in str(folder)
        assert stat.S_IMODE(session.secrets_path.stat().st_mode) == 0o600
        assert stat.S_IMODE(session.token_cache.stat().st_mode) == 0o700
        lines = [line.split("=", 1) for line in session.secrets_path.read_text().splitlines()
                 if not line.startswith("#")]
        secrets = [value for name, value in lines if name.endswith("_SECRET")]
        assert secrets and not any(s in json.dumps(session.document) for s in secrets)
        assert session.document["secretsFile"] == str(session.secrets_path)
        assert {p["name"] for p in session.document["profiles"]} == {p.name for p in session.profiles}
    assert not folder.exists()
    assert capsys.readouterr().out == ""
