"""Summary and legend sheets: sections stacked one under another (figures, counts with their charts, small
tables, vocabularies, a table sheet's column descriptions), sized to their contents.

The cells come from the workbook builder (``SheetBuilder``: safe, styled cells and the report's inputs); this
module decides what goes where on the sheet.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Protocol

import pandas as pd
from openpyxl import Workbook
from openpyxl.chart import BarChart, PieChart, Reference
from openpyxl.chart.data_source import AxDataSource, StrRef
from openpyxl.chart.marker import DataPoint
from openpyxl.chart.shapes import GraphicalProperties
from openpyxl.styles import Border, Font, PatternFill
from openpyxl.utils import get_column_letter

from ..errors import InputError
from .cells import Styles
from .definitions import ColumnDef, NAMED_FORMATS, Palette, ReportDefinition, Section, SheetDef
from .sanitize import excel_cell
from .summary_values import lookup, render_template

__all__ = ["SheetBuilder", "write_stacked_sheet"]

_CHART_ROWS = 17                     # rows a chart anchored beside a counts table covers (8 cm high)


class SheetBuilder(Protocol):
    """What a stacked sheet needs from the workbook builder."""

    wb: Workbook
    d: ReportDefinition
    values: Mapping[str, Any]
    vocabularies: Mapping[str, Mapping[str, Any]]
    styles: Styles

    def fail(self, message: str, hint: str | None = None, field: str | None = None) -> InputError: ...
    def frame(self, name: str) -> pd.DataFrame: ...
    def print_setup(self, ws: Any, *, repeat_header: bool) -> None: ...
    def data_cell(self, ws: Any, col: ColumnDef, value: Any, link_value: Any = None, *,
                  allow_link: bool = True) -> Any: ...
    def text_cell(self, ws: Any, value: Any, font: Font | None = None, fill: PatternFill | None = None,
                  border: Border | None = None, number_format: str | None = None) -> Any: ...
    def header_cell(self, ws: Any, label: str) -> Any: ...


def write_stacked_sheet(b: SheetBuilder, sheet: SheetDef) -> None:
    """A summary or legend sheet: the title, then each section under its heading, charts beside counts."""
    ws = b.wb.create_sheet(sheet.name)
    b.print_setup(ws, repeat_header=False)
    rows: list[list[Callable[[], Any]]] = []     # cells are built lazily, after the widths are known
    texts: list[list[Any]] = []                  # what the widths are computed from
    charts: list[tuple[Section, int, list[str]]] = []  # (section, header row, categories in order)

    def add(row: list[tuple[Any, Callable[[], Any]]]) -> None:
        texts.append([t for t, _ in row])
        rows.append([f for _, f in row])

    if sheet.title:
        title = render_template(sheet.title, b.values)
        add([(None, lambda t=title: b.text_cell(ws, t, font=b.styles.title))])
        add([])
    for sec in sheet.sections:
        if sec.title:
            add([(None, lambda t=sec.title: b.text_cell(ws, t, font=b.styles.heading))])
        start = len(rows)
        _SECTIONS[sec.kind](b, ws, sec, add, charts, len(rows) + 1)
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
        _add_chart(b, ws, sec, header_row, keys, f"D{header_row}")


def _section_figures(b: SheetBuilder, ws: Any, sec: Section, add: Callable, charts: list, first_row: int) -> None:
    for fig in sec.figures:
        found, value = lookup(b.values, fig.key)
        if fig.optional and found and excel_cell(value).value is None:
            continue                        # an empty optional figure (no notes) is left out, not shown blank
        if not found:
            if fig.optional:
                continue
            raise b.fail(f"the summary values have no '{fig.key}'.",
                            hint="Add it to the summary, or mark the figure optional = true.",
                            field=fig.key)
        fmt = fig.format or (NAMED_FORMATS["integer"] if isinstance(value, int)
                             and not isinstance(value, bool) else None)
        add([(fig.label, lambda t=fig.label: b.text_cell(ws, t, font=b.styles.bold)),
             (excel_cell(value).value, lambda v=value, f=fmt: b.text_cell(ws, v, number_format=f))])


def _section_counts(b: SheetBuilder, ws: Any, sec: Section, add: Callable, charts: list, first_row: int) -> None:
    series = b.frame(sec.frame)[sec.column]
    counts = series.astype("object").where(series.notna(), None).map(
        lambda v: "(none)" if v is None else str(excel_cell(v).value)).value_counts(sort=False)
    items = [(str(k), int(v)) for k, v in counts.items()]
    if sec.order == "count":
        items.sort(key=lambda kv: (-kv[1], kv[0]))
    elif sec.order == "value":
        items.sort(key=lambda kv: kv[0])
    else:
        rank = {str(k): i for i, k in enumerate(b.vocabularies[sec.vocabulary])}
        items.sort(key=lambda kv: (rank.get(kv[0], len(rank)), kv[0]))
    palette = b.d.palettes.get(sec.palette) if sec.palette else None
    add([(sec.label, lambda: b.header_cell(ws, sec.label)),
         (sec.count_label, lambda: b.header_cell(ws, sec.count_label))])
    for key, count in items:
        color = palette.color_for(key) if palette else None
        fill = b.styles.fill(color) if color else None
        add([(key, lambda k=key, f=fill: b.text_cell(ws, k, fill=f)),
             (count, lambda c=count: b.text_cell(ws, c, number_format=NAMED_FORMATS["integer"]))])
    if sec.chart != "none" and items:
        charts.append((sec, first_row, [k for k, _ in items]))


def _section_table(b: SheetBuilder, ws: Any, sec: Section, add: Callable, charts: list, first_row: int) -> None:
    df = b.frame(sec.frame)
    add([(c.label, lambda c=c: b.header_cell(ws, c.label)) for c in sec.columns])
    for _, row in df.iterrows():
        add([(excel_cell(row[c.name]).value,
              lambda c=c, v=row[c.name], lv=(row[c.link] if c.link else None): b.data_cell(ws, c, v, lv))
             for c in sec.columns])


def _section_vocabulary(b: SheetBuilder, ws: Any, sec: Section, add: Callable, charts: list, first_row: int) -> None:
    vocab = b.vocabularies[sec.vocabulary]
    palette = b.d.palettes.get(sec.palette) if sec.palette else None
    add([(label, lambda t=label: b.header_cell(ws, t)) for label in (sec.key_label, *sec.labels)])
    for key, entry in vocab.items():
        color = palette.color_for(str(key)) if palette else None
        fill = b.styles.fill(color) if color else None
        cells = [(str(key), lambda k=key, f=fill: b.text_cell(ws, str(k), fill=f))]
        for i, name in enumerate(sec.fields):
            value = _vocabulary_field(entry, i, name)
            cells.append((value, lambda v=value: b.text_cell(ws, v)))
        add(cells)


def _section_columns(b: SheetBuilder, ws: Any, sec: Section, add: Callable, charts: list, first_row: int) -> None:
    target = b.d.sheet(sec.sheet)
    add([(h, lambda h=h: b.header_cell(ws, h)) for h in ("Column", "Property", "Description")])
    for c in target.columns:
        text = c.description + (f" Links to the address in '{c.link}'." if c.link else "")
        add([(c.label, lambda v=c.label: b.text_cell(ws, v, font=b.styles.bold)),
             (c.name, lambda v=c.name: b.text_cell(ws, v)),
             (text.strip(), lambda v=text.strip(): b.text_cell(ws, v))])


def _add_chart(b: SheetBuilder, ws: Any, sec: Section, header_row: int, keys: list[str], anchor: str) -> None:
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
    palette: Palette | None = b.d.palettes.get(sec.palette) if sec.palette else None
    if palette:
        points = []
        for i, key in enumerate(keys):
            color = palette.color_for(key)
            if color:
                points.append(DataPoint(idx=i, spPr=GraphicalProperties(solidFill=color)))
        chart.series[0].dPt = points
    ws.add_chart(chart, anchor)


def _vocabulary_field(entry: Any, index: int, name: str) -> Any:
    """A vocabulary entry may be a tuple (fields by position), a mapping, an object, or one string."""
    if isinstance(entry, (tuple, list)):
        return entry[index] if index < len(entry) else None
    if isinstance(entry, Mapping):
        return entry.get(name)
    if isinstance(entry, str):
        return entry if index == 0 else None
    return getattr(entry, name, None)


_SECTIONS = {"figures": _section_figures, "counts": _section_counts, "table": _section_table,
             "vocabulary": _section_vocabulary, "columns": _section_columns}
