"""The seeded tenants in samples/tenants: format, identifiers, consistency, and the licence cases they promise."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "samples" / "tenants"
CLOUDS = ("commercial", "gcc", "gcch", "dod", "china")
SEED_KEYS = {"cloud", "organization", "domains", "apps", "subscribedSkus", "groups", "users"}
OPTIONAL_SEED_KEYS = {"crossTenantAccessPolicy", "authorizationPolicy", "@sim.crossCloudConfigurations"}
INITIAL_SUFFIX = {"commercial": ".onmicrosoft.com", "gcc": ".onmicrosoft.com", "gcch": ".onmicrosoft.us",
                  "dod": ".onmicrosoft.us", "china": ".partner.onmschina.cn"}
BUNDLED_CATALOG = ROOT / "toolkit" / "data" / "license-catalog.csv"
# Microsoft's full "Product names and service plan identifiers" CSV, copied into tests/fixtures/licensing
# (SOURCES.md there); CCSYNC_SERVICE_PLAN_CSV points at a newer download.
OFFICIAL_CSV = Path(os.environ.get("CCSYNC_SERVICE_PLAN_CSV",
                                   str(ROOT / "tests" / "fixtures" / "licensing" / "product-service-plan-identifiers.csv")))
GOVERNANCE_SKU = "cf6b0d46-4093-4546-a0ab-0b1546dcc10e"
GOVERNANCE_PLAN = "e866a266-3cff-43a3-acca-0c90a7e00c8b"


def load(cloud: str) -> dict:
    return json.loads((SEEDS / f"{cloud}.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def seeds() -> dict[str, dict]:
    return {c: load(c) for c in CLOUDS}


def is_guid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value
    except (ValueError, TypeError, AttributeError):
        return False


def bundled_plans() -> dict[str, set[str]]:
    with BUNDLED_CATALOG.open(encoding="utf-8") as f:
        return {r["sku_id"]: set(r["service_plan_ids"].split(";")) for r in csv.DictReader(f)}


def official_plans() -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    with OFFICIAL_CSV.open(encoding="utf-8-sig") as f:
        for r in csv.DictReader(f):
            out.setdefault(r["GUID"].strip(), set()).add(r["Service_Plan_Id"].strip())
    return out


@pytest.mark.parametrize("cloud", CLOUDS)
def test_seed_has_the_documented_shape(cloud):
    doc = load(cloud)
    assert SEED_KEYS <= set(doc) <= SEED_KEYS | OPTIONAL_SEED_KEYS
    assert doc["cloud"] == cloud
    assert is_guid(doc["organization"]["id"]) and doc["organization"]["displayName"]
    assert 25 <= len(doc["users"]) <= 60
    for sku in doc["subscribedSkus"]:
        assert set(sku["prepaidUnits"]) == {"enabled", "warning", "suspended", "lockedOut"}
        assert sku["appliesTo"] == "User" and sku["capabilityStatus"] in ("Enabled", "Warning", "Suspended")
        assert all(set(p) == {"servicePlanId", "servicePlanName", "provisioningStatus", "appliesTo"}
                   for p in sku["servicePlans"])
    for g in doc["groups"]:
        assert {"id", "displayName", "mailNickname", "securityEnabled", "mailEnabled", "groupTypes", "members",
                "assignedLicenses"} <= set(g)
    for u in doc["users"]:
        assert {"id", "userPrincipalName", "displayName", "mail", "accountEnabled", "userType",
                "assignedLicenses"} <= set(u)


@pytest.mark.parametrize("cloud", CLOUDS)
def test_every_identifier_is_a_guid_and_unique(cloud):
    doc = load(cloud)
    ids = [doc["organization"]["id"]] + [a["appId"] for a in doc["apps"]] + [u["id"] for u in doc["users"]] + \
          [g["id"] for g in doc["groups"]]
    assert all(is_guid(i) for i in ids)
    assert len(ids) == len(set(ids))
    for sku in doc["subscribedSkus"]:
        assert is_guid(sku["skuId"]) and all(is_guid(p["servicePlanId"]) for p in sku["servicePlans"])
    for holder in doc["users"] + doc["groups"]:
        for lic in holder["assignedLicenses"]:
            assert is_guid(lic["skuId"]) and all(is_guid(p) for p in lic["disabledPlans"])


def test_every_tenant_has_its_own_id(seeds):
    tenant_ids = [d["organization"]["id"] for d in seeds.values()]
    assert len(set(tenant_ids)) == 5


@pytest.mark.parametrize("cloud", CLOUDS)
def test_skus_and_plans_exist_in_the_bundled_catalog(cloud):
    catalog = bundled_plans()
    doc = load(cloud)
    for sku in doc["subscribedSkus"]:
        if sku["skuId"] not in catalog:
            continue   # SKUs without P1/P2/Governance/lookalike plans: checked against Microsoft's CSV below
        plans = {p["servicePlanId"] for p in sku["servicePlans"]}
        assert plans <= catalog[sku["skuId"]], (sku["skuPartNumber"], plans - catalog[sku["skuId"]])


@pytest.mark.skipif(not OFFICIAL_CSV.exists(), reason=f"Microsoft's service plan CSV not found at {OFFICIAL_CSV}")
@pytest.mark.parametrize("cloud", CLOUDS)
def test_skus_and_plans_exist_in_microsofts_csv(cloud):
    official = official_plans()
    extra = bundled_plans()   # Entra Suite f9602137 is not in Microsoft's CSV; the bundled catalog records it
    for sku in load(cloud)["subscribedSkus"]:
        known = official.get(sku["skuId"]) or extra.get(sku["skuId"])
        assert known, f"{sku['skuPartNumber']} {sku['skuId']} is in neither CSV"
        plans = {p["servicePlanId"] for p in sku["servicePlans"]}
        assert plans <= known, (sku["skuPartNumber"], plans - known)


@pytest.mark.parametrize("cloud", CLOUDS)
def test_assignments_name_subscribed_skus_and_their_plans(cloud):
    doc = load(cloud)
    plans = {s["skuId"]: {p["servicePlanId"] for p in s["servicePlans"]} for s in doc["subscribedSkus"]}
    for holder in doc["users"] + doc["groups"]:
        for lic in holder["assignedLicenses"]:
            assert lic["skuId"] in plans, (holder.get("displayName"), lic["skuId"])
            assert set(lic["disabledPlans"]) <= plans[lic["skuId"]]
    for u in doc["users"]:
        if u["assignedLicenses"]:
            assert u.get("usageLocation"), f"{u['userPrincipalName']} holds licences without usageLocation"
        assert set(u.get("@sim.licenseErrors", {})) <= {lic["skuId"] for lic in u["assignedLicenses"]}


@pytest.mark.parametrize("cloud", CLOUDS)
def test_domains_and_upns(cloud):
    doc = load(cloud)
    domains = {d["id"]: d for d in doc["domains"]}
    initial = [d for d in doc["domains"] if d["isInitial"]]
    assert len(initial) == 1 and initial[0]["id"].endswith(INITIAL_SUFFIX[cloud]) and initial[0]["isVerified"]
    assert sum(d["isDefault"] for d in doc["domains"]) == 1
    assert any(d["isVerified"] and not d["isInitial"] for d in doc["domains"])
    assert any(not d["isVerified"] for d in doc["domains"])
    for u in doc["users"]:
        upn_domain = u["userPrincipalName"].rsplit("@", 1)[1]
        assert upn_domain in domains, u["userPrincipalName"]
        assert domains[upn_domain]["isVerified"], f"{u['userPrincipalName']} is on an unverified domain"
        if u.get("creationType") == "Invitation":
            assert "#EXT#@" in u["userPrincipalName"] and u["externalUserState"] in ("Accepted", "PendingAcceptance")


@pytest.mark.parametrize("cloud", CLOUDS)
def test_group_members_exist(cloud):
    doc = load(cloud)
    objects = {u["id"] for u in doc["users"]} | {g["id"] for g in doc["groups"]}
    for g in doc["groups"]:
        assert g["members"], g["displayName"]
        assert set(g["members"]) <= objects, g["displayName"]
        assert g["id"] not in g["members"]
    scope = next(g for g in doc["groups"] if g["displayName"] == "CCS-Sync-Scope")
    group_ids = {g["id"] for g in doc["groups"]}
    assert any(m in group_ids for m in scope["members"]), "the scope group nests a group"


@pytest.mark.parametrize("cloud", CLOUDS)
def test_profiles_admin_and_apps(cloud):
    doc = load(cloud)
    assert sum(bool(u.get("@sim.admin")) for u in doc["users"]) == 1
    members = [u for u in doc["users"] if u["userType"] == "Member" and not u.get("creationType")]
    for u in members:
        for key in ("givenName", "surname", "mailNickname", "jobTitle", "department", "companyName", "employeeId",
                    "officeLocation", "city", "state", "country", "postalCode", "streetAddress",
                    "preferredLanguage", "createdDateTime"):
            assert u.get(key), (u["userPrincipalName"], key)
    assert any(not u["accountEnabled"] for u in members)
    assert any(u.get("onPremisesSyncEnabled") and u.get("onPremisesImmutableId") for u in members)
    assert any(not u.get("usageLocation") for u in members)
    assert any(u["userType"] == "Guest" for u in doc["users"])
    ccsync = next(a for a in doc["apps"] if a["displayName"] == "ccsync")
    assert {"User.ReadWrite.All", "Directory.ReadWrite.All", "User.Invite.All", "LicenseAssignment.ReadWrite.All",
            "Group.ReadWrite.All", "AuditLog.Read.All", "Policy.ReadWrite.CrossTenantAccess",
            "Synchronization.ReadWrite.All", "Application.ReadWrite.All",
            "AppRoleAssignment.ReadWrite.All", "Policy.Read.All", "Policy.ReadWrite.Authorization"} == set(ccsync["roles"])


def test_commercial_tenant_covers_every_licence_case(seeds):
    doc = seeds["commercial"]
    skus = {s["skuPartNumber"]: s for s in doc["subscribedSkus"]}
    part = {s["skuId"]: p for p, s in skus.items()}
    users = {u["userPrincipalName"].split("@")[0]: u for u in doc["users"]}

    def held(alias: str) -> set[str]:
        return {part[lic["skuId"]] for lic in users[alias]["assignedLicenses"]}

    assert held("adele.vance") == {"SPE_E3", "Microsoft_Entra_ID_Governance"}
    assert held("isaiah.langer") == {"AAD_PREMIUM_P2", "Microsoft_Entra_ID_Governance"}
    assert held("nestor.wilke") == {"Microsoft_Entra_Suite"}
    assert "IDENTITY_THREAT_PROTECTION" in held("lidia.holloway")
    miriam_gov = next(lic for lic in users["miriam.graham"]["assignedLicenses"] if lic["skuId"] == GOVERNANCE_SKU)
    assert miriam_gov["disabledPlans"] == [GOVERNANCE_PLAN]
    assert users["henrietta.mueller"]["@sim.licenseErrors"] == {GOVERNANCE_SKU: "MutuallyExclusiveViolation"}
    sam = users["sam.taylor"]["assignedLicenses"]
    assert [part[x["skuId"]] for x in sam] == ["SPB"] and sam[0]["disabledPlans"]
    assert held("kayla.lewis") == {"ENTERPRISEPREMIUM"}
    assert held("nadia.okafor") == set()
    groups = {g["displayName"]: g for g in doc["groups"]}
    gov_group = groups["LIC-Entra-ID-Governance"]
    assert gov_group["assignedLicenses"][0]["skuId"] == GOVERNANCE_SKU
    assert users["christie.cline"]["id"] in gov_group["members"]
    ems_group = groups["LIC-EMS-E3"]
    assert len(ems_group["members"]) > skus["EMS"]["prepaidUnits"]["enabled"], "CountViolation needs a shortfall"
    suspended = skus["AAD_PREMIUM"]
    assert suspended["capabilityStatus"] == "Suspended" and suspended["prepaidUnits"]["suspended"] > 0
    assert "AAD_PREMIUM" in held("brian.johnson")
    reader = next(a for a in doc["apps"] if a["displayName"] == "ccsync-reader")
    assert reader["roles"] == ["User.Read.All"]


def test_contoso_and_fabrikam_federal_form_a_sync_pair(seeds):
    source, target = seeds["commercial"], seeds["gcch"]
    by_mail = {u["mail"].lower(): u for u in source["users"] if u.get("mail")}
    b2b_members = [u for u in target["users"] if u["userType"] == "Member" and u.get("creationType") == "Invitation"]
    assert len(b2b_members) >= 3
    assert all(u["mail"].lower() in by_mail for u in b2b_members)
    drifted = [u for u in b2b_members if (u["displayName"], u["jobTitle"], u["department"]) !=
               tuple(by_mail[u["mail"].lower()][k] for k in ("displayName", "jobTitle", "department"))]
    assert drifted, "some existing B2B members carry attributes that changed in the source"
    pending = [u for u in target["users"] if u.get("externalUserState") == "PendingAcceptance"
               and u["mail"].lower() in by_mail]
    assert pending
    # An internal target user already owns a Contoso address: inviting that user collides.
    internal_addresses = {a.split(":", 1)[1].lower() for u in target["users"] if not u.get("creationType")
                          for a in u.get("proxyAddresses", [])}
    assert internal_addresses & set(by_mail)
    # The source's UPN domain exists in the target only unverified.
    target_domains = {d["id"]: d["isVerified"] for d in target["domains"]}
    assert target_domains.get("contoso.com") is False


def test_committed_files_match_the_builder():
    result = subprocess.run([sys.executable, str(SEEDS / "build_seeds.py"), "--check"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_the_simulator_loads_every_seed():
    from toolkit.simulator.state import Directory, load_seed_dir

    tenants = load_seed_dir(Directory(), SEEDS)
    assert sorted(t.cloud for t in tenants) == sorted(CLOUDS)
