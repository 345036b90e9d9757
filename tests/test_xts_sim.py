"""``ccsync xts`` against the simulated clouds over loopback HTTPS.

Writes are counted at the HTTP layer (a requests session that records every Graph call), independently of the
call record ccsync keeps itself; tenant state is read back through the simulator's own state objects.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterator

import pytest
from click.testing import CliRunner

from toolkit.auth import TokenProvider
from toolkit.cli.main import cli
from toolkit.graph import GraphClient
from toolkit.simulator import SimConfig, Simulator
from toolkit.transport import make_session
from toolkit.xts import EnableOptions, execute_enable, plan_enable
from toolkit.xts.calls import TenantSide
from toolkit.xts.control import assignments, locate_one, provision, read_status
from toolkit.xts.enable import check_sides

from conftest import graph_caller
from xts_sim import (GROUP, SAME_CLOUD_TARGET, SOURCE, TARGET, configure_source, configure_target, new_configuration,
                     new_job, pair_sim)

CONTOSO = "f78a1d87-6c6a-551d-9a2d-2868c0bcaf9d"
FABRIKAM = "630001af-a570-5cab-abf5-2e9d77c5349f"
WRITES = ("POST", "PUT", "PATCH", "DELETE")


@pytest.fixture()
def sample_sim(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Simulator]:
    """A fresh simulator with the sample tenants, and a private token cache."""
    monkeypatch.setenv("CCSYNC_CACHE_DIR", str(tmp_path / "tokens"))
    with Simulator(SimConfig()) as running:
        yield running


def run_cli(sim: Simulator, tmp_path: Path, *args: str, output: str = "json") -> Any:
    config = sim.write_profiles(tmp_path / "config.toml")
    env = {p.secret_env: sim.secret_for(p.tenant, p.client_id) for p in sim.profiles()}
    env["CCSYNC_CACHE_DIR"] = os.environ.get("CCSYNC_CACHE_DIR", str(tmp_path / "tokens"))
    return CliRunner().invoke(cli, [*args, "--config", str(config), "--output", output], env=env)


class CountingSession:
    """Wraps a requests session: records (method, path) of every Graph call (token requests excluded)."""

    def __init__(self, session: Any):
        self.session, self.calls = session, []
        original = session.request

        def request(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            if "/v1.0/" in url:
                self.calls.append((method.upper(), url.split("/v1.0", 1)[1].split("?", 1)[0]))
            return original(method, url, *args, **kwargs)
        session.request = request

    @property
    def writes(self) -> list[tuple[str, str]]:
        return [c for c in self.calls if c[0] in WRITES]


def side(sim: Simulator, role: str, tenant: str, app_id: str | None = None) -> tuple[TenantSide, CountingSession]:
    profile = next(p for p in sim.profiles() if p.tenant == tenant and (app_id is None or p.client_id == app_id))
    counter = CountingSession(make_session(sim.ca_bundle))
    provider = TokenProvider(profile, session=counter.session, secret=sim.secret_for(tenant, profile.client_id),
                             persist_cache=False)
    s = TenantSide.from_profile(role, profile, client=GraphClient(profile.graph_base, provider, counter.session))
    s.load_organization()
    return s, counter


# --- bad input: refused before any call ------------------------------------------------------------------------

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


GROUP_NAME = "Licensed staff"   # conftest.make_seed: users 2, 3, 4 (user 3 disabled) and a nested group


@pytest.fixture()
def pair(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Simulator]:
    """Two empty-of-policy tenants per cloud pair (xts_sim.pair_seeds): commercial source, GCC High and
    commercial targets."""
    monkeypatch.setenv("CCSYNC_CACHE_DIR", str(tmp_path / "tokens"))
    sim = pair_sim()
    try:
        yield sim
    finally:
        sim.stop()


def profile_name(sim: Simulator, tenant: str) -> str:
    return next(e["name"] for e in sim.profile_entries() if e["tenant"] == tenant)


def enable(sim: Simulator, source_id: str, target_id: str, **options: Any) -> tuple[Any, CountingSession, CountingSession]:
    source, s_count = side(sim, "source", source_id)
    target, t_count = side(sim, "target", target_id)
    pair_ = check_sides("enable", source, target)
    plan = plan_enable(source, target, EnableOptions(groups=[GROUP_NAME], **options), pair_)
    return execute_enable(plan), s_count, t_count


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

def _status(sim: Simulator, tmp_path: Path) -> tuple[int, dict[str, Any]]:
    result = run_cli(sim, tmp_path, "xts", "status", "--source", profile_name(sim, SOURCE))
    return result.exit_code, json.loads(result.stdout)


def _cross_cloud_job(sim: Simulator, *, portal_config: bool, tick: bool, target_side: bool) -> None:
    src, tgt = graph_caller(sim, SOURCE), graph_caller(sim, TARGET)
    assert src.patch("policies/crossTenantAccessPolicy", {"allowedCloudEndpoints": ["microsoftonline.us"]}).status_code == 204
    if tick:
        sim.portal_tick_cross_cloud_sync(TARGET, "commercial")
    if target_side:
        configure_target(tgt)
    configure_source(src)
    sp = sim.portal_create_cross_cloud_configuration(SOURCE, "Northwind Gov") if portal_config \
        else new_configuration(src)
    new_job(src, sp)
    sim.run_sync_cycle(SOURCE)


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
    _cross_cloud_job(pair, **setup)
    exit_code, doc = _status(pair, tmp_path)
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
    exit_code, doc = _status(pair, tmp_path)
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
    assert _status(pair, tmp_path)[0] == 0


def test_deletion_threshold_quarantines_and_force_deletes_releases_it(pair: Simulator, tmp_path: Path) -> None:
    src = graph_caller(pair, SOURCE)
    base = ["--source", profile_name(pair, SOURCE)]
    enabled = run_cli(pair, tmp_path, "xts", "enable", *base, "--target", profile_name(pair, SAME_CLOUD_TARGET),
                      "--group", GROUP_NAME, "--deletion-threshold", "1", "--yes")
    assert enabled.exit_code == 0, enabled.output
    pair.run_sync_cycle(SOURCE)
    assert _status(pair, tmp_path)[0] == 0
    target_users = {u["mail"]: u for u in pair.tenant(SAME_CLOUD_TARGET).users.values() if u.get("mail")}
    assert "user2@fourthcoffee.com" in target_users and "user4@fourthcoffee.com" in target_users
    for n in (2, 3, 4):   # everyone leaves the group: more deletes/disables than the threshold allows
        assert src.delete(f"groups/{GROUP}/members/00000000-0000-4000-8000-{n:012d}/$ref").status_code == 204
    pair.run_sync_cycle(SOURCE)
    exit_code, doc = _status(pair, tmp_path)
    assert exit_code == 1
    (job,) = doc["jobs"]
    assert job["quarantined"] and (job["quarantine"] or {}).get("reason") == "TooManyDeletes"
    assert "--force-deletes" in next(d for d in job["diagnoses"] if d["code"] == "TooManyDeletes")["fix"]
    # enable again leaves the job's state alone but says what is wrong with it and the fix.
    again = run_cli(pair, tmp_path, "xts", "enable", *base, "--target", profile_name(pair, SAME_CLOUD_TARGET),
                    "--group", GROUP_NAME, "--deletion-threshold", "1", "--yes")
    assert again.exit_code == 0 and json.loads(again.stdout)["sent"] == []
    assert "Warning: the existing job" in again.stderr and "--force-deletes" in again.stderr
    refused = run_cli(pair, tmp_path, "xts", "restart", *base, "--force-deletes")
    assert refused.exit_code == 2 and "no terminal" in refused.stderr          # destructive: asks first
    released = run_cli(pair, tmp_path, "xts", "restart", *base, "--force-deletes", "--yes")
    assert released.exit_code == 0, released.output
    assert json.loads(released.stdout)["call"]["body"] == {"criteria": {"resetScope": "ForceDeletes"}}
    pair.run_sync_cycle(SOURCE)
    exit_code, doc = _status(pair, tmp_path)
    assert exit_code == 0 and not doc["jobs"][0]["quarantined"]
    remaining = {u.get("mail") for u in pair.tenant(SAME_CLOUD_TARGET).users.values()}
    assert "user2@fourthcoffee.com" not in remaining                          # soft-deleted now


def test_pause_start_and_restart_send_the_documented_calls(pair: Simulator, tmp_path: Path) -> None:
    base = ["--source", profile_name(pair, SOURCE)]
    assert run_cli(pair, tmp_path, "xts", "enable", *base, "--target", profile_name(pair, SAME_CLOUD_TARGET),
                   "--group", GROUP_NAME, "--yes").exit_code == 0
    apps = pair.tenant(SOURCE).enterprise_apps
    (sp_id, job), = apps.all_jobs()
    what_if = run_cli(pair, tmp_path, "xts", "pause", *base, "--what-if")
    assert json.loads(what_if.stdout)["call"]["state"] == "planned" and job.schedule["state"] == "Active"
    paused = run_cli(pair, tmp_path, "xts", "pause", *base)
    assert paused.exit_code == 0 and json.loads(paused.stdout)["call"]["status"] == 204
    assert apps.all_jobs()[0][1].schedule["state"] == "Paused"
    status_doc = _status(pair, tmp_path)[1]
    assert "Paused" in [d["code"] for d in status_doc["jobs"][0]["diagnoses"]]
    assert run_cli(pair, tmp_path, "xts", "start", *base).exit_code == 0
    assert apps.all_jobs()[0][1].schedule["state"] == "Active"
    full = run_cli(pair, tmp_path, "xts", "restart", *base, "--full")
    assert json.loads(full.stdout)["call"]["body"] == {"criteria": {"resetScope": "Full"}}


def test_provision_on_demand_reports_each_step_and_stays_within_the_rate_limit(pair: Simulator) -> None:
    source, _ = side(pair, "source", SOURCE)
    target, _ = side(pair, "target", SAME_CLOUD_TARGET)
    execute_enable(plan_enable(source, target, EnableOptions(groups=[GROUP_NAME])))
    source, counter = side(pair, "source", SOURCE)
    statuses: list[int] = []
    original = counter.session.request

    def recording(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        resp = original(method, url, *args, **kwargs)
        if url.endswith("/provisionOnDemand"):
            statuses.append(resp.status_code)
        return resp
    counter.session.request = recording
    users = ["user2@fourthcoffee.com", "user4@fourthcoffee.com"] * 3 + ["nobody@fourthcoffee.com"]
    results = provision(source, users)
    assert [r.result for r in results[:2]] == ["Success", "Success"]
    assert all(r.steps for r in results[:6]) and results[2].result == "Skipped"     # nothing left to change
    assert results[-1].result == "NotFound"
    assert statuses == [200] * 6                  # six sends, none refused: paced at 5 per 10 s, not throttled
    assert source.client.pacer.provision_on_demand.total_sent == 6


def test_disable_removes_in_reverse_order_and_leaves_synced_users(pair: Simulator, tmp_path: Path) -> None:
    base = ["--source", profile_name(pair, SOURCE), "--target", profile_name(pair, SAME_CLOUD_TARGET)]
    assert run_cli(pair, tmp_path, "xts", "enable", *base, "--group", GROUP_NAME, "--yes").exit_code == 0
    pair.run_sync_cycle(SOURCE)
    synced = {u["id"] for u in pair.tenant(SAME_CLOUD_TARGET).users.values()}
    what_if = run_cli(pair, tmp_path, "xts", "disable", *base, "--what-if")
    planned = [(c["tenant"], c["method"], c["path"].split("/")[1]) for c in json.loads(what_if.stdout)["calls"]]
    assert [p[:2] for p in planned] == [("source", "DELETE")] * 3 + [("target", "DELETE")]
    assert pair.tenant(SOURCE).enterprise_apps.service_principals                      # nothing removed yet
    refused = run_cli(pair, tmp_path, "xts", "disable", *base)
    assert refused.exit_code == 2
    done = run_cli(pair, tmp_path, "xts", "disable", *base, "--yes")
    assert done.exit_code == 0, done.output
    assert pair.tenant(SOURCE).enterprise_apps.service_principals == {}
    assert not pair.tenant(SAME_CLOUD_TARGET).cross_tenant.inbound_sync_allowed(SOURCE)
    assert synced <= {u["id"] for u in pair.tenant(SAME_CLOUD_TARGET).users.values()}  # synced users stay
    again = run_cli(pair, tmp_path, "xts", "disable", *base, "--yes")
    assert again.exit_code == 0 and "Nothing to remove" in again.stderr


def test_demo_configures_entra_sync_runs_a_cycle_and_shows_the_users(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CCSYNC_CACHE_DIR", str(tmp_path / "tokens"))
    result = CliRunner().invoke(cli, ["demo", "--output", "json", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.stderr
    section = json.loads(result.stdout)["sync"]["steps"]["xts"]
    assert section["configuration"] == "Fabrikam Federal" and section["writesSent"] > 0
    assert section["secondRunWrites"] == 0
    assert section["status"]["lastExecution"]["timeEnded"] and not section["status"]["quarantined"]
    assert {m["status"] for m in section["manualSteps"]} == {"verified"}
    assert section["provisioned"] and all("#EXT#@fabrikamfederal" in u["userPrincipalName"]
                                          for u in section["provisioned"])


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
    import toolkit.cli.xts as xts_cli

    monkeypatch.setattr(xts_cli, "_interactive", lambda: True)
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
    monkeypatch.setattr(xts_cli.click, "prompt", admin_creates_configuration_then_quits)
    monkeypatch.setattr(xts_cli.click, "confirm", lambda *_a, **_k: True)
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


def test_cycles_after_enable_provision_update_disable_and_soft_delete(pair: Simulator, tmp_path: Path) -> None:
    base = ["--source", profile_name(pair, SOURCE), "--target", profile_name(pair, SAME_CLOUD_TARGET)]
    assert run_cli(pair, tmp_path, "xts", "enable", *base, "--group", GROUP_NAME, "--yes").exit_code == 0
    pair.run_sync_cycle(SOURCE)

    def target_user(n: int) -> dict[str, Any] | None:
        mail = f"user{n}@fourthcoffee.com"
        return next((u for u in pair.tenant(SAME_CLOUD_TARGET).users.values() if u.get("mail") == mail), None)

    created = target_user(2)
    assert created is not None and created["userType"] == "Member"               # an external member
    src = graph_caller(pair, SOURCE)
    assert src.patch("users/00000000-0000-4000-8000-000000000002", {"jobTitle": "Director"}).status_code == 204
    assert src.patch("users/00000000-0000-4000-8000-000000000004", {"accountEnabled": False}).status_code == 204
    pair.run_sync_cycle(SOURCE)
    assert target_user(2)["jobTitle"] == "Director"
    assert target_user(4)["accountEnabled"] is False                               # disabled, not deleted
    assert src.delete(f"groups/{GROUP}/members/00000000-0000-4000-8000-000000000002/$ref").status_code == 204
    pair.run_sync_cycle(SOURCE)
    assert target_user(2) is None                                                  # soft-deleted
    assert created["id"] in pair.tenant(SAME_CLOUD_TARGET).deleted                # in the deleted items
    exit_code, doc = _status(pair, tmp_path)
    assert exit_code == 0 and doc["jobs"][0]["lastExecution"]["countExported"] >= 1


def test_disable_with_policies_removes_only_the_policies_enable_made(pair: Simulator, sample_sim: Simulator,
                                                                     tmp_path: Path) -> None:
    # Two empty tenants: every policy was made by enable, so --policies removes all of it.
    base = ["--source", profile_name(pair, SOURCE), "--target", profile_name(pair, SAME_CLOUD_TARGET)]
    assert run_cli(pair, tmp_path, "xts", "enable", *base, "--group", GROUP_NAME, "--yes").exit_code == 0
    result = run_cli(pair, tmp_path, "xts", "disable", *base, "--policies", "--yes")
    assert result.exit_code == 0, result.output
    sent = [(c["tenant"], c["method"], c["path"]) for c in json.loads(result.stdout)["sent"]]
    tenants = [t for t, _, _ in sent]
    assert tenants == sorted(tenants, key=lambda t: t != "source")          # the source first, the target last
    assert ("target", "DELETE", f"/policies/crossTenantAccessPolicy/partners/{SOURCE}") in sent
    assert ("source", "DELETE", f"/policies/crossTenantAccessPolicy/partners/{SAME_CLOUD_TARGET}") in sent
    assert pair.tenant(SOURCE).cross_tenant.partner(SAME_CLOUD_TARGET) is None
    assert pair.tenant(SAME_CLOUD_TARGET).cross_tenant.partner(SOURCE) is None
    # The samples' partners also allow B2B collaboration (made for the direct-apply demo): they are kept.
    samples = ["--source", "contoso-ccsync", "--target", "fabrikamfederal"]
    assert run_cli(sample_sim, tmp_path, "xts", "enable", *samples, "--group", "CCS-Sync-Scope", "--yes").exit_code == 0
    kept = run_cli(sample_sim, tmp_path, "xts", "disable", *samples, "--policies", "--yes")
    assert kept.exit_code == 0
    assert sample_sim.tenant(FABRIKAM).cross_tenant.partner(CONTOSO) is not None
    assert not sample_sim.tenant(FABRIKAM).cross_tenant.inbound_sync_allowed(CONTOSO)
    assert "b2bCollaborationInbound" in kept.stderr and "microsoftonline.us" in \
        sample_sim.tenant(CONTOSO).cross_tenant.allowed_cloud_endpoints


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
