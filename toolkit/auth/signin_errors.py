"""Why a sign-in failed, in words an admin can act on: Entra's AADSTS codes, OpenID discovery and transport.

``auth_error(result, profile, secrets=...)`` turns msal's error dict into an AuthError whose hint says what to
fix for the common AADSTS codes; ``discovery_error`` does the same for a refusal while msal reads the
authority's OpenID configuration; ``transport_error`` names TLS trust, timeouts and unreachable hosts. Secrets
passed in are scrubbed from every message; tokens never reach this module.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any, Mapping

import requests

from ..config import Profile
from ..errors import AuthError, TransportError

__all__ = ["auth_error", "discovery_error", "transport_error"]


_HINTS: dict[str, str] = {
    "AADSTS7000215": "The client secret is wrong. Set {secret_env} to the secret's Value (not its Secret ID) from "
                     "the app registration's 'Certificates & secrets' page; create a new secret if it was lost.",
    "AADSTS7000222": "The client secret has expired. Create a new secret in the app registration (or use a "
                     "certificate) and set {secret_env} to it.",
    "AADSTS700027": "The certificate{thumbprint} is not registered on app {client_id}, or the assertion is "
                    "invalid: upload the public certificate to the app registration ('Certificates & secrets') "
                    "in the {cloud} tenant.",
    "AADSTS700024": "The client assertion's time range was refused: check this computer's clock.",
    "AADSTS700016": "App {client_id} does not exist in tenant {tenant}: check client_id and tenant in the "
                    "profile, that the app is registered or consented in that tenant, and that cloud = "
                    "\"{cloud}\" is the tenant's cloud (an app registered in one cloud does not exist in another).",
    "AADSTS90002": "The {cloud} login service does not know tenant {tenant}: check the tenant ID or domain, and "
                   "that cloud = \"{cloud}\" is the tenant's cloud (GCC High and DoD tenants live in Azure "
                   "Government, China tenants in 21Vianet).",
    "AADSTS500011": "The tenant has no {graph} resource, so the profile's cloud (\"{cloud}\") is not the tenant's "
                    "cloud: fix 'cloud' in the profile.",
    "AADSTS50059": "Set 'tenant' in the profile to the tenant ID or a verified domain, not common or organizations.",
    "AADSTS7000218": "The app needs a credential: use auth = \"secret\" or \"certificate\", or enable 'Allow "
                     "public client flows' in the app registration for device-code sign-in.",
    "AADSTS700025": "The app is a public client: use auth = \"device_code\", or register a secret or certificate.",
    "AADSTS65001": "The app lacks consent: an admin must grant admin consent for its Microsoft Graph permissions.",
    "AADSTS65004": "The sign-in was declined. Run the login again and accept.",
    "AADSTS70019": "The device code expired before the sign-in was finished. Run the login again and enter the code "
                   "within the time shown.",
    "AADSTS70018": "The device code was not recognised. Run the login again.",
    "AADSTS53003": "Conditional Access blocked the sign-in; ask the admins who own the policy.",
    "AADSTS50076": "Multi-factor authentication is required: use auth = \"device_code\" and complete MFA in the "
                   "browser.",
    "AADSTS700082": "The sign-in session expired. Run the login again.",
    "AADSTS1002012": "ccsync requests {scope}; the login service refused that scope. Check the profile's cloud.",
    "AADSTS70011": "ccsync requests {scope}; the login service refused that scope. Check the profile's cloud.",
}


def _first_line(text: str) -> str:
    # Entra appends "Trace ID / Correlation ID / Timestamp" lines: useful to support, noise to an admin.
    for line in (text or "").splitlines():
        if line.strip():
            return line.strip()
    return ""


def _scrub(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


def auth_error(result: Mapping[str, Any], profile: Profile, *, secrets: list[str],
                thumbprint: str | None = None) -> AuthError:
    codes = result.get("error_codes") or []
    code = f"AADSTS{codes[0]}" if codes else None
    line = _first_line(str(result.get("error_description") or "")) or str(result.get("error") or "unknown error")
    message = _scrub(f"Sign-in for profile '{profile.name}' ({profile.cloud}, tenant {profile.tenant}, app "
                     f"{profile.client_id}) was refused: {line}", secrets)
    template = _HINTS.get(code or "") or _HINTS.get(str(result.get("error") or ""))
    if template is None and result.get("error") == "expired_token":
        template = _HINTS["AADSTS70019"]
    hint = template.format(secret_env=profile.secret_env, client_id=profile.client_id, tenant=profile.tenant,
                           cloud=profile.cloud, graph=profile.cloud_obj.graph_url, scope=profile.scope,
                           thumbprint=f" (thumbprint {thumbprint})" if thumbprint else "") if template else None
    return AuthError(message, hint=hint, error_code=code or (str(result["error"]) if result.get("error") else None),
                     correlation_id=result.get("correlation_id"))


_ERROR_BODY = re.compile(r"Error: (\{.*\})", re.S)


def discovery_error(exc: BaseException, profile: Profile, secrets: list[str]) -> AuthError:
    """msal's ValueError from reading the OpenID configuration; the server's error body is in its context."""
    seen: BaseException | None = exc
    while seen is not None:
        match = _ERROR_BODY.search(str(seen))
        if match:
            try:
                body = json.loads(match.group(1))
            except ValueError:
                body = None
            if isinstance(body, dict) and body.get("error"):
                return auth_error(body, profile, secrets=secrets)
        seen = seen.__context__ or seen.__cause__
    return AuthError(f"Could not read the OpenID configuration of {profile.authority} for profile "
                     f"'{profile.name}'.",
                     hint="Check the profile's tenant and cloud (and login_url, if set).")


def transport_error(exc: requests.exceptions.RequestException, profile: Profile) -> TransportError:
    url = getattr(getattr(exc, "request", None), "url", None) or profile.authority
    method = getattr(getattr(exc, "request", None), "method", None)
    if isinstance(exc, requests.exceptions.SSLError):
        trust = (f"the profile's ca_bundle {profile.ca_bundle}" if profile.ca_bundle else
                 f"REQUESTS_CA_BUNDLE={os.environ['REQUESTS_CA_BUNDLE']}" if os.environ.get("REQUESTS_CA_BUNDLE")
                 else "the system's CA certificates")
        return TransportError(f"TLS verification failed talking to the login service for profile "
                              f"'{profile.name}' (trusting {trust}).",
                              hint="Behind a TLS-inspecting proxy, point REQUESTS_CA_BUNDLE (or the profile's "
                                   "ca_bundle) at a PEM file with the proxy's CA; for the simulator use the CA file "
                                   "it wrote.", method=method, url=url)
    if isinstance(exc, requests.exceptions.HTTPError) and exc.response is not None:
        return TransportError(f"The login service answered HTTP {exc.response.status_code} for profile "
                              f"'{profile.name}'.", hint="Try again later.", method=method, url=url)
    kind = "timed out" if isinstance(exc, requests.exceptions.Timeout) else "could not be reached"
    return TransportError(f"The login service {kind} for profile '{profile.name}'.",
                          hint="Check the network, proxy settings (HTTPS_PROXY) and the profile's login_url.",
                          method=method, url=url)
