"""Workbook cells: a value made safe by ``sanitize.excel_cell`` becomes a plain value (fast path) or a styled
write-only cell (fonts, fills, borders, number formats, hyperlinks); style combinations are resolved once per
sheet. Also which hyperlinks Excel may be given (http(s) only, no spaces, not over-long).
"""

from __future__ import annotations

import datetime as dt
import re
from copy import copy
from typing import Any

import pandas as pd
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Border, Font, PatternFill, Side

from .definitions import NAMED_FORMATS
from .sanitize import CellValue, clean_text

__all__ = ["Styles", "Styled", "make_cell", "link_target", "default_format", "MAX_URL_CHARS"]

MAX_URL_CHARS = 2079                 # longest hyperlink address Excel accepts
_LINK_SCHEMES = ("https://", "http://")
_SPACE = re.compile(r"\s")


class Styles:
    """One instance of each style object, shared by all cells (openpyxl de-duplicates by value anyway)."""

    def __init__(self) -> None:
        self.title = Font(bold=True, size=14)
        self.heading = Font(bold=True, size=12)
        self.bold = Font(bold=True)
        self.header_fill = PatternFill("solid", fgColor="D9E1F2")
        self.header_border = Border(bottom=Side(style="thin", color="8EA9DB"))
        self._fills: dict[str, PatternFill] = {}

    def fill(self, color: str) -> PatternFill:
        if color not in self._fills:
            self._fills[color] = PatternFill("solid", fgColor=color)
        return self._fills[color]


_STYLE_CACHE_ATTR = "_ccsync_style_cache"
_LINK_FONT = Font(color="0563C1", underline="single")


def make_cell(ws: Any, cv: CellValue, *, font: Font | None = None, fill: PatternFill | None = None,
              number_format: str | None = None, link: str | None = None,
              border: Border | None = None) -> Any:
    """A plain value when nothing needs styling (fast path), else a WriteOnlyCell carrying the styles.

    Formula-like text is stored as a string with the quote prefix: no ``<f>`` element is ever written.
    """
    if number_format and (cv.value is None or cv.force_text):
        number_format = None
    if link and font is None:
        font = _LINK_FONT
    if not (cv.force_text or font or fill or link or border or number_format):
        return cv.value
    cell = WriteOnlyCell(ws, value=cv.value)
    if cv.force_text:
        cell.data_type = "s"
    # Resolving a style combination through openpyxl's registries is slow; do it once per combination.
    cache = ws.__dict__.setdefault(_STYLE_CACHE_ATTR, {})
    key = (cv.force_text, id(font), id(fill), number_format, id(border))
    style = cache.get(key)
    if style is None:
        proto = WriteOnlyCell(ws)
        proto.quotePrefix = cv.force_text
        if number_format:
            proto.number_format = number_format
        if fill is not None:
            proto.fill = fill
        if border is not None:
            proto.border = border
        if font is not None:
            proto.font = font
        style = cache[key] = (proto._style, font, fill, border)   # keep the objects alive: ids stay unique
    cell._style = copy(style[0])
    if link:
        cell.hyperlink = link
    return cell


def link_target(value: Any) -> str | None:
    """An http(s) URL Excel can open, or None (no javascript:, file: or over-long links from data)."""
    if value is None or value is pd.NA or not isinstance(value, str):
        return None
    url = clean_text(value.strip())
    if not url.lower().startswith(_LINK_SCHEMES) or len(url) > MAX_URL_CHARS or _SPACE.search(url):
        return None
    return url


def default_format(value: Any) -> str | None:
    """The number format a date or datetime gets when its column names none."""
    if isinstance(value, dt.datetime):
        return NAMED_FORMATS["datetime"]
    if isinstance(value, dt.date):
        return NAMED_FORMATS["date"]
    return None


class Styled(tuple):
    """(value, style id): a cell the raw row writer writes without a Cell object."""

    __slots__ = ()

    def __new__(cls, value: Any, sid: int) -> "Styled":
        return tuple.__new__(cls, (value, sid))
