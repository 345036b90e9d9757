"""The simulator as a whole: servers per cloud, TLS, tokens per cloud, headers, unknown paths, faults, profiles."""

from __future__ import annotations

import time
import tomllib

import pytest
import requests

from conftest import SEED_TENANT, get_token, graph_caller, sim_session, small_sim, user_id
from toolkit.errors import CloudError
from toolkit.simulator.faults import FaultConfig


def test_one_https_server_per_seeded_cloud(sim):
    assert sorted(sim.clouds()) == ["china", "commercial", "dod", "gcc", "gcch"]
    urls = {c: sim.endpoints(c).graph_url for c in sim.clouds()}
    assert len(set(urls.values())) == 5
    assert all(u.startswith("https://127.0.0.1:") for u in urls.values())
    assert sim.endpoints("GCC-High") == sim.endpoints("gcch")
    # the test CA is the only thing that makes TLS work
    with pytest.raises(requests.exceptions.SSLError):
        s = requests.Session()
        s.trust_env = False
        s.get(urls["commercial"] + "/v1.0/users", timeout=10)


def test_graph_headers_and_client_request_id_echo(sim):
    g = graph_caller(sim, "contoso.com")
    resp = g.get("organization", headers={"client-request-id": "5c1e0e9f-1111-4222-8333-444455556666"})
    assert resp.status_code == 200
    assert resp.headers["client-request-id"] == "5c1e0e9f-1111-4222-8333-444455556666"
    assert resp.headers["request-id"] and resp.headers["request-id"] != resp.headers["client-request-id"]
    assert resp.headers["Content-Type"].startswith("application/json;odata.metadata=minimal")
    assert resp.json()["@odata.context"] == f"{g.base}/v1.0/$metadata#organization"
    generated = g.get("organization")
    assert generated.headers["client-request-id"] == generated.headers["request-id"]


def test_missing_or_bad_token_is_401(sim):
    base = sim.endpoints("commercial").graph_url
    s = sim_session(sim)
    for headers in ({}, {"Authorization": "Bearer not.a.token"}, {"Authorization": "Basic abc"}):
        resp = s.get(f"{base}/v1.0/users", headers=headers, timeout=10)
        assert resp.status_code == 401
        err = resp.json()["error"]
        assert err["code"] == "InvalidAuthenticationToken"
        assert set(err["innerError"]) == {"date", "request-id", "client-request-id"}


def test_token_from_another_cloud_is_refused(sim):
    s = sim_session(sim)
    gcch_token = get_token(sim, "fabrikamfederal.us", session=s)
    gcc_token = get_token(sim, "litwareinc.com", session=s)
    commercial = sim.endpoints("commercial").graph_url
    for token in (gcch_token, gcc_token):      # gcc shares graph.microsoft.com, but its tenant is not ours
        resp = s.get(f"{commercial}/v1.0/users", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert resp.status_code == 401
        assert resp.json()["error"]["code"] == "InvalidAuthenticationToken"
    own = s.get(f"{sim.endpoints('gcch').graph_url}/v1.0/users", headers={"Authorization": f"Bearer {gcch_token}"},
                timeout=10)
    assert own.status_code == 200


def test_unknown_segments_and_methods(sim):
    g = graph_caller(sim, "contoso.com")
    unknown = g.get("frobnicators")
    assert unknown.status_code == 400
    assert unknown.json()["error"] == {**unknown.json()["error"], "code": "BadRequest",
                                       "message": "Resource not found for the segment 'frobnicators'."}
    nested = g.get(f"users/{sim.tenant('contoso.com').users and next(iter(sim.tenant('contoso.com').users))}/gizmos")
    assert nested.status_code == 400
    assert nested.json()["error"]["message"] == "Resource not found for the segment 'gizmos'."
    assert g.call("PUT", "organization").status_code == 405


def test_reset_fault_really_resets_the_connection():
    simulator = small_sim(faults=FaultConfig(p_reset=1.0, paths=("/users",)))
    try:
        g = graph_caller(simulator, SEED_TENANT)
        with pytest.raises(requests.exceptions.ConnectionError) as info:
            g.get("users")
        assert "reset" in repr(info.value).lower() or "aborted" in repr(info.value).lower()
        assert g.get("organization").status_code == 200          # other paths are untouched
    finally:
        simulator.stop()


def test_503_and_latency_faults():
    simulator = small_sim(faults=FaultConfig(p503=1.0, retry_after_s=2.5, paths=("/users*",)), latency_ms=50)
    try:
        g = graph_caller(simulator, SEED_TENANT)
        started = time.monotonic()
        resp = g.get(f"users/{user_id(1)}")
        assert time.monotonic() - started >= 0.05
        assert resp.status_code == 503
        assert resp.headers["Retry-After"] == "2.5"
        assert resp.json()["error"]["code"] == "ServiceUnavailable"
    finally:
        simulator.stop()


def test_profiles_and_written_config_carry_no_secret(sim, tmp_path):
    entries = sim.profile_entries()
    assert {e["tenant"] for e in entries} == {t.tenant_id for t in sim.tenants()}
    contoso = next(e for e in entries if e["tenant"] == sim.tenant("contoso.com").tenant_id)
    assert contoso["login_url"] == sim.endpoints("commercial").login_url
    assert contoso["ca_bundle"] == sim.ca_bundle
    path = sim.write_profiles(tmp_path / "config.toml")
    text = path.read_text()
    for tenant in sim.tenants():
        for app in tenant.apps.values():
            assert app.secrets[0] not in text
    parsed = tomllib.loads(text)["profiles"]
    assert set(parsed) == {e["name"] for e in entries}
    assert all(p["auth"] == "secret" and p["secret_env"].startswith("CCSYNC_") for p in parsed.values())


def test_profiles_build_config_profiles(sim):
    pytest.importorskip("toolkit.config")
    profiles = sim.profiles()
    assert len(profiles) == len(sim.profile_entries())
    gcch = next(p for p in profiles if p.cloud == "gcch")
    assert gcch.graph_url == sim.endpoints("gcch").graph_url


def test_written_profiles_load_with_the_config_module(sim, tmp_path):
    config = pytest.importorskip("toolkit.config")
    loaded = config.load_config(sim.write_profiles(tmp_path / "ccsync.toml"))
    assert {p.name: p for p in sim.profiles()} == loaded


def test_secrets_are_random_per_start_and_unknown_cloud_is_named():
    one, two = small_sim(), small_sim()
    try:
        assert one.secret_for(SEED_TENANT) != two.secret_for(SEED_TENANT)
        with pytest.raises(CloudError, match="gcch"):
            one.endpoints("gcch")
    finally:
        one.stop()
        two.stop()


def test_commercial_discovery_answers_for_government_tenants_and_points_at_their_server(sim):
    s = sim_session(sim)
    commercial = sim.endpoints("commercial").login_url
    doc = s.get(f"{commercial}/fabrikamfederal.us/v2.0/.well-known/openid-configuration", timeout=10)
    assert doc.status_code == 200
    assert doc.json()["token_endpoint"].startswith(sim.endpoints("gcch").login_url + "/")
    assert doc.json()["cloud_instance_name"] == "microsoftonline.us"
    china = s.get(f"{commercial}/wingtiptoys.cn/v2.0/.well-known/openid-configuration", timeout=10)
    assert china.status_code != 200
    own = s.get(f"{sim.endpoints('china').login_url}/wingtiptoys.cn/v2.0/.well-known/openid-configuration",
                timeout=10)
    assert own.status_code == 200


def test_keep_alive_connections_are_reused_and_end_when_the_simulator_stops():
    simulator = small_sim()
    g = graph_caller(simulator, SEED_TENANT)
    try:
        first = g.get("organization")
        second = g.get("organization")
        assert first.status_code == second.status_code == 200
        assert "close" not in first.headers.get("Connection", "").lower()
    finally:
        simulator.stop()
    # the CA file is gone with the simulator; skip verification to reach the (closed) socket itself
    with pytest.raises(requests.exceptions.ConnectionError):
        g.get("organization", verify=False)
