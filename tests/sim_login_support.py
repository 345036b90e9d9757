"""Test support for the login simulator: a fake directory and real loopback HTTPS servers (trustme CA).

The real simulator server lives elsewhere; these tests mount ``LoginService`` on a small werkzeug app so that msal
and requests talk to it exactly as they would to the real one. Imported by test_sim_login.py and test_auth.py.
"""

from __future__ import annotations

import logging
import ssl
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from werkzeug import Request, Response
from werkzeug.serving import make_server

from toolkit.simulator.login import LoginService, SimApp

COMMERCIAL_TID = "11111111-1111-4111-8111-111111111111"
GCC_TID = "33333333-3333-4333-8333-333333333333"
GCCH_TID = "22222222-2222-4222-8222-222222222222"
DOD_TID = "44444444-4444-4444-8444-444444444444"
CHINA_TID = "55555555-5555-4555-8555-555555555555"
APP_ID = "aaaaaaaa-0000-4000-8000-000000000001"
GOV_APP_ID = "aaaaaaaa-0000-4000-8000-000000000002"
SECRET = "s3cr3t-Value~with.symbols_0123456789"
GOV_SECRET = "gov-s3cr3t-Value~0123456789abcdef"
ROLES = ["Organization.Read.All", "User.ReadWrite.All"]


@dataclass
class FakeTenant:
    tenant_id: str
    cloud: str
    display_name: str
    domains: list[str]
    apps: dict[str, SimApp] = field(default_factory=dict)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)


class FakeDirectory:
    def __init__(self, tenants: list[FakeTenant]):
        self.tenants = tenants

    def find_tenant(self, key: str) -> FakeTenant | None:
        for tenant in self.tenants:
            if key.lower() == tenant.tenant_id or key.lower() in (d.lower() for d in tenant.domains):
                return tenant
        return None


# --- certificates -----------------------------------------------------------------------------------------

@dataclass
class CertPair:
    key: rsa.RSAPrivateKey
    cert: x509.Certificate

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                      serialization.NoEncryption())

    @property
    def thumbprint(self) -> str:
        return self.cert.fingerprint(hashes.SHA1()).hex().upper()

    def write_pem(self, path: Path) -> Path:
        path.write_bytes(self.key_pem + self.cert_pem)
        return path

    def write_pfx(self, path: Path, password: str | None) -> Path:
        enc = (serialization.BestAvailableEncryption(password.encode()) if password
               else serialization.NoEncryption())
        path.write_bytes(pkcs12.serialize_key_and_certificates(b"ccsync", self.key, self.cert, None, enc))
        return path


def make_cert(days_valid: int = 30, *, start_days_ago: int = 1, key: rsa.RSAPrivateKey | None = None) -> CertPair:
    key = key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ccsync test")])
    start = datetime.now(timezone.utc) - timedelta(days=start_days_ago)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(start)
            .not_valid_after(start + timedelta(days=days_valid)).sign(key, hashes.SHA256()))
    return CertPair(key, cert)


# --- servers ----------------------------------------------------------------------------------------------

class LoginServer:
    """One cloud's LoginService behind a threaded werkzeug HTTPS server on 127.0.0.1."""

    def __init__(self, cloud: str, directory: FakeDirectory, ssl_context: ssl.SSLContext, **service_kwargs: Any):
        self.cloud = cloud
        self.requests: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self.service = LoginService(cloud, directory, lambda: self.base_url, **service_kwargs)
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True, ssl_context=ssl_context)
        self.base_url = f"https://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _app(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        with self._lock:
            self.requests.append((request.method, request.path))
        response = self.service.handle(request) or Response("not a login path", status=404)
        return response(environ, start_response)

    def count(self, suffix: str) -> int:
        with self._lock:
            return sum(1 for _, path in self.requests if path.endswith(suffix))

    def start(self) -> "LoginServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(5)


@dataclass
class LoginSim:
    ca_path: str
    directory: FakeDirectory
    servers: dict[str, LoginServer]
    cert: CertPair                    # registered on the commercial app
    stranger: CertPair                # never registered
    expired: CertPair                 # registered, but expired

    def base(self, cloud: str) -> str:
        return self.servers[cloud].base_url

    def total_requests(self) -> int:
        return sum(len(s.requests) for s in self.servers.values())


def build_directory(cert: CertPair, expired: CertPair) -> FakeDirectory:
    users = {
        "u-1": {"id": "0f0f0f0f-0000-4000-8000-000000000001", "userPrincipalName": "megan@contoso.com",
                "displayName": "Megan Bowen"},
        "u-2": {"id": "0f0f0f0f-0000-4000-8000-000000000002", "userPrincipalName": "admin@contoso.com",
                "displayName": "Contoso Admin", "@sim.admin": True},
    }
    users = {u["id"]: u for u in users.values()}
    app = SimApp(APP_ID, "ccsync", list(ROLES), [SECRET], [cert.cert_pem, expired.cert_pem])
    gov_app = SimApp(GOV_APP_ID, "ccsync gov", ["User.Read.All"], [GOV_SECRET], [])
    return FakeDirectory([
        FakeTenant(COMMERCIAL_TID, "commercial", "Contoso", ["contoso.onmicrosoft.com", "contoso.com"],
                   {APP_ID: app}, users),
        FakeTenant(GCC_TID, "gcc", "Contoso GCC", ["contosogcc.onmicrosoft.com"], {}, {}),
        FakeTenant(GCCH_TID, "gcch", "Fabrikam Gov", ["fabrikamgov.onmicrosoft.us"], {GOV_APP_ID: gov_app},
                   {"g-1": {"id": "0f0f0f0f-0000-4000-8000-0000000000aa", "userPrincipalName": "admin@fabrikam.us",
                            "displayName": "Fabrikam Admin"}}),
        FakeTenant(DOD_TID, "dod", "Tailspin DoD", ["tailspindod.onmicrosoft.us"], {}, {}),
        FakeTenant(CHINA_TID, "china", "Woodgrove CN", ["woodgrove.partner.onmschina.cn"], {}, {}),
    ])


def start_login_sim(tmp_dir: Path, **service_kwargs: Any) -> LoginSim:
    """Servers for commercial (discovery also for gcc, gcch, dod), gcc, gcch, dod and china, sharing one CA."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    ca = trustme.CA()
    ca_path = tmp_dir / "sim-ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    cert, stranger, expired = make_cert(), make_cert(), make_cert(days_valid=2, start_days_ago=10)
    directory = build_directory(cert, expired)
    servers: dict[str, LoginServer] = {}

    def peer(cloud: str) -> str | None:
        return servers[cloud].base_url if cloud in servers else None

    for cloud in ("commercial", "gcc", "gcch", "dod", "china"):
        discovery = ["commercial", "gcc", "gcch", "dod"] if cloud == "commercial" else None
        servers[cloud] = LoginServer(cloud, directory, context, discovery_clouds=discovery, peer_base_url=peer,
                                     **service_kwargs).start()
    return LoginSim(str(ca_path), directory, servers, cert, stranger, expired)


def stop_login_sim(sim: LoginSim) -> None:
    for server in sim.servers.values():
        server.stop()


def new_guid() -> str:
    return str(uuid.uuid4())
