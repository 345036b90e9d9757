"""Applying an entra-engine plan through the job: stale checks, journaled scope changes, start, verify."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from requests.structures import CaseInsensitiveDict

from toolkit.apply.entra import apply_entra_plan
from toolkit.apply.entra_verify import verify_cycle
from toolkit.errors import InputError, graph_error_for_status
from toolkit.graph.client import GraphResponse
from toolkit.plan.entra_job import JobState
from toolkit.plan.entra_predict import predict_cycle
from toolkit.plan.entra_scope import plan_scope_changes
from toolkit.plan.rules import parse_scope
from toolkit.xts.calls import TenantSide

from plan_helpers import SOURCE_TID, member, target_tenant, tenant

SCHEMA = json.loads((Path(__file__).parent / "fixtures" / "entra-schema" / "azure2azure-default.json")
                    .read_text(encoding="utf-8"))
SP = "sp-1"
JOB = "Azure2Azure.abc"


def rec(action, sid, tid=None, status="success", code=None, modified=()):
    return {"activityDateTime": "2026-11-30T05:00:00Z", "provisioningAction": action,
            "provisioningStatusInfo": {"status": status,
                                       "errorInformation": {"errorCode": code, "reason": "x"} if code else None},
            "sourceIdentity": {"id": sid}, "targetIdentity": {"id": tid} if tid else {},
            "modifiedProperties": [{"displayName": k, "oldValue": None, "newValue": v} for k, v in modified]}


class FakeTenant:
    """The source tenant's Graph, holding the job's state; ``cycle`` is what its (scripted) cycle logs."""

    def __init__(self, members: set[str], cycle: list[dict]):
        self.members, self.cycle, self.logs = set(members), cycle, []
        self.assigned = [{"id": "asg-1", "principalId": "g1", "principalType": "Group"}]
        self.ended, self.sent, self.fail_next = None, [], None

    def request(self, method, path, params=None, json=None, **_):
        self.sent.append((method, path))
        body: object = None
        if self.fail_next and (method, path) == self.fail_next[:2]:
            status, message = self.fail_next[2:]
            self.fail_next = None
            raise graph_error_for_status(status, method=method, url=path, code="Request_BadRequest", message=message)
        if method == "GET" and path == "/servicePrincipals":
            body = {"value": [{"id": SP, "displayName": "Contoso", "appRoles": [{"id": "role-1",
                                                                                "displayName": "msiam_access"}],
                               "applicationTemplateId": "518e5f48-1fc8-4c48-9387-9fdf28b0dfe7"}]}
        elif path == f"/servicePrincipals/{SP}/synchronization/jobs":
            body = {"value": [{"id": JOB, "templateId": "Azure2Azure"}]}
        elif path.endswith("/schema"):
            body = SCHEMA
        elif path.endswith("/secrets"):
            body = {"value": [{"key": "SyncAll", "value": "false"}]}
        elif path == f"/servicePrincipals/{SP}/appRoleAssignedTo":
            body = {"value": self.assigned}
        elif method == "POST" and path == "/groups/g1/members/$ref":
            uid = json["@odata.id"].rsplit("/", 1)[-1]
            if uid in self.members:
                raise graph_error_for_status(400, method=method, url=path, code="Request_BadRequest",
                                            message="One or more added object references already exist for "
                                                          "the following modified properties: 'members'.")
            self.members.add(uid)
        elif method == "DELETE" and path.startswith("/groups/g1/members/"):
            uid = path.split("/")[4]
            if uid not in self.members:
                raise graph_error_for_status(404, method=method, url=path, code="Request_ResourceNotFound",
                                            message="not found")
            self.members.discard(uid)
        elif method == "POST" and path.endswith("/start"):
            self.logs, self.ended = list(self.cycle), "2026-11-30T05:01:00Z"
        elif method == "GET" and path == f"/servicePrincipals/{SP}/synchronization/jobs/{JOB}":
            body = {"id": JOB, "status": {"lastExecution": {"timeEnded": self.ended}}}
        elif path == "/auditLogs/provisioning":
            body = {"value": self.logs}
        else:
            raise AssertionError(f"unexpected {method} {path}")
        return GraphResponse(200 if body is not None else 204, CaseInsensitiveDict(), body)


def make_plan():
    users = [member(1), member(2, department="HR"), member(3)]
    src = tenant(users, groups=[("g1", "CCS-Sync-Scope", "src-0001"), ("g1", "CCS-Sync-Scope", "src-0002")])
    before = JobState(job_id=JOB, service_principal_id=SP, assigned_groups=("g1",),
                      secrets={"SyncAll": "false"}, links=pd.DataFrame(columns=["sourceId", "targetId"]))
    sc = plan_scope_changes(src, before, parse_scope('filter S\n    department EQUALS "Sales"\n', "s.txt"))
    pred = predict_cycle(SCHEMA, sc.source_after, target_tenant([]), sc.job_after)
    pred.plan.header["scopeChanges"] = sc.to_list()
    pred.plan.header["jobBefore"] = before.to_dict()
    return pred.plan


def side(graph):
    return TenantSide("source", graph, tenant_id=SOURCE_TID, cloud="commercial")


def test_apply_changes_scope_once_starts_the_job_and_verifies(tmp_path):
    plan = make_plan()
    assert sorted(plan.ops["kind"]) == ["create", "create"]                 # users 1 and 3
    graph = FakeTenant({"src-0001", "src-0002"}, [rec("create", "src-0001", "t1"), rec("create", "src-0003", "t3")])
    result = apply_entra_plan(plan, side(graph), journal_path=tmp_path / "j.sqlite", sleep=lambda s: None,
                              clock=lambda: "2026-11-30T05:00:00Z")
    assert graph.members == {"src-0001", "src-0003"}
    assert list(result.scope_changes["state"]) == ["done", "done"]
    assert result.run == "start" and result.mismatches == 0
    assert set(result.verification["observed"]) == {"create"}
    # a second run: nothing is sent again, the job is not started twice
    writes = [s for s in graph.sent if s[0] in ("POST", "DELETE")]
    again = apply_entra_plan(plan, side(graph), journal_path=tmp_path / "j.sqlite", sleep=lambda s: None,
                             clock=lambda: "2026-11-30T05:00:00Z")
    assert [s for s in graph.sent if s[0] in ("POST", "DELETE")] == writes
    assert again.mismatches == 0


def test_a_mismatch_is_reported(tmp_path):
    plan = make_plan()
    graph = FakeTenant({"src-0001", "src-0002"}, [
        rec("create", "src-0001", "t1"),
        rec("create", "src-0003", None, status="failure", code="InvitationCreationFailureAmbiguousUser")])
    result = apply_entra_plan(plan, side(graph), journal_path=tmp_path / "j.sqlite", sleep=lambda s: None,
                              clock=lambda: "2026-11-30T05:00:00Z")
    assert result.mismatches == 1
    bad = result.verification[~result.verification["match"]].iloc[0]
    assert bad["sourceId"] == "src-0003" and "InvitationCreationFailureAmbiguousUser" in bad["detail"]
    assert result.to_dict()["mismatches"] == 1


def test_a_resend_after_a_crash_counts_already_done_as_done(tmp_path):
    plan = make_plan()
    graph = FakeTenant({"src-0001", "src-0003"}, [])      # user 3 was added before the crash, 2 not yet removed
    result = apply_entra_plan(plan, side(graph), journal_path=tmp_path / "j.sqlite", wait=False,
                              clock=lambda: "2026-11-30T05:00:00Z")
    assert list(result.scope_changes["state"]) == ["done", "done"]
    assert result.scope_changes.iloc[0]["message"] == "already in place"


def test_stale_plans_are_refused_before_any_write(tmp_path):
    plan = make_plan()
    graph = FakeTenant({"src-0001", "src-0002"}, [])
    graph.assigned = graph.assigned + [{"id": "asg-2", "principalId": "g9", "principalType": "Group"}]
    with pytest.raises(InputError, match="assigned groups or users changed"):
        apply_entra_plan(plan, side(graph), journal_path=tmp_path / "j.sqlite")
    assert not [s for s in graph.sent if s[0] != "GET"]
    plan.header["schema"]["sha256"] = "0" * 64
    with pytest.raises(InputError, match="schema changed"):
        apply_entra_plan(plan, side(FakeTenant(set(), [])), journal_path=tmp_path / "k.sqlite")


def test_verify_rules_for_held_deletes_disables_and_skips():
    users = [member(i) for i in range(1, 4)] + [member(4, accountEnabled=False),
                                                member(5, userType="Guest", creationType="Invitation")]
    src = tenant(users, groups=[("g1", "G", "src-0004"), ("g1", "G", "src-0005")])
    links = pd.DataFrame({"sourceId": ["src-0001", "src-0002", "src-0003", "src-0004"],
                          "targetId": ["t1", "t2", "t3", "t4"]})
    tgt = target_tenant([{"id": f"t{i}", "userPrincipalName": f"user{i}_contoso.com#EXT#@f.onmicrosoft.com",
                          "mail": f"user{i}@contoso.com", "accountEnabled": True, "userType": "Member",
                          "creationType": "Invitation", "displayName": f"User {i}"} for i in range(1, 5)])

    def plan_with(threshold):
        job = JobState(job_id=JOB, assigned_groups=("g1",), links=links, secrets={
            "SyncNotificationSettings": json.dumps({"DeleteThresholdEnabled": True,
                                                    "DeleteThresholdValue": threshold})})
        return predict_cycle(SCHEMA, src, tgt, job).plan

    plan = plan_with(10)
    kinds = dict(zip(plan.ops["sourceId"], plan.ops["kind"]))
    assert (kinds["src-0001"], kinds["src-0004"], kinds["src-0005"]) == ("delete", "disable", "skip")
    records = [rec("delete", "src-0001", "t1"), rec("update", "src-0004", "t4", modified=[("accountEnabled", "False")])]
    out = verify_cycle(plan, records).set_index("sourceId")
    assert out.loc["src-0001", "match"] and out.loc["src-0004", "match"]   # a disable logged as an update
    assert out.loc["src-0005", "match"]                                      # a skip with no record
    assert not out.loc["src-0002", "match"]                                  # planned delete, nothing happened
    held = plan_with(2)
    assert bool(held.ops.loc[held.ops["kind"].isin(["delete", "disable"]), "held"].all())
    out = verify_cycle(held, [rec("stageddelete", "src-0001", "t1", status="skipped")]).set_index("sourceId")
    assert out.loc["src-0001", "match"] and out.loc["src-0002", "match"] and out.loc["src-0004", "match"]
    out = verify_cycle(held, [rec("delete", "src-0001", "t1")]).set_index("sourceId")
    assert not out.loc["src-0001", "match"]                                  # a held delete went through


def test_results_workbook_shows_planned_vs_observed(tmp_path):
    import openpyxl

    from toolkit.report.entra_plan import write_entra_results_workbook

    plan = make_plan()
    graph = FakeTenant({"src-0001", "src-0002"}, [rec("create", "src-0001", "t1"),
                                                  rec("create", "src-0003", None, status="failure", code="X")])
    result = apply_entra_plan(plan, side(graph), journal_path=tmp_path / "j.sqlite", sleep=lambda s: None,
                              clock=lambda: "2026-11-30T05:00:00Z")
    path = write_entra_results_workbook(tmp_path / "r.xlsx", plan, result)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Summary", "Mismatches", "Planned vs observed", "Scope changes"]
    rows = list(wb["Mismatches"].iter_rows(min_row=2, values_only=True))
    assert len(rows) == 1 and rows[0][0] == "user3@contoso.com" and rows[0][2] == "failure"


def test_an_unfinished_run_continues_only_with_resume(tmp_path):
    # As the direct engine: a journal an earlier run left unfinished is refused without --resume, continued with it.
    plan = make_plan()
    graph = FakeTenant({"src-0001", "src-0002"}, [rec("create", "src-0001", "t1"), rec("create", "src-0003", "t3")])
    graph.fail_next = ("POST", "/groups/g1/members/$ref", 400, "Insufficient privileges to complete the operation.")
    journal = tmp_path / "j.sqlite"
    first = apply_entra_plan(plan, side(graph), journal_path=journal, sleep=lambda s: None,
                             clock=lambda: "2026-11-30T05:00:00Z")
    assert first.failed_changes == 1 and first.run == "none"
    assert not [s for s in graph.sent if s[1].endswith("/start")]
    sent = list(graph.sent)
    with pytest.raises(InputError, match="interrupted") as refused:
        apply_entra_plan(plan, side(graph), journal_path=journal, sleep=lambda s: None,
                         clock=lambda: "2026-11-30T05:00:00Z")
    assert "--resume" in (refused.value.hint or "") and str(journal) in str(refused.value)
    assert graph.sent == sent                                   # refused before reading or writing anything
    resumed = apply_entra_plan(plan, side(graph), journal_path=journal, resume=True, sleep=lambda s: None,
                               clock=lambda: "2026-11-30T05:00:00Z")
    assert list(resumed.scope_changes["state"]) == ["done", "done"] and graph.members == {"src-0001", "src-0003"}
    assert resumed.run == "start" and resumed.mismatches == 0
    # finished now: a further run needs no --resume and writes nothing
    writes = [s for s in graph.sent if s[0] in ("POST", "DELETE")]
    apply_entra_plan(plan, side(graph), journal_path=journal, sleep=lambda s: None,
                     clock=lambda: "2026-11-30T05:00:00Z")
    assert [s for s in graph.sent if s[0] in ("POST", "DELETE")] == writes
