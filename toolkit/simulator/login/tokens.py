"""The tokens the simulated login mints and the Graph side checks: the signing key (served as a JWKS), access
tokens and their claims, id tokens, refresh tokens, and bearer-token validation.

* ``GET  /{tenant}/discovery/v2.0/keys``                   (the signing key, as a JWKS)

Access tokens are v1 RS256 JWTs (what Graph receives) signed with one key per process (or the ``signing_key``
given), so the Graph side of the simulator can check them with :func:`validate_access_token`. Sources:
entra-docs identity-platform/access-token-claims-reference.md (claims), v2-oauth2-client-creds-grant-flow.md
and v2-oauth2-device-code.md (successful token responses), id-token-claims-reference.md (id token claims).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets as _secrets
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from werkzeug import Request, Response

from .answers import json_response
from .directory import SimApp, Tenant
from .discovery import Authority, cloud_identity, region_scopes
from .scopes import GRAPH_APP_ID, OIDC_SCOPES, graph_root

__all__ = ["TokenRejected", "SigningKey", "process_signing_key", "as_signing_key", "validate_access_token",
           "RefreshGrant", "TokenMinter", "b64url"]


class TokenRejected(Exception):
    """Graph refuses a bearer token; the core answers 401 with ``{"error": {"code", "message"}}``."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


# --- signing key ----------------------------------------------------------------------------------------

def b64url(data: bytes) -> str:
    """base64url without padding (JOSE, RFC 7515)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class SigningKey:
    """The simulator's token-signing RSA key, with its key id and public JWK."""

    def __init__(self, private_key: rsa.RSAPrivateKey | None = None):
        self.private_key = private_key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.public_key = self.private_key.public_key()
        der = self.public_key.public_bytes(serialization.Encoding.DER,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
        self.kid = b64url(hashlib.sha1(der).digest())  # Entra's kid has the shape of an x5t

    def __repr__(self) -> str:
        return f"SigningKey(kid={self.kid!r})"

    def jwk(self) -> dict[str, Any]:
        numbers = self.public_key.public_numbers()
        n = numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")
        e = numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")
        return {"kty": "RSA", "use": "sig", "kid": self.kid, "x5t": self.kid, "n": b64url(n), "e": b64url(e)}

    def jwks(self) -> dict[str, Any]:
        """The body of ``/{tenant}/discovery/v2.0/keys``."""
        return {"keys": [self.jwk()]}

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


def as_signing_key(key: SigningKey | rsa.RSAPrivateKey | None) -> SigningKey:
    if key is None:
        return process_signing_key()
    if isinstance(key, SigningKey):
        return key
    return SigningKey(key)


# --- access-token validation (the Graph side) -----------------------------------------------------------

def validate_access_token(token: str, cloud: str, *, signing_key: SigningKey | rsa.RSAPrivateKey | None = None,
                          now: float | None = None) -> dict[str, Any]:
    """Check a bearer token the way ``cloud``'s Graph would and return its claims.

    Raises TokenRejected("InvalidAuthenticationToken", ...) for a malformed, forged, expired or not-yet-valid
    token, or one whose audience is another cloud's Graph (a token from one cloud is useless in another).
    The messages are the ones Graph gives for these cases.
    """
    key = as_signing_key(signing_key)
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
    root = graph_root(cloud)
    if str(claims.get("aud", "")).rstrip("/") not in (root, GRAPH_APP_ID):
        raise TokenRejected(code, "Access token validation failure. Invalid audience.")
    tid = str(claims.get("tid", ""))
    if claims.get("iss") != cloud_identity(cloud).v1_issuer.format(tid=tid):
        raise TokenRejected(code, "Access token validation failure. Invalid issuer.")
    return claims


# --- minting --------------------------------------------------------------------------------------------

@dataclass
class RefreshGrant:
    """What a refresh token stands for: a user's delegated sign-in to one app in one tenant."""

    tenant_id: str
    client_id: str
    user_id: str
    scopes: list[str]


class TokenMinter:
    """Mints the tokens of ``authority``'s cloud with ``signing_key``, valid ``token_lifetime`` seconds.

    It keeps the refresh tokens it has issued (:meth:`refresh_grant` looks one up) and calls ``on_issued``
    for each access token.
    """

    def __init__(self, authority: Authority, signing_key: SigningKey, clock: Callable[[], float],
                 token_lifetime: int = 3600, on_issued: Callable[[], None] | None = None):
        self.authority = authority
        self.cloud = authority.cloud
        self.signing_key = signing_key
        self.clock = clock
        self.token_lifetime = token_lifetime
        self.on_issued = on_issued
        self._lock = threading.Lock()
        self._refresh_grants: dict[str, RefreshGrant] = {}

    def refresh_grant(self, token: str) -> RefreshGrant | None:
        """The grant a refresh token this minter issued stands for (None for an unknown token)."""
        with self._lock:
            return self._refresh_grants.get(token)

    def app_tokens(self, request: Request, tenant: Tenant, app: SimApp, *, audience: str, acr: str) -> Response:
        """The client-credentials answer: an app-only access token for ``audience``."""
        token = self.access_token(tenant, app, audience=audience, acr=acr)
        return json_response(200, {"token_type": "Bearer", "expires_in": self.token_lifetime - 1,
                                   "ext_expires_in": self.token_lifetime - 1, "access_token": token}, request)

    def user_tokens(self, request: Request, tenant: Tenant, app: SimApp, user: dict[str, Any],
                    scopes: list[str]) -> Response:
        """The answer of a delegated grant: access token, plus refresh and id tokens when the scopes ask."""
        root = graph_root(self.cloud)
        # Delegated permissions: the simulator grants the app's consented permissions to the admin.
        scp = sorted(set(app.roles))
        user_id = str(user.get("id"))
        upn = user.get("userPrincipalName")
        access = self.access_token(tenant, app, audience=root, acr="0", user=user, scp=scp)
        granted = [f"{root}/{p}" for p in scp] + [s for s in scopes if s.lower() not in OIDC_SCOPES]
        granted += [s for s in scopes if s.lower() in OIDC_SCOPES]
        body: dict[str, Any] = {"token_type": "Bearer", "scope": " ".join(dict.fromkeys(granted)),
                                "expires_in": self.token_lifetime - 1, "ext_expires_in": self.token_lifetime - 1,
                                "access_token": access}
        lowered = {s.lower() for s in scopes}
        if "offline_access" in lowered:
            refresh = _secrets.token_urlsafe(64)
            with self._lock:
                self._refresh_grants[refresh] = RefreshGrant(tenant.tenant_id, app.app_id, user_id, scopes)
            body["refresh_token"] = refresh
        if "openid" in lowered:
            now = int(self.clock())
            base = self.authority.base_for(self.cloud)
            body["id_token"] = self.signing_key.sign({
                "aud": app.app_id, "iss": f"{base}/{tenant.tenant_id}/v2.0", "iat": now, "nbf": now,
                "exp": now + self.token_lifetime, "name": user.get("displayName"), "oid": user_id,
                "preferred_username": upn, "sub": b64url(hashlib.sha256(f"{user_id}{app.app_id}".encode()).digest()),
                "tid": tenant.tenant_id, "ver": "2.0"})
        if request.form.get("client_info") == "1":
            body["client_info"] = b64url(json.dumps({"uid": user_id, "utid": tenant.tenant_id}).encode())
        return json_response(200, body, request)

    def access_token(self, tenant: Tenant, app: SimApp, *, audience: str, acr: str,
                     user: dict[str, Any] | None = None, scp: list[str] | None = None) -> str:
        """A v1 access token: app-only (``roles``) without ``user``, delegated (``scp``) with one."""
        now = int(self.clock())
        tid = tenant.tenant_id
        issuer = cloud_identity(self.cloud).v1_issuer.format(tid=tid)
        region_scope, _ = region_scopes(self.cloud)
        claims: dict[str, Any] = {
            "aud": audience, "iss": issuer, "iat": now, "nbf": now, "exp": now + self.token_lifetime,
            "app_displayname": app.display_name, "appid": app.app_id, "appidacr": acr, "idp": issuer,
            "tenant_region_scope": region_scope, "tid": tid, "uti": b64url(uuid.uuid4().bytes), "ver": "1.0",
        }
        if user is None:
            sp_id = str(uuid.uuid5(uuid.UUID(tid), app.app_id))  # a stable service-principal object id
            claims.update({"idtyp": "app", "oid": sp_id, "sub": sp_id, "roles": sorted(set(app.roles))})
        else:
            claims.update({"idtyp": "user", "oid": str(user.get("id")), "sub": str(user.get("id")),
                           "scp": " ".join(scp or []), "upn": user.get("userPrincipalName"),
                           "unique_name": user.get("userPrincipalName"), "name": user.get("displayName"),
                           "amr": ["pwd", "mfa"]})
        if self.on_issued is not None:
            self.on_issued()
        return self.signing_key.sign(claims)
