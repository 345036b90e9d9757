"""Benchmark: provisioning events to an Excel workbook (default 1,000,000 events; --quick 40,000).

ccsync writes the provisioning workbook's Events sheet through its report layer (openpyxl write-only, rows
streamed to disk, formula-safe cells, real dates, an Excel table, print setup). The baseline is
``pandas.DataFrame.to_excel`` on the same frame (engine openpyxl, pandas' default when xlsxwriter is not
installed). For the README's choice of writer, the same rows also go through xlsxwriter in constant-memory mode
(if it is installed): the raw writer, without the report layer.

Each variant runs in a child process of its own so the peak memories do not mix; a sampler thread
(bench/peak_rss.py) reads the process's resident set every 5 ms and the figure reported is the peak *during the
write* minus the resident set before it (the frame itself is not counted). Rows per second are wall clock.
Prints human-readable lines, then one JSON object on the last line (ratios first, absolute figures after).

    python bench/bench_logs_report.py [--quick] [--events N]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from peak_rss import measure_peak  # noqa: E402  (bench/peak_rss.py, beside this file)

COLUMNS = ["activityDateTime", "provisioningAction", "status", "sourceDisplayName", "sourceUpn", "sourceIdentityType",
           "targetId", "errorCode", "errorReason", "durationInMilliseconds", "servicePrincipalName", "jobId",
           "cycleId", "changeId", "id"]


def events_frame(n: int):
    """n events with the declared PROVISIONING_EVENTS dtypes, built with numpy (no per-row Python)."""
    import numpy as np
    import pandas as pd

    from toolkit.frames import PROVISIONING_EVENTS, conform

    rng = np.random.default_rng(7)
    idx = np.arange(n).astype(str)
    fail = rng.random(n) < 0.05
    start = pd.Timestamp("2026-01-01", tz="UTC")
    df = pd.DataFrame({
        "id": np.char.add("evt-", idx), "activityDateTime": start + pd.to_timedelta(np.arange(n) * 2, unit="s"),
        "provisioningAction": rng.choice(["create", "update", "disable", "delete"], n),
        "status": np.where(fail, "failure", "success"), "sourceDisplayName": np.char.add("User ", idx),
        "sourceUpn": np.char.add(np.char.add("user", idx), "@contoso.com"), "sourceIdentityType": "User",
        "targetId": np.char.add("00000000-0000-4000-8000-", np.char.zfill(idx, 12)),
        "errorCode": np.where(fail, "AzureActiveDirectoryForbidden", None),
        "errorReason": np.where(fail, "Guest invitations not allowed for your company.", None),
        "durationInMilliseconds": rng.integers(200, 5000, n), "servicePrincipalName": "Fabrikam Federal",
        "jobId": "Azure2Azure.sim", "cycleId": np.char.add("cycle-", (np.arange(n) // 5000).astype(str)),
        "changeId": np.char.add("chg-", idx)})
    return conform(df, PROVISIONING_EVENTS)


def child(variant: str, n: int, out: str) -> None:
    df = events_frame(n)
    if variant == "ccsync":
        from toolkit.report import load_definition
        from toolkit.report.definitions import ReportDefinition
        from toolkit.report.workbook import build_workbook

        full = load_definition("provisioning")
        d = ReportDefinition(name=full.name, title=full.title, description=full.description, palettes=full.palettes,
                             sheets=tuple(s for s in full.sheets if s.name == "Events"), source=full.source)
        fn = lambda: build_workbook(d, out, frames={"events": df}, values={"sourceName": "bench"})  # noqa: E731
    elif variant == "pandas":
        data = df[COLUMNS].copy()
        data["activityDateTime"] = data["activityDateTime"].dt.tz_localize(None)   # Excel has no time zones
        fn = lambda: data.to_excel(out, sheet_name="Events", index=False, engine="openpyxl")  # noqa: E731
    else:
        import xlsxwriter

        rows = df[COLUMNS].astype(object).where(df[COLUMNS].notna(), None)
        rows["activityDateTime"] = df["activityDateTime"].dt.tz_localize(None).dt.to_pydatetime()

        def fn() -> None:
            wb = xlsxwriter.Workbook(out, {"constant_memory": True})
            ws = wb.add_worksheet("Events")
            date = wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
            ws.write_row(0, 0, COLUMNS)
            for r, row in enumerate(rows.itertuples(index=False, name=None), 1):
                for c, value in enumerate(row):
                    if value is None:
                        continue
                    if c == 0:
                        ws.write_datetime(r, c, value, date)
                    else:
                        ws.write(r, c, value)
            wb.close()
    seconds, peak = measure_peak(fn)
    print(json.dumps({"seconds": seconds, "peakBytes": peak, "bytes": os.path.getsize(out)}))


def run(variant: str, n: int, folder: str) -> dict | None:
    out = os.path.join(folder, f"{variant}.xlsx")
    proc = subprocess.run([sys.executable, __file__, "--child", variant, "--events", str(n), "--out", out],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"{variant}: failed: {proc.stderr.strip().splitlines()[-1] if proc.stderr else proc.returncode}")
        return None
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    res["rowsPerSecond"] = n / res["seconds"]
    print(f"{variant:>10}: {n:,} rows in {res['seconds']:.1f} s = {res['rowsPerSecond']:,.0f} rows/s, "
          f"peak +{res['peakBytes'] / 2**20:,.0f} MiB, file {res['bytes'] / 2**20:,.1f} MiB")
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="40,000 events (about a minute)")
    ap.add_argument("--events", type=int, default=None)
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--out", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    n = args.events or (40_000 if args.quick else 1_000_000)
    if args.child:
        child(args.child, n, args.out)
        return
    with tempfile.TemporaryDirectory() as folder:
        ours = run("ccsync", n, folder)
        base = run("pandas", n, folder)
        try:
            import xlsxwriter  # noqa: F401
            xw = run("xlsxwriter", n, folder)
        except ImportError:
            print("xlsxwriter: not installed (pip install xlsxwriter to compare the raw writers)")
            xw = None
    result: dict = {}
    if ours and base:
        result["rowsPerSecondVsPandas"] = round(ours["rowsPerSecond"] / base["rowsPerSecond"], 2)
        result["peakMemoryVsPandas"] = round(ours["peakBytes"] / max(base["peakBytes"], 1), 3)
    if ours and xw:
        result["xlsxwriterConstantMemoryRowsPerSecondVsCcsync"] = round(xw["rowsPerSecond"] / ours["rowsPerSecond"], 2)
    result.update({"events": n, "ccsync": ours, "pandas": base, "xlsxwriter": xw,
                   "goal": "rows/s >= 2x pandas at <= 1/3 of its peak memory"})
    print(json.dumps(result))


if __name__ == "__main__":
    main()
