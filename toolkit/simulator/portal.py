"""Admin-portal-only steps of cross-cloud synchronization, simulated as what they are: an admin's click in a
tenant's Entra admin center. Graph cannot make them (no documented property or API, graph-facts 1.4 / 2.4), so
ccsync's client cannot either; ``Simulator.portal_*`` and ``ccsync sim portal ...`` call these.
"""

from __future__ import annotations

import copy
from typing import Any

from ..clouds import get_cloud
from ..errors import InputError
from .enterprise_apps import PORTAL_CLOUD_NAMES

__all__ = ["tick_cross_cloud_sync", "create_cross_cloud_configuration", "run_cycles"]


def tick_cross_cloud_sync(tenant: Any, source_cloud: str) -> dict[str, Any]:
    """Target tenant > External Identities > Cross-tenant access settings > Microsoft cloud settings: tick the
    cloud and its "cross-cloud synchronization" checkbox (graph-facts 1.4 step 2). Ticking allows the cloud in
    allowedCloudEndpoints and creates the service principal holding User.ReadWrite.CrossCloud, User.Invite.All,
    Organization.Read.All and Policy.Read.All. Returns that service principal (Graph shape)."""
    cloud = get_cloud(source_cloud)
    endpoint = cloud.allowed_cloud_endpoint
    if endpoint == tenant.cross_tenant.own_cloud_endpoint:
        raise InputError(f"{cloud.display_name} is the tenant's own cloud: cross-cloud synchronization is for "
                         "another Microsoft cloud.", field="cloud",
                         hint="Name the SOURCE tenant's cloud, e.g. commercial for a GCC High target.")
    with tenant.lock:
        if endpoint not in tenant.cross_tenant.allowed_cloud_endpoints:
            tenant.cross_tenant.allowed_cloud_endpoints.append(endpoint)
        tenant.cross_tenant.cross_cloud_sync_from.add(endpoint)
        sp = tenant.enterprise_apps.add_cross_cloud_sync_principal(PORTAL_CLOUD_NAMES.get(endpoint, endpoint))
        return copy.deepcopy(sp)


def create_cross_cloud_configuration(tenant: Any, display_name: str) -> dict[str, Any]:
    """Source tenant > Cross-tenant synchronization > Configurations > New configuration, with "Setup
    cross-tenant synchronization across Microsoft clouds" ticked (graph-facts 1.4 step 5). Creates the same
    application and service principal as the template's instantiate, marked cross-cloud. Returns the service
    principal (Graph shape)."""
    name = (display_name or "").strip()
    if not name:
        raise InputError("a configuration needs a name.", field="name", hint="Give the configuration a name.")
    with tenant.lock:
        _, sp = tenant.enterprise_apps.instantiate_cts(name)
        tenant.enterprise_apps.cross_cloud_configurations.add(sp["id"])
        return copy.deepcopy(sp)


def run_cycles(directory: Any, tenant: Any | None = None, job_id: str | None = None) -> list[dict[str, Any]]:
    """Run one provisioning cycle now for every active job (of one tenant, or one job), whatever its schedule.
    A job quarantined for TooManyDeletes waits for start or restart, as in Entra. Returns the jobs' views."""
    from . import syncengine

    out = []
    for source in ([tenant] if tenant is not None else list(directory.tenants.values())):
        with source.lock:
            jobs = source.enterprise_apps.all_jobs()
        for sp_id, job in jobs:
            if job_id is not None and job.id != job_id:
                continue
            if job.schedule.get("state") != "Active":
                continue
            if (job.status.get("quarantine") or {}).get("reason") == "TooManyDeletes":
                continue
            view = syncengine.run_cycle(directory, source, sp_id, job.id)
            view["servicePrincipalId"] = sp_id
            view["tenantId"] = source.tenant_id
            out.append(view)
    return out
