"""Benchmark: validating a migration CSV of N rows against an N-user target, ccsync vs. per-row loops.

The CSV (plain Graph headers, UTF-8 with BOM) has a password, usageLocation, department and a licence on each
row; 2 % of rows collide with a target user, 1 % are duplicated in the file, 1 % have a bad password. The
target has N users, two verified domains and two SKUs. Compared, in the same run, each in its own process (so
max RSS is its own peak):

* ccsync: ``validate_file(path, target)`` (read, decode, detect, every file and tenant check);
* per-row loop: the straightforward script: ``csv.DictReader``, then for each row a few checks and look-ups
  in the target DataFrame (``users[users.upn == x]``), as scripts translating ``Get-MgUser -Filter`` per row do;
* indexed loop (lower bound): the same loop with the target indexed in Python sets first. It does fewer
  checks than ccsync, so it shows what ccsync's completeness costs.

    python bench/bench_migrate.py            # 100,000 rows x 100,000 users
    python bench/bench_migrate.py --quick    # 40,000 x 40,000, about a minute

The last line is one JSON object: ratios first, then absolute figures.
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing as mp
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from peak_rss import max_rss_mib  # noqa: E402  (bench/peak_rss.py, beside this file)

D = "fabrikam.com"


def build_target(n: int):
    import numpy as np
    import pandas as pd

    from toolkit.frames import DOMAINS, SKUS, USERS, TenantData, conform

    idx = np.arange(n).astype(str)
    upn = np.char.add(np.char.add("t", idx), f"@{D}").astype(object)
    users = pd.DataFrame({"id": np.char.add("id-", idx).astype(object), "userPrincipalName": upn, "mail": upn,
                          "mailNickname": np.char.add("t", idx).astype(object), "displayName": "Target",
                          "proxyAddresses": [[f"SMTP:{u}"] for u in upn]})
    domains = pd.DataFrame({"id": [D, "fabrikam.onmicrosoft.com"], "isVerified": [True, True]})
    skus = pd.DataFrame({"skuId": ["6fd2c87f-b296-42f0-b197-1e91e994b900", "05e9a617-0261-4cee-bb44-138d3ef5d965"],
                         "skuPartNumber": ["ENTERPRISEPACK", "SPE_E3"], "capabilityStatus": "Enabled",
                         "enabled": [10 * n, 10 * n], "consumedUnits": [0, 0], "available": [10 * n, 10 * n]})
    return TenantData("22222222-2222-4222-8222-222222222222", "commercial", "Fabrikam", "2026-11-26T10:00:00Z",
                      users=conform(users, USERS), domains=conform(domains, DOMAINS), skus=conform(skus, SKUS))


def write_csv(path: Path, n: int) -> None:
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["userPrincipalName", "displayName", "password", "usageLocation", "department", "licenses"])
        for i in range(n):
            upn = f"t{i}@{D}" if i % 50 == 0 else f"u{i - 1 if i % 100 == 1 else i}@{D}"
            pw = "short" if i % 100 == 3 else f"Kx{i}!meadow-run"
            w.writerow([upn, f"User {i}", pw, "US", "Sales", "ENTERPRISEPACK"])


def run_ccsync(n: int, path: str, queue) -> None:
    from toolkit.migrate import validate_file

    target = build_target(n)
    base = max_rss_mib()
    start = time.perf_counter()
    v = validate_file(path, target)
    queue.put({"seconds": time.perf_counter() - start, "peak_mb": max_rss_mib(), "input_mb": base,
               "invalid": len(v.invalid_rows), "problems": len(v.problems())})


_UPN = re.compile(r"^[A-Za-z0-9'.\-_!#^~]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")


def _basic_checks(row: dict) -> list[str]:
    errors = []
    upn, pw = row["userPrincipalName"], row["password"]
    if not row["displayName"]:
        errors.append("displayName required")
    if not _UPN.match(upn):
        errors.append("bad upn")
    if len(pw) < 8 or sum((any(c.islower() for c in pw), any(c.isupper() for c in pw),
                           any(c.isdigit() for c in pw), any(not c.isalnum() for c in pw))) < 3:
        errors.append("bad password")
    if row["licenses"] and len(row["usageLocation"]) != 2:
        errors.append("usageLocation")
    return errors


def run_per_row(n: int, path: str, queue) -> None:
    target = build_target(n)
    users = target.users
    base = max_rss_mib()
    start = time.perf_counter()
    upn_l = users["userPrincipalName"].str.lower()
    mail_l = users["mail"].str.lower()
    seen: list[str] = []
    invalid = 0
    with open(path, encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            errors = _basic_checks(row)
            upn = row["userPrincipalName"].lower()
            if (upn_l == upn).any() or (mail_l == upn).any():
                errors.append("exists in target")
            if upn in seen[-1000:]:          # what a script keeps in memory to spot nearby duplicates
                errors.append("duplicate")
            seen.append(upn)
            invalid += bool(errors)
    queue.put({"seconds": time.perf_counter() - start, "peak_mb": max_rss_mib(), "input_mb": base, "invalid": invalid})


def run_indexed(n: int, path: str, queue) -> None:
    target = build_target(n)
    users = target.users
    base = max_rss_mib()
    start = time.perf_counter()
    taken = set(users["userPrincipalName"].str.lower()) | set(users["mail"].str.lower())
    seen: dict[str, int] = {}
    rows = []
    with open(path, encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            errors = _basic_checks(row)
            upn = row["userPrincipalName"].lower()
            if upn in taken:
                errors.append("exists in target")
            seen[upn] = seen.get(upn, 0) + 1
            rows.append((upn, errors))
    invalid = sum(1 for upn, errors in rows if errors or seen[upn] > 1)
    queue.put({"seconds": time.perf_counter() - start, "peak_mb": max_rss_mib(), "input_mb": base, "invalid": invalid})


def measure(func, n: int, path: str) -> dict:
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=func, args=(n, path, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="40,000 rows and users instead of 100,000")
    parser.add_argument("--rows", type=int, help="rows and target users (overrides --quick)")
    args = parser.parse_args()
    n = args.rows or (40_000 if args.quick else 100_000)
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "users.csv")
        write_csv(Path(path), n)
        print(f"validating {n:,} rows against {n:,} target users", file=sys.stderr)
        ours = measure(run_ccsync, n, path)
        print(f"ccsync: {ours['seconds']:.1f} s, peak {ours['peak_mb']:.0f} MB", file=sys.stderr)
        loop = measure(run_per_row, n, path)
        print(f"per-row loop: {loop['seconds']:.1f} s, peak {loop['peak_mb']:.0f} MB", file=sys.stderr)
        indexed = measure(run_indexed, n, path)
        print(f"indexed loop: {indexed['seconds']:.1f} s, peak {indexed['peak_mb']:.0f} MB", file=sys.stderr)
    print(json.dumps({
        "speedup_vs_per_row_loop": round(loop["seconds"] / ours["seconds"], 2),
        "peak_memory_ratio_vs_per_row_loop": round(ours["peak_mb"] / loop["peak_mb"], 2),
        "speedup_vs_indexed_loop": round(indexed["seconds"] / ours["seconds"], 2),
        "peak_memory_ratio_vs_indexed_loop": round(ours["peak_mb"] / indexed["peak_mb"], 2),
        "rows": n, "target_users": n,
        "ccsync_seconds": round(ours["seconds"], 2), "ccsync_peak_mb": round(ours["peak_mb"]),
        "per_row_seconds": round(loop["seconds"], 2), "per_row_peak_mb": round(loop["peak_mb"]),
        "indexed_seconds": round(indexed["seconds"], 2), "indexed_peak_mb": round(indexed["peak_mb"]),
        "target_frames_mb": round(ours["input_mb"]),
        "invalid_rows": {"ccsync": ours["invalid"], "per_row": loop["invalid"], "indexed": indexed["invalid"]},
        "note": "the loops check UPN syntax, passwords, usageLocation and target/file duplicates only; ccsync also "
                "checks spaces, formulas, length limits, domains, mailNickname/proxy collisions, licences and seats",
    }))


if __name__ == "__main__":
    main()
