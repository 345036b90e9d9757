"""CSV migrations: intake, layouts, every validation class (corpus in tests/fixtures/migrate), reports, the plan,
the passwords' path to apply, and the CLI."""

from __future__ import annotations

import csv
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from toolkit.apply.operations import new_user_body, operations_from_plan
from toolkit.apply.secrets_source import attach_secrets, generate_password, passwords_path
from toolkit.errors import InputError
from toolkit.migrate import plan_migration, read_table, validate_file
from toolkit.migrate.formats import FIELDS, detect_layout
from toolkit.migrate.report import write_validation_csv, write_validation_workbook
from toolkit.migrate.validate import TargetIndex, password_problems

from apply_helpers import export_target

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "fixtures" / "migrate"
EXPECTED = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))
TENANT_FILES = {"unverified_domain.csv", "duplicate_target.csv", "no_seats.csv"}
SAMPLE = ROOT / "samples" / "migration-portal.csv"


@pytest.fixture(scope="module")
def fabrikam(sim):
    return TargetIndex(export_target(sim))


@pytest.fixture(scope="module")
def fabrikam_with_groups(sim):
    from apply_helpers import client
    from toolkit.export import export_tenant

    return TargetIndex(export_tenant(client(sim), groups=["CCS-Sync-Pilot"], cloud="gcch"))


def _found(validation, row: int, field: str, words: str) -> bool:
    header = validation.layout.header_of(field)
    return any(p.row == row and p.column == header and words.lower() in p.problem.lower()
               for r in validation.rows for p in r.errors)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_reports_each_failure_with_row_column_and_fix(name: str, fabrikam) -> None:
    validation = validate_file(CORPUS / name, fabrikam if name in TENANT_FILES else None)
    expected = EXPECTED[name]["problems"]
    for row, field, words in expected:
        assert _found(validation, row, field, words), (name, row, field, words,
                                                        [p.to_dict() | {"row": p.row} for p in validation.problems()])
    assert all(p.fix for p in validation.problems())
    assert validation.exit_code == (1 if expected else 0)


def test_encodings_and_dialects_are_detected() -> None:
    assert read_table(CORPUS / "missing_required.csv").encoding == "UTF-8 with BOM"
    utf16 = read_table(CORPUS / "upn_syntax.csv")
    assert (utf16.encoding, utf16.delimiter) == ("UTF-16 with BOM", "\t")
    legacy = read_table(CORPUS / "duplicate_in_file.csv")
    assert legacy.delimiter == ";" and legacy.encoding.startswith(("Windows-125", "ISO-8859"))
    assert legacy.rows[0][3] == "Überwachung" and legacy.rows[1][3] == "Café"


def test_multiline_fields_and_trailing_empty_rows() -> None:
    table = read_table(CORPUS / "multiline_trailing.csv")
    assert table.preamble == "version:v1.0" and len(table.rows) == 2 and table.dropped_empty == 3
    assert table.rows[0][6] == "Lead\nAnalyst" and table.rows[0][2] == "Kx8!meadow;run"
    assert table.row_numbers == [3, 4]            # Excel's rows: one per record, quoted line break or not


def test_layouts_portal_invite_graph_and_unknown_columns() -> None:
    layout = detect_layout(["Name (example: Chris Green) [displayName] *", "User name [userPrincipalName] Required",
                            "Office [physicalDeliveryOfficeName]", "Favourite colour"])
    assert layout.name == "portal-create"
    assert [c.field for c in layout.columns] == ["displayName", "userPrincipalName", "officeLocation", None]
    assert layout.columns[0].required and layout.unknown == ["Favourite colour"]
    assert detect_layout(["Email address to invite [inviteeEmail] Required"]).name == "portal-invite"
    plain = detect_layout(["USERPRINCIPALNAME", "Display Name", "usage_location", "Licenses", "Manager"])
    assert plain.name == "graph" and [c.field for c in plain.columns] == [
        "userPrincipalName", "displayName", "usageLocation", "licenses", "manager"]
    v = validate_file(CORPUS / "invite_bad_address.csv")
    assert any("example row" in n for n in v.notes) and all(r.mode == "invite" for r in v.rows)


def test_unknown_columns_are_reported_not_dropped(tmp_path: Path) -> None:
    f = tmp_path / "u.csv"
    f.write_text("userPrincipalName,displayName,Cost centre\nzoe@fabrikamfederal.us,Zoe,4711\n", encoding="utf-8")
    v = validate_file(f)
    assert v.layout.unknown == ["Cost centre"] and any("Cost centre" in n for n in v.notes)


def test_password_rules_never_quote_the_password() -> None:
    assert password_problems("Kx8!meadow-run") == []
    assert password_problems("Ünïcode-Passw0rd")[0][0].startswith("contains")
    v = validate_file(CORPUS / "password_rules.csv")
    for p in v.problems():
        assert "short1A" not in json.dumps(p.to_dict()) and "alllowercase" not in json.dumps(p.to_dict())
    assert all(p.value == "(hidden)" for p in v.problems() if "password" in p.column.lower())
    for _ in range(50):
        pw = generate_password(["gus", "hale"])
        assert password_problems(pw, ["gus", "hale"]) == [] and pw[0].isalpha()


def test_reports_workbook_and_csv_have_every_problem_and_no_password(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    v = validate_file(CORPUS / "password_rules.csv")
    wb = write_validation_workbook(tmp_path / "v.xlsx", v)
    book = load_workbook(wb)
    assert book.sheetnames[:4] == ["Summary", "Rows", "Problems", "Notes"]
    cells = [str(c) for ws in book for row in ws.iter_rows(values_only=True) for c in row if c is not None]
    assert not any("short1A" in c or "alllowercase" in c for c in cells)
    assert book["Problems"].max_row - 1 == len(v.problems())
    out = write_validation_csv(tmp_path / "v.csv", v)
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"short1A" not in raw
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    assert {r["Status"] for r in rows} == {"Invalid"} and rows[0]["Row"] == "3"


def test_formula_cells_are_safe_in_the_report(tmp_path: Path) -> None:
    v = validate_file(CORPUS / "formula.csv")
    raw = write_validation_csv(tmp_path / "f.csv", v).read_text(encoding="utf-8-sig")
    assert "\"'=HYPERLINK" in raw


def test_plan_members_and_invitations_without_passwords(tmp_path: Path, fabrikam_with_groups) -> None:
    src = tmp_path / "m.csv"
    src.write_bytes(SAMPLE.read_bytes() + b"Vic Guest,,,No,,,,,,,,,,,,,,,\r\n")
    v = validate_file(src, fabrikam_with_groups)
    assert [r.row for r in v.invalid_rows] == [8]          # neither a UPN nor an address
    with pytest.raises(InputError, match="invalid"):
        plan_migration(v)
    plan = plan_migration(v, skip_invalid=True)
    path = plan.save(tmp_path / "plan.json")
    text = path.read_text(encoding="utf-8")
    assert "Wq7!harbor-lamp" not in text and "Tr4il;mix" not in text and "Bv9#copper" not in text
    assert plan.counts()["create"] == 5 and plan.header["migration"]["skippedInvalidRows"] == [8]
    ops = {op.source_upn: op for op in operations_from_plan(plan)}
    nadia = ops["nadia.brennan@fabrikamfederal.us"]
    assert nadia.licenses == ["ca9d1dd9-dfe9-4fef-b97c-9bc1ea3c3658"] and len(nadia.groups) == 1
    assert nadia.extra["password"] == "file" and ops["omar.haddad@fabrikamfederal.us"].extra["password"] == "generated"
    assert ops["mette.sorensen@fabrikamfederal.us"].attrs["accountEnabled"] == "false"   # Block sign in: Yes


def test_apply_gets_passwords_from_the_csv_or_a_private_file(tmp_path: Path, fabrikam_with_groups) -> None:
    src = tmp_path / "m.csv"
    src.write_bytes(SAMPLE.read_bytes())
    plan = plan_migration(validate_file(src, fabrikam_with_groups))
    path = plan.save(tmp_path / "plan.json")
    ops = operations_from_plan(plan)
    old = os.umask(0o022)
    try:
        attach_secrets(plan, ops, plan_path=path, what_if=False)
    finally:
        os.umask(old)
    by = {op.source_upn: op for op in ops}
    body = new_user_body(by["nadia.brennan@fabrikamfederal.us"])
    assert body["passwordProfile"] == {"password": "Wq7!harbor-lamp", "forceChangePasswordNextSignIn": True}
    secret_file = passwords_path(path)
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    handed = {r["userPrincipalName"]: r["password"] for r in csv.DictReader(
        secret_file.read_text(encoding="utf-8-sig").splitlines())}
    assert set(handed) == {"omar.haddad@fabrikamfederal.us", "mette.sorensen@fabrikamfederal.us"}
    assert by["omar.haddad@fabrikamfederal.us"].password == handed["omar.haddad@fabrikamfederal.us"]
    again = operations_from_plan(plan)                     # a resume re-uses the handed-over passwords
    attach_secrets(plan, again, plan_path=path, what_if=False)
    assert {o.source_upn: o.password for o in again} == {o.source_upn: o.password for o in ops}
    src.write_bytes(SAMPLE.read_bytes().replace(b"Wq7!", b"Wq8!"))
    with pytest.raises(InputError, match="changed after the plan"):
        attach_secrets(plan, operations_from_plan(plan), plan_path=path, what_if=True)


def _ccsync(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "toolkit.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


def test_cli_validate_json_lists_every_row_and_exits_1() -> None:
    proc = _ccsync("migrate", "validate", str(CORPUS / "password_rules.csv"), "--output", "json")
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)
    assert [r["row"] for r in doc["rowResults"]] == [3, 4, 5]
    first = doc["rowResults"][0]
    assert first["userPrincipalName"] == "gus.hale@fabrikamfederal.us" and first["valid"] is False
    assert set(first["errors"][0]) == {"column", "value", "problem", "fix"}
    ok = _ccsync("migrate", "validate", str(CORPUS / "multiline_trailing.csv"), "--output", "json")
    assert ok.returncode == 0 and json.loads(ok.stdout)["valid"] == 2


def test_cli_plan_refuses_invalid_rows_without_skip_invalid(tmp_path: Path, sim) -> None:
    snap = tmp_path / "target"
    from apply_helpers import client
    from toolkit.export import export_tenant

    export_tenant(client(sim), cloud="gcch", out_dir=snap)
    out = tmp_path / "plan.json"
    proc = _ccsync("migrate", "plan", str(CORPUS / "duplicate_target.csv"), "--target", str(snap), "--out", str(out),
                   "--output", "json")
    assert proc.returncode == 1 and not out.exists() and json.loads(proc.stdout)["invalid"] == 2
    proc = _ccsync("migrate", "plan", str(CORPUS / "no_seats.csv"), "--target", str(snap), "--out", str(out),
                   "--skip-invalid", "--report", str(tmp_path / "r.xlsx"), "--output", "json")
    doc = json.loads(proc.stdout)
    assert proc.returncode == 1 and out.exists() and doc["counts"]["create"] == doc["valid"]
    assert (tmp_path / "r.xlsx").exists() and (tmp_path / "r.csv").exists()


def test_every_field_has_a_header_alias() -> None:
    layout = detect_layout(list(FIELDS))
    assert not layout.unknown and len(layout.by_field()) == len(FIELDS)


def test_invitations_from_the_portal_template_and_external_members(tmp_path: Path, fabrikam) -> None:
    from toolkit.apply.operations import first_request

    f = tmp_path / "invite.csv"
    f.write_text("version:v1.0,,,\n" + ",".join([
        "Email address to invite [inviteeEmail] Required", "Redirection url [inviteRedirectURL] Required",
        "Send invitation message (true or false) [sendEmail]", "Customized invitation message [customizedMessageBody]"])
        + "\nexample@example.com,https://myapps.microsoft.com,,\n"
        + "ana@partner.example,https://myapps.microsoft.com,true,Welcome to Fabrikam\n", encoding="utf-8")
    plain = tmp_path / "members.csv"
    plain.write_text("invitedUserEmailAddress,userType,displayName,usageLocation,licenses\n"
                     "bo@contoso.com,Member,Bo Svensson,SE,SPE_E3_USGOV_GCCHIGH\n", encoding="utf-8")
    guest = operations_from_plan(plan_migration(validate_file(f, fabrikam)))[0]
    req = first_request(guest, "m1", "member", "https://graph.microsoft.us/v1.0")
    assert (req.method, req.url) == ("POST", "/invitations")
    assert req.body["invitedUserType"] == "Guest" and req.body["sendInvitationMessage"] is True
    assert req.body["invitedUserMessageInfo"] == {"customizedMessageBody": "Welcome to Fabrikam"}
    member = operations_from_plan(plan_migration(validate_file(plain, fabrikam)))[0]
    body = first_request(member, "m1", "member", "https://graph.microsoft.us/v1.0").body
    assert body["invitedUserEmailAddress"] == "bo@contoso.com" and body["invitedUserType"] == "Member"
    assert member.attrs["usageLocation"] == "SE" and len(member.licenses) == 1


def test_cli_validate_against_a_live_profile_reports_a_missing_group_on_its_row(tmp_path: Path, sim) -> None:
    from apply_helpers import FABRIKAM, profile

    config = sim.write_profiles(tmp_path / "config.toml")
    prof = profile(sim, FABRIKAM)
    f = tmp_path / "live.csv"
    f.write_text("userPrincipalName,displayName,groups\nxa@fabrikamfederal.us,Xa,CCS-Sync-Pilot\n"
                 "xb@fabrikamfederal.us,Xb,No Such Group\n", encoding="utf-8")
    env = dict(os.environ, **{prof.secret_env: sim.secret_for(FABRIKAM)}, CCSYNC_CACHE_DIR=str(tmp_path / "tok"))
    proc = subprocess.run([sys.executable, "-m", "toolkit.cli", "migrate", "validate", str(f), "--target", prof.name,
                           "--config", str(config), "--output", "json"], cwd=ROOT, capture_output=True, text=True,
                          env=env, timeout=180)
    rows = {r["row"]: r for r in json.loads(proc.stdout)["rowResults"]}
    assert proc.returncode == 1 and rows[2]["valid"] and not rows[3]["valid"]
    assert rows[3]["errors"][0]["value"] == "No Such Group" and "No Such Group" in proc.stderr
