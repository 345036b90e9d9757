"""Loading and validating report definitions (toolkit.report.definitions)."""

import json

import pytest

from toolkit.errors import InputError
from toolkit.report.definitions import list_definitions, load_definition, parse_definition, reports_dir


def _minimal(**sheet_overrides):
    sheet = {"name": "Users", "kind": "table", "frame": "users", "columns": [{"name": "userPrincipalName"}]}
    sheet.update(sheet_overrides)
    return {"name": "t", "sheets": [sheet]}


def test_eligibility_definition_ships_and_validates():
    assert "eligibility" in list_definitions()
    d = load_definition("eligibility")
    assert [s.name for s in d.sheets] == ["Summary", "Users", "SKUs", "Legend"]
    assert [s.kind for s in d.sheets] == ["summary", "table", "table", "legend"]
    assert d.frames_needed() == {"users", "seats", "skus"}
    assert d.vocabularies_needed() == {"statuses"}
    users = d.sheet("Users")
    upn = next(c for c in users.columns if c.name == "userPrincipalName")
    assert upn.link == "portalUrl"
    status = next(c for c in users.columns if c.name == "status")
    assert d.palettes[status.palette].color_for("eligible") == "C6EFCE"
    assert d.palettes[status.palette].color_for("something_new") == "F2F2F2"   # the default


def test_json_and_toml_are_equivalent(tmp_path):
    data = _minimal()
    (tmp_path / "a.json").write_text(json.dumps(data), encoding="utf-8")
    (tmp_path / "b.toml").write_text(
        'name = "t"\n[[sheets]]\nname = "Users"\nkind = "table"\nframe = "users"\n'
        'columns = [{ name = "userPrincipalName" }]\n', encoding="utf-8")
    a = load_definition(tmp_path / "a.json")
    b = load_definition(tmp_path / "b.toml")
    assert a.sheets == b.sheets


def test_named_formats_resolve_to_excel_formats():
    d = parse_definition(_minimal(columns=[{"name": "n", "format": "integer"}, {"name": "d", "format": "0.000"}]))
    assert [c.format for c in d.sheets[0].columns] == ["#,##0", "0.000"]


@pytest.mark.parametrize("data, field, words", [
    (_minimal(colour="red"), "sheets[0].colour", "unknown key"),
    (_minimal(columns=[{"name": "status", "palette": "nope"}]), "sheets[0].columns[0].palette", "no palette"),
    (_minimal(columns=[{"name": "a", "format": ""}]), "sheets[0].columns[0].format", "non-empty"),
    (_minimal(columns=[{"name": "a", "width": 900}]), "sheets[0].columns[0].width", "from 1 to 255"),
    (_minimal(columns=[{"name": "a"}, {"name": "b", "label": "A"}]), "sheets[0].columns[1].label", "repeated"),
    (_minimal(kind="chart"), "sheets[0].kind", "not one of"),
    (_minimal(name="Users/2026"), "sheets[0].name", "cannot be an Excel sheet name"),
    (_minimal(name="A" * 30), "sheets[0].name", "cannot be an Excel sheet name"),
    (_minimal(style="Fancy"), "sheets[0].style", "table style"),
    (_minimal(overflow="truncate"), "sheets[0].overflow", "not one of"),
    ({"name": "t", "sheets": [{"name": "S", "kind": "table", "frame": "users"}]}, "sheets[0].columns", "required"),
    ({"name": "t", "sheets": []}, "sheets", "non-empty list"),
    ({"sheets": [{}]}, "name", "required"),
    ({"name": "t", "palettes": {"p": {"colors": {"a": "green"}}}, "sheets": _minimal()["sheets"]},
     "palettes.p.colors.a", "RRGGBB"),
    ({"name": "t", "sheets": [{"name": "S", "kind": "summary", "sections": [{"kind": "pie"}]}]},
     "sheets[0].sections[0].kind", "not one of"),
    ({"name": "t", "sheets": [{"name": "S", "kind": "summary",
                               "sections": [{"kind": "counts", "frame": "u", "column": "c", "chart": "line"}]}]},
     "sheets[0].sections[0].chart", "not one of"),
    ({"name": "t", "sheets": [{"name": "S", "kind": "legend",
                               "sections": [{"kind": "columns", "sheet": "Nope"}]}]},
     "sheets[0].sections[0].sheet", "no table sheet"),
    ({"name": "t", "sheets": [_minimal()["sheets"][0], _minimal(name="USERS")["sheets"][0]]},
     "sheets[1].name", "used twice"),
])
def test_validation_errors_name_the_file_and_key(data, field, words):
    with pytest.raises(InputError) as info:
        parse_definition(data, source="reports/test.json")
    err = info.value
    assert err.field == field
    assert err.source == "reports/test.json"
    assert "reports/test.json" in str(err) and f"'{field}'" in str(err)
    assert words in str(err)


def test_syntax_error_names_the_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("name = \n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_definition(bad)
    assert str(bad) in str(info.value) and "TOML" in str(info.value)


def test_unknown_name_lists_the_known_definitions(tmp_path):
    (tmp_path / "mine.json").write_text(json.dumps(_minimal()), encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_definition("missing", directory=tmp_path)
    assert "mine" in str(info.value)
    assert load_definition("mine", directory=tmp_path).name == "t"


def test_reports_dir_can_be_overridden(monkeypatch, tmp_path):
    monkeypatch.setenv("CCSYNC_REPORTS_DIR", str(tmp_path))
    assert reports_dir() == tmp_path
    monkeypatch.delenv("CCSYNC_REPORTS_DIR")
    assert (reports_dir() / "eligibility.toml").is_file()
