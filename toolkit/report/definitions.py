"""Report definitions: which sheets a workbook has and what goes on them, loaded from JSON or TOML in ``reports/``.

The format is described in ``reports/README.md``. Loading validates everything up front and raises
``InputError`` naming the file and the key (``sheets[1].columns[3].palette``), so a typo in a definition is
found before any data is read, never half-way through writing a workbook.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ..errors import InputError

__all__ = ["ReportDefinition", "SheetDef", "ColumnDef", "FigureDef", "Section", "Palette", "FillRule",
           "NAMED_FORMATS", "SHEET_KINDS", "SECTION_KINDS", "reports_dir", "list_definitions",
           "load_definition", "parse_definition"]

NAMED_FORMATS: dict[str, str] = {
    "text": "@", "integer": "#,##0", "number": "#,##0.00", "percent": "0.0%",
    "datetime": "yyyy-mm-dd hh:mm:ss", "date": "yyyy-mm-dd", "general": "General",
}
SHEET_KINDS = ("summary", "table", "legend")
SECTION_KINDS = ("figures", "counts", "table", "vocabulary", "columns")
_OPS = (">", ">=", "<", "<=", "==", "!=")
_HEX = re.compile(r"^[0-9A-Fa-f]{6}$")
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
# Room for a " (99)" suffix when a sheet is split across several (see workbook.MAX_DATA_ROWS).
MAX_SHEET_NAME = 31 - 5


@dataclass(frozen=True)
class Palette:
    """Fill colours by cell value (RRGGBB), with a default for values the map does not name."""

    name: str
    colors: Mapping[str, str]
    default: str | None = None

    def color_for(self, value: Any) -> str | None:
        if value is None:
            return None
        return self.colors.get(str(value), self.default)


@dataclass(frozen=True)
class FillRule:
    """Fill a numeric cell when ``value <op> threshold`` (e.g. a shortfall above 0)."""

    op: str
    value: float
    color: str

    def matches(self, cell: Any) -> bool:
        if isinstance(cell, bool) or not isinstance(cell, (int, float)):
            return False
        return {">": cell > self.value, ">=": cell >= self.value, "<": cell < self.value,
                "<=": cell <= self.value, "==": cell == self.value, "!=": cell != self.value}[self.op]


@dataclass(frozen=True)
class ColumnDef:
    name: str                       # the frame's column (Graph-style name)
    label: str                      # the header shown in Excel
    width: float | None = None
    format: str | None = None       # an Excel number format (named formats already resolved)
    palette: str | None = None
    link: str | None = None         # frame column holding the URL this cell links to
    fill_when: tuple[FillRule, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class FigureDef:
    key: str                        # dotted path into the values dict (``byStatus.eligible``)
    label: str
    format: str | None = None
    optional: bool = False


@dataclass(frozen=True)
class Section:
    """One block of a summary or legend sheet, stacked top to bottom."""

    kind: str                                   # figures | counts | table | vocabulary | columns
    title: str = ""
    figures: tuple[FigureDef, ...] = ()         # figures
    frame: str = ""                             # counts, table
    column: str = ""                            # counts
    label: str = ""                             # counts: header of the value column
    count_label: str = "Count"                  # counts
    order: str = "count"                        # counts: count | value | vocabulary
    vocabulary: str = ""                        # counts (order), vocabulary (source)
    chart: str = "none"                         # counts: bar | pie | none
    palette: str | None = None                  # counts, vocabulary
    columns: tuple[ColumnDef, ...] = ()         # table
    key_label: str = "Value"                    # vocabulary
    fields: tuple[str, ...] = ()                # vocabulary: tuple positions are named by these
    labels: tuple[str, ...] = ()                # vocabulary: headers for fields
    sheet: str = ""                             # columns: the table sheet whose columns are explained


@dataclass(frozen=True)
class SheetDef:
    name: str
    kind: str                                   # summary | table | legend
    title: str = ""
    sections: tuple[Section, ...] = ()          # summary, legend
    frame: str = ""                             # table
    columns: tuple[ColumnDef, ...] = ()         # table
    style: str = "TableStyleMedium2"            # table
    freeze_header: bool = True                  # table
    overflow: str = "split"                     # table: split | refuse


@dataclass(frozen=True)
class ReportDefinition:
    name: str
    title: str
    sheets: tuple[SheetDef, ...]
    palettes: Mapping[str, Palette] = field(default_factory=dict)
    description: str = ""
    source: str = ""                            # the file it was loaded from

    def sheet(self, name: str) -> SheetDef:
        for s in self.sheets:
            if s.name == name:
                return s
        raise KeyError(name)

    def frames_needed(self) -> set[str]:
        out = {s.frame for s in self.sheets if s.frame}
        out |= {sec.frame for s in self.sheets for sec in s.sections if sec.frame}
        return out

    def vocabularies_needed(self) -> set[str]:
        return {sec.vocabulary for s in self.sheets for sec in s.sections if sec.vocabulary}


def reports_dir() -> Path:
    """Where named definitions live: ``$CCSYNC_REPORTS_DIR``, else the project's ``reports/`` folder."""
    env = os.environ.get("CCSYNC_REPORTS_DIR")
    if env:
        return Path(env)
    from ..locations import project_dir

    return project_dir("reports")


def list_definitions(directory: Path | None = None) -> list[str]:
    folder = directory or reports_dir()
    return sorted({p.stem for p in folder.glob("*") if p.suffix in (".toml", ".json")}) if folder.is_dir() else []


def load_definition(name_or_path: str | os.PathLike[str], *, directory: Path | None = None) -> ReportDefinition:
    """Load and validate a definition by file path, or by name from the reports folder (``eligibility``)."""
    path = Path(name_or_path)
    if not path.is_file():
        folder = directory or reports_dir()
        candidates = [folder / f"{name_or_path}.toml", folder / f"{name_or_path}.json"]
        found = [p for p in candidates if p.is_file()]
        if not found:
            known = ", ".join(list_definitions(folder)) or "none"
            raise InputError(f"No report definition '{name_or_path}' (looked in {folder}).",
                             hint=f"Give a .toml/.json file path or one of: {known}.")
        path = found[0]
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"Cannot read the report definition: {exc}.", source=str(path)) from exc
    try:
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"The report definition is not valid {path.suffix.lstrip('.').upper()}: {exc}.",
                         source=str(path), hint="Fix the syntax at the position shown.") from exc
    return parse_definition(data, source=str(path))


# --- validation -------------------------------------------------------------------------------------------

class _Checker:
    def __init__(self, source: str):
        self.source = source

    def fail(self, where: str, message: str, hint: str | None = None) -> InputError:
        return InputError(message, source=self.source, field=where,
                          hint=hint or "See reports/README.md for the definition format.")

    def table(self, value: Any, where: str, allowed: tuple[str, ...], required: tuple[str, ...] = ()) -> dict:
        if not isinstance(value, Mapping):
            raise self.fail(where, f"expected a table/object, got {type(value).__name__}.")
        unknown = [k for k in value if k not in allowed]
        if unknown:
            raise self.fail(f"{where}.{unknown[0]}" if where else unknown[0],
                            f"unknown key '{unknown[0]}'.", hint=f"Allowed keys here: {', '.join(allowed)}.")
        for key in required:
            if key not in value:
                raise self.fail(f"{where}.{key}" if where else key, "this key is required.")
        return dict(value)

    def text(self, value: Any, where: str, *, empty: bool = False) -> str:
        if not isinstance(value, str) or (not empty and not value.strip()):
            raise self.fail(where, "expected a non-empty string." if not empty else "expected a string.")
        return value

    def choice(self, value: Any, where: str, choices: tuple[str, ...]) -> str:
        if value not in choices:
            raise self.fail(where, f"'{value}' is not one of: {', '.join(choices)}.")
        return value

    def boolean(self, value: Any, where: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(where, "expected true or false.")
        return value

    def number(self, value: Any, where: str, lo: float, hi: float) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:
            raise self.fail(where, f"expected a number from {lo:g} to {hi:g}.")
        return float(value)

    def color(self, value: Any, where: str) -> str:
        text = value.lstrip("#") if isinstance(value, str) else ""
        if not _HEX.match(text):
            raise self.fail(where, f"'{value}' is not a colour: use six hex digits RRGGBB, e.g. \"C6EFCE\".")
        return text.upper()

    def items(self, value: Any, where: str, *, allow_empty: bool = False) -> list:
        if not isinstance(value, list) or (not value and not allow_empty):
            raise self.fail(where, "expected a non-empty list.")
        return value

    def fmt(self, value: Any, where: str) -> str:
        text = self.text(value, where)
        return NAMED_FORMATS.get(text, text)


def _palettes(ck: _Checker, raw: Any) -> dict[str, Palette]:
    out = {}
    if raw is None:
        return out
    if not isinstance(raw, Mapping):
        raise ck.fail("palettes", "expected a table of named palettes.")
    for name, body in raw.items():
        where = f"palettes.{name}"
        body = ck.table(body, where, ("colors", "default"), ("colors",))
        colors = body["colors"]
        if not isinstance(colors, Mapping) or not colors:
            raise ck.fail(f"{where}.colors", "expected a table of value = \"RRGGBB\".")
        out[name] = Palette(name, {str(k): ck.color(v, f"{where}.colors.{k}") for k, v in colors.items()},
                            ck.color(body["default"], f"{where}.default") if "default" in body else None)
    return out


def _columns(ck: _Checker, raw: Any, where: str, palettes: Mapping[str, Palette]) -> tuple[ColumnDef, ...]:
    cols, labels = [], set()
    for i, item in enumerate(ck.items(raw, where)):
        w = f"{where}[{i}]"
        if isinstance(item, str):
            item = {"name": item}
        body = ck.table(item, w, ("name", "label", "width", "format", "palette", "link", "fill_when",
                                  "description"), ("name",))
        name = ck.text(body["name"], f"{w}.name")
        label = ck.text(body.get("label", name), f"{w}.label")
        if "\n" in label or label.lower() in labels:
            raise ck.fail(f"{w}.label", f"label '{label}' is repeated or has a line break; "
                          "Excel tables need unique one-line headers.")
        labels.add(label.lower())
        palette = body.get("palette")
        if palette is not None and palette not in palettes:
            raise ck.fail(f"{w}.palette", f"no palette named '{palette}'.",
                          hint=f"Defined palettes: {', '.join(palettes) or 'none'}.")
        rules = []
        for j, rule in enumerate(ck.items(body.get("fill_when", []), f"{w}.fill_when", allow_empty=True)):
            rw = f"{w}.fill_when[{j}]"
            rule = ck.table(rule, rw, ("op", "value", "color"), ("op", "value", "color"))
            rules.append(FillRule(ck.choice(rule["op"], f"{rw}.op", _OPS),
                                  ck.number(rule["value"], f"{rw}.value", -1e300, 1e300),
                                  ck.color(rule["color"], f"{rw}.color")))
        cols.append(ColumnDef(
            name=name, label=label,
            width=ck.number(body["width"], f"{w}.width", 1, 255) if "width" in body else None,
            format=ck.fmt(body["format"], f"{w}.format") if "format" in body else None,
            palette=palette,
            link=ck.text(body["link"], f"{w}.link") if "link" in body else None,
            fill_when=tuple(rules),
            description=ck.text(body.get("description", ""), f"{w}.description", empty=True)))
    return tuple(cols)


def _section(ck: _Checker, raw: Any, where: str, palettes: Mapping[str, Palette]) -> Section:
    if not isinstance(raw, Mapping) or "kind" not in raw:
        raise ck.fail(f"{where}.kind", "each section needs a kind.", hint=f"One of: {', '.join(SECTION_KINDS)}.")
    kind = ck.choice(raw["kind"], f"{where}.kind", SECTION_KINDS)
    allowed: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
        "figures": (("kind", "title", "figures"), ("figures",)),
        "counts": (("kind", "title", "frame", "column", "label", "count_label", "order", "vocabulary", "chart",
                    "palette"), ("frame", "column")),
        "table": (("kind", "title", "frame", "columns"), ("frame", "columns")),
        "vocabulary": (("kind", "title", "vocabulary", "key_label", "fields", "labels", "palette"),
                       ("vocabulary", "fields")),
        "columns": (("kind", "title", "sheet"), ("sheet",)),
    }
    body = ck.table(raw, where, *allowed[kind])
    palette = body.get("palette")
    if palette is not None and palette not in palettes:
        raise ck.fail(f"{where}.palette", f"no palette named '{palette}'.",
                      hint=f"Defined palettes: {', '.join(palettes) or 'none'}.")
    kw: dict[str, Any] = {"kind": kind, "title": ck.text(body.get("title", ""), f"{where}.title", empty=True),
                          "palette": palette}
    if kind == "figures":
        figs = []
        for i, item in enumerate(ck.items(body["figures"], f"{where}.figures")):
            fw = f"{where}.figures[{i}]"
            f = ck.table(item, fw, ("key", "label", "format", "optional"), ("key",))
            figs.append(FigureDef(ck.text(f["key"], f"{fw}.key"), ck.text(f.get("label", f["key"]), f"{fw}.label"),
                                  ck.fmt(f["format"], f"{fw}.format") if "format" in f else None,
                                  ck.boolean(f.get("optional", False), f"{fw}.optional")))
        kw["figures"] = tuple(figs)
    elif kind == "counts":
        kw.update(frame=ck.text(body["frame"], f"{where}.frame"), column=ck.text(body["column"], f"{where}.column"),
                  label=ck.text(body.get("label", body["column"]), f"{where}.label"),
                  count_label=ck.text(body.get("count_label", "Count"), f"{where}.count_label"),
                  order=ck.choice(body.get("order", "count"), f"{where}.order", ("count", "value", "vocabulary")),
                  vocabulary=ck.text(body.get("vocabulary", ""), f"{where}.vocabulary", empty=True),
                  chart=ck.choice(body.get("chart", "none"), f"{where}.chart", ("bar", "pie", "none")))
        if kw["order"] == "vocabulary" and not kw["vocabulary"]:
            raise ck.fail(f"{where}.vocabulary", "order = \"vocabulary\" needs the vocabulary to order by.")
    elif kind == "table":
        kw.update(frame=ck.text(body["frame"], f"{where}.frame"),
                  columns=_columns(ck, body["columns"], f"{where}.columns", palettes))
    elif kind == "vocabulary":
        fields = tuple(ck.text(v, f"{where}.fields[{i}]") for i, v in enumerate(ck.items(body["fields"],
                                                                                          f"{where}.fields")))
        labels = tuple(ck.text(v, f"{where}.labels[{i}]")
                       for i, v in enumerate(ck.items(body.get("labels", list(fields)), f"{where}.labels")))
        if len(labels) != len(fields):
            raise ck.fail(f"{where}.labels", f"{len(labels)} labels for {len(fields)} fields: give one per field.")
        kw.update(vocabulary=ck.text(body["vocabulary"], f"{where}.vocabulary"), fields=fields, labels=labels,
                  key_label=ck.text(body.get("key_label", "Value"), f"{where}.key_label"))
    else:
        kw["sheet"] = ck.text(body["sheet"], f"{where}.sheet")
    return Section(**kw)


def _sheet(ck: _Checker, raw: Any, where: str, palettes: Mapping[str, Palette]) -> SheetDef:
    if not isinstance(raw, Mapping) or "kind" not in raw:
        raise ck.fail(f"{where}.kind", "each sheet needs a kind.", hint=f"One of: {', '.join(SHEET_KINDS)}.")
    kind = ck.choice(raw["kind"], f"{where}.kind", SHEET_KINDS)
    if kind == "table":
        body = ck.table(raw, where, ("name", "kind", "frame", "columns", "style", "freeze_header", "overflow"),
                        ("name", "frame", "columns"))
    else:
        body = ck.table(raw, where, ("name", "kind", "title", "sections"), ("name", "sections"))
    name = ck.text(body["name"], f"{where}.name")
    if len(name) > MAX_SHEET_NAME or _BAD_SHEET_CHARS.search(name) or name.startswith("'") or name.endswith("'") \
            or name.lower() == "history":
        raise ck.fail(f"{where}.name", f"'{name}' cannot be an Excel sheet name.",
                      hint=f"Use at most {MAX_SHEET_NAME} characters, none of [ ] : * ? / \\, "
                           "not starting or ending with an apostrophe, and not 'History'.")
    if kind == "table":
        style = ck.text(body.get("style", "TableStyleMedium2"), f"{where}.style")
        if not re.fullmatch(r"TableStyle(Light|Medium|Dark)\d{1,2}", style):
            raise ck.fail(f"{where}.style", f"'{style}' is not a built-in Excel table style.",
                          hint="Use e.g. TableStyleMedium2, TableStyleLight9 or TableStyleDark1.")
        return SheetDef(name=name, kind=kind, frame=ck.text(body["frame"], f"{where}.frame"),
                        columns=_columns(ck, body["columns"], f"{where}.columns", palettes), style=style,
                        freeze_header=ck.boolean(body.get("freeze_header", True), f"{where}.freeze_header"),
                        overflow=ck.choice(body.get("overflow", "split"), f"{where}.overflow", ("split", "refuse")))
    sections = tuple(_section(ck, s, f"{where}.sections[{i}]", palettes)
                     for i, s in enumerate(ck.items(body["sections"], f"{where}.sections")))
    return SheetDef(name=name, kind=kind, title=ck.text(body.get("title", ""), f"{where}.title", empty=True),
                    sections=sections)


def parse_definition(data: Any, *, source: str = "<definition>") -> ReportDefinition:
    """Validate a definition already parsed from JSON/TOML; ``source`` names it in errors."""
    ck = _Checker(source)
    body = ck.table(data, "", ("name", "title", "description", "palettes", "sheets"), ("name", "sheets"))
    palettes = _palettes(ck, body.get("palettes"))
    sheets = tuple(_sheet(ck, s, f"sheets[{i}]", palettes) for i, s in enumerate(ck.items(body["sheets"], "sheets")))
    seen: set[str] = set()
    for i, sheet in enumerate(sheets):
        if sheet.name.lower() in seen:
            raise ck.fail(f"sheets[{i}].name", f"sheet name '{sheet.name}' is used twice (Excel ignores case).")
        seen.add(sheet.name.lower())
    tables = {s.name for s in sheets if s.kind == "table"}
    for i, sheet in enumerate(sheets):
        for j, sec in enumerate(sheet.sections):
            if sec.kind == "columns" and sec.sheet not in tables:
                raise ck.fail(f"sheets[{i}].sections[{j}].sheet", f"no table sheet named '{sec.sheet}'.",
                              hint=f"Table sheets: {', '.join(sorted(tables)) or 'none'}.")
    return ReportDefinition(name=ck.text(body["name"], "name"),
                            title=ck.text(body.get("title", body["name"]), "title"),
                            description=ck.text(body.get("description", ""), "description", empty=True),
                            palettes=palettes, sheets=sheets, source=source)
