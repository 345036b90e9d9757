"""The large-tenant generator: counts, determinism, distributions, and the seed format."""

from __future__ import annotations

import collections
import json
import uuid

import pytest

from toolkit.errors import CloudError, InputError
from toolkit.simulator.generate import (CLOUD_SKU_MIX, GROUP_SKU, PLAN_IDS, SKU_CATALOG, generate_tenant,
                                        initial_domain, subscribed_sku)

SEED_KEYS = {"cloud", "organization", "domains", "apps", "subscribedSkus", "groups", "users"}


@pytest.fixture(scope="module")
def big() -> dict:
    return generate_tenant(100_000, "commercial", seed=11)


def test_counts_and_shape(big):
    assert set(big) == SEED_KEYS
    assert len(big["users"]) == 100_000
    assert len(big["groups"]) == 400          # 100,000 // 250
    assert len({u["id"] for u in big["users"]}) == 100_000
    assert len({u["userPrincipalName"].lower() for u in big["users"]}) == 100_000
    uuid.UUID(big["organization"]["id"])
    assert [u for u in big["users"] if u.get("@sim.admin")] == [big["users"][0]]


def test_same_seed_same_tenant_other_seed_other_tenant():
    a = generate_tenant(3_000, "gcch", seed=5, name="fed")
    b = generate_tenant(3_000, "gcch", seed=5, name="fed")
    c = generate_tenant(3_000, "gcch", seed=6, name="fed")
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    assert a["organization"]["id"] != c["organization"]["id"]
    assert [u["id"] for u in a["users"]] != [u["id"] for u in c["users"]]


def test_distributions_look_like_an_enterprise(big):
    users = big["users"]
    n = len(users)
    guests = [u for u in users if u["userType"] == "Guest"]
    members = [u for u in users if u["userType"] == "Member"]
    assert 0.02 < len(guests) / n < 0.04
    assert all(g["creationType"] == "Invitation" and "#EXT#@" in g["userPrincipalName"] for g in guests)
    assert {g["externalUserState"] for g in guests} == {"Accepted", "PendingAcceptance"}
    disabled = sum(not u["accountEnabled"] for u in members) / len(members)
    assert 0.03 < disabled < 0.05
    hybrid = sum(bool(u.get("onPremisesSyncEnabled")) for u in members) / len(members)
    assert 0.27 < hybrid < 0.33
    assert all(u.get("onPremisesImmutableId") for u in members if u.get("onPremisesSyncEnabled"))
    no_location = [u for u in members if "usageLocation" not in u]
    assert 0.01 < len(no_location) / len(members) < 0.03
    assert all(u["assignedLicenses"] == [] for u in no_location), "Graph refuses licences without usageLocation"
    depts = collections.Counter(u["department"] for u in members)
    assert len(depts) == 10 and min(depts.values()) > len(members) / 20
    assert len({u["country"] for u in members}) >= 5


def test_licence_mix_follows_sku_mix_and_includes_group_licensing_and_errors(big):
    members = [u for u in big["users"] if u["userType"] == "Member" and "usageLocation" in u]
    held = collections.Counter(lic["skuId"] for u in members for lic in u["assignedLicenses"])
    for part, share in CLOUD_SKU_MIX["commercial"].items():
        assert abs(held[SKU_CATALOG[part][0]] / len(members) - share) < 0.01, part
    # At most one suite per user.
    suites = {SKU_CATALOG[p][0] for p in ("SPE_E3", "SPE_E5", "ENTERPRISEPACK", "SPB")}
    assert all(sum(lic["skuId"] in suites for lic in u["assignedLicenses"]) <= 1 for u in members)
    errors = [u for u in members if "@sim.licenseErrors" in u]
    assert 0.001 < len(errors) / len(members) < 0.006
    assert all(set(u["@sim.licenseErrors"].values()) == {"MutuallyExclusiveViolation"} for u in errors)
    p1_off = [u for u in members for lic in u["assignedLicenses"] if PLAN_IDS["AAD_PREMIUM"] in lic["disabledPlans"]]
    assert p1_off, "some assignments switch Entra ID P1 off"
    lic_group = next(g for g in big["groups"] if g["displayName"] == "LIC-Entra-ID-Governance")
    assert lic_group["assignedLicenses"] == [{"skuId": SKU_CATALOG[GROUP_SKU][0], "disabledPlans": []}]
    assert 0.08 < len(lic_group["members"]) / len(members) < 0.12


def test_group_based_sku_is_bought_short_and_others_have_headroom(big):
    ids = {u["id"] for u in big["users"]}
    gov = SKU_CATALOG[GROUP_SKU][0]
    holders: dict[str, set] = collections.defaultdict(set)
    for u in big["users"]:
        for lic in u["assignedLicenses"]:
            holders[lic["skuId"]].add(u["id"])
    for g in big["groups"]:
        assert set(g["members"]) <= ids | {x["id"] for x in big["groups"]}
        for lic in g["assignedLicenses"]:
            holders[lic["skuId"]].update(g["members"])
    for sku in big["subscribedSkus"]:
        need = len(holders[sku["skuId"]])
        if sku["skuId"] == gov:
            assert sku["prepaidUnits"]["enabled"] < need, "CountViolation needs fewer units than holders"
        else:
            assert sku["prepaidUnits"]["enabled"] > need


def test_scope_group_nests_the_pilot_group(big):
    groups = {g["displayName"]: g for g in big["groups"]}
    assert groups["CCS-Sync-Pilot"]["id"] in groups["CCS-Sync-Scope"]["members"]


@pytest.mark.parametrize("cloud, suffix", [("commercial", ".onmicrosoft.com"), ("gcc", ".onmicrosoft.com"),
                                           ("gcch", ".onmicrosoft.us"), ("dod", ".onmicrosoft.us"),
                                           ("china", ".partner.onmschina.cn")])
def test_every_cloud_gets_its_domains_and_skus(cloud, suffix):
    doc = generate_tenant(300, cloud, seed=1, name="acme")
    assert doc["cloud"] == cloud
    initial = [d for d in doc["domains"] if d["isInitial"]]
    assert [d["id"] for d in initial] == [f"acme{suffix}"] == [initial_domain("acme", cloud)]
    domains = {d["id"] for d in doc["domains"]}
    assert all(u["userPrincipalName"].rsplit("@", 1)[1] in domains for u in doc["users"])
    parts = {s["skuPartNumber"] for s in doc["subscribedSkus"]}
    assert parts == set(CLOUD_SKU_MIX[cloud]) | {GROUP_SKU}


def test_custom_sku_mix_and_group_count():
    doc = generate_tenant(2_000, "commercial", seed=2, sku_mix={"SPE_E5": 1.0}, n_groups=20, guest_rate=0.0)
    e5 = SKU_CATALOG["SPE_E5"][0]
    with_location = [u for u in doc["users"] if "usageLocation" in u]
    assert all(any(lic["skuId"] == e5 for lic in u["assignedLicenses"]) for u in with_location)
    assert len(doc["groups"]) == 20


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(InputError, match="unknown SKU"):
        generate_tenant(10, "commercial", sku_mix={"NOT_A_SKU": 0.5})
    with pytest.raises(InputError, match="more than 1"):
        generate_tenant(10, "commercial", sku_mix={"SPE_E3": 0.7, "SPE_E5": 0.5})
    with pytest.raises(InputError, match="positive"):
        generate_tenant(0, "commercial")
    with pytest.raises(CloudError):
        generate_tenant(10, "mars")
    with pytest.raises(InputError, match="unknown SKU"):
        subscribed_sku("NOPE", 1)


def test_suspended_sku_marks_its_plans():
    sku = subscribed_sku("AAD_PREMIUM", 0, capability_status="Suspended", suspended=5)
    assert sku["prepaidUnits"] == {"enabled": 0, "warning": 0, "suspended": 5, "lockedOut": 0}
    assert {p["provisioningStatus"] for p in sku["servicePlans"]} == {"Disabled"}
