"""Reading a sync job for the entra-engine planner: provisioning-log links, and the live reader's calls."""

from __future__ import annotations

import json
from pathlib import Path

from requests.structures import CaseInsensitiveDict

from toolkit.graph.client import GraphResponse
from toolkit.plan.entra_job import links_from_provisioning, read_job
from toolkit.xts.calls import TenantSide

SCHEMA = json.loads((Path(__file__).parent / "fixtures" / "entra-schema" / "azure2azure-default.json")
                    .read_text(encoding="utf-8"))


def record(at: str, action: str, sid: str, tid: str, status: str = "success") -> dict:
    return {"activityDateTime": at, "provisioningAction": action,
            "provisioningStatusInfo": {"status": status, "errorInformation": None},
            "sourceIdentity": {"id": sid}, "targetIdentity": {"id": tid}}


def test_links_follow_the_latest_successful_action():
    links = links_from_provisioning([
        record("2026-11-01T00:00:00Z", "create", "s1", "t1"),
        record("2026-11-02T00:00:00Z", "delete", "s1", "t1"),          # soft-deleted: link ended
        record("2026-11-01T00:00:00Z", "create", "s2", "t2"),
        record("2026-11-03T00:00:00Z", "update", "s2", "t2"),
        record("2026-11-03T00:00:00Z", "create", "s3", "t3", status="failure"),
        record("2026-11-03T00:00:00Z", "create", "s4", ""),             # no target: nothing to link
    ])
    assert links.to_dict("records") == [{"sourceId": "s2", "targetId": "t2"}]


class FakeGraph:
    """Answers the documented reads of a configured job (paths relative to /v1.0)."""

    def __init__(self):
        self.paths: list[tuple[str, dict | None]] = []
        sp = "sp-1"
        self.routes = {
            "/servicePrincipals": {"value": [{"id": sp, "displayName": "Contoso to Fabrikam",
                                              "applicationTemplateId": "518e5f48-1fc8-4c48-9387-9fdf28b0dfe7"}]},
            f"/servicePrincipals/{sp}/synchronization/jobs": {"value": [
                {"id": "Azure2Azure.abc", "templateId": "Azure2Azure"}]},
            f"/servicePrincipals/{sp}/synchronization/jobs/Azure2Azure.abc/schema": SCHEMA,
            f"/servicePrincipals/{sp}/synchronization/secrets": {"value": [
                {"key": "CompanyId", "value": "*"}, {"key": "SyncAll", "value": "false"},
                {"key": "SyncNotificationSettings",
                 "value": json.dumps({"Enabled": False, "DeleteThresholdEnabled": True, "DeleteThresholdValue": 7})}]},
            f"/servicePrincipals/{sp}/appRoleAssignedTo": {"value": [
                {"principalId": "g1", "principalType": "Group"}, {"principalId": "u9", "principalType": "User"}]},
            "/auditLogs/provisioning": {"value": [record("2026-11-01T00:00:00Z", "create", "s1", "t1")]},
        }

    def request(self, method, path, params=None, **_):
        self.paths.append((path, params))
        return GraphResponse(200, CaseInsensitiveDict(), self.routes[path])


def test_read_job_reads_schema_scope_settings_and_links():
    graph = FakeGraph()
    snap = read_job(TenantSide("source", graph, tenant_id="contoso", cloud="commercial"))
    assert snap.schema["version"] == "v1.2"
    job = snap.job
    assert (job.job_id, job.service_principal_id) == ("Azure2Azure.abc", "sp-1")
    assert job.assigned_groups == ("g1",) and job.assigned_users == ("u9",)
    assert job.deletion_threshold == 7 and not job.sync_all
    assert "CompanyId" not in job.secrets                     # only what changes behaviour is kept
    assert job.links.to_dict("records") == [{"sourceId": "s1", "targetId": "t1"}]
    logs = [p for p in graph.paths if p[0] == "/auditLogs/provisioning"]
    assert logs[0][1]["$filter"] == "servicePrincipal/id eq 'sp-1'"
