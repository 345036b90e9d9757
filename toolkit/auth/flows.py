"""The sign-in flows: client credentials (an app signs in as itself) and the device code (an admin signs in
elsewhere, on any device, and msal polls until they have)."""

from __future__ import annotations

import sys
from typing import Any, Callable

import msal

from ..errors import CredentialError

__all__ = ["acquire_for_client", "acquire_device_code", "default_device_code_callback"]


def default_device_code_callback(message: str) -> None:
    # The one place ccsync's library writes to stderr: the admin must see where to enter the code.
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def acquire_for_client(app: msal.ClientApplication, scopes: list[str]) -> dict[str, Any]:
    """msal's answer for the app itself (from its cache while valid)."""
    return app.acquire_token_for_client(scopes=scopes)


def acquire_device_code(app: msal.ClientApplication, scopes: list[str], *, profile_name: str, prompt: bool,
                        callback: Callable[[str], None] | None) -> dict[str, Any]:
    """A cached account's token if msal can refresh it silently, else a new device-code sign-in.

    Without ``prompt`` or ``callback`` nobody would see the code: CredentialError instead of waiting.
    Returns msal's answer (a token, or an error dict the caller turns into AuthError).
    """
    assert isinstance(app, msal.PublicClientApplication)
    for account in app.get_accounts():
        result = app.acquire_token_silent_with_error(scopes, account=account)
        if result and "access_token" in result:
            return result
    if not (prompt or callback):
        raise CredentialError(f"Profile '{profile_name}' signs in with a device code and has no cached "
                              f"token.", hint=f"Run 'ccsync login --profile {profile_name}' "
                                              f"interactively first.")
    flow = app.initiate_device_flow(scopes=scopes)
    if "user_code" not in flow:
        return flow  # an error dict; the provider turns it into AuthError
    (callback or default_device_code_callback)(flow["message"])
    return app.acquire_token_by_device_flow(flow)
