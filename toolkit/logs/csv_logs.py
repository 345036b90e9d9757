"""CSV log files (Log Analytics exports, with nested columns as JSON text): the rows, with the delimiter sniffed
(comma, semicolon, tab or pipe), and header names compared ignoring case, spaces and punctuation."""

from __future__ import annotations

import csv
import io
import re

__all__ = ["csv_rows", "norm_header"]


def norm_header(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def csv_rows(text: str, name: str) -> tuple[list[dict[str, str]], str]:
    sample = text[:16384]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
        delim = dialect.delimiter
    except csv.Error:
        delim = ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delim)
    rows = [dict(r) for r in reader]
    return rows, delim
