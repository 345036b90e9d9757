"""Log workbooks: records in, workbook out, read back with openpyxl and pandas and compared field by field;
printing set up for a manager; an empty range gives a well-formed report; formula-safe; CSV with BOM."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from toolkit.cli.main import cli
from toolkit.logs import flatten_provisioning, read_logs
from toolkit.report.logs import log_report
from toolkit.simulator.auditlogs import dense_provisioning_log

FIXTURES = Path(__file__).parent / "fixtures" / "logs"
UTC = dt.timezone.utc
T0 = dt.datetime(2026, 1, 10, tzinfo=UTC)


@pytest.fixture()
def records_file(tmp_path: Path) -> Path:
    records = dense_provisioning_log(60, tenant_id="t-1", start=T0, end=T0 + dt.timedelta(hours=2),
                                     failure_rate=0.3, cycle_size=25)
    records[0]["sourceIdentity"]["displayName"] = "=HYPERLINK(\"http://evil\")"
    records[1]["provisioningAction"] = "unknownFutureValue"
    path = tmp_path / "prov.json"
    path.write_text(json.dumps({"value": records}))
    return path


def test_provisioning_round_trip_field_by_field(records_file, tmp_path):
    out = tmp_path / "prov.xlsx"
    result = log_report("provisioning", out, files=[records_file], csv_path=tmp_path / "prov.csv")
    log = read_logs([records_file], "provisioning")
    want = flatten_provisioning(log.records)
    wb = load_workbook(out)
    assert wb.sheetnames == ["Summary", "Events", "Failures", "Steps", "Modified properties"]
    ws = wb["Events"]
    header = [c.value for c in ws[1]]
    by_label = {h: i for i, h in enumerate(header)}
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(want.events) == 60
    events = want.events.set_index("id")
    for row in rows:
        src = events.loc[row[by_label["Event ID"]]]
        when = row[by_label["Time (UTC)"]]
        assert isinstance(when, dt.datetime)                       # a real Excel date, in UTC
        assert when == src["activityDateTime"].to_pydatetime().replace(tzinfo=None, microsecond=when.microsecond)
        for label, col in (("Action", "provisioningAction"), ("Status", "status"), ("Source name", "sourceDisplayName"),
                           ("Source userPrincipalName", "sourceUpn"), ("Error code", "errorCode"),
                           ("Cycle ID", "cycleId"), ("Change ID", "changeId"), ("Job ID", "jobId")):
            expected = None if pd.isna(src[col]) else src[col]
            assert row[by_label[label]] == expected, (label, row[by_label[label]], expected)
        assert row[by_label["Duration (ms)"]] == int(src["durationInMilliseconds"])
    assert ws["A2"].number_format == "yyyy-mm-dd hh:mm:ss"
    # formula injection: stored as text with a quote prefix, never as a formula
    evil = next(c for r in ws.iter_rows(min_row=2) for c in r if c.value == "=HYPERLINK(\"http://evil\")")
    assert evil.data_type == "s" and evil.quotePrefix
    # Failures carry the catalog's explanation and action
    fail = pd.read_excel(out, sheet_name="Failures")
    assert len(fail) == int((want.events["status"] == "failure").sum()) > 0
    assert fail["What it means"].notna().all() and fail["What to do"].notna().all()
    # pandas reads the same values back
    ev = pd.read_excel(out, sheet_name="Events")
    assert sorted(ev["Event ID"]) == sorted(want.events["id"])
    assert len(pd.read_excel(out, sheet_name="Steps")) == len(want.steps) == 60 * 4
    changes = pd.read_excel(out, sheet_name="Modified properties", keep_default_na=False)
    assert list(changes["New value"]) == list(want.changes.sort_values("activityDateTime")["newValue"])
    # the summary names the source and the time range
    summary = {r[0]: r[1] for r in wb["Summary"].iter_rows(values_only=True) if r and r[0]}
    assert summary["Source"] == "prov.json" and summary["Events"] == 60
    assert summary["First event (UTC)"] == T0.replace(tzinfo=None)
    assert summary["Last event (UTC)"] == max(want.events["activityDateTime"]).to_pydatetime().replace(tzinfo=None)
    assert result["summary"]["failures"] == len(fail)
    # CSV side output: UTF-8 with BOM
    assert (tmp_path / "prov.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def test_every_sheet_prints_landscape_one_page_wide_with_the_header_repeated(records_file, tmp_path):
    out = tmp_path / "prov.xlsx"
    log_report("provisioning", out, files=[records_file])
    wb = load_workbook(out)
    for ws in wb.worksheets:
        assert ws.page_setup.orientation == "landscape", ws.title
        assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert "Provisioning logs: prov.json" in ws.oddHeader.center.text and ws.title in ws.oddHeader.center.text
        if ws.title != "Summary":
            assert ws.print_title_rows == "$1:$1"
    # the 22-column Events table prints its leading columns, legible on one page; the rest stay in the sheet
    assert wb["Events"].print_area == "'Events'!$A$1:$H$61" and wb["Events"].max_column == 22
    import zipfile
    with zipfile.ZipFile(out) as z:
        assert sum(n.startswith("xl/charts/chart") for n in z.namelist()) >= 2      # status pie, action bars


def test_a_range_with_no_events_gives_an_empty_but_well_formed_report(records_file, tmp_path):
    out = tmp_path / "empty.xlsx"
    result = log_report("provisioning", out, files=[records_file],
                        since=dt.datetime(2030, 1, 1, tzinfo=UTC))
    assert result["summary"]["events"] == 0
    wb = load_workbook(out)
    assert [c.value for c in wb["Events"][1]][:3] == ["Time (UTC)", "Action", "Status"]
    summary = {r[0]: r[1] for r in wb["Summary"].iter_rows(values_only=True) if r and r[0]}
    assert summary["Events"] == 0 and "No events" in summary["Note"]


def test_audit_workbook_from_the_documented_examples(tmp_path):
    out = tmp_path / "audit.xlsx"
    files = [FIXTURES / "directoryaudit-list.json", FIXTURES / "directoryaudit-list-2.json",
             FIXTURES / "provisioning-list-1.json"]
    result = log_report("audit", out, files=files)
    assert result["summary"]["events"] == 2 and result["summary"]["skippedRecords"] == 1
    wb = load_workbook(out)
    assert wb.sheetnames == ["Summary", "Events", "Modified properties"]
    ev = pd.read_excel(out, sheet_name="Events")
    assert set(ev["Category"]) == {"UserManagement", "GroupManagement"}
    assert "Audry Oliver" in set(ev["Initiated by"])
    mods = pd.read_excel(out, sheet_name="Modified properties")
    assert mods.iloc[0]["Property"] == "Action Client Name" and mods.iloc[0]["New value"] == "DirectorySync"
    summary = [r for r in wb["Summary"].iter_rows(values_only=True) if r and r[0]]
    assert any(r[0] == "provisioning record" and r[1] == 1 for r in summary)     # skipped, by reason


def test_cli_report_commands_and_their_exit_codes(records_file, tmp_path):
    runner = CliRunner()
    ok = runner.invoke(cli, ["report", "provisioning", str(records_file), "--out", str(tmp_path / "p.xlsx"),
                             "--csv", str(tmp_path / "p.csv"), "-o", "json"])
    assert ok.exit_code == 0, ok.output
    doc = json.loads(ok.stdout)
    assert doc["summary"]["events"] == 60 and Path(doc["report"]).exists() and Path(doc["csv"]).exists()
    missing = runner.invoke(cli, ["report", "audit", str(tmp_path / "nope.json"), "--out", str(tmp_path / "a.xlsx")])
    assert missing.exit_code == 2 and "does not exist" in missing.stderr
    both = runner.invoke(cli, ["report", "audit", "--out", str(tmp_path / "a.xlsx")])
    assert both.exit_code == 2 and "log files or --archive" in both.stderr
    bad = tmp_path / "bad.json"
    bad.write_text('{"value": [')
    broken = runner.invoke(cli, ["report", "provisioning", str(bad), "--out", str(tmp_path / "b.xlsx"), "-o", "json"])
    assert broken.exit_code == 0 and json.loads(broken.stdout)["summary"]["skippedRecords"] == 1
    assert "1 record(s) skipped" in broken.stderr


def test_text_that_needs_escaping_comes_back_exactly(tmp_path):
    records = dense_provisioning_log(6, tenant_id="t-1", start=T0, end=T0 + dt.timedelta(minutes=6))
    names = ["Tom & Jerry", "<script>x</script>", "  leading and trailing  ", "two\nlines", "Zoë Ångström 東京",
             "_x0041_ literal"]
    for rec, name in zip(records, names):
        rec["sourceIdentity"]["displayName"] = name
    path = tmp_path / "names.json"
    path.write_text(json.dumps(records), encoding="utf-8")
    out = tmp_path / "names.xlsx"
    log_report("provisioning", out, files=[path])
    back = pd.read_excel(out, sheet_name="Events")
    # "_x0041_" is stored escaped ("_x005F_x0041_", ECMA-376 22.4.2.4), which Excel shows as "_x0041_";
    # openpyxl does not unescape inline strings when reading, so that one is compared in its stored form.
    assert sorted(back["Source name"]) == sorted(names[:5] + ["_x005F_x0041_ literal"])


def test_large_inputs_are_flattened_in_chunks_with_the_same_result(records_file, tmp_path, monkeypatch):
    whole = log_report("provisioning", tmp_path / "whole.xlsx", files=[records_file])
    import toolkit.logs.readers as readers
    monkeypatch.setattr(readers, "CHUNK", 7)              # 60 records -> 9 chunks, never all as dicts at once
    chunked = log_report("provisioning", tmp_path / "chunked.xlsx", files=[records_file])
    assert chunked["summary"] == whole["summary"]
    for sheet in ("Events", "Steps", "Modified properties", "Failures"):
        a = pd.read_excel(tmp_path / "whole.xlsx", sheet_name=sheet)
        b = pd.read_excel(tmp_path / "chunked.xlsx", sheet_name=sheet)
        pd.testing.assert_frame_equal(a, b)
