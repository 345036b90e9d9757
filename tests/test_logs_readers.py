"""Reading provisioning and audit logs in every format an admin may have, and every kind of bad input:
nothing crashes, nothing is dropped without a count and a reason."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest

from toolkit.errors import InputError
from toolkit.logs import advice_for, flatten_audit, flatten_provisioning, normalize_code, parse_timestamp, read_logs

FIXTURES = Path(__file__).parent / "fixtures" / "logs"
UTC = dt.timezone.utc


def _value(name: str) -> list[dict]:
    return json.loads((FIXTURES / name).read_text())["value"]


PROV = _value("provisioning-list-1.json") + _value("provisioning-list-2.json")
AUDIT = _value("directoryaudit-list.json") + _value("directoryaudit-list-2.json")


def _ids(log) -> list[str]:
    return sorted(r["id"] for r in log.records)


# --- Graph JSON shapes ---------------------------------------------------------------------------------------

def test_graph_collection_bare_array_json_lines_and_pages_in_one_file(tmp_path):
    want = sorted(r["id"] for r in PROV)
    (tmp_path / "c.json").write_text(json.dumps({"@odata.context": "x", "value": PROV}))
    (tmp_path / "a.json").write_text(json.dumps(PROV))
    (tmp_path / "l.jsonl").write_text("\n".join(json.dumps(r) for r in PROV) + "\n")
    pages = [{"value": PROV[:1], "@odata.nextLink": "https://graph/next"}, {"value": PROV[1:]}]
    (tmp_path / "p.json").write_text("\n".join(json.dumps(p, indent=2) for p in pages))
    for name in ("c.json", "a.json", "l.jsonl", "p.json"):
        log = read_logs([tmp_path / name], "provisioning")
        assert _ids(log) == want and not log.skipped, name


def test_several_overlapping_files_keep_each_record_once(tmp_path):
    (tmp_path / "1.json").write_text(json.dumps({"value": PROV}))
    (tmp_path / "2.json").write_text(json.dumps({"value": PROV[1:]}))
    log = read_logs([tmp_path / "1.json", tmp_path / "2.json"], "provisioning")
    assert len(log.records) == 2 and log.duplicates == 1


def test_the_documented_examples_flatten_field_by_field():
    log = read_logs([FIXTURES / "provisioning-list-2.json", FIXTURES / "cts-provisioning-list.json"], "provisioning")
    frames = flatten_provisioning(log.records)
    ev = frames.events.set_index("id")
    fail = ev.loc["gc532ff9-r265-ec76-861e-42e2970a8218"]
    assert fail["status"] == "failure" and fail["errorCode"] == "ContosoEntryConflict"
    assert fail["errorCategory"] == "nonServiceFailure" and fail["sourceDisplayName"] == "Self-service Pilot"
    assert fail["activityDateTime"] == dt.datetime(2019, 6, 24, 20, 53, 8, tzinfo=UTC)
    cts = ev.loc["{id}"]
    assert cts["sourceUpn"] == "user4@fabrikam.com" and cts["targetSystem"] == "Azure Active Directory (target tenant)"
    assert cts["initiatorType"] == "system" and cts["steps"] == 2
    steps = frames.steps[frames.steps["id"] == "{id}"]
    assert list(steps["name"]) == ["EntryImportAdd", "EntrySynchronizationScoping"]
    assert json.loads(steps.iloc[1]["details"])["Scoping filter evaluation passed"] == "True"
    # initiatedBy with the doc's "initiatingType" typo is read too
    first = flatten_provisioning(read_logs([FIXTURES / "provisioning-list-1.json"], "provisioning").records)
    assert first.events.iloc[0]["initiatorType"] == "system"
    assert list(first.changes["property"])[:2] == ["appId", "Roles"]


def test_audit_examples_initiator_target_and_modified_properties():
    log = read_logs([FIXTURES / "directoryaudit-list.json", FIXTURES / "directoryaudit-get.json"], "audit")
    assert log.duplicates == 1                     # the get example is the same record as the list's
    frames = flatten_audit(log.records)
    row = frames.events.iloc[0]
    assert row["initiatedBy"] == "Audry Oliver" and row["initiatorUpn"] == "bob@wingtiptoysonline.com"
    assert row["targetType"] == "Group" and row["targets"] == 2 and row["modifiedProperties"] == 1
    assert frames.targets.iloc[0][["property", "newValue"]].tolist() == ["Action Client Name", "DirectorySync"]


def test_sync_fabric_and_ccsync_initiators_by_app_name():
    records = [dict(AUDIT[0], id="a1", initiatedBy={"user": None, "app": {
        "appId": "1b4f816e-5eaf-48b9-8613-7923830595ad", "displayName": "Microsoft.Azure.SyncFabric",
        "servicePrincipalId": "x", "servicePrincipalName": None}}),
        dict(AUDIT[0], id="a2", initiatedBy={"user": None, "app": {"appId": "c", "displayName": "ccsync"}})]
    from toolkit.logs.readers import read_records
    log = read_records((("t", f"record {i}", r) for i, r in enumerate(records)), "audit")
    ev = flatten_audit(log.records).events
    assert list(ev["initiatedBy"]) == ["Microsoft.Azure.SyncFabric", "ccsync"]
    assert set(ev["initiatorKind"]) == {"app"}


# --- portal downloads --------------------------------------------------------------------------------------

def _write_csv(path: Path, rows: list[dict], *, encoding: str = "utf-8", delimiter: str = ",") -> None:
    with open(path, "w", newline="", encoding=encoding) as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]), delimiter=delimiter)
        w.writeheader()
        w.writerows(rows)


def _portal_download(folder: Path, *, encoding: str = "utf-8", delimiter: str = ",") -> Path:
    main, steps, mods = [], [], []
    for r in PROV:
        err = (r["provisioningStatusInfo"].get("errorInformation") or {})
        main.append({"Date (UTC)": "6/24/2019 8:53:08 PM" if r["id"].startswith("gc5") else r["activityDateTime"],
                     "Id": r["id"], "Change ID": r["changeId"], "Cycle ID": r["cycleId"], "Job ID": r["jobId"],
                     "Action": r["provisioningAction"].capitalize(), "Status": r["provisioningStatusInfo"]["status"],
                     "Error Code": err.get("errorCode", ""), "Status Reason": err.get("reason", ""),
                     "Source Identity Name": r["sourceIdentity"]["displayName"] or "Zoë Ångström",
                     "Duration (ms)": r["durationInMilliseconds"]})
        for s in r["provisioningSteps"]:
            steps.append({"Change ID": r["changeId"], "Step Name": s["name"], "Step Type": s["provisioningStepType"],
                          "Status": s["status"], "Description": s["description"]})
        for m in r["modifiedProperties"]:
            mods.append({"Change ID": r["changeId"], "Name": m["displayName"], "Old Value": m["oldValue"] or "",
                         "New Value": m["newValue"] or ""})
    _write_csv(folder / "ProvisioningLogs_2026-01-02.csv", main, encoding=encoding, delimiter=delimiter)
    _write_csv(folder / "ProvisioningLogs_ProvisioningSteps_2026-01-02.csv", steps, encoding=encoding,
               delimiter=delimiter)
    _write_csv(folder / "ProvisioningLogs_ModifiedProperties_2026-01-02.csv", mods, encoding=encoding,
               delimiter=delimiter)
    return folder / "ProvisioningLogs_2026-01-02.csv"


def test_portal_three_csv_download_is_joined_by_change_id(tmp_path):
    main = _portal_download(tmp_path)
    log = read_logs(sorted(tmp_path.glob("*.csv")), "provisioning")
    assert _ids(log) == sorted(r["id"] for r in PROV) and not log.skipped and log.formats["portal-csv"] == 1
    frames = flatten_provisioning(log.records)
    assert len(frames.steps) == sum(len(r["provisioningSteps"]) for r in PROV)
    assert len(frames.changes) == sum(len(r["modifiedProperties"]) for r in PROV)
    ev = frames.events.set_index("id")
    assert ev.loc["gc532ff9-r265-ec76-861e-42e2970a8218", "provisioningAction"] == "create"   # "Create" -> Graph's
    assert ev.loc["gc532ff9-r265-ec76-861e-42e2970a8218", "activityDateTime"] == dt.datetime(2019, 6, 24, 20, 53, 8,
                                                                                              tzinfo=UTC)
    # the main file alone: the other two are found beside it
    assert _ids(read_logs([main], "provisioning")) == _ids(log)


def test_portal_csv_missing_a_file_names_it(tmp_path):
    main = _portal_download(tmp_path)
    (tmp_path / "ProvisioningLogs_ModifiedProperties_2026-01-02.csv").unlink()
    with pytest.raises(InputError) as err:
        read_logs([main], "provisioning")
    assert "ProvisioningLogs_ModifiedProperties" in err.value.message and "missing" in err.value.message


def test_csv_in_windows_1252_with_semicolons(tmp_path):
    _portal_download(tmp_path, encoding="cp1252", delimiter=";")
    log = read_logs(sorted(tmp_path.glob("*.csv")), "provisioning")
    assert len(log.records) == 2 and any("Windows-1252" in n for n in log.notes)
    names = set(flatten_provisioning(log.records).events["sourceDisplayName"])
    assert "Zoë Ångström" in names


# --- Azure Monitor and Log Analytics -----------------------------------------------------------------------

def test_azure_monitor_diagnostic_records_with_their_casing_and_numeric_enums(tmp_path):
    src = PROV[1]
    props = {"Id": src["id"], "ActivityDateTime": "2019-06-24T20:53:08.1234567Z", "JobId": src["jobId"],
             "CycleId": src["cycleId"], "ChangeId": src["changeId"], "Action": 1, "DurationMs": 2785,
             "ServicePrincipal": {"Id": "sp-1", "Name": "Fabrikam"},
             "SourceIdentity": {"Id": "u1", "Name": "Adele", "IdentityType": "User",
                                "Details": {"UserPrincipalName": "adele@contoso.com"}},
             "TargetIdentity": {"Id": "", "Name": "", "IdentityType": "User"},
             "InitiatedBy": {"Id": "", "Name": "Azure AD Provisioning Service", "InitiatorType": 2},
             "ProvisioningStatusInfo": {"Status": 1, "ErrorInformation": {
                 "ErrorCode": "Microsoft Entra IDForbidden", "Reason": "Guest invitations not allowed"}},
             "ProvisioningSteps": [{"Name": "EntryExportAdd", "ProvisioningStepType": 5, "Status": 1}],
             "ModifiedProperties": [], "BrandNewField": {"x": 1}}
    line = {"time": "2019-06-24T20:53:09.0000000Z", "category": "ProvisioningLogs", "operationName": "Provisioning",
            "resultType": "Failure", "resultSignature": "AzureActiveDirectoryForbidden", "durationMs": 2785,
            "tenantId": "t", "properties": props}
    (tmp_path / "PT1H.json").write_text(json.dumps(line) + "\n" + json.dumps({**line, "category": "AuditLogs",
                                                                              "properties": AUDIT[0]}) + "\n")
    log = read_logs([tmp_path / "PT1H.json"], "provisioning")
    assert len(log.records) == 1 and len(log.skipped) == 1 and "audit record" in log.skipped[0].reason
    ev = flatten_provisioning(log.records).events.iloc[0]
    assert (ev["provisioningAction"], ev["status"], ev["initiatorType"]) == ("create", "failure", "system")
    assert ev["servicePrincipalName"] == "Fabrikam" and ev["sourceUpn"] == "adele@contoso.com"
    assert ev["errorCode"] == "AzureActiveDirectoryForbidden" and "invitations" in ev["explanation"]
    assert ev["activityDateTime"] == dt.datetime(2019, 6, 24, 20, 53, 8, 123456, tzinfo=UTC)
    assert json.loads(ev["extra"]) == {"BrandNewField": {"x": 1}}                 # unknown fields are kept
    steps = flatten_provisioning(log.records).steps.iloc[0]
    assert (steps["provisioningStepType"], steps["status"]) == ("export", "failure")
    audit = read_logs([tmp_path / "PT1H.json"], "audit")
    assert _ids(audit) == ["id"]


def test_log_analytics_exports_csv_and_json(tmp_path):
    src = PROV[1]
    row = {"TenantId": "ws", "SourceSystem": json.dumps(src["sourceSystem"]), "TimeGenerated": "6/24/2019, 8:53:08.000 PM",
           "Id": src["id"], "ActivityDateTime": "", "JobId": src["jobId"], "CycleId": src["cycleId"],
           "ChangeId": src["changeId"], "ProvisioningAction": "Create", "DurationMs": "2785",
           "InitiatedBy": json.dumps(src["initiatedBy"]), "ModifiedProperties": json.dumps(src["modifiedProperties"]),
           "ProvisioningStatusInfo": json.dumps(src["provisioningStatusInfo"]),
           "ProvisioningSteps": json.dumps(src["provisioningSteps"]), "ServicePrincipal": json.dumps(src["servicePrincipal"]),
           "SourceIdentity": json.dumps(src["sourceIdentity"]), "TargetIdentity": json.dumps(src["targetIdentity"]),
           "TargetSystem": json.dumps(src["targetSystem"]), "ResultType": "Failure",
           "ResultSignature": "ContosoEntryConflict", "Type": "AADProvisioningLogs"}
    _write_csv(tmp_path / "query_data.csv", [row])
    log = read_logs([tmp_path / "query_data.csv"], "provisioning")
    assert not log.skipped
    frames = flatten_provisioning(log.records)
    ev = frames.events.iloc[0]
    assert ev["activityDateTime"] == dt.datetime(2019, 6, 24, 20, 53, 8, tzinfo=UTC)
    assert ev["errorCode"] == "ContosoEntryConflict" and ev["status"] == "failure"
    assert ev["sourceSystem"] == "Azure Active Directory" and len(frames.changes) == len(src["modifiedProperties"])
    a = AUDIT[0]
    la = {"TimeGenerated": "2018-01-09T21:20:02.7215374Z", "Id": a["id"], "Category": a["category"],
          "ActivityDisplayName": a["activityDisplayName"], "Result": "success", "LoggedByService": "Core Directory",
          "InitiatedBy": json.dumps(a["initiatedBy"]), "TargetResources": json.dumps(a["targetResources"]),
          "AdditionalDetails": json.dumps(a["additionalDetails"]), "OperationName": "Add member to group",
          "Type": "AuditLogs"}
    (tmp_path / "audit.json").write_text(json.dumps([la]))
    ev = flatten_audit(read_logs([tmp_path / "audit.json"], "audit").records).events.iloc[0]
    assert ev["initiatedBy"] == "Audry Oliver" and ev["category"] == "UserManagement" and ev["targets"] == 2


# --- bad input ---------------------------------------------------------------------------------------------

def test_truncated_json_keeps_the_complete_records_and_reports_the_rest(tmp_path):
    text = json.dumps({"value": PROV}, indent=2)
    (tmp_path / "t.json").write_text(text[: text.index('"id": "gc532ff9') + 40])
    log = read_logs([tmp_path / "t.json"], "provisioning")
    assert _ids(log) == [PROV[0]["id"]]
    assert len(log.skipped) == 1 and log.skipped[0].reason.startswith("truncated JSON")


def test_malformed_lines_unknown_values_bad_timestamps_and_missing_ids_are_counted(tmp_path):
    future = dict(PROV[0], id="f1", provisioningAction="quarantine", newerField=[1, 2],
                  provisioningStatusInfo={"status": "unknownFutureValue", "errorInformation": None})
    lines = [json.dumps(future), '{"id": "broken", ', json.dumps(dict(PROV[0], id="t1", activityDateTime="yesterday")),
             json.dumps({k: v for k, v in PROV[0].items() if k != "id"}), json.dumps(["not", "a", "record"]),
             json.dumps({"hello": "world"})]
    (tmp_path / "m.jsonl").write_text("\n".join(lines) + "\n")
    log = read_logs([tmp_path / "m.jsonl"], "provisioning")
    assert _ids(log) == ["f1"]
    reasons = log.skipped_by_reason()
    # the array counts as three values that are not records; {"hello": ...} as one
    assert reasons == {"malformed JSON": 1, "bad timestamp": 1, "no id": 1, "not a log record": 4}
    ev = flatten_provisioning(log.records).events.iloc[0]
    assert (ev["provisioningAction"], ev["status"]) == ("quarantine", "unknownFutureValue")
    assert json.loads(ev["extra"]) == {"newerField": [1, 2]}


def test_empty_file_and_missing_file(tmp_path):
    (tmp_path / "e.json").write_text("")
    log = read_logs([tmp_path / "e.json"], "provisioning")
    assert log.records == [] and log.notes == ["e.json: empty file."]
    with pytest.raises(InputError) as err:
        read_logs([tmp_path / "nope.json"], "provisioning")
    assert err.value.source.endswith("nope.json")


# --- timestamps and the error catalog ----------------------------------------------------------------------

@pytest.mark.parametrize("text,want", [
    ("2018-01-09T21:20:02.7215374Z", dt.datetime(2018, 1, 9, 21, 20, 2, 721537, tzinfo=UTC)),
    ("2018-01-09T21:20:02.721537412Z", dt.datetime(2018, 1, 9, 21, 20, 2, 721537, tzinfo=UTC)),
    ("2018-01-09T23:20:02+02:00", dt.datetime(2018, 1, 9, 21, 20, 2, tzinfo=UTC)),
    ("2018-01-09 21:20:02.123", dt.datetime(2018, 1, 9, 21, 20, 2, 123000, tzinfo=UTC)),
    ("1/9/2018 9:20:02 PM", dt.datetime(2018, 1, 9, 21, 20, 2, tzinfo=UTC)),
    ("1/9/2018, 12:05:00.5 AM", dt.datetime(2018, 1, 9, 0, 5, 0, 500000, tzinfo=UTC)),
    ("2018-01-09", dt.datetime(2018, 1, 9, tzinfo=UTC)),
])
def test_timestamp_shapes(text, want):
    assert parse_timestamp(text) == want


@pytest.mark.parametrize("bad", ["yesterday", "2018-13-01T00:00:00Z", "13/45/2018 10:00", "2018-01-09T25:00:00Z"])
def test_bad_timestamps_raise_naming_the_text(bad):
    with pytest.raises(ValueError, match="'"):
        parse_timestamp(bad)


@pytest.mark.parametrize("spelling", ["AzureActiveDirectoryCannotUpdateObjectsOriginatedInExternalService",
                                      "Microsoft Entra IDCannotUpdateObjectsOriginatedInExternalService",
                                      "Microsoft Entra ID CannotUpdateObjectsOriginatedInExternalService"])
def test_catalog_matches_both_spellings(spelling):
    advice = advice_for(spelling)
    assert advice is not None and advice.code == "AzureActiveDirectoryCannotUpdateObjectsOriginatedInExternalService"
    assert "Exchange" in advice.action


def test_catalog_covers_the_documented_cross_tenant_codes_and_keeps_unknown_ones():
    for code in ("AzureDirectoryB2BManagementPolicyCheckFailure", "AzureActiveDirectoryQuotaLimitExceeded",
                 "InvitationCreationFailure", "InvitationCreationFailureUserAccountDisabled",
                 "AzureActiveDirectoryForbidden", "InvitationCreationFailureInvalidPropertyValue",
                 "InvitationCreationFailureAmbiguousUser", "AzureActiveDirectoryCannotUpdateObjectsMasteredOnPremises",
                 "EntityTypeNotSupported"):
        assert advice_for(code) is not None, code
    assert advice_for("SomethingNew") is None and normalize_code("SomethingNew") == "SomethingNew"
