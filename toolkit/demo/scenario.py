"""The demo scenario, driven end to end: start the simulated clouds in-process, read every seeded tenant
(``tenant.TENANT_STEPS``), then run the cross-cloud scenario Contoso (commercial) -> Fabrikam Federal (GCC High)
through ``SYNC_STEPS``, and write ``demo.json``.

Each step reads what earlier steps left in its run and returns a JSON-friendly section. A CcsyncError stops a
tenant's steps (or the scenario's) and is recorded in the document; the other tenants go on. The library never
prints: progress and warnings go to the callbacks the caller gives (the CLI sends them to stderr).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from toolkit.errors import CcsyncError
from toolkit.jsonable import to_jsonable

from .apply import step_apply, step_replan
from .eligibility import step_eligibility
from .entra import step_entra
from .export import step_export
from .logs import step_logs
from .migrate import step_migrate
from .plan import step_plan
from .runs import SOURCE_CLOUD, TARGET_CLOUD, Step, SyncRun, TenantRun, ignore
from .tenant import TENANT_STEPS
from .xts import step_xts

__all__ = ["DemoResult", "run_demo", "SYNC_STEPS", "TENANT_STEPS", "first_profile_per_tenant"]

SYNC_STEPS: list[Step] = [
    Step("export", "exporting both tenants", step_export),
    Step("eligibility", "checking licence eligibility", step_eligibility),
    Step("plan", "planning the sync", step_plan),
    Step("apply", "applying the plan to the target cloud", step_apply),
    Step("replan", "re-planning against the target after the apply", step_replan),
    Step("migrate", "migrating samples/migration-portal.csv into the target", step_migrate),
    Step("xts", "configuring Entra's own cross-cloud sync (ccsync xts) and running a cycle", step_xts),
    Step("entra", "planning a scope change through Entra's sync job, applying it, planned vs. observed", step_entra),
    Step("logs", "fetching the provisioning and audit logs of these runs", step_logs),
]

Message = Callable[[str], None]


@dataclass(frozen=True)
class DemoResult:
    """What the demo did. ``document`` is the JSON document (``tenants``, ``sync``, ``failed``, ``totals``),
    already JSON values; ``graph_urls`` (profile -> Graph base URL) and ``written`` are for the person reading."""

    document: dict[str, Any]
    graph_urls: dict[str, str]
    written: Path | None = None       # demo.json, when an output folder was given

    @property
    def failed(self) -> list[str]:
        """Profiles whose steps failed, and "sync" when the scenario did."""
        return list(self.document["failed"])


def _run_steps(label: str, subject: Any, steps: list[Step], result: dict[str, Any], progress: Message,
               warn: Message) -> dict[str, Any]:
    """Run steps in order into ``subject.sections``; a CcsyncError stops them and is recorded in ``result``."""
    try:
        for step in steps:
            progress(f"[{label}] {step.title} ...")
            subject.sections[step.key] = step.run(subject)
    except CcsyncError as err:
        warn(f"[{label}] {err}")
        result["error"] = err.to_dict()
    return result


def run_tenant(run: TenantRun, steps: list[Step], progress: Message = ignore, warn: Message = ignore) -> dict[str, Any]:
    """Run the steps for one tenant; a CcsyncError stops that tenant (recorded) but not the others."""
    result = _run_steps(run.profile.name, run, steps, {"profile": run.profile.name, "cloud": run.profile.cloud,
                                                       "tenant": run.profile.tenant, "steps": run.sections},
                        progress, warn)
    result["graphCalls"] = to_jsonable(run.client.stats) if run.client is not None else None
    return result


def run_sync(sync: SyncRun, steps: list[Step], progress: Message = ignore, warn: Message = ignore) -> dict[str, Any]:
    """Run the sync scenario's steps; a CcsyncError stops the scenario (recorded)."""
    return _run_steps("sync", sync, steps, {"source": sync.source.profile.name,
                                            "target": sync.target.profile.name, "steps": sync.sections},
                      progress, warn)


def first_profile_per_tenant(profiles: list[Any]) -> list[Any]:
    """The demo signs in once per tenant, with the tenant's first (fully permissioned) app."""
    seen: set[str] = set()
    chosen = []
    for profile in profiles:
        if profile.tenant not in seen:
            seen.add(profile.tenant)
            chosen.append(profile)
    return chosen


def run_demo(seed_dir: str | Path | None = None, out_dir: str | Path | None = "demo-output", *,
             progress: Message = ignore, warn: Message = ignore) -> DemoResult:
    """Run the whole demo against simulated clouds started from ``seed_dir`` (default: samples/tenants), writing
    snapshots, workbooks, plans and ``demo.json`` under ``out_dir`` (None: read the tenants only, no scenario).

    Simulated tokens go to a throw-away cache, never the admin's. Raises InputError for unusable seeds.
    """
    from toolkit.private import make_private_dir
    from toolkit.writefile import write_text
    from toolkit.simulator import Simulator
    from toolkit.simulator.launch import build_config, resolve_seed_dir, throwaway_token_cache

    out = Path(out_dir) if out_dir else None
    tenants: list[dict[str, Any]] = []
    runs: list[TenantRun] = []
    sync_result = None
    with throwaway_token_cache(), Simulator(build_config(seed_dir)) as sim:
        profiles = first_profile_per_tenant(sim.profiles())
        progress(f"Simulator running for {len(profiles)} tenant(s); CA bundle {sim.ca_bundle}")
        for profile in profiles:
            run = TenantRun(profile, sim.secret_for(profile.tenant, profile.client_id), out)
            runs.append(run)
            tenants.append(run_tenant(run, TENANT_STEPS, progress, warn))
        ok = {t["profile"] for t in tenants if "error" not in t}
        by_cloud = {r.profile.cloud: r for r in runs if r.client is not None and r.profile.name in ok}
        if SOURCE_CLOUD in by_cloud and TARGET_CLOUD in by_cloud and out is not None:
            make_private_dir(out, what="demo output folder")       # snapshots, plans and logs name users
            # The scenario's scope, mapping and CSV samples sit next to the seeds.
            samples = resolve_seed_dir(seed_dir).parent
            sync = SyncRun(by_cloud[SOURCE_CLOUD], by_cloud[TARGET_CLOUD], out, samples, sim, warn=warn)
            sync_result = run_sync(sync, SYNC_STEPS, progress, warn)
    failed = [t["profile"] for t in tenants if "error" in t]
    if sync_result is not None and "error" in sync_result:
        failed.append("sync")
    document = to_jsonable({
        "tenants": tenants, "sync": sync_result, "failed": failed,
        "totals": {"tenants": len(tenants),
                   "users": sum(t["steps"].get("users", {}).get("count", 0) for t in tenants),
                   "graphRequests": sum((t["graphCalls"] or {}).get("requests", 0) for t in tenants)}})
    written = None
    if out is not None:
        make_private_dir(out, what="demo output folder")
        write_text(out / "demo.json", json.dumps(document, indent=2, ensure_ascii=False))
        written = out / "demo.json"
    return DemoResult(document, {r.profile.name: r.profile.graph_base for r in runs}, written)
