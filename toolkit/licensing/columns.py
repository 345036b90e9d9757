"""Vectorised column helpers for the eligibility evaluation: columns as pandas strings, case-insensitive
membership over distinct values, and string columns built with Arrow kernels (constants, labels by code,
``{field}`` templates) so no text is made per user in Python."""

from __future__ import annotations

import re
from typing import Any, Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["string_col", "lower_in", "const", "labels", "fill"]


def string_col(df: pd.DataFrame, name: str) -> pd.Series:
    """A column as pandas strings, or an all-NA one when the frame lacks it."""
    if name in df.columns:
        s = df[name]
        return s if isinstance(s.dtype, pd.StringDtype) else s.astype("string")
    return pd.Series(pd.NA, index=df.index, dtype="string")


def lower_in(series: pd.Series, values: Iterable[str]) -> np.ndarray:
    """Case-insensitive membership, computed on the distinct values only (fast for long columns)."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    hit = np.array([str(u).lower() in set(values) for u in uniques] + [False], dtype=bool)
    return hit[codes]


def const(text: str, n: int) -> pd.Series:
    """n copies of one string as an arrow-backed string Series (cheap: no Python objects per row)."""
    return pd.Series(pd.arrays.ArrowStringArray(pa.repeat(pa.scalar(text, pa.large_string()), n)))


def labels(codes: np.ndarray, labels: list[str]) -> pd.Series:
    """labels[code] per row as a string Series; code -1 gives NA (a dictionary decode, no per-row Python)."""
    codes = np.asarray(codes, dtype=np.int64)
    arr = pa.DictionaryArray.from_arrays(pa.array(codes, mask=codes < 0), pa.array(labels, pa.large_string()))
    return pd.Series(pd.arrays.ArrowStringArray(arr.cast(pa.large_string())))


def fill(template: str, fields: dict[str, Any], n: int) -> pd.Series:
    """Fill a ``{field}`` template for n rows in one arrow kernel; fields are strings or length-n Series."""
    parts = re.split(r"\{(\w+)\}", template)
    large = pa.large_string()
    args: list[Any] = []
    for i, text in enumerate(parts):
        if i % 2 == 0:
            if text:
                args.append(pa.scalar(text, large))
            continue
        value = fields[text]
        if isinstance(value, pd.Series):
            args.append(pa.array(value.astype("string").array).cast(large))
        else:
            args.append(pa.scalar(str(value), large))
    if not any(isinstance(a, (pa.Array, pa.ChunkedArray)) for a in args):
        return const("".join(parts[::2]) if len(parts) == 1 else template.format(**fields), n)
    joined = pc.binary_join_element_wise(*args, pa.scalar("", large), null_handling="replace",
                                         null_replacement="")
    return pd.Series(pd.arrays.ArrowStringArray(joined))
