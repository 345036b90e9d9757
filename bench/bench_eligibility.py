"""Benchmark: licence eligibility over many synthetic users (default 1,000,000; --quick 200,000).

Baseline: a straightforward per-user Python loop (dicts of SKU plans, one pass over each user's assignments),
timed on the first --baseline-users users and their assignments and extrapolated linearly to the full size.
Both run on the same frames in the same process. The baseline only decides eligible or not; ccsync also fills
the status, reason, fix, granting SKU/source columns and the seat summary, so the ratio undersells the work.
Wall-clock and CPU times are both reported (CPU time is the steadier figure on a shared machine).
Prints human-readable lines, then one JSON object on the last line (ratios first, absolute figures after).

    python bench/bench_eligibility.py [--quick] [--users N] [--baseline-users N]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from peak_rss import max_rss_kib  # noqa: E402  (bench/peak_rss.py, beside this file)
from toolkit.frames import TenantData  # noqa: E402
from toolkit.licensing import Catalog, evaluate_eligibility  # noqa: E402

P1, P2, GOV = ("41781fb2-bc02-4b7c-bd55-b576c07bb09d", "eec0eb4f-6444-4f95-aba0-50c24d67f998",
               "e866a266-3cff-43a3-acca-0c90a7e00c8b")
EXO = "9aaf7827-d63c-4b61-89c3-182f06f82e5c"
SKUS = [  # skuId, part, plans, capabilityStatus
    ("078d2b04-f1bd-4111-bbd4-b4b1b354cef4", "AAD_PREMIUM", [P1], "Enabled"),
    ("06ebc4ee-1bb5-47dd-8120-11324bc54e06", "SPE_E5", [P1, P2, EXO], "Enabled"),
    ("05e9a617-0261-4cee-bb44-138d3ef5d965", "SPE_E3", [P1, EXO], "Enabled"),
    ("cf6b0d46-4093-4546-a0ab-0b1546dcc10e", "Microsoft_Entra_ID_Governance", [GOV], "Enabled"),
    ("f9602137-2203-447b-9fff-41b36e08ce5d", "Microsoft_Entra_Suite", [P2, GOV], "Suspended"),
    ("6fd2c87f-b296-42f0-b197-1e91e994b900", "ENTERPRISEPACK", [EXO], "Enabled"),
]


def synthetic_tenant(n: int, seed: int = 7) -> TenantData:
    """n users, ~1.6 assignments each, built with numpy (no per-user Python)."""
    rng = np.random.default_rng(seed)
    ids = pd.Series(np.char.add("u", np.arange(n).astype(str)), dtype="string")
    users = pd.DataFrame({
        "id": ids, "userPrincipalName": ids + "@contoso.com", "displayName": ids,
        "accountEnabled": pd.array(rng.random(n) > 0.02, dtype="boolean"),
        "userType": pd.Series(np.where(rng.random(n) < 0.05, "Guest", "Member"), dtype="string"),
        "creationType": pd.Series([None] * n, dtype="string"),
    })
    per_user = rng.choice([0, 1, 2, 3], size=n, p=[0.1, 0.35, 0.4, 0.15])
    uid = np.repeat(np.arange(n), per_user)
    m = len(uid)
    sku_pick = rng.choice(len(SKUS), size=m, p=[0.2, 0.2, 0.2, 0.25, 0.05, 0.1])
    sku_ids = np.array([s[0] for s in SKUS], dtype=object)[sku_pick]
    parts = np.array([s[1] for s in SKUS], dtype=object)[sku_pick]
    is_group = rng.random(m) < 0.5
    group_id = np.where(is_group, np.char.add("g", rng.integers(0, 50, m).astype(str)), None)
    state = np.where(rng.random(m) < 0.01, "Error", "Active")
    disabled = np.empty(m, dtype=object)
    disabled[:] = [[]] * m
    dis_rows = np.nonzero(rng.random(m) < 0.03)[0]
    for i in dis_rows:                       # 3% of assignments switch a plan off (list objects per row)
        disabled[i] = [P1 if rng.random() < 0.5 else GOV]
    la = pd.DataFrame({
        "userId": ids.to_numpy()[uid], "userPrincipalName": (ids + "@contoso.com").to_numpy()[uid],
        "skuId": pd.Series(sku_ids, dtype="string"), "skuPartNumber": pd.Series(parts, dtype="string"),
        "source": np.where(is_group, "group", "direct"), "assignedByGroup": pd.Series(group_id, dtype="string"),
        "assignedByGroupName": pd.Series(group_id, dtype="string"), "state": pd.Series(state, dtype="string"),
        "error": pd.Series(np.where(state == "Error", "CountViolation", None), dtype="string"),
        "disabledPlans": disabled,
    })
    skus = pd.DataFrame([{"skuId": s, "skuPartNumber": p, "appliesTo": "User", "capabilityStatus": c,
                          "enabled": n, "consumedUnits": n // 3, "available": n - n // 3} for s, p, _, c in SKUS])
    plans = pd.DataFrame([{"skuId": s, "skuPartNumber": p, "servicePlanId": pl, "servicePlanName": pl,
                           "provisioningStatus": "Success", "appliesTo": "User"}
                          for s, p, pls, _ in SKUS for pl in pls])
    return TenantData(tenant_id="bench", cloud="commercial", users=users, license_assignments=la, skus=skus,
                      sku_service_plans=plans)


def subset(tenant: TenantData, k: int) -> TenantData:
    """The first k users and their assignments, as a tenant of its own (for the baseline)."""
    users = tenant.users.iloc[:k]
    la = tenant.license_assignments
    la = la[la["userId"].isin(set(users["id"]))]
    return TenantData(tenant_id=tenant.tenant_id, cloud=tenant.cloud, users=users, license_assignments=la,
                      skus=tenant.skus, sku_service_plans=tenant.sku_service_plans)


def baseline(tenant: TenantData) -> dict[str, str]:
    """Per-user Python loop: the obvious implementation, same rules (P1 and Governance, cross-cloud)."""
    plans: dict[str, set[str]] = {}
    for r in tenant.sku_service_plans.itertuples(index=False):
        plans.setdefault(r.skuId, set()).add(r.servicePlanId)
    usable = {r.skuId for r in tenant.skus.itertuples(index=False)
              if r.capabilityStatus in ("Enabled", "Warning")}
    users = tenant.users
    by_user: dict[str, list] = {}
    for r in tenant.license_assignments.itertuples(index=False):
        by_user.setdefault(r.userId, []).append(r)
    out = {}
    for u in users.itertuples(index=False):
        if u.accountEnabled is not pd.NA and not u.accountEnabled:
            out[u.id] = "account_disabled"
            continue
        if u.userType == "Guest":
            out[u.id] = "not_syncable_external"
            continue
        has_p1 = has_gov = False
        for a in by_user.get(u.id, []):
            if a.skuId not in usable or a.state not in ("Active", "ActiveWithError"):
                continue
            on = plans.get(a.skuId, set()) - set(a.disabledPlans or [])
            has_p1 |= bool(on & {P1, P2})
            has_gov |= GOV in on
        out[u.id] = "eligible" if has_p1 and has_gov else "not_eligible"
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="200,000 users (about a minute on 2 cores)")
    ap.add_argument("--users", type=int)
    ap.add_argument("--baseline-users", type=int, default=50_000)
    args = ap.parse_args()
    n = args.users or (200_000 if args.quick else 1_000_000)
    t0 = time.perf_counter()
    tenant = synthetic_tenant(n)
    build_s = time.perf_counter() - t0
    print(f"built {n:,} users, {len(tenant.license_assignments):,} assignments in {build_s:.1f}s", file=sys.stderr)
    catalog = Catalog.bundled()

    rss_before = max_rss_kib()
    t0, c0 = time.perf_counter(), time.process_time()
    result = evaluate_eligibility(tenant, "commercial", "gcch", catalog=catalog)
    ccsync_s, ccsync_cpu = time.perf_counter() - t0, time.process_time() - c0
    rss_after = max_rss_kib()
    # A second, traced run gives the peak of Python/numpy allocations during evaluation alone.
    tracemalloc.start()
    evaluate_eligibility(tenant, "commercial", "gcch", catalog=catalog)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"ccsync: {ccsync_s:.2f}s ({ccsync_cpu:.2f}s CPU) for {n:,} users; "
          f"traced peak {traced_peak / 2**20:.0f} MiB", file=sys.stderr)

    k = min(args.baseline_users, n)
    small = subset(tenant, k)               # built outside the timed region
    t0, c0 = time.perf_counter(), time.process_time()
    base = baseline(small)
    base_s, base_cpu = time.perf_counter() - t0, time.process_time() - c0
    base_full_s, base_full_cpu = base_s * n / k, base_cpu * n / k
    print(f"baseline loop: {base_s:.2f}s for {k:,} users -> {base_full_s:.1f}s extrapolated", file=sys.stderr)

    # The two must agree on who is eligible (the baseline knows no scope, so compare the first k users).
    ours = result.users.iloc[:k]
    ours_eligible = set(ours.loc[ours["eligible"].fillna(False).to_numpy(bool), "userId"])
    base_eligible = {u for u, s in base.items() if s == "eligible"}
    agree = ours_eligible == base_eligible
    print(f"eligible users agree with the baseline on {k:,} users: {agree}", file=sys.stderr)

    figures = {
        "speedup_vs_python_loop": round(base_full_s / ccsync_s, 1),
        "speedup_vs_python_loop_cpu": round(base_full_cpu / ccsync_cpu, 1),
        "agree_with_baseline": agree,
        "users": n, "assignments": int(len(tenant.license_assignments)),
        "ccsync_seconds": round(ccsync_s, 2), "ccsync_cpu_seconds": round(ccsync_cpu, 2),
        "users_per_second": int(n / ccsync_s),
        "baseline_seconds_extrapolated": round(base_full_s, 1),
        "baseline_cpu_seconds_extrapolated": round(base_full_cpu, 1), "baseline_users_measured": k,
        "traced_peak_mib": round(traced_peak / 2**20, 1),
        "max_rss_mib": round(rss_after / 1024, 1), "max_rss_growth_mib": round((rss_after - rss_before) / 1024, 1),
        "eligible": result.summary["eligible"], "by_status": result.summary["byStatus"],
        "build_seconds": round(build_s, 1),
    }
    print(json.dumps(figures))
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())
