"""The token endpoint's non-interactive grants: client credentials (a client secret or a certificate-signed
client assertion) and refresh tokens.

* ``POST /{tenant}/oauth2/v2.0/token``   grant_type client_credentials (secret or certificate assertion),
  refresh_token

Sources: entra-docs identity-platform/v2-oauth2-client-creds-grant-flow.md (requests, success and error bodies),
certificate-credentials.md (client assertion), v2-oauth2-auth-code-flow.md (refresh the access token),
reference-error-codes.md (AADSTS numbers and wording). Secrets are compared in constant time and never appear
in a response.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timezone
from typing import Callable

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from werkzeug import Request, Response

from .answers import LoginFailure
from .directory import SimApp, Tenant, client_id_of, find_app
from .discovery import Authority
from .scopes import app_only_resource, delegated_scopes
from .tokens import TokenMinter, b64url

__all__ = ["JWT_BEARER", "CredentialGrants"]

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
_ASSERTION_SKEW = 300  # seconds of clock skew tolerated on client assertions (Entra allows about 5 minutes)


class CredentialGrants:
    """Client-credentials and refresh-token grants of ``authority``'s cloud, answered with ``tokens``."""

    def __init__(self, authority: Authority, tokens: TokenMinter, clock: Callable[[], float]):
        self.authority = authority
        self.cloud = authority.cloud
        self.tokens = tokens
        self.clock = clock

    def client_credentials(self, request: Request, tenant: Tenant, segment: str) -> Response:
        client_id, basic_secret = client_id_of(request)
        app = find_app(tenant, client_id)
        form = request.form
        secret = form.get("client_secret") or basic_secret
        assertion = form.get("client_assertion")
        if secret:
            if not any(hmac.compare_digest(secret.encode("utf-8"), s.encode("utf-8")) for s in app.secrets):
                raise LoginFailure(401, "invalid_client", 7000215,
                                   f"Invalid client secret provided. Ensure the secret being sent in the request "
                                   f"is the client secret value, not the client secret ID, for a secret added to "
                                   f"app '{app.app_id}'.")
            acr = "1"
        elif assertion:
            self._check_assertion(request, tenant, app, segment, assertion)
            acr = "2"
        else:
            raise LoginFailure(401, "invalid_client", 7000218,
                               "The request body must contain the following parameter: 'client_assertion' or "
                               "'client_secret'.")
        resource = app_only_resource(self.cloud, tenant, form.get("scope"))
        return self.tokens.app_tokens(request, tenant, app, audience=resource, acr=acr)

    def refresh(self, request: Request, tenant: Tenant) -> Response:
        client_id, _ = client_id_of(request)
        token = request.form.get("refresh_token")
        if not token:
            raise LoginFailure(400, "invalid_request", 900144,
                               "The request body must contain the following parameter: 'refresh_token'.")
        grant = self.tokens.refresh_grant(token)
        if grant is None or grant.tenant_id != tenant.tenant_id or grant.client_id.lower() != client_id.lower():
            raise LoginFailure(400, "invalid_grant", 9002313,
                               "Invalid request. Request is malformed or invalid.")
        user = (tenant.users or {}).get(grant.user_id)
        if user is None:
            raise LoginFailure(400, "invalid_grant", 50173,
                               "The provided grant has expired due to it being revoked, a fresh auth token is "
                               "needed. The user might have changed or reset their password.")
        scopes = request.form.get("scope", "").split() or grant.scopes
        delegated_scopes(self.cloud, tenant, " ".join(scopes))
        app = find_app(tenant, grant.client_id)
        return self.tokens.user_tokens(request, tenant, app, user, scopes)

    def _check_assertion(self, request: Request, tenant: Tenant, app: SimApp, segment: str,
                         assertion: str) -> None:
        if request.form.get("client_assertion_type") != JWT_BEARER:
            raise LoginFailure(400, "invalid_request", 900144,
                               f"The request body must contain the following parameter: 'client_assertion_type' "
                               f"with the value '{JWT_BEARER}'.")
        try:
            header = jwt.get_unverified_header(assertion)
        except jwt.PyJWTError:
            raise LoginFailure(401, "invalid_client", 700027,
                               "Client assertion failed signature validation. [Reason - The client assertion is "
                               "not a well-formed JWT.]") from None
        # base64url with or without "=" padding: msal keeps the padding, RFC 7515 drops it.
        sha1_t, sha256_t = (str(header.get(k) or "").rstrip("=") or None for k in ("x5t", "x5t#S256"))
        used = self._thumbprint_hex(sha1_t or sha256_t)
        cert = None
        for pem in app.certificates:
            candidate = x509.load_pem_x509_certificate(pem if isinstance(pem, bytes) else pem.encode("ascii"))
            der = candidate.public_bytes(serialization.Encoding.DER)
            if (sha1_t and sha1_t == b64url(hashlib.sha1(der).digest())) or \
                    (sha256_t and sha256_t == b64url(hashlib.sha256(der).digest())):
                cert = candidate
                break
        if cert is None:
            raise LoginFailure(401, "invalid_client", 700027,
                               f"The certificate with identifier used to sign the client assertion is not "
                               f"registered on application. [Reason - The key was not found., Thumbprint of key "
                               f"used by client: '{used}', Please visit the Azure Portal, Graph Explorer or "
                               f"directly use MS Graph to see configured keys for app Id '{app.app_id}'.]")
        now = self.clock()
        if not (cert.not_valid_before_utc.timestamp() <= now <= cert.not_valid_after_utc.timestamp()):
            raise LoginFailure(401, "invalid_client", 700027,
                               f"Client assertion contains an invalid signature. [Reason - The key used is "
                               f"expired., Thumbprint of key used by client: '{used}', Found key "
                               f"'Start={cert.not_valid_before_utc:%m/%d/%Y %H:%M:%S}, "
                               f"End={cert.not_valid_after_utc:%m/%d/%Y %H:%M:%S}']")
        alg = header.get("alg")
        if alg not in ("RS256", "PS256"):
            raise LoginFailure(401, "invalid_client", 700027,
                               f"Client assertion failed signature validation. [Reason - Algorithm '{alg}' is not "
                               f"supported.]")
        base = self.authority.base_for(self.cloud)
        audiences = {f"{base}/{t}/oauth2/v2.0/token" for t in (tenant.tenant_id, segment)} | \
                    {f"{base}/{t}/oauth2/token" for t in (tenant.tenant_id, segment)}
        try:
            claims = jwt.decode(assertion, cert.public_key(), algorithms=[alg], audience=sorted(audiences),
                                options={"verify_exp": False, "verify_nbf": False, "verify_iat": False,
                                         "require": ["aud", "iss", "sub", "exp"]})
        except jwt.InvalidSignatureError:
            raise LoginFailure(401, "invalid_client", 700027,
                               f"Client assertion failed signature validation. [Reason - The provided signature "
                               f"value did not match the expected signature value., Thumbprint of key used by "
                               f"client: '{used}']") from None
        except jwt.InvalidAudienceError:
            raise LoginFailure(401, "invalid_client", 700027,
                               f"Client assertion audience claim does not match Realm issuer. Expected "
                               f"'{base}/{tenant.tenant_id}/oauth2/v2.0/token'.") from None
        except jwt.PyJWTError as exc:
            raise LoginFailure(401, "invalid_client", 700027,
                               f"Client assertion failed signature validation. [Reason - {exc}]") from None
        if claims["iss"] != claims["sub"]:
            raise LoginFailure(401, "invalid_client", 50048,
                               "Subject mismatches Issuer claim in the client assertion.")
        if str(claims["sub"]).lower() != app.app_id.lower():
            raise LoginFailure(400, "invalid_client", 700021,
                               "Client assertion application identifier doesn't match 'client_id' parameter.")
        exp, nbf = float(claims["exp"]), float(claims.get("nbf", 0))
        if now > exp + _ASSERTION_SKEW or now + _ASSERTION_SKEW < nbf:
            raise LoginFailure(400, "invalid_client", 700024,
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
