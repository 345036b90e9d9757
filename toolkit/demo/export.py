"""The demo's export step: both tenants of the scenario exported to snapshots (the source with its scoping
groups from samples/scope.txt)."""

from __future__ import annotations

from typing import Any

from .runs import SyncRun

__all__ = ["step_export"]


def step_export(sync: SyncRun) -> dict[str, Any]:
    from toolkit.export import export_tenant
    from toolkit.plan import Scope, load_scope

    scope_file = sync.samples / "scope.txt"
    # Seeds given with --seed-dir may come without the demo's scoping file: then every member is in scope.
    scope = load_scope(scope_file) if scope_file.is_file() else Scope()
    sync.data["scope"] = scope
    out: dict[str, Any] = {}
    for role, run, groups in (("source", sync.source, scope.groups), ("target", sync.target, ())):
        folder = sync.out_dir / "snapshots" / run.profile.name
        data = export_tenant(run.client, groups=groups, out_dir=folder, cloud=run.profile.cloud, overwrite=True)
        sync.data[role] = data
        out[role] = {"tenant": data.display_name, "tenantId": data.tenant_id, "cloud": data.cloud,
                     "counts": data.counts(), "snapshot": data.stats.get("snapshot")}
    return out
