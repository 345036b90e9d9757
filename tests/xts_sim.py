"""Helpers for the cross-tenant sync simulator tests: a fresh pair of tenants (commercial source, GCC High
target) built from ``conftest.make_seed``, with an app that holds the policy, application and sync permissions.
Talks to the simulator with plain requests (conftest.GraphCaller), never with ccsync's client."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conftest import SEED_APP, graph_caller, make_seed
from toolkit.simulator import SimConfig, Simulator

SOURCE = "0b8e8a3c-1d1f-4a43-9b5c-6f0a5d2e7a01"    # commercial
TARGET = "1c9f9b4d-2e20-4b54-8c6d-7a1b6e3f8b02"    # GCC High
SAME_CLOUD_TARGET = "2da0ac5e-3f31-4c65-9d7e-8b2c7f4a9c03"   # commercial
SYNC_ROLES = ["Policy.Read.All", "Policy.ReadWrite.CrossTenantAccess", "Policy.ReadWrite.Authorization",
              "Application.ReadWrite.All", "AppRoleAssignment.ReadWrite.All", "Synchronization.ReadWrite.All",
              "AuditLog.Read.All"]
FIXTURES = Path(__file__).parent / "fixtures" / "entra-sync"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def pair_seeds(**source_kwargs: Any) -> list[dict[str, Any]]:
    """Three empty-of-policy tenants: a commercial source, a GCC High target, a second commercial tenant."""
    seeds = [make_seed(tenant_id=SOURCE, cloud="commercial", domain="fourthcoffee", **source_kwargs),
             make_seed(users=2, tenant_id=TARGET, cloud="gcch", domain="northwindgov"),
             make_seed(users=2, tenant_id=SAME_CLOUD_TARGET, cloud="commercial", domain="adatum")]
    for seed in seeds:
        for app in seed["apps"]:
            if app["appId"] == SEED_APP:
                app["roles"] = [*app["roles"], *SYNC_ROLES]
    return seeds


def pair_sim(**source_kwargs: Any) -> Simulator:
    return Simulator(SimConfig(seed_dir=None, seeds=pair_seeds(**source_kwargs))).start()


def callers(sim: Simulator) -> tuple[Any, Any, Any]:
    """Graph callers for the source, the GCC High target and the same-cloud target (the ccsync app)."""
    return (graph_caller(sim, SOURCE, SEED_APP), graph_caller(sim, TARGET, SEED_APP),
            graph_caller(sim, SAME_CLOUD_TARGET, SEED_APP))


def shape(value: Any) -> Any:
    """Keys and JSON types of a document (lists by their first item), to compare with a documented example."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items() if not k.startswith("@odata")}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__ if value is not None else None


CTAP = "policies/crossTenantAccessPolicy"
CTS_TEMPLATE = "518e5f48-1fc8-4c48-9387-9fdf28b0dfe7"
GROUP = "5a0c5b1e-2f34-4c6a-8e0e-1b2c3d4e5f60"      # conftest's "Licensed staff": users 2, 3, 4 + a nested group


def configure_target(tgt: Any, source_id: str = SOURCE) -> None:
    """The target side by Graph: partner, inbound user sync, inbound automatic redemption ([CTS-GRAPH] 1-3)."""
    assert tgt.post(f"{CTAP}/partners", {"tenantId": source_id}).status_code == 201
    assert tgt.call("PUT", f"{CTAP}/partners/{source_id}/identitySynchronization",
                    json={"displayName": "source", "userSyncInbound": {"isSyncAllowed": True}}).status_code == 204
    assert tgt.patch(f"{CTAP}/partners/{source_id}",
                     {"inboundTrust": None, "automaticUserConsentSettings": {"inboundAllowed": True}}).status_code == 204


def configure_source(src: Any, target_id: str = TARGET) -> None:
    assert src.post(f"{CTAP}/partners", {"tenantId": target_id}).status_code == 201
    assert src.patch(f"{CTAP}/partners/{target_id}",
                     {"automaticUserConsentSettings": {"outboundAllowed": True}}).status_code == 204


def new_configuration(src: Any, name: str = "Northwind Gov") -> dict[str, Any]:
    resp = src.post(f"applicationTemplates/{CTS_TEMPLATE}/instantiate", {"displayName": name})
    assert resp.status_code == 201, resp.text
    return resp.json()["servicePrincipal"]


def new_job(src: Any, sp: dict[str, Any], target_id: str = TARGET, *, assign: list[str] = (GROUP,),
            notification: dict[str, Any] | None = None) -> str:
    """Job, secrets (assigned users only), assignments, start. Returns the job id."""
    jobs = f"servicePrincipals/{sp['id']}/synchronization/jobs"
    job = src.post(jobs, {"templateId": "Azure2Azure"})
    assert job.status_code == 201, job.text
    settings = notification or {"Enabled": False, "DeleteThresholdEnabled": False}
    assert src.call("PUT", f"servicePrincipals/{sp['id']}/synchronization/secrets", json={"value": [
        {"key": "AuthenticationType", "value": "SyncPolicy"}, {"key": "CompanyId", "value": target_id},
        {"key": "SyncNotificationSettings", "value": json.dumps(settings)},
        {"key": "SyncAll", "value": "false"}]}).status_code == 204
    for principal in assign:
        resp = src.post(f"servicePrincipals/{sp['id']}/appRoleAssignedTo",
                        {"appRoleId": sp["appRoles"][0]["id"], "resourceId": sp["id"], "principalId": principal})
        assert resp.status_code == 201, resp.text
    job_id = job.json()["id"]
    assert src.post(f"{jobs}/{job_id}/start").status_code == 204
    return job_id


def ready_cross_cloud_pair(sim: Simulator, src: Any, tgt: Any, **job_kwargs: Any) -> tuple[dict[str, Any], str]:
    """Everything configured for commercial -> GCC High: Graph steps in both tenants, both portal-only ticks."""
    assert src.patch(CTAP, {"allowedCloudEndpoints": ["microsoftonline.us"]}).status_code == 204
    sim.portal_tick_cross_cloud_sync(TARGET, "commercial")
    configure_target(tgt)
    configure_source(src)
    sp = sim.portal_create_cross_cloud_configuration(SOURCE, "Northwind Gov")
    return sp, new_job(src, sp, **job_kwargs)


def target_user_for(sim: Simulator, mail: str) -> dict[str, Any] | None:
    tenant = sim.tenant(TARGET)
    return next((u for u in tenant.users.values() if str(u.get("mail", "")).lower() == mail.lower()), None)
