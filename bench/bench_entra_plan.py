"""Benchmark: predicting an Entra sync job's cycle for N source users, and verifying the cycle from its logs.

Synthetic tenants (built directly as frames): every source user is a direct member of the job's group, 90 % are
already linked to a target user (the job's provisioning-log links), 1 in 7 of those drifted in one attribute,
2 % of source users are disabled, 10 % are new. Measured side by side, each in its own process so its peak
memory (max RSS) is its own:

* ``entra``: ``predict_cycle`` (schema translation, scope, matching, per-user outcomes, licence gaps);
* ``direct``: ccsync's direct-engine planner ``plan_sync`` on the same tenants (the baseline: the same users,
  the existing engine's cost);
* ``verify``: ``verify_cycle`` over one provisioning record per planned operation, against a plain Python loop
  that indexes the records in a dict and compares per operation (the script an admin would write).

    python bench/bench_entra_plan.py            # 100,000 users
    python bench/bench_entra_plan.py --quick    # 20,000 users, well under a minute

The last line is one JSON object: ratios first, then absolute figures.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from peak_rss import max_rss_mib  # noqa: E402  (bench/peak_rss.py, beside this file)

SOURCE_TID = "11111111-1111-4111-8111-111111111111"
TARGET_TID = "22222222-2222-4222-8222-222222222222"
SCHEMA = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "entra-schema" / "azure2azure-default.json"


def build(n: int):
    import numpy as np
    import pandas as pd

    from toolkit.frames import DOMAINS, GROUP_MEMBERS, USERS, TenantData, conform

    idx = np.arange(n)
    ids = np.char.add("s", idx.astype(str)).astype(object)
    upn = np.char.add(np.char.add("user", idx.astype(str)), "@contoso.com").astype(object)
    src = pd.DataFrame({
        "id": ids, "userPrincipalName": upn, "mail": upn,
        "displayName": np.char.add("User ", idx.astype(str)).astype(object), "givenName": "User",
        "surname": idx.astype(str).astype(object), "department": np.where(idx % 7 == 0, "HR", "Sales").astype(object),
        "accountEnabled": idx % 50 != 0, "userType": "Member",
        "mailNickname": np.char.add("user", idx.astype(str)).astype(object)})
    linked = idx[idx % 10 != 0]
    tids = np.char.add("t", linked.astype(str)).astype(object)
    tgt = pd.DataFrame({
        "id": tids, "userPrincipalName": np.char.add(np.char.add("user", linked.astype(str)),
                                                     "_contoso.com#EXT#@fabrikam.onmicrosoft.com").astype(object),
        "mail": upn[linked], "displayName": np.char.add("User ", linked.astype(str)).astype(object),
        "givenName": "User", "surname": linked.astype(str).astype(object), "department": "Sales",
        "accountEnabled": True, "userType": "Member", "creationType": "Invitation", "externalUserState": "Accepted",
        "mailNickname": np.char.add("user", linked.astype(str)).astype(object)})
    source = TenantData(SOURCE_TID, "commercial", "Contoso", "2026-11-26T10:00:00Z", users=conform(src, USERS),
                        group_members=conform(pd.DataFrame({"groupId": "g", "groupDisplayName": "Scope",
                                                            "memberId": ids, "memberType": "user"}), GROUP_MEMBERS),
                        domains=conform([{"id": "contoso.com", "isVerified": True}], DOMAINS))
    target = TenantData(TARGET_TID, "commercial", "Fabrikam", "2026-11-26T10:00:00Z", users=conform(tgt, USERS))
    links = pd.DataFrame({"sourceId": ids[linked], "targetId": tids})
    return source, target, links


def run_entra(n: int, queue) -> None:
    from toolkit.plan.entra_predict import JobState, predict_cycle

    source, target, links = build(n)
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    base = max_rss_mib()
    start = time.perf_counter()
    pred = predict_cycle(schema, source, target, JobState(assigned_groups=("g",), links=links))
    queue.put({"seconds": time.perf_counter() - start, "peak_mb": max_rss_mib(), "input_mb": base,
               "counts": pred.plan.counts()})


def run_direct(n: int, queue) -> None:
    from toolkit.plan.planner import PlanOptions, plan_sync

    source, target, _ = build(n)
    base = max_rss_mib()
    start = time.perf_counter()
    plan = plan_sync(source, target, options=PlanOptions(deletion_threshold=10 ** 9))
    queue.put({"seconds": time.perf_counter() - start, "peak_mb": max_rss_mib(), "input_mb": base,
               "counts": plan.counts()})


def _records(plan) -> list[dict]:
    action = {"create": "create", "update": "update", "disable": "disable", "delete": "delete"}
    return [{"activityDateTime": "2026-11-30T05:00:00Z", "provisioningAction": action.get(k, "other"),
             "provisioningStatusInfo": {"status": "success" if k in action else "skipped", "errorInformation": None},
             "sourceIdentity": {"id": s}, "targetIdentity": {"id": t or f"new-{s}"}, "modifiedProperties": []}
            for k, s, t in zip(plan.ops["kind"], plan.ops["sourceId"], plan.ops["targetId"])]


def run_verify(n: int, queue) -> None:
    from toolkit.apply.entra_verify import verify_cycle
    from toolkit.plan.entra_predict import JobState, predict_cycle

    source, target, links = build(n)
    plan = predict_cycle(json.loads(SCHEMA.read_text(encoding="utf-8")), source, target,
                         JobState(assigned_groups=("g",), links=links), eligibility=None).plan
    records = _records(plan)
    start = time.perf_counter()
    out = verify_cycle(plan, records)
    ccsync = time.perf_counter() - start
    start = time.perf_counter()
    latest = {}
    for r in records:
        latest[r["sourceIdentity"]["id"]] = r
    mismatches = 0
    for kind, sid in zip(plan.ops["kind"], plan.ops["sourceId"]):
        r = latest.get(sid)
        seen = r["provisioningAction"] if r and r["provisioningStatusInfo"]["status"] == "success" else None
        mismatches += seen != kind and not (kind in ("skip", "unknown"))
    naive = time.perf_counter() - start
    queue.put({"seconds": ccsync, "naive_seconds": naive, "operations": len(out),
               "mismatches": int((~out["match"]).sum()), "naive_mismatches": mismatches})


def measure(target, n: int) -> dict:
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(n, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 users instead of 100,000")
    parser.add_argument("--users", type=int, help="source users (overrides --quick)")
    args = parser.parse_args()
    n = args.users or (20_000 if args.quick else 100_000)
    entra = measure(run_entra, n)
    direct = measure(run_direct, n)
    verify = measure(run_verify, n)
    print(f"entra plan: {entra['seconds']:.2f} s, peak {entra['peak_mb']:.0f} MB; direct plan: "
          f"{direct['seconds']:.2f} s, peak {direct['peak_mb']:.0f} MB; verify {verify['operations']} operations: "
          f"{verify['seconds']:.2f} s (plain loop {verify['naive_seconds']:.2f} s)", file=sys.stderr)
    print(json.dumps({
        "entra_vs_direct_plan_time": round(entra["seconds"] / max(direct["seconds"], 1e-9), 2),
        "entra_vs_direct_peak_memory": round(entra["peak_mb"] / max(direct["peak_mb"], 1e-9), 2),
        "verify_vs_plain_loop_time": round(verify["seconds"] / max(verify["naive_seconds"], 1e-9), 2),
        "users": n, "entra_plan_seconds": round(entra["seconds"], 2), "entra_peak_mb": round(entra["peak_mb"]),
        "direct_plan_seconds": round(direct["seconds"], 2), "direct_peak_mb": round(direct["peak_mb"]),
        "verify_seconds": round(verify["seconds"], 3), "verify_operations": verify["operations"],
        "verify_mismatches": verify["mismatches"], "entra_counts": entra["counts"]}))


if __name__ == "__main__":
    main()
