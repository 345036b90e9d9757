"""Reading what an access token says (tenant, app, roles, expiry), decoded without verifying it: for showing
an admin what a token grants, never for trusting it."""

from __future__ import annotations

import base64
import json
from typing import Any

from ..errors import AuthError

__all__ = ["decode_claims", "CLAIM_KEYS"]

# The claims TokenProvider.claims() shows.
CLAIM_KEYS = ("tid", "appid", "azp", "app_displayname", "roles", "scp", "aud", "iss", "oid", "idtyp", "upn",
              "preferred_username", "iat", "nbf", "exp")


def decode_claims(token: str) -> dict[str, Any]:
    """The payload of a JWT, decoded without verifying it (for showing what a token grants)."""
    parts = token.split(".")
    if len(parts) != 3:
        raise AuthError("The access token is not a JWT, so its claims cannot be shown.")
    try:
        payload = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        claims = json.loads(payload)
    except ValueError:
        raise AuthError("The access token's claims could not be decoded.") from None
    if not isinstance(claims, dict):
        raise AuthError("The access token's claims could not be decoded.")
    return claims
