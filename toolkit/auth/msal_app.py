"""Building the msal application for a profile: public (device code) or confidential (secret, certificate).

msal talks through ``toolkit.transport.make_session(profile.ca_bundle)`` (or the caller's session) with a
request timeout, so a profile's CA bundle (or, without one, ``REQUESTS_CA_BUNDLE``) decides TLS trust. With a
``login_url`` override (the simulator, a private endpoint) msal's instance discovery is off, since Microsoft's
discovery service cannot know that host; real clouds keep msal's authority validation.
"""

from __future__ import annotations

from typing import Any

import msal
import requests

from ..config import Profile
from ..transport import make_session
from .signin_errors import discovery_error

__all__ = ["MsalHttpClient", "build_application"]


class MsalHttpClient:
    """Gives msal the ccsync session with a request timeout; closing it leaves the caller's session open."""

    def __init__(self, session: requests.Session, timeout: float):
        self.session = session
        self.timeout = timeout

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        return self.session.get(url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        return self.session.post(url, **kwargs)

    def close(self) -> None:
        pass


def build_application(profile: Profile, credential: str | dict[str, str] | None, *,
                      token_cache: msal.SerializableTokenCache, session: requests.Session | None,
                      timeout: float, secrets: list[str]) -> msal.ClientApplication:
    """A PublicClientApplication without a credential (device code), else a ConfidentialClientApplication.

    msal reads the authority's OpenID configuration here; a refusal there becomes an AuthError (the server's
    message, with ``secrets`` scrubbed). Transport failures propagate as requests exceptions.
    """
    session = session if session is not None else make_session(profile.ca_bundle)
    kwargs: dict[str, Any] = {"authority": profile.authority, "token_cache": token_cache,
                              "http_client": MsalHttpClient(session, timeout)}
    if profile.login_url:
        # Microsoft's instance discovery cannot vouch for an override host; real clouds keep validation.
        kwargs["instance_discovery"] = False
    try:
        if credential is None:
            return msal.PublicClientApplication(profile.client_id, **kwargs)
        return msal.ConfidentialClientApplication(profile.client_id, client_credential=credential, **kwargs)
    except requests.exceptions.RequestException:
        raise
    except ValueError as exc:
        raise discovery_error(exc, profile, secrets) from None
