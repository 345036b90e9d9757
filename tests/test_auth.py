"""Signing in through msal against the simulated identity platform over real HTTPS."""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import os
import stat
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest

import toolkit.auth as auth
from toolkit.auth import LoginResult, TokenProvider, decode_claims, load_certificate, login, token_cache_path
from toolkit.config import Profile
from toolkit.errors import AuthError, ConfigError, CredentialError, TransportError
from toolkit.transport import CcsSession

from sim_login_support import (
    APP_ID, COMMERCIAL_TID, GCCH_TID, GOV_APP_ID, GOV_SECRET, ROLES, SECRET, make_cert, start_login_sim,
    stop_login_sim,
)


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    # device_interval=0: msal polls again at once, so the device-code test takes no wall-clock seconds.
    sim = start_login_sim(tmp_path_factory.mktemp("auth-sim"), device_interval=0)
    yield sim
    stop_login_sim(sim)


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CCSYNC_CACHE_DIR", str(tmp_path / "tokens"))
    monkeypatch.delenv("CCSYNC_CLIENT_SECRET", raising=False)
    return tmp_path / "tokens"


def profile_for(sim, name="contoso", *, cloud="commercial", server=None, tenant="contoso.onmicrosoft.com",
                client_id=APP_ID, **extra) -> Profile:
    base = sim.base(server or cloud)
    return Profile(name, cloud, tenant, client_id, login_url=base, graph_url=base, ca_bundle=sim.ca_path, **extra)


def provider(sim, profile, **kwargs) -> TokenProvider:
    kwargs.setdefault("prompt", False)
    return TokenProvider(profile, **kwargs)


# --- client secret --------------------------------------------------------------------------------------

def test_login_with_secret_reports_tenant_app_roles_and_expiry(sim):
    before = datetime.now(timezone.utc)
    result = login(profile_for(sim), secret=SECRET, prompt=False)
    assert isinstance(result, LoginResult)
    assert (result.profile, result.cloud, result.tenant_id, result.app_id, result.auth) == \
        ("contoso", "commercial", COMMERCIAL_TID, APP_ID, "secret")
    assert result.roles == sorted(ROLES) and result.scopes == [] and result.user is None
    assert before + timedelta(minutes=55) < result.expires_on < before + timedelta(minutes=61)
    out = json.loads(json.dumps(result.to_dict()))
    assert out["tenantId"] == COMMERCIAL_TID and out["expiresOn"].endswith("Z")


def test_secret_comes_from_the_profiles_env_var(sim, monkeypatch):
    monkeypatch.setenv("CCSYNC_CONTOSO_SECRET", SECRET)
    tokens = provider(sim, profile_for(sim, secret_env="CCSYNC_CONTOSO_SECRET"))
    claims = tokens.claims()
    assert claims["aud"] == "https://graph.microsoft.com" and claims["appid"] == APP_ID
    assert claims["tid"] == COMMERCIAL_TID and sorted(claims["roles"]) == sorted(ROLES)


def test_gcch_profile_gets_a_government_graph_token(sim):
    profile = profile_for(sim, "fabrikam", cloud="gcch", tenant="fabrikamgov.onmicrosoft.us", client_id=GOV_APP_ID)
    result = login(profile, secret=GOV_SECRET, prompt=False)
    assert result.tenant_id == GCCH_TID and result.roles == ["User.Read.All"]
    assert TokenProvider(profile, secret=GOV_SECRET).claims()["aud"] == "https://graph.microsoft.us"


def test_wrong_secret_is_auth_error_7000215_without_the_secret(sim):
    wrong = "wrong-secret-value-123456"
    tokens = provider(sim, profile_for(sim, secret_env="CCSYNC_CONTOSO_SECRET"), secret=wrong)
    with pytest.raises(AuthError) as caught:
        tokens.token()
    err = caught.value
    assert err.error_code == "AADSTS7000215" and err.exit_code == 1
    assert err.message.startswith("Sign-in for profile 'contoso' (commercial, tenant contoso.onmicrosoft.com")
    assert "AADSTS7000215: Invalid client secret provided" in err.message
    assert "Trace ID" not in str(err) and "Timestamp" not in str(err)  # first line only
    assert "CCSYNC_CONTOSO_SECRET" in err.hint and err.correlation_id
    for text in (str(err), repr(err), json.dumps(err.to_dict()), repr(tokens)):
        assert wrong not in text and SECRET not in text


def test_missing_secret_names_the_env_var(sim, monkeypatch):
    monkeypatch.delenv("CCSYNC_CONTOSO_SECRET", raising=False)
    profile = profile_for(sim, secret_env="CCSYNC_CONTOSO_SECRET")
    with pytest.raises(CredentialError, match="CCSYNC_CONTOSO_SECRET is not set") as caught:
        provider(sim, profile).token()
    assert "CCSYNC_CONTOSO_SECRET" in caught.value.hint
    # prompt=True does not prompt when stdin is not a terminal (a scheduled job must fail, not hang)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    with pytest.raises(CredentialError, match="CCSYNC_CONTOSO_SECRET"):
        TokenProvider(profile, prompt=True).token()


def test_secret_is_prompted_hidden_on_a_terminal(sim, monkeypatch):
    asked = []

    class Tty(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr(sys, "stdin", Tty(""))
    monkeypatch.setattr(auth.getpass, "getpass", lambda prompt: asked.append(prompt) or SECRET)
    assert TokenProvider(profile_for(sim), prompt=True).claims()["appid"] == APP_ID
    assert len(asked) == 1 and "contoso" in asked[0] and SECRET not in asked[0]


# --- certificates ---------------------------------------------------------------------------------------

def test_certificate_pem_signs_in(sim, tmp_path):
    pem = sim.cert.write_pem(tmp_path / "ccsync.pem")
    result = login(profile_for(sim, auth="certificate", certificate=str(pem)), prompt=False)
    assert result.auth == "certificate" and result.roles == sorted(ROLES)


def test_pfx_with_password_from_env_signs_in(sim, tmp_path, monkeypatch):
    pfx = sim.cert.write_pfx(tmp_path / "ccsync.pfx", "pfx-pass-word")
    monkeypatch.setenv("CCSYNC_CERT_PASSWORD", "pfx-pass-word")
    profile = profile_for(sim, auth="certificate", certificate=str(pfx),
                          certificate_password_env="CCSYNC_CERT_PASSWORD")
    assert login(profile, prompt=False).tenant_id == COMMERCIAL_TID


def test_pfx_with_wrong_or_missing_password_is_credential_error(sim, tmp_path, monkeypatch):
    pfx = sim.cert.write_pfx(tmp_path / "ccsync.pfx", "pfx-pass-word")
    profile = profile_for(sim, auth="certificate", certificate=str(pfx),
                          certificate_password_env="CCSYNC_CERT_PASSWORD")
    monkeypatch.setenv("CCSYNC_CERT_PASSWORD", "not-it")
    with pytest.raises(CredentialError) as caught:
        provider(sim, profile).token()
    assert str(pfx) in caught.value.message and "wrong password" in caught.value.message
    assert "CCSYNC_CERT_PASSWORD" in caught.value.hint and "not-it" not in str(caught.value)
    monkeypatch.delenv("CCSYNC_CERT_PASSWORD")
    with pytest.raises(CredentialError, match="is not set now"):
        provider(sim, profile).token()


def test_unregistered_certificate_is_auth_error_with_its_thumbprint(sim, tmp_path):
    pem = sim.stranger.write_pem(tmp_path / "stranger.pem")
    with pytest.raises(AuthError) as caught:
        provider(sim, profile_for(sim, auth="certificate", certificate=str(pem))).token()
    assert caught.value.error_code == "AADSTS700027"
    assert sim.stranger.thumbprint in caught.value.hint
    assert "PRIVATE KEY" not in str(caught.value)


def test_expired_certificate_fails_before_any_request(sim, tmp_path):
    pem = sim.expired.write_pem(tmp_path / "old.pem")
    before = sim.total_requests()
    with pytest.raises(CredentialError, match="expired on") as caught:
        provider(sim, profile_for(sim, auth="certificate", certificate=str(pem))).token()
    assert str(pem) in caught.value.message and "upload" in caught.value.hint
    assert sim.total_requests() == before


def test_certificate_file_problems_name_the_file(tmp_path):
    with pytest.raises(CredentialError, match="Cannot read the certificate file .*missing.pem"):
        load_certificate(tmp_path / "missing.pem")
    pair = make_cert()
    only_cert = tmp_path / "cert-only.pem"
    only_cert.write_bytes(pair.cert_pem)
    with pytest.raises(CredentialError, match="contains no private key") as caught:
        load_certificate(only_cert)
    assert "cat " in caught.value.hint
    mismatched = tmp_path / "mismatch.pem"
    mismatched.write_bytes(pair.key_pem + make_cert().cert_pem)
    with pytest.raises(CredentialError, match="does not belong"):
        load_certificate(mismatched)
    future = make_cert(start_days_ago=-3)
    with pytest.raises(CredentialError, match="not valid before"):
        load_certificate(future.write_pem(tmp_path / "future.pem"))
    info = load_certificate(pair.write_pem(tmp_path / "ok.pem"))
    assert info.thumbprint == pair.thumbprint and "PRIVATE" not in repr(info)


# --- device code ----------------------------------------------------------------------------------------

def test_device_code_flow_completes_and_is_cached(sim):
    messages = []
    profile = profile_for(sim, "admin-dc", auth="device_code")
    result = login(profile, prompt=False, device_code_callback=messages.append)
    assert len(messages) == 1 and "https://microsoft.com/devicelogin" in messages[0]
    assert result.user == "admin@contoso.com" and result.auth == "device_code"
    assert set(result.scopes) == set(ROLES) and result.roles == []
    # A new process (new provider) uses the cached token: no second device code.
    again = TokenProvider(profile, prompt=False, device_code_callback=messages.append)
    assert again.claims()["upn"] == "admin@contoso.com" and len(messages) == 1


def test_device_code_without_cache_or_interaction_is_credential_error(sim):
    with pytest.raises(CredentialError, match="device code"):
        TokenProvider(profile_for(sim, "dc-batch", auth="device_code"), prompt=False).token()


def test_default_device_code_callback_writes_to_stderr(sim, capsys):
    TokenProvider(profile_for(sim, "dc-stderr", auth="device_code"), prompt=True).token()
    captured = capsys.readouterr()
    assert "enter the code" in captured.err and captured.out == ""


# --- token cache ----------------------------------------------------------------------------------------

def test_token_cache_is_private_and_serves_the_next_process(sim, private_cache):
    server = sim.servers["commercial"]
    before = server.count("/oauth2/v2.0/token")
    first = provider(sim, profile_for(sim, "cached"), secret=SECRET)
    token = first.token()
    assert first.token() == token
    assert server.count("/oauth2/v2.0/token") == before + 1

    prof = profile_for(sim, "cached")
    path = token_cache_path("cached", prof.authority, prof.client_id)
    assert path.parent == private_cache and path.name.startswith("cached-") and path == first.cache_path
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(private_cache).st_mode) == 0o700
    assert SECRET not in path.read_text()

    second = provider(sim, profile_for(sim, "cached"), secret=SECRET)
    assert second.token() == token
    assert server.count("/oauth2/v2.0/token") == before + 1

    second.invalidate()
    assert second.token() != token
    assert server.count("/oauth2/v2.0/token") == before + 2


def test_corrupt_cache_file_means_signing_in_again(sim, private_cache):
    private_cache.mkdir(mode=0o700, exist_ok=True)
    prof = profile_for(sim, "corrupt")
    path = token_cache_path("corrupt", prof.authority, prof.client_id)
    path.write_text("{not json")
    assert provider(sim, prof, secret=SECRET).token()
    json.loads(path.read_text())


# --- wrong cloud, transport -----------------------------------------------------------------------------

def test_profile_with_the_wrong_cloud_is_refused_for_the_graph_scope(sim):
    # The tenant is commercial, the profile says GCC High: ccsync asks for graph.microsoft.us/.default.
    profile = profile_for(sim, "wrong-cloud", cloud="gcch", server="commercial")
    with pytest.raises(AuthError) as caught:
        provider(sim, profile, secret=SECRET).token()
    assert caught.value.error_code == "AADSTS500011"
    assert 'cloud ("gcch")' in caught.value.hint


def test_tenant_unknown_to_the_clouds_login_service_is_90002(sim):
    profile = profile_for(sim, "lost", cloud="gcch", tenant="contoso.onmicrosoft.com")
    with pytest.raises(AuthError) as caught:
        provider(sim, profile, secret=SECRET).token()
    assert caught.value.error_code == "AADSTS90002"
    assert "Tenant 'contoso.onmicrosoft.com' not found" in caught.value.message
    assert "Azure Government" in caught.value.hint


def test_untrusted_tls_is_transport_error_about_the_ca_bundle(sim):
    # Without the profile's CA bundle the environment's trust store is used, which does not know the test CA.
    base = sim.base("commercial")
    profile = Profile("no-ca", "commercial", "contoso.onmicrosoft.com", APP_ID, login_url=base)
    with pytest.raises(TransportError) as caught:
        provider(sim, profile, secret=SECRET).token()
    assert "TLS verification failed" in caught.value.message
    assert "REQUESTS_CA_BUNDLE" in caught.value.hint and "ca_bundle" in caught.value.hint


def test_missing_ca_bundle_file_is_a_config_error(sim, tmp_path):
    profile = dataclasses.replace(profile_for(sim, "bad-ca"), ca_bundle=str(tmp_path / "gone.pem"))
    with pytest.raises(ConfigError) as caught:
        provider(sim, profile, secret=SECRET).token()
    assert "gone.pem" in caught.value.message and "ca_bundle" in caught.value.hint


def test_msal_uses_the_given_session(sim):
    class CountingSession(CcsSession):
        calls: list[str] = []

        def request(self, method, url, *args, **kwargs):
            self.calls.append(url)
            return super().request(method, url, *args, **kwargs)

    session = CountingSession(ca_bundle=sim.ca_path)
    provider(sim, profile_for(sim, "session"), secret=SECRET, session=session).token()
    assert any(url.endswith("/oauth2/v2.0/token") for url in session.calls)
    assert any("openid-configuration" in url for url in session.calls)


class FakeConfidentialApp:
    seen: list[dict] = []

    def __init__(self, client_id, client_credential=None, **kwargs):
        self.seen.append({"client_id": client_id, **kwargs})

    def acquire_token_for_client(self, scopes):
        self.seen[-1]["scopes"] = scopes
        now = int(time.time())
        payload = json.dumps({"tid": "t", "appid": "a", "exp": now + 3600}).encode()
        body = base64.urlsafe_b64encode(payload).rstrip(b"=").decode()
        return {"access_token": f"e30.{body}.sig", "expires_in": 3600}


def test_real_clouds_keep_msal_authority_validation(monkeypatch):
    monkeypatch.setattr(auth.msal, "ConfidentialClientApplication", FakeConfidentialApp)
    FakeConfidentialApp.seen.clear()
    gov = Profile("gov", "gcch", "fabrikam.onmicrosoft.us", APP_ID)
    TokenProvider(gov, secret="x" * 20, prompt=False).token()
    seen = FakeConfidentialApp.seen[-1]
    assert seen["authority"] == "https://login.microsoftonline.us/fabrikam.onmicrosoft.us"
    assert "instance_discovery" not in seen and seen["scopes"] == ["https://graph.microsoft.us/.default"]
    assert seen["http_client"].session.ca_bundle is None  # the environment's trust applies
    sim_profile = Profile("simmed", "dod", "x.onmicrosoft.us", APP_ID, login_url="https://127.0.0.1:9",
                          ca_bundle="/tmp/ca.pem")
    TokenProvider(sim_profile, secret="x" * 20, prompt=False).token()
    seen = FakeConfidentialApp.seen[-1]
    assert seen["instance_discovery"] is False and seen["authority"] == "https://127.0.0.1:9/x.onmicrosoft.us"
    assert seen["scopes"] == ["https://dod-graph.microsoft.us/.default"]
    assert seen["http_client"].session.ca_bundle == "/tmp/ca.pem"


def test_decode_claims_and_reprs():
    with pytest.raises(AuthError):
        decode_claims("opaque-token")
    profile = Profile("p", "commercial", "contoso.com", APP_ID)
    tokens = TokenProvider(profile, secret="super-secret-value", prompt=False)
    assert "super-secret-value" not in repr(tokens) and "'p'" in repr(tokens)
