"""``ccsync demo``: the simulated clouds, exercised through the same code paths a real tenant uses.

The demo is a list of per-tenant steps (``DEMO_STEPS``). Each step reads what earlier steps left in the
``TenantRun`` and returns a JSON-friendly section; later features (eligibility, plan, apply) are added as steps.
"""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import click

from toolkit.errors import CcsyncError

from .output import add_rows, common_options, emit, info, key_value_table, new_table, to_jsonable, warn
from .demo_apply import demo_plan_options, render_apply, render_replan, step_apply, step_replan
from .demo_migrate import render_migrate, step_migrate
from .demo_logs import render_logs, step_logs
from .demo_xts import render_xts, step_xts
from .demo_entra import render_entra, step_entra

USER_SELECT = "id,displayName,userPrincipalName,userType,accountEnabled,usageLocation"
SAMPLE_ROWS = 5


@dataclass
class TenantRun:
    """One simulated tenant going through the demo: its profile, its Graph client, and what steps found."""

    profile: Any
    secret: str
    out_dir: Path | None = None
    client: Any = None
    sections: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DemoStep:
    key: str                                        # the section name in the JSON document
    title: str                                      # progress message
    run: Callable[[TenantRun], dict[str, Any]]
    render: Callable[[Any, TenantRun, dict[str, Any]], None]


def _save(run: TenantRun, name: str, items: list[dict[str, Any]]) -> str | None:
    """Keep what Graph returned in Graph's own collection shape, so offline inputs can read it back."""
    if run.out_dir is None:
        return None
    from toolkit.report.atomic import write_text

    from toolkit.private import make_private_dir

    folder = make_private_dir(run.out_dir / run.profile.name, what="demo output folder")   # it names users
    path = write_text(folder / f"{name}.json", json.dumps({"value": items}, indent=2, ensure_ascii=False))
    return str(path)


def step_sign_in(run: TenantRun) -> dict[str, Any]:
    from toolkit.graph import GraphClient

    run.client = GraphClient.from_profile(run.profile, secret=run.secret)
    orgs = run.client.get("/organization").get("value", [])
    org = orgs[0] if orgs else {}
    return {"organization": org.get("displayName"), "tenantId": org.get("id"),
            "verifiedDomains": [d.get("name") for d in org.get("verifiedDomains", []) if d.get("name")]}


def render_sign_in(console: Any, run: TenantRun, section: dict[str, Any]) -> None:
    console.print(key_value_table([
        ("profile", run.profile.name), ("cloud", run.profile.cloud), ("organization", section["organization"]),
        ("tenant ID", section["tenantId"]), ("Graph", run.profile.graph_base)],
        title=f"{run.profile.name}: signed in through msal"))


def step_users(run: TenantRun) -> dict[str, Any]:
    users = list(run.client.iter_items("/users", params={"$select": USER_SELECT, "$top": "100"}))
    keys = USER_SELECT.split(",")
    return {"count": len(users), "sample": [{k: u.get(k) for k in keys} for u in users[:SAMPLE_ROWS]],
            "savedTo": _save(run, "users", users)}


def render_users(console: Any, run: TenantRun, section: dict[str, Any]) -> None:
    table = new_table("displayName", "userPrincipalName", "userType", "accountEnabled", "usageLocation",
                      title=f"{run.profile.name}: {section['count']} users (first {len(section['sample'])})")
    add_rows(table, [(u["displayName"], u["userPrincipalName"], u["userType"], u["accountEnabled"],
                      u["usageLocation"]) for u in section["sample"]])
    console.print(table)


def step_skus(run: TenantRun) -> dict[str, Any]:
    skus = list(run.client.iter_items("/subscribedSkus"))
    rows = [{"skuPartNumber": s.get("skuPartNumber"), "skuId": s.get("skuId"),
             "enabled": (s.get("prepaidUnits") or {}).get("enabled"), "consumed": s.get("consumedUnits")}
            for s in skus]
    return {"count": len(rows), "skus": rows, "savedTo": _save(run, "subscribedSkus", skus)}


def render_skus(console: Any, run: TenantRun, section: dict[str, Any]) -> None:
    table = new_table("skuPartNumber", "enabled", "consumed", title=f"{run.profile.name}: subscribed SKUs")
    add_rows(table, [(s["skuPartNumber"], s["enabled"], s["consumed"]) for s in section["skus"]])
    console.print(table)


DEMO_STEPS: list[DemoStep] = [
    DemoStep("signIn", "signing in", step_sign_in, render_sign_in),
    DemoStep("users", "listing users", step_users, render_users),
    DemoStep("subscribedSkus", "listing subscribed SKUs", step_skus, render_skus),
]


# --- the sync scenario: one source and one target tenant across clouds ---------------------------------------

DEMO_SOURCE_CLOUD, DEMO_TARGET_CLOUD = "commercial", "gcch"


@dataclass
class SyncRun:
    """The demo's cross-cloud scenario (Contoso -> Fabrikam Federal): what each sync step left behind."""

    source: TenantRun
    target: TenantRun
    out_dir: Path
    samples: Path
    sim: Any = None
    data: dict[str, Any] = field(default_factory=dict)      # step results that later steps read
    sections: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SyncStep:
    key: str
    title: str
    run: Callable[[SyncRun], dict[str, Any]]
    render: Callable[[Any, SyncRun, dict[str, Any]], None]


def step_export(sync: SyncRun) -> dict[str, Any]:
    from toolkit.export import export_tenant
    from toolkit.plan import load_scope

    from toolkit.plan import Scope

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


def render_export(console: Any, sync: SyncRun, section: dict[str, Any]) -> None:
    table = new_table("role", "tenant", "cloud", "users", "licence rows", "snapshot", title="Export")
    add_rows(table, [(role, s["tenant"], s["cloud"], s["counts"]["users"], s["counts"]["license_assignments"],
                      s["snapshot"]) for role, s in section.items()])
    console.print(table)


def step_eligibility(sync: SyncRun) -> dict[str, Any]:
    from toolkit.licensing import evaluate_eligibility
    from toolkit.licensing.eligibility import STATUSES
    from toolkit.plan import scope_user_ids
    from toolkit.report import write_eligibility_workbook

    source = sync.data["source"]
    result = evaluate_eligibility(source, source.cloud, DEMO_TARGET_CLOUD,
                                  scope_user_ids=scope_user_ids(source, sync.data["scope"]))
    sync.data["eligibility"] = result
    report = write_eligibility_workbook(sync.out_dir / "eligibility.xlsx", result.users, result.seats,
                                        source.skus, result.summary, STATUSES)
    s = result.summary
    return {"pair": result.pair.to_dict(), "usersInScope": s.get("usersInScope"), "eligible": s.get("eligible"),
            "notEligible": s.get("notEligible"), "byStatus": {k: v for k, v in s.get("byStatus", {}).items() if v},
            "report": str(report)}


def render_eligibility(console: Any, sync: SyncRun, section: dict[str, Any]) -> None:
    console.print(key_value_table([
        ("pair", f"{section['pair']['source']} -> {section['pair']['target']} ({section['pair']['kind']})"),
        ("users in scope", section["usersInScope"]), ("eligible", section["eligible"]),
        ("not eligible", section["notEligible"]), ("workbook", section["report"])],
        title="Licence eligibility for cross-cloud sync"))
    console.print(add_rows(new_table("status", "users"), sorted(section["byStatus"].items())))


def step_plan(sync: SyncRun) -> dict[str, Any]:
    from toolkit.plan import plan_sync
    from toolkit.report import write_plan_workbook

    plan = plan_sync(sync.data["source"], sync.data["target"], scope=sync.data["scope"],
                     eligibility=sync.data["eligibility"].users, options=demo_plan_options())
    path = plan.save(sync.out_dir / "plan.json")
    sync.data["plan"] = plan
    sync.data["planFile"] = path
    report = write_plan_workbook(sync.out_dir / "plan.xlsx", plan, plan_file=str(path))
    return {"counts": plan.counts(), "planFile": str(path), "report": str(report),
            "needsAttention": [{"kind": r.kind, "user": r.sourceUpn, "reason": r.reason}
                               for r in plan.ops[plan.ops["kind"].isin(["conflict", "blocked"])].itertuples()]}


def render_plan(console: Any, sync: SyncRun, section: dict[str, Any]) -> None:
    counts = section["counts"]
    console.print(key_value_table([("plan file", section["planFile"]), ("workbook", section["report"])],
                                  title="Sync plan"))
    console.print(add_rows(new_table("operation", "users"), [(k, v) for k, v in counts.items() if k != "total"]))
    if section["needsAttention"]:
        console.print(add_rows(new_table("kind", "source user", "reason", title="Needs attention"),
                               [(r["kind"], r["user"], r["reason"]) for r in section["needsAttention"]]))


SYNC_STEPS: list[SyncStep] = [
    SyncStep("export", "exporting both tenants", step_export, render_export),
    SyncStep("eligibility", "checking licence eligibility", step_eligibility, render_eligibility),
    SyncStep("plan", "planning the sync", step_plan, render_plan),
    SyncStep("apply", "applying the plan to the target cloud", step_apply, render_apply),
    SyncStep("replan", "re-planning against the target after the apply", step_replan, render_replan),
    SyncStep("migrate", "migrating samples/migration-portal.csv into the target", step_migrate, render_migrate),
    SyncStep("xts", "configuring Entra's own cross-cloud sync (ccsync xts) and running a cycle", step_xts, render_xts),
    SyncStep("entra", "planning a scope change through Entra's sync job, applying it, planned vs. observed", step_entra, render_entra),
    SyncStep("logs", "fetching the provisioning and audit logs of these runs", step_logs, render_logs),
]


def _run_steps(label: str, subject: Any, steps: list[Any], result: dict[str, Any]) -> dict[str, Any]:
    """Run steps in order into ``subject.sections``; a CcsyncError stops them and is recorded in ``result``."""
    try:
        for step in steps:
            info(f"[{label}] {step.title} ...")
            subject.sections[step.key] = step.run(subject)
    except CcsyncError as err:
        warn(f"[{label}] {err}")
        result["error"] = err.to_dict()
    return result


def run_sync(sync: SyncRun, steps: list[SyncStep]) -> dict[str, Any]:
    """Run the sync scenario's steps; a CcsyncError stops the scenario (recorded)."""
    return _run_steps("sync", sync, steps, {"source": sync.source.profile.name,
                                            "target": sync.target.profile.name, "steps": sync.sections})


def run_tenant(run: TenantRun, steps: list[DemoStep]) -> dict[str, Any]:
    """Run the steps for one tenant; a CcsyncError stops that tenant (recorded) but not the others."""
    result = _run_steps(run.profile.name, run, steps, {"profile": run.profile.name, "cloud": run.profile.cloud,
                                                       "tenant": run.profile.tenant, "steps": run.sections})
    result["graphCalls"] = to_jsonable(run.client.stats) if run.client is not None else None
    return result


def first_profile_per_tenant(profiles: list[Any]) -> list[Any]:
    """The demo signs in once per tenant, with the tenant's first (fully permissioned) app."""
    seen: set[str] = set()
    chosen = []
    for profile in profiles:
        if profile.tenant not in seen:
            seen.add(profile.tenant)
            chosen.append(profile)
    return chosen


def _samples_dir(seed_dir: str | None) -> Path:
    """The samples folder next to the seeds (scope and mapping files of the demo)."""
    from .sim import resolve_seed_dir

    return Path(resolve_seed_dir(seed_dir)).parent


@contextmanager
def private_token_cache() -> Iterator[str]:
    """Point ccsync's token cache (CCSYNC_CACHE_DIR) at a throw-away folder for the duration.

    Simulated tokens must not land in the admin's real cache, and a token cached by an earlier simulator run
    (signed with that run's key) must not be offered to this one.
    """
    previous = os.environ.get("CCSYNC_CACHE_DIR")
    with tempfile.TemporaryDirectory(prefix="ccsync-demo-tokens-") as folder:
        os.environ["CCSYNC_CACHE_DIR"] = folder
        try:
            yield folder
        finally:
            if previous is None:
                os.environ.pop("CCSYNC_CACHE_DIR", None)
            else:
                os.environ["CCSYNC_CACHE_DIR"] = previous


@click.command("demo")
@click.option("--seed-dir", type=click.Path(exists=True, file_okay=False), default=None, metavar="DIR",
              help="Directory of tenant seed files (*.json). Default: the sample tenants in samples/tenants.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="demo-output", show_default=True,
              metavar="DIR", help="Where the demo writes demo.json, the snapshots, the workbooks and the plan.")
@common_options
@click.pass_context
def demo_command(ctx: click.Context, seed_dir: str | None, out_dir: str | None) -> None:
    """Start the simulated clouds in-process; for each seeded tenant sign in through msal and read its users
    and subscribed SKUs through the real Graph client; then run the cross-cloud scenario Contoso (commercial)
    -> Fabrikam Federal (GCC High): export both, check licence eligibility (workbook), plan the sync (plan file
    and workbook). Exits 1 if any step failed.

    Example: ccsync demo --out demo-output
    """
    from toolkit.simulator import Simulator

    from .sim import build_config

    out = Path(out_dir) if out_dir else None
    tenants: list[dict[str, Any]] = []
    runs: list[TenantRun] = []
    with private_token_cache(), Simulator(build_config(seed_dir)) as sim:
        profiles = first_profile_per_tenant(sim.profiles())
        info(f"Simulator running for {len(profiles)} tenant(s); CA bundle {sim.ca_bundle}")
        for profile in profiles:
            run = TenantRun(profile, sim.secret_for(profile.tenant, profile.client_id), out)
            runs.append(run)
            tenants.append(run_tenant(run, DEMO_STEPS))
        sync_result = None
        ok = {t["profile"] for t in tenants if "error" not in t}
        by_cloud = {r.profile.cloud: r for r in runs if r.client is not None and r.profile.name in ok}
        if DEMO_SOURCE_CLOUD in by_cloud and DEMO_TARGET_CLOUD in by_cloud and out is not None:
            from toolkit.private import make_private_dir

            make_private_dir(out, what="demo output folder")       # snapshots, plans and logs name users
            sync = SyncRun(by_cloud[DEMO_SOURCE_CLOUD], by_cloud[DEMO_TARGET_CLOUD], out, _samples_dir(seed_dir),
                           sim)
            sync_result = run_sync(sync, SYNC_STEPS)
    failed = [t["profile"] for t in tenants if "error" in t]
    if sync_result is not None and "error" in sync_result:
        failed.append("sync")
    data = {"tenants": tenants, "sync": sync_result, "failed": failed,
            "totals": {"tenants": len(tenants),
                       "users": sum(t["steps"].get("users", {}).get("count", 0) for t in tenants),
                       "graphRequests": sum((t["graphCalls"] or {}).get("requests", 0) for t in tenants)}}
    if out is not None:
        from toolkit.private import make_private_dir
        from toolkit.report.atomic import write_text

        make_private_dir(out, what="demo output folder")
        write_text(out / "demo.json", json.dumps(to_jsonable(data), indent=2, ensure_ascii=False))
        info(f"Wrote {out / 'demo.json'}")

    def render(console: Any) -> None:
        for run in runs:
            for step in DEMO_STEPS:
                if step.key in run.sections:
                    step.render(console, run, run.sections[step.key])
        summary = new_table("profile", "cloud", "users", "SKUs", "Graph requests", "throttled", "status",
                            title="Summary")
        add_rows(summary, [(t["profile"], t["cloud"], t["steps"].get("users", {}).get("count"),
                            t["steps"].get("subscribedSkus", {}).get("count"),
                            (t["graphCalls"] or {}).get("requests"), (t["graphCalls"] or {}).get("throttled"),
                            "failed" if "error" in t else "ok") for t in tenants])
        console.print(summary)
        if sync_result is not None:
            for step in SYNC_STEPS:
                if step.key in sync.sections:
                    step.render(console, sync, sync.sections[step.key])

    emit(data, render)
    if failed:
        ctx.exit(1)
