"""Benchmark: exporting a simulated tenant (default 100,000 users; --quick 20,000) at 100 ms latency per call.

ccsync: ``toolkit.export.export_tenant`` over loopback HTTPS against the simulator: users with their licence
fields through ``$select`` in pages of 999, SKUs, domains, organization, one scoping group's members, and the
licence-assigning groups' names through ``$batch``.
Baseline: what scripts commonly do: list the users (``GET /users?$top=999``), then one
``GET /users/{id}/licenseDetails`` per user, one after another. The per-user part is run on the first
--baseline-users users only and extrapolated linearly to the whole tenant (said so in the output); the listing
part is measured in full. Both use the same GraphClient, simulator and latency in the same run.
Prints human-readable lines to stderr, then one JSON object on the last line (ratios first, absolute figures after).

    python bench/bench_export.py [--quick] [--users N] [--latency-ms 100] [--baseline-users N] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from toolkit.export import PAGE_SIZE, build_tenant_data, fetch_tenant_raw, write_snapshot  # noqa: E402
from toolkit.graph import GraphClient  # noqa: E402
from toolkit.simulator import SimConfig, Simulator  # noqa: E402
from toolkit.simulator.generate import generate_tenant  # noqa: E402


def naive_export(client: GraphClient, sample: int) -> dict:
    """List every user, then licenseDetails for the first ``sample`` users, one request each."""
    t0 = time.perf_counter()
    users = [u for page in client.iter_pages("/users", params={"$select": "id,userPrincipalName",
                                                              "$top": str(PAGE_SIZE)}) for u in page]
    list_s = time.perf_counter() - t0
    list_calls = client.stats.requests
    t0 = time.perf_counter()
    details = 0
    for u in users[:sample]:
        details += len(client.get(f"/users/{u['id']}/licenseDetails").get("value", []))
    per_user_s = time.perf_counter() - t0
    return {"users": len(users), "list_seconds": list_s, "list_calls": list_calls,
            "sample": min(sample, len(users)), "sample_seconds": per_user_s,
            "sample_calls": client.stats.requests - list_calls, "licence_details_seen": details}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="20,000 users, 100-user baseline sample (about a minute)")
    ap.add_argument("--users", type=int)
    ap.add_argument("--latency-ms", type=float, default=100.0)
    ap.add_argument("--baseline-users", type=int)
    ap.add_argument("--out", help="also write a snapshot here (default: a temporary folder, removed afterwards)")
    args = ap.parse_args()
    n = args.users or (20_000 if args.quick else 100_000)
    sample = args.baseline_users or (100 if args.quick else 300)

    t0 = time.perf_counter()
    seed = generate_tenant(n, "commercial", seed=11)
    tid = seed["organization"]["id"]
    print(f"generated {n:,} users in {time.perf_counter() - t0:.1f}s", file=sys.stderr)

    with Simulator(SimConfig(seed_dir=None, seeds=[seed], latency_ms=args.latency_ms)) as sim:
        profile = next(p for p in sim.profiles() if p.tenant == tid)
        secret = sim.secret_for(tid)

        client = GraphClient.from_profile(profile, secret=secret)
        client.get("/organization")                 # sign in outside the timed region
        client.stats = type(client.stats)()
        t0 = time.perf_counter()
        raw = fetch_tenant_raw(client, groups=["CCS-Sync-Scope"], cloud="commercial")
        fetch_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        data = build_tenant_data(raw)
        build_s = time.perf_counter() - t0
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            write_snapshot(raw, data, Path(args.out) if args.out else Path(tmp) / "snapshot", overwrite=True)
            snapshot_s = time.perf_counter() - t0
        calls = raw.stats["graph"]["requests"]
        export_s = fetch_s + build_s
        print(f"ccsync: {calls} calls, fetch {fetch_s:.1f}s + build {build_s:.1f}s (+ snapshot {snapshot_s:.1f}s); "
              f"{len(data.license_assignments):,} licence rows, {len(data.user_service_plans):,} plan rows",
              file=sys.stderr)

        naive_client = GraphClient.from_profile(profile, secret=secret)
        naive_client.get("/organization")
        naive_client.stats = type(naive_client.stats)()
        naive = naive_export(naive_client, sample)
    per_user = naive["sample_seconds"] / max(naive["sample"], 1)
    naive_calls = naive["list_calls"] + naive["users"]
    naive_s = naive["list_seconds"] + per_user * naive["users"]
    print(f"baseline: list {naive['list_calls']} calls {naive['list_seconds']:.1f}s; licenseDetails "
          f"{naive['sample']} users measured ({per_user * 1000:.0f} ms each) -> extrapolated to {naive['users']:,} "
          f"users: {naive_calls:,} calls, {naive_s / 60:.1f} min", file=sys.stderr)

    figures = {
        "calls_ratio_baseline_over_ccsync": round(naive_calls / calls, 1),
        "speedup_vs_per_user_lookup": round(naive_s / export_s, 1),
        "users": n, "latency_ms": args.latency_ms,
        "ccsync_calls": calls, "ccsync_user_pages": raw.stats["pages"]["users"],
        "expected_user_pages": math.ceil(n / PAGE_SIZE),
        "ccsync_seconds": round(export_s, 2), "ccsync_fetch_seconds": round(fetch_s, 2),
        "ccsync_build_seconds": round(build_s, 2), "snapshot_write_seconds": round(snapshot_s, 2),
        "ccsync_graph_stats": raw.stats["graph"],
        "baseline_calls_extrapolated": naive_calls, "baseline_seconds_extrapolated": round(naive_s, 1),
        "baseline_list_calls": naive["list_calls"], "baseline_list_seconds": round(naive["list_seconds"], 2),
        "baseline_users_measured": naive["sample"], "baseline_ms_per_user": round(per_user * 1000, 1),
        "baseline_extrapolated": True,
        "licence_rows": int(len(data.license_assignments)), "plan_rows": int(len(data.user_service_plans)),
    }
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
