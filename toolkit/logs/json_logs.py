"""JSON log files: a Graph collection ``{"value": [...]}``, a bare array, JSON lines, several pages one after
another, the portal's JSON download, Azure Monitor diagnostic-settings records (``{"records": [...]}`` or one
object per line) and Log Analytics answers (``tables``). A truncated download gives its complete records; a
malformed line is reported in ``skipped`` and reading goes on.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterator, Mapping

from .log_input import Skipped

__all__ = ["json_documents", "records_of", "is_json_lines", "json_lines"]

_WS = re.compile(r"\s*")


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _salvage_array(text: str, start: int, decoder: json.JSONDecoder) -> tuple[list[Any], int]:
    """Elements of the JSON array opening at ``start`` one by one: (complete elements, where reading stopped)."""
    items: list[Any] = []
    pos = _WS.match(text, start + 1).end()
    while pos < len(text):
        if text[pos] == "]":
            return items, pos + 1
        try:
            item, end = decoder.raw_decode(text, pos)
        except ValueError:
            return items, pos
        items.append(item)
        pos = _WS.match(text, end).end()
        if pos < len(text) and text[pos] == ",":
            pos = _WS.match(text, pos + 1).end()
    return items, pos


def json_documents(text: str, name: str, skipped: list[Skipped]) -> Iterator[Any]:
    """Every top-level JSON value in the text: one document, JSON lines, or pages one after another.

    A document that breaks off (a truncated download) gives its complete records, and the rest is reported."""
    decoder = json.JSONDecoder()
    pos = _WS.match(text).end()
    while pos < len(text):
        try:
            doc, end = decoder.raw_decode(text, pos)
        except ValueError as exc:
            # A Graph page or array cut short: take the records before the break.
            head = text[pos:pos + 4096]
            m = re.search(r'"value"\s*:\s*\[', head) if head.startswith("{") else None
            arr = pos + m.end() - 1 if m else (pos if head.startswith("[") else None)
            if arr is not None:
                items, stop = _salvage_array(text, arr, decoder)
                if items:
                    yield from items
                    skipped.append(Skipped(name, f"line {_line_of(text, stop)}",
                                           f"truncated JSON: the file breaks off after {len(items)} complete "
                                           f"record(s) ({exc.msg})"))
                    return
            # JSON lines: skip to the next line and go on.
            nl = text.find("\n", pos)
            skipped.append(Skipped(name, f"line {_line_of(text, pos)}", f"malformed JSON: {exc.msg}"))
            if nl < 0:
                return
            pos = _WS.match(text, nl + 1).end()
            continue
        yield doc
        pos = _WS.match(text, end).end()
        if pos < len(text) and text[pos] == ",":            # "[...],\n" or "{...},\n" lines
            pos = _WS.match(text, pos + 1).end()


def records_of(doc: Any) -> Iterator[Any]:
    """Records inside one JSON document: a page's value, an array, a diagnostic file's records, or one record."""
    if isinstance(doc, list):
        for item in doc:
            yield from records_of(item) if isinstance(item, list) else [item]
        return
    if isinstance(doc, Mapping):
        for key in ("value", "records", "Value", "Records"):
            if isinstance(doc.get(key), list):
                yield from doc[key]
                return
        if "tables" in doc and isinstance(doc["tables"], list):      # Log Analytics query API answer
            for table in doc["tables"]:
                cols = [c.get("name") for c in table.get("columns", [])]
                for row in table.get("rows", []):
                    yield dict(zip(cols, row))
            return
        if set(doc) <= {"@odata.context", "@odata.nextLink", "@odata.deltaLink", "@microsoft.graph.tips"}:
            return                                                 # an empty page
    yield doc


def is_json_lines(path: Path) -> bool:
    """UTF-8 text whose first line is one complete JSON object and whose next line starts another."""
    try:
        with open(path, "rb") as fh:
            first = fh.readline(1 << 24)
            second = fh.readline(1 << 24)
    except OSError:
        return False                                   # read_bytes reports it properly
    if first.startswith(b"\xef\xbb\xbf"):
        first = first[3:]
    if not first.strip().startswith(b"{") or not second.strip().startswith(b"{"):
        return False
    try:
        return isinstance(json.loads(first), dict)
    except ValueError:
        return False


def json_lines(path: Path, skipped: list[Skipped]) -> Iterator[tuple[str, str, Any]]:
    with open(path, "r", encoding="utf-8-sig", errors="replace", newline=None) as fh:
        for n, line in enumerate(fh, 1):
            text = line.strip().rstrip(",")
            if not text:
                continue
            try:
                doc = json.loads(text)
            except ValueError as exc:
                msg = getattr(exc, "msg", str(exc))
                skipped.append(Skipped(path.name, f"line {n}", f"malformed JSON: {msg}"))
                continue
            for j, raw in enumerate(records_of(doc), 1):
                yield path.name, f"line {n}" if j == 1 else f"line {n}, record {j}", raw
