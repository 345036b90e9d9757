"""The simulated sync engine's connection check: whether a job can reach its target tenant ("Test connection",
and the first step of every cycle and on-demand provisioning), with the documented errors.

Cross-cloud pairs fail until both tenants are configured: the configuration's cross-cloud checkbox, both
tenants' Microsoft cloud settings, the target's inbound sync policy and the source's outbound automatic
redemption (docs/entra-sync-simulator.md, "Sync engine"; graph-facts 1.4, 2.2 step F, 10).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["SyncFailure", "check_connection"]


@dataclass
class SyncFailure:
    """A documented connection failure: Graph error code, message, and where it shows."""

    code: str
    message: str
    status: int = 400


def _instance(cloud: str) -> str:
    from ..clouds import CLOUDS
    return CLOUDS[cloud].entra_instance if cloud in CLOUDS else cloud


def _endpoint(cloud: str) -> str:
    from ..clouds import CLOUDS
    return CLOUDS[cloud].allowed_cloud_endpoint if cloud in CLOUDS else cloud


def check_connection(directory: Any, source: Any, target_tenant_id: str | None, sp_id: str) -> SyncFailure | None:
    """What "Test connection" / a cycle finds about reaching the target tenant (graph-facts 1.4, 2.2 step F, 10).

    Order: the target must exist for this cloud's authority; cross-cloud: the configuration's cross-cloud
    checkbox, the source's Microsoft cloud settings, the target's cross-cloud checkbox; then the target's inbound
    sync policy and the source's outbound automatic redemption. The target's INBOUND automatic redemption is
    checked per user at export (AzureDirectoryB2BManagementPolicyCheckFailure), as the provisioning-log error
    table shows it.
    """
    if not target_tenant_id:
        # Docs silent: a job whose secrets name no target. We answer as for an unknown tenant.
        return SyncFailure("ExternalTenantNotFound", "The target tenant ID was not provided (CompanyId).")
    target = directory.tenants.get(str(target_tenant_id).lower())
    authority = f"login.microsoftonline.com/{target_tenant_id}"
    if target is None:
        return SyncFailure("ExternalTenantNotFound", f"The tenant '{target_tenant_id}' was not found by the "
                           f"authentication authority of the current cloud ({authority}).")
    cross_cloud = _instance(source.cloud) != _instance(target.cloud)
    if cross_cloud:
        if sp_id not in source.enterprise_apps.cross_cloud_configurations:
            # [CTS-PORTAL]: the configuration was not created with the cross-cloud checkbox
            return SyncFailure("ExternalTenantNotFound", f"The tenant '{target.tenant_id}' was not found by the "
                               f"authentication authority of the current cloud ({authority}). A configuration for "
                               "another Microsoft cloud must be created with 'Setup cross-tenant synchronization "
                               "across Microsoft clouds' selected.")
        if not source.cross_tenant.allows_cloud(_endpoint(target.cloud)):
            # Docs silent on the error when the source has not enabled the target's cloud; the source's authority
            # cannot see the other cloud's tenant, so we answer as the documented "not found".
            return SyncFailure("ExternalTenantNotFound", f"The tenant '{target.tenant_id}' was not found by the "
                               f"authentication authority of the current cloud ({authority}); the Microsoft cloud "
                               f"settings of this tenant do not include {_endpoint(target.cloud)}.")
        if not (target.cross_tenant.accepts_cross_cloud_sync_from(_endpoint(source.cloud))
                and target.cross_tenant.allows_cloud(_endpoint(source.cloud))):
            # [CTS-PORTAL]: the target has not ticked cross-cloud synchronization in its Microsoft cloud settings
            return SyncFailure("AzureActiveDirectoryTokenExpired", "The identity of the calling application could "
                               "not be established.")
    if not target.cross_tenant.inbound_sync_allowed(source.tenant_id):
        return SyncFailure("AzureActiveDirectoryCrossTenantSyncPolicyCheckFailure",
                           "The target tenant has not enabled inbound synchronization with this tenant.")
    if not source.cross_tenant.automatic_redemption(target.tenant_id, "outbound"):
        return SyncFailure("AzureActiveDirectoryCrossTenantSyncPolicyCheckFailure",
                           "The source tenant has not enabled automatic user consent with the target tenant.")
    return None
