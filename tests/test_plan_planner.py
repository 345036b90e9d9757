"""What the planner decides for each user, as an admin reviewing a plan would see it."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from toolkit.errors import CloudError, InputError
from toolkit.plan.planfile import SyncPlan, load_plan
from toolkit.plan.planner import PlanOptions, plan_sync
from toolkit.plan.rules import default_mapping, parse_mapping, parse_scope
from toolkit.plan.simulate import apply_plan_in_memory

from plan_helpers import SOURCE_TID, b2b, member, target_tenant, tenant


def ops_by_upn(plan):
    return {row.sourceUpn: row for row in plan.ops.itertuples()}


def changes_of(plan, op_id):
    ch = plan.changes[plan.changes["opId"] == op_id]
    return dict(zip(ch["attribute"], zip(ch["oldValue"], ch["newValue"])))


def test_new_member_is_created_with_mapped_values_and_durable_link():
    plan = plan_sync(tenant([member(1)]), target_tenant([]))
    op = ops_by_upn(plan)["user1@contoso.com"]
    assert op.kind == "create"
    values = changes_of(plan, op.opId)
    assert values["displayName"] == (None, "User 1")
    assert values["userType"] == (None, "Member")
    assert values["onPremisesExtensionAttributes.extensionAttribute15"] == (None, f"ccsync:{SOURCE_TID}:src-0001")


def test_changed_attribute_becomes_update_old_to_new_only_for_changed_values():
    plan = plan_sync(tenant([member(1, department="Finance")]), target_tenant([b2b(1)]))
    op = ops_by_upn(plan)["user1@contoso.com"]
    assert (op.kind, op.matchedBy) == ("update", "link")
    assert changes_of(plan, op.opId) == {"department": ("Sales", "Finance")}


def test_in_sync_user_produces_no_operation():
    assert plan_sync(tenant([member(1)]), target_tenant([b2b(1)])).counts()["total"] == 0


def test_null_source_value_does_not_clear_target():
    plan = plan_sync(tenant([member(1, jobTitle=None)]), target_tenant([b2b(1)]))
    assert plan.counts()["total"] == 0


def test_disabled_source_user_disables_target_user():
    plan = plan_sync(tenant([member(1, accountEnabled=False)]), target_tenant([b2b(1)]))
    op = ops_by_upn(plan)["user1@contoso.com"]
    assert op.kind == "disable"
    assert changes_of(plan, op.opId)["accountEnabled"] == ("true", "false")


def test_disabled_source_user_without_target_is_not_created():
    assert plan_sync(tenant([member(1, accountEnabled=False)]), target_tenant([])).counts()["total"] == 0


def test_deleted_source_user_is_soft_deleted_by_default_and_disabled_on_request():
    # An empty source against linked target users needs the explicit confirmation (issue 15).
    plan = plan_sync(tenant([]), target_tenant([b2b(7)]), options=PlanOptions(confirm_empty_scope=True))
    (op,) = plan.ops.itertuples()
    assert op.kind == "delete" and "no longer exists" in op.reason and op.targetId == "tgt-0007"
    plan = plan_sync(tenant([]), target_tenant([b2b(7)]), options=PlanOptions(on_deprovision="disable",
                                                                              confirm_empty_scope=True))
    assert plan.ops["kind"].tolist() == ["disable"]


def test_target_users_not_created_by_ccsync_are_never_deprovisioned():
    unrelated = b2b(8, link=False, mail="someone@else.com",
                    userPrincipalName="someone_else.com#EXT#@fabrikam.onmicrosoft.com")
    assert plan_sync(tenant([]), target_tenant([unrelated])).counts()["total"] == 0


def test_out_of_scope_user_is_deprovisioned_and_reason_says_so():
    src = tenant([member(1, department="HR"), member(2)])
    scope = parse_scope('filter Sales\n    department EQUALS "Sales"\n')
    plan = plan_sync(src, target_tenant([b2b(1), b2b(2)]), scope=scope)
    (op,) = plan.ops.itertuples()
    assert op.kind == "delete" and op.targetId == "tgt-0001" and "out of scope" in op.reason


def test_group_scope_uses_direct_members_only():
    src = tenant([member(1), member(2)], groups=[("g1", "CCS-Sync-Scope", "src-0001")])
    plan = plan_sync(src, target_tenant([]), scope=parse_scope("group CCS-Sync-Scope\n"))
    assert plan.ops["sourceUpn"].tolist() == ["user1@contoso.com"]


def test_unknown_scoping_group_is_a_clear_error():
    with pytest.raises(InputError, match="Nope"):
        plan_sync(tenant([member(1)]), target_tenant([]), scope=parse_scope("group Nope\n"))


def test_guests_of_the_source_are_never_synced():
    guest = member(3, userType="Guest", creationType="Invitation")
    assert plan_sync(tenant([guest]), target_tenant([])).counts()["total"] == 0


def test_existing_b2b_user_is_adopted_by_mail_and_gets_the_link():
    plan = plan_sync(tenant([member(1)]), target_tenant([b2b(1, link=False)]), options=PlanOptions(adopt=True))
    op = ops_by_upn(plan)["user1@contoso.com"]
    assert (op.kind, op.matchedBy) == ("update", "mail")
    assert "onPremisesExtensionAttributes.extensionAttribute15" in changes_of(plan, op.opId)


def test_match_by_upn_of_external_user_when_mail_differs():
    tgt = b2b(1, link=False, mail="old.address@contoso.com")
    op = ops_by_upn(plan_sync(tenant([member(1)]), target_tenant([tgt]),
                              options=PlanOptions(adopt=True)))["user1@contoso.com"]
    assert op.matchedBy == "upn"


def test_internal_target_user_is_a_conflict_never_a_takeover():
    internal = {"id": "int-1", "userPrincipalName": "user1@fabrikam.com", "mail": "user1@contoso.com",
                "userType": "Member", "creationType": None, "accountEnabled": True}
    op = ops_by_upn(plan_sync(tenant([member(1)]), target_tenant([internal])))["user1@contoso.com"]
    assert op.kind == "conflict" and "internal user" in op.reason


def test_ambiguous_match_is_a_conflict():
    two = [b2b(1, link=False, id="a", userPrincipalName="x#EXT#@f.onmicrosoft.com"),
           b2b(1, link=False, id="b", userPrincipalName="y#EXT#@f.onmicrosoft.com")]
    op = ops_by_upn(plan_sync(tenant([member(1)]), target_tenant(two)))["user1@contoso.com"]
    assert op.kind == "conflict" and "several target users" in op.reason


def test_two_sources_with_one_mail_are_conflicts():
    src = tenant([member(1, mail="shared@contoso.com"), member(2, mail="shared@contoso.com")])
    plan = plan_sync(src, target_tenant([]))
    assert set(plan.ops["kind"]) == {"conflict"} and len(plan.ops) == 2
    assert all("shares its mail" in r for r in plan.ops["reason"])


def test_values_over_graph_limits_are_conflicts_naming_the_attribute():
    op = ops_by_upn(plan_sync(tenant([member(1, department="D" * 65)]), target_tenant([])))["user1@contoso.com"]
    assert op.kind == "conflict" and "department is 65 characters, Graph allows 64" in op.reason


def test_member_mode_refuses_upn_on_unverified_target_domain():
    mapping = parse_mapping('userPrincipalName = Replace([userPrincipalName], "@contoso.com", , , '
                            '"@unverified.example", , )\nmailNickname = [mailNickname]\n'
                            'displayName = [displayName]\n')
    src = tenant([member(1, mailNickname="user1")])
    op = ops_by_upn(plan_sync(src, target_tenant([]), mapping=mapping,
                              options=PlanOptions(create_as="member")))["user1@contoso.com"]
    assert op.kind == "conflict" and "not verified" in op.reason


def test_deletion_threshold_holds_deletes_and_disables_until_allowed():
    targets = [b2b(i) for i in range(5)]
    plan = plan_sync(tenant([]), target_tenant(targets), options=PlanOptions(deletion_threshold=3))
    assert plan.counts()["held"] == 5 and plan.actionable.empty
    plan = plan_sync(tenant([]), target_tenant(targets),
                     options=PlanOptions(deletion_threshold=3, allow_deletes=2))
    assert plan.counts()["held"] == 0 and len(plan.actionable) == 5


def test_cross_cloud_refuses_manager_mapping_with_reason():
    mapping = parse_mapping("displayName = [displayName]\nmanager = [displayName]\n", "m.map")
    with pytest.raises(InputError, match="manager attribute across clouds") as info:
        plan_sync(tenant([member(1)]), target_tenant([], cloud="gcch"), mapping=mapping)
    assert "m.map" in str(info.value) and "row 2" in str(info.value)


def test_cross_cloud_blocks_users_without_licence():
    eligibility = pd.DataFrame({"userId": ["src-0001", "src-0002"], "eligible": [True, False],
                                "status": ["eligible", "missing_governance"],
                                "reason": ["ok", "User 2 has no Entra ID Governance licence."]})
    src = tenant([member(1), member(2)])
    plan = plan_sync(src, target_tenant([], cloud="gcch"), eligibility=eligibility)
    ops = ops_by_upn(plan)
    assert ops["user1@contoso.com"].kind == "create"
    assert ops["user2@contoso.com"].kind == "blocked"
    assert "missing_governance" in ops["user2@contoso.com"].reason


def test_unsupported_cloud_pair_is_refused_listing_supported_ones():
    with pytest.raises(CloudError, match="From china you can sync to"):
        plan_sync(tenant([member(1)], cloud="china"), target_tenant([], cloud="gcch"))


def test_same_tenant_and_stale_target_are_refused():
    with pytest.raises(InputError, match="same tenant"):
        plan_sync(tenant([member(1)]), tenant([]))
    with pytest.raises(InputError, match="older than the source"):
        plan_sync(tenant([member(1)]), target_tenant([], exported_at="2026-11-01T00:00:00Z"))


def test_mapping_reading_unknown_source_attribute_is_refused():
    mapping = parse_mapping("displayName = [nickname]\n", "m.map")
    with pytest.raises(InputError, match="nickname"):
        plan_sync(tenant([member(1)]), target_tenant([]), mapping=mapping)


def test_plan_file_roundtrip_is_byte_identical_and_tamper_evident(tmp_path):
    plan = plan_sync(tenant([member(1), member(2, department="HR")]), target_tenant([b2b(2)]))
    path = plan.save(tmp_path / "plan.json")
    again = plan_sync(tenant([member(1), member(2, department="HR")]), target_tenant([b2b(2)]))
    assert path.read_text(encoding="utf-8") == again.dumps(sign=True)       # save signs with this user's key
    loaded = load_plan(path)
    assert loaded.dumps() == plan.dumps()
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["source"]["tenantId"] == SOURCE_TID and document["counts"]["create"] == 1
    document["operations"][0]["changes"][0]["new"] = "Evil"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(InputError, match="integrity"):
        load_plan(path)


def test_after_apply_in_memory_replanning_finds_nothing():
    src = tenant([member(1), member(2, department="HR"), member(3, accountEnabled=False)])
    tgt = target_tenant([b2b(2), b2b(3), b2b(9)])
    plan = plan_sync(src, tgt)
    assert plan.counts()["total"] > 0
    after = apply_plan_in_memory(plan, tgt)
    assert plan_sync(src, after).counts()["total"] == 0


def test_plan_frame_lists_changes_as_old_to_new():
    plan = plan_sync(tenant([member(1, department="Finance")]), target_tenant([b2b(1)]))
    assert plan.to_frame().loc[0, "changes"] == "department: Sales -> Finance"


def test_created_users_get_requested_target_licences_and_groups():
    mapping = parse_mapping(default_mapping().text + "\nusageLocation = [usageLocation]\n")
    src = tenant([member(1, usageLocation="US")])
    plan = plan_sync(src, target_tenant([]), mapping=mapping,
                     options=PlanOptions(target_licenses=("sku-1",), target_groups=("grp-1",)))
    op = ops_by_upn(plan)["user1@contoso.com"]
    values = changes_of(plan, op.opId)
    assert values["@assignLicense"] == (None, "sku-1") and values["@addToGroup"] == (None, "grp-1")
    assert plan_sync(src, apply_plan_in_memory(plan, target_tenant([])), mapping=mapping).counts()["total"] == 0


def test_plan_workbook_has_a_sheet_per_operation_and_old_to_new_changes(tmp_path):
    import openpyxl

    from toolkit.report import write_plan_workbook

    src = tenant([member(1), member(2, department="Finance"), member(3, mail="dup@contoso.com"),
                  member(4, mail="dup@contoso.com")])
    plan = plan_sync(src, target_tenant([b2b(2), b2b(9)]))
    path = write_plan_workbook(tmp_path / "plan.xlsx", plan, plan_file="plan.json")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[:7] == ["Summary", "Create", "Update", "Disable", "Delete", "Conflicts", "Blocked"]
    changes = wb["Attribute changes"]
    rows = [[c.value for c in r] for r in changes.iter_rows(min_row=2)]
    assert ["update", "user2@contoso.com", "user2_contoso.com#EXT#@fabrikam.onmicrosoft.com", "department",
            "Sales", "Finance"] in [r[:6] for r in rows]
    assert wb["Summary"]._charts, "the summary has a chart of operations by kind"
    assert wb["Conflicts"].max_row == 3 and wb["Delete"].max_row == 2


def test_invitation_colliding_with_an_internal_users_proxy_address_is_a_conflict():
    internal = {"id": "int-9", "userPrincipalName": "jordan@fabrikam.com", "mail": "jordan@fabrikam.com",
                "userType": "Member", "creationType": None, "accountEnabled": True,
                "proxyAddresses": ["SMTP:jordan@fabrikam.com", "smtp:user1@contoso.com"]}
    op = ops_by_upn(plan_sync(tenant([member(1)]), target_tenant([internal])))["user1@contoso.com"]
    assert op.kind == "conflict" and "InvitationCreationFailureAmbiguousUser" in op.reason


def test_snapshot_of_the_wrong_tenant_is_refused_when_the_admin_names_the_tenants():
    src, tgt = tenant([member(1)]), target_tenant([])
    assert plan_sync(src, tgt, expect_source="contoso.com", expect_target=tgt.tenant_id).counts()["create"] == 1
    with pytest.raises(InputError, match="not fabrikam.com"):
        plan_sync(src, tgt, expect_source="fabrikam.com")


def test_source_mail_on_an_unverified_source_domain_is_a_conflict():
    src = tenant([member(1, mail="user1@contoso.net"), member(2)])     # contoso.net is not verified
    ops = ops_by_upn(plan_sync(src, target_tenant([])))
    assert ops["user1@contoso.com"].kind == "conflict" and "not on a domain verified" in ops["user1@contoso.com"].reason
    assert ops["user2@contoso.com"].kind == "create"
