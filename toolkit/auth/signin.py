"""``login(profile)``: an explicit sign-in that proves the credentials, and ``LoginResult``, what it proved
(tenant, app, roles, scopes, expiry, the token's age), for 'ccsync login'."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

import requests

from ..config import Profile
from .provider import TokenProvider

__all__ = ["LoginResult", "login"]


@dataclass(frozen=True)
class LoginResult:
    """What a successful sign-in proved: which tenant and app the token is for and what it may do."""

    profile: str
    cloud: str
    tenant_id: str
    app_id: str
    roles: list[str]
    scopes: list[str]
    expires_on: datetime
    auth: str
    user: str | None = None      # the signed-in admin, for device-code sign-in
    fresh: bool = True           # the identity platform issued the token just now (the credentials were proved)
    issued_at: datetime | None = None   # the token's iat claim

    @property
    def age_seconds(self) -> int | None:
        """How old the token is (for a cached one: how long ago the credentials were last proved)."""
        if self.issued_at is None:
            return None
        return max(0, int((datetime.now(timezone.utc) - self.issued_at).total_seconds()))

    def to_dict(self) -> dict[str, Any]:
        out = {"profile": self.profile, "cloud": self.cloud, "tenantId": self.tenant_id, "appId": self.app_id,
               "roles": list(self.roles), "scopes": list(self.scopes),
               "expiresOn": self.expires_on.isoformat().replace("+00:00", "Z"), "auth": self.auth,
               "tokenSource": "identity platform" if self.fresh else "cache"}
        if self.issued_at is not None:
            out["issuedAt"] = self.issued_at.isoformat().replace("+00:00", "Z")
            out["tokenAgeSeconds"] = self.age_seconds
        if self.user:
            out["user"] = self.user
        return out


def login(profile: Profile, secret: str | None = None, *, session: requests.Session | None = None,
          prompt: bool = True, device_code_callback: Callable[[str], None] | None = None,
          provider: TokenProvider | None = None, use_cache: bool = False) -> LoginResult:
    """Sign in with ``profile`` and report the tenant, app, roles and expiry the token carries.

    An explicit login proves the credentials: cached access tokens are dropped first, so the identity platform
    checks the secret or certificate now (a wrong or expired secret fails here, not in a night run). With
    ``use_cache`` a cached token is accepted, and the result says so (``fresh`` False) with its age.
    """
    provider = provider or TokenProvider(profile, session=session, secret=secret, prompt=prompt,
                                         device_code_callback=device_code_callback)
    if not use_cache:
        provider.invalidate()
    claims = provider.claims()
    iat = claims.get("iat")
    exp = claims.get("exp")
    expires_on = (datetime.fromtimestamp(float(exp), timezone.utc) if exp is not None
                  else provider.expires_on or datetime.now(timezone.utc))
    roles = claims.get("roles") or []
    return LoginResult(profile=profile.name, cloud=profile.cloud, tenant_id=str(claims.get("tid") or ""),
                       app_id=str(claims.get("appid") or claims.get("azp") or profile.client_id),
                       roles=sorted(str(r) for r in roles), scopes=str(claims.get("scp") or "").split(),
                       expires_on=expires_on, auth=profile.auth,
                       user=claims.get("upn") or claims.get("preferred_username"),
                       fresh=provider.token_source != "cache",
                       issued_at=datetime.fromtimestamp(float(iat), timezone.utc) if iat is not None else None)
