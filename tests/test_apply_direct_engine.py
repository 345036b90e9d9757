"""The direct engine against the simulated Entra: cross-cloud B2B prerequisites, what an invitation creates,
collisions read back, the link written first, the lag 400, restore conflicts."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator
from urllib.parse import urlparse

import pytest

from toolkit.apply import ApplyOptions, PrerequisiteError, apply_plan
from toolkit.simulator import SimConfig, Simulator
from toolkit.simulator.faults import FaultConfig

from conftest import graph_caller
from apply_helpers import (CONTOSO, FABRIKAM, client, link_of, linked_users, make_plan, sim_time,
                                source_tenant, source_user)


@pytest.fixture()
def sim() -> Iterator[Simulator]:
    with Simulator(SimConfig()) as running:
        yield running


def _admin(sim: Simulator):
    return graph_caller(sim, FABRIKAM, next(iter(sim.tenant(FABRIKAM).apps)))


# --- 1. cross-cloud B2B prerequisites -------------------------------------------------------------------

def test_apply_refuses_before_writing_when_the_target_does_not_allow_the_source_cloud(sim, tmp_path):
    sim.tenant(FABRIKAM).cross_tenant.allowed_cloud_endpoints.clear()
    before = len(sim.tenant(FABRIKAM).users)
    plan = make_plan(sim, source_tenant([source_user(1)]))
    for what_if in (True, False):
        with pytest.raises(PrerequisiteError) as err:
            apply_plan(plan, client(sim), cloud="gcch", plan_path=plan.save(tmp_path / "p.json"),
                       options=sim_time(what_if=what_if))
        assert "microsoftonline.com" in str(err.value) and "ccsync xts enable" in (err.value.hint or "")
    assert len(sim.tenant(FABRIKAM).users) == before


def test_apply_names_a_missing_partner_entry_and_an_invite_setting_that_refuses_apps(sim, tmp_path):
    policy = sim.tenant(FABRIKAM).cross_tenant
    policy.partners.pop(CONTOSO)
    policy.authorization["allowInvitesFrom"] = "adminsAndGuestInviters"
    plan = make_plan(sim, source_tenant([source_user(1)]))
    with pytest.raises(PrerequisiteError) as err:
        apply_plan(plan, client(sim), cloud="gcch", options=sim_time(what_if=True))
    text = str(err.value)
    assert f"no partner entry for the source tenant {CONTOSO}" in text and "allowInvitesFrom" in text


def test_what_if_reports_the_settings_it_read_and_an_app_without_policy_read_is_told_what_to_grant(
        sim, tmp_path, monkeypatch):
    plan = make_plan(sim, source_tenant([source_user(1)]))
    result = apply_plan(plan, client(sim), cloud="gcch", options=sim_time(what_if=True))
    assert result.summary["prerequisites"]["allowedCloudEndpoints"] == ["microsoftonline.com"]
    app = next(a for a in sim.tenant(FABRIKAM).apps.values() if a.display_name == "ccsync")
    app.roles = [r for r in app.roles if not r.startswith("Policy.")]
    monkeypatch.setenv("CCSYNC_CACHE_DIR", str(tmp_path / "tokens"))     # a fresh token, without those roles
    with pytest.raises(PrerequisiteError) as err:
        apply_plan(plan, client(sim), cloud="gcch", options=sim_time(what_if=True))
    assert "Policy.Read.All" in (err.value.hint or "")


def test_the_simulator_refuses_a_cross_cloud_invitation_the_policies_block(sim):
    g = _admin(sim)
    body = {"invitedUserEmailAddress": "user00001@contoso.com", "inviteRedirectUrl": "https://myapps.microsoft.us"}
    sim.tenant(CONTOSO).cross_tenant.allowed_cloud_endpoints.clear()       # the source no longer allows GCC High
    refused = g.post("invitations", json=body)
    assert refused.status_code == 403
    assert refused.json()["error"]["message"] == "This invitation is blocked by cross-tenant access settings."
    sim.tenant(CONTOSO).cross_tenant.allowed_cloud_endpoints.append("microsoftonline.us")
    sim.tenant(FABRIKAM).cross_tenant.authorization["allowInvitesFrom"] = "none"
    refused = g.post("invitations", json=body)
    assert refused.status_code == 403 and "Guest invitations not allowed" in refused.json()["error"]["message"]
    sim.tenant(FABRIKAM).cross_tenant.authorization["allowInvitesFrom"] = "everyone"
    assert g.post("invitations", json=body).status_code == 201


# --- 2. what an invitation creates ---------------------------------------------------------------------

def test_invited_users_are_pending_acceptance_with_their_redeem_url_in_the_results(sim, tmp_path):
    plan = make_plan(sim, source_tenant([source_user(1), source_user(2)]))
    result = apply_plan(plan, client(sim), cloud="gcch", plan_path=plan.save(tmp_path / "p.json"), options=sim_time())
    assert result.summary["states"] == {"done": 2}
    rows = result.frame.set_index("sourceUpn")
    for i in (1, 2):
        row = rows.loc[f"user{i:05d}@contoso.com"]
        assert row["externalUserState"] == "PendingAcceptance" and row["inviteRedeemUrl"]
        [user] = linked_users(sim)[link_of(i)]
        assert user["externalUserState"] == "PendingAcceptance"


def test_the_invitation_redirects_to_the_target_clouds_my_apps(sim, tmp_path):
    sent = []
    c = client(sim)
    original = c.batch

    def spy(requests):
        sent.extend(r for r in requests if r.url == "/invitations")
        return original(requests)
    c.batch = spy
    plan = make_plan(sim, source_tenant([source_user(1)]))
    apply_plan(plan, c, cloud="gcch", plan_path=plan.save(tmp_path / "p.json"), options=sim_time())
    assert [urlparse(r.body["inviteRedirectUrl"]).hostname for r in sent] == ["myapps.microsoft.us"]


# --- 3. collisions read back ---------------------------------------------------------------------------

def test_an_invitation_that_returns_an_existing_user_is_an_adoption_for_review_not_a_link(sim, tmp_path):
    plan = make_plan(sim, source_tenant([source_user(1)]))
    # After planning, someone invites the same address by hand: the invitation will return that user.
    g = _admin(sim)
    existing = g.post("invitations", json={"invitedUserEmailAddress": "user00001@contoso.com",
                                           "inviteRedirectUrl": "https://myapps.microsoft.us"}).json()
    sim.tenant(FABRIKAM).users[existing["invitedUser"]["id"]]["createdDateTime"] = "2020-01-01T00:00:00Z"
    result = apply_plan(plan, client(sim), cloud="gcch", plan_path=plan.save(tmp_path / "p.json"), options=sim_time())
    [row] = result.frame.to_dict("records")
    assert row["state"] == "skipped" and row["result"] == "existing user: adoption for review"
    assert "--adopt" in row["action"]
    assert link_of(1) not in linked_users(sim)           # never linked silently


# --- 5. writes that fail after the user exists -----------------------------------------------------------

def test_a_refused_optional_attribute_leaves_the_created_user_linked(sim, tmp_path):
    from apply_helpers import parse_mapping
    # A value Graph refuses on the follow-up PATCH (userType must be Member or Guest); the planner passes it.
    mapping = parse_mapping('displayName = [displayName]\nonce userType = "External"\n')
    plan = make_plan(sim, source_tenant([source_user(1)]), mapping=mapping)
    assert plan.counts()["create"] == 1
    result = apply_plan(plan, client(sim), cloud="gcch", plan_path=plan.save(tmp_path / "p.json"), options=sim_time())
    [row] = result.frame.to_dict("records")
    assert row["state"] == "failed" and "userType" in str(row["message"])
    [user] = linked_users(sim)[link_of(1)]                # the link went first, in its own PATCH
    assert user["creationType"] == "Invitation"


def test_member_adds_wait_out_the_replication_lag_400(tmp_path):
    with Simulator(SimConfig(faults=FaultConfig(replication_lag_s=1.5))) as sim:
        tenant = sim.tenant(FABRIKAM)
        group = next(g for g in tenant.groups.values() if not g.get("mailEnabled"))["id"]
        plan = make_plan(sim, source_tenant([source_user(1)]), target_groups=(group,))
        result = apply_plan(plan, client(sim), cloud="gcch", plan_path=plan.save(tmp_path / "p.json"),
                            options=ApplyOptions(follow_up_delay=0.0, lag_tolerance=30))
        assert result.summary["states"] == {"done": 1}, result.frame.to_dict("records")
        [user] = linked_users(sim)[link_of(1)]
        assert user["id"] in tenant.groups[group]["members"]


def test_restore_with_a_proxy_conflict_fails_and_says_how_unless_the_admin_opts_in(sim, tmp_path):
    plan = make_plan(sim, source_tenant([source_user(1)]))
    apply_plan(plan, client(sim), cloud="gcch", plan_path=plan.save(tmp_path / "p.json"), options=sim_time())
    tenant = sim.tenant(FABRIKAM)
    [user] = linked_users(sim)[link_of(1)]
    assert _admin(sim).delete(f"users/{user['id']}").status_code == 204
    restore_plan = make_plan(sim, source_tenant([source_user(1)]))
    # After planning, a contact takes the deleted user's address.
    tenant.contacts["cccccccc-0000-4000-8000-000000000009"] = {
        "id": "cccccccc-0000-4000-8000-000000000009", "displayName": "Someone", "mail": "user00001@contoso.com",
        "proxyAddresses": ["SMTP:user00001@contoso.com"]}
    result = apply_plan(restore_plan, client(sim), cloud="gcch", plan_path=restore_plan.save(tmp_path / "r.json"),
                        options=sim_time())
    [row] = result.frame.to_dict("records")
    assert (row["kind"], row["state"]) == ("restore", "failed"), row
    assert "--auto-reconcile-proxy-conflict" in row["action"]
    result = apply_plan(restore_plan, client(sim), cloud="gcch", plan_path=tmp_path / "r.json",
                        options=sim_time(retry_failed=True, auto_reconcile_proxy_conflict=True))
    assert result.summary["states"] == {"done": 1}, result.frame.to_dict("records")
    assert linked_users(sim)[link_of(1)][0]["id"] == user["id"]


# --- 6. look-ups before a resend survive the advanced-query lag --------------------------------------------

def test_resume_after_an_unknown_create_finds_the_user_despite_the_advanced_query_lag(tmp_path):
    import sqlite3
    import time

    from apply_helpers import parse_mapping
    mapping = parse_mapping('displayName = [displayName]\nmailNickname = [mailNickname]\n'
                            'userPrincipalName = Join("@", [mailNickname], "fabrikamfederal.us")\n')
    with Simulator(SimConfig(faults=FaultConfig(index_lag_s=120))) as sim:
        plan = make_plan(sim, source_tenant([source_user(1)]), create_as="member", mapping=mapping)
        path = plan.save(tmp_path / "p.json")
        assert apply_plan(plan, client(sim), cloud="gcch", plan_path=path,
                          options=sim_time()).summary["states"] == {"done": 1}
        # As if the process had died after sending the create: outcome unknown.
        with sqlite3.connect(tmp_path / "p.json.journal.sqlite") as db:
            db.execute("UPDATE ops SET state='sent', step='main', target_id=NULL, attempts=1, sent_at=?",
                       (time.time(),))
        result = apply_plan(plan, client(sim), cloud="gcch", plan_path=path,
                            options=sim_time(resume=True, unknown_create_wait=0.2, max_requeues=3))
        assert result.summary["states"] == {"done": 1}, result.frame.to_dict("records")
        assert len(linked_users(sim)[link_of(1)]) == 1
