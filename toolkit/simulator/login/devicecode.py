"""The device code flow: the ``devicecode`` endpoint that starts a sign-in, the admin's approval or refusal
(simulated), and the ``device_code`` grant that polls for it.

* ``POST /{tenant}/oauth2/v2.0/devicecode``
* ``POST /{tenant}/oauth2/v2.0/token``   grant_type urn:ietf:params:oauth:grant-type:device_code

Sources: entra-docs identity-platform/v2-oauth2-device-code.md (device flow and its errors),
reference-error-codes.md (AADSTS numbers and wording). Where the docs are silent (the user-code alphabet) the
choice is said in a comment.
"""

from __future__ import annotations

import secrets as _secrets
import threading
from dataclasses import dataclass
from typing import Any, Callable

from werkzeug import Request, Response

from .answers import LoginFailure, json_response
from .directory import Tenant, client_id_of, find_app
from .discovery import META_TENANTS, Authority, cloud_identity
from .scopes import delegated_scopes
from .tokens import TokenMinter

__all__ = ["DEVICE_CODE_GRANT", "DeviceCodes"]

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
_USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ23456789"  # no vowels or look-alikes (docs are silent on the alphabet)


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


class DeviceCodes:
    """The device-code sign-ins of ``authority``'s cloud, redeemed for tokens from ``tokens``.

    A code is approved on its ``auto_approve_after + 1``-th poll (``None``: only by :meth:`approve`); it
    expires ``lifetime`` seconds after it was issued; clients are told to poll every ``interval`` seconds.
    """

    def __init__(self, authority: Authority, tokens: TokenMinter, clock: Callable[[], float], *,
                 auto_approve_after: int | None = 1, interval: int = 1, lifetime: int = 900):
        self.authority = authority
        self.cloud = authority.cloud
        self.tokens = tokens
        self.clock = clock
        self.auto_approve_after = auto_approve_after
        self.interval = interval
        self.lifetime = lifetime
        self._lock = threading.Lock()
        self._flows: dict[str, _DeviceFlow] = {}

    def start(self, request: Request, segment: str) -> Response:
        """``POST /{tenant}/oauth2/v2.0/devicecode``: a new device code and the user code to type."""
        if segment.lower() in META_TENANTS:
            raise LoginFailure(400, "invalid_request", 50059,
                               "No tenant-identifying information found in either the request or implied by any "
                               "provided credentials.")
        tenant = self.authority.own_tenant(segment)
        client_id, _ = client_id_of(request)
        app = find_app(tenant, client_id)
        scopes = delegated_scopes(self.cloud, tenant, request.form.get("scope"))
        device_code = _secrets.token_urlsafe(48)
        user_code = "".join(_secrets.choice(_USER_CODE_ALPHABET) for _ in range(9))
        flow = _DeviceFlow(device_code, user_code, tenant.tenant_id, app.app_id, scopes,
                           self.clock() + self.lifetime)
        with self._lock:
            self._flows[device_code] = flow
        uri = cloud_identity(self.cloud).device_login_uri
        return json_response(200, {
            "user_code": user_code, "device_code": device_code, "verification_uri": uri,
            "expires_in": self.lifetime, "interval": self.interval,
            "message": f"To sign in, use a web browser to open the page {uri} and enter the code {user_code} "
                       f"to authenticate.",
        }, request)

    def approve(self, user_code: str, user_id: str | None = None) -> None:
        """Act as the admin completing the sign-in for ``user_code`` (default user: the tenant's admin)."""
        self._settle(user_code, "approved", user_id)

    def decline(self, user_code: str) -> None:
        """Act as the admin refusing the sign-in for ``user_code``."""
        self._settle(user_code, "declined", None)

    def _settle(self, user_code: str, state: str, user_id: str | None) -> None:
        with self._lock:
            for flow in self._flows.values():
                if flow.user_code == user_code.upper() and flow.state == "pending":
                    flow.state, flow.user_id = state, user_id
                    return
        raise KeyError(f"No pending device code with user code {user_code!r}.")

    def pending_user_codes(self) -> list[str]:
        """User codes still waiting for an admin."""
        with self._lock:
            return [f.user_code for f in self._flows.values() if f.state == "pending"]

    @staticmethod
    def _admin_user(tenant: Tenant, user_id: str | None) -> dict[str, Any] | None:
        users = tenant.users or {}
        if user_id is not None:
            return users.get(user_id)
        for user in users.values():
            if user.get("@sim.admin") is True:
                return user
        return next(iter(users.values()), None)

    def redeem(self, request: Request, tenant: Tenant) -> Response:
        """The ``device_code`` grant: tokens once the admin approved, else the documented polling errors."""
        client_id, _ = client_id_of(request)
        device_code = request.form.get("device_code")
        if not device_code:
            raise LoginFailure(400, "invalid_request", 900144,
                               "The request body must contain the following parameter: 'device_code'.")
        with self._lock:
            flow = self._flows.get(device_code)
            if flow is None or flow.tenant_id != tenant.tenant_id or \
                    flow.client_id.lower() != client_id.lower() or flow.state == "redeemed":
                raise LoginFailure(400, "bad_verification_code", 70018,
                                   "Invalid verification code due to User typing in wrong user code for device "
                                   "code flow. The device_code sent to the /token endpoint wasn't recognized.")
            if self.clock() > flow.expires_at:
                raise LoginFailure(400, "expired_token", 70019,
                                   "Verification code expired. Have the user retry the sign-in.")
            flow.polls += 1
            if flow.state == "pending" and self.auto_approve_after is not None and \
                    flow.polls > self.auto_approve_after:
                flow.state = "approved"
            if flow.state == "declined":
                raise LoginFailure(400, "authorization_declined", 65004,
                                   "User declined to consent to access the app.")
            if flow.state == "pending":
                raise LoginFailure(400, "authorization_pending", 70016,
                                   "OAuth 2.0 device flow error. Authorization is pending. Continue polling.")
            flow.state = "redeemed"
        user = self._admin_user(tenant, flow.user_id)
        if user is None:
            raise LoginFailure(400, "authorization_declined", 50034,
                               f"The user account does not exist in the '{tenant.display_name}' directory.")
        app = find_app(tenant, flow.client_id)
        return self.tokens.user_tokens(request, tenant, app, user, flow.scopes)
