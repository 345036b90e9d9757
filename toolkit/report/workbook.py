"""Build an Excel workbook from a report definition, DataFrames and a dict of summary values.

Table sheets without hyperlinks have their data rows written as worksheet XML by ``_RowWriter`` and spliced
into the sheet openpyxl streams (openpyxl's per-cell serialiser was the bottleneck; bench/bench_logs_report.py).
Every sheet is written in openpyxl's write-only (streaming) mode: rows go to disk as they are produced, so a
million-row Users sheet does not need a million Cell objects in memory. Write-only worksheets support all the
definition asks for - Excel tables (``add_table``; we name the table columns ourselves because openpyxl cannot
read header cells back from a streamed sheet), frozen panes, column widths, styled cells, hyperlinks and charts.
Every value goes through ``sanitize.excel_cell``, so text from a tenant can never become a formula.

Every sheet is set up to print as these reports are printed for a manager: landscape, scaled to one page wide
(as many pages tall as needed), the header row of a table repeated on every page, and the report's title and
the sheet name in the page header (page numbers in the footer). A table wider than a legible page prints its
leading columns (definitions put the important ones first); the others stay in the sheet.

Excel limits honoured here: 1,048,576 rows per sheet (a bigger table is split across ``Users``, ``Users (2)``
... or refused, as the definition says) and 65,530 hyperlinks per sheet (beyond that a sheet carries its URLs
as a plain text column instead of links). The file is written to a temporary file in the same folder and moved
into place with ``os.replace``, so a crash never leaves a half-written workbook behind.
"""

from __future__ import annotations

import datetime as dt
from copy import copy
import os
import re
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.chart import BarChart, PieChart, Reference
from openpyxl.chart.data_source import AxDataSource, StrRef
from openpyxl.chart.marker import DataPoint
from openpyxl.chart.shapes import GraphicalProperties
from openpyxl.drawing.spreadsheet_drawing import SpreadsheetDrawing
from openpyxl.utils.datetime import to_excel
from openpyxl.styles import Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.filters import AutoFilter
from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo

from ..errors import InputError
from .definitions import ColumnDef, NAMED_FORMATS, Palette, ReportDefinition, Section, SheetDef
from .atomic import atomic_write, check_target
from .sanitize import EXCEL_MAX_CELL_CHARS, FORMULA_TRIGGERS, CellValue, clean_text, excel_cell

__all__ = ["build_workbook", "atomic_write", "MAX_DATA_ROWS", "MAX_HYPERLINKS"]

MAX_DATA_ROWS = 1_048_576 - 1        # Excel's rows per sheet, minus the header row
MAX_HYPERLINKS = 65_530              # Excel refuses more hyperlinks than this on one worksheet
MAX_URL_CHARS = 2079                 # longest hyperlink address Excel accepts
_LINK_SCHEMES = ("https://", "http://")
_SPACE = re.compile(r"\s")
_PRINT_WIDTH = 230.0                 # column-width units that print legibly on one landscape page
_PRINT_MIN_COLUMNS = 4
_BLOCK_ROWS = 10_000                 # rows made safe per vectorised pass (bounded memory)
# Text that needs excel_cell's careful path: XML-illegal characters or OOXML's _xHHHH_ escape.
_NEEDS_CARE = r"[\x00-\x08\x0b\x0c\x0e-\x1f]|[\x{FFFE}\x{FFFF}]|_x[0-9A-Fa-f]{4}_"      # RE2 syntax (Arrow)
_CHART_ROWS = 17                     # rows a chart anchored beside a counts table covers (8 cm high)


class _Styles:
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


def _make_cell(ws: Any, cv: CellValue, *, font: Font | None = None, fill: PatternFill | None = None,
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


def _link_target(value: Any) -> str | None:
    """An http(s) URL Excel can open, or None (no javascript:, file: or over-long links from data)."""
    if value is None or value is pd.NA or not isinstance(value, str):
        return None
    url = clean_text(value.strip())
    if not url.lower().startswith(_LINK_SCHEMES) or len(url) > MAX_URL_CHARS or _SPACE.search(url):
        return None
    return url


def _lookup(values: Mapping[str, Any], key: str) -> tuple[bool, Any]:
    """Follow a dotted path (``byStatus.eligible``) through nested mappings."""
    current: Any = values
    for part in key.split("."):
        if not isinstance(current, Mapping) or part not in current:
            return False, None
        current = current[part]
    return True, current


def _render_template(text: str, values: Mapping[str, Any]) -> str:
    def sub(match: re.Match[str]) -> str:
        found, value = _lookup(values, match.group(1))
        return "" if not found or value is None else str(value)
    return re.sub(r"\{([A-Za-z0-9_.]+)\}", sub, text)


def _auto_width(label: str, values: Iterable[Any], lo: int = 8, hi: int = 60) -> float:
    longest = len(label)
    for value in values:
        if value is None or value is pd.NA:
            continue
        text = value.isoformat(sep=" ") if isinstance(value, dt.datetime) else str(value)
        longest = max(longest, len(text))
    return float(min(max(longest + 2, lo), hi))


def _table_name(sheet_name: str, taken: set[str]) -> str:
    """A valid, unique Excel table name: letters, digits and underscores, not a cell reference."""
    # The underscore keeps it from ever reading as a cell reference ("tbl1" is column TBL, row 1).
    base = "tbl_" + re.sub(r"[^A-Za-z0-9_]", "", sheet_name)
    name, n = base, 2
    while name.lower() in taken:
        name, n = f"{base}{n}", n + 1
    taken.add(name.lower())
    return name


class _Styled(tuple):
    """(value, style id): a cell the raw row writer writes without a Cell object."""

    __slots__ = ()

    def __new__(cls, value: Any, sid: int) -> "_Styled":
        return tuple.__new__(cls, (value, sid))


class _RowWriter:
    """Streams a table sheet's data rows as worksheet XML into a file of its own, then splices them into the
    sheet openpyxl wrote (header row, table, print setup, ...) when the sheet is closed.

    Cells are what ``data_cell`` returns: plain values (text already made safe, numbers, booleans, naive UTC
    datetimes) or ``WriteOnlyCell``s carrying a style (formats, fills, the quote prefix of formula-like text).
    Text is written as inline strings (no shared-string table growing with every distinct value); styles are
    registered in the workbook's style table exactly as openpyxl registers them.
    """

    def __init__(self, ws: Any, width: int):
        self.ws = ws
        self.letters = [get_column_letter(i) for i in range(1, width + 1)]
        self.epoch = ws.parent.epoch
        self.styles: dict[tuple[int, ...], int] = {}
        self.next_row = 2                              # row 1 is the header, written by openpyxl
        fd, self.path = tempfile.mkstemp(prefix="ccsync-rows.", suffix=".xml")
        self.fh = os.fdopen(fd, "w", encoding="utf-8", newline="")
        self.buffer: list[str] = []

    def _style_id(self, cell: Any) -> int:
        key = tuple(cell._style)                         # a StyleArray: font, fill, border, format ids ...
        sid = self.styles.get(key)
        if sid is None:
            sid = self.styles[key] = self.ws.parent._cell_styles.add(cell._style)
        return sid

    def _cell(self, ref: str, value: Any, sid: int | None) -> str:
        s_attr = f' s="{sid}"' if sid else ""
        kind = type(value)
        if kind is str:
            text = value
            if "&" in text or "<" in text or ">" in text:
                text = _xml_escape(text)
            space = ' xml:space="preserve"' if text != text.strip() else ""
            return f'<c r="{ref}"{s_attr} t="inlineStr"><is><t{space}>{text}</t></is></c>'
        if kind is bool:
            return f'<c r="{ref}"{s_attr} t="b"><v>{int(value)}</v></c>'
        if kind is int or kind is float:
            return f'<c r="{ref}"{s_attr}><v>{value!r}</v></c>'
        if isinstance(value, (dt.datetime, dt.date, dt.time, dt.timedelta)):
            return f'<c r="{ref}"{s_attr}><v>{to_excel(value, self.epoch)!r}</v></c>'
        if isinstance(value, (int, float)):
            return f'<c r="{ref}"{s_attr}><v>{value!r}</v></c>'
        return self._cell(ref, str(value), sid)

    def row(self, cells: list[Any]) -> None:
        r = self.next_row
        self.next_row += 1
        parts = [f'<row r="{r}">']
        for letter, cell in zip(self.letters, cells):
            if type(cell) is _Styled:
                value, sid = cell
            elif isinstance(cell, Cell):
                value, sid = cell._value, self._style_id(cell) if cell.has_style else None
            else:
                value, sid = cell, None
            if value is None:
                if sid:
                    parts.append(f'<c r="{letter}{r}" s="{sid}"/>')
                continue
            parts.append(self._cell(f"{letter}{r}", value, sid))
        parts.append("</row>")
        self.buffer.append("".join(parts))
        if len(self.buffer) >= 2000:
            self.fh.write("".join(self.buffer))
            self.buffer.clear()

    def discard(self) -> None:
        """Throw the rows away (the workbook is not being written after all)."""
        self.fh.close()
        try:
            os.unlink(self.path)
        except OSError:
            pass

    def finish(self) -> None:
        """Close the sheet (openpyxl writes the header row and the tail) and splice the rows in."""
        self.fh.write("".join(self.buffer))
        self.fh.close()
        ws = self.ws
        try:
            ws._drawing = SpreadsheetDrawing()          # what openpyxl's writer sets before closing a sheet
            ws._drawing.charts, ws._drawing.images = ws._charts, ws._images
            ws.close()
            src = ws._writer.out
            with open(src, "rb") as fin:
                xml = fin.read()                       # the sheet without its data rows: small
            cut = xml.rfind(b"</sheetData>")
            if cut < 0:
                raise RuntimeError("sheetData not found in the streamed sheet")
            last = self.next_row - 1
            head = re.sub(rb'<dimension ref="[^"]*"\s*/>',
                          f'<dimension ref="A1:{self.letters[-1]}{max(last, 1)}"/>'.encode(), xml[:cut], count=1)
            with open(src, "wb") as fout:              # openpyxl zips writer.out, then removes it
                fout.write(head)
                with open(self.path, "rb") as rows:
                    shutil.copyfileobj(rows, fout, 1 << 20)
                fout.write(xml[cut:])
        finally:
            try:
                os.unlink(self.path)
            except OSError:
                pass


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class _Builder:
    def __init__(self, definition: ReportDefinition, frames: Mapping[str, pd.DataFrame],
                 values: Mapping[str, Any], vocabularies: Mapping[str, Mapping[str, Any]]):
        self.d = definition
        self.frames = frames
        self.values = values
        self.vocabularies = vocabularies
        self.styles = _Styles()
        self.table_names: set[str] = set()
        self.wb = Workbook(write_only=True)
        self.raw_sheet: Any = None

    # --- checks before anything is written ---------------------------------------------------------------

    def fail(self, message: str, hint: str | None = None, field: str | None = None) -> InputError:
        return InputError(f"report '{self.d.name}': {message}", source=self.d.source or None, field=field,
                          hint=hint)

    def frame(self, name: str) -> pd.DataFrame:
        if name not in self.frames:
            raise self.fail(f"no DataFrame named '{name}' was given.",
                            hint=f"Pass frames with the names the definition uses: "
                                 f"{', '.join(sorted(self.d.frames_needed()))}.")
        return self.frames[name]

    def check_columns(self, frame: str, names: Iterable[str], sheet: str) -> None:
        df = self.frame(frame)
        missing = [n for n in names if n not in df.columns]
        if missing:
            raise self.fail(f"sheet '{sheet}' needs column '{missing[0]}' of frame '{frame}', which it lacks.",
                            hint=f"Columns present: {', '.join(map(str, df.columns))}.")

    def check_inputs(self) -> None:
        for sheet in self.d.sheets:
            if sheet.kind == "table":
                self.check_columns(sheet.frame, [c.name for c in sheet.columns]
                                   + [c.link for c in sheet.columns if c.link], sheet.name)
            for sec in sheet.sections:
                if sec.kind == "counts":
                    self.check_columns(sec.frame, [sec.column], sheet.name)
                elif sec.kind == "table":
                    self.check_columns(sec.frame, [c.name for c in sec.columns]
                                       + [c.link for c in sec.columns if c.link], sheet.name)
                if sec.vocabulary and sec.vocabulary not in self.vocabularies:
                    raise self.fail(f"sheet '{sheet.name}' needs the vocabulary '{sec.vocabulary}'.",
                                    hint="Pass it in vocabularies={...}.")
            if sheet.kind == "table" and sheet.overflow == "refuse" and len(self.frame(sheet.frame)) > MAX_DATA_ROWS:
                raise self.fail(
                    f"sheet '{sheet.name}' would have {len(self.frame(sheet.frame)):,} rows; an Excel sheet holds "
                    f"at most {MAX_DATA_ROWS:,} below its header.",
                    hint="Narrow the input, write the CSV output instead, or set overflow = \"split\".")

    # --- cells -------------------------------------------------------------------------------------------

    def data_cell(self, ws: Any, col: ColumnDef, value: Any, link_value: Any = None, *,
                  allow_link: bool = True) -> Any:
        cv = excel_cell(value)
        fill = None
        if col.palette:
            color = self.d.palettes[col.palette].color_for(cv.value)
            fill = self.styles.fill(color) if color else None
        for rule in col.fill_when:
            if rule.matches(cv.value):
                fill = self.styles.fill(rule.color)
                break
        link = _link_target(link_value) if (col.link and allow_link and cv.value is not None) else None
        return _make_cell(ws, cv, fill=fill, number_format=col.format or self._default_format(cv.value),
                          link=link)

    def _plain_column(self, ws: Any, col: ColumnDef, series: pd.Series) -> list[Any] | None:
        """The cells of a text column that needs no styling, made safe in one vectorised pass; None when the
        column must go cell by cell (styled, linked, formatted, or not Arrow-backed text, which alone cannot
        hold the lone surrogates excel_cell removes)."""
        if not (col.palette or col.fill_when or col.link) and ws is self.raw_sheet:
            numeric = self._numeric_column(ws, col, series)
            if numeric is not None:
                return numeric
        if col.palette or col.fill_when or col.link or col.format or not isinstance(series.dtype, pd.StringDtype) \
                or getattr(series.dtype, "storage", "") != "pyarrow":
            return None
        values = series.to_numpy(dtype=object, na_value=None)
        def flags(mask: pd.Series) -> Any:
            return mask.astype("boolean").fillna(False).to_numpy(dtype=bool)
        slow = (flags(series.str.contains(_NEEDS_CARE, regex=True)) | flags(series.str.startswith(FORMULA_TRIGGERS))
                | flags(series.str.len() > EXCEL_MAX_CELL_CHARS) | flags(series == ""))
        for i in slow.nonzero()[0]:
            values[i] = _make_cell(ws, excel_cell(values[i]))          # the careful path, cell by cell
        return list(values)

    def _numeric_column(self, ws: Any, col: ColumnDef, series: pd.Series) -> list[Any] | None:
        """Datetime and integer columns for the raw row writer: (value, style id) pairs computed once per
        column instead of a styled cell per value; None for any other column."""
        if isinstance(series.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(series.dtype):
            utc = series.dt.tz_convert(None) if isinstance(series.dtype, pd.DatetimeTZDtype) else series
            values = [None if v is pd.NaT else v for v in utc.dt.to_pydatetime()] if len(utc) else []
            fmt = col.format or NAMED_FORMATS["datetime"]
            proto = _make_cell(ws, CellValue(dt.datetime(2000, 1, 1)), number_format=fmt)
        elif str(series.dtype) == "Int64":
            values = series.astype(object).where(series.notna(), None).tolist()
            if any(v is not None and abs(v) >= 10 ** 15 for v in values):
                return None                            # excel_cell writes such numbers as text: go cell by cell
            if not col.format:
                return values
            proto = _make_cell(ws, CellValue(1), number_format=col.format)
        else:
            return None
        sid = ws.parent._cell_styles.add(proto._style)
        return [None if v is None else _Styled(v, sid) for v in values]

    @staticmethod
    def _default_format(value: Any) -> str | None:
        if isinstance(value, dt.datetime):
            return NAMED_FORMATS["datetime"]
        if isinstance(value, dt.date):
            return NAMED_FORMATS["date"]
        return None

    def text_cell(self, ws: Any, value: Any, font: Font | None = None, fill: PatternFill | None = None,
                  border: Border | None = None, number_format: str | None = None) -> Any:
        cv = excel_cell(value)
        return _make_cell(ws, cv, font=font, fill=fill, border=border,
                          number_format=number_format or self._default_format(cv.value))

    def header_cell(self, ws: Any, label: str) -> Any:
        return self.text_cell(ws, label, font=self.styles.bold, fill=self.styles.header_fill,
                              border=self.styles.header_border)

    # --- printing -----------------------------------------------------------------------------------------

    def print_setup(self, ws: Any, *, repeat_header: bool) -> None:
        """Landscape, one page wide, header row on every page, title and sheet name in the page header."""
        ws.page_setup.orientation = "landscape"
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0                    # 0: as many pages tall as the rows need
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        if repeat_header:
            ws.print_title_rows = "1:1"
        title = clean_text(_render_template(self.d.title, self.values)).replace("&", "&&")
        ws.oddHeader.center.text = f"{title} - {ws.title.replace('&', '&&')}"[:250]
        ws.oddFooter.center.text = "Page &P of &N"
        ws.oddFooter.right.text = "&D"

    # --- table sheets ------------------------------------------------------------------------------------

    def table_sheet(self, sheet: SheetDef) -> None:
        df = self.frame(sheet.frame)
        parts = max(1, -(-len(df) // MAX_DATA_ROWS))
        for part in range(parts):
            chunk = df.iloc[part * MAX_DATA_ROWS:(part + 1) * MAX_DATA_ROWS]
            title = sheet.name if part == 0 else f"{sheet.name} ({part + 1})"
            self.write_table(self.wb.create_sheet(title), sheet, chunk)

    def write_table(self, ws: Any, sheet: SheetDef, df: pd.DataFrame) -> None:
        columns = list(sheet.columns)
        linking = len(df) <= MAX_HYPERLINKS
        shown = {c.name for c in columns}
        if not linking:
            # Too many rows for Excel's hyperlink limit: keep every URL as visible text instead.
            labels = {c.label.lower() for c in columns}
            for c in sheet.columns:
                if c.link and c.link not in shown and c.link.lower() not in labels:
                    columns.append(ColumnDef(name=c.link, label=c.link, width=60))
                    shown.add(c.link)
        sample = df.head(200)
        widths = []
        for i, col in enumerate(columns, 1):
            width = col.width or _auto_width(col.label, (excel_cell(v).value for v in sample[col.name]))
            ws.column_dimensions[get_column_letter(i)].width = width
            widths.append(width)
        if sheet.freeze_header:
            ws.freeze_panes = "A2"
        self.print_setup(ws, repeat_header=True)
        ws.append([self.text_cell(ws, c.label) for c in columns])
        names = [c.name for c in columns]
        links = [c.link for c in columns]
        link_series = {name: df[name] for name in set(filter(None, links))}
        data = df[names]
        link_iters = [iter(link_series[name]) if name else None for name in links]
        # Without hyperlinks the rows go to the sheet's XML directly (_RowWriter), which is several times
        # faster than openpyxl's per-cell serialiser; with hyperlinks openpyxl writes them (it owns the rels;
        # a sheet too long for hyperlinks has its URLs as text, and goes the fast way).
        raw = _RowWriter(ws, len(columns)) if not (linking and any(link_iters)) else None
        self.raw_sheet = ws if raw is not None else None       # its rows may carry _Styled values
        try:
            for start in range(0, len(data), _BLOCK_ROWS):
                block = data.iloc[start:start + _BLOCK_ROWS]
                # Columns without per-cell styling are made safe a block at a time (vectorised), not cell by cell.
                fast = [self._plain_column(ws, col, block[col.name]) for col in columns]
                for i, row in enumerate(block.itertuples(index=False, name=None)):
                    out = []
                    for col, value, it, ready in zip(columns, row, link_iters, fast):
                        link_value = next(it) if it is not None else None
                        out.append(ready[i] if ready is not None else
                                   self.data_cell(ws, col, value, link_value, allow_link=linking))
                    if raw is not None:
                        raw.row(out)
                    else:
                        ws.append(out)
        except BaseException:
            if raw is not None:
                raw.discard()
            raise
        last_row = max(len(df), 1) + 1          # an Excel table needs at least one (possibly empty) data row
        ref = f"A1:{get_column_letter(len(columns))}{last_row}"
        table = Table(displayName=_table_name(ws.title, self.table_names), ref=ref)
        # Write-only sheets cannot be read back, so openpyxl cannot name the columns from the header row.
        table.tableColumns = [TableColumn(id=i, name=str(excel_cell(c.label).value))
                              for i, c in enumerate(columns, 1)]
        table.autoFilter = AutoFilter(ref=ref)
        table.tableStyleInfo = TableStyleInfo(name=sheet.style, showRowStripes=True, showFirstColumn=False,
                                              showLastColumn=False, showColumnStripes=False)
        with warnings.catch_warnings():
            # openpyxl warns that write-only tables need their columns named by hand: done just above.
            warnings.filterwarnings("ignore", message="In write-only mode you must add table columns manually")
            ws.add_table(table)
        # One page wide must stay legible: print the leading columns (definitions list the important ones
        # first) up to about a landscape page at 60 % scale; the rest stay in the sheet, unprinted.
        total, shown = 0.0, 0
        for width in widths:
            if shown >= _PRINT_MIN_COLUMNS and total + width > _PRINT_WIDTH:
                break
            total, shown = total + width, shown + 1
        if shown < len(columns):
            ws.print_area = f"A1:{get_column_letter(shown)}{last_row}"
        self.raw_sheet = None
        if raw is not None:
            raw.finish()

    # --- summary and legend sheets (stacked sections) -----------------------------------------------------

    def stacked_sheet(self, sheet: SheetDef) -> None:
        ws = self.wb.create_sheet(sheet.name)
        self.print_setup(ws, repeat_header=False)
        rows: list[list[Callable[[], Any]]] = []     # cells are built lazily, after the widths are known
        texts: list[list[Any]] = []                  # what the widths are computed from
        charts: list[tuple[Section, int, list[str]]] = []  # (section, header row, categories in order)

        def add(row: list[tuple[Any, Callable[[], Any]]]) -> None:
            texts.append([t for t, _ in row])
            rows.append([f for _, f in row])

        if sheet.title:
            title = _render_template(sheet.title, self.values)
            add([(None, lambda t=title: self.text_cell(ws, t, font=self.styles.title))])
            add([])
        for sec in sheet.sections:
            if sec.title:
                add([(None, lambda t=sec.title: self.text_cell(ws, t, font=self.styles.heading))])
            start = len(rows)
            getattr(self, f"section_{sec.kind}")(ws, sec, add, charts, len(rows) + 1)
            if sec.kind == "counts" and sec.chart != "none":
                while len(rows) - start < _CHART_ROWS:
                    add([])
            add([])
        widths: dict[int, float] = {}
        for row in texts:
            for i, value in enumerate(row, 1):
                if value is not None:
                    widths[i] = max(widths.get(i, 10.0), min(len(str(value)) + 2, 60.0))
        for i, width in widths.items():
            ws.column_dimensions[get_column_letter(i)].width = width
        for row in rows:
            ws.append([make() for make in row])
        for sec, header_row, keys in charts:
            # Beside its two-column counts table; the section reserves _CHART_ROWS rows so nothing is covered.
            self.add_chart(ws, sec, header_row, keys, f"D{header_row}")

    def section_figures(self, ws: Any, sec: Section, add: Callable, charts: list, first_row: int) -> None:
        for fig in sec.figures:
            found, value = _lookup(self.values, fig.key)
            if fig.optional and found and excel_cell(value).value is None:
                continue                        # an empty optional figure (no notes) is left out, not shown blank
            if not found:
                if fig.optional:
                    continue
                raise self.fail(f"the summary values have no '{fig.key}'.",
                                hint="Add it to the summary, or mark the figure optional = true.",
                                field=fig.key)
            fmt = fig.format or (NAMED_FORMATS["integer"] if isinstance(value, int)
                                 and not isinstance(value, bool) else None)
            add([(fig.label, lambda t=fig.label: self.text_cell(ws, t, font=self.styles.bold)),
                 (excel_cell(value).value, lambda v=value, f=fmt: self.text_cell(ws, v, number_format=f))])

    def section_counts(self, ws: Any, sec: Section, add: Callable, charts: list, first_row: int) -> None:
        series = self.frame(sec.frame)[sec.column]
        counts = series.astype("object").where(series.notna(), None).map(
            lambda v: "(none)" if v is None else str(excel_cell(v).value)).value_counts(sort=False)
        items = [(str(k), int(v)) for k, v in counts.items()]
        if sec.order == "count":
            items.sort(key=lambda kv: (-kv[1], kv[0]))
        elif sec.order == "value":
            items.sort(key=lambda kv: kv[0])
        else:
            rank = {str(k): i for i, k in enumerate(self.vocabularies[sec.vocabulary])}
            items.sort(key=lambda kv: (rank.get(kv[0], len(rank)), kv[0]))
        palette = self.d.palettes.get(sec.palette) if sec.palette else None
        add([(sec.label, lambda: self.header_cell(ws, sec.label)),
             (sec.count_label, lambda: self.header_cell(ws, sec.count_label))])
        for key, count in items:
            color = palette.color_for(key) if palette else None
            fill = self.styles.fill(color) if color else None
            add([(key, lambda k=key, f=fill: self.text_cell(ws, k, fill=f)),
                 (count, lambda c=count: self.text_cell(ws, c, number_format=NAMED_FORMATS["integer"]))])
        if sec.chart != "none" and items:
            charts.append((sec, first_row, [k for k, _ in items]))

    def section_table(self, ws: Any, sec: Section, add: Callable, charts: list, first_row: int) -> None:
        df = self.frame(sec.frame)
        add([(c.label, lambda c=c: self.header_cell(ws, c.label)) for c in sec.columns])
        for _, row in df.iterrows():
            add([(excel_cell(row[c.name]).value,
                  lambda c=c, v=row[c.name], lv=(row[c.link] if c.link else None): self.data_cell(ws, c, v, lv))
                 for c in sec.columns])

    def section_vocabulary(self, ws: Any, sec: Section, add: Callable, charts: list, first_row: int) -> None:
        vocab = self.vocabularies[sec.vocabulary]
        palette = self.d.palettes.get(sec.palette) if sec.palette else None
        add([(label, lambda t=label: self.header_cell(ws, t)) for label in (sec.key_label, *sec.labels)])
        for key, entry in vocab.items():
            color = palette.color_for(str(key)) if palette else None
            fill = self.styles.fill(color) if color else None
            cells = [(str(key), lambda k=key, f=fill: self.text_cell(ws, str(k), fill=f))]
            for i, name in enumerate(sec.fields):
                value = _vocabulary_field(entry, i, name)
                cells.append((value, lambda v=value: self.text_cell(ws, v)))
            add(cells)

    def section_columns(self, ws: Any, sec: Section, add: Callable, charts: list, first_row: int) -> None:
        target = self.d.sheet(sec.sheet)
        add([(h, lambda h=h: self.header_cell(ws, h)) for h in ("Column", "Property", "Description")])
        for c in target.columns:
            text = c.description + (f" Links to the address in '{c.link}'." if c.link else "")
            add([(c.label, lambda v=c.label: self.text_cell(ws, v, font=self.styles.bold)),
                 (c.name, lambda v=c.name: self.text_cell(ws, v)),
                 (text.strip(), lambda v=text.strip(): self.text_cell(ws, v))])

    def add_chart(self, ws: Any, sec: Section, header_row: int, keys: list[str], anchor: str) -> None:
        """A bar or pie chart of the counts table whose header is at ``header_row``, coloured by palette."""
        count = len(keys)
        chart = PieChart() if sec.chart == "pie" else BarChart()
        if isinstance(chart, BarChart):
            chart.type = "bar"                  # horizontal bars: long status names stay readable
            chart.legend = None
            chart.y_axis.title = sec.count_label
            chart.y_axis.majorGridlines = None
            chart.x_axis.scaling.orientation = "maxMin"     # first row on top, as in the table
            chart.x_axis.delete = False
            chart.y_axis.delete = False
        chart.title = sec.title or f"{sec.count_label} by {sec.label}"
        chart.height, chart.width = 8, 16
        data = Reference(ws, min_col=2, min_row=header_row, max_row=header_row + count)
        cats = Reference(ws, min_col=1, min_row=header_row + 1, max_row=header_row + count)
        chart.add_data(data, titles_from_data=True)
        # Categories are text (status names): a string reference, not openpyxl's default number reference.
        chart.series[0].cat = AxDataSource(strRef=StrRef(f=str(cats)))
        palette: Palette | None = self.d.palettes.get(sec.palette) if sec.palette else None
        if palette:
            points = []
            for i, key in enumerate(keys):
                color = palette.color_for(key)
                if color:
                    points.append(DataPoint(idx=i, spPr=GraphicalProperties(solidFill=color)))
            chart.series[0].dPt = points
        ws.add_chart(chart, anchor)

    # --- whole workbook ----------------------------------------------------------------------------------

    def build(self) -> Workbook:
        self.check_inputs()
        for sheet in self.d.sheets:
            if sheet.kind == "table":
                self.table_sheet(sheet)
            else:
                self.stacked_sheet(sheet)
        self.wb.properties.title = self.d.title
        self.wb.properties.creator = "ccsync"
        return self.wb


def _vocabulary_field(entry: Any, index: int, name: str) -> Any:
    """A vocabulary entry may be a tuple (fields by position), a mapping, an object, or one string."""
    if isinstance(entry, (tuple, list)):
        return entry[index] if index < len(entry) else None
    if isinstance(entry, Mapping):
        return entry.get(name)
    if isinstance(entry, str):
        return entry if index == 0 else None
    return getattr(entry, name, None)


def build_workbook(definition: ReportDefinition, path: str | os.PathLike[str], *,
                   frames: Mapping[str, pd.DataFrame], values: Mapping[str, Any] | None = None,
                   vocabularies: Mapping[str, Mapping[str, Any]] | None = None,
                   generated_at: dt.datetime | None = None) -> Path:
    """Write the workbook the definition describes to ``path`` (atomically) and return the path.

    ``frames`` are the DataFrames named by the definition's ``frame`` keys; ``values`` the summary dict its
    figures and titles read (``generatedAt`` is added: ``generated_at`` or now, in UTC); ``vocabularies``
    the dicts its legend sections list. Raises InputError for a missing frame, column, value or vocabulary
    (before writing anything), and for an unwritable path.
    """
    target = check_target(path, ".xlsx")
    when = generated_at or dt.datetime.now(dt.timezone.utc)
    merged = dict(values or {})
    merged.setdefault("generatedAt", when)
    builder = _Builder(definition, frames, merged, vocabularies or {})
    try:
        wb = builder.build()
        created = when.astimezone(dt.timezone.utc).replace(tzinfo=None) if when.tzinfo else when
        wb.properties.created = created
        wb.properties.modified = created
        return atomic_write(target, wb.save)
    finally:
        _discard_streams(builder.wb)


def _discard_streams(wb: Workbook) -> None:
    """Finish and delete the temp file openpyxl streams each write-only sheet to, if a failure left it behind."""
    for ws in wb.worksheets:
        writer = getattr(ws, "_writer", None)
        if writer is None or not isinstance(writer.out, str) or not os.path.exists(writer.out):
            continue
        try:
            if not ws.closed:
                ws.close()
        except Exception:       # the sheet is being thrown away: its own error does not matter any more
            pass
        try:
            writer.cleanup()
        except (OSError, ValueError, KeyError):
            pass
