"""Make any value safe to put in a spreadsheet cell: no formula injection, no illegal XML, no crash.

Formula (CSV) injection, per OWASP's guidance: a text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab
(0x09) or a carriage return (0x0D) - or the full-width ``＝ ＋ － ＠`` that Excel also accepts - may be run as a
formula when the file is opened. Data from a tenant (a display name, a job title) is attacker-controlled, so:

- in an ``.xlsx`` such text is stored as a *string* cell (never an ``<f>`` formula element) with the
  ``quotePrefix`` style, which is exactly what Excel itself stores when a person types ``'=1``: the value is
  unchanged, shown as text, and stays text if someone edits the cell;
- in a CSV, where there are no cell types, it gets a leading single quote (``'=1``), as OWASP recommends, and
  every text field is quoted so a ``;`` or ``,`` inside it cannot start a new cell in any Excel locale.

Other promises: characters XML 1.0 forbids (most C0 controls, lone surrogates, U+FFFE/U+FFFF) are removed;
text that looks like OOXML's ``_xHHHH_`` escape is escaped so Excel shows it literally (ECMA-376 22.4.2.4);
text longer than Excel's 32,767-character cell limit is cut with a visible marker. Numbers stay numbers,
booleans stay booleans, pandas NA / NaN / None become an empty cell, timezone-aware datetimes become naive UTC
(Excel has no time zones), lists become ``a; b``, mappings become JSON.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import re
import uuid
from dataclasses import dataclass
from typing import Any, Mapping

import pandas as pd

__all__ = ["FORMULA_TRIGGERS", "EXCEL_MAX_CELL_CHARS", "CellValue", "is_formula_like", "clean_text",
           "excel_cell", "csv_field", "plain_value"]

# ASCII triggers from OWASP's CSV injection page, plus the full-width forms Excel also treats as formula starts.
FORMULA_TRIGGERS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")

EXCEL_MAX_CELL_CHARS = 32767
_TRUNCATED = " [truncated by ccsync: the full value exceeds Excel's 32,767-character cell limit]"

# XML 1.0 allows #x9 #xA #xD, #x20-#xD7FF, #xE000-#xFFFD, #x10000-#x10FFFF; anything else breaks the file.
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_OOXML_ESCAPE = re.compile(r"_(x[0-9A-Fa-f]{4}_)")
# Excel keeps 15 significant digits: a larger integer would silently lose its last digits.
_EXCEL_MAX_EXACT_INT = 10 ** 15


@dataclass(frozen=True)
class CellValue:
    """What to write into one xlsx cell: the value, and whether it must be forced to text (quote prefix)."""

    value: Any
    force_text: bool = False


def is_formula_like(text: str) -> bool:
    """True when a spreadsheet could read this text as the start of a formula."""
    return bool(text) and text.startswith(FORMULA_TRIGGERS)


def clean_text(text: str) -> str:
    """Remove the characters XML 1.0 cannot carry (openpyxl would raise IllegalCharacterError on most)."""
    return _ILLEGAL_XML.sub("", text)


def plain_value(value: Any) -> Any:
    """Normalise a DataFrame value to None, bool, int, float, str, datetime/date/time/timedelta.

    NA/NaN/None -> None; numpy scalars -> Python; tz-aware datetimes -> naive UTC; lists/sets -> ``a; b``;
    mappings -> JSON text; anything else -> ``str``. Infinity has no Excel form and becomes text.
    """
    kind = type(value)
    if kind is str or kind is bool or kind is int:      # the common cases first: this runs for every cell
        return value
    if kind is float:
        return None if value != value else ("Infinity" if value == math.inf else
                                            "-Infinity" if value == -math.inf else value)
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (list, tuple, set, frozenset)) or type(value).__name__ == "ndarray":
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else list(value)
        return "; ".join("" if plain_value(v) is None else str(plain_value(v)) for v in items)
    if isinstance(value, Mapping):
        return json.dumps(value, default=str, ensure_ascii=False)
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    kind_name = type(value).__name__
    if kind_name == "datetime64":          # numpy's .item() would give nanoseconds as an int
        value = pd.Timestamp(value)
    elif kind_name == "timedelta64":
        value = pd.Timedelta(value)
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    elif isinstance(value, pd.Timedelta):
        value = value.to_pytimedelta()
    elif hasattr(value, "item") and not isinstance(value, (str, bytes)):   # numpy scalars
        try:
            value = value.item()
        except (AttributeError, ValueError, TypeError):
            pass
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return value
    if isinstance(value, decimal.Decimal):
        return float(value) if value.is_finite() else str(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return value
    if isinstance(value, dt.time):
        return value.replace(tzinfo=None) if value.tzinfo is not None else value
    if isinstance(value, (dt.date, dt.timedelta)):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, uuid.UUID):
        return str(value)
    return str(value)


def _safe_text(text: str) -> str:
    text = clean_text(text)
    if len(text) > EXCEL_MAX_CELL_CHARS:
        text = text[:EXCEL_MAX_CELL_CHARS - len(_TRUNCATED)] + _TRUNCATED
    return text


def excel_cell(value: Any) -> CellValue:
    """The value to store in an xlsx cell; ``force_text`` is set for formula-like text (see module doc)."""
    value = plain_value(value)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= _EXCEL_MAX_EXACT_INT:
        return CellValue(str(value))
    if not isinstance(value, str):
        return CellValue(value)
    text = _OOXML_ESCAPE.sub(r"_x005F_\1", _safe_text(value))
    if text == "":
        return CellValue(None)
    return CellValue(text, force_text=is_formula_like(text))


def csv_field(value: Any) -> Any:
    """The value to give ``csv.writer`` for one field: numbers as numbers, text made safe with a leading quote.

    Datetimes become ISO 8601 UTC (``2026-01-02T03:04:05Z``); booleans ``TRUE``/``FALSE`` as Excel writes them;
    empty values ``""``.
    """
    value = plain_value(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, dt.datetime):
        text = value.isoformat(timespec="seconds") + "Z"
    elif isinstance(value, (dt.date, dt.time)):
        text = value.isoformat()
    else:
        text = str(value)
    text = clean_text(text)
    return "'" + text if is_formula_like(text) else text
