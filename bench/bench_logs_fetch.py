"""Benchmark: fetching a simulated tenant's dense provisioning log through the reports limit (5 requests per
10 s per app and tenant), then fetching again after new records arrive.

The simulator runs the documented limit with its windows shrunk by --scale (default 0.2: 5 requests per 2 s)
and the client's pacer is scaled the same way, so the run is short and the ratios are what a real tenant would
see at full scale. Figures:

- ceilingShare: requests sent per scaled 10 s window over the whole fetch, as a share of the 5 allowed
  (goal >= 0.9); pageEfficiency: full pages needed / requests sent (time windows end in partial pages);
- throttled: 429 answers seen (goal 0);
- secondFetchRequestsPerNewPage: the second fetch's requests divided by the pages its new records fill (goal
  about 1: it costs only the new records), and secondFetchRecords vs new records.

Baseline in the same run: the same fetch without pacing (a client that only reacts to 429s with Retry-After),
for its 429 count and wall time.
Prints human-readable lines, then one JSON object on the last line (ratios first, absolute figures after).

    python bench/bench_logs_fetch.py [--quick] [--records N] [--scale F]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from toolkit.graph import GraphClient  # noqa: E402
from toolkit.graph.pacing import WritePacer  # noqa: E402
from toolkit.logs import FetchOptions, fetch_for_profile  # noqa: E402
from toolkit.simulator import SimConfig, Simulator  # noqa: E402
from toolkit.simulator.auditlogs import dense_provisioning_log  # noqa: E402
from toolkit.simulator.throttling import ThrottleConfig  # noqa: E402

TOP = 500


def _profile(sim: Simulator):
    return next(p for p in sim.profiles() if p.cloud == "commercial" and "reader" not in p.name)


def _fetch(sim: Simulator, path: str, scale: float, paced: bool, options: FetchOptions):
    prof = _profile(sim)
    client = GraphClient.from_profile(prof, secret=sim.secret_for(prof.tenant, prof.client_id),
                                      pacer=WritePacer.scaled(scale) if paced else None)
    started = time.perf_counter()
    result = fetch_for_profile(prof, path, options, client=client)
    return result, time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="20,000 records (about a minute)")
    ap.add_argument("--records", type=int, default=None)
    ap.add_argument("--scale", type=float, default=0.2)
    args = ap.parse_args()
    n = args.records or (20_000 if args.quick else 100_000)
    window_s = 10.0 * args.scale
    now = dt.datetime.now(dt.timezone.utc)
    with Simulator(SimConfig(throttle=ThrottleConfig(time_scale=args.scale))) as sim, \
            tempfile.TemporaryDirectory() as folder:
        state = sim.tenant(_profile(sim).tenant)
        state.provisioning.extend(dense_provisioning_log(n, tenant_id=state.tenant_id,
                                                         start=now - dt.timedelta(days=20),
                                                         end=now - dt.timedelta(minutes=10)))
        options = FetchOptions(top=TOP, kinds=("provisioning",))
        first, secs = _fetch(sim, f"{folder}/paced.sqlite", args.scale, True, options)
        k = first.kinds[0]
        # Share of the ceiling: requests sent per (scaled) 10 s, over the whole fetch, of the 5 allowed.
        share = first.requests / secs * window_s / 5 if secs > 0 else 0.0
        # Pages a perfect client would need (full pages of TOP); windows end in partial pages, so a few more.
        page_efficiency = math.ceil(k.stored / TOP) / first.requests if first.requests else 0.0
        print(f"paced: {k.stored:,} records in {first.requests} requests over {secs:.1f} s "
              f"({first.requests / secs * window_s:.2f} per scaled 10 s of 5 allowed), {first.throttled} x 429, "
              f"{k.windows} windows ({k.shrunk} shrunk)")
        new = 1_200
        later = dense_provisioning_log(new, tenant_id=state.tenant_id, start=dt.datetime.now(dt.timezone.utc)
                                       - dt.timedelta(seconds=60), end=dt.datetime.now(dt.timezone.utc), seed=11)
        state.provisioning.extend(later)
        second, secs2 = _fetch(sim, f"{folder}/paced.sqlite", args.scale, True, options)
        k2 = second.kinds[0]
        pages_needed = math.ceil(new / TOP)
        print(f"second fetch: {k2.fetched:,} records ({k2.new:,} new of {new:,} added) in {second.requests} "
              f"requests ({pages_needed} pages of new records), {second.throttled} x 429, {secs2:.1f} s")
        base, secs3 = _fetch(sim, f"{folder}/unpaced.sqlite", args.scale, False, options)
        print(f"unpaced baseline: {base.kinds[0].stored:,} records in {base.requests} requests, "
              f"{base.throttled} x 429, {secs3:.1f} s")
    print(json.dumps({
        "ceilingShare": round(share, 3), "throttled": first.throttled, "pageEfficiency": round(page_efficiency, 3),
        "secondFetchRequestsPerNewPage": round(second.requests / pages_needed, 2),
        "secondFetchRecordsPerNewRecord": round(k2.fetched / new, 3),
        "unpacedThrottled": base.throttled, "unpacedSecondsVsPaced": round(secs3 / secs, 2),
        "records": n, "requests": first.requests, "seconds": round(secs, 2), "scale": args.scale,
        "windows": k.windows, "shrunk": k.shrunk, "secondFetch": {"requests": second.requests,
                                                                  "fetched": k2.fetched, "new": k2.new},
        "goal": "ceilingShare >= 0.9, throttled 0, second fetch costs only the new records"}))


if __name__ == "__main__":
    main()
