"""``ccsync xts enable`` and ``xts status`` against the simulated clouds over loopback HTTPS: bad input refused
before any call, the documented steps in order (a second run sends no write), portal-only steps, diffs shown
before a change, and every documented connection failure diagnosed.

Writes are counted at the HTTP layer (xts_cli.CountingSession), independently of the call record ccsync keeps
itself; tenant state is read back through the simulator's own state objects.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from toolkit.cli.main import cli
from toolkit.simulator import Simulator
from toolkit.xts.control import assignments, locate_one, read_status

from conftest import graph_caller
from xts_sim import GROUP, SAME_CLOUD_TARGET, SOURCE, TARGET, configure_source, new_job

from xts_cli import CONTOSO, FABRIKAM, GROUP_NAME, cross_cloud_job, enable, profile_name, run_cli, side, status_of
from xts_cli import pair, sample_sim  # noqa: F401 - pytest fixtures, requested by name


def test_unsupported_pair_is_refused_with_the_supported_pairs(sample_sim: Simulator, tmp_path: Path) -> None:
    result = run_cli(sample_sim, tmp_path, "xts", "enable", "--source", "fabrikamfederal", "--target", "wingtipcn",
                     "--group", "CCS-Sync-Scope", "--yes")
    assert result.exit_code == 2, result.output
    assert json.loads(result.stdout)["error"] == "CloudError"
    assert "commercial -> gcch" in result.stderr      # the supported cross-cloud pairs are listed


def test_missing_permission_is_named_before_any_call(sample_sim: Simulator, tmp_path: Path) -> None:
    before = sample_sim.tenant(FABRIKAM).cross_tenant.policy_view()
    result = run_cli(sample_sim, tmp_path, "xts", "enable", "--source", "contoso-ccsync-reader", "--target",
                     "fabrikamfederal", "--group", "CCS-Sync-Scope", "--yes")
    assert result.exit_code == 2, result.output
    doc = json.loads(result.stdout)
    assert doc["error"] == "MissingPermissionError" and doc["permission"] == "Policy.ReadWrite.CrossTenantAccess"
    assert "Grant Policy.ReadWrite.CrossTenantAccess" in result.stderr
    assert sample_sim.tenant(FABRIKAM).cross_tenant.policy_view() == before
    assert not sample_sim.tenant(FABRIKAM).cross_tenant.inbound_sync_allowed(CONTOSO)


def test_status_with_a_reader_app_names_the_missing_permission(sample_sim: Simulator, tmp_path: Path) -> None:
    result = run_cli(sample_sim, tmp_path, "xts", "status", "--source", "contoso-ccsync-reader")
    assert result.exit_code == 2
    assert json.loads(result.stdout)["permission"] == "Application.Read.All"


# --- the whole sequence from two empty tenants -----------------------------------------------------------------


def test_same_cloud_enable_from_empty_tenants_then_a_second_run_sends_no_write(pair: Simulator) -> None:
    result, s_count, t_count = enable(pair, SOURCE, SAME_CLOUD_TARGET)
    assert t_count.writes == [
        ("POST", "/policies/crossTenantAccessPolicy/partners"),
        ("PUT", f"/policies/crossTenantAccessPolicy/partners/{SOURCE}/identitySynchronization"),
        ("PATCH", f"/policies/crossTenantAccessPolicy/partners/{SOURCE}")]
    sp, job = result.ids["servicePrincipalId"], result.ids["jobId"]
    assert s_count.writes == [
        ("POST", "/policies/crossTenantAccessPolicy/partners"),
        ("PATCH", f"/policies/crossTenantAccessPolicy/partners/{SAME_CLOUD_TARGET}"),
        ("POST", "/applicationTemplates/518e5f48-1fc8-4c48-9387-9fdf28b0dfe7/instantiate"),
        ("POST", f"/servicePrincipals/{sp}/synchronization/jobs/validateCredentials"),
        ("POST", f"/servicePrincipals/{sp}/synchronization/jobs"),
        ("PUT", f"/servicePrincipals/{sp}/synchronization/secrets"),
        ("POST", f"/servicePrincipals/{sp}/appRoleAssignedTo"),
        ("POST", f"/servicePrincipals/{sp}/synchronization/jobs/{job}/start")]
    state = pair.tenant(SOURCE).enterprise_apps
    assert [a["principalId"] for a in state.assignments(sp)] == [GROUP]
    assert pair.tenant(SAME_CLOUD_TARGET).cross_tenant.inbound_sync_allowed(SOURCE)
    # A cycle provisions the group's direct members into the target.
    pair.run_sync_cycle(SOURCE)
    source, _ = side(pair, "source", SOURCE)
    (status,) = read_status(source)
    assert status.entry_counts.get("user to User", 0) >= 2 and not status.quarantined
    frame = assignments(source, locate_one(source))                      # the scope, as a DataFrame
    assert list(frame["principalId"]) == [GROUP] and list(frame["principalType"]) == ["Group"]
    # The same enable again: nothing to write, and nothing written (counted on the wire).
    again, s_count, t_count = enable(pair, SOURCE, SAME_CLOUD_TARGET)
    assert not again.changed and s_count.writes == [] and t_count.writes == []
    assert again.message().startswith("Nothing changed")


def test_what_if_lists_the_calls_per_tenant_and_sends_no_write(pair: Simulator, tmp_path: Path) -> None:
    before = (pair.tenant(TARGET).cross_tenant.policy_view(), pair.tenant(SOURCE).cross_tenant.policy_view())
    result = run_cli(pair, tmp_path, "xts", "enable", "--source", profile_name(pair, SOURCE), "--target",
                     profile_name(pair, TARGET), "--group", GROUP_NAME, "--what-if")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    planned = [(c["tenant"], c["cloud"], c["method"], c["path"]) for c in doc["calls"] if c["state"] == "planned"]
    assert planned[0] == ("target", "gcch", "PATCH", "/policies/crossTenantAccessPolicy")
    assert ("source", "commercial", "PUT", "/servicePrincipals/{servicePrincipalId}/synchronization/secrets") in planned
    secrets = next(c for c in doc["calls"] if c["path"].endswith("/secrets") and c["state"] == "planned")
    assert {i["key"] for i in secrets["body"]["value"]} >= {"CompanyId", "SyncAll", "SyncNotificationSettings"}
    assert [m["key"] for m in doc["manualSteps"]] == ["target.crossCloudSyncCheckbox", "source.crossCloudCheckbox"]
    assert (pair.tenant(TARGET).cross_tenant.policy_view(), pair.tenant(SOURCE).cross_tenant.policy_view()) == before
    assert pair.tenant(SOURCE).enterprise_apps.service_principals == {}


def test_cross_cloud_from_empty_tenants_stops_at_each_portal_step_then_completes(pair: Simulator,
                                                                                 tmp_path: Path) -> None:
    args = ["xts", "enable", "--source", profile_name(pair, SOURCE), "--target", profile_name(pair, TARGET),
            "--group", GROUP_NAME, "--yes"]
    first = run_cli(pair, tmp_path, *args)
    assert first.exit_code == 1, first.output
    doc = json.loads(first.stdout)
    assert doc["error"] == "SyncSetupIncomplete"
    assert any("inbound" in d and "redemption" in d for d in doc["done"])     # the policy steps were done ...
    assert any("created in the portal" in r for r in doc["remaining"])       # ... and what is left is said
    assert "MANUAL STEP (source tenant" in first.stderr
    # The configuration is named after the target tenant (the portal's habit), and the step says so.
    config_name = "Fourth Coffee"
    source_step = next(m for m in doc["manualSteps"] if m["key"] == "source.crossCloudCheckbox")
    assert f"name it '{config_name}'" in source_step["instructions"] and source_step["status"] == "not done"
    # The admin creates the configuration in the portal, with the cross-cloud box; the target box is not ticked.
    pair.portal_create_cross_cloud_configuration(SOURCE, config_name)
    second = run_cli(pair, tmp_path, *args)
    assert second.exit_code == 1
    doc = json.loads(second.stdout)
    assert "AzureActiveDirectoryTokenExpired" in doc["message"]
    target_step = next(m for m in doc["manualSteps"] if m["key"] == "target.crossCloudSyncCheckbox")
    assert target_step["status"] == "not done"                                # never claimed done
    pair.portal_tick_cross_cloud_sync(TARGET, "commercial")
    third = run_cli(pair, tmp_path, *args)
    assert third.exit_code == 0, third.output
    doc = json.loads(third.stdout)
    assert {m["status"] for m in doc["manualSteps"]} == {"verified"}
    assert [c["step"] for c in doc["sent"]][-1] == "source.start"
    fourth = run_cli(pair, tmp_path, *args)
    assert fourth.exit_code == 0 and json.loads(fourth.stdout)["sent"] == []
    assert "Nothing changed" in fourth.stderr


def test_enable_refuses_without_a_terminal_and_without_yes(pair: Simulator, tmp_path: Path) -> None:
    result = run_cli(pair, tmp_path, "xts", "enable", "--source", profile_name(pair, SOURCE), "--target",
                     profile_name(pair, SAME_CLOUD_TARGET), "--group", GROUP_NAME)
    assert result.exit_code == 2
    assert "no terminal" in result.stderr and "--yes" in result.stderr
    assert pair.tenant(SOURCE).enterprise_apps.service_principals == {}


def test_group_that_matches_nothing_is_refused_before_any_write(pair: Simulator, tmp_path: Path) -> None:
    result = run_cli(pair, tmp_path, "xts", "enable", "--source", profile_name(pair, SOURCE), "--target",
                     profile_name(pair, SAME_CLOUD_TARGET), "--group", "No such group", "--yes")
    assert result.exit_code == 2
    assert "no group named 'No such group'" in result.stderr
    assert pair.tenant(SAME_CLOUD_TARGET).cross_tenant.partner(SOURCE) is None


def test_partner_configured_differently_is_shown_as_a_diff_and_changed_only_with_force(pair: Simulator,
                                                                                      tmp_path: Path) -> None:
    tgt = graph_caller(pair, SAME_CLOUD_TARGET)
    assert tgt.post("policies/crossTenantAccessPolicy/partners", {"tenantId": SOURCE}).status_code == 201
    assert tgt.call("PUT", f"policies/crossTenantAccessPolicy/partners/{SOURCE}/identitySynchronization",
                    json={"displayName": "stopped", "userSyncInbound": {"isSyncAllowed": False}}).status_code == 204
    args = ["xts", "enable", "--source", profile_name(pair, SOURCE), "--target",
            profile_name(pair, SAME_CLOUD_TARGET), "--group", GROUP_NAME, "--yes"]
    refused = run_cli(pair, tmp_path, *args)
    assert refused.exit_code == 2
    doc = json.loads(refused.stdout)
    assert doc["error"] == "ConfigurationConflict"
    assert doc["differences"] == [{"tenant": "target", "tenantId": SAME_CLOUD_TARGET,
                                   "path": f"/policies/crossTenantAccessPolicy/partners/{SOURCE}/identitySynchronization",
                                   "field": "userSyncInbound.isSyncAllowed", "current": False, "wanted": True}]
    assert not pair.tenant(SAME_CLOUD_TARGET).cross_tenant.inbound_sync_allowed(SOURCE)
    forced = run_cli(pair, tmp_path, *args, "--force")
    assert forced.exit_code == 0, forced.output
    assert pair.tenant(SAME_CLOUD_TARGET).cross_tenant.inbound_sync_allowed(SOURCE)


# --- status: each documented failure, diagnosed --------------------------------------------------------------

@pytest.mark.parametrize("setup,code,fix", [
    ({"portal_config": False, "tick": True, "target_side": True}, "ExternalTenantNotFound",
     "Setup cross-tenant synchronization across Microsoft clouds"),
    ({"portal_config": True, "tick": False, "target_side": True}, "AzureActiveDirectoryTokenExpired",
     "Cross-cloud synchronization"),
    ({"portal_config": True, "tick": True, "target_side": False},
     "AzureActiveDirectoryCrossTenantSyncPolicyCheckFailure", "ccsync xts enable"),
], ids=["configuration-not-cross-cloud", "target-box-not-ticked", "target-side-not-configured"])
def test_status_diagnoses_each_documented_connection_failure(pair: Simulator, tmp_path: Path, setup: dict[str, bool],
                                                             code: str, fix: str) -> None:
    cross_cloud_job(pair, **setup)
    exit_code, doc = status_of(pair, tmp_path)
    assert exit_code == 1 and doc["failing"] is True
    (job,) = doc["jobs"]
    diagnosis = next(d for d in job["diagnoses"] if d["code"] == code)
    assert fix in diagnosis["fix"]
    if code == "AzureActiveDirectoryCrossTenantSyncPolicyCheckFailure":
        assert "target side is not configured" in diagnosis["message"]


def test_status_diagnoses_the_escrow_quarantine_of_a_missing_inbound_redemption(pair: Simulator,
                                                                               tmp_path: Path) -> None:
    src, tgt = graph_caller(pair, SOURCE), graph_caller(pair, TARGET)
    assert src.patch("policies/crossTenantAccessPolicy", {"allowedCloudEndpoints": ["microsoftonline.us"]}).status_code == 204
    pair.portal_tick_cross_cloud_sync(TARGET, "commercial")
    assert tgt.post("policies/crossTenantAccessPolicy/partners", {"tenantId": SOURCE}).status_code == 201
    assert tgt.call("PUT", f"policies/crossTenantAccessPolicy/partners/{SOURCE}/identitySynchronization",
                    json={"userSyncInbound": {"isSyncAllowed": True}}).status_code == 204
    configure_source(src)      # ... but the target never enabled inbound automatic redemption
    new_job(src, pair.portal_create_cross_cloud_configuration(SOURCE, "Northwind Gov"))
    pair.run_sync_cycle(SOURCE)
    exit_code, doc = status_of(pair, tmp_path)
    assert exit_code == 1
    codes = {d["code"]: d for d in doc["jobs"][0]["diagnoses"]}
    assert "EncounteredEscrowProportionThreshold" in codes
    assert "automatic redemption" in codes["AzureDirectoryB2BManagementPolicyCheckFailure"]["fix"]
    # ccsync xts enable finds exactly the missing setting and the job recovers on the next cycle.
    args = ["xts", "enable", "--source", profile_name(pair, SOURCE), "--target", profile_name(pair, TARGET),
            "--name", "Northwind Gov", "--group", GROUP_NAME, "--deletion-threshold", "0", "--yes"]
    fixed = run_cli(pair, tmp_path, *args)
    assert fixed.exit_code == 0, fixed.output
    assert [c["step"] for c in json.loads(fixed.stdout)["sent"]] == ["target.inboundRedemption"]
    pair.run_sync_cycle(SOURCE)
    assert status_of(pair, tmp_path)[0] == 0


def test_enable_completes_against_a_fresh_sim_serve(tmp_path: Path) -> None:
    """The README's promise: the demo pair's portal steps are done in the samples, so enable completes."""
    import signal
    import subprocess
    import sys
    import time

    profiles = tmp_path / "sim" / "profiles.toml"
    proc = subprocess.Popen([sys.executable, "-m", "toolkit.cli", "sim", "serve", "--write-profiles", str(profiles)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
    try:
        secrets = profiles.parent / "sim-secrets.env"
        deadline = time.monotonic() + 60
        while not secrets.exists():
            assert proc.poll() is None and time.monotonic() < deadline, "sim serve did not start"
            time.sleep(0.1)
        time.sleep(0.3)
        values = dict(line.split("=", 1) for line in secrets.read_text().splitlines() if not line.startswith("#"))
        env = {**os.environ, "CCSYNC_CONFIG": str(profiles), **values}
        args = [sys.executable, "-m", "toolkit.cli", "xts", "enable", "--source", "contoso-ccsync", "--target",
                "fabrikamfederal", "--group", "CCS-Sync-Scope", "--yes", "-o", "json"]
        first = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120, stdin=subprocess.DEVNULL)
        assert first.returncode == 0, first.stderr
        assert json.loads(first.stdout)["changed"] is True
        second = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120, stdin=subprocess.DEVNULL)
        assert second.returncode == 0 and json.loads(second.stdout)["sent"] == []
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)


def test_at_a_terminal_enable_asks_first_and_waits_for_the_admin_at_portal_steps(
        pair: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import toolkit.cli.xts as xts_command

    monkeypatch.setattr(xts_command, "_interactive", lambda: True)
    args = ["xts", "enable", "--source", profile_name(pair, SOURCE), "--target", profile_name(pair, TARGET),
            "--group", GROUP_NAME]
    config = pair.write_profiles(tmp_path / "config.toml")
    env = {p.secret_env: pair.secret_for(p.tenant, p.client_id) for p in pair.profiles()}

    def run(answers: str) -> Any:
        return CliRunner().invoke(cli, [*args, "--config", str(config)], env=env, input=answers)

    declined = run("n\n")
    assert declined.exit_code == 2 and "not confirmed" in declined.stderr
    assert pair.tenant(TARGET).cross_tenant.partner(SOURCE) is None
    # Confirm; at the target's portal step press Enter; at the source's one the admin creates the configuration
    # in the portal (simulated when the prompt is answered), then the target box is found missing: stop with q.
    answers = iter(["", ""])

    def admin_creates_configuration_then_quits(*_a: Any, **_k: Any) -> str:
        answer = next(answers, "q")
        if answer == "" and not pair.tenant(SOURCE).enterprise_apps.service_principals:
            pair.portal_create_cross_cloud_configuration(SOURCE, "Fourth Coffee")
        return answer
    monkeypatch.setattr(xts_command.click, "prompt", admin_creates_configuration_then_quits)
    monkeypatch.setattr(xts_command.click, "confirm", lambda *_a, **_k: True)
    stopped = run("")
    assert stopped.exit_code == 1, stopped.output
    assert "AzureActiveDirectoryTokenExpired" in stopped.stderr
    assert stopped.stderr.count("MANUAL STEP (target tenant") == 2          # shown again when found not done
    assert pair.tenant(TARGET).cross_tenant.inbound_sync_allowed(SOURCE)      # the Graph steps before it are done


def test_a_403_names_the_permission_the_call_needs(sample_sim: Simulator) -> None:
    """When the token's roles cannot be checked first (e.g. a delegated token), Graph's 403 is turned into the
    missing permission of that call."""
    from toolkit.errors import MissingPermissionError
    from toolkit.xts.policy import read_cloud_endpoints

    reader = next(p for p in sample_sim.profiles() if p.name == "contoso-ccsync-reader")
    source, _ = side(sample_sim, "source", CONTOSO, reader.client_id)
    source._roles = None
    with pytest.raises(MissingPermissionError) as info:
        read_cloud_endpoints(source, "source.cloudSettings")
    assert info.value.permission == "Policy.ReadWrite.CrossTenantAccess"
    assert "403" in info.value.message and "token has: unknown" in info.value.message


def test_a_stopped_enable_says_in_table_mode_which_steps_were_done_and_which_are_left(pair: Simulator,
                                                                                      tmp_path: Path) -> None:
    result = run_cli(pair, tmp_path, "xts", "enable", "--source", profile_name(pair, SOURCE), "--target",
                     profile_name(pair, TARGET), "--group", GROUP_NAME, "--yes", output="table")
    assert result.exit_code == 1
    assert "  done: target: allow user synchronization into this tenant" in result.stderr
    assert "  left: manual: In the SOURCE tenant's Entra admin center" in result.stderr
    assert "Error: The setup stopped at" in result.stderr


def test_a_profile_in_the_wrong_cloud_is_refused_at_sign_in_with_the_fix(sample_sim: Simulator, tmp_path: Path) -> None:
    import re

    config = sample_sim.write_profiles(tmp_path / "config.toml")
    text = config.read_text()
    block = text.split("[profiles.fabrikamfederal]")[1].split("[profiles.")[0]
    commercial = sample_sim.endpoints("commercial")
    wrong = re.sub(r'cloud = "gcch"', 'cloud = "commercial"', block)
    wrong = re.sub(r'login_url = "[^"]+"', f'login_url = "{commercial.login_url}"', wrong)
    wrong = re.sub(r'graph_url = "[^"]+"', f'graph_url = "{commercial.graph_url}"', wrong)
    config.write_text(text.replace(block, wrong))
    env = {p.secret_env: sample_sim.secret_for(p.tenant, p.client_id) for p in sample_sim.profiles()}
    before = sample_sim.tenant(CONTOSO).cross_tenant.policy_view()
    result = CliRunner().invoke(cli, ["xts", "enable", "--source", "contoso-ccsync", "--target", "fabrikamfederal",
                                      "--group", "CCS-Sync-Scope", "--yes", "--config", str(config)], env=env)
    assert result.exit_code == 1
    assert "is not the tenant's cloud: fix 'cloud' in the profile" in result.stderr
    assert sample_sim.tenant(CONTOSO).cross_tenant.policy_view() == before
