"""What the simulated login reads from the simulator's directory: tenants, their app registrations (``SimApp``),
and which registration a token request names by its ``client_id`` (AADSTS900144, AADSTS700016)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from werkzeug import Request

from .answers import LoginFailure

__all__ = ["SimApp", "Tenant", "Directory", "client_id_of", "find_app"]


@dataclass
class SimApp:
    """An app registration (with its service principal) in one simulated tenant.

    ``roles`` are the Graph application permissions granted with admin consent (they become the token's
    ``roles``, and the ``scp`` of device-code tokens); ``certificates`` are PEM certificates whose keys may sign
    client assertions.
    """

    app_id: str
    display_name: str = "ccsync"
    roles: list[str] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list, repr=False)
    certificates: list[bytes] = field(default_factory=list, repr=False)


class Tenant(Protocol):  # what the login side reads from the core's TenantState
    tenant_id: str
    cloud: str
    display_name: str
    domains: list[str]
    apps: dict[str, SimApp]
    users: dict[str, dict[str, Any]]


class Directory(Protocol):
    def find_tenant(self, tenant_id_or_domain: str) -> Tenant | None: ...


def client_id_of(request: Request) -> tuple[str, str | None]:
    """client_id and a client_secret from HTTP Basic (client_secret_basic), if used."""
    auth = request.authorization
    basic_id = basic_secret = None
    if auth is not None and auth.type == "basic":
        basic_id, basic_secret = auth.username, auth.password
    client_id = (request.form.get("client_id") or basic_id or "").strip()
    return client_id, basic_secret


def find_app(tenant: Tenant, client_id: str) -> SimApp:
    """The app registration ``client_id`` names in ``tenant`` (by key or appId, case-insensitively)."""
    if not client_id:
        raise LoginFailure(400, "invalid_request", 900144,
                           "The request body must contain the following parameter: 'client_id'.")
    wanted = client_id.lower()
    for key, app in tenant.apps.items():
        if key.lower() == wanted or app.app_id.lower() == wanted:
            return app
    raise LoginFailure(400, "unauthorized_client", 700016,
                       f"Application with identifier '{client_id}' was not found in the directory "
                       f"'{tenant.display_name}'. This can happen if the application has not been installed "
                       f"by the administrator of the tenant or consented to by any user in the tenant. You "
                       f"may have sent your authentication request to the wrong tenant.")
