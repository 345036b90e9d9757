"""The streaming sheet writer: a table sheet's data rows written as worksheet XML into a file of their own and
spliced into the sheet openpyxl streams (header row, table, print setup) when it is closed.

openpyxl's per-cell serialiser was the bottleneck of big table sheets (bench/bench_logs_report.py); this writer
is several times faster and keeps memory flat: rows go to disk in batches, text as inline strings.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import tempfile
from typing import Any

from openpyxl.cell.cell import Cell
from openpyxl.drawing.spreadsheet_drawing import SpreadsheetDrawing
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel

from .cells import Styled

__all__ = ["RowWriter"]


class RowWriter:
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
            if type(cell) is Styled:
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
