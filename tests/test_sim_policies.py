"""Simulator: /policies/crossTenantAccessPolicy (cloud settings, default, partners, identity synchronization) and
/policies/authorizationPolicy, held to Microsoft's documented shapes and errors (docs/entra-sync-simulator.md)."""

from __future__ import annotations

from typing import Iterator

import pytest

from conftest import SEED_READER, graph_caller
from xts_sim import SOURCE, TARGET, callers, fixture, pair_sim, shape

CTAP = "policies/crossTenantAccessPolicy"


@pytest.fixture
def pair() -> Iterator[tuple]:
    sim = pair_sim()
    try:
        yield (sim, *callers(sim))
    finally:
        sim.stop()


def test_cloud_settings_start_empty_and_patch_replaces_the_list(pair):
    sim, src, _, _ = pair
    body = src.get(CTAP).json()
    assert body["allowedCloudEndpoints"] == []
    assert set(fixture("ctap-get.json")["value"]) - {"@odata.type"} <= set(body)
    assert src.patch(CTAP, {"allowedCloudEndpoints": ["microsoftonline.us", "partner.microsoftonline.cn"]}
                     ).status_code == 204
    assert src.patch(CTAP, {"allowedCloudEndpoints": ["microsoftonline.us"]}).status_code == 204
    assert src.get(CTAP).json()["allowedCloudEndpoints"] == ["microsoftonline.us"]
    # displayName alone leaves the list alone
    assert src.patch(CTAP, {"displayName": "Contoso policy"}).status_code == 204
    assert src.get(CTAP).json()["allowedCloudEndpoints"] == ["microsoftonline.us"]


def test_cloud_settings_reject_an_unknown_cloud_and_an_unknown_property(pair):
    _, src, _, _ = pair
    bad = src.patch(CTAP, {"allowedCloudEndpoints": ["microsoftonline.de"]})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "Request_BadRequest"
    unknown = src.patch(CTAP, {"crossCloudSync": True})
    assert unknown.status_code == 400 and "does not exist" in unknown.json()["error"]["message"]


def test_policy_is_capped_at_25_kb(pair):
    _, src, _, _ = pair
    for n in range(60):   # each partner entry with two B2B settings is about 500 bytes
        tid = f"00000000-0000-4000-9000-{n:012d}"
        resp = src.post(f"{CTAP}/partners", {"tenantId": tid, "b2bCollaborationInbound": {
            "usersAndGroups": {"accessType": "allowed", "targets": [{"target": f"group-{i}", "targetType": "group"}
                                                                  for i in range(8)]}}})
        if resp.status_code != 201:
            break
    assert resp.status_code == 400 and "25 KB" in resp.json()["error"]["message"]


def test_default_configuration_shape(pair):
    _, src, _, _ = pair
    body = src.get(f"{CTAP}/default").json()
    assert body["isServiceDefault"] is True
    assert body["b2bCollaborationInbound"]["usersAndGroups"]["accessType"] == "allowed"
    assert body["b2bDirectConnectInbound"]["usersAndGroups"]["accessType"] == "blocked"
    assert body["automaticUserConsentSettings"] == {"inboundAllowed": False, "outboundAllowed": False}


def test_partner_lifecycle_with_documented_errors(pair):
    sim, _, tgt, _ = pair
    created = tgt.post(f"{CTAP}/partners", {"tenantId": SOURCE})
    assert created.status_code == 201
    example = shape(fixture("ctap-partner-get.json"))
    body = created.json()
    assert set(example) <= set(body)
    assert body["automaticUserConsentSettings"] == {"inboundAllowed": None, "outboundAllowed": None}
    again = tgt.post(f"{CTAP}/partners", {"tenantId": SOURCE.upper()})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "Request_MultipleObjectsWithSameKeyValue"
    assert again.json()["error"]["details"][0]["code"] == "ConflictingObjects"
    # inbound automatic redemption (the how-to's step 3 body), then outbound: both kept
    assert tgt.patch(f"{CTAP}/partners/{SOURCE}", {"inboundTrust": None,
                                                  "automaticUserConsentSettings": {"inboundAllowed": True}}
                     ).status_code == 204
    assert tgt.patch(f"{CTAP}/partners/{SOURCE}", {"automaticUserConsentSettings": {"outboundAllowed": True}}
                     ).status_code == 204
    got = tgt.get(f"{CTAP}/partners/{SOURCE}").json()
    assert got["automaticUserConsentSettings"] == {"inboundAllowed": True, "outboundAllowed": True}
    assert [p["tenantId"] for p in tgt.get(f"{CTAP}/partners").json()["value"]] == [SOURCE]
    assert sim.tenant(TARGET).partner(SOURCE)["automaticUserConsentSettings"]["inboundAllowed"] is True
    assert tgt.delete(f"{CTAP}/partners/{SOURCE}").status_code == 204
    for resp in (tgt.get(f"{CTAP}/partners/{SOURCE}"), tgt.patch(f"{CTAP}/partners/{SOURCE}", {"inboundTrust": None}),
                 tgt.delete(f"{CTAP}/partners/{SOURCE}")):
        assert resp.status_code == 404 and resp.json()["error"]["code"] == "Directory_ObjectNotFound"


def test_identity_synchronization_put_conflict_patch_delete(pair):
    sim, _, tgt, _ = pair
    path = f"{CTAP}/partners/{SOURCE}/identitySynchronization"
    assert tgt.call("PUT", path, json={"displayName": "Fourth Coffee", "userSyncInbound": {"isSyncAllowed": True}}
                   ).status_code == 404   # no partner entry yet
    assert tgt.post(f"{CTAP}/partners", {"tenantId": SOURCE}).status_code == 201
    assert tgt.get(path).status_code == 404
    body = {"displayName": "Fourth Coffee", "userSyncInbound": {"isSyncAllowed": True}}
    assert tgt.call("PUT", path, json=body).status_code == 204
    got = tgt.get(path).json()
    assert got["tenantId"] == SOURCE and got["userSyncInbound"] == {"isSyncAllowed": True}
    assert sim.tenant(TARGET).cross_tenant.inbound_sync_allowed(SOURCE)
    conflict = tgt.call("PUT", path, json=body)
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "Request_MultipleObjectsWithSameKeyValue"
    assert tgt.patch(path, {"userSyncInbound": {"isSyncAllowed": False}}).status_code == 204
    assert tgt.get(path).json()["displayName"] == "Fourth Coffee"
    assert not sim.tenant(TARGET).cross_tenant.inbound_sync_allowed(SOURCE)
    assert tgt.delete(path).status_code == 204
    assert tgt.patch(path, {"userSyncInbound": {"isSyncAllowed": True}}).json()["error"]["code"] == \
        "Directory_ObjectNotFound"


def test_authorization_policy_get_and_patch(pair):
    _, src, _, _ = pair
    body = src.get("policies/authorizationPolicy").json()
    assert body["id"] == "authorizationPolicy" and body["allowInvitesFrom"] == "everyone"
    assert src.patch("policies/authorizationPolicy", {"allowInvitesFrom": "adminsAndGuestInviters"}).status_code == 204
    assert src.get("policies/authorizationPolicy").json()["allowInvitesFrom"] == "adminsAndGuestInviters"
    bad = src.patch("policies/authorizationPolicy", {"allowInvitesFrom": "anyone"})
    assert bad.status_code == 400


def test_permissions_are_checked(pair):
    sim = pair[0]
    reader = graph_caller(sim, SOURCE, SEED_READER)      # User.Read.All only
    for resp in (reader.get(CTAP), reader.patch(CTAP, {"allowedCloudEndpoints": []}),
                 reader.post(f"{CTAP}/partners", {"tenantId": TARGET}), reader.get("policies/authorizationPolicy")):
        assert resp.status_code == 403 and resp.json()["error"]["code"] == "Authorization_RequestDenied"


def test_sample_pair_allows_b2b_but_not_sync(sim):
    contoso, fabrikam = sim.tenant("contoso.com"), sim.tenant("fabrikamfederal.us")
    assert contoso.cross_tenant.allows_cloud("microsoftonline.us")
    assert fabrikam.cross_tenant.allows_cloud("microsoftonline.com")
    assert contoso.cross_tenant.b2b_collaboration_allowed(fabrikam.tenant_id, "microsoftonline.us", "outbound")
    assert fabrikam.cross_tenant.b2b_collaboration_allowed(contoso.tenant_id, "microsoftonline.com", "inbound")
    assert not fabrikam.cross_tenant.inbound_sync_allowed(contoso.tenant_id)
    assert not fabrikam.cross_tenant.automatic_redemption(contoso.tenant_id, "inbound")
    assert not contoso.cross_tenant.automatic_redemption(fabrikam.tenant_id, "outbound")
    # other tenants start empty: cross-cloud B2B with an unlisted tenant is blocked
    litware = sim.tenant("litwareinc.com")
    assert litware.cross_tenant.allowed_cloud_endpoints == [] and litware.cross_tenant.partners == {}
    assert not litware.cross_tenant.b2b_collaboration_allowed(fabrikam.tenant_id, "microsoftonline.us", "outbound")
