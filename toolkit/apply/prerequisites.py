"""Cross-cloud B2B prerequisites of the direct engine, checked in the target tenant before anything is written.

An invitation across Microsoft clouds only works once (docs/direct-engine.md, "Prerequisites"; Microsoft:
cross-cloud-settings.md and invitation-post.md):

1. the target's ``crossTenantAccessPolicy.allowedCloudEndpoints`` lists the source's cloud;
2. the target has a partner entry (``/policies/crossTenantAccessPolicy/partners/{source tenant id}``) whose
   ``b2bCollaborationInbound`` (or, when null, the default's) allows B2B collaboration: once a cloud is allowed,
   all B2B with its organisations is blocked until the partner is added;
3. the target's ``authorizationPolicy.allowInvitesFrom`` lets an app invite (app-only invitations fail when
   invitations are disabled or restricted to admins and guest inviters);
4. in the source tenant, the target's cloud is allowed too. ccsync holds only the target's token here, so this
   one is named in the message but cannot be read.

``check_invite_prerequisites`` reads 1-3 and raises ``PrerequisiteError`` listing every missing setting and how
to set it. It is only needed for plans that invite across clouds.
"""

from __future__ import annotations

from typing import Any

from ..clouds import get_cloud, pair_kind
from ..errors import InputError
from ..graph import BatchRequest

__all__ = ["PrerequisiteError", "check_invite_prerequisites", "needs_invite_prerequisites"]

_ENABLE = "ccsync xts enable (or the Entra admin center: External Identities > Cross-tenant access settings)"


class PrerequisiteError(InputError):
    """The target tenant's settings would make Entra refuse the plan's cross-cloud invitations."""


def needs_invite_prerequisites(plan: Any) -> bool:
    """True when the plan invites users across clouds (creates or restores in invite mode)."""
    header = plan.header
    if header["options"].get("createAs", "invite") == "member":   # "invite" or "mixed" (migrations)
        return False
    if pair_kind(header["source"]["cloud"], header["target"]["cloud"]) != "cross-cloud":
        return False
    return bool(len(plan.actionable)) and bool((plan.actionable["kind"] == "create").any())


def _allows_all(setting: Any) -> bool:
    if not isinstance(setting, dict):
        return False
    users = (setting.get("usersAndGroups") or {}).get("accessType")
    apps = (setting.get("applications") or {}).get("accessType")
    return users != "blocked" and apps != "blocked"


def check_invite_prerequisites(plan: Any, client: Any) -> dict[str, Any]:
    """Read the target's cross-tenant access and authorization policies; raise PrerequisiteError naming every
    missing setting. Returns what was read (for the what-if output)."""
    header = plan.header
    source_tid = str(header["source"]["tenantId"])
    source_cloud = get_cloud(str(header["source"]["cloud"]))
    target_cloud = get_cloud(str(header["target"]["cloud"]))
    missing: list[str] = []
    # One $batch of four GETs: the check costs one round trip before the run.
    reads = {r.id: r for r in client.batch([
        BatchRequest("policy", "GET", "/policies/crossTenantAccessPolicy"),
        BatchRequest("partner", "GET", f"/policies/crossTenantAccessPolicy/partners/{source_tid}"),
        BatchRequest("default", "GET", "/policies/crossTenantAccessPolicy/default"),
        BatchRequest("authorization", "GET", "/policies/authorizationPolicy")])}
    for name, res in reads.items():
        if res.ok or (name == "partner" and res.status == 404):
            continue
        if res.status in (401, 403):
            raise PrerequisiteError(
                "cannot read the target's cross-tenant access settings to check that Entra will accept "
                f"invitations from the {source_cloud.name} cloud; nothing was written",
                hint="Grant the target app Policy.Read.All (application) with admin consent, then run apply again.",
            ) from res.error
        raise res.error  # type: ignore[misc]

    def body(name: str) -> dict[str, Any]:
        return reads[name].body if reads[name].ok and isinstance(reads[name].body, dict) else {}
    policy, default, authorization = body("policy"), body("default"), body("authorization")
    partner: dict[str, Any] | None = body("partner") if reads["partner"].ok else None
    allowed = [str(v) for v in (policy.get("allowedCloudEndpoints") or [])]
    if source_cloud.allowed_cloud_endpoint not in allowed:
        missing.append(
            f"the target does not allow the {source_cloud.display_name} cloud: crossTenantAccessPolicy."
            f"allowedCloudEndpoints is {allowed or '[]'} and needs '{source_cloud.allowed_cloud_endpoint}' (PATCH "
            "/policies/crossTenantAccessPolicy with the current values plus this one)")
    if partner is None:
        missing.append(
            f"the target has no partner entry for the source tenant {source_tid}: across clouds all B2B is blocked "
            "until it is added (POST /policies/crossTenantAccessPolicy/partners {\"tenantId\": \"" + source_tid
            + "\"})")
    else:
        setting = partner.get("b2bCollaborationInbound") or default.get("b2bCollaborationInbound")
        if not _allows_all(setting):
            missing.append(
                f"the target's partner entry for {source_tid} blocks inbound B2B collaboration: set "
                "b2bCollaborationInbound to allow all users and applications (PATCH "
                f"/policies/crossTenantAccessPolicy/partners/{source_tid})")
    invites = str(authorization.get("allowInvitesFrom") or "everyone")
    if invites in ("none", "adminsAndGuestInviters"):
        missing.append(
            f"the target's guest invite setting (authorizationPolicy.allowInvitesFrom = '{invites}') refuses "
            "invitations from an app: set it to 'adminsGuestInvitersAndAllMembers' or 'everyone' (PATCH "
            "/policies/authorizationPolicy), or in the Entra admin center > External collaboration settings")
    if missing:
        raise PrerequisiteError(
            f"Entra would refuse the plan's invitations from {source_cloud.name} into {target_cloud.name}; nothing "
            "was written. Missing in the target tenant: " + "; ".join(missing),
            hint=(f"Set them with {_ENABLE}. In the source tenant, allowedCloudEndpoints must also list "
                  f"'{target_cloud.allowed_cloud_endpoint}' and its partner entry for the target must not block "
                  "outbound B2B collaboration."))
    return {"allowedCloudEndpoints": allowed, "partner": source_tid, "allowInvitesFrom": invites}
