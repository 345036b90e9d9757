"""build_tenant_data: Graph JSON -> declared frames (documented examples and hand-made tenants)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from toolkit.errors import InputError
from toolkit.export import NOT_SUBSCRIBED, RawTenant, build_tenant_data
from toolkit.frames import FRAMES, FrameSpec

EXAMPLES = Path(__file__).parent / "fixtures" / "graph-examples"   # Microsoft's published examples (SOURCES.md)

SKU_E3, SKU_GOV, SKU_GONE = ("05e9a617-0261-4cee-bb44-138d3ef5d965", "cf6b0d46-4093-4546-a0ab-0b1546dcc10e",
                             "078d2b04-f1bd-4111-bbd4-b4b1b354cef4")
P_EXCH, P_TEAMS, P_P1, P_GOV = ("efb87545-963c-4e0d-99df-69c6916d9eb0", "57ff2da0-773e-42df-b2af-ffb7a2317929",
                                "41781fb2-bc02-4b7c-bd55-b576c07bb09d", "e866a266-3cff-43a3-acca-0c90a7e00c8b")
GROUP = "7efdf392-a234-5bca-b3b3-3a7918663e3a"


def plan(pid: str, name: str) -> dict:
    return {"servicePlanId": pid, "servicePlanName": name, "provisioningStatus": "Success", "appliesTo": "User"}


def sku(sku_id: str, part: str, plans: list[dict], enabled: int = 10, consumed: int = 3) -> dict:
    return {"skuId": sku_id, "skuPartNumber": part, "appliesTo": "User", "capabilityStatus": "Enabled",
            "consumedUnits": consumed, "prepaidUnits": {"enabled": enabled, "warning": 1, "suspended": 2,
                                                        "lockedOut": 0}, "servicePlans": plans}


def state(sku_id: str, group: str | None = None, disabled: list[str] | None = None, st: str = "Active",
          error: str = "None") -> dict:
    return {"skuId": sku_id, "assignedByGroup": group, "disabledPlans": disabled or [], "state": st,
            "error": error, "lastUpdatedDateTime": "2026-01-02T03:04:05Z"}


def user(uid: str, upn: str, states: list[dict], **props) -> dict:
    return {"id": uid, "userPrincipalName": upn, "displayName": upn.split("@")[0], "accountEnabled": True,
            "userType": "Member", "createdDateTime": "2024-05-06T07:08:09Z", "usageLocation": "US",
            "assignedLicenses": [{"skuId": s["skuId"], "disabledPlans": s["disabledPlans"]} for s in states],
            "licenseAssignmentStates": states, **props}


def tenant() -> RawTenant:
    skus = [sku(SKU_E3, "SPE_E3", [plan(P_EXCH, "EXCHANGE_S_ENTERPRISE"), plan(P_TEAMS, "TEAMS1"),
                                   plan(P_P1, "AAD_PREMIUM")]),
            sku(SKU_GOV, "Microsoft_Entra_ID_Governance", [plan(P_GOV, "Entra_Identity_Governance")])]
    users = [
        # direct E3 with Teams off, plus E3 from a group with Exchange off: both plans on (merged), P1 twice
        user("u1", "ada@contoso.com", [state(SKU_E3, disabled=[P_TEAMS]), state(SKU_E3, GROUP, [P_EXCH])]),
        # Governance direct but in error: contributes no effective plan
        user("u2", "bob@contoso.com", [state(SKU_GOV, st="Error", error="CountViolation")]),
        # a licence for an SKU the tenant no longer has
        user("u3", "cy@contoso.com", [state(SKU_GONE)]),
        # no licences at all
        user("u4", "dee@contoso.com", [], onPremisesExtensionAttributes={"extensionAttribute1": "x"}),
    ]
    return RawTenant(tenant_id="t-1", cloud="commercial", fetched_at="2026-11-26T20:00:00Z", users=users,
                     subscribed_skus=skus, domains=[{"id": "contoso.com", "isVerified": True, "isDefault": True,
                                                     "isInitial": False, "authenticationType": "Managed",
                                                     "supportedServices": ["Email"]}],
                     organization=[{"id": "t-1", "displayName": "Contoso"}],
                     groups=[{"id": GROUP, "displayName": "LIC-E3"}], scoping_group_ids=[GROUP],
                     group_members={GROUP: [
                         {"@odata.type": "#microsoft.graph.user", "id": "u1", "userPrincipalName": "ada@contoso.com"},
                         {"@odata.type": "#microsoft.graph.group", "id": "g-nested", "userPrincipalName": None}]})


def assert_declared_dtypes(frame: pd.DataFrame, spec: FrameSpec) -> None:
    assert list(frame.columns) == spec.names
    for col, dtype in spec.columns:
        actual = frame[col].dtype
        if dtype == "string":
            assert isinstance(actual, pd.StringDtype), (spec.name, col, actual)
        elif dtype == "boolean":
            assert isinstance(actual, pd.BooleanDtype), (spec.name, col, actual)
        elif dtype == "Int64":
            assert str(actual) == "Int64", (spec.name, col, actual)
        elif dtype == "datetime":
            assert isinstance(actual, pd.DatetimeTZDtype) and str(actual.tz) == "UTC", (spec.name, col, actual)
        else:
            assert actual == object, (spec.name, col, actual)


def test_every_frame_has_declared_columns_and_dtypes():
    data = build_tenant_data(tenant())
    for name, spec in FRAMES.items():
        assert_declared_dtypes(getattr(data, name), spec)
    assert data.tenant_id == "t-1" and data.display_name == "Contoso"
    assert set(data.users["tenantId"]) == {"t-1"}


def test_direct_and_group_assignments_are_separate_rows_with_group_names():
    la = build_tenant_data(tenant()).license_assignments
    ada = la[la.userPrincipalName == "ada@contoso.com"].sort_values("source")
    assert list(ada.source) == ["direct", "group"]
    assert list(ada.skuPartNumber) == ["SPE_E3", "SPE_E3"]
    assert ada.iloc[1].assignedByGroup == GROUP and ada.iloc[1].assignedByGroupName == "LIC-E3"
    assert ada.iloc[0].disabledPlans == [P_TEAMS] and ada.iloc[1].disabledPlans == [P_EXCH]
    bob = la[la.userId == "u2"].iloc[0]
    assert (bob.state, bob.error) == ("Error", "CountViolation")


def test_effective_plans_merge_assignments_and_drop_disabled_and_failed():
    usp = build_tenant_data(tenant()).user_service_plans
    ada = usp[usp.userId == "u1"].set_index("servicePlanName")
    # Teams is off in the direct assignment but on through the group; Exchange the other way round
    assert set(ada.index) == {"EXCHANGE_S_ENTERPRISE", "TEAMS1", "AAD_PREMIUM"}
    assert ada.loc["TEAMS1", "sources"] == [GROUP]
    assert ada.loc["EXCHANGE_S_ENTERPRISE", "sources"] == ["direct"]
    assert sorted(ada.loc["AAD_PREMIUM", "sources"]) == sorted(["direct", GROUP])
    assert ada.loc["AAD_PREMIUM", "skuIds"] == [SKU_E3]
    assert usp[usp.userId == "u2"].empty            # Error state enables nothing
    assert usp[usp.userId == "u3"].empty            # plans of an unsubscribed SKU are unknown


def test_plan_disabled_in_every_assignment_is_not_effective():
    raw = tenant()
    raw.users = [user("u9", "eve@contoso.com", [state(SKU_E3, disabled=[P_P1]), state(SKU_E3, GROUP, [P_P1])])]
    usp = build_tenant_data(raw).user_service_plans
    assert set(usp.servicePlanName) == {"EXCHANGE_S_ENTERPRISE", "TEAMS1"}


def test_sku_the_tenant_no_longer_has_is_labelled_and_warned():
    data = build_tenant_data(tenant())
    row = data.license_assignments.set_index("userId").loc["u3"]
    assert row.skuId == SKU_GONE and row.skuPartNumber == NOT_SUBSCRIBED
    assert any(SKU_GONE in w and NOT_SUBSCRIBED in w for w in data.stats["warnings"])


def test_skus_flatten_prepaid_units_and_available():
    skus = build_tenant_data(tenant()).skus.set_index("skuPartNumber")
    e3 = skus.loc["SPE_E3"]
    assert (e3.enabled, e3.warning, e3.suspended, e3.lockedOut, e3.consumedUnits, e3.available) == (10, 1, 2, 0, 3, 7)


def test_group_members_carry_type_and_group_name():
    gm = build_tenant_data(tenant()).group_members
    assert list(gm.memberType) == ["user", "group"]
    assert set(gm.groupDisplayName) == {"LIC-E3"}


def test_users_keep_graph_values_and_dict_column():
    users = build_tenant_data(tenant()).users.set_index("id")
    assert users.loc["u4", "onPremisesExtensionAttributes"] == {"extensionAttribute1": "x"}
    assert users.loc["u1", "onPremisesExtensionAttributes"] is None
    assert users.loc["u1", "createdDateTime"] == pd.Timestamp("2024-05-06T07:08:09Z")
    assert bool(users.loc["u1", "accountEnabled"]) is True


def test_documented_examples_build():
    users = json.loads((EXAMPLES / "user-list-assignedlicenses.json").read_text())["value"]
    skus = json.loads((EXAMPLES / "subscribedsku-list.json").read_text())["value"]
    data = build_tenant_data(RawTenant("t", "commercial", "2026-01-01T00:00:00Z", users=users, subscribed_skus=skus))
    assert len(data.users) == 2 and list(data.users["mail"]) == ["admin@contoso.com", "DebraB@contoso.com"]
    # the example users hold only assignedLicenses: rows with an unknown source
    assert list(data.license_assignments.source) == ["unknown", "unknown"]
    # their SKU (cbdc14ab...) is not among the example tenant's subscribedSkus
    assert set(data.license_assignments.skuPartNumber) == {NOT_SUBSCRIBED}
    skus_frame = data.skus.set_index("skuPartNumber")
    assert skus_frame.loc["ENTERPRISEPREMIUM", "available"] == 11
    assert skus_frame.loc["CRMSTANDARD", "suspended"] == 25
    assert set(data.sku_service_plans.servicePlanName) == {"ADALLOM_S_O365", "CRMSTANDARD"}
    for name, spec in FRAMES.items():
        assert_declared_dtypes(getattr(data, name), spec)


def test_assigned_licenses_only_input_gives_effective_plans():
    raw = tenant()
    raw.users = [{"id": "u5", "userPrincipalName": "fay@contoso.com",
                  "assignedLicenses": [{"skuId": SKU_GOV, "disabledPlans": []}]}]
    data = build_tenant_data(raw)
    assert list(data.license_assignments.source) == ["unknown"]
    assert list(data.user_service_plans.servicePlanName) == ["Entra_Identity_Governance"]
    assert data.user_service_plans.iloc[0].sources == ["unknown"]


def test_no_subscribed_skus_in_input_leaves_part_number_unknown():
    raw = tenant()
    raw.subscribed_skus = None
    data = build_tenant_data(raw)
    assert data.license_assignments.skuPartNumber.isna().all()
    assert data.skus.empty
    assert any("no subscribedSkus" in w for w in data.stats["warnings"])


def test_empty_tenant_gives_empty_declared_frames():
    data = build_tenant_data(RawTenant("t", "gcch", "2026-01-01T00:00:00Z", users=[], subscribed_skus=[],
                                       domains=[]))
    for name, spec in FRAMES.items():
        frame = getattr(data, name)
        assert frame.empty
        assert_declared_dtypes(frame, spec)


def test_duplicate_users_are_kept_once_with_a_warning():
    raw = tenant()
    raw.users = raw.users + [raw.users[0]]
    data = build_tenant_data(raw)
    assert len(data.users) == 4
    assert any("repeated an id" in w for w in data.stats["warnings"])


@pytest.mark.parametrize("users, needle", [
    ([{"userPrincipalName": "x@contoso.com"}], "has no 'id'"),
    (["not an object"], "item #1 of 'users'"),
    ([{"id": "u1", "userPrincipalName": "x@contoso.com", "licenseAssignmentStates": "oops"}], "x@contoso.com"),
    ([{"id": "u1", "userPrincipalName": "x@contoso.com", "licenseAssignmentStates": [42]}], "not a JSON object"),
])
def test_malformed_users_raise_input_error_naming_the_record(users, needle):
    raw = tenant()
    raw.users = users
    with pytest.raises(InputError, match=re.escape(needle)):
        build_tenant_data(raw)


def test_unreadable_group_name_is_empty_and_warned():
    raw = tenant()
    raw.groups = []
    data = build_tenant_data(raw)
    row = data.license_assignments[data.license_assignments.source == "group"].iloc[0]
    assert row.assignedByGroup == GROUP and pd.isna(row.assignedByGroupName)
    assert any("could not be named" in w for w in data.stats["warnings"])


def test_value_of_the_wrong_type_names_the_field():
    raw = tenant()
    raw.users = [{"id": "u1", "userPrincipalName": "x@contoso.com", "accountEnabled": "yes"}]
    with pytest.raises(InputError) as err:
        build_tenant_data(raw)
    assert err.value.field == "accountEnabled"
