"""Benchmark: planning N source users against N target users, ccsync's column-wise planner vs. a per-row loop.

Both sides get the same synthetic tenants (built directly as frames): 90 % of the source already synced and
linked in the target, 5 % of those drifted in one attribute, 10 % new, 1 % of targets orphaned (deleted at the
source), 2 % of source users disabled. The baseline is the straightforward script an admin would write: index
the target by link and mail in dicts, then loop over source users, evaluate the direct mappings per row and
compare attribute by attribute. Each side runs in its own process so its peak memory (max RSS) is its own.

    python bench/bench_plan.py            # 1,000,000 x 1,000,000
    python bench/bench_plan.py --quick    # 100,000 x 100,000, about a minute

The last line is one JSON object: ratios first, then absolute figures.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SOURCE_TID = "11111111-1111-4111-8111-111111111111"
TARGET_TID = "22222222-2222-4222-8222-222222222222"


def build(n: int, seed: int = 7):
    import numpy as np
    import pandas as pd

    from toolkit.frames import USERS, TenantData, conform

    rng = np.random.default_rng(seed)
    idx = np.arange(n)
    ids = np.char.add(np.char.add("s", idx.astype(str)), "-0000-4000-8000-000000000000").astype(object)
    upn = np.char.add(np.char.add("user", idx.astype(str)), "@contoso.com").astype(object)
    depts = np.array(["Sales", "HR", "R&D", "Finance", "Legal", "IT"], dtype=object)
    cities = np.array(["Seattle", "Redmond", "Berlin", "Paris", "Tokyo"], dtype=object)
    src = pd.DataFrame({
        "id": ids, "userPrincipalName": upn, "mail": upn,
        "displayName": np.char.add("User ", idx.astype(str)).astype(object),
        "givenName": "User", "surname": idx.astype(str).astype(object),
        "department": depts[rng.integers(0, len(depts), n)], "jobTitle": "Engineer",
        "city": cities[rng.integers(0, len(cities), n)], "country": "US",
        "accountEnabled": rng.random(n) > 0.02, "userType": "Member", "mailNickname": np.char.add(
            "user", idx.astype(str)).astype(object)})
    synced = int(n * 0.9)
    tgt = src.iloc[:synced].copy()
    tgt["id"] = np.char.add("t", idx[:synced].astype(str)).astype(object)
    tgt["userPrincipalName"] = np.char.add(np.char.add("user", idx[:synced].astype(str)),
                                           "_contoso.com#EXT#@fabrikam.onmicrosoft.com").astype(object)
    tgt["accountEnabled"] = True
    tgt["creationType"] = "Invitation"
    tgt["onPremisesExtensionAttributes"] = [{"extensionAttribute15": f"ccsync:{SOURCE_TID}:{i}"}
                                            for i in ids[:synced]]
    drift = rng.random(synced) < 0.05
    tgt.loc[drift, "department"] = "Drifted"
    orphans = int(n * 0.01)
    orphan = pd.DataFrame({"id": [f"o{i}" for i in range(orphans)],
                           "userPrincipalName": [f"gone{i}_contoso.com#EXT#@fabrikam.onmicrosoft.com"
                                                 for i in range(orphans)],
                           "mail": [f"gone{i}@contoso.com" for i in range(orphans)], "accountEnabled": True,
                           "userType": "Member", "creationType": "Invitation",
                           "onPremisesExtensionAttributes": [{"extensionAttribute15": f"ccsync:{SOURCE_TID}:gone{i}"}
                                                             for i in range(orphans)]})
    tgt = pd.concat([tgt, orphan], ignore_index=True)
    return (TenantData(SOURCE_TID, "commercial", "Contoso", "2026-11-26T10:00:00Z", users=conform(src, USERS)),
            TenantData(TARGET_TID, "commercial", "Fabrikam", "2026-11-26T10:00:00Z", users=conform(tgt, USERS)))


# The planner's phases as toolkit.plan.planner calls them (--phases times each; see docs/planner-performance.md).
PHASES = {"scope": "scope_masks", "read users": "TargetUsers", "match": "match_users",
          "licence gate": "gate_by_licence", "mapped values": "MappedValues", "updates": "plan_updates",
          "creates": "plan_creates", "deprovisioning": "plan_deprovisioning", "plan frames": "changes_frame",
          "threshold and order": "finish"}


def _time_phases(planner, seconds: dict) -> None:
    """Wrap the planner's phase functions with timers (the measured code itself is unchanged)."""
    names = dict(PHASES, **{"plan frames ": "ops_frame", "read users ": "SourceUsers"})
    for label, name in names.items():
        original = getattr(planner, name)
        if isinstance(original, type) and hasattr(original, "of"):     # a table: time its constructor ``of``
            of = original.of

            def timed_of(*args, _of=of, _label=label.strip(), **kwargs):
                start = time.perf_counter()
                try:
                    return _of(*args, **kwargs)
                finally:
                    seconds[_label] = seconds.get(_label, 0.0) + time.perf_counter() - start
            original.of = timed_of
            continue

        def timed(*args, _f=original, _label=label.strip(), **kwargs):
            start = time.perf_counter()
            try:
                return _f(*args, **kwargs)
            finally:
                seconds[_label] = seconds.get(_label, 0.0) + time.perf_counter() - start
        setattr(planner, name, timed)


def run_ccsync(n: int, queue, phases: bool = False) -> None:
    from toolkit.plan import planner
    from toolkit.plan.planner import PlanOptions, plan_sync

    seconds: dict = {}
    if phases:
        _time_phases(planner, seconds)
        plan_sync = planner.plan_sync
    source, target = build(n)
    frames_mb = sum(int(t.users.memory_usage(deep=True).sum()) for t in (source, target)) / 2 ** 20
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    plan = plan_sync(source, target, options=PlanOptions(deletion_threshold=10 ** 9))
    elapsed = time.perf_counter() - start
    queue.put({"seconds": elapsed, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
               "input_mb": base / 1024, "frames_mb": frames_mb, "counts": plan.counts(),
               "phases": {k: round(v, 3) for k, v in seconds.items()}})


def run_naive(n: int, queue) -> None:
    from toolkit.plan.rules import default_mapping

    source, target = build(n)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    attrs = [r.target for r in default_mapping().rules if not r.once and r.expression.is_direct]
    src_rows = source.users.to_dict("records")
    tgt_rows = target.users.to_dict("records")
    by_link, by_mail = {}, {}
    for t in tgt_rows:
        link = (t.get("onPremisesExtensionAttributes") or {}).get("extensionAttribute15")
        if link:
            by_link[link.rsplit(":", 1)[1]] = t
        if t.get("mail"):
            by_mail.setdefault(str(t["mail"]).lower(), t)
    ops, seen = [], set()
    for s in src_rows:
        t = by_link.get(s["id"]) or by_mail.get(str(s.get("mail") or "").lower())
        if t is None:
            if s.get("accountEnabled"):
                ops.append(("create", s["id"], {a: s.get(a) for a in attrs}))
            continue
        seen.add(t["id"])
        changes = {}
        for a in attrs:
            new, old = s.get(a), t.get(a)
            if new is not None and new == new and new != old:
                changes[a] = (old, new)
        if changes:
            ops.append(("update", s["id"], changes))
    for t in tgt_rows:
        if t["id"] not in seen and (t.get("onPremisesExtensionAttributes") or {}).get("extensionAttribute15"):
            ops.append(("delete", t["id"], {}))
    elapsed = time.perf_counter() - start
    queue.put({"seconds": elapsed, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
               "input_mb": base / 1024, "ops": len(ops)})


def measure(target, n: int, *extra) -> dict:
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(n, queue, *extra))
    proc.start()
    proc.join()                     # the child puts one small dict, so joining first cannot deadlock
    if proc.exitcode != 0 or queue.empty():
        raise SystemExit(f"{target.__name__} failed (exit code {proc.exitcode}); see its traceback above")
    return queue.get()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 users per side instead of 1,000,000")
    parser.add_argument("--users", type=int, help="users per side (overrides --quick)")
    parser.add_argument("--phases", action="store_true",
                        help="also time each phase of the planner (ccsync_phase_seconds in the JSON)")
    parser.add_argument("--planner-only", action="store_true", help="measure ccsync only (profiling)")
    args = parser.parse_args()
    n = args.users or (100_000 if args.quick else 1_000_000)
    print(f"planning {n:,} source users against {n:,} target users", file=sys.stderr)
    ours = measure(run_ccsync, n, args.phases)
    print(f"ccsync: {ours['seconds']:.1f} s, peak {ours['peak_mb']:.0f} MB", file=sys.stderr)
    if args.planner_only:
        print(json.dumps({"users_per_side": n, "ccsync_seconds": round(ours["seconds"], 2),
                          "ccsync_peak_mb": round(ours["peak_mb"]), "input_rss_mb": round(ours["input_mb"]),
                          "ccsync_phase_seconds": ours["phases"]}))
        return
    naive = measure(run_naive, n)
    print(f"per-row loop: {naive['seconds']:.1f} s, peak {naive['peak_mb']:.0f} MB", file=sys.stderr)
    print(json.dumps({
        "speedup_vs_per_row_loop": round(naive["seconds"] / ours["seconds"], 2),
        "peak_memory_ratio_vs_per_row_loop": round(ours["peak_mb"] / naive["peak_mb"], 2),
        # Peak resident memory of the planning process over its resident memory once the input frames were
        # built (the goal: at most 1.5), and the frames' own size as pandas counts it.
        "peak_memory_ratio_vs_input": round(ours["peak_mb"] / ours["input_mb"], 2),
        "input_frames_deep_mb": round(ours["frames_mb"]),
        "users_per_side": n,
        "ccsync_seconds": round(ours["seconds"], 2), "ccsync_peak_mb": round(ours["peak_mb"]),
        "per_row_seconds": round(naive["seconds"], 2), "per_row_peak_mb": round(naive["peak_mb"]),
        "input_frames_mb": round(ours["input_mb"]), "ccsync_counts": ours["counts"],
        "per_row_ops": naive["ops"], "ccsync_phase_seconds": ours["phases"],
        "note": "the per-row loop handles direct mappings, link/mail matching and deletes only "
                "(no scoping, conflicts, licence gating or expressions): a lower bound for a real script",
    }))


if __name__ == "__main__":
    main()
