"""Licences in the simulated Graph: derivation from the seed, subscribedSkus, assignLicense, licenseDetails."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import (GROUP_LICENSED, PLAN_EXO, SEED_TENANT, SKU_E3, SKU_P1, graph_caller, make_seed, small_sim,
                      user_id)
from toolkit.errors import InputError
from toolkit.simulator.state import Directory, TenantState

EXAMPLES = Path(__file__).parent / "fixtures" / "graph-examples"   # Microsoft's published examples (SOURCES.md)


def _states(tenant: TenantState, n: int) -> list[dict]:
    return tenant.users[user_id(n)]["licenseAssignmentStates"]


def test_derivation_direct_group_forced_error_and_count_violation():
    tenant = TenantState(make_seed(p1_units=2))
    # user 1: direct E3 with a disabled plan
    assert tenant.users[user_id(1)]["assignedLicenses"] == [{"disabledPlans": [PLAN_EXO], "skuId": SKU_E3}]
    assert _states(tenant, 1)[0]["assignedByGroup"] is None and _states(tenant, 1)[0]["state"] == "Active"
    # users 2..4 get P1 from the group, but only two units exist: the third is a CountViolation
    p1 = [_states(tenant, n)[0] for n in (2, 3, 4)]
    assert all(s["assignedByGroup"] == GROUP_LICENSED and s["skuId"] == SKU_P1 for s in p1)
    assert [s["state"] for s in p1] == ["Active", "Active", "Error"]
    assert p1[2]["error"] == "CountViolation"
    # user 5: nested-group member does NOT inherit the group licence; forced error on its direct E3
    assert [s["error"] for s in _states(tenant, 5)] == ["MutuallyExclusiveViolation"]
    assert tenant.skus[SKU_P1]["consumedUnits"] == 2
    assert tenant.skus[SKU_E3]["consumedUnits"] == 1
    # assignedLicenses shows the assignment even when its state is Error (union of direct + group)
    assert tenant.users[user_id(4)]["assignedLicenses"] == [{"disabledPlans": [], "skuId": SKU_P1}]


def test_seed_validation_names_the_problem():
    bad = make_seed()
    bad["organization"]["id"] = "not-a-guid"
    with pytest.raises(InputError, match="organization.id"):
        TenantState(bad, source="bad.json")
    directory = Directory()
    directory.add_tenant(make_seed())
    with pytest.raises(InputError, match="seeded twice"):
        directory.add_tenant(make_seed())
    assert directory.find_tenant("FOURTHCOFFEE.com").tenant_id == SEED_TENANT
    assert directory.find_tenant("fourthcoffee.net") is None     # unverified domains do not resolve


def test_subscribed_skus_match_documented_example(sim):
    example = json.loads((EXAMPLES / "subscribedsku-list.json").read_text())
    g = graph_caller(sim, "contoso.com")
    body = g.get("subscribedSkus").json()
    assert body["@odata.context"].endswith("$metadata#subscribedSkus")
    theirs = example["value"][0]
    for sku in body["value"]:
        assert set(sku) == set(theirs)
        for key, value in theirs.items():
            assert type(sku[key]) is type(value), key
        assert set(sku["prepaidUnits"]) == set(theirs["prepaidUnits"])
        assert all(set(p) == set(theirs["servicePlans"][0]) for p in sku["servicePlans"])
    one = g.get(f"subscribedSkus/{body['value'][0]['id']}")
    assert one.status_code == 200 and one.json()["skuId"] == body["value"][0]["skuId"]
    assert one.json()["@odata.context"].endswith("$metadata#subscribedSkus/$entity")


def test_assign_license_rules_and_consumed_units(fresh):
    g = graph_caller(fresh, SEED_TENANT)
    tenant = fresh.tenant(SEED_TENANT)
    before = tenant.skus[SKU_E3]["consumedUnits"]
    ok = g.post(f"users/{user_id(2)}/assignLicense", {"addLicenses": [{"skuId": SKU_E3, "disabledPlans": []}],
                                                      "removeLicenses": []})
    assert ok.status_code == 200, ok.text
    assert ok.json()["id"] == user_id(2)
    skus = {s["skuId"]: s for s in g.get("subscribedSkus").json()["value"]}
    assert skus[SKU_E3]["consumedUnits"] == before + 1
    lic = g.get(f"users/{user_id(2)}", params={"$select": "assignedLicenses,licenseAssignmentStates"}).json()
    assert {a["skuId"] for a in lic["assignedLicenses"]} == {SKU_E3, SKU_P1}
    direct = [s for s in lic["licenseAssignmentStates"] if s["assignedByGroup"] is None]
    assert direct[0]["skuId"] == SKU_E3 and direct[0]["state"] == "Active"

    no_location = g.post(f"users/{user_id(6)}/assignLicense", {"addLicenses": [{"skuId": SKU_E3}],
                                                               "removeLicenses": []})
    assert no_location.status_code == 400
    assert "usage location" in no_location.json()["error"]["message"]

    inherited = g.post(f"users/{user_id(2)}/assignLicense", {"addLicenses": [], "removeLicenses": [SKU_P1]})
    assert inherited.status_code == 400
    assert "inherited from a group" in inherited.json()["error"]["message"]

    unknown = g.post(f"users/{user_id(2)}/assignLicense",
                     {"addLicenses": [{"skuId": "11111111-1111-1111-1111-111111111111"}], "removeLicenses": []})
    assert unknown.status_code == 400

    # E3 has 4 units; user 1 and user 2 hold one each: two more fit, the next one does not
    for n in (3, 4):
        assert g.post(f"users/{user_id(n)}/assignLicense",
                      {"addLicenses": [{"skuId": SKU_E3}], "removeLicenses": []}).status_code == 200
    full = g.post(f"users/{user_id(5)}/assignLicense", {"addLicenses": [{"skuId": SKU_E3}],
                                                                "removeLicenses": []})
    assert full.status_code == 400
    assert full.json()["error"]["code"] == "Request_BadRequest"
    assert "does not have any available licenses" in full.json()["error"]["message"]

    removed = g.post(f"users/{user_id(2)}/assignLicense", {"addLicenses": [], "removeLicenses": [SKU_E3]})
    assert removed.status_code == 200
    assert tenant.skus[SKU_E3]["consumedUnits"] == 3
    assert g.post(f"users/{user_id(2)}/assignLicense", {"addLicenses": []}).status_code == 400
    audit = [e for e in tenant.audit if e["activityDisplayName"] == "Change user license"]
    assert len(audit) == 4


def test_license_details_match_documented_example(small_licensed):
    example = json.loads((EXAMPLES / "user-list-licensedetails.json").read_text())
    g = graph_caller(small_licensed, SEED_TENANT)
    body = g.get(f"users/{user_id(1)}/licenseDetails").json()
    assert body["@odata.context"].endswith(f"$metadata#users('{user_id(1)}')/licenseDetails")
    theirs = example["value"][0]
    ours = body["value"][0]
    assert set(ours) == set(theirs)
    assert set(ours["servicePlans"][0]) == set(theirs["servicePlans"][0])
    assert ours["skuPartNumber"] == "SPE_E3"
    # the disabled plan shows as Disabled for this user
    assert ours["servicePlans"][0]["provisioningStatus"] == "Disabled"


@pytest.fixture(scope="module")
def small_licensed():
    simulator = small_sim()
    yield simulator
    simulator.stop()


def test_group_membership_changes_move_licences_and_audit(fresh):
    g = graph_caller(fresh, SEED_TENANT)
    tenant = fresh.tenant(SEED_TENANT)
    ref = {"@odata.id": f"{g.base}/v1.0/directoryObjects/{user_id(6)}"}
    assert g.post(f"groups/{GROUP_LICENSED}/members/$ref", ref).status_code == 204
    again = g.post(f"groups/{GROUP_LICENSED}/members/$ref", ref)
    assert again.status_code == 400
    states = tenant.users[user_id(6)]["licenseAssignmentStates"]
    assert states[0]["assignedByGroup"] == GROUP_LICENSED
    assert states[0]["error"] == "CountViolation"        # P1 has 2 units, already used by users 2 and 3
    assert g.delete(f"groups/{GROUP_LICENSED}/members/{user_id(2)}/$ref").status_code == 204
    assert g.delete(f"groups/{GROUP_LICENSED}/members/{user_id(2)}/$ref").status_code == 404
    assert tenant.users[user_id(2)]["assignedLicenses"] == []
    # the freed unit does not clear user 4's CountViolation until its licences are reprocessed (as in Entra)
    assert tenant.skus[SKU_P1]["consumedUnits"] == 1
    assert tenant.users[user_id(4)]["licenseAssignmentStates"][0]["error"] == "CountViolation"
    assert g.post(f"users/{user_id(4)}/reprocessLicenseAssignment").status_code == 200
    assert tenant.users[user_id(4)]["licenseAssignmentStates"][0]["state"] == "Active"
    assert tenant.skus[SKU_P1]["consumedUnits"] == 2
    kinds = [(e["activityDisplayName"], e["category"], e["operationType"]) for e in tenant.audit]
    assert ("Add member to group", "GroupManagement", "Assign") in kinds
    assert ("Remove member from group", "GroupManagement", "Unassign") in kinds
    add = next(e for e in tenant.audit if e["activityDisplayName"] == "Add member to group")
    assert [t["type"] for t in add["targetResources"]] == ["Group", "User"]
