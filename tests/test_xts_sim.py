"""``ccsync xts`` on a configured job, against the simulated clouds over loopback HTTPS: pause, start and restart,
on-demand provisioning within the rate limit, the deletion threshold's quarantine, cycles that provision, update,
disable and soft-delete, disable in reverse order, and the demo's sync step.

Writes are counted at the HTTP layer (xts_cli.CountingSession); tenant state is read back through the
simulator's own state objects.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from toolkit.cli.main import cli
from toolkit.simulator import Simulator
from toolkit.xts import EnableOptions, execute_enable, plan_enable
from toolkit.xts.control import provision

from conftest import graph_caller
from xts_sim import GROUP, SAME_CLOUD_TARGET, SOURCE

from xts_cli import CONTOSO, FABRIKAM, GROUP_NAME, profile_name, run_cli, side, status_of
from xts_cli import pair, sample_sim  # noqa: F401 - pytest fixtures, requested by name


def test_deletion_threshold_quarantines_and_force_deletes_releases_it(pair: Simulator, tmp_path: Path) -> None:
    src = graph_caller(pair, SOURCE)
    base = ["--source", profile_name(pair, SOURCE)]
    enabled = run_cli(pair, tmp_path, "xts", "enable", *base, "--target", profile_name(pair, SAME_CLOUD_TARGET),
                      "--group", GROUP_NAME, "--deletion-threshold", "1", "--yes")
    assert enabled.exit_code == 0, enabled.output
    pair.run_sync_cycle(SOURCE)
    assert status_of(pair, tmp_path)[0] == 0
    target_users = {u["mail"]: u for u in pair.tenant(SAME_CLOUD_TARGET).users.values() if u.get("mail")}
    assert "user2@fourthcoffee.com" in target_users and "user4@fourthcoffee.com" in target_users
    for n in (2, 3, 4):   # everyone leaves the group: more deletes/disables than the threshold allows
        assert src.delete(f"groups/{GROUP}/members/00000000-0000-4000-8000-{n:012d}/$ref").status_code == 204
    pair.run_sync_cycle(SOURCE)
    exit_code, doc = status_of(pair, tmp_path)
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
    exit_code, doc = status_of(pair, tmp_path)
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
    status_doc = status_of(pair, tmp_path)[1]
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
    exit_code, doc = status_of(pair, tmp_path)
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


