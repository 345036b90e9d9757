"""Which resource a token request's ``scope`` names, and the scope rules of each grant.

Only this cloud's Microsoft Graph is a resource here (AADSTS500011 for anything else); client credentials need
exactly one ``{resource}/.default`` (AADSTS700023, 700022, 1002012); delegated grants take permissions plus the
OpenID scopes. Sources: entra-docs identity-platform/v2-oauth2-client-creds-grant-flow.md (scope) and
reference-error-codes.md (AADSTS numbers and wording).
"""

from __future__ import annotations

from ...clouds import get_cloud
from .answers import LoginFailure
from .directory import Tenant

__all__ = ["GRAPH_APP_ID", "OIDC_SCOPES", "graph_root", "resource_of", "app_only_resource", "delegated_scopes"]

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"  # Microsoft Graph's well-known appId (same in every cloud)
OIDC_SCOPES = {"openid", "profile", "offline_access", "email"}


def graph_root(cloud: str) -> str:
    return get_cloud(cloud).graph_url


def resource_of(cloud: str, tenant: Tenant, scope: str) -> str:
    """The resource a scope names, refused with AADSTS500011 unless it is this cloud's Graph."""
    resource, sep, _ = scope.rpartition("/")
    if not sep:  # a bare permission such as "User.Read" means Graph
        return graph_root(cloud)
    resource = resource.rstrip("/")
    if resource.lower() in (graph_root(cloud).lower(), GRAPH_APP_ID):
        return graph_root(cloud)
    raise LoginFailure(400, "invalid_resource", 500011,
                       f"The resource principal named {resource} was not found in the tenant named "
                       f"{tenant.display_name}. This can happen if the application has not been installed by "
                       f"the administrator of the tenant or consented to by any user in the tenant. You might "
                       f"have sent your authentication request to the wrong tenant.")


def app_only_resource(cloud: str, tenant: Tenant, scope: str | None) -> str:
    """The one resource a client-credentials ``scope`` names."""
    if not scope or not scope.strip():
        raise LoginFailure(400, "invalid_request", 900144,
                           "The request body must contain the following parameter: 'scope'.")
    wanted = [s for s in scope.split() if s.lower() not in OIDC_SCOPES]
    if not wanted:
        raise LoginFailure(400, "invalid_scope", 700023,
                           "The provided value for the input parameter scope is not valid when requesting an "
                           "access token.")
    if len(wanted) > 1:
        raise LoginFailure(400, "invalid_scope", 700022,
                           "The provided value for the input parameter scope is not valid because it contains "
                           "more than one resource. Scope " + " ".join(wanted) + " is not valid.")
    if not wanted[0].endswith("/.default"):
        raise LoginFailure(400, "invalid_scope", 1002012,
                           f"The provided value for scope {wanted[0]} is not valid. Client credential flows "
                           f"must have a scope value with /.default suffixed to the resource identifier "
                           f"(application ID URI).")
    return resource_of(cloud, tenant, wanted[0])


def delegated_scopes(cloud: str, tenant: Tenant, scope: str | None) -> list[str]:
    """The scopes of a delegated grant (device code, refresh), each checked to name this cloud's Graph."""
    if not scope or not scope.strip():
        raise LoginFailure(400, "invalid_request", 900144,
                           "The request body must contain the following parameter: 'scope'.")
    scopes = scope.split()
    for s in scopes:
        if s.lower() not in OIDC_SCOPES:
            resource_of(cloud, tenant, s)
    return scopes
