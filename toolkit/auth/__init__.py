"""Signing in with a profile: msal applications, credentials, and a private token cache per profile.

::

    provider = TokenProvider(profile)           # secret from $<secret_env>, else a hidden prompt (tty only)
    provider.token() -> str                     # from msal's cache while valid; raises AuthError/CredentialError
    provider.claims() -> dict                   # tid, appid, roles, scp, aud, exp ... (decoded, not verified)
    login(profile) -> LoginResult               # who the token says we are, for 'ccsync login'

Credentials: a client secret (the ``secret=`` argument, else the env var named by ``profile.secret_env``, else a
hidden prompt when stdin is a terminal), a certificate (PEM with key and certificate, or PFX/P12 whose password is
in the env var named by ``certificate_password_env``), or the device-code flow (an admin signs in elsewhere).

msal talks through ``toolkit.transport.make_session(profile.ca_bundle)`` so a profile's CA bundle (or, without one,
``REQUESTS_CA_BUNDLE``) decides TLS trust. With a ``login_url`` override (the simulator, a private endpoint) msal's
instance discovery is off, since Microsoft's discovery service cannot know that host; real clouds keep msal's
authority validation.

Tokens and secrets never enter a message, a repr or a log line from this package. The token cache lives at
``$CCSYNC_CACHE_DIR/<profile>.bin`` (default ``~/.cache/ccsync/tokens``), created 0600 in a 0700 folder.

The parts, lowest first: ``claims`` (decoding a token), ``certificates`` (PEM/PFX credentials),
``credentials`` (where a secret or certificate comes from), ``token_cache`` (the private cache file),
``signin_errors`` (AADSTS codes and transport failures in an admin's words), ``msal_app`` (building msal's
application), ``flows`` (client credentials and device code), ``provider`` (``TokenProvider``), ``signin``
(``login``, ``LoginResult``).
"""

# getpass and msal stay reachable here (toolkit.auth.getpass, toolkit.auth.msal): callers and tests patch the
# prompt and msal's application classes through this name.
import getpass  # noqa: F401
import msal  # noqa: F401

from .certificates import ClientCertificate, load_certificate
from .claims import decode_claims
from .provider import DEFAULT_TIMEOUT, TokenProvider
from .signin import LoginResult, login
from .token_cache import token_cache_dir, token_cache_path

__all__ = [
    "TokenProvider", "LoginResult", "login", "ClientCertificate", "load_certificate", "token_cache_path",
    "token_cache_dir",
    "decode_claims", "DEFAULT_TIMEOUT",
]
