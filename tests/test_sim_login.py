"""The simulated identity platform, checked over real HTTPS against Entra's documented shapes (not via ccsync)."""

from __future__ import annotations

import base64
import time
import uuid

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import hashes
from werkzeug.test import Client, EnvironBuilder
from werkzeug import Request

from toolkit.clouds import detect_from_openid
from toolkit.simulator.login import (
    DEVICE_CODE_GRANT, JWT_BEARER, LoginService, SigningKey, SimApp, TokenRejected, process_signing_key,
    validate_access_token,
)

from sim_login_support import (
    APP_ID, CHINA_TID, COMMERCIAL_TID, GCC_TID, GCCH_TID, GOV_APP_ID, GOV_SECRET, ROLES, SECRET,
    FakeDirectory, FakeTenant, make_cert, start_login_sim, stop_login_sim,
)


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    sim = start_login_sim(tmp_path_factory.mktemp("sim-login"))
    yield sim
    stop_login_sim(sim)


@pytest.fixture()
def http(sim):
    session = requests.Session()
    session.trust_env = False  # REQUESTS_CA_BUNDLE is set on these machines; trust only the test CA
    session.verify = sim.ca_path
    yield session
    session.close()


def entra_error(response: requests.Response) -> dict:
    body = response.json()
    assert set(body) >= {"error", "error_description", "error_codes", "timestamp", "trace_id", "correlation_id"}
    code = body["error_codes"][0]
    assert body["error_description"].startswith(f"AADSTS{code}: ")
    assert "\r\nTrace ID: " in body["error_description"]
    assert response.headers["Content-Type"].startswith("application/json")
    return body


def token_request(http, base, tenant, **form):
    return http.post(f"{base}/{tenant}/oauth2/v2.0/token", data=form)


def app_token(http, base, tenant=COMMERCIAL_TID, client_id=APP_ID, secret=SECRET,
              scope="https://graph.microsoft.com/.default"):
    return token_request(http, base, tenant, grant_type="client_credentials", client_id=client_id,
                         client_secret=secret, scope=scope)


def unverified(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


# --- discovery ------------------------------------------------------------------------------------------

def test_openid_configuration_has_entras_shape_and_points_at_the_simulator(sim, http):
    base = sim.base("commercial")
    for key in ("contoso.onmicrosoft.com", COMMERCIAL_TID, "CONTOSO.COM"):
        doc = http.get(f"{base}/{key}/v2.0/.well-known/openid-configuration").json()
        assert doc["issuer"] == f"{base}/{COMMERCIAL_TID}/v2.0"
        assert doc["token_endpoint"] == f"{base}/{COMMERCIAL_TID}/oauth2/v2.0/token"
        assert doc["device_authorization_endpoint"] == f"{base}/{COMMERCIAL_TID}/oauth2/v2.0/devicecode"
        assert doc["authorization_endpoint"] == f"{base}/{COMMERCIAL_TID}/oauth2/v2.0/authorize"
        assert doc["jwks_uri"] == f"{base}/{COMMERCIAL_TID}/discovery/v2.0/keys"
        assert doc["tenant_region_scope"] == "NA" and "tenant_region_sub_scope" not in doc
        assert doc["cloud_instance_name"] == "microsoftonline.com"
        assert doc["msgraph_host"] == "graph.microsoft.com"
        assert doc["cloud_graph_host_name"] == "graph.windows.net" and doc["rbac_url"] == "https://pas.windows.net"
        assert "private_key_jwt" in doc["token_endpoint_auth_methods_supported"]


@pytest.mark.parametrize("tenant, server, cloud, scope, sub, graph_host", [
    ("contoso.onmicrosoft.com", "commercial", "commercial", "NA", None, "graph.microsoft.com"),
    ("contosogcc.onmicrosoft.com", "commercial", "gcc", "NA", "GCC", "graph.microsoft.com"),
    ("fabrikamgov.onmicrosoft.us", "commercial", "gcch", "USGov", "DODCON", "graph.microsoft.us"),
    ("tailspindod.onmicrosoft.us", "commercial", "dod", "USGov", "DOD", "dod-graph.microsoft.us"),
    ("woodgrove.partner.onmschina.cn", "china", "china", "AS", None, "microsoftgraph.chinacloudapi.cn"),
])
def test_discovery_tells_each_cloud_apart_as_entra_does(sim, http, tenant, server, cloud, scope, sub, graph_host):
    doc = http.get(f"{sim.base(server)}/{tenant}/v2.0/.well-known/openid-configuration").json()
    assert doc["tenant_region_scope"] == scope
    assert doc.get("tenant_region_sub_scope") == sub
    assert doc["msgraph_host"] == graph_host
    detection = detect_from_openid(tenant, doc)
    assert detection.cloud == cloud
    # The global authority answers for government tenants, but their endpoints are on their own cloud's server.
    assert doc["token_endpoint"].startswith(sim.base(cloud) + "/")
    assert detection.tenant_id == doc["token_endpoint"].split("/")[3]


def test_unknown_tenant_gets_entras_invalid_tenant_error(sim, http):
    response = http.get(f"{sim.base('commercial')}/nosuch.onmicrosoft.com/v2.0/.well-known/openid-configuration",
                        headers={"client-request-id": "abcd-1234"})
    assert response.status_code == 400
    body = entra_error(response)
    assert body["error"] == "invalid_tenant" and body["error_codes"] == [90002]
    assert "Tenant 'nosuch.onmicrosoft.com' not found" in body["error_description"]
    assert body["correlation_id"] == "abcd-1234"


def test_each_authority_only_discovers_its_own_clouds(sim, http):
    # China is a separate Entra: the global authority does not know its tenants, and China knows no US tenants.
    assert http.get(f"{sim.base('commercial')}/{CHINA_TID}/v2.0/.well-known/openid-configuration").status_code == 400
    assert http.get(f"{sim.base('china')}/{COMMERCIAL_TID}/v2.0/.well-known/openid-configuration").status_code == 400
    assert http.get(f"{sim.base('gcch')}/{GCCH_TID}/v2.0/.well-known/openid-configuration").status_code == 200


def test_instance_discovery_and_keys(sim, http):
    base = sim.base("commercial")
    response = http.get(f"{base}/common/discovery/instance",
                        params={"api-version": "1.1", "authorization_endpoint":
                                f"{base}/{COMMERCIAL_TID}/oauth2/v2.0/authorize"})
    assert response.status_code == 200
    assert response.json()["tenant_discovery_endpoint"] == \
        f"{base}/{COMMERCIAL_TID}/v2.0/.well-known/openid-configuration"
    bad = http.get(f"{base}/common/discovery/instance",
                   params={"authorization_endpoint": "https://login.example.com/x/oauth2/v2.0/authorize"})
    assert bad.status_code == 400 and entra_error(bad)["error"] == "invalid_instance"

    keys = http.get(f"{base}/{COMMERCIAL_TID}/discovery/v2.0/keys").json()["keys"]
    token = app_token(http, base).json()["access_token"]
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(k for k in keys if k["kid"] == kid)
    claims = jwt.decode(token, jwt.PyJWK(key).key, algorithms=["RS256"], audience="https://graph.microsoft.com")
    assert claims["tid"] == COMMERCIAL_TID


def test_handle_leaves_other_paths_to_the_caller():
    service = LoginService("commercial", FakeDirectory([]), lambda: "https://127.0.0.1:1")
    for path in ("/v1.0/users", "/", "/contoso.com/oauth2/v2.0/authorize", "/$batch"):
        assert service.handle(Request(EnvironBuilder(path=path).get_environ())) is None


# --- client credentials ---------------------------------------------------------------------------------

def test_client_secret_yields_an_app_token_for_this_clouds_graph(sim, http):
    before = time.time()
    response = app_token(http, sim.base("commercial"))
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer" and 3000 < body["expires_in"] <= 3600
    claims = unverified(body["access_token"])
    assert claims["aud"] == "https://graph.microsoft.com"
    assert claims["iss"] == f"https://sts.windows.net/{COMMERCIAL_TID}/"
    assert claims["tid"] == COMMERCIAL_TID and claims["appid"] == APP_ID
    assert claims["roles"] == sorted(ROLES) and claims["idtyp"] == "app" and "scp" not in claims
    assert claims["appidacr"] == "1"
    assert before - 5 <= claims["iat"] <= time.time() + 5 and claims["exp"] - claims["iat"] == 3600
    assert validate_access_token(body["access_token"], "commercial")["appid"] == APP_ID
    assert jwt.get_unverified_header(body["access_token"])["alg"] == "RS256"


def test_client_secret_by_http_basic_and_domain_tenant(sim, http):
    response = http.post(f"{sim.base('commercial')}/contoso.com/oauth2/v2.0/token", auth=(APP_ID, SECRET),
                         data={"grant_type": "client_credentials", "scope": "https://graph.microsoft.com/.default"})
    assert response.status_code == 200


def test_gcch_server_issues_government_tokens(sim, http):
    response = app_token(http, sim.base("gcch"), GCCH_TID, GOV_APP_ID, GOV_SECRET,
                         "https://graph.microsoft.us/.default")
    assert response.status_code == 200
    claims = unverified(response.json()["access_token"])
    assert claims["aud"] == "https://graph.microsoft.us"
    assert claims["iss"] == f"https://login.microsoftonline.us/{GCCH_TID}/"
    assert claims["tenant_region_scope"] == "USGov"
    validate_access_token(response.json()["access_token"], "gcch")
    with pytest.raises(TokenRejected, match="Invalid audience"):
        validate_access_token(response.json()["access_token"], "commercial")
    with pytest.raises(TokenRejected, match="Invalid audience"):
        validate_access_token(response.json()["access_token"], "dod")


def test_wrong_secret_is_invalid_client_7000215_and_never_echoed(sim, http):
    wrong = "not-the-secret-XYZ-0987654321"
    response = app_token(http, sim.base("commercial"), secret=wrong)
    assert response.status_code == 401
    body = entra_error(response)
    assert body["error"] == "invalid_client" and body["error_codes"] == [7000215]
    assert wrong not in response.text and SECRET not in response.text


def test_unknown_app_is_unauthorized_client_700016(sim, http):
    other = str(uuid.uuid4())
    response = app_token(http, sim.base("commercial"), client_id=other)
    assert response.status_code == 400
    body = entra_error(response)
    assert body["error"] == "unauthorized_client" and body["error_codes"] == [700016]
    assert other in body["error_description"] and "'Contoso'" in body["error_description"]


def test_missing_credentials_and_parameters(sim, http):
    base = sim.base("commercial")
    response = token_request(http, base, COMMERCIAL_TID, grant_type="client_credentials", client_id=APP_ID,
                             scope="https://graph.microsoft.com/.default")
    assert response.status_code == 401 and entra_error(response)["error_codes"] == [7000218]
    response = token_request(http, base, COMMERCIAL_TID, client_id=APP_ID, client_secret=SECRET)
    assert response.status_code == 400 and entra_error(response)["error_codes"] == [900144]
    response = token_request(http, base, COMMERCIAL_TID, grant_type="password", client_id=APP_ID)
    assert entra_error(response)["error"] == "unsupported_grant_type"
    response = http.get(f"{base}/{COMMERCIAL_TID}/oauth2/v2.0/token")
    assert response.status_code == 400 and entra_error(response)["error_codes"] == [900561]
    response = app_token(http, base, tenant="common")
    assert entra_error(response)["error_codes"] == [50059]


@pytest.mark.parametrize("scope, status, error, code", [
    ("https://graph.microsoft.us/.default", 400, "invalid_resource", 500011),
    ("https://microsoftgraph.chinacloudapi.cn/.default", 400, "invalid_resource", 500011),
    ("https://graph.microsoft.com/User.Read.All", 400, "invalid_scope", 1002012),
    ("https://graph.microsoft.com/.default https://management.azure.com/.default", 400, "invalid_scope", 700022),
])
def test_scope_must_be_this_clouds_graph_default(sim, http, scope, status, error, code):
    response = app_token(http, sim.base("commercial"), scope=scope)
    assert response.status_code == status
    body = entra_error(response)
    assert body["error"] == error and body["error_codes"] == [code]


def test_tenant_of_another_cloud_gets_no_token(sim, http):
    # Discovery on the global authority knows the GCC High tenant, but only its own cloud issues its tokens.
    response = app_token(http, sim.base("commercial"), GCCH_TID, GOV_APP_ID, GOV_SECRET,
                         "https://graph.microsoft.us/.default")
    assert response.status_code == 400
    assert entra_error(response)["error_codes"] == [90002]
    response = app_token(http, sim.base("gcch"), COMMERCIAL_TID)
    assert entra_error(response)["error_codes"] == [90002]


# --- certificate assertions -------------------------------------------------------------------------------

def b64url_thumb(cert, algorithm) -> str:
    return base64.urlsafe_b64encode(cert.fingerprint(algorithm)).rstrip(b"=").decode()


def assertion(pair, aud, *, client_id=APP_ID, alg="RS256", header=None, exp_in=600, iat_shift=0, key=None):
    now = int(time.time()) + iat_shift
    headers = header if header is not None else (
        {"x5t": b64url_thumb(pair.cert, hashes.SHA1())} if alg == "RS256"
        else {"x5t#S256": b64url_thumb(pair.cert, hashes.SHA256())})
    claims = {"aud": aud, "iss": client_id, "sub": client_id, "jti": str(uuid.uuid4()), "nbf": now, "iat": now,
              "exp": now + exp_in}
    return jwt.encode(claims, key or pair.key, algorithm=alg, headers=headers)


def cert_token(http, base, signed, tenant=COMMERCIAL_TID):
    return token_request(http, base, tenant, grant_type="client_credentials", client_id=APP_ID,
                         client_assertion_type=JWT_BEARER, client_assertion=signed,
                         scope="https://graph.microsoft.com/.default")


@pytest.mark.parametrize("alg", ["RS256", "PS256"])
def test_certificate_assertion_is_verified_with_the_registered_certificate(sim, http, alg):
    base = sim.base("commercial")
    response = cert_token(http, base, assertion(sim.cert, f"{base}/{COMMERCIAL_TID}/oauth2/v2.0/token", alg=alg))
    assert response.status_code == 200, response.text
    claims = unverified(response.json()["access_token"])
    assert claims["appidacr"] == "2" and claims["roles"] == sorted(ROLES)


def test_unregistered_certificate_is_700027_naming_its_thumbprint(sim, http):
    base = sim.base("commercial")
    response = cert_token(http, base, assertion(sim.stranger, f"{base}/{COMMERCIAL_TID}/oauth2/v2.0/token"))
    assert response.status_code == 401
    body = entra_error(response)
    assert body["error"] == "invalid_client" and body["error_codes"] == [700027]
    assert sim.stranger.thumbprint in body["error_description"]


def test_bad_assertions_are_refused(sim, http):
    base = sim.base("commercial")
    aud = f"{base}/{COMMERCIAL_TID}/oauth2/v2.0/token"
    # registered thumbprint, but signed by another key
    forged = assertion(sim.cert, aud, key=sim.stranger.key)
    assert entra_error(cert_token(http, base, forged))["error_codes"] == [700027]
    # audience of another authority
    assert entra_error(cert_token(http, base, assertion(sim.cert, "https://login.microsoftonline.com/x/token"))
                       )["error_codes"] == [700027]
    # expired long ago
    stale = assertion(sim.cert, aud, iat_shift=-7200, exp_in=600)
    response = cert_token(http, base, stale)
    assert entra_error(response)["error_codes"] == [700024]
    # an expired certificate, even though registered
    response = cert_token(http, base, assertion(sim.expired, aud))
    body = entra_error(response)
    assert body["error_codes"] == [700027] and "expired" in body["error_description"]
    # not a JWT at all
    assert entra_error(cert_token(http, base, "not-a-jwt"))["error_codes"] == [700027]


# --- device code ----------------------------------------------------------------------------------------

DEVICE_SCOPE = "https://graph.microsoft.com/.default offline_access openid profile"


def start_device_flow(http, base, scope=DEVICE_SCOPE):
    response = http.post(f"{base}/{COMMERCIAL_TID}/oauth2/v2.0/devicecode",
                         data={"client_id": APP_ID, "scope": scope})
    assert response.status_code == 200, response.text
    return response.json()


def poll(http, base, device_code, client_id=APP_ID):
    return token_request(http, base, COMMERCIAL_TID, grant_type=DEVICE_CODE_GRANT, client_id=client_id,
                         device_code=device_code, client_info="1")


def test_device_code_flow_is_pending_then_issues_user_tokens(sim, http):
    base = sim.base("commercial")
    flow = start_device_flow(http, base)
    assert set(flow) >= {"user_code", "device_code", "verification_uri", "expires_in", "interval", "message"}
    assert flow["verification_uri"] == "https://microsoft.com/devicelogin" and flow["interval"] == 1
    assert flow["user_code"] in flow["message"] and flow["expires_in"] == 900

    pending = poll(http, base, flow["device_code"])
    assert pending.status_code == 400
    body = entra_error(pending)
    assert body["error"] == "authorization_pending" and body["error_codes"] == [70016]

    done = poll(http, base, flow["device_code"])  # auto-approved after one poll
    assert done.status_code == 200, done.text
    tokens = done.json()
    assert {"access_token", "refresh_token", "id_token", "client_info", "scope"} <= set(tokens)
    claims = unverified(tokens["access_token"])
    assert claims["idtyp"] == "user" and claims["upn"] == "admin@contoso.com"  # the "@sim.admin" user
    assert claims["oid"] == "0f0f0f0f-0000-4000-8000-000000000002" and "roles" not in claims
    assert set(claims["scp"].split()) == set(ROLES)
    assert "https://graph.microsoft.com/.default" in tokens["scope"].split()
    id_claims = unverified(tokens["id_token"])
    assert id_claims["aud"] == APP_ID and id_claims["iss"] == f"{base}/{COMMERCIAL_TID}/v2.0"

    # A redeemed device code cannot be used again; the refresh token works once the code is gone.
    assert entra_error(poll(http, base, flow["device_code"]))["error"] == "bad_verification_code"
    refreshed = token_request(http, base, COMMERCIAL_TID, grant_type="refresh_token", client_id=APP_ID,
                              refresh_token=tokens["refresh_token"], scope=DEVICE_SCOPE)
    assert refreshed.status_code == 200
    assert unverified(refreshed.json()["access_token"])["upn"] == "admin@contoso.com"
    bad = token_request(http, base, COMMERCIAL_TID, grant_type="refresh_token", client_id=APP_ID,
                        refresh_token="nope", scope=DEVICE_SCOPE)
    assert entra_error(bad)["error"] == "invalid_grant"


def test_device_code_for_another_clouds_graph_is_refused(sim, http):
    response = http.post(f"{sim.base('commercial')}/{COMMERCIAL_TID}/oauth2/v2.0/devicecode",
                         data={"client_id": APP_ID, "scope": "https://dod-graph.microsoft.us/.default openid"})
    assert response.status_code == 400 and entra_error(response)["error_codes"] == [500011]


class Clock:
    def __init__(self):
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture()
def manual(sim):
    """A service without auto-approval and with a controllable clock, served through the same HTTPS server."""
    clock = Clock()
    server = sim.servers["commercial"]
    original = server.service
    server.service = LoginService("commercial", sim.directory, lambda: server.base_url,
                                  device_auto_approve_after=None, clock=clock, signing_key=SigningKey())
    yield server.service, clock
    server.service = original


def test_device_code_waits_for_the_admin_and_can_be_declined_or_expire(sim, http, manual):
    service, clock = manual
    base = sim.base("commercial")
    approved, declined, expiring = (start_device_flow(http, base) for _ in range(3))
    for _ in range(3):
        assert entra_error(poll(http, base, approved["device_code"]))["error"] == "authorization_pending"
    assert approved["user_code"] in service.pending_user_codes()
    service.approve_device_code(approved["user_code"])
    assert poll(http, base, approved["device_code"]).status_code == 200

    service.decline_device_code(declined["user_code"])
    assert entra_error(poll(http, base, declined["device_code"]))["error"] == "authorization_declined"

    clock.now += 901
    body = entra_error(poll(http, base, expiring["device_code"]))
    assert body["error"] == "expired_token" and body["error_codes"] == [70019]
    # The code belongs to the app that asked for it.
    other = start_device_flow(http, base)
    assert entra_error(poll(http, base, other["device_code"], client_id=str(uuid.uuid4())))["error"] == \
        "bad_verification_code"


# --- access-token validation (the Graph side) ------------------------------------------------------------

def test_tokens_expire_and_forgeries_are_refused(sim, http, manual):
    service, clock = manual
    token = app_token(http, sim.base("commercial")).json()["access_token"]
    assert service.validate_access_token(token)["appid"] == APP_ID
    # Signed by the service's own key, not the process key the other services use.
    with pytest.raises(TokenRejected, match="Invalid signature") as caught:
        validate_access_token(token, "commercial", signing_key=process_signing_key())
    assert caught.value.code == "InvalidAuthenticationToken"
    clock.now += 3601
    with pytest.raises(TokenRejected, match="expired or is not yet valid"):
        service.validate_access_token(token)
    with pytest.raises(TokenRejected, match="CompactToken parsing failed"):
        validate_access_token("garbage", "commercial")
    with pytest.raises(TokenRejected):
        validate_access_token("a.b.c", "commercial")


def test_token_with_another_clouds_issuer_is_refused():
    key = SigningKey()
    now = int(time.time())
    forged = key.sign({"aud": "https://graph.microsoft.com", "iss": f"https://sts.chinacloudapi.cn/{COMMERCIAL_TID}/",
                       "tid": COMMERCIAL_TID, "iat": now, "nbf": now, "exp": now + 60})
    with pytest.raises(TokenRejected, match="Invalid issuer"):
        validate_access_token(forged, "commercial", signing_key=key)


def test_simapp_repr_hides_secrets_and_keys():
    pair = make_cert()
    app = SimApp(APP_ID, "ccsync", ["User.Read.All"], ["top-secret-value"], [pair.cert_pem])
    assert "top-secret-value" not in repr(app) and "CERTIFICATE" not in repr(app)


def test_gcc_tenants_sign_in_at_their_own_server(sim, http):
    # Each simulated cloud has its own server: the commercial one does not issue codes for GCC tenants.
    response = http.post(f"{sim.base('commercial')}/{GCC_TID}/oauth2/v2.0/devicecode",
                         data={"client_id": APP_ID, "scope": DEVICE_SCOPE})
    assert entra_error(response)["error_codes"] == [90002]
    # At its own server, an app the tenant does not have is refused before any code is issued.
    response = http.post(f"{sim.base('gcc')}/{GCC_TID}/oauth2/v2.0/devicecode",
                         data={"client_id": APP_ID, "scope": DEVICE_SCOPE})
    assert entra_error(response)["error_codes"] == [700016]


def test_same_domain_in_two_clouds_resolves_to_this_clouds_tenant():
    class CloudAwareDirectory(FakeDirectory):
        def find_tenant(self, key, cloud=None):
            for tenant in self.tenants:
                if key.lower() in (tenant.tenant_id, *tenant.domains) and cloud in (None, tenant.cloud):
                    return tenant
            return None

    gov_app = SimApp(APP_ID, "ccsync", ["User.Read.All"], ["gov-secret-0123456789"], [])
    directory = CloudAwareDirectory([
        FakeTenant(COMMERCIAL_TID, "commercial", "Contoso", ["contoso.com"], {}, {}),
        FakeTenant(GCCH_TID, "gcch", "Contoso Gov", ["contoso.com"], {APP_ID: gov_app}, {}),
    ])
    service = LoginService("gcch", directory, lambda: "https://127.0.0.1:1")
    client = Client(lambda environ, start: service.handle(Request(environ))(environ, start))
    response = client.post("/contoso.com/oauth2/v2.0/token", data={
        "grant_type": "client_credentials", "client_id": APP_ID, "client_secret": "gov-secret-0123456789",
        "scope": "https://graph.microsoft.us/.default"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert unverified(response.get_json()["access_token"])["tid"] == GCCH_TID
