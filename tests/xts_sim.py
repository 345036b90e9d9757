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
