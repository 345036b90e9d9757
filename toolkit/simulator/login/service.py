"""``LoginService``: the login host of one simulated cloud, put together from its parts and routed.

It owns the routes (which path and method reach which part), the token endpoint's choice of grant, the request
counters, and the hooks tests use to act as the admin of a device-code sign-in. What each route answers lives in
the parts: ``discovery`` (OpenID configuration, instance discovery), ``tokens`` (signing keys, minting,
validation), ``grants`` (client credentials, refresh) and ``devicecode``.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, Iterable

from cryptography.hazmat.primitives.asymmetric import rsa
from werkzeug import Request, Response

from .answers import LoginFailure, error_response, json_response
from .devicecode import DEVICE_CODE_GRANT, DeviceCodes
from .directory import Directory
from .discovery import META_TENANTS, Authority
from .grants import CredentialGrants
from .tokens import SigningKey, TokenMinter, as_signing_key, validate_access_token

__all__ = ["LoginService"]


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

    def __init__(self, cloud: str, directory: Directory, base_url_getter: Callable[[], str],
                 signing_key: SigningKey | rsa.RSAPrivateKey | None = None,
                 discovery_clouds: Iterable[str] | None = None, device_auto_approve_after: int | None = 1, *,
                 peer_base_url: Callable[[str], str | None] | None = None, device_interval: int = 1,
                 device_code_lifetime: int = 900, token_lifetime: int = 3600,
                 clock: Callable[[], float] = time.time):
        self.authority = Authority(cloud, directory, base_url_getter, discovery_clouds, peer_base_url)
        self.cloud = self.authority.cloud
        self.directory = directory
        self.signing_key = as_signing_key(signing_key)
        self.clock = clock
        self._lock = threading.Lock()
        self.counters: dict[str, int] = {"token": 0, "devicecode": 0, "openid": 0, "issued": 0}
        self.tokens = TokenMinter(self.authority, self.signing_key, clock, token_lifetime,
                                  on_issued=lambda: self._count("issued"))
        self.grants = CredentialGrants(self.authority, self.tokens, clock)
        self.device_codes = DeviceCodes(self.authority, self.tokens, clock,
                                        auto_approve_after=device_auto_approve_after, interval=device_interval,
                                        lifetime=device_code_lifetime)

    def __repr__(self) -> str:
        return f"LoginService(cloud={self.cloud!r})"

    def _count(self, name: str) -> None:
        with self._lock:
            self.counters[name] += 1

    # -- routing --

    def handle(self, request: Request) -> Response | None:
        """Answer a login-side request, or return None when the path is not one of ours."""
        parts = [p for p in request.path.split("/") if p]
        try:
            if parts == ["common", "discovery", "instance"]:
                return self._only(request, "GET") or \
                    json_response(200, self.authority.instance_discovery(request), request)
            if len(parts) == 4 and parts[1:] == ["v2.0", ".well-known", "openid-configuration"]:
                return self._only(request, "GET") or self._openid_configuration(request, parts[0])
            if len(parts) == 4 and parts[1:] == ["discovery", "v2.0", "keys"]:
                return self._only(request, "GET") or json_response(200, self.signing_key.jwks())
            if len(parts) == 4 and parts[1:3] == ["oauth2", "v2.0"] and parts[3] in ("token", "devicecode"):
                if request.method != "POST":
                    raise LoginFailure(400, "invalid_request", 900561,
                                       f"The endpoint only accepts (POST, OPTIONS) requests. Received a "
                                       f"{request.method} request.")
                self._count("token" if parts[3] == "token" else "devicecode")
                if parts[3] == "token":
                    return self._token(request, parts[0])
                return self.device_codes.start(request, parts[0])
        except LoginFailure as failure:
            return error_response(request, failure, cloud=self.cloud, now=self.clock())
        return None

    @staticmethod
    def _only(request: Request, method: str) -> Response | None:
        if request.method == method or (method == "GET" and request.method == "HEAD"):
            return None
        return Response(status=405, headers={"Allow": method})

    def _openid_configuration(self, request: Request, segment: str) -> Response:
        self._count("openid")
        return json_response(200, self.authority.openid_configuration(segment), request)

    def _token(self, request: Request, segment: str) -> Response:
        grant = (request.form.get("grant_type") or "").strip()
        if segment.lower() in META_TENANTS:
            if grant == "client_credentials":
                raise LoginFailure(400, "invalid_request", 50059,
                                   "No tenant-identifying information found in either the request or implied by "
                                   "any provided credentials.")
            raise LoginFailure(400, "invalid_request", 9001023,
                               "The grant type isn't supported over the /common or /consumers endpoints. Please "
                               "use the /organizations or tenant-specific endpoint.")
        tenant = self.authority.own_tenant(segment)
        if not grant:
            raise LoginFailure(400, "invalid_request", 900144,
                               "The request body must contain the following parameter: 'grant_type'.")
        if grant == "client_credentials":
            return self.grants.client_credentials(request, tenant, segment)
        if grant == DEVICE_CODE_GRANT:
            return self.device_codes.redeem(request, tenant)
        if grant == "refresh_token":
            return self.grants.refresh(request, tenant)
        raise LoginFailure(400, "unsupported_grant_type", 70003,
                           f"The app requested an unsupported grant type '{grant}'.")

    # -- hooks for tests and the simulator --

    def approve_device_code(self, user_code: str, user_id: str | None = None) -> None:
        """Act as the admin completing the sign-in for ``user_code`` (tests; default user: the tenant's admin)."""
        self.device_codes.approve(user_code, user_id)

    def decline_device_code(self, user_code: str) -> None:
        """Act as the admin refusing the sign-in for ``user_code``."""
        self.device_codes.decline(user_code)

    def pending_user_codes(self) -> list[str]:
        """User codes still waiting for an admin (tests)."""
        return self.device_codes.pending_user_codes()

    def validate_access_token(self, token: str) -> dict[str, Any]:
        """:func:`validate_access_token` for this service's cloud, key and clock."""
        return validate_access_token(token, self.cloud, signing_key=self.signing_key, now=self.clock())
