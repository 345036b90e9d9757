"""The simulated Microsoft identity platform (Entra ID token service) of one cloud.

It answers what msal and ccsync ask a real cloud's login host, with Entra's documented shapes:

* ``GET  /{tenant}/v2.0/.well-known/openid-configuration``  (Entra's discovery document, incl. region scopes)
* ``GET  /{tenant}/discovery/v2.0/keys``                   (the signing key, as a JWKS)
* ``GET  /common/discovery/instance``                       (msal instance discovery)
* ``POST /{tenant}/oauth2/v2.0/token``   client_credentials (secret or certificate assertion), device_code,
  refresh_token
* ``POST /{tenant}/oauth2/v2.0/devicecode``

Sources: entra-docs identity-platform/v2-oauth2-client-creds-grant-flow.md (requests, success and error bodies),
v2-oauth2-device-code.md (device flow and its errors), certificate-credentials.md (client assertion),
reference-error-codes.md (AADSTS numbers and wording), access-token-claims-reference.md (claims).
Where the docs are silent (exact wording of some descriptions, the v1 issuer per national cloud, the user-code
alphabet) the choice is said in a comment.

Access tokens are RS256 JWTs signed with one key per process (or the ``signing_key`` given), so the Graph side
of the simulator can check them with :func:`validate_access_token`. Secrets are compared in constant time and
never appear in a response.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import inspect
import json
import secrets as _secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Protocol

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from werkzeug import Request, Response

from ..clouds import CLOUDS, get_cloud

__all__ = [
    "SimApp", "TokenRejected", "SigningKey", "process_signing_key", "LoginService", "validate_access_token",
    "region_scopes", "GRAPH_APP_ID", "DEVICE_CODE_GRANT", "JWT_BEARER",
]

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"  # Microsoft Graph's well-known appId (same in every cloud)
DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
_OIDC_SCOPES = {"openid", "profile", "offline_access", "email"}
_META_TENANTS = {"common", "organizations", "consumers"}
_ASSERTION_SKEW = 300  # seconds of clock skew tolerated on client assertions (Entra allows about 5 minutes)


# --- data the simulator core hands us -------------------------------------------------------------------

@dataclass
class SimApp:
    """An app registration (with its service principal) in one simulated tenant.

    ``roles`` are the Graph application permissions granted with admin consent (they become the token's
    ``roles``, and the ``scp`` of device-code tokens); ``certificates`` are PEM certificates whose keys may sign
    client assertions.
    """

    app_id: str
    display_name: str = "ccsync"
    roles: list[str] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list, repr=False)
    certificates: list[bytes] = field(default_factory=list, repr=False)


class _Tenant(Protocol):  # what LoginService reads from the core's TenantState
    tenant_id: str
    cloud: str
    display_name: str
    domains: list[str]
    apps: dict[str, SimApp]
    users: dict[str, dict[str, Any]]


class _Directory(Protocol):
    def find_tenant(self, tenant_id_or_domain: str) -> _Tenant | None: ...


class TokenRejected(Exception):
    """Graph refuses a bearer token; the core answers 401 with ``{"error": {"code", "message"}}``."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


# --- per-cloud identity facts ---------------------------------------------------------------------------

@dataclass(frozen=True)
class _CloudIdentity:
    region_scope: str
    region_sub_scope: str | None
    cloud_instance_name: str
    cloud_graph_host_name: str       # the retired Azure AD Graph host, still listed in the document
    rbac_url: str
    v1_issuer: str                   # access-token "iss" pattern (v1 tokens, which Graph receives)
    device_login_uri: str


# GCC shares commercial Entra (sub-scope GCC); GCC High and DoD share Azure Government Entra and differ by
# sub-scope (DODCON / DOD). The per-cloud v1 issuers and device-login pages are not on one documentation page:
# sts.windows.net (global), login.microsoftonline.us (Azure Government), sts.chinacloudapi.cn (21Vianet).
_IDENTITY: dict[str, _CloudIdentity] = {
    "commercial": _CloudIdentity("NA", None, "microsoftonline.com", "graph.windows.net", "https://pas.windows.net",
                                 "https://sts.windows.net/{tid}/", "https://microsoft.com/devicelogin"),
    "gcc": _CloudIdentity("NA", "GCC", "microsoftonline.com", "graph.windows.net", "https://pas.windows.net",
                          "https://sts.windows.net/{tid}/", "https://microsoft.com/devicelogin"),
    "gcch": _CloudIdentity("USGov", "DODCON", "microsoftonline.us", "graph.windows.net",
                           "https://pasff.usgovcloudapi.net", "https://login.microsoftonline.us/{tid}/",
                           "https://microsoft.com/deviceloginus"),
    "dod": _CloudIdentity("USGov", "DOD", "microsoftonline.us", "graph.windows.net",
                          "https://pasff.usgovcloudapi.net", "https://login.microsoftonline.us/{tid}/",
                          "https://microsoft.com/deviceloginus"),
    "china": _CloudIdentity("AS", None, "partner.microsoftonline.cn", "graph.chinacloudapi.cn",
                            "https://pas.chinacloudapi.cn", "https://sts.chinacloudapi.cn/{tid}/",
                            "https://microsoft.com/deviceloginchina"),
}


def region_scopes(cloud: str) -> tuple[str, str | None]:
    """(tenant_region_scope, tenant_region_sub_scope) that Entra publishes for a tenant of ``cloud``."""
    ident = _IDENTITY[get_cloud(cloud).name]
    return ident.region_scope, ident.region_sub_scope


# --- signing key ----------------------------------------------------------------------------------------

def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class SigningKey:
    """The simulator's token-signing RSA key, with its key id and public JWK."""

    def __init__(self, private_key: rsa.RSAPrivateKey | None = None):
        self.private_key = private_key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.public_key = self.private_key.public_key()
        der = self.public_key.public_bytes(serialization.Encoding.DER,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
        self.kid = _b64url(hashlib.sha1(der).digest())  # Entra's kid has the shape of an x5t

    def __repr__(self) -> str:
        return f"SigningKey(kid={self.kid!r})"

    def jwk(self) -> dict[str, Any]:
        numbers = self.public_key.public_numbers()
        n = numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")
        e = numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")
        return {"kty": "RSA", "use": "sig", "kid": self.kid, "x5t": self.kid, "n": _b64url(n), "e": _b64url(e)}

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self.private_key, algorithm="RS256",
                          headers={"typ": "JWT", "kid": self.kid, "x5t": self.kid})


_process_key: SigningKey | None = None
_process_key_lock = threading.Lock()


def process_signing_key() -> SigningKey:
    """The key every LoginService of this process signs with unless given another (made on first use)."""
    global _process_key
    with _process_key_lock:
        if _process_key is None:
            _process_key = SigningKey()
        return _process_key


def _as_signing_key(key: SigningKey | rsa.RSAPrivateKey | None) -> SigningKey:
    if key is None:
        return process_signing_key()
    if isinstance(key, SigningKey):
        return key
    return SigningKey(key)


# --- access-token validation (the Graph side) -----------------------------------------------------------

def _graph_root(cloud: str) -> str:
    return get_cloud(cloud).graph_url


def validate_access_token(token: str, cloud: str, *, signing_key: SigningKey | rsa.RSAPrivateKey | None = None,
                          now: float | None = None) -> dict[str, Any]:
    """Check a bearer token the way ``cloud``'s Graph would and return its claims.

    Raises TokenRejected("InvalidAuthenticationToken", ...) for a malformed, forged, expired or not-yet-valid
    token, or one whose audience is another cloud's Graph (a token from one cloud is useless in another).
    The messages are the ones Graph gives for these cases.
    """
    key = _as_signing_key(signing_key)
    code = "InvalidAuthenticationToken"
    if not token or token.count(".") != 2:
        raise TokenRejected(code, "CompactToken parsing failed with error code: 80049217")
    try:
        claims = jwt.decode(token, key.public_key, algorithms=["RS256"],
                            options={"verify_aud": False, "verify_exp": False, "verify_nbf": False,
                                     "verify_iat": False})
    except jwt.InvalidSignatureError:
        raise TokenRejected(code, "Access token validation failure. Invalid signature.") from None
    except jwt.PyJWTError:
        raise TokenRejected(code, "CompactToken parsing failed with error code: 80049217") from None
    moment = time.time() if now is None else now
    try:
        exp, nbf = float(claims["exp"]), float(claims.get("nbf", 0))
    except (KeyError, TypeError, ValueError):
        raise TokenRejected(code, "Access token validation failure.") from None
    if moment >= exp or moment < nbf:
        raise TokenRejected(code, "Access token has expired or is not yet valid.")
    root = _graph_root(cloud)
    if str(claims.get("aud", "")).rstrip("/") not in (root, GRAPH_APP_ID):
        raise TokenRejected(code, "Access token validation failure. Invalid audience.")
    tid = str(claims.get("tid", ""))
    if claims.get("iss") != _IDENTITY[get_cloud(cloud).name].v1_issuer.format(tid=tid):
        raise TokenRejected(code, "Access token validation failure. Invalid issuer.")
    return claims


# --- the service ----------------------------------------------------------------------------------------

@dataclass
class _DeviceFlow:
    device_code: str
    user_code: str
    tenant_id: str
    client_id: str
    scopes: list[str]
    expires_at: float
    polls: int = 0
    state: str = "pending"           # pending | approved | declined | redeemed
    user_id: str | None = None


@dataclass
class _RefreshGrant:
    tenant_id: str
    client_id: str
    user_id: str
    scopes: list[str]


class _LoginFailure(Exception):
    """Internal: becomes an Entra error response."""

    def __init__(self, status: int, error: str, code: int, description: str):
        super().__init__(description)
        self.status, self.error, self.code, self.description = status, error, code, description


_USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ23456789"  # no vowels or look-alikes (docs are silent on the alphabet)


class LoginService:
    """The login side of one simulated cloud's server; mount it with :meth:`handle`.

    ``directory.find_tenant(id_or_domain)`` gives a tenant (``tenant_id, cloud, display_name, domains, apps,
    users``). ``base_url_getter()`` returns this server's base URL (``https://127.0.0.1:PORT``).
    ``discovery_clouds`` lists the clouds whose tenants this server's OpenID discovery answers for (default: its
    own cloud; the commercial server answers for commercial, gcc, gcch and dod, as the global authority does);
    tokens are only ever issued to tenants of ``cloud``. ``peer_base_url(cloud)`` gives the base URL of another
    cloud's simulated server, for discovery documents of that cloud's tenants (else the real login host).
    A device code is approved on its ``device_auto_approve_after + 1``-th poll (``None``: only by
    :meth:`approve_device_code`).
    """

    def __init__(self, cloud: str, directory: _Directory, base_url_getter: Callable[[], str],
                 signing_key: SigningKey | rsa.RSAPrivateKey | None = None,
                 discovery_clouds: Iterable[str] | None = None, device_auto_approve_after: int | None = 1, *,
                 peer_base_url: Callable[[str], str | None] | None = None, device_interval: int = 1,
                 device_code_lifetime: int = 900, token_lifetime: int = 3600,
                 clock: Callable[[], float] = time.time):
        self.cloud = get_cloud(cloud).name
        self.directory = directory
        self.base_url_getter = base_url_getter
        self.signing_key = _as_signing_key(signing_key)
        self.discovery_clouds = {get_cloud(c).name for c in (discovery_clouds or [self.cloud])}
        self.discovery_clouds.add(self.cloud)
        self.device_auto_approve_after = device_auto_approve_after
        self.peer_base_url = peer_base_url
        self.device_interval = device_interval
        self.device_code_lifetime = device_code_lifetime
        self.token_lifetime = token_lifetime
        self.clock = clock
        try:
            self._cloud_aware_lookup = "cloud" in inspect.signature(directory.find_tenant).parameters
        except (TypeError, ValueError):
            self._cloud_aware_lookup = False
        self._lock = threading.Lock()
        self._device_flows: dict[str, _DeviceFlow] = {}
        self._refresh_grants: dict[str, _RefreshGrant] = {}
        self.counters: dict[str, int] = {"token": 0, "devicecode": 0, "openid": 0, "issued": 0}

    def __repr__(self) -> str:
        return f"LoginService(cloud={self.cloud!r})"

    # -- routing --

    def handle(self, request: Request) -> Response | None:
        """Answer a login-side request, or return None when the path is not one of ours."""
        parts = [p for p in request.path.split("/") if p]
        if parts == ["common", "discovery", "instance"]:
            return self._only(request, "GET") or self._instance_discovery(request)
        if len(parts) == 4 and parts[1:] == ["v2.0", ".well-known", "openid-configuration"]:
            return self._only(request, "GET") or self._openid_configuration(request, parts[0])
        if len(parts) == 4 and parts[1:] == ["discovery", "v2.0", "keys"]:
            return self._only(request, "GET") or self._json(200, {"keys": [self.signing_key.jwk()]})
        if len(parts) == 4 and parts[1:3] == ["oauth2", "v2.0"] and parts[3] in ("token", "devicecode"):
            try:
                if request.method != "POST":
                    raise _LoginFailure(400, "invalid_request", 900561,
                                        f"The endpoint only accepts (POST, OPTIONS) requests. Received a "
                                        f"{request.method} request.")
                with self._lock:
                    self.counters["token" if parts[3] == "token" else "devicecode"] += 1
                if parts[3] == "token":
                    return self._token(request, parts[0])
                return self._devicecode(request, parts[0])
            except _LoginFailure as failure:
                return self._error(request, failure)
        return None

    def _only(self, request: Request, method: str) -> Response | None:
        if request.method == method or (method == "GET" and request.method == "HEAD"):
            return None
        return Response(status=405, headers={"Allow": method})

    # -- helpers --

    def _base_for(self, cloud: str) -> str:
        if cloud == self.cloud:
            return self.base_url_getter().rstrip("/")
        if self.peer_base_url:
            peer = self.peer_base_url(cloud)
            if peer:
                return peer.rstrip("/")
        return CLOUDS[cloud].login_url

    def _find(self, segment: str, clouds: set[str]) -> _Tenant | None:
        """The tenant a path segment names, if it belongs to one of ``clouds``."""
        for key in dict.fromkeys((segment, segment.lower())):
            tenant = self.directory.find_tenant(key)
            if tenant is not None and get_cloud(tenant.cloud).name in clouds:
                return tenant
            if self._cloud_aware_lookup:
                # The same domain can be verified in two Entra instances: ask per cloud this host serves.
                for cloud in sorted(clouds):
                    tenant = self.directory.find_tenant(key, cloud=cloud)
                    if tenant is not None and get_cloud(tenant.cloud).name == cloud:
                        return tenant
        return None

    def _json(self, status: int, body: dict[str, Any], request: Request | None = None) -> Response:
        headers = {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache",
                   "x-ms-request-id": str(uuid.uuid4()), "x-ms-ests-server": "ccsync-sim"}
        if request is not None and request.headers.get("client-request-id"):
            headers["client-request-id"] = request.headers["client-request-id"]
        return Response(json.dumps(body), status=status, headers=headers,
                        content_type="application/json; charset=utf-8")

    def _error(self, request: Request, failure: _LoginFailure) -> Response:
        # Entra's shape: error_description carries "AADSTSnnnn: ..." then trace id, correlation id and time.
        trace_id = str(uuid.uuid4())
        correlation_id = request.headers.get("client-request-id") or str(uuid.uuid4())
        stamp = datetime.fromtimestamp(self.clock(), timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
        description = (f"AADSTS{failure.code}: {failure.description}\r\nTrace ID: {trace_id}\r\n"
                       f"Correlation ID: {correlation_id}\r\nTimestamp: {stamp}")
        body = {"error": failure.error, "error_description": description, "error_codes": [failure.code],
                "timestamp": stamp, "trace_id": trace_id, "correlation_id": correlation_id,
                "error_uri": f"{CLOUDS[self.cloud].login_url}/error?code={failure.code}"}
        return self._json(failure.status, body, request)

    @staticmethod
    def _tenant_not_found(segment: str) -> _LoginFailure:
        return _LoginFailure(400, "invalid_request", 90002,
                             f"Tenant '{segment}' not found. Check to make sure you have the correct tenant ID and "
                             f"are signing into the correct cloud. Check with your subscription administrator, "
                             f"this may happen if there are no active subscriptions for the tenant.")

    # -- discovery --

    def _openid_configuration(self, request: Request, segment: str) -> Response:
        with self._lock:
            self.counters["openid"] += 1
        if segment.lower() in _META_TENANTS:
            return self._json(200, self._openid_document(self.cloud, segment.lower(), "{tenantid}", None), request)
        tenant = self._find(segment, self.discovery_clouds)
        if tenant is None:
            failure = self._tenant_not_found(segment)
            failure.error = "invalid_tenant"
            return self._error(request, failure)
        cloud = get_cloud(tenant.cloud).name
        return self._json(200, self._openid_document(cloud, tenant.tenant_id, tenant.tenant_id, cloud), request)

    def _openid_document(self, cloud: str, path_tenant: str, issuer_tenant: str,
                         region_cloud: str | None) -> dict[str, Any]:
        base = self._base_for(cloud)
        ident = _IDENTITY[cloud]
        graph_host = CLOUDS[cloud].graph_host
        doc: dict[str, Any] = {
            "token_endpoint": f"{base}/{path_tenant}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt",
                                                      "client_secret_basic"],
            "jwks_uri": f"{base}/{path_tenant}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": f"{base}/{issuer_tenant}/v2.0",
            "request_uri_parameter_supported": False,
            "userinfo_endpoint": f"https://{graph_host}/oidc/userinfo",
            "authorization_endpoint": f"{base}/{path_tenant}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{base}/{path_tenant}/oauth2/v2.0/devicecode",
            "http_logout_supported": True,
            "frontchannel_logout_supported": True,
            "end_session_endpoint": f"{base}/{path_tenant}/oauth2/v2.0/logout",
            "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name",
                                 "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr",
                                 "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash",
                                 "email"],
            "kerberos_endpoint": f"{base}/{path_tenant}/kerberos",
        }
        if region_cloud is not None:
            doc["tenant_region_scope"] = ident.region_scope
            if ident.region_sub_scope:
                doc["tenant_region_sub_scope"] = ident.region_sub_scope
        else:
            doc["tenant_region_scope"] = None
        doc.update({"cloud_instance_name": ident.cloud_instance_name,
                    "cloud_graph_host_name": ident.cloud_graph_host_name,
                    "msgraph_host": graph_host,
                    "rbac_url": ident.rbac_url})
        return doc

    def _instance_discovery(self, request: Request) -> Response:
        base = self._base_for(self.cloud)
        host = base.split("://", 1)[-1]
        endpoint = request.args.get("authorization_endpoint", "")
        if not endpoint.startswith(base + "/"):
            return self._error(request, _LoginFailure(400, "invalid_instance", 50049,
                                                      "Unknown or invalid instance."))
        tenant = endpoint[len(base) + 1:].split("/", 1)[0]
        return self._json(200, {
            "tenant_discovery_endpoint": f"{base}/{tenant}/v2.0/.well-known/openid-configuration",
            "api-version": "1.1",
            "metadata": [{"preferred_network": host, "preferred_cache": host, "aliases": [host]}],
        }, request)

    # -- token endpoint --

    def _client_id(self, request: Request) -> tuple[str, str | None]:
        """client_id and a client_secret from HTTP Basic (client_secret_basic), if used."""
        auth = request.authorization
        basic_id = basic_secret = None
        if auth is not None and auth.type == "basic":
            basic_id, basic_secret = auth.username, auth.password
        client_id = (request.form.get("client_id") or basic_id or "").strip()
        return client_id, basic_secret

    def _app(self, tenant: _Tenant, client_id: str) -> SimApp:
        if not client_id:
            raise _LoginFailure(400, "invalid_request", 900144,
                                "The request body must contain the following parameter: 'client_id'.")
        wanted = client_id.lower()
        for key, app in tenant.apps.items():
            if key.lower() == wanted or app.app_id.lower() == wanted:
                return app
        raise _LoginFailure(400, "unauthorized_client", 700016,
                            f"Application with identifier '{client_id}' was not found in the directory "
                            f"'{tenant.display_name}'. This can happen if the application has not been installed "
                            f"by the administrator of the tenant or consented to by any user in the tenant. You "
                            f"may have sent your authentication request to the wrong tenant.")

    def _token(self, request: Request, segment: str) -> Response:
        grant = (request.form.get("grant_type") or "").strip()
        if segment.lower() in _META_TENANTS:
            if grant == "client_credentials":
                raise _LoginFailure(400, "invalid_request", 50059,
                                    "No tenant-identifying information found in either the request or implied by "
                                    "any provided credentials.")
            raise _LoginFailure(400, "invalid_request", 9001023,
                                "The grant type isn't supported over the /common or /consumers endpoints. Please "
                                "use the /organizations or tenant-specific endpoint.")
        tenant = self._find(segment, {self.cloud})
        if tenant is None:
            raise self._tenant_not_found(segment)
        if not grant:
            raise _LoginFailure(400, "invalid_request", 900144,
                                "The request body must contain the following parameter: 'grant_type'.")
        if grant == "client_credentials":
            return self._client_credentials(request, tenant, segment)
        if grant == DEVICE_CODE_GRANT:
            return self._device_code_grant(request, tenant)
        if grant == "refresh_token":
            return self._refresh_grant(request, tenant)
        raise _LoginFailure(400, "unsupported_grant_type", 70003,
                            f"The app requested an unsupported grant type '{grant}'.")

    def _client_credentials(self, request: Request, tenant: _Tenant, segment: str) -> Response:
        client_id, basic_secret = self._client_id(request)
        app = self._app(tenant, client_id)
        form = request.form
        secret = form.get("client_secret") or basic_secret
        assertion = form.get("client_assertion")
        if secret:
            if not any(hmac.compare_digest(secret.encode("utf-8"), s.encode("utf-8")) for s in app.secrets):
                raise _LoginFailure(401, "invalid_client", 7000215,
                                    f"Invalid client secret provided. Ensure the secret being sent in the request "
                                    f"is the client secret value, not the client secret ID, for a secret added to "
                                    f"app '{app.app_id}'.")
            acr = "1"
        elif assertion:
            self._check_assertion(request, tenant, app, segment, assertion)
            acr = "2"
        else:
            raise _LoginFailure(401, "invalid_client", 7000218,
                                "The request body must contain the following parameter: 'client_assertion' or "
                                "'client_secret'.")
        resource = self._app_only_resource(tenant, form.get("scope"))
        token = self._access_token(tenant, app, audience=resource, acr=acr)
        return self._json(200, {"token_type": "Bearer", "expires_in": self.token_lifetime - 1,
                                "ext_expires_in": self.token_lifetime - 1, "access_token": token}, request)

    def _resource_of(self, tenant: _Tenant, scope: str) -> str:
        """The resource a scope names, refused with AADSTS500011 unless it is this cloud's Graph."""
        resource, sep, _ = scope.rpartition("/")
        if not sep:  # a bare permission such as "User.Read" means Graph
            return _graph_root(self.cloud)
        resource = resource.rstrip("/")
        if resource.lower() in (_graph_root(self.cloud).lower(), GRAPH_APP_ID):
            return _graph_root(self.cloud)
        raise _LoginFailure(400, "invalid_resource", 500011,
                            f"The resource principal named {resource} was not found in the tenant named "
                            f"{tenant.display_name}. This can happen if the application has not been installed by "
                            f"the administrator of the tenant or consented to by any user in the tenant. You might "
                            f"have sent your authentication request to the wrong tenant.")

    def _app_only_resource(self, tenant: _Tenant, scope: str | None) -> str:
        if not scope or not scope.strip():
            raise _LoginFailure(400, "invalid_request", 900144,
                                "The request body must contain the following parameter: 'scope'.")
        wanted = [s for s in scope.split() if s.lower() not in _OIDC_SCOPES]
        if not wanted:
            raise _LoginFailure(400, "invalid_scope", 700023,
                                "The provided value for the input parameter scope is not valid when requesting an "
                                "access token.")
        if len(wanted) > 1:
            raise _LoginFailure(400, "invalid_scope", 700022,
                                "The provided value for the input parameter scope is not valid because it contains "
                                "more than one resource. Scope " + " ".join(wanted) + " is not valid.")
        if not wanted[0].endswith("/.default"):
            raise _LoginFailure(400, "invalid_scope", 1002012,
                                f"The provided value for scope {wanted[0]} is not valid. Client credential flows "
                                f"must have a scope value with /.default suffixed to the resource identifier "
                                f"(application ID URI).")
        return self._resource_of(tenant, wanted[0])

    def _check_assertion(self, request: Request, tenant: _Tenant, app: SimApp, segment: str,
                         assertion: str) -> None:
        if request.form.get("client_assertion_type") != JWT_BEARER:
            raise _LoginFailure(400, "invalid_request", 900144,
                                f"The request body must contain the following parameter: 'client_assertion_type' "
                                f"with the value '{JWT_BEARER}'.")
        try:
            header = jwt.get_unverified_header(assertion)
        except jwt.PyJWTError:
            raise _LoginFailure(401, "invalid_client", 700027,
                                "Client assertion failed signature validation. [Reason - The client assertion is "
                                "not a well-formed JWT.]") from None
        # base64url with or without "=" padding: msal keeps the padding, RFC 7515 drops it.
        sha1_t, sha256_t = (str(header.get(k) or "").rstrip("=") or None for k in ("x5t", "x5t#S256"))
        used = self._thumbprint_hex(sha1_t or sha256_t)
        cert = None
        for pem in app.certificates:
            candidate = x509.load_pem_x509_certificate(pem if isinstance(pem, bytes) else pem.encode("ascii"))
            der = candidate.public_bytes(serialization.Encoding.DER)
            if (sha1_t and sha1_t == _b64url(hashlib.sha1(der).digest())) or \
                    (sha256_t and sha256_t == _b64url(hashlib.sha256(der).digest())):
                cert = candidate
                break
        if cert is None:
            raise _LoginFailure(401, "invalid_client", 700027,
                                f"The certificate with identifier used to sign the client assertion is not "
                                f"registered on application. [Reason - The key was not found., Thumbprint of key "
                                f"used by client: '{used}', Please visit the Azure Portal, Graph Explorer or "
                                f"directly use MS Graph to see configured keys for app Id '{app.app_id}'.]")
        now = self.clock()
        if not (cert.not_valid_before_utc.timestamp() <= now <= cert.not_valid_after_utc.timestamp()):
            raise _LoginFailure(401, "invalid_client", 700027,
                                f"Client assertion contains an invalid signature. [Reason - The key used is "
                                f"expired., Thumbprint of key used by client: '{used}', Found key "
                                f"'Start={cert.not_valid_before_utc:%m/%d/%Y %H:%M:%S}, "
                                f"End={cert.not_valid_after_utc:%m/%d/%Y %H:%M:%S}']")
        alg = header.get("alg")
        if alg not in ("RS256", "PS256"):
            raise _LoginFailure(401, "invalid_client", 700027,
                                f"Client assertion failed signature validation. [Reason - Algorithm '{alg}' is not "
                                f"supported.]")
        base = self._base_for(self.cloud)
        audiences = {f"{base}/{t}/oauth2/v2.0/token" for t in (tenant.tenant_id, segment)} | \
                    {f"{base}/{t}/oauth2/token" for t in (tenant.tenant_id, segment)}
        try:
            claims = jwt.decode(assertion, cert.public_key(), algorithms=[alg], audience=sorted(audiences),
                                options={"verify_exp": False, "verify_nbf": False, "verify_iat": False,
                                         "require": ["aud", "iss", "sub", "exp"]})
        except jwt.InvalidSignatureError:
            raise _LoginFailure(401, "invalid_client", 700027,
                                f"Client assertion failed signature validation. [Reason - The provided signature "
                                f"value did not match the expected signature value., Thumbprint of key used by "
                                f"client: '{used}']") from None
        except jwt.InvalidAudienceError:
            raise _LoginFailure(401, "invalid_client", 700027,
                                f"Client assertion audience claim does not match Realm issuer. Expected "
                                f"'{base}/{tenant.tenant_id}/oauth2/v2.0/token'.") from None
        except jwt.PyJWTError as exc:
            raise _LoginFailure(401, "invalid_client", 700027,
                                f"Client assertion failed signature validation. [Reason - {exc}]") from None
        if claims["iss"] != claims["sub"]:
            raise _LoginFailure(401, "invalid_client", 50048,
                                "Subject mismatches Issuer claim in the client assertion.")
        if str(claims["sub"]).lower() != app.app_id.lower():
            raise _LoginFailure(400, "invalid_client", 700021,
                                "Client assertion application identifier doesn't match 'client_id' parameter.")
        exp, nbf = float(claims["exp"]), float(claims.get("nbf", 0))
        if now > exp + _ASSERTION_SKEW or now + _ASSERTION_SKEW < nbf:
            raise _LoginFailure(400, "invalid_client", 700024,
                                f"Client assertion is not within its valid time range. Current time: "
                                f"{datetime.fromtimestamp(now, timezone.utc):%Y-%m-%dT%H:%M:%S.0000000Z}, "
                                f"expiry time of assertion "
                                f"{datetime.fromtimestamp(exp, timezone.utc):%Y-%m-%dT%H:%M:%S.0000000Z}.")

    @staticmethod
    def _thumbprint_hex(b64: str | None) -> str:
        if not b64:
            return ""
        try:
            return base64.urlsafe_b64decode(b64 + "=" * (-len(b64) % 4)).hex().upper()
        except (ValueError, TypeError):
            return b64

    # -- device code --

    def _delegated_scopes(self, tenant: _Tenant, scope: str | None) -> list[str]:
        if not scope or not scope.strip():
            raise _LoginFailure(400, "invalid_request", 900144,
                                "The request body must contain the following parameter: 'scope'.")
        scopes = scope.split()
        for s in scopes:
            if s.lower() not in _OIDC_SCOPES:
                self._resource_of(tenant, s)
        return scopes

    def _devicecode(self, request: Request, segment: str) -> Response:
        if segment.lower() in _META_TENANTS:
            raise _LoginFailure(400, "invalid_request", 50059,
                                "No tenant-identifying information found in either the request or implied by any "
                                "provided credentials.")
        tenant = self._find(segment, {self.cloud})
        if tenant is None:
            raise self._tenant_not_found(segment)
        client_id, _ = self._client_id(request)
        app = self._app(tenant, client_id)
        scopes = self._delegated_scopes(tenant, request.form.get("scope"))
        device_code = _secrets.token_urlsafe(48)
        user_code = "".join(_secrets.choice(_USER_CODE_ALPHABET) for _ in range(9))
        flow = _DeviceFlow(device_code, user_code, tenant.tenant_id, app.app_id, scopes,
                           self.clock() + self.device_code_lifetime)
        with self._lock:
            self._device_flows[device_code] = flow
        uri = _IDENTITY[self.cloud].device_login_uri
        return self._json(200, {
            "user_code": user_code, "device_code": device_code, "verification_uri": uri,
            "expires_in": self.device_code_lifetime, "interval": self.device_interval,
            "message": f"To sign in, use a web browser to open the page {uri} and enter the code {user_code} "
                       f"to authenticate.",
        }, request)

    def approve_device_code(self, user_code: str, user_id: str | None = None) -> None:
        """Act as the admin completing the sign-in for ``user_code`` (tests; default user: the tenant's admin)."""
        self._settle_device_code(user_code, "approved", user_id)

    def decline_device_code(self, user_code: str) -> None:
        """Act as the admin refusing the sign-in for ``user_code``."""
        self._settle_device_code(user_code, "declined", None)

    def _settle_device_code(self, user_code: str, state: str, user_id: str | None) -> None:
        with self._lock:
            for flow in self._device_flows.values():
                if flow.user_code == user_code.upper() and flow.state == "pending":
                    flow.state, flow.user_id = state, user_id
                    return
        raise KeyError(f"No pending device code with user code {user_code!r}.")

    def pending_user_codes(self) -> list[str]:
        """User codes still waiting for an admin (tests)."""
        with self._lock:
            return [f.user_code for f in self._device_flows.values() if f.state == "pending"]

    @staticmethod
    def _admin_user(tenant: _Tenant, user_id: str | None) -> dict[str, Any] | None:
        users = tenant.users or {}
        if user_id is not None:
            return users.get(user_id)
        for user in users.values():
            if user.get("@sim.admin") is True:
                return user
        return next(iter(users.values()), None)

    def _device_code_grant(self, request: Request, tenant: _Tenant) -> Response:
        client_id, _ = self._client_id(request)
        device_code = request.form.get("device_code")
        if not device_code:
            raise _LoginFailure(400, "invalid_request", 900144,
                                "The request body must contain the following parameter: 'device_code'.")
        with self._lock:
            flow = self._device_flows.get(device_code)
            if flow is None or flow.tenant_id != tenant.tenant_id or \
                    flow.client_id.lower() != client_id.lower() or flow.state == "redeemed":
                raise _LoginFailure(400, "bad_verification_code", 70018,
                                    "Invalid verification code due to User typing in wrong user code for device "
                                    "code flow. The device_code sent to the /token endpoint wasn't recognized.")
            if self.clock() > flow.expires_at:
                raise _LoginFailure(400, "expired_token", 70019,
                                    "Verification code expired. Have the user retry the sign-in.")
            flow.polls += 1
            if flow.state == "pending" and self.device_auto_approve_after is not None and \
                    flow.polls > self.device_auto_approve_after:
                flow.state = "approved"
            if flow.state == "declined":
                raise _LoginFailure(400, "authorization_declined", 65004,
                                    "User declined to consent to access the app.")
            if flow.state == "pending":
                raise _LoginFailure(400, "authorization_pending", 70016,
                                    "OAuth 2.0 device flow error. Authorization is pending. Continue polling.")
            flow.state = "redeemed"
        user = self._admin_user(tenant, flow.user_id)
        if user is None:
            raise _LoginFailure(400, "authorization_declined", 50034,
                                f"The user account does not exist in the '{tenant.display_name}' directory.")
        app = self._app(tenant, flow.client_id)
        return self._user_tokens(request, tenant, app, user, flow.scopes)

    def _refresh_grant(self, request: Request, tenant: _Tenant) -> Response:
        client_id, _ = self._client_id(request)
        token = request.form.get("refresh_token")
        if not token:
            raise _LoginFailure(400, "invalid_request", 900144,
                                "The request body must contain the following parameter: 'refresh_token'.")
        with self._lock:
            grant = self._refresh_grants.get(token)
        if grant is None or grant.tenant_id != tenant.tenant_id or grant.client_id.lower() != client_id.lower():
            raise _LoginFailure(400, "invalid_grant", 9002313,
                                "Invalid request. Request is malformed or invalid.")
        user = (tenant.users or {}).get(grant.user_id)
        if user is None:
            raise _LoginFailure(400, "invalid_grant", 50173,
                                "The provided grant has expired due to it being revoked, a fresh auth token is "
                                "needed. The user might have changed or reset their password.")
        scopes = request.form.get("scope", "").split() or grant.scopes
        self._delegated_scopes(tenant, " ".join(scopes))
        app = self._app(tenant, grant.client_id)
        return self._user_tokens(request, tenant, app, user, scopes)

    def _user_tokens(self, request: Request, tenant: _Tenant, app: SimApp, user: dict[str, Any],
                     scopes: list[str]) -> Response:
        root = _graph_root(self.cloud)
        # Delegated permissions: the simulator grants the app's consented permissions to the admin.
        scp = sorted(set(app.roles))
        user_id = str(user.get("id"))
        upn = user.get("userPrincipalName")
        access = self._access_token(tenant, app, audience=root, acr="0", user=user, scp=scp)
        granted = [f"{root}/{p}" for p in scp] + [s for s in scopes if s.lower() not in _OIDC_SCOPES]
        granted += [s for s in scopes if s.lower() in _OIDC_SCOPES]
        body: dict[str, Any] = {"token_type": "Bearer", "scope": " ".join(dict.fromkeys(granted)),
                                "expires_in": self.token_lifetime - 1, "ext_expires_in": self.token_lifetime - 1,
                                "access_token": access}
        lowered = {s.lower() for s in scopes}
        if "offline_access" in lowered:
            refresh = _secrets.token_urlsafe(64)
            with self._lock:
                self._refresh_grants[refresh] = _RefreshGrant(tenant.tenant_id, app.app_id, user_id, scopes)
            body["refresh_token"] = refresh
        if "openid" in lowered:
            now = int(self.clock())
            base = self._base_for(self.cloud)
            body["id_token"] = self.signing_key.sign({
                "aud": app.app_id, "iss": f"{base}/{tenant.tenant_id}/v2.0", "iat": now, "nbf": now,
                "exp": now + self.token_lifetime, "name": user.get("displayName"), "oid": user_id,
                "preferred_username": upn, "sub": _b64url(hashlib.sha256(f"{user_id}{app.app_id}".encode()).digest()),
                "tid": tenant.tenant_id, "ver": "2.0"})
        if request.form.get("client_info") == "1":
            body["client_info"] = _b64url(json.dumps({"uid": user_id, "utid": tenant.tenant_id}).encode())
        return self._json(200, body, request)

    def _access_token(self, tenant: _Tenant, app: SimApp, *, audience: str, acr: str,
                      user: dict[str, Any] | None = None, scp: list[str] | None = None) -> str:
        now = int(self.clock())
        tid = tenant.tenant_id
        issuer = _IDENTITY[self.cloud].v1_issuer.format(tid=tid)
        region_scope, _ = region_scopes(self.cloud)
        claims: dict[str, Any] = {
            "aud": audience, "iss": issuer, "iat": now, "nbf": now, "exp": now + self.token_lifetime,
            "app_displayname": app.display_name, "appid": app.app_id, "appidacr": acr, "idp": issuer,
            "tenant_region_scope": region_scope, "tid": tid, "uti": _b64url(uuid.uuid4().bytes), "ver": "1.0",
        }
        if user is None:
            sp_id = str(uuid.uuid5(uuid.UUID(tid), app.app_id))  # a stable service-principal object id
            claims.update({"idtyp": "app", "oid": sp_id, "sub": sp_id, "roles": sorted(set(app.roles))})
        else:
            claims.update({"idtyp": "user", "oid": str(user.get("id")), "sub": str(user.get("id")),
                           "scp": " ".join(scp or []), "upn": user.get("userPrincipalName"),
                           "unique_name": user.get("userPrincipalName"), "name": user.get("displayName"),
                           "amr": ["pwd", "mfa"]})
        with self._lock:
            self.counters["issued"] += 1
        return self.signing_key.sign(claims)

    def validate_access_token(self, token: str) -> dict[str, Any]:
        """:func:`validate_access_token` for this service's cloud, key and clock."""
        return validate_access_token(token, self.cloud, signing_key=self.signing_key, now=self.clock())
