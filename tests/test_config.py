"""Profiles in TOML: what an admin writes, what ccsync understands, and what it says when something is wrong."""

from __future__ import annotations

import os
import stat
import textwrap
from pathlib import Path

import pytest

from toolkit.config import DEFAULT_SECRET_ENV, Profile, config_path, get_profile, load_config, save_profiles
from toolkit.errors import ConfigError

GUID = "0a1b2c3d-0000-4000-8000-00000000abcd"
TENANT_GUID = "9f8e7d6c-1111-4222-8333-444455556666"


def write(tmp_path: Path, body: str, name: str = "config.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def error_for(tmp_path: Path, body: str) -> ConfigError:
    path = write(tmp_path, body)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(path) in str(caught.value)
    return caught.value


def test_documented_example_loads_with_its_derived_endpoints(tmp_path):
    path = write(tmp_path, f"""
        [profiles.contoso]
        cloud = "commercial"                 # commercial | gcc | gcch | dod | china
        tenant = "contoso.onmicrosoft.com"   # tenant ID or verified domain
        client_id = "{GUID}"
        auth = "secret"
        secret_env = "CCSYNC_CONTOSO_SECRET"

        [profiles.fabrikam-gov]
        cloud = "GCCHigh"
        tenant = "{TENANT_GUID.upper()}"
        client_id = "{{{GUID}}}"
        auth = "certificate"
        certificate = "certs/ccsync.pem"
        certificate_password_env = "CCSYNC_CERT_PASSWORD"
    """)
    profiles = load_config(path)
    assert list(profiles) == ["contoso", "fabrikam-gov"]
    contoso = profiles["contoso"]
    assert contoso == Profile("contoso", "commercial", "contoso.onmicrosoft.com", GUID, "secret",
                              "CCSYNC_CONTOSO_SECRET")
    assert contoso.authority == "https://login.microsoftonline.com/contoso.onmicrosoft.com"
    assert contoso.graph_base == "https://graph.microsoft.com"
    assert contoso.scope == "https://graph.microsoft.com/.default"
    gov = profiles["fabrikam-gov"]
    assert gov.cloud == "gcch" and gov.cloud_obj.graph_host == "graph.microsoft.us"
    assert gov.tenant == TENANT_GUID and gov.client_id == GUID  # normalised GUIDs
    assert gov.authority == f"https://login.microsoftonline.us/{TENANT_GUID}"
    assert gov.scope == "https://graph.microsoft.us/.default"
    assert gov.secret_env == DEFAULT_SECRET_ENV == "CCSYNC_CLIENT_SECRET"
    # relative paths are relative to the config file's folder, so copied samples work anywhere
    assert gov.certificate == str(tmp_path / "certs" / "ccsync.pem")


def test_overrides_move_endpoints_but_never_the_scope(tmp_path):
    path = write(tmp_path, f"""
        [profiles.sim]
        cloud = "dod"
        tenant = "{TENANT_GUID}"
        client_id = "{GUID}"
        login_url = "https://127.0.0.1:8443/"
        graph_url = "https://127.0.0.1:8444"
        ca_bundle = "~/sim/ca.pem"
    """)
    profile = get_profile("sim", path)
    assert profile.authority == f"https://127.0.0.1:8443/{TENANT_GUID}"
    assert profile.graph_base == "https://127.0.0.1:8444"
    assert profile.scope == "https://dod-graph.microsoft.us/.default"
    assert profile.ca_bundle == str(Path.home() / "sim" / "ca.pem")
    assert profile.auth == "secret"
    assert profile.to_dict()["loginUrl"] == "https://127.0.0.1:8443"


def test_syntax_error_names_file_line_and_column(tmp_path):
    err = error_for(tmp_path, """
        [profiles.contoso]
        cloud = commercial
    """)
    assert "TOML syntax error" in err.message and "line 3" in err.message and "column" in err.message


def test_unknown_profile_lists_the_known_ones(tmp_path):
    path = write(tmp_path, f"""
        [profiles.alpha]
        cloud = "gcc"
        tenant = "alpha.onmicrosoft.com"
        client_id = "{GUID}"
        [profiles.beta]
        cloud = "china"
        tenant = "beta.partner.onmschina.cn"
        client_id = "{GUID}"
    """)
    with pytest.raises(ConfigError, match=r"unknown profile 'gamma' \(known profiles: alpha, beta\)"):
        get_profile("gamma", path)
    with pytest.raises(ConfigError, match="2 profiles"):
        get_profile(None, path)


def test_single_profile_is_the_default(tmp_path):
    path = write(tmp_path, f"""
        [profiles.only]
        cloud = "commercial"
        tenant = "only.onmicrosoft.com"
        client_id = "{GUID}"
    """)
    assert get_profile(None, path).name == "only"


@pytest.mark.parametrize("field, value, expected", [
    ("cloud", "azure-germany", "Unknown cloud 'azure-germany'"),
    ("tenant", "9f8e7d6c-1111-4222-8333-44445555666", "not a valid tenant ID"),
    ("tenant", "contoso", "neither a tenant ID"),
    ("client_id", "my-app", "not an application (client) ID"),
    ("auth", "password", "unknown auth method 'password'"),
    ("secret_env", "my secret!", "not an environment variable name"),
    ("login_url", "http://127.0.0.1:8443", "not an https:// URL"),
])
def test_bad_values_name_profile_and_field(tmp_path, field, value, expected):
    values = {"cloud": "commercial", "tenant": "contoso.com", "client_id": GUID, field: value}
    body = "[profiles.contoso]\n" + "".join(f'{k} = "{v}"\n' for k, v in values.items())
    err = error_for(tmp_path, body)
    assert "profile 'contoso'" in err.message and f"field '{field}'" in err.message
    assert expected in err.message
    assert err.hint


def test_unknown_cloud_hint_lists_the_clouds(tmp_path):
    err = error_for(tmp_path, f"""
        [profiles.x]
        cloud = "mars"
        tenant = "x.onmicrosoft.com"
        client_id = "{GUID}"
    """)
    assert "commercial, gcc, gcch, dod, china" in err.hint


def test_certificate_auth_needs_a_certificate(tmp_path):
    err = error_for(tmp_path, f"""
        [profiles.x]
        cloud = "gcch"
        tenant = "x.onmicrosoft.us"
        client_id = "{GUID}"
        auth = "certificate"
    """)
    assert "field 'certificate'" in err.message and "auth = \"certificate\"" in err.message


def test_unknown_keys_say_which_are_allowed(tmp_path):
    err = error_for(tmp_path, f"""
        [profiles.x]
        cloud = "gcc"
        tenant = "x.onmicrosoft.com"
        client_id = "{GUID}"
        client_secret = "do-not-put-secrets-here"
    """)
    assert "'client_secret'" in err.message
    assert "secret_env" in err.hint and "certificate_password_env" in err.hint
    # the value of the unknown key is not repeated back
    assert "do-not-put-secrets-here" not in str(err)


def test_missing_required_field_and_wrong_types(tmp_path):
    err = error_for(tmp_path, """
        [profiles.x]
        cloud = "gcc"
        tenant = "x.onmicrosoft.com"
    """)
    assert "field 'client_id' is missing" in err.message
    err = error_for(tmp_path, f"""
        [profiles.x]
        cloud = "gcc"
        tenant = "x.onmicrosoft.com"
        client_id = "{GUID}"
        login_url = 8443
    """)
    assert "field 'login_url' must be a string" in err.message
    err = error_for(tmp_path, """
        profile = "x"
    """)
    assert "unknown top-level key" in err.message


def test_missing_file_says_where_it_looked(tmp_path, monkeypatch):
    missing = tmp_path / "nope.toml"
    monkeypatch.setenv("CCSYNC_CONFIG", str(missing))
    with pytest.raises(ConfigError, match="does not exist") as caught:
        load_config()
    assert str(missing) in str(caught.value) and "CCSYNC_CONFIG" in caught.value.hint


def test_config_path_defaults(monkeypatch, tmp_path):
    monkeypatch.setenv("CCSYNC_CONFIG", str(tmp_path / "a.toml"))
    assert config_path() == tmp_path / "a.toml"
    monkeypatch.delenv("CCSYNC_CONFIG")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert config_path() == tmp_path / ".config" / "ccsync" / "config.toml"


def test_save_profiles_round_trips_privately_without_secrets(tmp_path, monkeypatch):
    monkeypatch.setenv("CCSYNC_SIM_SECRET", "the-actual-secret-value")
    odd_path = str(tmp_path / 'dir with "quotes" and \\ backslash' / "ca.pem")
    profiles = [
        Profile("sim-commercial", "commercial", TENANT_GUID, GUID, "secret", "CCSYNC_SIM_SECRET",
                login_url="https://127.0.0.1:8443", graph_url="https://127.0.0.1:8443", ca_bundle=odd_path),
        Profile("sim-gcch", "gcch", "fabrikam.onmicrosoft.us", GUID, "certificate",
                certificate=str(tmp_path / "c.pem"), certificate_password_env="PFX_PW"),
        Profile("sim-dod", "dod", "t.onmicrosoft.us", GUID, "device_code"),
    ]
    target = tmp_path / "out" / "config.toml"
    save_profiles(profiles, target)
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    text = target.read_text()
    assert "the-actual-secret-value" not in text and "CCSYNC_SIM_SECRET" in text
    assert load_config(target) == {p.name: p for p in profiles}
    # writing again replaces the file and keeps it private
    target.chmod(0o644)
    save_profiles({p.name: p for p in profiles[:1]}, target)
    assert list(load_config(target)) == ["sim-commercial"]
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600


def test_profile_names_must_be_safe_file_names(tmp_path):
    err = error_for(tmp_path, f"""
        [profiles."../evil"]
        cloud = "gcc"
        tenant = "x.onmicrosoft.com"
        client_id = "{GUID}"
    """)
    assert "profile name '../evil'" in err.message
    with pytest.raises(ConfigError):
        save_profiles([Profile("a/b", "gcc", "x.com", GUID)], tmp_path / "c.toml")
