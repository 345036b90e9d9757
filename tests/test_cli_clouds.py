"""``ccsync clouds`` and ``ccsync clouds detect`` against a local HTTPS authority (no internet needed)."""

from __future__ import annotations

import json
import threading

import pytest
import trustme
from click.testing import CliRunner
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from toolkit.cli.discovery import is_unknown_tenant
from toolkit.cli.main import cli
from toolkit.clouds import CLOUDS, PAIRS

GCCH_ID = "11111111-2222-3333-4444-555555555555"
COMMERCIAL_ID = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"

# Fields as Entra's v2.0 OpenID configuration returns them (only those detection reads, plus issuer).
DOCS = {
    "fabrikam.us": {"issuer": f"https://login.microsoftonline.us/{GCCH_ID}/v2.0",
                    "token_endpoint": f"https://login.microsoftonline.us/{GCCH_ID}/oauth2/v2.0/token",
                    "tenant_region_scope": "USGov", "tenant_region_sub_scope": "DODCON",
                    "cloud_instance_name": "microsoftonline.us", "msgraph_host": "graph.microsoft.us"},
    "contoso.com": {"issuer": f"https://login.microsoftonline.com/{COMMERCIAL_ID}/v2.0",
                    "tenant_region_scope": "NA", "cloud_instance_name": "microsoftonline.com",
                    "msgraph_host": "graph.microsoft.com"},
    "legacy.us": {"issuer": f"https://login.microsoftonline.us/{GCCH_ID}/v2.0", "tenant_region_scope": "USG",
                  "cloud_instance_name": "microsoftonline.us", "msgraph_host": "graph.microsoft.us"},
    "elsewhere.example": {"issuer": f"https://login.example/{GCCH_ID}/v2.0", "cloud_instance_name": "example"},
}


def _app(environ, start_response):
    request = Request(environ)
    parts = request.path.strip("/").split("/")
    tenant = parts[0]
    if tenant == "broken.example":
        response = Response("<html>Service Unavailable</html>", status=503, content_type="text/html")
    elif tenant in DOCS and parts[1:] == ["v2.0", ".well-known", "openid-configuration"]:
        response = Response(json.dumps(DOCS[tenant]), content_type="application/json")
    else:
        body = {"error": "invalid_tenant",
                "error_description": f"AADSTS90002: Tenant '{tenant}' not found. Check to make sure you have the "
                                     "correct tenant ID and are signing into the correct cloud.",
                "error_codes": [90002]}
        response = Response(json.dumps(body), status=400, content_type="application/json")
    return response(environ, start_response)


@pytest.fixture(scope="module")
def authority(tmp_path_factory):
    """A local HTTPS 'login' host with its own CA; yields (url, ca_path)."""
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    ssl_context = __import__("ssl").SSLContext(__import__("ssl").PROTOCOL_TLS_SERVER)
    cert.configure_cert(ssl_context)
    ca_path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    server = make_server("127.0.0.1", 0, _app, threaded=True, ssl_context=ssl_context)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_port}", str(ca_path)
    server.shutdown()


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_clouds_json_lists_clouds_and_pairs():
    doc = json.loads(run("clouds", "--output", "json").stdout)
    gcch = next(c for c in doc["clouds"] if c["name"] == "gcch")
    assert gcch["graphUrl"] == "https://graph.microsoft.us" and gcch["allowedCloudEndpoint"] == "microsoftonline.us"
    assert gcch["graphScope"] == "https://graph.microsoft.us/.default"
    assert len(doc["pairs"]) == len(PAIRS)
    assert {"source": "commercial", "target": "gcch", "kind": "cross-cloud",
            "note": "Cross-cloud sync is in public preview."} in doc["pairs"]


def test_clouds_table_shows_every_cloud_and_pair_kind():
    # Captured output is not a terminal: ccsync draws it 200 columns wide unless COLUMNS says otherwise.
    out = CliRunner(env={"COLUMNS": None}).invoke(cli, ["clouds"]).stdout
    for cloud in CLOUDS.values():
        assert cloud.name in out and cloud.graph_host in out and cloud.allowed_cloud_endpoint in out
    assert "cross-cloud" in out and "same-cloud" in out and "allowedCloudEndpoints" in out


def test_detect_gcc_high_tenant(authority):
    url, ca = authority
    result = run("clouds", "detect", "Fabrikam.US", "--login-url", url, "--ca-bundle", ca, "--output", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["cloud"] == "gcch" and doc["tenantId"] == GCCH_ID and doc["tenant"] == "fabrikam.us"
    assert doc["evidence"]["tenant_region_sub_scope"] == "DODCON"


def test_detect_tries_the_next_authority_when_the_first_does_not_know_the_tenant(authority):
    url, ca = authority
    # The first authority answers AADSTS90002 for a tenant under another path prefix; the second knows it.
    result = run("clouds", "detect", "contoso.com", "--login-url", f"{url}/nowhere", "--login-url", url,
                 "--ca-bundle", ca)
    assert result.exit_code == 0, result.stderr
    assert "commercial" in result.stdout and COMMERCIAL_ID in result.stdout


def test_detect_legacy_usg_tenant_warns_on_stderr(authority):
    url, ca = authority
    result = run("clouds", "detect", "legacy.us", "--login-url", url, "--ca-bundle", ca, "-o", "json")
    assert result.exit_code == 0
    assert "Warning: tenant_region_scope is USG" in result.stderr
    assert json.loads(result.stdout)["cloud"] == "gcch"


def test_detect_unknown_tenant_is_a_cloud_error(authority):
    url, ca = authority
    result = run("clouds", "detect", "nobody.example", "--login-url", url, "--ca-bundle", ca, "-o", "json")
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"] == "CloudError"
    assert "No Microsoft cloud knows the tenant 'nobody.example'" in result.stderr


def test_detect_answer_naming_no_known_cloud_exits_1(authority):
    url, ca = authority
    result = run("clouds", "detect", "elsewhere.example", "--login-url", url, "--ca-bundle", ca, "-o", "json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["cloud"] is None
    assert "names no cloud ccsync knows" in result.stderr


def test_detect_service_failure_is_a_transport_error_naming_the_url(authority):
    url, ca = authority
    result = run("clouds", "detect", "broken.example", "--login-url", url, "--ca-bundle", ca)
    assert result.exit_code == 1
    assert f"Error: GET {url}/broken.example/v2.0/.well-known/openid-configuration answered HTTP 503" \
        in result.stderr


def test_detect_untrusted_certificate_is_a_tls_error_with_a_hint(authority, monkeypatch):
    url, _ca = authority
    # Without --ca-bundle the machine's bundle (REQUESTS_CA_BUNDLE here, or certifi) does not trust the test CA.
    result = run("clouds", "detect", "fabrikam.us", "--login-url", url, "-o", "json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["error"] == "TransportError" and "TLS certificate verification failed" in doc["message"]
    assert "REQUESTS_CA_BUNDLE" in doc["hint"]


def test_detect_unreachable_host_is_a_transport_error():
    # Port 9 on 127.0.0.1 (discard) is closed on a normal machine: the connection is refused.
    result = run("clouds", "detect", "contoso.com", "--login-url", "https://127.0.0.1:9", "--timeout", "5")
    assert result.exit_code == 1
    assert "Could not reach https://127.0.0.1:9/contoso.com" in result.stderr
    assert "refused" in result.stderr


@pytest.mark.parametrize("status, body, expected", [
    (400, {"error": "invalid_tenant", "error_codes": [90002]}, True),
    (400, {"error_description": "AADSTS90002: Tenant 'x' not found."}, True),
    (400, {"error": "invalid_request", "error_codes": [900023]}, False),
    (500, {"error": "invalid_tenant"}, False),
    (400, None, False),
])
def test_unknown_tenant_answer_recognised(status, body, expected):
    assert is_unknown_tenant(status, body) is expected
