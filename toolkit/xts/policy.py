"""Cross-tenant access settings a sync needs: Microsoft cloud settings, partner entries, inbound sync, redemption.

Each ``plan_*`` function reads the current setting (GET) and returns the writes that would bring it to what sync
needs, plus ``Difference`` rows for values someone set explicitly to something else (changed only with
``--force``). Calls and bodies are the documented ones (docs/xts.md; graph-facts 1.3, 2.1, 2.2):

* ``PATCH /policies/crossTenantAccessPolicy {"allowedCloudEndpoints": [...]}`` -> 204; PATCH replaces the list,
  so the existing values are kept and the new one added;
* ``POST /policies/crossTenantAccessPolicy/partners {"tenantId"}`` -> 201 (409 when it exists: then PATCH);
* ``PUT .../partners/{id}/identitySynchronization {"displayName", "userSyncInbound": {"isSyncAllowed": true}}``
  -> 204 (409 when it exists: then PATCH);
* ``PATCH .../partners/{id} {"inboundTrust": null, "automaticUserConsentSettings": {"inboundAllowed": true}}``
  (target) and ``{"automaticUserConsentSettings": {"outboundAllowed": true}}`` (source) -> 204.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .calls import Call, TenantSide
from .steps import CTAP_PATH

__all__ = ["Difference", "read_cloud_endpoints", "plan_cloud_endpoint", "read_partner", "plan_partner",
           "plan_inbound_sync", "plan_redemption", "POLICY_PERMISSION"]

POLICY_PERMISSION = "Policy.ReadWrite.CrossTenantAccess"


@dataclass(frozen=True)
class Difference:
    """A setting that holds another explicit value than the one sync needs."""

    tenant: str
    tenant_id: str
    path: str
    field: str
    current: Any
    wanted: Any

    def to_dict(self) -> dict[str, Any]:
        return {"tenant": self.tenant, "tenantId": self.tenant_id, "path": self.path, "field": self.field,
                "current": self.current, "wanted": self.wanted}

    def line(self) -> str:
        return f"{self.tenant} {self.tenant_id}: {self.path} {self.field}: {self.current!r} -> {self.wanted!r}"


def _policy_body(body: Any) -> dict[str, Any]:
    # The documented GET example wraps the policy in "value" (crosstenantaccesspolicy-get.md); accept both.
    if isinstance(body, dict) and isinstance(body.get("value"), dict):
        return body["value"]
    return body if isinstance(body, dict) else {}


def read_cloud_endpoints(side: TenantSide, step: str) -> list[str]:
    body = side.read(CTAP_PATH, step=step, permission=POLICY_PERMISSION)
    return list(_policy_body(body).get("allowedCloudEndpoints") or [])


def plan_cloud_endpoint(side: TenantSide, endpoint: str, step: str) -> list[Call]:
    """Add ``endpoint`` to allowedCloudEndpoints, keeping the values already there (PATCH replaces the list)."""
    current = read_cloud_endpoints(side, step)
    if endpoint in current:
        return []
    return [Call(side.role, step, "PATCH", CTAP_PATH, {"allowedCloudEndpoints": current + [endpoint]},
                 f"allow B2B with the {endpoint} cloud (keeps {current or 'no other value'})",
                 permission=POLICY_PERMISSION)]


def read_partner(side: TenantSide, partner_tenant_id: str, step: str) -> dict[str, Any] | None:
    return side.read_or_none(f"{CTAP_PATH}/partners/{partner_tenant_id}", step=step, permission=POLICY_PERMISSION)


def plan_partner(side: TenantSide, partner: dict[str, Any] | None, partner_tenant_id: str, step: str) -> list[Call]:
    if partner is not None:
        return []
    return [Call(side.role, step, "POST", f"{CTAP_PATH}/partners", {"tenantId": partner_tenant_id},
                 f"partner entry for tenant {partner_tenant_id}", permission=POLICY_PERMISSION)]


def plan_inbound_sync(side: TenantSide, partner_exists: bool, source_tenant_id: str, display_name: str,
                      step: str) -> tuple[list[Call], list[Difference]]:
    """Target: identitySynchronization with userSyncInbound.isSyncAllowed true for the source tenant."""
    path = f"{CTAP_PATH}/partners/{source_tenant_id}/identitySynchronization"
    current = side.read_or_none(path, step=step, permission=POLICY_PERMISSION) if partner_exists else None
    if current is None:
        return [Call(side.role, step, "PUT", path,
                     {"displayName": display_name, "userSyncInbound": {"isSyncAllowed": True}},
                     "allow user synchronization into this tenant", permission=POLICY_PERMISSION)], []
    allowed = (current.get("userSyncInbound") or {}).get("isSyncAllowed")
    if allowed is True:
        return [], []
    diffs = []
    if allowed is False:
        diffs.append(Difference(side.role, side.tenant_id, path, "userSyncInbound.isSyncAllowed", False, True))
    return [Call(side.role, step, "PATCH", path, {"userSyncInbound": {"isSyncAllowed": True}},
                 "allow user synchronization into this tenant", permission=POLICY_PERMISSION)], diffs


def plan_redemption(side: TenantSide, partner: dict[str, Any] | None, partner_tenant_id: str, direction: str,
                    step: str) -> tuple[list[Call], list[Difference]]:
    """Automatic redemption: ``direction`` "inbound" (target) or "outbound" (source)."""
    key = f"{direction}Allowed"
    path = f"{CTAP_PATH}/partners/{partner_tenant_id}"
    settings = dict((partner or {}).get("automaticUserConsentSettings") or {})
    value = settings.get(key)
    if value is True:
        return [], []
    diffs = [Difference(side.role, side.tenant_id, path, f"automaticUserConsentSettings.{key}", False, True)] \
        if value is False else []
    wanted: dict[str, Any] = {key: True}
    other = "outboundAllowed" if direction == "inbound" else "inboundAllowed"
    if settings.get(other) is not None:
        # A complex property is replaced as a whole by PATCH: keep the other direction's explicit value.
        wanted[other] = settings[other]
    body: dict[str, Any] = {"automaticUserConsentSettings": wanted}
    if direction == "inbound" and (partner or {}).get("inboundTrust") is None:
        # The documented body sends "inboundTrust": null; it is only sent when it changes nothing (a trust
        # setting an admin made on an existing partner is kept).
        body = {"inboundTrust": None, **body}
    return [Call(side.role, step, "PATCH", path, body, f"automatic redemption ({direction})",
                 permission=POLICY_PERMISSION)], diffs
