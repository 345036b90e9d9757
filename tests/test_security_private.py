"""Issue 15, classes 6 and 7: an explicit login proves the credentials; private folders stay private under any
umask, and a token folder others can write to is refused."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from toolkit.auth import TokenProvider
from toolkit.cli.main import cli
from toolkit.errors import ConfigError
from toolkit.private import make_private_dir
from toolkit.simulator import SimConfig, Simulator


@pytest.fixture(scope="module")
def sim():
    with Simulator(SimConfig()) as running:
        yield running


@pytest.fixture()
def umask_000():
    old = os.umask(0o000)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def _profile(sim, cloud):
    return next(p for p in sim.profiles() if p.cloud == cloud)


# --- class 6: login proves the credentials ------------------------------------------------------------------

@pytest.mark.parametrize("wrong", ["not-the-secret", "", "x" * 200])
def test_login_with_a_wrong_secret_fails_even_with_a_cached_token(sim, tmp_path, monkeypatch, wrong):
    monkeypatch.setenv("CCSYNC_CACHE_DIR", str(tmp_path / "tokens"))
    config = str(sim.write_profiles(tmp_path / "profiles.toml"))
    profile = _profile(sim, "gcch")
    monkeypatch.setenv(profile.secret_env, sim.secret_for(profile.tenant, profile.client_id))
    first = CliRunner().invoke(cli, ["login", "-p", profile.name, "--config", config, "-o", "json"])
    assert first.exit_code == 0, first.stderr
    assert json.loads(first.stdout)["tokenSource"] == "identity platform"
    assert list((tmp_path / "tokens").iterdir())            # a token is cached now
    if wrong:
        monkeypatch.setenv(profile.secret_env, wrong)
    else:
        monkeypatch.delenv(profile.secret_env)
    again = CliRunner().invoke(cli, ["login", "-p", profile.name, "--config", config, "-o", "json"])
    assert again.exit_code in (1, 2), again.output
    assert json.loads(again.stdout)["error"] in ("AuthError", "CredentialError")
    if wrong:
        assert "AADSTS7000215" in again.stdout and wrong not in again.stdout + again.stderr


def test_login_use_cache_says_the_token_is_cached_and_how_old(sim, tmp_path, monkeypatch):
    monkeypatch.setenv("CCSYNC_CACHE_DIR", str(tmp_path / "tokens"))
    config = str(sim.write_profiles(tmp_path / "profiles.toml"))
    profile = _profile(sim, "dod")
    monkeypatch.setenv(profile.secret_env, sim.secret_for(profile.tenant, profile.client_id))
    assert CliRunner().invoke(cli, ["login", "-p", profile.name, "--config", config]).exit_code == 0
    cached = CliRunner().invoke(cli, ["login", "-p", profile.name, "--config", config, "--use-cache", "-o", "json"])
    assert cached.exit_code == 0, cached.stderr
    doc = json.loads(cached.stdout)
    assert doc["tokenSource"] == "cache" and doc["tokenAgeSeconds"] >= 0 and "issuedAt" in doc
    assert "cached token issued" in cached.stderr
    table = CliRunner().invoke(cli, ["login", "-p", profile.name, "--config", config])
    assert "new token" in table.stderr and "new" in table.stdout


# --- class 7: private folders ----------------------------------------------------------------------------------

def test_token_cache_folders_are_0700_and_files_0600_under_umask_000(sim, tmp_path, monkeypatch, umask_000):
    cache = tmp_path / "a" / "b" / "tokens"                  # three missing levels
    monkeypatch.setenv("CCSYNC_CACHE_DIR", str(cache))
    profile = _profile(sim, "commercial")
    provider = TokenProvider(profile, session=None, secret=sim.secret_for(profile.tenant, profile.client_id),
                             prompt=False)
    from toolkit.transport import make_session
    provider._session = make_session(sim.ca_bundle)
    provider.token()
    for folder in (tmp_path / "a", tmp_path / "a" / "b", cache):
        assert _mode(folder) == 0o700, folder
    files = list(cache.iterdir())
    assert files and all(_mode(f) == 0o600 for f in files)


@pytest.mark.parametrize("mode", [0o777, 0o770, 0o722, 0o702])
def test_a_token_folder_others_can_write_to_is_refused(sim, tmp_path, monkeypatch, mode):
    cache = tmp_path / "shared"
    cache.mkdir()
    os.chmod(cache, mode)
    monkeypatch.setenv("CCSYNC_CACHE_DIR", str(cache))
    config = str(sim.write_profiles(tmp_path / "profiles.toml"))
    profile = _profile(sim, "gcch")
    monkeypatch.setenv(profile.secret_env, sim.secret_for(profile.tenant, profile.client_id))
    result = CliRunner().invoke(cli, ["login", "-p", profile.name, "--config", config])
    assert result.exit_code == 2, result.output
    assert "can be written by other users" in result.stderr and str(cache) in result.stderr
    assert "chmod 700" in result.stderr
    assert list(cache.iterdir()) == []                     # nothing was written there


def test_make_private_dir_refuses_a_file_and_accepts_its_own_0700_folder(tmp_path, umask_000):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="not a folder"):
        make_private_dir(tmp_path / "file")
    made = make_private_dir(tmp_path / "new" / "deeper")
    assert _mode(made) == 0o700 and _mode(tmp_path / "new") == 0o700
    assert make_private_dir(made) == made                  # idempotent
