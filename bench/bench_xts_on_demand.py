"""Benchmark: on-demand provisioning of N users (``ccsync xts provision``) against Graph's limit of 5
provisionOnDemand requests per 10 seconds, paced (ccsync) versus unpaced (same client, ``pacer=None``, honouring
every Retry-After as its retry policy does).

Each contender runs against a FRESH simulator (sample tenants; Contoso -> Fabrikam Federal set up with
``toolkit.xts`` first), whose windows are scaled by --time-scale (default 0.1: 5 requests per 1 s) and so is
ccsync's pacer (``WritePacer.scaled``). Users: the direct members of CCS-Sync-Scope, cycled to N requests.

Measured per contender: wall time of the N requests, HTTP 429 answers seen on the wire, users that failed (Entra
refuses some sample users, e.g. a mail on a domain the source has not verified: the same in both runs),
and the rate as a fraction of the limit (5 / (10 s x scale)). Progress goes to stderr; the last stdout line is
one JSON object, ratios first.

    python bench/bench_xts_on_demand.py [--quick] [--users N] [--time-scale 0.1]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from toolkit.auth import TokenProvider  # noqa: E402
from toolkit.graph import GraphClient, WritePacer  # noqa: E402
from toolkit.simulator import SimConfig, Simulator  # noqa: E402
from toolkit.simulator.throttling import ThrottleConfig  # noqa: E402
from toolkit.transport import make_session  # noqa: E402
from toolkit.xts import EnableOptions, TenantSide, execute_enable, plan_enable  # noqa: E402
from toolkit.xts.control import provision  # noqa: E402

LIMIT, WINDOW = 5, 10.0


def _side(sim: Simulator, name: str, role: str, pacer: Any, statuses: list[int] | None = None) -> TenantSide:
    profile = next(p for p in sim.profiles() if p.name == name)
    session = make_session(sim.ca_bundle)
    if statuses is not None:
        original = session.request

        def request(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            resp = original(method, url, *args, **kwargs)
            if url.endswith("/provisionOnDemand"):
                statuses.append(resp.status_code)
            return resp
        session.request = request
    provider = TokenProvider(profile, session=session, secret=sim.secret_for(profile.tenant, profile.client_id),
                             persist_cache=False)
    side = TenantSide.from_profile(role, profile, client=GraphClient(profile.graph_base, provider, session,
                                                                     pacer=pacer))
    side.load_organization()
    return side


def run(paced: bool, users: int, scale: float) -> dict[str, Any]:
    with Simulator(SimConfig(throttle=ThrottleConfig(time_scale=scale))) as sim:
        source = _side(sim, "contoso-ccsync", "source", WritePacer.scaled(scale))
        target = _side(sim, "fabrikamfederal", "target", WritePacer.scaled(scale))
        execute_enable(plan_enable(source, target, EnableOptions(groups=["CCS-Sync-Scope"])))
        group = source.read_all("/groups", step="bench", params={"$filter": "displayName eq 'CCS-Sync-Scope'"})[0]
        members = [m["userPrincipalName"] for m in source.read_all(f"/groups/{group['id']}/members", step="bench")
                   if m.get("userPrincipalName")]
        names = [members[i % len(members)] for i in range(users)]
        statuses: list[int] = []
        side = _side(sim, "contoso-ccsync", "source", WritePacer.scaled(scale) if paced else None, statuses)
        started = time.perf_counter()
        results = provision(side, names)
        elapsed = time.perf_counter() - started
    failed = sum(1 for r in results if r.result not in ("Success", "Skipped"))
    limit_rate = LIMIT / (WINDOW * scale)
    return {"seconds": round(elapsed, 2), "requests": len(statuses), "throttled": statuses.count(429),
            "failed": failed, "rate_fraction_of_limit": round(users / elapsed / limit_rate, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="20 users at time scale 0.1 (about a minute).")
    parser.add_argument("--users", type=int, default=None)
    parser.add_argument("--time-scale", type=float, default=0.1)
    args = parser.parse_args()
    users = args.users or (20 if args.quick else 60)
    os.environ["CCSYNC_CACHE_DIR"] = tempfile.mkdtemp(prefix="ccsync-bench-tokens-")
    out = {}
    for label, paced in (("ccsync_paced", True), ("unpaced", False)):
        print(f"[{label}] provisioning {users} users on demand ...", file=sys.stderr)
        out[label] = run(paced, users, args.time_scale)
        print(f"[{label}] {out[label]}", file=sys.stderr)
    p, u = out["ccsync_paced"], out["unpaced"]
    summary = {
        "throttled_share_ccsync": round(p["throttled"] / max(p["requests"], 1), 3),
        "throttled_share_unpaced": round(u["throttled"] / max(u["requests"], 1), 3),
        "wall_time_ratio_unpaced_vs_ccsync": round(u["seconds"] / p["seconds"], 3) if p["seconds"] else None,
        "requests_ratio_unpaced_vs_ccsync": round(u["requests"] / max(p["requests"], 1), 3),
        "users": users, "time_scale": args.time_scale, **out}
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
