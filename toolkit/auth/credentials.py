"""Where a profile's credential comes from: a certificate file, or a client secret from the caller, the
environment variable the profile names, or a hidden prompt on a terminal.

A secret never comes from the config file or the command line, and never enters a message.
"""

from __future__ import annotations

import getpass
import os
import sys
from dataclasses import dataclass, field

from ..config import Profile
from ..errors import CredentialError
from .certificates import ClientCertificate, load_certificate

__all__ = ["ClientCredential", "client_credential"]


@dataclass(frozen=True)
class ClientCredential:
    """What msal is given (a secret, or a certificate's key and thumbprint), and where it came from."""

    msal_value: str | dict[str, str] = field(repr=False)
    secret: str | None = field(default=None, repr=False)      # the secret used, so messages can scrub it
    certificate: ClientCertificate | None = None


def client_credential(profile: Profile, secret: str | None, *, prompt: bool) -> ClientCredential:
    """The profile's certificate (auth = "certificate"), else ``secret``, else ``$<secret_env>``, else a hidden
    prompt when ``prompt`` and stdin is a terminal; raises CredentialError naming what to set."""
    if profile.auth == "certificate":
        if not profile.certificate:
            raise CredentialError(f"Profile '{profile.name}' uses auth = \"certificate\" but names no "
                                  f"certificate file.", hint='Add certificate = "/path/to/ccsync.pem".')
        env = profile.certificate_password_env
        password = os.environ.get(env) if env else None
        certificate = load_certificate(profile.certificate, password, password_env=env)
        return ClientCredential(certificate.msal_credential(), secret, certificate)
    if secret:
        return ClientCredential(secret, secret)
    from_env = os.environ.get(profile.secret_env)
    if from_env:
        return ClientCredential(from_env, from_env)
    if prompt and sys.stdin is not None and sys.stdin.isatty():
        entered = getpass.getpass(f"Client secret for profile '{profile.name}' (app {profile.client_id}): ")
        if entered:
            return ClientCredential(entered, entered)
    raise CredentialError(f"No client secret for profile '{profile.name}': the environment variable "
                          f"{profile.secret_env} is not set.",
                          hint=f"Set {profile.secret_env} to the app's client secret value, or use "
                               f"auth = \"certificate\". Never put the secret in the config file or on the "
                               f"command line.")
