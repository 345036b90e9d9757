"""``ccsync login`` against the simulated clouds: what an admin sees for success and for each kind of failure."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from toolkit.cli.main import cli
from toolkit.simulator import SimConfig, Simulator


@pytest.fixture(scope="module")
def sim():
    with Simulator(SimConfig()) as running:
        yield running


@pytest.fixture()
def config(sim, tmp_path, monkeypatch):
    monkeypatch.setenv("CCSYNC_CACHE_DIR", str(tmp_path / "tokens"))
    monkeypatch.delenv("CCSYNC_CONFIG", raising=False)
    return str(sim.write_profiles(tmp_path / "profiles.toml"))


def _profile(sim, cloud):
    return next(p for p in sim.profiles() if p.cloud == cloud)


def test_login_shows_cloud_tenant_app_and_roles(sim, config, monkeypatch):
    profile = _profile(sim, "gcch")
    secret = sim.secret_for(profile.tenant, profile.client_id)
    monkeypatch.setenv(profile.secret_env, secret)
    result = CliRunner().invoke(cli, ["login", "--profile", profile.name, "--config", config, "--output", "json"])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["profile"] == profile.name and doc["cloud"] == "gcch"
    assert doc["tenantId"] == profile.tenant and doc["appId"] == profile.client_id
    assert "User.ReadWrite.All" in doc["roles"]
    assert secret not in result.stdout + result.stderr


def test_login_table_lists_roles(sim, config, monkeypatch):
    profile = _profile(sim, "dod")
    monkeypatch.setenv(profile.secret_env, sim.secret_for(profile.tenant, profile.client_id))
    result = CliRunner().invoke(cli, ["--config", config, "login", "-p", profile.name])
    assert result.exit_code == 0, result.stderr
    assert "dod" in result.stdout and profile.tenant in result.stdout and "LicenseAssignment.ReadWrite.All" in result.stdout


def test_login_with_a_wrong_secret_exits_1_with_entra_error(sim, config, monkeypatch):
    profile = _profile(sim, "commercial")
    monkeypatch.setenv(profile.secret_env, "not-the-secret")
    result = CliRunner().invoke(cli, ["login", "--profile", profile.name, "--config", config, "-o", "json"])
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["error"] == "AuthError" and "AADSTS7000215" in doc["message"]
    assert "not-the-secret" not in result.stdout + result.stderr


def test_login_without_a_secret_names_the_variable_and_exits_2(sim, config, monkeypatch):
    profile = _profile(sim, "china")
    monkeypatch.delenv(profile.secret_env, raising=False)
    result = CliRunner().invoke(cli, ["login", "--profile", profile.name, "--config", config], input="")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error:") and profile.secret_env in result.stderr


def test_login_unknown_profile_lists_known_ones(sim, config):
    result = CliRunner().invoke(cli, ["login", "--profile", "nobody", "--config", config])
    assert result.exit_code == 2
    assert "unknown profile 'nobody'" in result.stderr and _profile(sim, "gcc").name in result.stderr


def test_login_requires_a_profile():
    result = CliRunner().invoke(cli, ["login"])
    assert result.exit_code == 2 and "Missing option '--profile'" in result.stderr
