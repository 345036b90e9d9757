"""CSV side outputs that open cleanly in Excel: UTF-8 with a BOM, CRLF line endings, formula-safe text.

The BOM is what makes Excel read the file as UTF-8 (without it, accented names turn into mojibake); CRLF is
what Excel and RFC 4180 expect. Every text field is quoted, and text that could start a formula gets a
leading ``'`` (see ``sanitize``), so a ``;`` or ``=`` inside a value cannot become a new cell or a formula in
any Excel locale. Numbers are written unquoted so they stay numbers. The file is written atomically.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Mapping, Sequence

import pandas as pd

from .sanitize import csv_field
from ..errors import InputError
from ..writefile import atomic_write, check_target

__all__ = ["write_csv"]


def write_csv(df: pd.DataFrame, path: str | os.PathLike[str], *,
              columns: Sequence[str] | Mapping[str, str] | None = None) -> Path:
    """Write ``df`` as Excel-friendly CSV to ``path`` and return the path.

    ``columns``: the columns to write, in order (default: all), or a mapping column -> header label.
    Datetimes are written as ISO 8601 UTC (``2026-01-02T03:04:05Z``), booleans as ``TRUE``/``FALSE``,
    missing values as empty fields. Raises InputError for a missing column or an unwritable path.
    """
    target = check_target(path, None)
    if columns is None:
        names, labels = [str(c) for c in df.columns], [str(c) for c in df.columns]
    elif isinstance(columns, Mapping):
        names, labels = list(columns), list(columns.values())
    else:
        names, labels = list(columns), list(columns)
    missing = [n for n in names if n not in df.columns]
    if missing:
        raise InputError(f"the data has no column '{missing[0]}' to write.", source=str(target),
                         hint=f"Columns present: {', '.join(map(str, df.columns))}.")
    data = df[names] if names else df.iloc[:, :0]

    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\r\n", quoting=csv.QUOTE_NONNUMERIC)
            writer.writerow([csv_field(label) for label in labels])
            for row in data.itertuples(index=False, name=None):
                writer.writerow([csv_field(v) for v in row])

    return atomic_write(target, write)
