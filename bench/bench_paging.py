"""Benchmark: paging a simulated tenant of N users (default 100,000; --quick 20,000) at 100 ms latency per call.

The simulator serves one generated tenant over loopback HTTPS and waits --latency-ms before every Graph answer
(``SimConfig.latency_ms``: one fixed delay per HTTP request, the same for a page of 100 and a page of 999).
Side by side, in the same run, against the same simulator and with the same ``GraphClient``:

* ccsync: ``client.iter_pages("/users", params={"$select": ..., "$top": 999})``, the largest page Graph allows
  for /users, following ``@odata.nextLink`` verbatim;
* baseline: the same ``$select`` without ``$top``: Graph's default page of 100 users, which is what a script
  that does not ask for more gets.

Each is measured twice: with a short ``$select`` (id, userPrincipalName, displayName, mail) and with the
``$select`` the export sends (``toolkit.export.USER_SELECT``: user properties plus the licence fields
assignedLicenses and licenseAssignmentStates), whose pages are much larger to serialise and parse.

The ideal is ``ceil(N / page size) x latency``: the calls cannot overlap (each needs the previous page's
nextLink), so paging can be no faster than one latency per page. ``ratio_to_ideal`` above 1 is the time spent
on top of the latency: TLS, the simulator's and the client's JSON work, Python, on a 2-core machine that runs
both ends. Signing in happens before the timed region. Progress goes to stderr; the last line on stdout is
one JSON object, ratios first, absolute figures after.

    python bench/bench_paging.py [--quick] [--users N] [--latency-ms 100]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SHORT_SELECT = "id,userPrincipalName,displayName,mail"
DEFAULT_PAGE = 100     # Graph's default page size for /users (and the simulator's, SimConfig.page_size)


def page_through(client: Any, select: str, top: int | None) -> dict[str, Any]:
    """Read every user through ``iter_pages``; calls, users, pages and wall time of that alone."""
    from toolkit.graph import CallStats

    client.stats = CallStats()
    params = {"$select": select}
    if top is not None:
        params["$top"] = str(top)
    users = pages = 0
    t0 = time.perf_counter()
    for page in client.iter_pages("/users", params=params):
        pages += 1
        users += len(page)
    seconds = time.perf_counter() - t0
    stats = client.stats.to_dict()
    return {"calls": stats["requests"], "pages": pages, "users": users, "seconds": seconds,
            "throttled": stats["throttled"], "retries": stats["retries"], "mb_received": stats["bytes"] / 1e6}


def compare(client: Any, select: str, label: str, latency_s: float) -> dict[str, Any]:
    """ccsync ($top=999) and the default-page baseline with one $select; figures for both."""
    from toolkit.export import PAGE_SIZE

    ours = page_through(client, select, PAGE_SIZE)
    base = page_through(client, select, None)
    if ours["users"] != base["users"]:
        raise RuntimeError(f"{label}: ccsync read {ours['users']} users but the baseline {base['users']}; "
                           "the comparison would be meaningless")
    n = ours["users"]
    ideal_ours = math.ceil(n / PAGE_SIZE) * latency_s
    ideal_base = math.ceil(n / DEFAULT_PAGE) * latency_s
    for name, r, ideal in (("ccsync $top=999", ours, ideal_ours), ("baseline (100/page)", base, ideal_base)):
        print(f"  {label:<8} {name:<20} {r['calls']:>5} calls {r['seconds']:7.2f} s "
              f"(ideal {ideal:6.2f} s, x{r['seconds'] / ideal:.2f}), {r['mb_received']:.1f} MB, "
              f"throttled {r['throttled']}", file=sys.stderr)
    return {
        "speedup_vs_default_page": round(base["seconds"] / ours["seconds"], 2),
        "calls_ratio_baseline_over_ccsync": round(base["calls"] / ours["calls"], 2),
        "ccsync_ratio_to_ideal": round(ours["seconds"] / ideal_ours, 3),
        "baseline_ratio_to_ideal": round(base["seconds"] / ideal_base, 3),
        "users_read": n,
        "ccsync_calls": ours["calls"], "ccsync_ideal_calls": math.ceil(n / PAGE_SIZE),
        "ccsync_seconds": round(ours["seconds"], 2), "ccsync_ideal_seconds": round(ideal_ours, 2),
        "ccsync_mb": round(ours["mb_received"], 1), "ccsync_throttled": ours["throttled"],
        "baseline_calls": base["calls"], "baseline_ideal_calls": math.ceil(n / DEFAULT_PAGE),
        "baseline_seconds": round(base["seconds"], 2), "baseline_ideal_seconds": round(ideal_base, 2),
        "baseline_mb": round(base["mb_received"], 1), "baseline_throttled": base["throttled"],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="20,000 users (about a minute)")
    ap.add_argument("--users", type=int, help="users in the tenant (overrides --quick)")
    ap.add_argument("--latency-ms", type=float, default=100.0, help="delay before every Graph answer")
    args = ap.parse_args()
    n = args.users or (20_000 if args.quick else 100_000)
    latency_s = args.latency_ms / 1000.0

    with tempfile.TemporaryDirectory(prefix="ccsync-bench-") as cache:
        # Simulated tokens go to a throw-away cache, never to the user's.
        os.environ["CCSYNC_CACHE_DIR"] = cache
        from toolkit.export import USER_SELECT
        from toolkit.graph import GraphClient
        from toolkit.simulator import SimConfig, Simulator
        from toolkit.simulator.generate import generate_tenant

        t0 = time.perf_counter()
        seed = generate_tenant(n, "commercial", seed=21, name="bench-paging")
        tid = seed["organization"]["id"]
        print(f"generated {n:,} users in {time.perf_counter() - t0:.1f} s; latency {args.latency_ms:g} ms per "
              f"Graph call", file=sys.stderr)
        with Simulator(SimConfig(seed_dir=None, seeds=[seed], latency_ms=args.latency_ms)) as sim:
            profile = next(p for p in sim.profiles() if p.tenant == tid)
            client = GraphClient.from_profile(profile, secret=sim.secret_for(tid))
            client.get("/organization", params={"$select": "id"})    # sign in outside the timed region
            t0 = time.perf_counter()
            short = compare(client, SHORT_SELECT, "short", latency_s)
            export = compare(client, ",".join(USER_SELECT), "export", latency_s)
            total = time.perf_counter() - t0

    print(json.dumps({
        "speedup_vs_default_page": short["speedup_vs_default_page"],
        "speedup_vs_default_page_export_select": export["speedup_vs_default_page"],
        "calls_ratio_baseline_over_ccsync": short["calls_ratio_baseline_over_ccsync"],
        "ccsync_ratio_to_ideal": short["ccsync_ratio_to_ideal"],
        "ccsync_ratio_to_ideal_export_select": export["ccsync_ratio_to_ideal"],
        "baseline_ratio_to_ideal": short["baseline_ratio_to_ideal"],
        "users": n, "latency_ms": args.latency_ms, "page_size": 999, "baseline_page_size": DEFAULT_PAGE,
        "short_select": {"select": SHORT_SELECT, **short},
        "export_select": {"select": "toolkit.export.USER_SELECT", "properties": len(USER_SELECT), **export},
        "measured_seconds": round(total, 1),
        "note": "ideal = ceil(users / page size) x latency: pages are sequential (each needs the previous "
                "nextLink); the simulator and the client share this machine's cores",
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
