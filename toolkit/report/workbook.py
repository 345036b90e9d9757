"""Build an Excel workbook from a report definition, DataFrames and a dict of summary values.

This module owns the checks made before anything is written, the table sheets (split at Excel's row limit,
Excel tables, hyperlinks, print areas) and the workbook file. Summary and legend sheets are laid out by
``stacked.py``; cells are made safe and styled by ``cells.py``. Table sheets without hyperlinks have their data
rows written as worksheet XML by ``rowwriter.RowWriter`` and spliced into the sheet openpyxl streams
(openpyxl's per-cell serialiser was the bottleneck; bench/bench_logs_report.py).
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
import os
import re
import warnings
from pathlib import Path
from typing import Any, Iterable, Mapping

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Border, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.filters import AutoFilter
from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo

from ..errors import InputError
from ..writefile import atomic_write, check_target
from .cells import Styled, Styles, default_format, link_target, make_cell
from .definitions import ColumnDef, NAMED_FORMATS, ReportDefinition, SheetDef
from .rowwriter import RowWriter
from .sanitize import EXCEL_MAX_CELL_CHARS, FORMULA_TRIGGERS, CellValue, clean_text, excel_cell
from .stacked import write_stacked_sheet
from .summary_values import render_template

__all__ = ["build_workbook", "atomic_write", "MAX_DATA_ROWS", "MAX_HYPERLINKS"]

MAX_DATA_ROWS = 1_048_576 - 1        # Excel's rows per sheet, minus the header row
MAX_HYPERLINKS = 65_530              # Excel refuses more hyperlinks than this on one worksheet
_PRINT_WIDTH = 230.0                 # column-width units that print legibly on one landscape page
_PRINT_MIN_COLUMNS = 4
_BLOCK_ROWS = 10_000                 # rows made safe per vectorised pass (bounded memory)
# Text that needs excel_cell's careful path: XML-illegal characters or OOXML's _xHHHH_ escape.
_NEEDS_CARE = r"[\x00-\x08\x0b\x0c\x0e-\x1f]|[\x{FFFE}\x{FFFF}]|_x[0-9A-Fa-f]{4}_"      # RE2 syntax (Arrow)


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


class _Builder:
    def __init__(self, definition: ReportDefinition, frames: Mapping[str, pd.DataFrame],
                 values: Mapping[str, Any], vocabularies: Mapping[str, Mapping[str, Any]]):
        self.d = definition
        self.frames = frames
        self.values = values
        self.vocabularies = vocabularies
        self.styles = Styles()
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
        link = link_target(link_value) if (col.link and allow_link and cv.value is not None) else None
        return make_cell(ws, cv, fill=fill, number_format=col.format or default_format(cv.value),
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
            values[i] = make_cell(ws, excel_cell(values[i]))          # the careful path, cell by cell
        return list(values)

    def _numeric_column(self, ws: Any, col: ColumnDef, series: pd.Series) -> list[Any] | None:
        """Datetime and integer columns for the raw row writer: (value, style id) pairs computed once per
        column instead of a styled cell per value; None for any other column."""
        if isinstance(series.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(series.dtype):
            utc = series.dt.tz_convert(None) if isinstance(series.dtype, pd.DatetimeTZDtype) else series
            values = [None if v is pd.NaT else v for v in utc.dt.to_pydatetime()] if len(utc) else []
            fmt = col.format or NAMED_FORMATS["datetime"]
            proto = make_cell(ws, CellValue(dt.datetime(2000, 1, 1)), number_format=fmt)
        elif str(series.dtype) == "Int64":
            values = series.astype(object).where(series.notna(), None).tolist()
            if any(v is not None and abs(v) >= 10 ** 15 for v in values):
                return None                            # excel_cell writes such numbers as text: go cell by cell
            if not col.format:
                return values
            proto = make_cell(ws, CellValue(1), number_format=col.format)
        else:
            return None
        sid = ws.parent._cell_styles.add(proto._style)
        return [None if v is None else Styled(v, sid) for v in values]

    def text_cell(self, ws: Any, value: Any, font: Font | None = None, fill: PatternFill | None = None,
                  border: Border | None = None, number_format: str | None = None) -> Any:
        cv = excel_cell(value)
        return make_cell(ws, cv, font=font, fill=fill, border=border,
                          number_format=number_format or default_format(cv.value))

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
        title = clean_text(render_template(self.d.title, self.values)).replace("&", "&&")
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
        # Without hyperlinks the rows go to the sheet's XML directly (rowwriter.py), which is several times
        # faster than openpyxl's per-cell serialiser; with hyperlinks openpyxl writes them (it owns the rels;
        # a sheet too long for hyperlinks has its URLs as text, and goes the fast way).
        raw = RowWriter(ws, len(columns)) if not (linking and any(link_iters)) else None
        self.raw_sheet = ws if raw is not None else None       # its rows may carry Styled values
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

    # --- whole workbook ----------------------------------------------------------------------------------

    def build(self) -> Workbook:
        self.check_inputs()
        for sheet in self.d.sheets:
            if sheet.kind == "table":
                self.table_sheet(sheet)
            else:
                write_stacked_sheet(self, sheet)
        self.wb.properties.title = self.d.title
        self.wb.properties.creator = "ccsync"
        return self.wb


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
