"""The simulated /auditLogs routes against Microsoft's documented behaviour (docs/logs.md): shapes, $filter
subset, ordering, paging, permissions and the reports throttling limit."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

import pytest

from toolkit.simulator import SimConfig, Simulator
from toolkit.simulator.auditlogs import dense_provisioning_log
from toolkit.simulator.throttling import ThrottleConfig

from conftest import SEED_READER, graph_caller, make_seed

FIXTURES = Path(__file__).parent / "fixtures" / "logs"
T0 = dt.datetime(2026, 1, 10, tzinfo=dt.timezone.utc)


def _with_roles(roles: list[str]) -> dict:
    seed = make_seed()
    seed["apps"][0]["roles"] = seed["apps"][0]["roles"] + roles
    return seed


@pytest.fixture(scope="module")
def logsim():
    """A tenant whose app has AuditLog.Read.All and Directory.ReadWrite.All, reports limit off (tests that
    check the limit start their own)."""
    simulator = Simulator(SimConfig(seed_dir=None, seeds=[_with_roles(["AuditLog.Read.All"])],
                                    throttle=ThrottleConfig(enabled=False))).start()
    state = simulator.tenants()[0]
    records = dense_provisioning_log(30, tenant_id=state.tenant_id, start=T0, end=T0 + dt.timedelta(hours=3))
    example = json.loads((FIXTURES / "cts-provisioning-list.json").read_text())["value"][0]
    example = copy.deepcopy(example)
    example.update(id="cts-example", activityDateTime="2026-01-10T04:00:00Z", jobId="Azure2Azure.other")
    state.provisioning.extend(records + [example])
    try:
        yield simulator
    finally:
        simulator.stop()


def test_provisioning_list_is_graph_shaped_newest_first_and_pages(logsim):
    g = graph_caller(logsim, logsim.tenants()[0].tenant_id)
    resp = g.get("auditLogs/provisioning", params={"$top": "7"})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["@odata.context"].endswith("$metadata#auditLogs/provisioning")
    assert len(body["value"]) == 7 and "@odata.nextLink" in body
    stamps = [r["activityDateTime"] for r in body["value"]]
    assert stamps == sorted(stamps, reverse=True) and body["value"][0]["id"] == "cts-example"
    everything = g.all_items("auditLogs/provisioning", params={"$top": "7"})
    assert len(everything) == 31 and len({r["id"] for r in everything}) == 31
    assert set(everything[1]) >= {"provisioningSteps", "modifiedProperties", "provisioningStatusInfo",
                                  "servicePrincipal", "sourceIdentity", "targetIdentity", "initiatedBy"}


def test_provisioning_filters_the_documented_subset(logsim):
    g = graph_caller(logsim, logsim.tenants()[0].tenant_id)
    window = "activityDateTime gt 2026-01-10T01:00:00Z and activityDateTime lt 2026-01-10T02:00:00Z"
    got = g.all_items("auditLogs/provisioning", params={"$filter": window, "$orderby": "activityDateTime asc"})
    assert len(got) == 9            # one every 6 minutes; gt excludes the one at 01:00 exactly
    assert all("2026-01-10T01:00:00" < r["activityDateTime"] < "2026-01-10T02:00:00" for r in got)
    assert [r["activityDateTime"] for r in got] == sorted(r["activityDateTime"] for r in got)
    job = g.all_items("auditLogs/provisioning", params={"$filter": "jobId eq 'Azure2Azure.other'"})
    assert [r["id"] for r in job] == ["cts-example"]
    # case-sensitive (provisioningobjectsummary-list.md), tolower() as the how-to uses it
    assert g.all_items("auditLogs/provisioning", params={"$filter": "jobId eq 'azure2azure.other'"}) == []
    how_to = g.all_items("auditLogs/provisioning", params={
        "$filter": "(contains(tolower(servicePrincipal/displayName), 'fabrikam')) and "
                   "activityDateTime gt 2026-01-10T00:00:00Z", "$top": "500"})
    assert len(how_to) == 30         # all but the first, at 00:00 exactly
    # ge is documented for directory audits, not for provisioning
    bad = g.get("auditLogs/provisioning", params={"$filter": "activityDateTime ge 2026-01-10T00:00:00Z"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "Request_UnsupportedQuery"
    unknown = g.get("auditLogs/provisioning", params={"$filter": "colour eq 'red'"})
    assert unknown.status_code == 400


def test_directory_audits_list_filter_and_get(logsim):
    state = logsim.tenants()[0]
    g = graph_caller(logsim, state.tenant_id)
    created = g.post("users", json={"accountEnabled": True, "displayName": "Audit Me", "mailNickname": "auditme",
                                    "userPrincipalName": "auditme@fourthcoffee.com",
                                    "passwordProfile": {"password": "xWwvJ]6NMw+bWH-d"}})
    assert created.status_code == 201, created.text
    audits = g.all_items("auditLogs/directoryAudits", params={"$filter": "activityDisplayName eq 'Add user'"})
    assert audits and audits[0]["initiatedBy"]["app"]["displayName"] == "ccsync"
    assert audits[0]["targetResources"][0]["userPrincipalName"] == "auditme@fourthcoffee.com"
    one = g.get(f"auditLogs/directoryAudits/{audits[0]['id']}")
    assert one.status_code == 200 and one.json()["id"] == audits[0]["id"]
    assert g.get("auditLogs/directoryAudits/nope").status_code == 404
    since = g.all_items("auditLogs/directoryAudits", params={"$filter": "activityDateTime ge 2000-01-01T00:00:00Z"})
    assert len(since) == len(state.audit)
    assert g.get("auditLogs/directoryAudits", params={"$filter": "activityDateTime gt 2000-01-01T00:00:00Z"}
                 ).status_code == 400
    starts = g.all_items("auditLogs/directoryAudits", params={"$filter": "startswith(activityDisplayName, 'add')"})
    assert {a["id"] for a in starts} >= {audits[0]["id"]}


def test_permissions_need_auditlog_and_directory_read():
    seed = make_seed()
    seed["apps"][1]["roles"] = ["AuditLog.Read.All"]                 # no Directory.Read.All
    simulator = Simulator(SimConfig(seed_dir=None, seeds=[seed])).start()
    try:
        tenant = simulator.tenants()[0].tenant_id
        denied = graph_caller(simulator, tenant, SEED_READER).get("auditLogs/provisioning")
        assert denied.status_code == 403 and denied.json()["error"]["code"] == "Authorization_RequestDenied"
        no_audit = graph_caller(simulator, tenant).get("auditLogs/directoryAudits")    # ccsync app: no AuditLog
        assert no_audit.status_code == 403
    finally:
        simulator.stop()


def test_reports_limit_is_five_requests_per_ten_seconds():
    simulator = Simulator(SimConfig(seed_dir=None, seeds=[_with_roles(["AuditLog.Read.All"])])).start()
    try:
        g = graph_caller(simulator, simulator.tenants()[0].tenant_id)
        responses = [g.get("auditLogs/provisioning") for _ in range(8)]
        statuses = [r.status_code for r in responses]
        assert statuses[:5] == [200] * 5 and 429 in statuses[5:]          # the 6th within 10 s is refused
        throttled = next(r for r in responses if r.status_code == 429)
        assert float(throttled.headers["Retry-After"]) > 0
        assert throttled.json()["error"]["code"] == "TooManyRequests"
    finally:
        simulator.stop()
