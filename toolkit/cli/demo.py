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
    folder = run.out_dir / run.profile.name
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(json.dumps({"value": items}, indent=2, ensure_ascii=False), encoding="utf-8")
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


def run_tenant(run: TenantRun, steps: list[DemoStep]) -> dict[str, Any]:
    """Run the steps for one tenant; a CcsyncError stops that tenant (recorded) but not the others."""
    result: dict[str, Any] = {"profile": run.profile.name, "cloud": run.profile.cloud,
                              "tenant": run.profile.tenant, "steps": run.sections}
    try:
        for step in steps:
            info(f"[{run.profile.name}] {step.title} ...")
            run.sections[step.key] = step.run(run)
    except CcsyncError as err:
        warn(f"[{run.profile.name}] {err}")
        result["error"] = err.to_dict()
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
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None, metavar="DIR",
              help="Also write demo.json and, per tenant, the users and SKUs Graph returned (Graph's JSON shape).")
@common_options
@click.pass_context
def demo_command(ctx: click.Context, seed_dir: str | None, out_dir: str | None) -> None:
    """Start the simulated clouds in-process and, for each seeded tenant, sign in through msal and read its
    users and subscribed SKUs through the real Graph client. Exits 1 if any tenant failed.

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
    failed = [t["profile"] for t in tenants if "error" in t]
    data = {"tenants": tenants, "failed": failed,
            "totals": {"tenants": len(tenants),
                       "users": sum(t["steps"].get("users", {}).get("count", 0) for t in tenants),
                       "graphRequests": sum((t["graphCalls"] or {}).get("requests", 0) for t in tenants)}}
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "demo.json").write_text(json.dumps(to_jsonable(data), indent=2, ensure_ascii=False),
                                       encoding="utf-8")
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

    emit(data, render)
    if failed:
        ctx.exit(1)
