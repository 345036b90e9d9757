"""CSV side outputs: BOM, CRLF, formula safety, round trip, atomic write (toolkit.report.csvout)."""

import csv
import io

import pandas as pd
import pytest

from toolkit.errors import InputError
from toolkit.report import write_csv


def _frame():
    return pd.DataFrame({
        "userPrincipalName": ["zoë@contoso.com", "jürgen@contoso.com", "a;b,c@contoso.com"],
        "displayName": ["Zoë Ångström", 'Quote "me"', "multi\nline"],
        "accountEnabled": [True, False, True],
        "seats": [3, 0, 12],
        "ratio": [0.5, 1.25, 2.0],
    })


def test_csv_has_bom_crlf_and_round_trips_through_pandas(tmp_path):
    df = _frame()
    path = write_csv(df, tmp_path / "users.csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"").replace(b"multi\nline", b"")
    back = pd.read_csv(path, encoding="utf-8-sig")
    pd.testing.assert_frame_equal(back, df, check_dtype=False)


def test_text_fields_are_quoted_numbers_are_not(tmp_path):
    path = write_csv(_frame(), tmp_path / "u.csv")
    first = path.read_bytes().decode("utf-8-sig").split("\r\n")[1]
    assert first == '"zoë@contoso.com","Zoë Ångström","TRUE",3,0.5'


def test_formula_payloads_get_a_leading_quote(tmp_path):
    payloads = ['=HYPERLINK("http://evil","x")', "+1", "-2+3", "@SUM(1)", "\t=1", "\uff1d1"]
    df = pd.DataFrame({"displayName": payloads, "n": [-1, -2, -3, -4, -5, -6]})
    path = write_csv(df, tmp_path / "x.csv")
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))
    assert [r[0] for r in rows[1:]] == ["'" + p for p in payloads]
    assert [r[1] for r in rows[1:]] == ["-1", "-2", "-3", "-4", "-5", "-6"]   # numbers are not prefixed


def test_missing_values_datetimes_and_control_characters(tmp_path):
    df = pd.DataFrame({"a": pd.array(["x\x07y", None], dtype="string"),
                       "b": pd.to_datetime(["2026-01-02T03:04:05Z", None], utc=True),
                       "c": pd.array([1, None], dtype="Int64")})
    text = write_csv(df, tmp_path / "d.csv").read_bytes().decode("utf-8-sig")
    assert text.split("\r\n")[1:3] == ['"xy","2026-01-02T03:04:05Z",1', '"","",""']


def test_columns_mapping_selects_and_relabels(tmp_path):
    path = write_csv(_frame(), tmp_path / "m.csv", columns={"userPrincipalName": "UPN", "seats": "Seats"})
    back = pd.read_csv(path, encoding="utf-8-sig")
    assert list(back.columns) == ["UPN", "Seats"] and back["Seats"].tolist() == [3, 0, 12]
    with pytest.raises(InputError, match="no column 'nope'"):
        write_csv(_frame(), tmp_path / "n.csv", columns=["nope"])


def test_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path):
    path = tmp_path / "keep.csv"
    path.write_text("old content", encoding="utf-8")

    class Exploding:
        def __str__(self):
            raise RuntimeError("boom while writing")

    df = pd.DataFrame({"a": ["ok"] * 50 + [Exploding()]})
    with pytest.raises(RuntimeError, match="boom"):
        write_csv(df, path)
    assert path.read_text(encoding="utf-8") == "old content"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.csv"]


def test_missing_folder_is_an_input_error(tmp_path):
    with pytest.raises(InputError) as info:
        write_csv(_frame(), tmp_path / "nope" / "x.csv")
    assert "does not exist" in str(info.value) and "nope" in str(info.value)
