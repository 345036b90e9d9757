"""The HTTP transport under both msal and the Graph client: one ``requests.Session`` per connection target.

Why a subclass: requests merges ``REQUESTS_CA_BUNDLE`` / ``CURL_CA_BUNDLE`` from the environment over a
``Session.verify`` path, so a session pointed at a private CA (the simulator's, or a corporate one named in a
profile) would still verify against the environment's bundle. Passing ``verify=`` on every request wins over
the environment; without an explicit CA the environment is honoured, as admins behind TLS-inspecting proxies
need.
"""

from __future__ import annotations

from typing import Any

import requests
from requests.adapters import HTTPAdapter

from . import __version__

USER_AGENT = f"ccsync/{__version__}"


class CcsSession(requests.Session):
    def __init__(self, ca_bundle: str | None = None, pool_size: int = 16):
        super().__init__()
        self.ca_bundle = ca_bundle
        self.headers["User-Agent"] = USER_AGENT
        adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
        self.mount("https://", adapter)
        self.mount("http://", adapter)

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if self.ca_bundle and kwargs.get("verify") in (None, True):
            kwargs["verify"] = self.ca_bundle
        return super().request(method, url, *args, **kwargs)


def make_session(ca_bundle: str | None = None, pool_size: int = 16) -> CcsSession:
    """A session that verifies TLS against ``ca_bundle`` when given, else against the environment/certifi."""
    return CcsSession(ca_bundle=ca_bundle, pool_size=pool_size)
