"""Simulator: the cross-tenant sync configuration app, its synchronization jobs, schema, secrets,
validateCredentials and provisionOnDemand, against Microsoft's documented shapes and errors
(docs/entra-sync-simulator.md). Plain requests only."""

from __future__ import annotations

import json
from typing import Iterator

import pytest

from conftest import SEED_READER, graph_caller, user_id
from xts_sim import (CTAP, CTS_TEMPLATE, GROUP, SAME_CLOUD_TARGET, SOURCE, TARGET, callers, configure_source,
                     configure_target, fixture, new_configuration, new_job, pair_sim, ready_cross_cloud_pair, shape)


@pytest.fixture
def pair() -> Iterator[tuple]:
    sim = pair_sim()
    try:
        yield (sim, *callers(sim))
    finally:
        sim.stop()


def _jobs(sp: dict) -> str:
    return f"servicePrincipals/{sp['id']}/synchronization/jobs"


def test_instantiate_returns_application_and_service_principal_as_documented(pair):
    _, src, _, _ = pair
    resp = src.post(f"applicationTemplates/{CTS_TEMPLATE}/instantiate", {"displayName": "Fabrikam"})
    assert resp.status_code == 201
    body = resp.json()
    app, sp = body["application"], body["servicePrincipal"]
    assert app["appId"] == sp["appId"] and app["id"] != sp["id"]
    assert sp["applicationTemplateId"] == CTS_TEMPLATE and sp["appRoleAssignmentRequired"] is True
    assert sp["tags"] == ["WindowsAzureActiveDirectoryIntegratedApp"]
    assert "aad2aadsync" in sp["homepage"]
    (role,) = sp["appRoles"]
    assert role["displayName"] == "msiam_access" and role["value"] is None and role["allowedMemberTypes"] == ["User"]
    # findable as the how-to does it, and by template
    found = src.get("servicePrincipals", params={"$filter": "displayName eq 'Fabrikam'"}).json()["value"]
    assert [s["id"] for s in found] == [sp["id"]]
    by_template = src.get("servicePrincipals",
                          params={"$filter": f"applicationTemplateId eq '{CTS_TEMPLATE}'"}).json()["value"]
    assert [s["id"] for s in by_template] == [sp["id"]]
    assert src.get(f"servicePrincipals/{sp['id']}").json()["appId"] == app["appId"]
    assert src.post("applicationTemplates/00000000-0000-0000-0000-000000000000/instantiate",
                    {"displayName": "x"}).status_code == 404
    assert src.post(f"applicationTemplates/{CTS_TEMPLATE}/instantiate", {}).status_code == 400


def test_app_role_assignments_add_list_delete(pair):
    _, src, _, _ = pair
    sp = new_configuration(src)
    path = f"servicePrincipals/{sp['id']}/appRoleAssignedTo"
    role = sp["appRoles"][0]["id"]
    resp = src.post(path, {"appRoleId": role, "resourceId": sp["id"], "principalId": GROUP})
    assert resp.status_code == 201
    a = resp.json()
    assert a["principalType"] == "Group" and a["principalDisplayName"] == "Licensed staff"
    assert a["resourceDisplayName"] == sp["displayName"] and a["appRoleId"] == role
    user = src.post(path, {"appRoleId": role, "resourceId": sp["id"], "principalId": user_id(1)}).json()
    assert user["principalType"] == "User"
    assert {x["id"] for x in src.get(path).json()["value"]} == {a["id"], user["id"]}
    assert src.delete(f"{path}/{a['id']}").status_code == 204
    assert [x["id"] for x in src.get(path).json()["value"]] == [user["id"]]
    assert src.post(path, {"appRoleId": str(__import__("uuid").uuid4()), "resourceId": sp["id"],
                           "principalId": user_id(2)}).status_code == 400
    assert src.post(path, {"appRoleId": role, "resourceId": sp["id"],
                           "principalId": "11111111-1111-4111-8111-111111111111"}).status_code == 400


def test_job_create_get_and_status_shape_match_the_how_to(pair):
    _, src, _, _ = pair
    sp = new_configuration(src)
    resp = src.post(_jobs(sp), {"templateId": "Azure2Azure"})
    assert resp.status_code == 201
    body = resp.json()
    documented = fixture("cts-syncjob-post.json")
    assert shape(body) == shape({**documented, "id": "x"})
    assert body["schedule"] == {"expiration": None, "interval": "PT40M", "state": "Disabled"}
    assert body["status"]["code"] == "Paused"
    job_id = body["id"]
    assert [j["id"] for j in src.get(_jobs(sp)).json()["value"]] == [job_id]
    assert src.get(_jobs(sp), params={"$filter": "templateId eq 'Azure2Azure'"}).json()["value"][0]["id"] == job_id
    assert src.post(f"{_jobs(sp)}/{job_id}/start").status_code == 204
    started = src.get(f"{_jobs(sp)}/{job_id}").json()
    assert started["schedule"]["state"] == "Active" and started["status"]["code"] == "NotRun"
    assert src.post(f"{_jobs(sp)}/{job_id}/pause").status_code == 204
    assert src.get(f"{_jobs(sp)}/{job_id}").json()["status"]["code"] == "Paused"
    assert src.post(_jobs(sp), {"templateId": "BoxOutDelta"}).status_code == 400
    assert src.delete(f"{_jobs(sp)}/{job_id}").status_code == 204
    assert src.get(f"{_jobs(sp)}/{job_id}").status_code == 404


def test_restart_reset_scopes(pair):
    _, src, _, _ = pair
    sp = new_configuration(src)
    job_id = src.post(_jobs(sp), {"templateId": "Azure2Azure"}).json()["id"]
    for scope in ("Watermark, Escrows, QuarantineState", "Full", "ForceDeletes", "QuarantineState"):
        assert src.post(f"{_jobs(sp)}/{job_id}/restart", {"criteria": {"resetScope": scope}}).status_code == 204
    assert src.post(f"{_jobs(sp)}/{job_id}/restart").status_code == 204          # no criteria: portal's restart
    bad = src.post(f"{_jobs(sp)}/{job_id}/restart", {"criteria": {"resetScope": "Everything"}})
    assert bad.status_code == 400


def test_schema_default_rule_mappings_and_put(pair):
    _, src, _, _ = pair
    sp = new_configuration(src)
    job_id = src.post(_jobs(sp), {"templateId": "Azure2Azure"}).json()["id"]
    schema = src.get(f"{_jobs(sp)}/{job_id}/schema").json()
    assert schema["version"] == "v1.2"
    (rule,) = schema["synchronizationRules"]
    assert rule["name"] == "USER_INBOUND_USER"
    assert rule["sourceDirectoryName"] == "Azure Active Directory"
    assert rule["targetDirectoryName"] == "Azure Active Directory (target tenant)"
    assert {"key": "supportsProvisionOnDemand", "value": "true"} in rule["metadata"]
    maps = {m["targetAttributeName"]: m for m in rule["objectMappings"][0]["attributeMappings"]}
    assert maps["alternativeSecurityIds"]["source"]["expression"] == "AltSecIdFromNetId([netId])"
    assert maps["alternativeSecurityIds"]["matchingPriority"] == 1
    assert maps["userType"]["source"] == {"expression": "\"Member\"", "name": "Member", "parameters": [],
                                          "type": "Constant"}
    assert maps["showInAddressList"]["source"]["type"] == "Constant"
    for name in ("displayName", "userPrincipalName", "mail", "givenName", "surname", "jobTitle", "department",
                 "accountEnabled", "IsSoftDeleted"):
        assert maps[name]["source"]["type"] == "Attribute", name
    # a scoping filter on department, saved with PUT
    schema.pop("@odata.context")
    rule["objectMappings"][0]["scope"] = {"groups": [{"name": "Sales", "clauses": [
        {"operatorName": "EQUALS", "sourceOperandName": "department", "targetOperand": {"values": ["Sales"]}}]}]}
    assert src.call("PUT", f"{_jobs(sp)}/{job_id}/schema", json=schema).status_code == 204
    assert src.get(f"{_jobs(sp)}/{job_id}/schema").json()["synchronizationRules"][0]["objectMappings"][0][
        "scope"]["groups"][0]["name"] == "Sales"
    # a second matching attribute is schemaInvalid
    rule["objectMappings"][0]["attributeMappings"][1]["matchingPriority"] = 2
    bad = src.call("PUT", f"{_jobs(sp)}/{job_id}/schema", json=schema)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "schemaInvalid"


def test_secrets_put_replaces_and_get_masks(pair):
    _, src, _, _ = pair
    sp = new_configuration(src)
    path = f"servicePrincipals/{sp['id']}/synchronization/secrets"
    assert src.call("PUT", path, json={"value": [{"key": "CompanyId", "value": TARGET},
                                                 {"key": "SecretToken", "value": "s3cr3t"}]}).status_code == 204
    got = {p["key"]: p["value"] for p in src.get(path).json()["value"]}
    assert got == {"CompanyId": TARGET, "SecretToken": "*"}
    assert src.call("PUT", path, json={"value": [{"key": "SyncAll", "value": "false"}]}).status_code == 204
    assert [p["key"] for p in src.get(path).json()["value"]] == ["SyncAll"]


def test_sync_permissions_are_checked(pair):
    sim, src, _, _ = pair
    sp = new_configuration(src)
    reader = graph_caller(sim, SOURCE, SEED_READER)
    for resp in (reader.post(f"applicationTemplates/{CTS_TEMPLATE}/instantiate", {"displayName": "x"}),
                 reader.get("servicePrincipals"), reader.post(_jobs(sp), {"templateId": "Azure2Azure"}),
                 reader.post(f"servicePrincipals/{sp['id']}/appRoleAssignedTo", {})):
        assert resp.status_code == 403 and resp.json()["error"]["code"] == "Authorization_RequestDenied"


def _validate(src, sp, target=TARGET):
    return src.post(f"{_jobs(sp)}/validateCredentials", {
        "useSavedCredentials": False, "templateId": "Azure2Azure",
        "credentials": [{"key": "CompanyId", "value": target}, {"key": "AuthenticationType", "value": "SyncPolicy"}]})


def _code(resp) -> str:
    assert resp.status_code == 400, resp.text
    return resp.json()["error"]["code"]


def test_cross_cloud_test_connection_fails_with_each_documented_error_until_configured(pair):
    sim, src, tgt, _ = pair
    graph_sp = new_configuration(src)           # made through Graph: no cross-cloud checkbox possible
    assert _code(_validate(src, graph_sp)) == "ExternalTenantNotFound"
    assert _code(_validate(src, graph_sp, "99999999-9999-4999-8999-999999999999")) == "ExternalTenantNotFound"
    sp = sim.portal_create_cross_cloud_configuration(SOURCE, "Northwind Gov")
    # the source has not allowed GCC High in its Microsoft cloud settings
    assert _code(_validate(src, sp)) == "ExternalTenantNotFound"
    assert src.patch(CTAP, {"allowedCloudEndpoints": ["microsoftonline.us"]}).status_code == 204
    # the target has not ticked cross-cloud synchronization
    assert _code(_validate(src, sp)) == "AzureActiveDirectoryTokenExpired"
    principal = sim.portal_tick_cross_cloud_sync(TARGET, "commercial")
    listed = tgt.get("servicePrincipals").json()["value"]
    assert principal["id"] in [s["id"] for s in listed]
    grants = tgt.get(f"servicePrincipals/{principal['id']}/appRoleAssignments").json()["value"]
    assert {g["resourceDisplayName"] for g in grants} == {"Microsoft Graph"} and len(grants) == 4
    # target inbound sync not allowed yet
    resp = _validate(src, sp)
    assert _code(resp) == "AzureActiveDirectoryCrossTenantSyncPolicyCheckFailure"
    assert "inbound synchronization" in resp.json()["error"]["message"]
    configure_target(tgt)
    resp = _validate(src, sp)
    assert _code(resp) == "AzureActiveDirectoryCrossTenantSyncPolicyCheckFailure"
    assert "automatic user consent" in resp.json()["error"]["message"]
    configure_source(src)
    assert _validate(src, sp).status_code == 204
    # the job-level path with saved credentials
    job_id = new_job(src, sp)
    assert src.post(f"{_jobs(sp)}/{job_id}/validateCredentials",
                    {"useSavedCredentials": True}).status_code == 204


def test_same_cloud_pair_needs_no_portal_step(pair):
    sim, src, _, other = pair
    configure_target(other, SOURCE)
    configure_source(src, SAME_CLOUD_TARGET)
    sp = new_configuration(src, "Adatum")
    assert _validate(src, sp, SAME_CLOUD_TARGET).status_code == 204


def test_provision_on_demand_result_and_rate_limit(pair):
    sim, src, tgt, _ = pair
    sp, job_id = ready_cross_cloud_pair(sim, src, tgt)
    rule_id = src.get(f"{_jobs(sp)}/{job_id}/schema").json()["synchronizationRules"][0]["id"]
    body = {"parameters": [{"ruleId": rule_id, "subjects": [{"objectId": user_id(2), "objectTypeName": "User"}]}]}
    resp = src.post(f"{_jobs(sp)}/{job_id}/provisionOnDemand", body)
    assert resp.status_code == 200, resp.text
    out = resp.json()
    documented = fixture("cts-provision-on-demand.json")
    assert out["key"] == documented["key"]
    (entry,) = json.loads(out["value"])
    assert entry["action"] == "Create" and entry["statusInfo"]["status"] == "Success"
    assert entry["provisioningSteps"][0]["type"] == "Import"
    assert {"name", "type", "status", "description", "timestamp", "details"} <= set(entry["provisioningSteps"][0])
    assert any(u.get("mail") == "user2@fourthcoffee.com" for u in sim.tenant(TARGET).users.values())
    # the second time there is nothing to change: RedundantExport
    again = json.loads(src.post(f"{_jobs(sp)}/{job_id}/provisionOnDemand", body).json()["value"])
    assert again[-1]["statusInfo"]["status"] == "Skipped"
    assert again[-1]["provisioningSteps"][-1]["details"]["SkipReason"] == "RedundantExport"
    wrong_rule = src.post(f"{_jobs(sp)}/{job_id}/provisionOnDemand",
                          {"parameters": [{"ruleId": "nope", "subjects": body["parameters"][0]["subjects"]}]})
    assert wrong_rule.status_code == 400
    # 5 per 10 seconds: within a few more calls one is refused with 429 and Retry-After (the bucket refills at
    # half a request per second, so a slow machine may let one or two more through)
    for _ in range(12):
        throttled = src.post(f"{_jobs(sp)}/{job_id}/provisionOnDemand", body)
        if throttled.status_code != 200:
            break
    assert throttled.status_code == 429 and float(throttled.headers["Retry-After"]) > 0
    assert throttled.json()["error"]["code"] == "TooManyRequests"


def test_on_demand_fails_with_the_connection_error_when_unconfigured(pair):
    sim, src, _, _ = pair
    sp = sim.portal_create_cross_cloud_configuration(SOURCE, "Northwind Gov")
    job_id = new_job(src, sp)
    rule_id = src.get(f"{_jobs(sp)}/{job_id}/schema").json()["synchronizationRules"][0]["id"]
    resp = src.post(f"{_jobs(sp)}/{job_id}/provisionOnDemand", {"parameters": [
        {"ruleId": rule_id, "subjects": [{"objectId": user_id(2), "objectTypeName": "User"}]}]})
    assert _code(resp) == "ExternalTenantNotFound"


def test_sample_tenants_have_the_demo_pairs_portal_steps_done(sim):
    fabrikam = sim.tenant("fabrikamfederal.us")
    assert fabrikam.cross_tenant.accepts_cross_cloud_sync_from("microsoftonline.com")
    names = [sp["displayName"] for sp in fabrikam.enterprise_apps.service_principals.values()]
    assert names == ["Cross-cloud synchronization (Microsoft Azure Commercial)"]
    contoso = sim.tenant("contoso.com")
    configs = [sp for sp in contoso.enterprise_apps.service_principals.values()]
    assert [sp["displayName"] for sp in configs] == ["Fabrikam Federal"]
    assert configs[0]["id"] in contoso.enterprise_apps.cross_cloud_configurations
    for other in ("litwareinc.com", "tailspindefense.com", "wingtiptoys.cn"):
        assert sim.tenant(other).enterprise_apps.service_principals == {}
