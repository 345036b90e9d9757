"""``TokenProvider``: access tokens for one profile's Graph, from msal's cache while valid, else from the
identity platform through the profile's flow (client credentials with a secret or certificate, or device code).

It ties the parts together: the credential (``credentials``), the msal application (``msal_app``), the flow
(``flows``), the private cache file (``token_cache``), and errors an admin can act on (``signin_errors``).
"""

from __future__ import annotations

import os
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import msal
import requests

from ..config import Profile
from ..errors import ConfigError
from .certificates import ClientCertificate
from .claims import CLAIM_KEYS, decode_claims
from .credentials import client_credential
from .flows import acquire_device_code, acquire_for_client
from .msal_app import build_application
from .signin_errors import auth_error, transport_error
from .token_cache import PersistentCache, token_cache_path

__all__ = ["TokenProvider", "DEFAULT_TIMEOUT"]

DEFAULT_TIMEOUT = 30.0          # seconds per HTTP request to the identity platform
_REFRESH_MARGIN = 300           # renew a token this many seconds before it expires


class TokenProvider:
    """Access tokens for one profile's Graph, from msal's cache while valid, else from the identity platform.

    Thread-safe: one sign-in at a time, concurrent callers share its result.
    """

    def __init__(self, profile: Profile, session: requests.Session | None = None, secret: str | None = None,
                 prompt: bool = True, device_code_callback: Callable[[str], None] | None = None, *,
                 cache_path: str | os.PathLike[str] | None = None, persist_cache: bool = True,
                 timeout: float = DEFAULT_TIMEOUT):
        self.profile = profile
        self.prompt = prompt
        self.timeout = timeout
        self._session = session
        self._secret = secret
        self._device_code_callback = device_code_callback
        path = Path(cache_path) if cache_path is not None else token_cache_path(profile.name, profile.authority, profile.client_id)
        self._cache = PersistentCache(path if persist_cache else None)
        self._lock = threading.RLock()
        self._app: msal.ClientApplication | None = None
        self._certificate: ClientCertificate | None = None
        self._token: str | None = None
        self._expires_at = 0.0
        self.token_source: str | None = None     # "cache" or "identity_provider", after the first token

    def __repr__(self) -> str:
        return f"TokenProvider(profile={self.profile.name!r}, cloud={self.profile.cloud!r}, auth={self.profile.auth!r})"

    @property
    def cache_path(self) -> Path | None:
        return self._cache.path

    @property
    def expires_on(self) -> datetime | None:
        """When the current token expires (None before the first token)."""
        return datetime.fromtimestamp(self._expires_at, timezone.utc) if self._token else None

    def token(self) -> str:
        """A valid access token for ``profile.scope``; raises AuthError, CredentialError or TransportError."""
        with self._lock:
            if self._token and self._expires_at - _REFRESH_MARGIN > time.time():
                return self._token
            result = self._acquire()
            # msal says whether the token came from its cache or from the identity platform.
            self.token_source = str(result.get("token_source") or "identity_provider")
            self._token = result["access_token"]
            self._expires_at = time.time() + float(result.get("expires_in") or 0)
            return self._token

    def claims(self) -> dict[str, Any]:
        """Selected claims of the current token (tid, appid, roles, scp, aud, exp, ...), decoded unverified."""
        claims = decode_claims(self.token())
        return {k: claims[k] for k in CLAIM_KEYS if k in claims}

    def invalidate(self) -> None:
        """Forget this app's cached access tokens (e.g. after Graph refused one), so the next call signs in."""
        with self._lock:
            self._token, self._expires_at = None, 0.0
            cache = self._cache.cache
            for item in list(cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN,
                                          query={"client_id": self.profile.client_id})):
                cache.remove_at(item)
            self._cache.save()

    # -- internals --

    def _secrets(self) -> list[str]:
        return [s for s in (self._secret,) if s]

    def _acquire(self) -> dict[str, Any]:
        profile = self.profile
        try:
            app = self._application()
            scopes = [profile.scope]
            if profile.auth == "device_code":
                result = acquire_device_code(app, scopes, profile_name=profile.name, prompt=self.prompt,
                                             callback=self._device_code_callback)
            else:
                result = acquire_for_client(app, scopes)
        except requests.exceptions.RequestException as exc:
            raise transport_error(exc, profile) from None
        except OSError as exc:
            # requests raises a bare OSError when the CA bundle path does not exist.
            if "CA certificate bundle" not in str(exc):
                raise
            raise ConfigError(f"Profile '{profile.name}': cannot use the CA bundle "
                              f"{profile.ca_bundle or os.environ.get('REQUESTS_CA_BUNDLE')}: {exc}",
                              hint="Fix 'ca_bundle' in the profile (or REQUESTS_CA_BUNDLE).") from None
        finally:
            self._cache.save()
        if not result or "access_token" not in result:
            raise auth_error(result or {}, profile, secrets=self._secrets(),
                             thumbprint=self._certificate.thumbprint if self._certificate else None)
        return result

    def _application(self) -> msal.ClientApplication:
        if self._app is not None:
            return self._app
        credential = None
        if self.profile.auth != "device_code":
            found = client_credential(self.profile, self._secret, prompt=self.prompt)
            if found.certificate is not None:
                self._certificate = found.certificate
            self._secret = found.secret
            credential = found.msal_value
        self._app = build_application(self.profile, credential, token_cache=self._cache.cache,
                                      session=self._session, timeout=self.timeout, secrets=self._secrets())
        return self._app
