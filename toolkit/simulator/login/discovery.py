"""Where a simulated cloud's authority is and what it publishes: the per-cloud identity facts (region scopes,
v1 issuer, device-login page), the tenant a path segment names, the OpenID configuration document and msal's
instance discovery.

* ``GET  /{tenant}/v2.0/.well-known/openid-configuration``  (Entra's discovery document, incl. region scopes)
* ``GET  /common/discovery/instance``                       (msal instance discovery)

Sources: entra-docs identity-platform/v2-protocols-oidc.md (the discovery document) and
reference-error-codes.md (AADSTS90002, AADSTS50049). Where the docs are silent (the v1 issuer per national
cloud) the choice is said in a comment.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from werkzeug import Request

from ...clouds import CLOUDS, get_cloud
from .answers import LoginFailure, tenant_not_found
from .directory import Directory, Tenant

__all__ = ["CloudIdentity", "cloud_identity", "region_scopes", "META_TENANTS", "Authority"]

META_TENANTS = {"common", "organizations", "consumers"}


@dataclass(frozen=True)
class CloudIdentity:
    region_scope: str
    region_sub_scope: str | None
    cloud_instance_name: str
    cloud_graph_host_name: str       # the retired Azure AD Graph host, still listed in the document
    rbac_url: str
    v1_issuer: str                   # access-token "iss" pattern (v1 tokens, which Graph receives)
    device_login_uri: str


# GCC shares commercial Entra (sub-scope GCC); GCC High and DoD share Azure Government Entra and differ by
# sub-scope (DODCON / DOD). The per-cloud v1 issuers and device-login pages are not on one documentation page:
# sts.windows.net (global), login.microsoftonline.us (Azure Government), sts.chinacloudapi.cn (21Vianet).
_IDENTITY: dict[str, CloudIdentity] = {
    "commercial": CloudIdentity("NA", None, "microsoftonline.com", "graph.windows.net", "https://pas.windows.net",
                                "https://sts.windows.net/{tid}/", "https://microsoft.com/devicelogin"),
    "gcc": CloudIdentity("NA", "GCC", "microsoftonline.com", "graph.windows.net", "https://pas.windows.net",
                         "https://sts.windows.net/{tid}/", "https://microsoft.com/devicelogin"),
    "gcch": CloudIdentity("USGov", "DODCON", "microsoftonline.us", "graph.windows.net",
                          "https://pasff.usgovcloudapi.net", "https://login.microsoftonline.us/{tid}/",
                          "https://microsoft.com/deviceloginus"),
    "dod": CloudIdentity("USGov", "DOD", "microsoftonline.us", "graph.windows.net",
                         "https://pasff.usgovcloudapi.net", "https://login.microsoftonline.us/{tid}/",
                         "https://microsoft.com/deviceloginus"),
    "china": CloudIdentity("AS", None, "partner.microsoftonline.cn", "graph.chinacloudapi.cn",
                           "https://pas.chinacloudapi.cn", "https://sts.chinacloudapi.cn/{tid}/",
                           "https://microsoft.com/deviceloginchina"),
}


def cloud_identity(cloud: str) -> CloudIdentity:
    """The identity facts of ``cloud`` (any name or alias ``clouds.get_cloud`` knows)."""
    return _IDENTITY[get_cloud(cloud).name]


def region_scopes(cloud: str) -> tuple[str, str | None]:
    """(tenant_region_scope, tenant_region_sub_scope) that Entra publishes for a tenant of ``cloud``."""
    ident = cloud_identity(cloud)
    return ident.region_scope, ident.region_sub_scope


class Authority:
    """The login host of one simulated cloud: its base URL, its peers', and the tenants it answers for.

    ``discovery_clouds`` lists the clouds whose tenants the OpenID discovery answers for (always including
    ``cloud``); ``peer_base_url(cloud)`` gives another cloud's simulated server (else the real login host).
    """

    def __init__(self, cloud: str, directory: Directory, base_url_getter: Callable[[], str],
                 discovery_clouds: Iterable[str] | None = None,
                 peer_base_url: Callable[[str], str | None] | None = None):
        self.cloud = get_cloud(cloud).name
        self.directory = directory
        self.base_url_getter = base_url_getter
        self.discovery_clouds = {get_cloud(c).name for c in (discovery_clouds or [self.cloud])}
        self.discovery_clouds.add(self.cloud)
        self.peer_base_url = peer_base_url
        try:
            self._cloud_aware_lookup = "cloud" in inspect.signature(directory.find_tenant).parameters
        except (TypeError, ValueError):
            self._cloud_aware_lookup = False

    def base_for(self, cloud: str) -> str:
        """The login base URL of ``cloud``: this server, a peer simulated server, or the real host."""
        if cloud == self.cloud:
            return self.base_url_getter().rstrip("/")
        if self.peer_base_url:
            peer = self.peer_base_url(cloud)
            if peer:
                return peer.rstrip("/")
        return CLOUDS[cloud].login_url

    def find(self, segment: str, clouds: set[str]) -> Tenant | None:
        """The tenant a path segment names, if it belongs to one of ``clouds``."""
        for key in dict.fromkeys((segment, segment.lower())):
            tenant = self.directory.find_tenant(key)
            if tenant is not None and get_cloud(tenant.cloud).name in clouds:
                return tenant
            if self._cloud_aware_lookup:
                # The same domain can be verified in two Entra instances: ask per cloud this host serves.
                for cloud in sorted(clouds):
                    tenant = self.directory.find_tenant(key, cloud=cloud)  # type: ignore[call-arg]
                    if tenant is not None and get_cloud(tenant.cloud).name == cloud:
                        return tenant
        return None

    def own_tenant(self, segment: str) -> Tenant:
        """The tenant of this cloud a token or device-code path names; AADSTS90002 when there is none."""
        tenant = self.find(segment, {self.cloud})
        if tenant is None:
            raise tenant_not_found(segment)
        return tenant

    # -- discovery documents --

    def openid_configuration(self, segment: str) -> dict[str, Any]:
        """The discovery document for ``/{segment}/v2.0/.well-known/openid-configuration``."""
        if segment.lower() in META_TENANTS:
            return self.openid_document(self.cloud, segment.lower(), "{tenantid}", None)
        tenant = self.find(segment, self.discovery_clouds)
        if tenant is None:
            failure = tenant_not_found(segment)
            failure.error = "invalid_tenant"
            raise failure
        cloud = get_cloud(tenant.cloud).name
        return self.openid_document(cloud, tenant.tenant_id, tenant.tenant_id, cloud)

    def openid_document(self, cloud: str, path_tenant: str, issuer_tenant: str,
                        region_cloud: str | None) -> dict[str, Any]:
        base = self.base_for(cloud)
        ident = _IDENTITY[cloud]
        graph_host = CLOUDS[cloud].graph_host
        doc: dict[str, Any] = {
            "token_endpoint": f"{base}/{path_tenant}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt",
                                                      "client_secret_basic"],
            "jwks_uri": f"{base}/{path_tenant}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": f"{base}/{issuer_tenant}/v2.0",
            "request_uri_parameter_supported": False,
            "userinfo_endpoint": f"https://{graph_host}/oidc/userinfo",
            "authorization_endpoint": f"{base}/{path_tenant}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{base}/{path_tenant}/oauth2/v2.0/devicecode",
            "http_logout_supported": True,
            "frontchannel_logout_supported": True,
            "end_session_endpoint": f"{base}/{path_tenant}/oauth2/v2.0/logout",
            "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name",
                                 "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr",
                                 "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash",
                                 "email"],
            "kerberos_endpoint": f"{base}/{path_tenant}/kerberos",
        }
        if region_cloud is not None:
            doc["tenant_region_scope"] = ident.region_scope
            if ident.region_sub_scope:
                doc["tenant_region_sub_scope"] = ident.region_sub_scope
        else:
            doc["tenant_region_scope"] = None
        doc.update({"cloud_instance_name": ident.cloud_instance_name,
                    "cloud_graph_host_name": ident.cloud_graph_host_name,
                    "msgraph_host": graph_host,
                    "rbac_url": ident.rbac_url})
        return doc

    def instance_discovery(self, request: Request) -> dict[str, Any]:
        """msal's instance discovery: this host is its own only alias; AADSTS50049 for another host."""
        base = self.base_for(self.cloud)
        host = base.split("://", 1)[-1]
        endpoint = request.args.get("authorization_endpoint", "")
        if not endpoint.startswith(base + "/"):
            raise LoginFailure(400, "invalid_instance", 50049, "Unknown or invalid instance.")
        tenant = endpoint[len(base) + 1:].split("/", 1)[0]
        return {
            "tenant_discovery_endpoint": f"{base}/{tenant}/v2.0/.well-known/openid-configuration",
            "api-version": "1.1",
            "metadata": [{"preferred_network": host, "preferred_cache": host, "aliases": [host]}],
        }
