"""One tenant's cross-tenant access settings in the simulator: the policy, its partners, their identity sync
policies, the authorization policy, and the portal-only "cross-cloud synchronization" ticks.

Graph shapes follow docs/entra-sync-simulator.md (Microsoft: crossTenantAccessPolicy,
crossTenantAccessPolicyConfigurationPartner, crossTenantIdentitySyncPolicyPartner, authorizationPolicy resources).
The routes live in ``policies.py``; other simulator parts (``/invitations``, the sync engine) read the helpers
``partner``, ``allows_cloud``, ``b2b_collaboration_allowed``, ``inbound_sync_allowed`` and
``automatic_redemption``. Callers hold the tenant's lock.
"""

from __future__ import annotations

import copy
import json
from typing import Any, Mapping

from ..errors import InputError

__all__ = ["CrossTenantPolicy", "SUPPORTED_CLOUD_ENDPOINTS", "POLICY_SIZE_LIMIT", "PARTNER_PROPERTIES",
           "default_authorization_policy", "allowed_all"]

# crossTenantAccessPolicy.allowedCloudEndpoints supported values (graph-facts 1.3).
SUPPORTED_CLOUD_ENDPOINTS = ("microsoftonline.com", "microsoftonline.us", "partner.microsoftonline.cn")
# "The whole policy object is capped at 25 KB" (crosstenantaccesspolicy-update.md). How Entra measures it is not
# documented; we measure the UTF-8 JSON of the policy with its default, partners and identity sync policies.
POLICY_SIZE_LIMIT = 25 * 1024

# crossTenantAccessPolicyConfigurationPartner properties (v1.0 resource page); identitySynchronization is a
# relationship, served on its own path.
PARTNER_PROPERTIES = ("tenantId", "inboundTrust", "automaticUserConsentSettings", "b2bCollaborationInbound",
                      "b2bCollaborationOutbound", "b2bDirectConnectInbound", "b2bDirectConnectOutbound",
                      "isServiceProvider", "isInMultiTenantOrganization", "tenantRestrictions",
                      "crossCloudMeetingConfiguration")
INVITE_SETTINGS = ("none", "adminsAndGuestInviters", "adminsGuestInvitersAndAllMembers", "everyone")


def allowed_all(kind: str = "allowed") -> dict[str, Any]:
    """A b2b setting (crossTenantAccessPolicyB2BSetting) that allows or blocks all users and applications."""
    return {"usersAndGroups": {"accessType": kind, "targets": [{"target": "AllUsers", "targetType": "user"}]},
            "applications": {"accessType": kind, "targets": [{"target": "AllApplications",
                                                               "targetType": "application"}]}}


def _service_default() -> dict[str, Any]:
    # crosstenantaccesspolicyconfigurationdefault-get.md: B2B collaboration allowed, direct connect blocked,
    # no trust; automatic redemption "the default is always false" (graph-facts 2.1 step C).
    return {"isServiceDefault": True,
            "inboundTrust": {"isMfaAccepted": False, "isCompliantDeviceAccepted": False,
                             "isHybridAzureADJoinedDeviceAccepted": False},
            "automaticUserConsentSettings": {"inboundAllowed": False, "outboundAllowed": False},
            "b2bCollaborationOutbound": allowed_all(), "b2bCollaborationInbound": allowed_all(),
            "b2bDirectConnectOutbound": allowed_all("blocked"), "b2bDirectConnectInbound": allowed_all("blocked")}


def default_authorization_policy() -> dict[str, Any]:
    """The authorizationPolicy of a new tenant (authorizationpolicy-get.md example)."""
    return {"id": "authorizationPolicy", "allowInvitesFrom": "everyone",
            "allowedToSignUpEmailBasedSubscriptions": True, "allowedToUseSSPR": True,
            "allowEmailVerifiedUsersToJoinOrganization": True, "allowUserConsentForRiskyApps": False,
            "blockMsolPowerShell": None, "displayName": "Authorization Policy",
            "description": "Used to manage authorization related settings across the company.",
            "guestUserRoleId": "10dae51f-b6af-4016-8d66-8c2a99b929b3",
            "defaultUserRolePermissions": {"allowedToCreateApps": True, "allowedToCreateSecurityGroups": True,
                                           "allowedToReadOtherUsers": True,
                                           "permissionGrantPoliciesAssigned": ["just-user-read"]}}


def new_partner(tenant_id: str) -> dict[str, Any]:
    """A partner entry as POST creates it: every setting null = inherited from the default (the 201 response in
    [CTS-GRAPH] step 5, graph-facts 2.1 A)."""
    return {"tenantId": tenant_id, "isServiceProvider": None, "inboundTrust": None,
            "b2bCollaborationOutbound": None, "b2bCollaborationInbound": None, "b2bDirectConnectOutbound": None,
            "b2bDirectConnectInbound": None, "tenantRestrictions": None,
            "crossCloudMeetingConfiguration": {"inboundAllowed": None, "outboundAllowed": None},
            "automaticUserConsentSettings": {"inboundAllowed": None, "outboundAllowed": None}}


class CrossTenantPolicy:
    """The cross-tenant access policy of one tenant (see the module docstring)."""

    def __init__(self, own_cloud_endpoint: str) -> None:
        self.own_cloud_endpoint = own_cloud_endpoint
        self.display_name = "CrossTenantAccessPolicy"
        self.allowed_cloud_endpoints: list[str] = []       # empty by default (graph-facts 1.3)
        self.default = _service_default()
        self.partners: dict[str, dict[str, Any]] = {}       # tenantId (lower) -> partner object
        self.identity_sync: dict[str, dict[str, Any]] = {}  # tenantId (lower) -> crossTenantIdentitySyncPolicyPartner
        self.authorization = default_authorization_policy()
        # Portal only (Microsoft cloud settings > "cross-cloud synchronization" checkbox, graph-facts 1.4 step 2):
        # the allowedCloudEndpoints values of the clouds this tenant accepts cross-cloud sync FROM. No Graph
        # property shows it; Graph sees only the service principal the tick creates.
        self.cross_cloud_sync_from: set[str] = set()

    # --- seeds --------------------------------------------------------------------------------------------

    @classmethod
    def from_seed(cls, seed: Mapping[str, Any], own_cloud_endpoint: str, source: str) -> "CrossTenantPolicy":
        """Read the seed's optional ``crossTenantAccessPolicy`` and ``authorizationPolicy`` (samples/README.md)."""
        policy = cls(own_cloud_endpoint)
        raw = seed.get("crossTenantAccessPolicy") or {}
        if not isinstance(raw, Mapping):
            raise InputError("crossTenantAccessPolicy must be an object.", source=source,
                             field="crossTenantAccessPolicy")
        for value in raw.get("allowedCloudEndpoints") or []:
            if value not in SUPPORTED_CLOUD_ENDPOINTS:
                raise InputError(f"unsupported cloud endpoint {value!r}.", source=source,
                                 field="crossTenantAccessPolicy.allowedCloudEndpoints",
                                 hint=f"Use {', '.join(SUPPORTED_CLOUD_ENDPOINTS)}.")
            if value not in policy.allowed_cloud_endpoints:
                policy.allowed_cloud_endpoints.append(value)
        for i, p in enumerate(raw.get("partners") or []):
            tid = str(p.get("tenantId") or "").lower()
            if not tid:
                raise InputError("a partner has no tenantId.", source=source,
                                 field=f"crossTenantAccessPolicy.partners[{i}].tenantId")
            partner = new_partner(tid)
            partner.update({k: copy.deepcopy(v) for k, v in p.items() if k in PARTNER_PROPERTIES})
            partner["tenantId"] = tid
            policy.partners[tid] = partner
            sync = p.get("identitySynchronization")
            if sync:
                policy.identity_sync[tid] = {"tenantId": tid, "displayName": sync.get("displayName"),
                                             "userSyncInbound": copy.deepcopy(sync.get("userSyncInbound")
                                                                              or {"isSyncAllowed": False})}
        policy.cross_cloud_sync_from = set(raw.get("@sim.crossCloudSyncFrom") or [])
        auth = seed.get("authorizationPolicy") or {}
        policy.authorization.update(copy.deepcopy(dict(auth)))
        policy.authorization["id"] = "authorizationPolicy"
        return policy

    # --- Graph views --------------------------------------------------------------------------------------

    def policy_view(self) -> dict[str, Any]:
        return {"displayName": self.display_name, "allowedCloudEndpoints": list(self.allowed_cloud_endpoints)}

    def size_with(self, **override: Any) -> int:
        """UTF-8 JSON size of the whole policy, with some parts replaced (to check a write before making it)."""
        doc = {"policy": override.get("policy", self.policy_view()), "default": self.default,
               "partners": override.get("partners", self.partners),
               "identitySynchronization": override.get("identity_sync", self.identity_sync)}
        return len(json.dumps(doc, separators=(",", ":")).encode("utf-8"))

    # --- helpers other parts of the simulator read ---------------------------------------------------------

    def partner(self, tenant_id: str) -> dict[str, Any] | None:
        """The partner entry for another tenant, or None when this tenant has none."""
        return self.partners.get((tenant_id or "").lower())

    def allows_cloud(self, cloud_endpoint: str) -> bool:
        """True for this tenant's own cloud, or a cloud listed in allowedCloudEndpoints ("Microsoft cloud
        settings", graph-facts 1.3)."""
        return cloud_endpoint == self.own_cloud_endpoint or cloud_endpoint in self.allowed_cloud_endpoints

    def b2b_collaboration_allowed(self, other_tenant_id: str, other_cloud_endpoint: str, direction: str) -> bool:
        """Whether B2B collaboration with another tenant is allowed in ``direction`` ("inbound": its users into
        this tenant; "outbound": this tenant's users into it), for all users and applications.

        Cross-cloud (cross-cloud-settings.md, graph-facts 1.3): the other cloud must be allowed, and then B2B with
        its organizations is blocked until the tenant is added as a partner; the partner's setting (or, when
        null, the default's) decides. Same cloud: the partner's setting, else the default's.
        """
        cross_cloud = other_cloud_endpoint != self.own_cloud_endpoint
        if cross_cloud and not self.allows_cloud(other_cloud_endpoint):
            return False
        key = "b2bCollaborationInbound" if direction == "inbound" else "b2bCollaborationOutbound"
        partner = self.partner(other_tenant_id)
        if partner is None and cross_cloud:
            return False
        setting = (partner or {}).get(key) or self.default[key]
        return _allows_all(setting)

    def inbound_sync_allowed(self, source_tenant_id: str) -> bool:
        """The target side of cross-tenant sync: identitySynchronization userSyncInbound.isSyncAllowed."""
        sync = self.identity_sync.get((source_tenant_id or "").lower())
        return bool(sync and (sync.get("userSyncInbound") or {}).get("isSyncAllowed"))

    def automatic_redemption(self, other_tenant_id: str, direction: str) -> bool:
        """automaticUserConsentSettings.inboundAllowed / outboundAllowed for a partner (null inherits the
        default, which is always false: graph-facts 2.1 step C)."""
        partner = self.partner(other_tenant_id) or {}
        key = "inboundAllowed" if direction == "inbound" else "outboundAllowed"
        value = (partner.get("automaticUserConsentSettings") or {}).get(key)
        if value is None:
            value = self.default["automaticUserConsentSettings"][key]
        return bool(value)

    def accepts_cross_cloud_sync_from(self, cloud_endpoint: str) -> bool:
        """The portal-only target-side checkbox (graph-facts 1.4 step 2)."""
        return cloud_endpoint in self.cross_cloud_sync_from


def _allows_all(setting: Mapping[str, Any] | None) -> bool:
    if not setting:
        return False
    users = (setting.get("usersAndGroups") or {}).get("accessType")
    apps = (setting.get("applications") or {}).get("accessType")
    # a missing half inherits: treat only an explicit "blocked" as blocking
    return users != "blocked" and apps != "blocked"
