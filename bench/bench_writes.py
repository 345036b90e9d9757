"""Benchmark: N user PATCHes (default 5,000; --quick 4,000) against the simulator's write quota.

The quota: Graph allows an app 3,000 writes per 150 s in one tenant; every write inside a ``$batch`` counts on
its own. The simulator models it as a token bucket (``toolkit.simulator.throttling``) that starts FULL and
refills at 3,000 / 150 s. Every window is scaled by --time-scale (default 0.1: 3,000 writes per 15 s, i.e.
200 writes/s; the quota's size is unchanged), and so is the Graph latency: each simulated request waits
--latency-ms (default 100 ms, a plausible Graph write) x time scale. Scaling the latency with the windows keeps
every time ratio as it would be at Graph, so "fraction of the quota" means the same here as there; an unscaled
100 ms would make a one-at-a-time loop look ten times worse against the quota than it really is. What cannot be
scaled is the simulator's own CPU time per request (a few ms on a 2-core machine running both ends), which
slows the one-at-a-time loop more, relative to the quota, than Graph's latency would: at Graph, a sequential
loop at L ms per request reaches at most (1000 / L) / 20 of the quota (50 % at 100 ms) -- printed as an
estimate next to the measured figure.

Three contenders in one run, each against a FRESH simulator (its own quota buckets and a fresh tenant), each
PATCHing jobTitle of N different users of a generated tenant:

* ccsync: ``GraphClient.batch`` ($batch of 20, 4 batches in flight), paced by ``WritePacer.scaled(time scale)``
  (97 % of the quota), retrying throttled items after their Retry-After;
* naive loop: one PATCH at a time with a plain requests session; on 429 it sleeps the Retry-After and resends,
  as a careful script does. In --quick it runs on the first --naive-writes users (default 500) and its wall time
  for N is extrapolated from its rate (said so in the output); it is far below the quota, so its rate does not
  change with N. The full run PATCHes all N;
* unpaced batching: the same ``GraphClient`` with ``pacer=None``, same 4-wide concurrency and retry policy
  (default ``RetryPolicy``: a throttled item is resent after the longest Retry-After of its batch, at most 6
  attempts; items still throttled then count as failed writes).

Measured for each (client side, from the start of the first write to the answer of the last): successful writes
per second and that as a fraction of the quota rate 3,000 / (150 s x time scale); the throttled share of the
simulator's admissions (every inner request of a $batch is admitted on its own, as at Graph) and, client side,
of HTTP requests and of batch items; retries; wall time; writes that still failed when the retry policy gave up.

First window's burst vs. sustained rate: because the bucket starts full, ANY client may send 3,000 writes at
once at the start; only the rest are limited to the refill rate. Over N = 5,000 writes, a client that bursts
(unpaced batching) can therefore show a whole-run rate above the quota rate -- a one-off allowance worth one
window that shrinks to nothing on longer runs (and is not there at all when another process of the same app has
used the window). ccsync's pacer does not count on it: it starts with a burst of 5 % of its capacity (145
writes), then sends at 97 % of the refill rate, and its sliding window never lets more than 2,910 writes (97 % of
3,000) into any window. That window makes its pace slightly uneven: it pauses briefly when a window's 2,910 are
spent and sends the 145 again as the window's first sends expire. Its whole-run rate over 5,000 writes is
therefore about 99-100 % of the quota (the pace plus its 145-write bursts), its long-run rate 97 %.
To compare like with like, ``sustained_quota_fraction`` is also given: the successful writes completed in the
run's LAST full window (150 s x time scale) divided by that window -- exactly what the quota limits, and after
any initial burst once the run is longer than a window plus the burst (null for a run shorter than a window).
The goal -- ccsync at >= 90 % of the quota with < 1 % of requests throttled -- is checked on both its whole-run
and its sustained rate.

Progress goes to stderr; the last line on stdout is one JSON object, ratios first, absolute figures after.

    python bench/bench_writes.py [--quick] [--writes N] [--naive-writes M] [--time-scale 0.1] [--latency-ms 100]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

WRITE_LIMIT, WRITE_WINDOW_S = 3000, 150.0   # Graph's identity write quota per app and tenant
WORKERS = 4                                 # batches in flight, for both batching contenders
GOAL_FRACTION, GOAL_THROTTLED = 0.90, 0.01


class Timeline:
    """Successful writes over time: (seconds since start, cumulative successes)."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.points: list[tuple[float, int]] = []
        self.ok = 0

    def add(self, ok: int) -> None:
        self.ok += ok
        self.points.append((time.perf_counter() - self.start, self.ok))

    def seconds(self) -> float:
        return self.points[-1][0] if self.points else time.perf_counter() - self.start

    def last_window_rate(self, window_s: float) -> float | None:
        """Writes per second over the run's last ``window_s`` seconds (None if the run was shorter)."""
        end = self.seconds()
        if end < window_s:
            return None
        before = max((n for t, n in self.points if t <= end - window_s), default=0)
        return (self.ok - before) / window_s


def start_simulator(n_users: int, scale: float, latency_ms: float, name: str) -> tuple[Any, Any, str, list[str]]:
    """A fresh simulator with its own generated tenant; (simulator, profile, secret, user ids)."""
    from toolkit.simulator import SimConfig, Simulator
    from toolkit.simulator.generate import generate_tenant
    from toolkit.simulator.throttling import ThrottleConfig

    seed = generate_tenant(n_users, "commercial", seed=5, name=name)
    tid = seed["organization"]["id"]
    ids = [u["id"] for u in seed["users"]]
    sim = Simulator(SimConfig(seed_dir=None, seeds=[seed], latency_ms=latency_ms,
                              throttle=ThrottleConfig(time_scale=scale))).start()
    profile = next(p for p in sim.profiles() if p.tenant == tid)
    return sim, profile, sim.secret_for(tid), ids


def run_batched(profile: Any, secret: str, ids: list[str], pacer: Any) -> tuple[Timeline, dict[str, Any]]:
    """PATCH jobTitle of every user through ``GraphClient.batch``; timeline and client figures."""
    from toolkit.graph import BatchRequest, CallStats, GraphClient

    client = GraphClient.from_profile(profile, secret=secret, pacer=pacer, max_workers=WORKERS)
    client.get("/organization", params={"$select": "id"})      # sign in outside the timed region
    client.stats = CallStats()
    items = [BatchRequest(id=str(i), method="PATCH", url=f"/users/{uid}", body={"jobTitle": f"Engineer {i}"})
             for i, uid in enumerate(ids)]
    timeline = Timeline()

    def on_event(event: dict[str, Any]) -> None:
        if event.get("event") == "batch_done":
            timeline.add(int(event["ok"]))

    results = client.batch(items, on_event=on_event)
    stats = client.stats.to_dict()
    failed = [r for r in results if not r.ok]
    return timeline, {
        "failed": len(failed), "failed_statuses": sorted({r.status for r in failed}),
        "http_requests": stats["requests"], "http_throttled": stats["by_status"].get("429", 0),
        "batch_items_sent": stats["batch_items"], "items_throttled": stats["item_by_status"].get("429", 0),
        "retries": stats["retries"], "pacer": client.pacer.snapshot().get("writes") if client.pacer else None,
    }


def run_naive(profile: Any, secret: str, ids: list[str], root: str) -> tuple[Timeline, dict[str, Any]]:
    """One PATCH at a time; on 429 sleep Retry-After and resend (what a careful script does)."""
    import requests

    from toolkit.auth import TokenProvider
    from toolkit.transport import make_session

    token = TokenProvider(profile, session=make_session(profile.ca_bundle), secret=secret).token()
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    sent = throttled = retries = failed = 0
    timeline = Timeline()
    for i, uid in enumerate(ids):
        while True:
            sent += 1
            resp = session.patch(f"{root}/users/{uid}", json={"jobTitle": f"Engineer {i}"},
                                 verify=profile.ca_bundle, timeout=60)
            if resp.status_code == 429:
                throttled += 1
                retries += 1
                time.sleep(float(resp.headers.get("Retry-After", "1")))
                continue
            break
        if resp.ok:
            timeline.add(1)
        else:
            failed += 1
    return timeline, {"failed": failed, "failed_statuses": [], "http_requests": sent, "http_throttled": throttled,
                      "batch_items_sent": 0, "items_throttled": 0, "retries": retries, "pacer": None}


def contender(label: str, n: int, scale: float, latency_ms: float, quota_rate: float,
              run: Callable[[Any, str, list[str]], tuple[Timeline, dict[str, Any]]]) -> dict[str, Any]:
    """Run one contender on its own fresh simulator and compute its figures."""
    sim, profile, secret, ids = start_simulator(max(n, 1000), scale, latency_ms, f"bench-writes-{label}")
    try:
        timeline, figures = run(profile, secret, ids[:n])
        server = sim.throttle.stats()
    finally:
        sim.stop()
    seconds = timeline.seconds()
    rate = timeline.ok / seconds if seconds > 0 else 0.0
    sustained = timeline.last_window_rate(WRITE_WINDOW_S * scale)
    # Graph's view: every admission decision (each inner request of a $batch, each plain request).
    throttled_share = server["throttled"] / max(1, server["requests"])
    out = {
        "quota_fraction": round(rate / quota_rate, 4),
        "sustained_quota_fraction": round(sustained / quota_rate, 4) if sustained is not None else None,
        "throttled_share": round(throttled_share, 5),
        "http_throttled_share": round(figures["http_throttled"] / max(1, figures["http_requests"]), 5),
        "items_throttled_share": (round(figures["items_throttled"] / figures["batch_items_sent"], 5)
                                  if figures["batch_items_sent"] else None),
        "writes": n, "successful": timeline.ok, "failed": figures["failed"],
        "failed_statuses": figures["failed_statuses"],
        "seconds": round(seconds, 2), "writes_per_s": round(rate, 1),
        "sustained_writes_per_s": round(sustained, 1) if sustained is not None else None,
        "retries": figures["retries"], "http_requests": figures["http_requests"],
        "http_throttled": figures["http_throttled"], "batch_items_sent": figures["batch_items_sent"],
        "items_throttled": figures["items_throttled"],
        "graph_admissions": server["requests"], "graph_throttled": server["throttled"],
    }
    if figures["pacer"] is not None:
        out["pacer"] = figures["pacer"]
    print(f"  {label:<9} {timeline.ok:>5}/{n} ok in {seconds:6.1f} s = {rate:6.1f} writes/s "
          f"({rate / quota_rate:6.1%} of quota; sustained "
          f"{'n/a' if sustained is None else f'{sustained / quota_rate:.1%}'}), throttled {throttled_share:.2%} "
          f"of {server['requests']} admissions, {figures['retries']} retries, {figures['failed']} failed",
          file=sys.stderr)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="4,000 writes, naive loop on 500 (about a minute)")
    ap.add_argument("--writes", type=int, help="writes per contender (overrides --quick); above 3,000 to get "
                                               "past the first window")
    ap.add_argument("--naive-writes", type=int, help="writes the naive loop really sends (default: all of them; "
                                                     "500 with --quick)")
    ap.add_argument("--time-scale", type=float, default=0.1, help="factor on every quota window and on latency")
    ap.add_argument("--latency-ms", type=float, default=100.0, help="Graph's latency per request, before scaling")
    args = ap.parse_args()
    n = args.writes or (4_000 if args.quick else 5_000)
    naive_n = min(n, args.naive_writes or (500 if args.quick else n))
    scale = args.time_scale
    quota_rate = WRITE_LIMIT / (WRITE_WINDOW_S * scale)
    latency = args.latency_ms * scale

    with tempfile.TemporaryDirectory(prefix="ccsync-bench-") as cache:
        # Simulated tokens go to a throw-away cache, never to the user's.
        os.environ["CCSYNC_CACHE_DIR"] = cache
        from toolkit.graph import WritePacer

        print(f"quota {WRITE_LIMIT} writes per {WRITE_WINDOW_S * scale:g} s = {quota_rate:g} writes/s "
              f"(time scale {scale:g}); latency {latency:g} ms per request ({args.latency_ms:g} ms scaled); "
              f"{n:,} writes per contender, naive loop {naive_n:,}", file=sys.stderr)
        t0 = time.perf_counter()
        ours = contender("ccsync", n, scale, latency, quota_rate,
                         lambda p, s, ids: run_batched(p, s, ids, WritePacer.scaled(scale)))
        unpaced = contender("unpaced", n, scale, latency, quota_rate,
                            lambda p, s, ids: run_batched(p, s, ids, None))

        def naive_run(p: Any, s: str, ids: list[str]) -> tuple[Timeline, dict[str, Any]]:
            return run_naive(p, s, ids, p.graph_base.rstrip("/") + "/v1.0")

        naive = contender("naive", naive_n, scale, latency, quota_rate, naive_run)
        total = time.perf_counter() - t0

    naive_extrapolated = naive_n < n
    naive_seconds_n = n / naive["writes_per_s"] if naive["writes_per_s"] else None
    naive["seconds_for_all_writes"] = round(naive_seconds_n, 1) if naive_seconds_n else None
    naive["extrapolated"] = naive_extrapolated
    goal = (ours["quota_fraction"] >= GOAL_FRACTION and ours["throttled_share"] < GOAL_THROTTLED
            and (ours["sustained_quota_fraction"] is None or ours["sustained_quota_fraction"] >= GOAL_FRACTION))
    print(f"goal (ccsync >= {GOAL_FRACTION:.0%} of the quota with < {GOAL_THROTTLED:.0%} throttled): "
          f"{'met' if goal else 'NOT met'}", file=sys.stderr)
    print(json.dumps({
        "ccsync_quota_fraction": ours["quota_fraction"],
        "ccsync_sustained_quota_fraction": ours["sustained_quota_fraction"],
        "ccsync_throttled_share": ours["throttled_share"],
        "naive_quota_fraction": naive["quota_fraction"],
        "naive_throttled_share": naive["throttled_share"],
        "naive_quota_fraction_at_graph_estimate": round(min(1.0, (1000.0 / args.latency_ms) / (
            WRITE_LIMIT / WRITE_WINDOW_S)), 3),
        "unpaced_quota_fraction": unpaced["quota_fraction"],
        "unpaced_sustained_quota_fraction": unpaced["sustained_quota_fraction"],
        "unpaced_throttled_share": unpaced["throttled_share"],
        "speedup_vs_naive": round(ours["writes_per_s"] / naive["writes_per_s"], 2) if naive["writes_per_s"] else None,
        "speedup_vs_unpaced": (round(ours["writes_per_s"] / unpaced["writes_per_s"], 2)
                               if unpaced["writes_per_s"] else None),
        "goal": f">= {GOAL_FRACTION:.0%} of the quota with < {GOAL_THROTTLED:.0%} throttled",
        "goal_met": goal,
        "writes": n, "time_scale": scale, "quota_writes_per_s": round(quota_rate, 2),
        "latency_ms_simulated": round(latency, 2), "latency_ms_unscaled": args.latency_ms,
        "batches_in_flight": WORKERS,
        "ccsync": ours, "unpaced_batching": unpaced, "naive_loop": naive,
        "measured_seconds": round(total, 1),
        "note": "rates run from the first write to the last answer; the simulator's bucket starts full, so a "
                "burster may send 3,000 writes at once (which can lift a whole-run rate above the quota); "
                "sustained = successes in the run's last full window / window; "
                "throttled_share = 429s / the simulator's admission decisions",
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
