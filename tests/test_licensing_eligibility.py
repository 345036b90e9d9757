"""Eligibility decisions for hand-built tenants: one test per status and per licensing shape."""

from __future__ import annotations

import pandas as pd
import pytest

from toolkit.clouds import get_cloud
from toolkit.errors import CloudError
from toolkit.frames import ELIGIBILITY, LICENSE_ASSIGNMENTS, SEATS, SKU_SERVICE_PLANS, SKUS, USERS, TenantData, conform
from toolkit.licensing import STATUSES, STATUS_ORDER, Catalog, evaluate_eligibility

P1 = "41781fb2-bc02-4b7c-bd55-b576c07bb09d"
P2 = "eec0eb4f-6444-4f95-aba0-50c24d67f998"
GOV = "e866a266-3cff-43a3-acca-0c90a7e00c8b"
AAD_SMB = "de377cbc-0019-4ec2-b77c-3f223947e102"
AAD_BASIC = "c4da7f8a-5ee2-4c99-a7e1-87d2df57f6fe"
AGENT_GOV = "a9e85e05-1687-4958-8a4c-bdacda2943db"
INFO_GOV = "e26c2fcc-ab91-4a61-b35c-03cdc8dddf66"
EXO = "9aaf7827-d63c-4b61-89c3-182f06f82e5c"

# Real SKU ids (licensing-facts sections 4 and 5) with the plans that matter here.
SKU = {
    "AAD_PREMIUM": ("078d2b04-f1bd-4111-bbd4-b4b1b354cef4", [("AAD_PREMIUM", P1)]),
    "SPE_E5": ("06ebc4ee-1bb5-47dd-8120-11324bc54e06", [("AAD_PREMIUM", P1), ("AAD_PREMIUM_P2", P2),
                                                          ("INFO_GOVERNANCE", INFO_GOV)]),
    "IDENTITY_THREAT_PROTECTION": ("26124093-3d78-432b-b5dc-48bf992543d5", [("AAD_PREMIUM_P2", P2)]),
    "Microsoft_Entra_ID_Governance": ("cf6b0d46-4093-4546-a0ab-0b1546dcc10e",
                                      [("Entra_Identity_Governance", GOV)]),
    "Microsoft_Entra_Suite": ("f9602137-2203-447b-9fff-41b36e08ce5d", [("AAD_PREMIUM_P2", P2),
                                                                      ("Entra_Identity_Governance", GOV)]),
    "SPB": ("cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46", [("AAD_SMB", AAD_SMB), ("AAD_PREMIUM", P1)]),
    "AAD_BASIC": ("2b9c8e7c-319c-43a2-a2a0-48c5c6161de7", [("AAD_BASIC", AAD_BASIC)]),
    "AGENT_365": ("796a6fb4-740b-4d36-bf56-9c12ca7fa069", [("ENTRA_ID_GOV_FOR_ASSISTIVE_AGENTS", AGENT_GOV)]),
    "ENTERPRISEPREMIUM": ("c7df2760-2c81-4ef7-b578-5b5392b571df", [("EXCHANGE_S_ENTERPRISE", EXO),
                                                                  ("INFO_GOVERNANCE", INFO_GOV)]),
    "O365_ONLY_SMB": ("3b555118-da6a-4418-894f-7df1e2096870", [("AAD_SMB", AAD_SMB)]),
}
EMS_E3 = "efccb6f7-5641-4e0e-bd10-b4976e1bf68e"          # in the catalog (carries AAD_PREMIUM)
UNKNOWN_SKU = "0badc0de-0000-4000-8000-000000000001"     # in no catalog


class Tenant:
    """Builds a TenantData by hand: SKUs, users and their assignments."""

    def __init__(self) -> None:
        self.skus: list[dict] = []
        self.plans: list[dict] = []
        self.users: list[dict] = []
        self.assignments: list[dict] = []

    def sku(self, name: str, *, enabled: int = 10, consumed: int = 0, status: str = "Enabled",
            disabled_plans: tuple[str, ...] = ()) -> "Tenant":
        sku_id, plans = SKU[name]
        self.skus.append({"skuId": sku_id, "skuPartNumber": name, "appliesTo": "User", "capabilityStatus": status,
                          "enabled": enabled, "consumedUnits": consumed, "available": enabled - consumed})
        for pname, pid in plans:
            self.plans.append({"skuId": sku_id, "skuPartNumber": name, "servicePlanId": pid,
                               "servicePlanName": pname, "appliesTo": "User",
                               "provisioningStatus": "Disabled" if pname in disabled_plans else "Success"})
        return self

    def user(self, uid: str, *licences: dict, user_type: str = "Member", creation: str | None = None,
             enabled: bool = True) -> "Tenant":
        upn = f"{uid}@contoso.com"
        self.users.append({"id": uid, "userPrincipalName": upn, "displayName": uid.title(),
                           "accountEnabled": enabled, "userType": user_type, "creationType": creation})
        for lic in licences:
            sku_id = SKU[lic["sku"]][0] if lic["sku"] in SKU else lic["sku"]
            group = lic.get("group")
            self.assignments.append({
                "userId": uid, "userPrincipalName": upn, "skuId": sku_id,
                "skuPartNumber": lic["sku"] if lic["sku"] in SKU else None,
                "source": "group" if group else "direct", "assignedByGroup": f"gid-{group}" if group else None,
                "assignedByGroupName": group, "state": lic.get("state", "Active"), "error": lic.get("error"),
                "disabledPlans": list(lic.get("disabled", []))})
        return self

    def data(self) -> TenantData:
        return TenantData(tenant_id="11111111-1111-1111-1111-111111111111", cloud="commercial",
                          users=conform(self.users, USERS), license_assignments=conform(self.assignments,
                                                                                          LICENSE_ASSIGNMENTS),
                          skus=conform(self.skus, SKUS), sku_service_plans=conform(self.plans, SKU_SERVICE_PLANS))


def lic(sku: str, **kw) -> dict:
    return {"sku": sku, **kw}


def row(result, uid: str) -> pd.Series:
    users = result.users.set_index("userId")
    return users.loc[uid]


def cross(t: Tenant, **kw):
    return evaluate_eligibility(t.data(), "commercial", "gcch", **kw)


def same(t: Tenant, **kw):
    return evaluate_eligibility(t.data(), "commercial", "commercial", **kw)


def full_tenant() -> Tenant:
    return (Tenant().sku("AAD_PREMIUM", enabled=20, consumed=5).sku("SPE_E5", enabled=10, consumed=10)
            .sku("Microsoft_Entra_ID_Governance", enabled=4, consumed=1).sku("Microsoft_Entra_Suite", enabled=2)
            .sku("IDENTITY_THREAT_PROTECTION").sku("SPB").sku("AAD_BASIC").sku("AGENT_365")
            .sku("ENTERPRISEPREMIUM").sku("O365_ONLY_SMB"))


def test_direct_p1_and_governance_is_eligible_with_sources():
    t = full_tenant().user("alice", lic("AAD_PREMIUM"), lic("Microsoft_Entra_ID_Governance"))
    r = row(cross(t), "alice")
    assert r["eligible"] and r["status"] == "eligible"
    assert (r["p1Plan"], r["p1SkuPartNumber"], r["p1Source"]) == ("AAD_PREMIUM", "AAD_PREMIUM", "direct")
    assert (r["governancePlan"], r["governanceSkuPartNumber"], r["governanceSource"]) == (
        "Entra_Identity_Governance", "Microsoft_Entra_ID_Governance", "direct")
    assert "alice@contoso.com" in r["reason"] and "Microsoft_Entra_ID_Governance" in r["reason"]
    assert r["fix"] == ""
    assert r["portalUrl"] == get_cloud("commercial").user_portal_url("alice")


def test_group_based_licence_names_the_group():
    t = full_tenant().user("bob", lic("SPE_E5", group="Sales"), lic("Microsoft_Entra_ID_Governance", group="Gov"))
    r = row(cross(t), "bob")
    assert r["eligible"]
    assert r["p1Source"] == "group:Sales" and r["governanceSource"] == "group:Gov"


def test_direct_assignment_is_preferred_over_group_for_the_same_entitlement():
    t = full_tenant().user("bea", lic("SPE_E5", group="Sales"), lic("AAD_PREMIUM"))
    r = row(same(t), "bea")
    assert r["p1Source"] == "direct" and r["p1SkuPartNumber"] == "AAD_PREMIUM"


def test_plan_disabled_in_the_only_assignment():
    t = full_tenant().user("carol", lic("AAD_PREMIUM", disabled=[P1]), lic("Microsoft_Entra_ID_Governance"))
    res = cross(t)
    r = row(res, "carol")
    assert not r["eligible"] and r["status"] == "plan_disabled"
    assert "AAD_PREMIUM" in r["reason"] and "carol@contoso.com" in r["reason"]
    assert "Enable the AAD_PREMIUM service plan" in r["fix"]
    # Enabling a plan costs no seat.
    assert res.summary["entitlements"]["P1"]["needed"] == 0


def test_plan_disabled_through_group_says_where_to_enable_it():
    t = full_tenant().user("cid", lic("Microsoft_Entra_ID_Governance", group="GovGroup", disabled=[GOV]),
                           lic("AAD_PREMIUM"))
    r = row(cross(t), "cid")
    assert r["status"] == "plan_disabled"
    assert "group GovGroup" in r["fix"] and "Entra_Identity_Governance" in r["fix"]


def test_disabled_in_one_assignment_but_enabled_in_another_is_merged():
    t = full_tenant().user("dave", lic("SPE_E5", group="A", disabled=[P1, P2]), lic("SPE_E5", group="B"))
    r = row(same(t), "dave")
    assert r["eligible"] and r["p1Source"] == "group:B"


def test_e5_with_p1_plan_disabled_still_has_p2():
    t = full_tenant().user("dora", lic("SPE_E5", disabled=[P1]))
    r = row(same(t), "dora")
    assert r["eligible"] and r["p1Plan"] == "AAD_PREMIUM_P2"


def test_plan_disabled_in_the_subscription():
    t = Tenant().sku("AAD_PREMIUM", disabled_plans=("AAD_PREMIUM",)).user("sub", lic("AAD_PREMIUM"))
    assert row(same(t), "sub")["status"] == "plan_disabled"


def test_assignment_error_names_the_error_and_free_seats():
    t = full_tenant().user("erin", lic("SPE_E5", state="Error", error="CountViolation"))
    r = row(same(t), "erin")
    assert r["status"] == "assignment_error" and not r["eligible"]
    assert "CountViolation" in r["reason"] and "SPE_E5" in r["reason"]
    assert "no free seats" in r["fix"]
    assert "AAD_PREMIUM (15 of 20 seats free)" in r["fix"]   # the tenant SKU with most free seats


def test_active_with_error_still_counts():
    t = full_tenant().user("eve", lic("AAD_PREMIUM", state="ActiveWithError", error="Other"))
    assert row(same(t), "eve")["eligible"]


def test_disabled_assignment_state_does_not_count():
    t = full_tenant().user("ed", lic("AAD_PREMIUM", state="Disabled"))
    assert row(same(t), "ed")["status"] == "assignment_error"


def test_suspended_sku_does_not_count():
    t = Tenant().sku("AAD_PREMIUM", status="Suspended").user("frank", lic("AAD_PREMIUM"))
    res = same(t)
    r = row(res, "frank")
    assert r["status"] == "sku_suspended" and "Suspended" in r["reason"]
    assert "Reactivate the AAD_PREMIUM subscription" in r["fix"]
    # No usable P1 SKU in the tenant: the seats frame proposes buying one.
    buy = res.seats[(res.seats["entitlement"] == "P1") & (res.seats["capabilityStatus"] == "NotSubscribed")]
    assert list(buy["needed"]) == [1] and list(buy["shortfall"]) == [1]


@pytest.mark.parametrize("status", ["Warning"])
def test_warning_sku_still_counts(status):
    t = Tenant().sku("AAD_PREMIUM", status=status).user("gil", lic("AAD_PREMIUM"))
    assert row(same(t), "gil")["eligible"]


def test_p2_without_p1_satisfies_the_p1_check():
    t = full_tenant().user("gina", lic("IDENTITY_THREAT_PROTECTION"))
    r = row(same(t), "gina")
    assert r["eligible"] and r["p1Plan"] == "AAD_PREMIUM_P2"
    assert r["p1SkuPartNumber"] == "IDENTITY_THREAT_PROTECTION"


def test_suite_alone_is_enough_cross_cloud():
    t = full_tenant().user("hank", lic("Microsoft_Entra_Suite"))
    r = row(cross(t), "hank")
    assert r["eligible"]
    assert r["p1Plan"] == "AAD_PREMIUM_P2" and r["governanceSkuPartNumber"] == "Microsoft_Entra_Suite"


def test_governance_alone_misses_p1_cross_cloud():
    t = full_tenant().user("ian", lic("Microsoft_Entra_ID_Governance"))
    r = row(cross(t), "ian")
    assert r["status"] == "missing_p1" and "AAD_PREMIUM" in r["fix"]


@pytest.mark.parametrize("sku", ["AAD_BASIC", "AGENT_365", "ENTERPRISEPREMIUM", "O365_ONLY_SMB"])
def test_lookalike_plans_grant_nothing(sku):
    t = full_tenant().user("jo", lic(sku))
    r = row(cross(t), "jo")
    assert not r["eligible"] and r["status"] == "missing_p1_and_governance"
    assert pd.isna(r["p1Plan"]) and pd.isna(r["governancePlan"])


def test_business_premium_counts_for_its_aad_premium_not_its_aad_smb():
    t = full_tenant().user("kim", lic("SPB", disabled=[P1]))
    assert row(same(t), "kim")["status"] == "plan_disabled"
    t = full_tenant().user("kim", lic("SPB", disabled=[AAD_SMB]))
    assert row(same(t), "kim")["eligible"]


def test_p1_without_governance_cross_cloud_names_a_governance_sku_with_free_seats():
    t = full_tenant().user("lea", lic("AAD_PREMIUM"))
    r = row(cross(t), "lea")
    assert r["status"] == "missing_governance"
    assert "Microsoft_Entra_ID_Governance (3 of 4 seats free)" in r["fix"]


def test_same_cloud_needs_p1_only():
    t = full_tenant().user("max", lic("AAD_PREMIUM"))
    res = same(t)
    assert row(res, "max")["eligible"]
    assert res.summary["requires"] == ["P1"]
    assert set(res.seats["entitlement"]) == {"P1"}


def test_sku_no_longer_in_the_tenant_is_labelled():
    t = Tenant().sku("AAD_PREMIUM", enabled=3).user("ned", lic(EMS_E3))
    res = same(t)
    r = row(res, "ned")
    assert r["status"] == "sku_not_subscribed" and not r["eligible"]
    assert "EMS" in r["reason"] and "no longer subscribes" in r["reason"]
    assert "AAD_PREMIUM (3 of 3 seats free)" in r["fix"]
    assert res.summary["skusNotSubscribed"][0]["skuId"] == EMS_E3


def test_unknown_sku_is_reported_not_counted_as_no_licence():
    t = Tenant().sku("AAD_PREMIUM").user("oli", lic(UNKNOWN_SKU))
    res = same(t)
    r = row(res, "oli")
    assert r["status"] == "unknown_sku" and not r["eligible"]
    assert UNKNOWN_SKU in r["reason"] and "--catalog" in r["fix"]
    assert res.summary["unknownSkus"] == [{"skuId": UNKNOWN_SKU, "skuPartNumber": None, "users": 1}]


def test_unknown_sku_does_not_hide_a_real_licence():
    t = Tenant().sku("AAD_PREMIUM").user("pat", lic(UNKNOWN_SKU), lic("AAD_PREMIUM"))
    assert row(same(t), "pat")["eligible"]


def test_guest_and_invited_member_are_not_syncable():
    t = (full_tenant().user("guest", lic("AAD_PREMIUM"), user_type="Guest")
         .user("invited", lic("AAD_PREMIUM"), creation="Invitation"))
    res = same(t)
    assert row(res, "guest")["status"] == "not_syncable_external"
    assert row(res, "invited")["status"] == "not_syncable_external"
    assert not row(res, "guest")["eligible"]


def test_disabled_account():
    t = full_tenant().user("quinn", lic("AAD_PREMIUM"), enabled=False)
    r = row(same(t), "quinn")
    assert r["status"] == "account_disabled" and not r["eligible"]


def test_not_in_scope_wins_and_scope_counts():
    t = full_tenant().user("rob", lic("AAD_PREMIUM")).user("sam").user("tia", enabled=False)
    res = same(t, scope_user_ids={"sam", "ghost"})
    assert row(res, "rob")["status"] == "not_in_scope" and not row(res, "rob")["inScope"]
    assert row(res, "tia")["status"] == "not_in_scope"
    assert row(res, "sam")["status"] == "missing_p1"
    assert res.summary["usersInScope"] == 1 and res.summary["notEligible"] == 1
    assert any("match no user" in n for n in res.notes)


def test_error_outranks_a_missing_licence_and_mentions_the_other_gap():
    t = full_tenant().user("uma", lic("AAD_PREMIUM", state="Error", error="MutuallyExclusiveViolation"))
    r = row(cross(t), "uma")
    assert r["status"] == "assignment_error"
    assert "also lacks Entra ID Governance" in r["reason"]
    assert "conflicting" in r["fix"]
    assert "Also assign Microsoft_Entra_ID_Governance (3 of 4 seats free)." in r["fix"]


def test_missing_both_cross_cloud_suggests_a_sku_with_both():
    t = full_tenant().user("vic")
    r = row(cross(t), "vic")
    assert r["status"] == "missing_p1_and_governance"
    assert "Microsoft_Entra_Suite (2 of 2 seats free)" in r["fix"]


def test_nothing_subscribed_suggests_skus_to_buy():
    t = Tenant().sku("O365_ONLY_SMB").user("wes")      # a tenant whose only SKU carries neither entitlement
    r = row(cross(t), "wes")
    assert r["status"] == "missing_p1_and_governance"
    assert "Microsoft Entra Suite (Microsoft_Entra_Suite)" in r["fix"] and "does not have yet" in r["fix"]
    r = row(evaluate_eligibility(t.data(), "gcch", "commercial"), "wes")
    assert "AAD_PREMIUM_USGOV_GCCHIGH" in r["fix"] and "Governance for Government" in r["fix"]


def test_empty_tenant_gives_empty_frames_and_a_note():
    res = cross(Tenant())
    assert res.users.empty and list(res.users.columns) == ELIGIBILITY.names
    assert list(res.seats.columns) == SEATS.names
    assert res.summary["usersTotal"] == 0 and res.summary["eligible"] == 0
    assert any("no users" in n for n in res.notes)
    assert res.to_dict()["users"] == []


def test_assignments_for_users_missing_from_the_users_frame_are_noted():
    t = full_tenant().user("xia", lic("AAD_PREMIUM"))
    data = t.data()
    extra = data.license_assignments.iloc[[0]].assign(userId="deleted-user")
    data.license_assignments = pd.concat([data.license_assignments, extra], ignore_index=True)
    res = evaluate_eligibility(data, "commercial", "commercial")
    assert res.summary["assignmentsForUnknownUsers"] == 1 and len(res.users) == 1


def test_output_conforms_to_the_declared_frame():
    t = full_tenant().user("yan", lic("AAD_PREMIUM")).user("zed", user_type="Guest")
    res = cross(t)
    assert list(res.users.columns) == ELIGIBILITY.names
    assert str(res.users["eligible"].dtype) == "boolean"
    assert set(res.users["status"]) <= set(STATUSES)
    d = res.to_dict()
    assert d["pair"]["kind"] == "cross-cloud" and len(d["users"]) == 2


def test_every_status_has_label_meaning_and_fix():
    assert STATUS_ORDER[:4] == ("not_in_scope", "account_disabled", "not_syncable_external", "eligible")
    for status, (label, meaning, fix) in STATUSES.items():
        assert label and meaning.endswith(".")
        assert fix or status == "eligible"


def test_unsupported_pair_is_a_cloud_error():
    with pytest.raises(CloudError):
        evaluate_eligibility(Tenant().data(), "china", "gcch")


def test_bad_assignment_guid_case_and_missing_columns_do_not_crash():
    t = full_tenant().user("amy", lic("AAD_PREMIUM"))
    data = t.data()
    data.license_assignments = data.license_assignments.assign(
        skuId=data.license_assignments["skuId"].str.upper()).drop(columns=["state", "disabledPlans"])
    assert row(evaluate_eligibility(data, "commercial", "commercial"), "amy")["eligible"]


def test_custom_catalog_is_used_for_stale_skus(tmp_path):
    csv = tmp_path / "official.csv"
    csv.write_text("Product_Display_Name,String_Id,GUID,Service_Plan_Name,Service_Plan_Id,"
                   "Service_Plans_Included_Friendly_Names\n"
                   f"Mystery,MYSTERY,{UNKNOWN_SKU},AAD_PREMIUM,{P1},Microsoft Entra ID P1\n", encoding="utf-8")
    t = Tenant().sku("AAD_PREMIUM").user("ann", lic(UNKNOWN_SKU))
    res = evaluate_eligibility(t.data(), "commercial", "commercial", catalog=Catalog.from_official_csv(csv))
    assert row(res, "ann")["status"] == "sku_not_subscribed"


def test_assigned_licenses_only_input_reports_an_unknown_source():
    t = full_tenant().user("ulf", lic("AAD_PREMIUM"))
    data = t.data()
    data.license_assignments = data.license_assignments.assign(source="unknown", state=pd.NA)
    r = row(evaluate_eligibility(data, "commercial", "commercial"), "ulf")
    assert r["eligible"] and r["p1Source"] == "unknown"


def test_input_without_subscribed_skus_uses_the_catalog_and_says_so():
    t = Tenant().user("vera", lic("SPE_E5")).user("walt", lic(UNKNOWN_SKU))
    data = t.data()            # no skus, no sku_service_plans: e.g. users JSON saved without subscribedSkus
    res = same(t)
    assert row(res, "vera")["eligible"] and row(res, "vera")["p1SkuPartNumber"] == "SPE_E5"
    assert row(res, "walt")["status"] == "unknown_sku"
    assert res.seats.empty and res.summary["entitlements"]["P1"]["available"] is None
    assert any("no subscribedSkus" in n for n in res.notes)
    assert data.skus.empty


def test_export_placeholder_part_number_is_replaced_by_the_catalog_name():
    t = Tenant().sku("AAD_PREMIUM").user("xena", lic(EMS_E3))
    data = t.data()
    data.license_assignments["skuPartNumber"] = pd.Series(["<not subscribed>"], dtype="string")
    r = row(evaluate_eligibility(data, "commercial", "commercial"), "xena")
    assert r["status"] == "sku_not_subscribed"
    assert "holds EMS (direct)" in r["reason"] and "<not subscribed>" not in r["reason"]


def test_duplicate_user_rows_are_evaluated_once_and_noted():
    t = full_tenant().user("yves", lic("AAD_PREMIUM"))
    data = t.data()
    data.users = pd.concat([data.users, data.users], ignore_index=True)
    res = evaluate_eligibility(data, "commercial", "commercial")
    assert len(res.users) == 1 and row(res, "yves")["eligible"]
    assert any("duplicate user id" in n for n in res.notes)
