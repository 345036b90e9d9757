"""Benchmark: applying a plan of N updates (default 5,000; --quick 3,500) against the simulator's write quota.

The simulated Fabrikam Federal (gcch) is seeded with N + M users that ccsync created earlier (each carries its
link); the plan changes jobTitle on N of them. Graph's write quota (3,000 writes per 150 s per app and tenant)
is kept, with every window scaled by --time-scale (default 0.1: the quota becomes 200 writes/s, below what the
simulator serves on 2 cores, so the quota and not the CPU is the limit). ccsync's client uses the same scale.
Graph's latency is scaled the same way: every simulated request takes --latency-ms (default 150 ms, a typical
Graph write) times the scale. ccsync's runs are longer than one quota window (N > 3,000), since any client can
burst a whole window's quota at first.

Side by side, in the same run:
* ccsync: ``apply_plan`` ($batch of 20, 4 in flight, paced by WritePacer, journaled);
* baseline: a naive one-at-a-time loop over M other users (default 2,000; --quick 1,000: PATCH each, wait
  Retry-After on a 429, no pacing), after a full quota window of rest so both start with an empty window.

Figures: writes per second as a fraction of the quota, and the throttled share (429 answers / requests sent).
Goal: ccsync at >= 90 % of the quota with < 1 % throttled. Prints lines, then one JSON object on the last line.

    python bench/bench_apply.py [--quick] [--ops N] [--baseline-ops M] [--time-scale F]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from toolkit.apply import ApplyOptions, apply_plan  # noqa: E402
from toolkit.frames import DOMAINS, USERS, TenantData, conform  # noqa: E402
from toolkit.graph import GraphClient, RetryPolicy, WritePacer  # noqa: E402
from toolkit.plan.planner import PlanOptions, plan_sync  # noqa: E402
from toolkit.simulator import DEFAULT_SEED_DIR, SimConfig, Simulator  # noqa: E402
from toolkit.simulator.throttling import ThrottleConfig  # noqa: E402

CONTOSO = "f78a1d87-6c6a-551d-9a2d-2868c0bcaf9d"
FABRIKAM = "630001af-a570-5cab-abf5-2e9d77c5349f"
WRITE_LIMIT, WRITE_WINDOW = 3000, 150.0


def _src_id(i: int) -> str:
    return f"00000000-0000-4000-8000-{i:012d}"


def _tgt_id(i: int) -> str:
    return f"10000000-0000-4000-8000-{i:012d}"


def target_seed(n: int) -> dict:
    seed = json.loads((DEFAULT_SEED_DIR / "gcch.json").read_text(encoding="utf-8"))
    for i in range(n):
        addr = f"user{i:06d}@contoso.com"
        seed["users"].append({
            "id": _tgt_id(i), "userPrincipalName": f"user{i:06d}_contoso.com#EXT#@fabrikamfederal.onmicrosoft.us",
            "displayName": f"User {i:06d}", "mail": addr, "mailNickname": f"user{i:06d}", "givenName": "User",
            "surname": f"{i:06d}", "department": "Sales", "jobTitle": "Engineer", "accountEnabled": True,
            "userType": "Member", "creationType": "Invitation", "externalUserState": "Accepted",
            "onPremisesExtensionAttributes": {"extensionAttribute15": f"ccsync:{CONTOSO}:{_src_id(i)}"}})
    return seed


def source(n: int, changed: int, title: str) -> TenantData:
    """n source users; the first ``changed`` have ``title`` as jobTitle, the rest keep Engineer."""
    users = [{"id": _src_id(i), "userPrincipalName": f"user{i:06d}@contoso.com", "mail": f"user{i:06d}@contoso.com",
              "mailNickname": f"user{i:06d}", "displayName": f"User {i:06d}", "givenName": "User",
              "surname": f"{i:06d}", "department": "Sales", "jobTitle": title if i < changed else "Engineer",
              "accountEnabled": True, "userType": "Member", "creationType": None} for i in range(n)]
    domains = [{"id": "contoso.com", "isVerified": True, "isInitial": False}]
    return TenantData(CONTOSO, "commercial", "Contoso", "2026-11-26T10:00:00Z", users=conform(users, USERS),
                      domains=conform(domains, DOMAINS))


def target_frame(sim: Simulator) -> TenantData:
    from toolkit.export import export_tenant

    prof = next(p for p in sim.profiles() if p.tenant == FABRIKAM)
    c = GraphClient.from_profile(prof, secret=sim.secret_for(FABRIKAM), pacer=None)
    return export_tenant(c, cloud="gcch")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="3,500 operations (1,000 for the baseline)")
    ap.add_argument("--latency-ms", type=float, default=150.0, help="Graph's latency per request, before scaling")
    ap.add_argument("--ops", type=int, default=None)
    ap.add_argument("--baseline-ops", type=int, default=None)
    ap.add_argument("--time-scale", type=float, default=0.1)
    args = ap.parse_args()
    n = args.ops or (3500 if args.quick else 5000)
    m = args.baseline_ops or (1000 if args.quick else 2000)
    scale = args.time_scale
    window = WRITE_WINDOW * scale
    quota_rate = WRITE_LIMIT / window
    print(f"quota: {WRITE_LIMIT} writes per {window:.1f} s = {quota_rate:.1f} writes/s (time scale {scale})")

    latency = args.latency_ms * scale
    print(f"latency: {latency:.1f} ms per request ({args.latency_ms:g} ms scaled)")
    config = SimConfig(seed_dir=None, seeds=[target_seed(n + m)], throttle=ThrottleConfig(time_scale=scale),
                       latency_ms=latency)
    with Simulator(config) as sim:
        prof = next(p for p in sim.profiles() if p.tenant == FABRIKAM)
        secret = sim.secret_for(FABRIKAM)
        target = target_frame(sim)
        plan = plan_sync(source(n + m, n, "Senior Engineer"), target, options=PlanOptions(check_licences=False))
        assert plan.counts()["update"] == n, plan.counts()
        # Rest one full window, so the export's reads and the start of the run are not mixed.
        time.sleep(window)

        # --- ccsync ----------------------------------------------------------------------------------------
        client = GraphClient.from_profile(prof, secret=secret, pacer=WritePacer.scaled(scale))
        marks: dict[str, float] = {}

        def on_event(event: dict) -> None:
            if event.get("event") == "apply_phase" and event.get("phase") == "apply":
                marks["start"] = time.monotonic()

        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.monotonic()
            result = apply_plan(plan, client, cloud="gcch", plan_path=Path(tmp) / "plan.json",
                                options=ApplyOptions(on_event=on_event))
            end = time.monotonic()
        stats = client.stats.to_dict()
        write_secs = end - marks.get("start", t0)
        writes = stats["writes_sent"]
        sent = stats["batch_items"] + stats["requests"] - stats["batch_requests"]
        ccsync = {"operations": n, "failed": result.failed, "writes": writes, "seconds": round(write_secs, 2),
                  "seconds_total": round(end - t0, 2), "writes_per_s": round(writes / write_secs, 2),
                  "quota_fraction": round(writes / write_secs / quota_rate, 4),
                  "throttled": stats["throttled"], "throttled_share": round(stats["throttled"] / max(1, sent), 5)}
        print(f"ccsync:   {writes} writes in {write_secs:.1f} s = {ccsync['writes_per_s']} /s "
              f"({ccsync['quota_fraction']:.1%} of quota), throttled {ccsync['throttled_share']:.2%}, "
              f"failed {result.failed}")

        time.sleep(window)

        # --- naive one-at-a-time loop ----------------------------------------------------------------------
        naive = GraphClient.from_profile(prof, secret=secret, pacer=None,
                                         retry=RetryPolicy(max_attempts=50, max_elapsed=3600, max_retry_after=3600))
        t0 = time.monotonic()
        for i in range(n, n + m):
            naive.patch(f"users/{_tgt_id(i)}", json={"jobTitle": "Senior Engineer"})
        secs = time.monotonic() - t0
        ns = naive.stats.to_dict()
        base = {"operations": m, "writes": ns["writes_sent"], "seconds": round(secs, 2),
                "writes_per_s": round(ns["writes_sent"] / secs, 2),
                "quota_fraction": round(ns["writes_sent"] / secs / quota_rate, 4),
                "successful_per_s": round(m / secs, 2), "throttled": ns["throttled"],
                "throttled_share": round(ns["throttled"] / max(1, ns["requests"]), 5)}
        print(f"baseline: {m} PATCHes one at a time in {secs:.1f} s = {round(m / secs, 2)} successful/s "
              f"({m / secs / quota_rate:.1%} of quota), throttled {base['throttled_share']:.2%}")

    out = {"quota_fraction_ccsync": ccsync["quota_fraction"], "quota_fraction_baseline": round(m / secs / quota_rate, 4),
           "throttled_share_ccsync": ccsync["throttled_share"], "throttled_share_baseline": base["throttled_share"],
           "speedup_successful_writes": round(ccsync["writes_per_s"] / max(1e-9, m / secs), 3),
           "goal_met": ccsync["quota_fraction"] >= 0.9 and ccsync["throttled_share"] < 0.01,
           "quota_writes_per_s": round(quota_rate, 2), "time_scale": scale, "latency_ms": round(latency, 2), "ccsync": ccsync, "baseline": base}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
