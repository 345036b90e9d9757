"""The PowerShell cmdlets read ccsync's JSON by property name: every name a cmdlet reads must be in the JSON
the CLI really produces (run here against the simulator), so a renamed key cannot silently empty a column."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import pytest
from click.testing import CliRunner

from conftest import SEED_APP
from ps_source import PUBLIC, cli_invocations, functions, text, walk
from toolkit.cli.main import cli
from toolkit.simulator import DEFAULT_SEED_DIR, SimConfig, Simulator


def _keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from _keys(item)


def _json(args: list[str], env: dict[str, str] | None = None, ok_codes: tuple[int, ...] = (0,)) -> Any:
    result = CliRunner(env=env).invoke(cli, [*args, "--output", "json"])
    assert result.exit_code in ok_codes, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def documents(tmp_path_factory, entra):
    """command path -> a real JSON answer of that command."""
    tmp = tmp_path_factory.mktemp("contract")
    docs: dict[str, Any] = {"clouds": _json(["clouds"])}
    with Simulator(SimConfig()) as sim:
        profile = next(p for p in sim.profiles() if p.cloud == "gcch")
        config = str(sim.write_profiles(tmp / "profiles.toml"))
        env = {"CCSYNC_CACHE_DIR": str(tmp / "tokens"),
               profile.secret_env: sim.secret_for(profile.tenant, profile.client_id)}
        docs["login"] = _json(["login", "--profile", profile.name, "--config", config], env)
        login_url = sim.endpoints("commercial").login_url
        docs["clouds detect"] = _json(["clouds", "detect", profile.tenant, "--login-url", login_url,
                                       "--ca-bundle", sim.ca_bundle])
        source = next(p for p in sim.profiles() if p.cloud == "commercial")
        env[source.secret_env] = sim.secret_for(source.tenant, source.client_id)
        docs["export"] = _json(["export", "--profile", profile.name, "--config", config, "--out",
                                str(tmp / "snap-target")], env)
        _json(["export", "--profile", source.name, "--config", config, "--group", "CCS-Sync-Scope", "--out",
               str(tmp / "snap-source")], env)
        # Exit 1: some users in scope are not eligible; the document is still the answer.
        docs["eligibility"] = _json(["eligibility", "--source", str(tmp / "snap-source"), "--target-cloud", "gcch"],
                                    ok_codes=(0, 1))
        docs["plan"] = _json(["plan", "--source", str(tmp / "snap-source"), "--target", str(tmp / "snap-target"),
                              "--out", str(tmp / "plan.json")], env)     # same admin, same signing key
        # Apply the plan to the simulated target (with --yes: the demo plan has no deletes anyway).
        docs["apply"] = _json(["apply", str(tmp / "plan.json"), "--profile", profile.name, "--config", config,
                               "--yes", "--progress", "none"], env)
        # Exit 1: the sample's group is not in this snapshot (exported without --group); rows still come back.
        sample = str(Path(__file__).resolve().parents[1] / "samples" / "migration-portal.csv")
        docs["migrate validate"] = _json(["migrate", "validate", sample, "--target", str(tmp / "snap-target")],
                                         ok_codes=(0, 1))
        docs["migrate plan"] = _json(["migrate", "plan", sample, "--target", str(tmp / "snap-target"), "--out",
                                      str(tmp / "migration.json"), "--skip-invalid"], ok_codes=(0, 1))
        # Logs of the apply's writes (the audit trail), then both log workbooks.
        docs["logs fetch"] = _json(["logs", "fetch", "--profile", profile.name, "--config", config, "--since", "1h",
                                    "--archive", str(tmp / "logs.sqlite")], env)
        docs["report audit"] = _json(["report", "audit", "--archive", str(tmp / "logs.sqlite"), "--out",
                                      str(tmp / "audit.xlsx"), "--csv", str(tmp / "audit.csv")])
        docs["report provisioning"] = _json(["report", "provisioning", str(Path(__file__).parent / "fixtures" / "logs"
                                                                           / "provisioning-list-2.json"),
                                             "--out", str(tmp / "prov.xlsx"), "--csv", str(tmp / "prov.csv")])
        # Entra's own sync (ccsync xts): the demo pair, whose portal steps the samples have done.
        xts = ["--source", source.name, "--config", config]
        both = [*xts, "--target", profile.name]
        docs["xts enable"] = [_json(["xts", "enable", *both, "--group", "CCS-Sync-Scope", "--what-if"], env),
                              _json(["xts", "enable", *both, "--group", "CCS-Sync-Scope", "--yes"], env)]
        sim.run_sync_cycle(source.tenant)
        docs["xts status"] = _json(["xts", "status", *xts], env, ok_codes=(0, 1))
        docs["xts provision"] = _json(["xts", "provision", *xts, "diego.siciliani@contoso.com", "nobody@contoso.com"],
                                      env, ok_codes=(0, 1))
        for action in ("pause", "start", "restart"):
            docs[f"xts {action}"] = _json(["xts", action, *xts], env)
        docs["xts disable"] = [_json(["xts", "disable", *both, "--what-if"], env),
                               _json(["xts", "disable", *both, "--yes"], env)]
    # The demo both as it succeeds and with a tenant whose app lacks a permission (error keys appear then).
    ok = _json(["demo", "--out", str(tmp / "demo")], {"CCSYNC_CACHE_DIR": str(tmp / "demo-tokens")})
    seed = json.loads((Path(DEFAULT_SEED_DIR) / "commercial.json").read_text(encoding="utf-8"))
    seed["apps"] = sorted(seed["apps"], key=lambda a: len(a["roles"]))  # the read-only app first
    (tmp / "seeds").mkdir()
    (tmp / "seeds" / "commercial.json").write_text(json.dumps(seed), encoding="utf-8")
    failed = CliRunner(env={"CCSYNC_CACHE_DIR": str(tmp / "demo-tokens")}).invoke(
        cli, ["demo", "--seed-dir", str(tmp / "seeds"), "--output", "json", "--out", str(tmp / "demo-failed")])
    assert failed.exit_code == 1, failed.stderr
    docs["demo"] = [ok, json.loads(failed.stdout)]
    docs["plan"], docs["apply"] = [docs["plan"], *entra[:1]], [docs["apply"], *entra[1:]]
    return docs


@pytest.fixture(scope="module")
def entra(tmp_path_factory) -> list[Any]:
    """The entra engine's answers (as in tests/test_entra_live.py): plan through the live job, apply -WhatIf,
    apply -NoWait, then -VerifyOnly after the simulated cycle."""
    from xts_sim import SOURCE, TARGET, callers, pair_sim, ready_cross_cloud_pair

    tmp = tmp_path_factory.mktemp("contract-entra")
    sim = pair_sim(users=8)
    try:
        src, tgt, _ = callers(sim)
        ready_cross_cloud_pair(sim, src, tgt)
        sim.run_sync_cycle(SOURCE)
        config = str(sim.write_profiles(tmp / "config.toml"))
        entries = {(e["tenant"], e["client_id"]): e for e in sim.profile_entries()}
        s, t = entries[(SOURCE, SEED_APP)], entries[(TARGET, SEED_APP)]
        env = {s["secret_env"]: sim.secret_for(SOURCE, SEED_APP), t["secret_env"]: sim.secret_for(TARGET, SEED_APP)}
        scope = tmp / "scope.txt"
        scope.write_text('filter Sales\n    department EQUALS "Sales"\n', encoding="utf-8")
        plan = str(tmp / "plan.json")
        common = ["--config", config]
        planned = _json(["plan", "--job", s["name"], "--target", t["name"], "--scope", str(scope), "--out", plan,
                         *common], env)
        what_if = _json(["apply", plan, "--profile", s["name"], "--what-if", *common], env)
        started = _json(["apply", plan, "--profile", s["name"], "--no-wait", "--yes", *common], env)
        sim.run_sync_cycle(SOURCE)
        verified = _json(["apply", plan, "--profile", s["name"], "--verify-only", "--target-profile", t["name"],
                          *common], env, ok_codes=(0, 1))
    finally:
        sim.stop()
    return [planned, what_if, started, verified]


# Keys that only some answers carry, so the documents above do not show them.
OPTIONAL = {"Connect-CcsTenant.ps1": {"user"},  # LoginResult.to_dict: only after a device-code sign-in
            # SyncSetupIncomplete.to_dict: only when enable stops part-way (tests/test_xts_sim.py shows both keys)
            "Enable-CcsCrossTenantSync.ps1": {"done", "remaining"}}


def _json_names_read(func) -> set[str]:
    # JSON keys are camelCase (lower-case first letter); .NET/PowerShell members (PSObject, Name ...) are not,
    # nor are a type's static members ([System.Collections.Generic.List[string]]::new()).
    names = set()
    for node in walk(func):
        if node.type == "member_name" and node.parent.children[0].type != "type_literal":
            name = text(node)
            if name[:1].islower():
                names.add(name)
    return names


@pytest.mark.parametrize("path", PUBLIC, ids=lambda p: p.name)
def test_cmdlet_reads_only_keys_the_cli_writes(path, documents):
    func = functions(path)[0]
    commands = {command for command, _ in cli_invocations(func)}
    available = {key for command in commands for key in _keys(documents[command])}
    missing = _json_names_read(func) - available - OPTIONAL.get(path.name, set())
    assert not missing, f"{path.name} reads {sorted(missing)}, which 'ccsync {', '.join(commands)}' does not write"
