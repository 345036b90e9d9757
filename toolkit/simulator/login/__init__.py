"""The simulated Microsoft identity platform (Entra ID token service) of one cloud.

It answers what msal and ccsync ask a real cloud's login host, with Entra's documented shapes. Its parts, each
citing the Microsoft documentation it follows:

* ``discovery``  where the authority is: per-cloud identity facts, OpenID configuration, instance discovery
* ``tokens``     the signing key (JWKS), minting access/id/refresh tokens, validating bearer tokens for Graph
* ``grants``     client credentials (secret or certificate assertion) and refresh tokens
* ``devicecode`` the device code flow
* ``scopes``, ``directory``, ``answers``  what they share: scope rules, tenants and apps, Entra's answer shapes
* ``service``    ``LoginService``: the routes, put together from the parts
"""

from .devicecode import DEVICE_CODE_GRANT
from .directory import SimApp
from .discovery import region_scopes
from .grants import JWT_BEARER
from .scopes import GRAPH_APP_ID
from .service import LoginService
from .tokens import SigningKey, TokenRejected, process_signing_key, validate_access_token

__all__ = [
    "SimApp", "TokenRejected", "SigningKey", "process_signing_key", "LoginService", "validate_access_token",
    "region_scopes", "GRAPH_APP_ID", "DEVICE_CODE_GRANT", "JWT_BEARER",
]
