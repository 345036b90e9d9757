"""The direct engine's planning rules held to real Entra: adoption is opt-in, Entra-synced and on-premises
users are never written, the invited address is the one checked, licences need a usage location."""

from __future__ import annotations

import pytest

from toolkit.errors import InputError
from toolkit.frames import TenantData
from toolkit.plan.planner import PlanOptions, plan_sync
from toolkit.plan.rules import parse_mapping
from toolkit.plan.simulate import apply_plan_in_memory

from plan_helpers import b2b, member, target_tenant, tenant


def only(plan):
    (op,) = plan.ops.itertuples()
    return op


def test_a_mail_match_without_adopt_is_a_conflict_that_says_who_created_the_user():
    guest = b2b(1, link=False, userType="Guest", externalUserState="PendingAcceptance",
                createdDateTime="2021-03-04T05:06:07Z")
    op = only(plan_sync(tenant([member(1)]), target_tenant([guest])))
    assert op.kind == "conflict"
    assert "would adopt" in op.reason and "--adopt" in op.reason
    assert "invited on 2021-03-04" in op.reason


def test_with_adopt_the_same_match_is_an_update_that_writes_the_link():
    guest = b2b(1, link=False, userType="Guest", externalUserState="PendingAcceptance")
    op = only(plan_sync(tenant([member(1)]), target_tenant([guest]), options=PlanOptions(adopt=True)))
    assert (op.kind, op.matchedBy) == ("update", "mail")


def test_a_user_of_entras_own_sync_is_never_adopted_even_with_adopt():
    # Entra's sync creates pre-redeemed external members linked by alternativeSecurityIds.
    synced = b2b(1, link=False, userType="Member", externalUserState="Accepted")
    op = only(plan_sync(tenant([member(1)]), target_tenant([synced]), options=PlanOptions(adopt=True)))
    assert op.kind == "conflict" and "Entra's own cross-tenant sync" in op.reason


def test_alternative_security_ids_in_the_input_mark_an_entra_synced_user():
    synced = b2b(1, link=False, userType="Guest", externalUserState="PendingAcceptance")
    tgt = target_tenant([synced])
    users = tgt.users.copy()
    users["alternativeSecurityIds"] = [[{"type": 5, "key": "AAAA"}]]
    tgt = TenantData(**{**tgt.__dict__, "users": users})
    op = only(plan_sync(tenant([member(1)]), tgt, options=PlanOptions(adopt=True)))
    assert op.kind == "conflict" and "alternativeSecurityIds" in op.reason


def test_an_on_premises_mastered_target_user_is_never_patched():
    linked = b2b(1, department="Old", onPremisesSyncEnabled=True)
    op = only(plan_sync(tenant([member(1)]), target_tenant([linked])))
    assert op.kind == "conflict" and "on-premises" in op.reason


def test_an_on_premises_mastered_target_user_is_not_disabled_on_deprovision():
    linked = b2b(1, onPremisesSyncEnabled=True)
    op = only(plan_sync(tenant([]), target_tenant([linked]), options=PlanOptions(on_deprovision="disable")))
    assert op.kind == "conflict" and "on-premises" in op.reason


def test_collision_check_uses_the_invited_address_not_the_source_mail():
    # Invited by UPN; its mail is unused in the target, but the UPN is a proxy address of a guest there.
    source = member(1, userPrincipalName="j.doe@contoso.com", mail="jane.doe@contoso.com")
    other = b2b(9, link=False, userPrincipalName="x_partner.example#EXT#@fabrikam.onmicrosoft.com",
                mail="x@partner.example", proxyAddresses=["SMTP:x@partner.example", "smtp:j.doe@contoso.com"])
    op = only(plan_sync(tenant([source]), target_tenant([other])))
    assert op.kind == "conflict" and "invited address" in op.reason


def test_target_contacts_and_mail_enabled_groups_hold_addresses_too():
    tgt = target_tenant([])
    tgt.directory_objects = [{"id": "c-1", "kind": "contact", "displayName": "Jane (contact)",
                         "mail": "user1@contoso.com", "proxyAddresses": []},
                        {"id": "g-1", "kind": "group", "displayName": "Sales DL", "mail": "sales@fabrikam.com",
                         "proxyAddresses": ["smtp:user2@contoso.com"]}]
    plan = plan_sync(tenant([member(1), member(2)]), tgt)
    reasons = dict(zip(plan.ops["sourceUpn"], plan.ops["reason"]))
    assert set(plan.ops["kind"]) == {"conflict"}
    assert "contact Jane (contact)" in reasons["user1@contoso.com"]
    assert "group Sales DL" in reasons["user2@contoso.com"]


def test_target_license_needs_a_usage_location_mapping():
    with pytest.raises(InputError, match="usageLocation"):
        plan_sync(tenant([member(1)]), target_tenant([]), options=PlanOptions(target_licenses=("sku-1",)))


def test_target_license_user_without_usage_location_is_a_conflict():
    mapping = parse_mapping("displayName = [displayName]\nusageLocation = [usageLocation]\n")
    src = tenant([member(1, usageLocation="US"), member(2)])
    plan = plan_sync(src, target_tenant([]), mapping=mapping, options=PlanOptions(target_licenses=("sku-1",)))
    kinds = dict(zip(plan.ops["sourceUpn"], plan.ops["kind"]))
    assert kinds == {"user1@contoso.com": "create", "user2@contoso.com": "conflict"}


def test_in_memory_apply_leaves_invited_users_pending_acceptance():
    plan = plan_sync(tenant([member(1)]), target_tenant([]))
    after = apply_plan_in_memory(plan, target_tenant([]))
    row = after.users.iloc[0]
    assert row["externalUserState"] == "PendingAcceptance" and row["creationType"] == "Invitation"
    assert row["mail"] == "user1@contoso.com"


def test_target_groups_graph_will_not_add_members_to_are_refused_at_plan_time():
    tgt = target_tenant([])
    tgt.directory_objects = [{"id": "g-dl", "kind": "group", "displayName": "Sales DL", "mailEnabled": True,
                              "securityEnabled": False, "groupTypes": []},
                             {"id": "g-dyn", "kind": "group", "displayName": "All staff", "mailEnabled": False,
                              "securityEnabled": True, "groupTypes": ["DynamicMembership"]},
                             {"id": "g-role", "kind": "group", "displayName": "Admins", "mailEnabled": False,
                              "securityEnabled": True, "groupTypes": [], "isAssignableToRole": True}]
    for gid, words in (("g-dl", "distribution group"), ("g-dyn", "dynamic group"), ("g-role", "role-assignable")):
        with pytest.raises(InputError, match=words):
            plan_sync(tenant([member(1)]), tgt, options=PlanOptions(target_groups=(gid,)))
    assert plan_sync(tenant([member(1)]), tgt, options=PlanOptions(target_groups=("g-plain",))).counts()["create"] == 1


def test_users_the_simulated_entra_sync_created_are_never_adopted_or_deprovisioned():
    """Entra's own sync engine (in the simulator) provisions the scope group; a ccsync plan over the same users,
    even with --adopt, neither takes them over nor plans anything destructive for them."""
    from toolkit.export import export_tenant
    from toolkit.graph import GraphClient

    from conftest import SEED_APP
    from xts_sim import SOURCE, TARGET, callers, pair_sim, ready_cross_cloud_pair

    sim = pair_sim()
    try:
        _, src, tgt, _ = (sim, *callers(sim))
        ready_cross_cloud_pair(sim, src, tgt)
        sim.run_sync_cycle(SOURCE)

        def export(tid, cloud):
            profile = next(p for p in sim.profiles() if p.tenant == tid and p.client_id == SEED_APP)
            return export_tenant(GraphClient.from_profile(profile, secret=sim.secret_for(tid)), cloud=cloud)
        source, target = export(SOURCE, "commercial"), export(TARGET, "gcch")
        synced = set(target.users.loc[target.users["creationType"] == "Invitation", "id"])
        assert synced                                      # the engine did provision users
        target.exported_at = source.exported_at
        plan = plan_sync(source, target, options=PlanOptions(adopt=True, check_licences=False))
        assert not plan.ops["targetId"].isin(synced).any()        # nothing written to them
        mails = set(target.users.loc[target.users["id"].isin(synced), "mail"].str.lower())
        ops = plan.ops[plan.ops["sourceMail"].str.lower().isin(mails)]
        assert len(ops) == len(synced), plan.ops[["kind", "sourceUpn", "reason"]].to_string()
        assert set(ops["kind"]) == {"conflict"} and ops["reason"].str.contains("Entra's own cross-tenant sync").all()
    finally:
        sim.stop()
