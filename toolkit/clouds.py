"""The Microsoft national clouds ccsync talks to, the cloud pairs cross-tenant sync supports, and detection.

Facts and sources: ``docs/graph-facts.md`` section 1 (Graph "national cloud deployments",
Entra "national clouds", cross-cloud settings, cross-tenant sync cloud pairs).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

from .errors import CloudError, InputError

__all__ = [
    "Cloud", "CloudPair", "CLOUDS", "get_cloud", "cloud_names", "PAIRS", "check_pair", "pair_kind",
    "Detection", "detect_from_openid", "detect_cloud", "normalize_tenant", "is_guid",
]


@dataclass(frozen=True)
class Cloud:
    """One Microsoft cloud as an admin names it (GCC shares commercial Entra; DoD shares Azure Government)."""

    name: str                    # ccsync's short name: commercial, gcc, gcch, dod, china
    display_name: str
    entra_instance: str          # the Entra cloud (cloud_instance_name): which tenants can share a token authority
    login_host: str
    graph_host: str
    entra_portal_host: str       # Entra admin center, for deep links in reports
    azure_portal_host: str
    allowed_cloud_endpoint: str  # crossTenantAccessPolicy.allowedCloudEndpoints value that names this cloud
    aliases: tuple[str, ...] = ()
    # My Apps, where an invited user redeems: the inviteRedirectUrl ccsync sends (docs/direct-engine.md).
    my_apps_host: str = "myapps.microsoft.com"

    @property
    def my_apps_url(self) -> str:
        return f"https://{self.my_apps_host}"

    @property
    def login_url(self) -> str:
        return f"https://{self.login_host}"

    @property
    def graph_url(self) -> str:
        return f"https://{self.graph_host}"

    @property
    def graph_scope(self) -> str:
        """The app-only scope: ``<graph root>/.default`` of this cloud (a token is only valid in its cloud)."""
        return f"https://{self.graph_host}/.default"

    def authority(self, tenant: str) -> str:
        return f"https://{self.login_host}/{tenant}"

    def user_portal_url(self, user_id: str) -> str:
        """Deep link to a user's page in this cloud's Entra admin center."""
        return (f"https://{self.entra_portal_host}/#view/Microsoft_AAD_UsersAndTenants/"
                f"UserProfileMenuBlade/~/overview/userId/{user_id}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "displayName": self.display_name, "entraInstance": self.entra_instance,
            "loginUrl": self.login_url, "graphUrl": self.graph_url, "graphScope": self.graph_scope,
            "entraPortal": f"https://{self.entra_portal_host}", "azurePortal": f"https://{self.azure_portal_host}",
            "allowedCloudEndpoint": self.allowed_cloud_endpoint,
        }


CLOUDS: dict[str, Cloud] = {c.name: c for c in (
    Cloud("commercial", "Microsoft Azure commercial (global)", "microsoftonline.com",
          "login.microsoftonline.com", "graph.microsoft.com", "entra.microsoft.com", "portal.azure.com",
          "microsoftonline.com", aliases=("global", "public", "azurecloud", "worldwide")),
    Cloud("gcc", "Microsoft 365 GCC (US Government, commercial Entra)", "microsoftonline.com",
          "login.microsoftonline.com", "graph.microsoft.com", "entra.microsoft.com", "portal.azure.com",
          "microsoftonline.com", aliases=("usgovgcc",)),
    Cloud("gcch", "Microsoft 365 GCC High (Azure Government, Graph US Gov L4)", "microsoftonline.us",
          "login.microsoftonline.us", "graph.microsoft.us", "entra.microsoft.us", "portal.azure.us",
          "microsoftonline.us", aliases=("gcchigh", "gcc-high", "usgov", "l4", "azureusgovernment"),
          my_apps_host="myapps.microsoft.us"),
    Cloud("dod", "Microsoft 365 DoD (Azure Government, Graph US Gov L5)", "microsoftonline.us",
          "login.microsoftonline.us", "dod-graph.microsoft.us", "entra.microsoft.us", "portal.azure.us",
          "microsoftonline.us", aliases=("usgovdod", "l5"), my_apps_host="myapps.microsoft.us"),
    # China: Entra documents login.partner.microsoftonline.cn; Graph's page still names login.chinacloudapi.cn,
    # which msal knows as a deprecated alias. We use the Entra one.
    Cloud("china", "Microsoft Azure operated by 21Vianet (China)", "partner.microsoftonline.cn",
          "login.partner.microsoftonline.cn", "microsoftgraph.chinacloudapi.cn", "entra.microsoftonline.cn",
          "portal.azure.cn", "partner.microsoftonline.cn", aliases=("21vianet", "azurechina", "mooncake"),
          # Microsoft's docs name no My Apps host for 21Vianet; this follows its portal naming (unverified).
          my_apps_host="myapps.azure.cn"),
)}


def clouds_for_graph_host(host: str) -> list[str]:
    """The clouds whose Graph is served at ``host`` (graph.microsoft.com serves both commercial and GCC)."""
    h = (host or "").strip().lower()
    return [c.name for c in CLOUDS.values() if c.graph_host == h]


def cloud_names() -> list[str]:
    return list(CLOUDS)


def get_cloud(name: str | Cloud) -> Cloud:
    """Look up a cloud by name or alias (case-insensitive)."""
    if isinstance(name, Cloud):
        return name
    key = (name or "").strip().lower()
    if key in CLOUDS:
        return CLOUDS[key]
    for cloud in CLOUDS.values():
        if key in cloud.aliases:
            return cloud
    raise CloudError(f"Unknown cloud '{name}'.",
                     hint=f"Use one of: {', '.join(CLOUDS)} (see 'ccsync clouds').")


@dataclass(frozen=True)
class CloudPair:
    source: str
    target: str
    kind: str          # "same-cloud" or "cross-cloud"
    note: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"source": self.source, "target": self.target, "kind": self.kind, "note": self.note}


def pair_kind(source: str | Cloud, target: str | Cloud) -> str:
    """Same Entra instance means same-cloud sync (P1 suffices); otherwise cross-cloud (Governance/Suite)."""
    return "same-cloud" if get_cloud(source).entra_instance == get_cloud(target).entra_instance else "cross-cloud"


def _build_pairs() -> list[CloudPair]:
    pairs = []
    commercial_side, gov_side = ("commercial", "gcc"), ("gcch", "dod")
    for group in (commercial_side, gov_side):
        for s in group:
            for t in group:
                pairs.append(CloudPair(s, t, "same-cloud"))
    pairs.append(CloudPair("china", "china", "same-cloud",
                           "Listed in the 2026 configure page; the overview FAQ still says unsupported: "
                           "confirm with Microsoft before relying on it."))
    for s in commercial_side:
        for t in gov_side:
            pairs.append(CloudPair(s, t, "cross-cloud", "Cross-cloud sync is in public preview."))
            pairs.append(CloudPair(t, s, "cross-cloud", "Cross-cloud sync is in public preview."))
        pairs.append(CloudPair(s, "china", "cross-cloud", "Cross-cloud sync is in public preview."))
    return pairs


PAIRS: list[CloudPair] = _build_pairs()


def check_pair(source: str | Cloud, target: str | Cloud) -> CloudPair:
    """Return the supported pair, or raise CloudError listing the supported targets and sources."""
    s, t = get_cloud(source).name, get_cloud(target).name
    for pair in PAIRS:
        if pair.source == s and pair.target == t:
            return pair
    targets = sorted({p.target for p in PAIRS if p.source == s})
    supported = "; ".join(f"{p.source} -> {p.target}" for p in PAIRS if p.kind == "cross-cloud")
    raise CloudError(
        f"Synchronization from {s} to {t} is not supported by Microsoft Entra cross-tenant synchronization.",
        hint=f"From {s} you can sync to: {', '.join(targets) or 'nothing'}. Supported cross-cloud pairs: {supported}.")


# --- tenants and detection --------------------------------------------------------------------------------

_GUIDISH = re.compile(r"^[0-9a-fA-F{}-]{20,}$")
_DOMAIN = re.compile(r"^(?=.{3,253}$)([a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]{2,63}$")


def is_guid(value: str) -> bool:
    try:
        uuid.UUID(str(value))
        return len(str(value).strip("{}")) == 36
    except (ValueError, AttributeError, TypeError):
        return False


def normalize_tenant(value: str) -> str:
    """A tenant id (GUID, lower-cased) or a domain name; anything else is an InputError naming the value."""
    text = (value or "").strip()
    if is_guid(text):
        return str(uuid.UUID(text))
    if _GUIDISH.match(text):
        raise InputError(f"'{value}' is not a valid tenant ID (a GUID has 32 hex digits in 8-4-4-4-12 groups).",
                         hint="Copy the tenant ID from the Entra admin center (Overview), or use a verified domain.")
    if _DOMAIN.match(text):
        return text.lower()
    raise InputError(f"'{value}' is neither a tenant ID (GUID) nor a domain name.",
                     hint="Give the tenant ID or one of its verified domains, e.g. contoso.onmicrosoft.com.")


@dataclass(frozen=True)
class Detection:
    tenant: str
    cloud: str | None
    tenant_id: str | None
    evidence: dict[str, Any] = field(default_factory=dict)
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"tenant": self.tenant, "cloud": self.cloud, "tenantId": self.tenant_id,
                "evidence": self.evidence, "note": self.note}


_TENANT_IN_ISSUER = re.compile(r"/([0-9a-fA-F-]{36})/")


def detect_from_openid(tenant: str, doc: Mapping[str, Any]) -> Detection:
    """Name a tenant's cloud from its public OpenID configuration document.

    ``cloud_instance_name`` separates the Entra clouds; inside Azure Government ``tenant_region_sub_scope``
    DODCON means GCC High and DOD means DoD (``msgraph_host`` dod-graph.microsoft.us agrees); inside commercial
    Entra, sub-scope GCC means GCC. ``tenant_region_scope`` USG marks a legacy Azure Government tenant that
    does not support B2B.
    """
    keys = ("tenant_region_scope", "tenant_region_sub_scope", "cloud_instance_name", "msgraph_host")
    evidence = {k: doc.get(k) for k in keys if doc.get(k) is not None}
    instance = str(doc.get("cloud_instance_name") or "").lower()
    scope = str(doc.get("tenant_region_scope") or "").upper()
    sub = str(doc.get("tenant_region_sub_scope") or "").upper()
    graph_host = str(doc.get("msgraph_host") or "").lower()
    match = _TENANT_IN_ISSUER.search(str(doc.get("issuer") or doc.get("token_endpoint") or ""))
    tenant_id = match.group(1).lower() if match else None
    note = ""
    if instance.endswith("microsoftonline.us") or scope in ("USGOV", "USG"):
        if sub == "DOD" or graph_host.startswith("dod-graph"):
            cloud = "dod"
        elif sub == "DODCON" or graph_host == "graph.microsoft.us":
            cloud = "gcch"
        else:
            cloud = "gcch"
            note = "Azure Government tenant without a DoD sub-scope: taken as GCC High."
        if scope == "USG":
            note = ("tenant_region_scope is USG: a legacy Azure Government tenant that does not support B2B "
                    "collaboration, so it cannot take part in cross-tenant sync.")
    elif "chinacloudapi.cn" in instance or instance.endswith("microsoftonline.cn"):
        cloud = "china"
    elif instance.endswith("microsoftonline.com") or graph_host == "graph.microsoft.com":
        cloud = "gcc" if sub == "GCC" else "commercial"
    else:
        cloud = None
        note = "The OpenID configuration names no cloud ccsync knows."
    return Detection(tenant, cloud, tenant_id, evidence, note)


def detect_cloud(tenant: str, fetch_json: Callable[[str], Mapping[str, Any] | None],
                 login_urls: Iterable[str] | None = None) -> Detection:
    """Detect a tenant's cloud by reading its OpenID configuration from the global, then the China authority.

    ``fetch_json(url)`` returns the parsed document, or None when the authority does not know the tenant.
    ``login_urls`` overrides the authorities (the simulator passes its own).
    """
    name = normalize_tenant(tenant)
    urls = list(login_urls) if login_urls else [CLOUDS["commercial"].login_url, CLOUDS["china"].login_url]
    for base in urls:
        doc = fetch_json(f"{base.rstrip('/')}/{name}/v2.0/.well-known/openid-configuration")
        if doc:
            return detect_from_openid(name, doc)
    raise CloudError(f"No Microsoft cloud knows the tenant '{tenant}'.",
                     hint="Check the spelling of the tenant ID or domain; a domain must be verified in the tenant.")
