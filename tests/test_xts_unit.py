"""toolkit.xts without a simulator: what-if call lists, differences, masking, and diagnosis of documented payloads.

The documented payloads come from tests/fixtures/xts/ (sources in its SOURCES.md). A small fake client answers
GETs from a dict and records writes, so the planner's reads and calls can be checked exactly.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from toolkit.errors import CloudError, ConfigurationConflict, GraphNotFound, InputError, MissingPermissionError
from toolkit.graph.client import GraphResponse
from toolkit.xts import EnableOptions, TenantSide, diagnose, job_status, mask_body, plan_enable
from toolkit.xts.enable import check_sides
from toolkit.xts.job import parse_on_demand, provision_frame, ProvisionResult, restart_call, secrets_body
from toolkit.xts.permissions import missing_permissions
from toolkit.xts.steps import TEMPLATE_ID, manual_steps

FIX = Path(__file__).parent / "fixtures" / "xts"
SRC, TGT = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"
GROUP = "33333333-3333-4333-8333-333333333333"
ALL_ROLES = ["Policy.ReadWrite.CrossTenantAccess", "Application.ReadWrite.All", "Synchronization.ReadWrite.All",
             "AppRoleAssignment.ReadWrite.All", "Group.ReadWrite.All"]


def fixture(name: str) -> Any:
    return json.loads((FIX / name).read_text())


class FakeClient:
    """GETs answered from ``pages`` (path -> body; missing -> 404); every other call recorded and answered 204."""

    def __init__(self, pages: dict[str, Any]):
        self.pages, self.writes = pages, []

    def request(self, method: str, path: str, *, params: Any = None, json: Any = None, **_: Any) -> GraphResponse:
        if method == "GET":
            key = path + ("?" + "&".join(f"{k}={v}" for k, v in sorted(params.items())) if params else "")
            for candidate in (key, path):
                if candidate in self.pages:
                    return GraphResponse(200, {}, self.pages[candidate])
            raise GraphNotFound(method=method, url=path, status=404, code="Request_ResourceNotFound")
        self.writes.append((method, path, json))
        return GraphResponse(204, {}, None)


def side(role: str, tenant: str, cloud: str, pages: dict[str, Any], roles: list[str] | None = None) -> TenantSide:
    return TenantSide(role, FakeClient(pages), tenant_id=tenant, cloud=cloud, name=role,
                      roles=ALL_ROLES if roles is None else roles)


def empty_source(**extra: Any) -> dict[str, Any]:
    pages = {"/policies/crossTenantAccessPolicy": {"allowedCloudEndpoints": []},
             "/servicePrincipals": {"value": []},
             "/groups": {"value": [{"id": GROUP, "displayName": "CCS-Sync-Scope"}]}}
    pages.update(extra)
    return pages


def test_what_if_on_empty_tenants_lists_every_documented_write_in_order() -> None:
    source = side("source", SRC, "commercial", empty_source())
    target = side("target", TGT, "gcch", {"/policies/crossTenantAccessPolicy": fixture("ctap-get.json")})
    plan = plan_enable(source, target, EnableOptions(groups=["CCS-Sync-Scope"]))
    steps = [c.step for c in plan.writes]
    assert steps == ["target.cloudSettings", "target.partner", "target.inboundSync", "target.inboundRedemption",
                     "source.cloudSettings", "source.partner", "source.outboundRedemption",
                     "source.job", "source.secrets", "source.assignments", "source.start"]
    # Cross-cloud: Graph cannot create the configuration with its cross-cloud box, so the plan asks the admin
    # to create it in the portal and then looks it up by name (a read, not an instantiate).
    kinds = [getattr(a, "step", None) or a.key for a in plan.actions]
    adopt = plan.actions[kinds.index("source.configuration")]
    assert (adopt.method, adopt.write) == ("GET", False)
    assert kinds.index("source.crossCloudCheckbox") == kinds.index("source.configuration") - 1
    bodies = {c.step: c.body for c in plan.writes}
    # PATCH replaces the list: the target keeps its documented example values and adds the source's cloud.
    assert bodies["target.cloudSettings"] == {"allowedCloudEndpoints": ["microsoftonline.us", "partner.microsoftonline.cn",
                                                                        "microsoftonline.com"]}
    assert bodies["source.cloudSettings"] == {"allowedCloudEndpoints": ["microsoftonline.us"]}
    assert bodies["target.partner"] == {"tenantId": SRC}
    assert bodies["target.inboundSync"]["userSyncInbound"] == {"isSyncAllowed": True}
    assert bodies["target.inboundRedemption"] == {"inboundTrust": None,
                                                  "automaticUserConsentSettings": {"inboundAllowed": True}}
    assert bodies["source.outboundRedemption"] == {"automaticUserConsentSettings": {"outboundAllowed": True}}
    assert bodies["source.job"] == {"templateId": "Azure2Azure"}
    assert bodies["source.assignments"] == {"appRoleId": "{appRoleId}", "resourceId": "{servicePrincipalId}",
                                            "principalId": GROUP}
    secrets = {i["key"]: i["value"] for i in bodies["source.secrets"]["value"]}
    assert secrets["CompanyId"] == TGT and secrets["SyncAll"] == "false"
    assert json.loads(secrets["SyncNotificationSettings"])["DeleteThresholdValue"] == 500
    # The test connection comes after the configuration and before the job, and is not a write.
    assert kinds.index("source.testConnection") == kinds.index("source.job") - 1
    assert [m.step.key for m in plan.manual] == ["target.crossCloudSyncCheckbox", "source.crossCloudCheckbox"]
    assert all(m.status == "not verified" for m in plan.manual)
    assert source.client.writes == [] and target.client.writes == []   # planning writes nothing
    frame = plan.calls_frame()
    assert list(frame.columns)[:6] == ["tenant", "tenantId", "cloud", "step", "method", "path"]
    assert set(frame[frame["tenant"] == "target"]["cloud"]) == {"gcch"}


def test_planned_steps_follow_the_documented_order_of_steps_py() -> None:
    from toolkit.xts.steps import STEP_BY_KEY, STEPS

    source = side("source", SRC, "commercial", empty_source())
    plan = plan_enable(source, side("target", TGT, "gcch", {"/policies/crossTenantAccessPolicy": {}}),
                       EnableOptions(groups=["CCS-Sync-Scope"]))
    keys = [getattr(a, "step", None) or a.key for a in plan.actions]
    assert set(keys) <= set(STEP_BY_KEY)
    order = [s.key for s in STEPS]
    assert [order.index(k) for k in keys] == sorted(order.index(k) for k in keys)
    assert {c.permission for c in plan.writes} <= {s.permission for s in STEPS}
    reads = plan.to_dict()["reads"]
    assert {"GET"} == {r["method"] for r in reads} and any(r["path"] == "/groups" for r in reads)


def test_same_cloud_pair_has_no_cloud_settings_and_no_manual_steps() -> None:
    source = side("source", SRC, "commercial", empty_source())
    target = side("target", TGT, "gcc", {})
    plan = plan_enable(source, target, EnableOptions(groups=["CCS-Sync-Scope"]))
    assert "target.cloudSettings" not in [c.step for c in plan.writes] and plan.manual == []
    instantiate = next(c for c in plan.writes if c.step == "source.configuration")
    assert (instantiate.method, instantiate.path) == ("POST", f"/applicationTemplates/{TEMPLATE_ID}/instantiate")
    assert instantiate.body == {"displayName": f"ccsync to {TGT}"}   # no display name known for the target


def test_partner_configured_differently_is_a_diff_refused_without_force() -> None:
    partner = fixture("ctap-partner-get.json") | {"tenantId": SRC,
                                                  "automaticUserConsentSettings": {"inboundAllowed": False,
                                                                                   "outboundAllowed": None}}
    pages = {"/policies/crossTenantAccessPolicy": {"allowedCloudEndpoints": ["microsoftonline.com"]},
             f"/policies/crossTenantAccessPolicy/partners/{SRC}": partner,
             f"/policies/crossTenantAccessPolicy/partners/{SRC}/identitySynchronization":
                 {"tenantId": SRC, "displayName": "x", "userSyncInbound": {"isSyncAllowed": False}}}
    source = side("source", SRC, "commercial", empty_source())
    with pytest.raises(ConfigurationConflict) as info:
        plan_enable(source, side("target", TGT, "gcch", pages), EnableOptions(groups=["CCS-Sync-Scope"]))
    fields = {d["field"]: (d["current"], d["wanted"]) for d in info.value.differences}
    assert fields == {"userSyncInbound.isSyncAllowed": (False, True),
                      "automaticUserConsentSettings.inboundAllowed": (False, True)}
    assert "isSyncAllowed: False -> True" in info.value.message
    forced = plan_enable(side("source", SRC, "commercial", empty_source()), side("target", TGT, "gcch", pages),
                         EnableOptions(groups=["CCS-Sync-Scope"], force=True))
    patch = next(c for c in forced.writes if c.step == "target.inboundSync")
    assert patch.method == "PATCH" and patch.body == {"userSyncInbound": {"isSyncAllowed": True}}
    # An inbound trust on the existing partner (here null) is only sent as null when it was null already.
    redemption = next(c for c in forced.writes if c.step == "target.inboundRedemption")
    assert redemption.body["automaticUserConsentSettings"] == {"inboundAllowed": True}


def test_group_names_matching_nothing_or_several_are_refused() -> None:
    for groups, expected in (([], "no group named 'Nope'"),
                             ([{"id": "a", "displayName": "Nope"}, {"id": "b", "displayName": "Nope"}],
                              "2 groups are named 'Nope'")):
        source = side("source", SRC, "commercial", empty_source(**{"/groups": {"value": groups}}))
        with pytest.raises(InputError, match=expected):
            plan_enable(source, side("target", TGT, "gcc", {}), EnableOptions(groups=["Nope"]))


def test_unsupported_pair_and_missing_permission_are_refused_before_any_call() -> None:
    source = side("source", SRC, "gcch", {})
    with pytest.raises(CloudError, match="commercial -> gcch"):
        check_sides("enable", source, side("target", TGT, "china", {}))
    poor = side("source", SRC, "commercial", {}, roles=["Policy.ReadWrite.CrossTenantAccess"])
    with pytest.raises(MissingPermissionError) as info:
        check_sides("enable", poor, side("target", TGT, "gcch", {}))
    assert info.value.permission == "Application.ReadWrite.All"
    assert source.calls == [] and poor.calls == []
    assert missing_permissions("status", "source", ["Directory.ReadWrite.All", "Synchronization.ReadWrite.All"]) == []


def test_secret_values_are_masked_but_ids_and_settings_shown() -> None:
    body = secrets_body(TGT, 10, "ops@contoso.com")
    body["value"].append({"key": "SecretToken", "value": "s3cr3t"})
    masked = mask_body(body)
    values = {i["key"]: i["value"] for i in masked["value"]}
    assert values["SecretToken"] == "***" and values["CompanyId"] == TGT
    assert body["value"][-1]["value"] == "s3cr3t"   # the original is untouched
    assert mask_body({"passwordCredentials": [{"secretText": "x"}]}) == {"passwordCredentials": [{"secretText": "***"}]}


def test_documented_job_after_start_is_healthy_and_not_failing() -> None:
    status = job_status(fixture("cts-syncjob-get.json"))
    assert status.state == "Active" and status.code == "NotRun"
    assert not status.failing and status.diagnoses == []


def test_status_frame_has_one_row_per_job_with_the_declared_columns() -> None:
    from toolkit.xts.status import STATUS_COLUMNS, status_frame

    frame = status_frame([job_status(fixture("cts-syncjob-get.json"), configuration="A"),
                          job_status(fixture("syncjob-get.json"), configuration="B")])
    assert list(frame.columns) == STATUS_COLUMNS
    assert list(frame["failing"]) == [False, True] and list(frame["state"]) == ["Active", "Disabled"]


def test_documented_new_job_is_diagnosed_as_not_started() -> None:
    codes = [d.code for d in diagnose(fixture("cts-syncjob-post.json"))]
    assert codes == ["NotStarted"]


def test_documented_quarantined_job_is_failing_with_its_error() -> None:
    status = job_status(fixture("syncjob-get.json"))
    assert status.quarantined and status.failing
    assert any("SalesforceInvalidCredentials" in d.message for d in status.diagnoses)


def _quarantined(reason: str, code: str = "None", message: str = "") -> dict[str, Any]:
    job = fixture("cts-syncjob-get.json")
    job["status"]["code"] = "Quarantine"
    job["status"]["quarantine"] = {"currentBegan": "2026-11-30T04:00:00Z", "nextAttempt": "2026-11-30T16:00:00Z",
                                   "reason": reason, "seriesBegan": "2026-11-30T04:00:00Z", "seriesCount": 1,
                                   "error": {"code": code, "message": message, "tenantActionable": True}}
    return job


@pytest.mark.parametrize("reason,code,message,expected,fix", [
    ("TooManyDeletes", "None", "", "TooManyDeletes", "--force-deletes"),
    ("EncounteredBaseEscrowThreshold", "None", "", "EncounteredBaseEscrowThreshold", "clears escrows"),
    ("EncounteredQuarantineException", "ExternalTenantNotFound", "tenant not found", "ExternalTenantNotFound",
     "across Microsoft clouds"),
    ("EncounteredQuarantineException", "AzureActiveDirectoryTokenExpired", "", "AzureActiveDirectoryTokenExpired",
     "Cross-cloud synchronization"),
    ("EncounteredQuarantineException", "Microsoft Entra IDCrossTenantSyncPolicyCheckFailure",
     "The target tenant has not enabled inbound synchronization with this tenant",
     "AzureActiveDirectoryCrossTenantSyncPolicyCheckFailure", "ccsync xts enable"),
])
def test_documented_failures_are_diagnosed_with_their_fix(reason: str, code: str, message: str, expected: str,
                                                          fix: str) -> None:
    status = job_status(_quarantined(reason, code, message))
    assert status.failing
    diag = next(d for d in status.diagnoses if d.code == expected)
    assert fix in diag.fix
    if "inbound synchronization" in message:
        assert "target side is not configured" in diag.message


def test_documented_on_demand_answer_is_parsed_into_steps() -> None:
    result, steps, code = parse_on_demand(fixture("cts-provision-on-demand.json"))
    assert result == "Success" and code is None
    assert steps == [{"name": "EntryImport", "type": "Import", "status": "Success",
                      "description": "Retrieved User 'user1@fabrikam.com' from Azure Active Directory"}]
    frame = provision_frame([ProvisionResult("user1@fabrikam.com", "id1", result, steps)])
    assert frame.loc[0, "step"] == "EntryImport"


def test_restart_scopes_are_the_documented_values() -> None:
    s = side("source", SRC, "commercial", {})
    assert restart_call(s, "sp", "job").body == {"criteria": {"resetScope": "Watermark, Escrows, QuarantineState"}}
    assert restart_call(s, "sp", "job", force_deletes=True).body == {"criteria": {"resetScope": "ForceDeletes"}}
    assert restart_call(s, "sp", "job", full=True).body == {"criteria": {"resetScope": "Full"}}
    assert restart_call(s, "sp", "job").path == "/servicePrincipals/sp/synchronization/jobs/job/restart"


def test_manual_steps_name_each_clouds_portal() -> None:
    steps = manual_steps("commercial", "gcch", configuration="Contoso to Fabrikam")
    assert [s.tenant for s in steps] == ["target", "source"]
    assert "entra.microsoft.us" in steps[0].instructions and "Microsoft Azure Commercial" in steps[0].instructions
    assert "'Contoso to Fabrikam'" in steps[1].instructions
    assert manual_steps("commercial", "gcc") == []


def test_secrets_are_compared_by_meaning_not_by_text() -> None:
    from toolkit.xts.job import plan_secrets

    s = side("source", SRC, "commercial", {})
    wanted = secrets_body(TGT, 0, None)
    same = {"AuthenticationType": "SyncPolicy", "CompanyId": TGT.upper(), "SyncAll": "False",
            "SyncNotificationSettings": '{"Enabled": false, "DeleteThresholdEnabled": false}'}
    assert plan_secrets(s, same, wanted, job_is_new=False) == ([], False)
    other = {**same, "SyncNotificationSettings": '{"DeleteThresholdEnabled": true, "DeleteThresholdValue": 500}'}
    calls, _ = plan_secrets(s, other, wanted, job_is_new=False)
    assert [c.method for c in calls] == ["PUT"]
    # Graph does not show them: rewritten only for a new job (else said, and left alone).
    assert plan_secrets(s, None, wanted, job_is_new=False) == ([], True)
