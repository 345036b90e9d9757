"""File intake for migrations: bytes -> text -> records, as admins' files really are.

``read_table(path)`` returns a ``CsvTable``: the decoded header and data records (lists of strings), each with
the row number Excel would show for it, plus what was detected (encoding, delimiter) and the file's SHA-256.

Encodings, in this order: a byte-order mark decides (UTF-8 BOM, UTF-16 LE/BE BOM: Excel's "Unicode Text",
which is tab-separated); otherwise strict UTF-8; otherwise ``charset-normalizer`` (a well-kept, pure-Python
detector that already comes with ``requests``) picks among the legacy code pages, and Windows-1252 (what Excel
writes as "CSV" on Western Windows) is the fallback when it has no clear answer.

Delimiter: comma, semicolon (Excel in locales with a decimal comma) or tab, chosen by counting them outside
quotes in the header line. Quoted fields may hold delimiters and line breaks (RFC 4180). Rows that are empty
or hold only delimiters (Excel leaves such trailing rows) are dropped.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError

__all__ = ["CsvTable", "read_table", "decode_bytes", "DELIMITERS", "file_sha256"]

DELIMITERS = (",", ";", "\t")
_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}


@dataclass
class CsvTable:
    """A decoded CSV: ``preamble`` (e.g. the portal's ``version:v1.0`` line, or None), ``header``, ``rows``
    (lists of strings, as long as the header or longer), ``row_numbers`` (Excel row of each record, 1-based,
    counting the preamble and the header)."""

    path: str
    encoding: str
    delimiter: str
    sha256: str
    size: int
    preamble: str | None
    header: list[str]
    header_row: int
    rows: list[list[str]] = field(default_factory=list)
    row_numbers: list[int] = field(default_factory=list)
    dropped_empty: int = 0

    def describe(self) -> dict:
        return {"path": self.path, "encoding": self.encoding, "delimiter": _NAMES[self.delimiter],
                "sha256": self.sha256, "bytes": self.size, "version": self.preamble,
                "records": len(self.rows), "emptyRowsDropped": self.dropped_empty}


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def decode_bytes(data: bytes, source: str = "<csv>") -> tuple[str, str]:
    """(text, encoding name) for ``data``: BOM, then strict UTF-8, then charset-normalizer / Windows-1252."""
    for bom, name in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                      (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            try:
                return data.decode(name), {"utf-8-sig": "UTF-8 with BOM"}.get(name, "UTF-16 with BOM")
            except UnicodeDecodeError as exc:
                raise InputError(f"the file starts with a {name} byte-order mark but is not valid {name} "
                                 f"(byte {exc.start})", source=source,
                                 hint="Save it again from Excel as 'CSV UTF-8' and retry.") from exc
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data[:200_000], cp_isolation=["cp1252", "cp1250", "cp1251", "cp1253", "cp1254",
                                                     "cp1257", "iso8859_15", "mac_roman"]).best()
    encoding = best.encoding if best is not None else "cp1252"
    try:
        return data.decode(encoding), _display(encoding)
    except UnicodeDecodeError:
        # cp1252 leaves five bytes undefined; latin-1 maps every byte, so nothing is lost or guessed twice.
        return data.decode("latin-1"), "ISO-8859-1"


def _display(encoding: str) -> str:
    return {"cp1252": "Windows-1252", "cp1250": "Windows-1250", "cp1251": "Windows-1251",
            "cp1253": "Windows-1253", "cp1254": "Windows-1254", "cp1257": "Windows-1257"}.get(encoding, encoding)


def _count_outside_quotes(line: str, ch: str) -> int:
    n, quoted = 0, False
    for c in line:
        if c == '"':
            quoted = not quoted
        elif c == ch and not quoted:
            n += 1
    return n


def _pick_delimiter(header_line: str, encoding: str) -> str:
    counts = {d: _count_outside_quotes(header_line, d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: (counts[d], d == "\t" and encoding.startswith("UTF-16")))
    if counts[best] == 0:
        return "\t" if encoding.startswith("UTF-16") else ","
    return best


def _is_preamble(line: str) -> bool:
    # The portal's templates start with 'version:v1.0' (Excel may pad it with delimiters: 'version:v1.0,,,').
    return line.strip().strip(",;\t\"").lower().startswith("version:")


def read_table(path: str | Path) -> CsvTable:
    """Read and decode a migration CSV. Raises InputError when it cannot be read or has no header."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror}", source=str(p),
                         hint="Check the path and that the file is not open with an exclusive lock.") from exc
    return parse_bytes(data, str(p))


def parse_bytes(data: bytes, source: str = "<csv>") -> CsvTable:
    text, encoding = decode_bytes(data, source)
    if "\x00" in text:
        raise InputError("the file contains NUL characters: it is not a text CSV (an .xlsx saved as .csv?)",
                         source=source, hint="Open it in Excel and save it as 'CSV UTF-8 (Comma delimited)'.")
    lines = text.splitlines()
    first = 0
    while first < len(lines) and not lines[first].strip():
        first += 1
    preamble = None
    if first < len(lines) and _is_preamble(lines[first]):
        preamble = lines[first].strip().strip(",;\t\"")
        first += 1
    if first >= len(lines):
        raise InputError("the file has no header row", source=source,
                         hint="Start from the portal's template or a header row of Graph property names.")
    delimiter = _pick_delimiter(lines[first], encoding)
    # Re-join from the header on: csv must see the original line breaks inside quoted fields.
    offset = sum(len(x) for x in text.splitlines(keepends=True)[:first])
    reader = csv.reader(io.StringIO(text[offset:], newline=""), delimiter=delimiter, strict=False)
    records: list[list[str]] = []
    try:
        records = [r for r in reader]
    except csv.Error as exc:
        raise InputError(f"the CSV is malformed near line {reader.line_num + first}: {exc}", source=source,
                         hint="Check for an unclosed quote; save the file again from Excel.") from exc
    if not records:
        raise InputError("the file has no header row", source=source)
    header = [h.strip().lstrip("\ufeff") for h in records[0]]
    base_row = first + 1                     # Excel row of the header (1-based)
    table = CsvTable(path=source, encoding=encoding, delimiter=delimiter, sha256=file_sha256(data), size=len(data),
                     preamble=preamble, header=header, header_row=base_row)
    for i, rec in enumerate(records[1:], start=1):
        if not any(c.strip() for c in rec):
            table.dropped_empty += 1
            continue
        if len(rec) < len(header):
            rec = rec + [""] * (len(header) - len(rec))
        table.rows.append(rec)
        table.row_numbers.append(base_row + i)
    return table
