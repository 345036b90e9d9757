"""Planner invariants over generated tenants (hypothesis): determinism, convergence, no stray writes."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolkit.plan.planner import PlanOptions, plan_sync
from toolkit.plan.simulate import apply_plan_in_memory

from plan_helpers import SOURCE_TID, b2b, member, target_tenant, tenant

DEPARTMENTS = st.sampled_from(["Sales", "HR", "R&D", None, "Ünïcode Dept"])
TITLES = st.sampled_from(["Engineer", "Manager", None, "Lead"])


@st.composite
def tenant_pairs(draw):
    n = draw(st.integers(min_value=0, max_value=12))
    sources = []
    for i in range(n):
        sources.append(member(
            i, department=draw(DEPARTMENTS), jobTitle=draw(TITLES), accountEnabled=draw(st.booleans()),
            userType=draw(st.sampled_from(["Member", "Member", "Member", "Guest"])),
            mail=draw(st.sampled_from([f"user{i}@contoso.com", f"user{i}@contoso.com", None, "dup@contoso.com"]))))
    targets = []
    for i in range(n + 3):                       # a few targets whose source does not exist
        state = draw(st.sampled_from(["absent", "linked", "linked-drifted", "unlinked", "internal",
                                      "entra-synced", "pending-guest", "on-premises"]))
        if state == "absent":
            continue
        if state == "internal":
            targets.append({"id": f"int-{i}", "userPrincipalName": f"user{i}@fabrikam.com",
                            "mail": f"user{i}@contoso.com", "userType": "Member", "creationType": None,
                            "accountEnabled": True})
            continue
        extra = {}
        if state == "entra-synced":
            extra = {"userType": "Member", "externalUserState": "Accepted"}
        elif state == "pending-guest":
            extra = {"userType": "Guest", "externalUserState": "PendingAcceptance"}
        elif state == "on-premises":
            extra = {"onPremisesSyncEnabled": True, "department": draw(DEPARTMENTS)}
        if state == "linked-drifted":
            extra = {"department": draw(DEPARTMENTS), "displayName": "Stale name",
                     "accountEnabled": draw(st.booleans())}
        targets.append(b2b(i, link=state in ("linked", "linked-drifted", "on-premises"), **extra))
    on_deprovision = draw(st.sampled_from(["delete", "disable"]))
    # confirm_empty_scope: these invariants hold for an empty scope too (its refusal is tested in
    # test_security_inputs.py).
    return tenant(sources), target_tenant(targets), PlanOptions(on_deprovision=on_deprovision,
                                                                deletion_threshold=10_000, confirm_empty_scope=True,
                                                                adopt=draw(st.booleans()))


SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(tenant_pairs())
def test_same_inputs_give_byte_identical_plans(pair):
    src, tgt, options = pair
    assert plan_sync(src, tgt, options=options).dumps() == plan_sync(src, tgt, options=options).dumps()


@SETTINGS
@given(tenant_pairs())
def test_replanning_after_apply_leaves_no_work(pair):
    src, tgt, options = pair
    plan = plan_sync(src, tgt, options=options)
    after = apply_plan_in_memory(plan, tgt)
    again = plan_sync(src, after, options=options)
    assert again.actionable.empty, again.to_frame()[["kind", "sourceUpn", "targetUpn", "changes"]].to_string()
    # What could not be done before (conflicts) is still reported, never silently dropped.
    assert set(again.ops.loc[again.ops["kind"] == "conflict", "sourceId"]) == \
        set(plan.ops.loc[plan.ops["kind"] == "conflict", "sourceId"])


@SETTINGS
@given(tenant_pairs())
def test_only_linked_or_matched_target_users_are_written(pair):
    src, tgt, options = pair
    plan = plan_sync(src, tgt, options=options)
    writes = plan.ops[plan.ops["kind"].isin(["update", "disable", "delete"])]
    users = tgt.users.set_index("id")
    for row in writes.itertuples():
        link = (users.at[row.targetId, "onPremisesExtensionAttributes"] or {}).get("extensionAttribute15")
        ours = link == f"ccsync:{SOURCE_TID}:{row.sourceId}"
        assert ours or (options.adopt and row.matchedBy in ("mail", "upn")), row
        if row.kind == "delete":
            assert ours
        assert users.at[row.targetId, "creationType"] == "Invitation"     # never an internal user


@SETTINGS
@given(tenant_pairs())
def test_every_syncable_source_user_is_accounted_for_once(pair):
    src, tgt, options = pair
    plan = plan_sync(src, tgt, options=options)
    per_source = plan.ops[plan.ops["kind"] != "delete"].groupby("sourceId").size()
    assert (per_source <= 1).all()


@SETTINGS
@given(tenant_pairs())
def test_no_plan_deletes_or_disables_a_user_ccsync_did_not_create_or_explicitly_adopt(pair):
    src, tgt, options = pair
    plan = plan_sync(src, tgt, options=options)
    users = tgt.users.set_index("id")
    adopted = set(plan.ops.loc[plan.ops["matchedBy"].isin(["mail", "upn"]), "targetId"])
    assert not adopted or options.adopt
    for row in plan.ops[plan.ops["kind"].isin(["delete", "disable"])].itertuples():
        link = (users.at[row.targetId, "onPremisesExtensionAttributes"] or {}).get("extensionAttribute15")
        assert link == f"ccsync:{SOURCE_TID}:{row.sourceId}" or row.targetId in adopted, row
        # Entra's own users and on-premises-mastered users are never written.
        assert not (str(users.at[row.targetId, "externalUserState"]) == "Accepted" and row.targetId in adopted)
    for row in plan.ops[plan.ops["kind"].isin(["update", "disable"])].itertuples():
        assert str(users.at[row.targetId, "onPremisesSyncEnabled"]) != "True", row
