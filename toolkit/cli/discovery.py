"""Reading a tenant's public OpenID configuration for ``ccsync clouds detect``.

``openid_fetcher(session)`` gives the ``fetch_json(url)`` that ``toolkit.clouds.detect_cloud`` expects:
the parsed document, None when the authority answers that it does not know the tenant (HTTP 400 with
AADSTS90002 / ``invalid_tenant``), and a TransportError naming the URL for anything else.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from toolkit.errors import TransportError, redact

__all__ = ["openid_fetcher", "is_unknown_tenant"]

_CA_HINT = ("If a TLS-inspecting proxy sits in between, point REQUESTS_CA_BUNDLE (or --ca-bundle) at its CA "
            "certificate; for the simulator use the CA bundle that 'ccsync sim serve' prints.")


def is_unknown_tenant(status: int, body: Any) -> bool:
    """True for the identity platform's 'tenant not found' answer (HTTP 400, AADSTS90002 / invalid_tenant)."""
    if status != 400 or not isinstance(body, Mapping):
        return False
    codes = body.get("error_codes") or []
    return (90002 in codes or body.get("error") == "invalid_tenant"
            or "AADSTS90002" in str(body.get("error_description") or ""))


def _reason(exc: Exception) -> str:
    """A short cause for a failed connection (requests wraps urllib3's reason inside its own exception)."""
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    name = type(reason).__name__ if reason is not None else type(exc).__name__
    return {"NameResolutionError": "the host name could not be resolved (DNS)",
            "NewConnectionError": "the connection was refused or the host is unreachable",
            "ProtocolError": "the connection was closed without an answer"}.get(name, name)


def openid_fetcher(session: Any, timeout: float = 15.0) -> Callable[[str], Mapping[str, Any] | None]:
    """A ``fetch_json(url)`` over ``session`` (from ``toolkit.transport.make_session``)."""
    import requests

    def fetch_json(url: str) -> Mapping[str, Any] | None:
        shown = redact(url)
        try:
            response = session.get(url, timeout=timeout, headers={"Accept": "application/json"})
        except requests.exceptions.SSLError as exc:
            raise TransportError(f"TLS certificate verification failed for GET {shown}: {exc}",
                                 hint=_CA_HINT, method="GET", url=url) from exc
        except requests.exceptions.Timeout as exc:
            raise TransportError(f"GET {shown} timed out after {timeout:g} s.",
                                 hint="Check network access to the sign-in host, or raise --timeout.",
                                 method="GET", url=url) from exc
        except requests.exceptions.RequestException as exc:
            raise TransportError(f"Could not reach {shown}: {_reason(exc)}.",
                                 hint="Check the host name, DNS, proxy settings (HTTPS_PROXY) and firewall.",
                                 method="GET", url=url) from exc
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code == 200 and isinstance(body, Mapping):
            return body
        if is_unknown_tenant(response.status_code, body):
            return None
        detail = ""
        if isinstance(body, Mapping) and body.get("error"):
            detail = f" ({body.get('error')}: {(str(body.get('error_description') or '').splitlines() or [''])[0]})"
        elif response.status_code == 200:
            detail = " (the answer is not a JSON object)"
        raise TransportError(
            f"GET {shown} answered HTTP {response.status_code}{detail}; expected an OpenID configuration.",
            hint="A proxy or captive portal may be answering instead of the sign-in service; "
                 "check --login-url, or retry later if the service is failing.",
            method="GET", url=url)

    return fetch_json
