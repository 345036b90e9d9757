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
from toolkit.xts.calls import TenantSide

from conftest import graph_caller

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

from xts_sim import (GROUP, SAME_CLOUD_TARGET, SOURCE, TARGET, configure_source, configure_target,  # noqa: E402
                     new_configuration, new_job, pair_sim)
from toolkit.xts import EnableOptions, execute_enable, plan_enable  # noqa: E402
from toolkit.xts.control import plan_disable, execute_disable, read_status  # noqa: E402
from toolkit.xts.enable import check_sides  # noqa: E402

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
