"""The planner's one representation of user columns: Arrow arrays, read once from the snapshot's frames (whose
text columns are Arrow-backed already) and kept as Arrow through matching, comparing and planning. Python
objects are made only for the rows that end up in the plan.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["TEXT", "is_arrow_text", "text", "from_objects", "boolean_text", "objects", "take", "mask",
           "positions_in", "lower", "present", "to_str_series"]

TEXT = pa.large_string()


def is_arrow_text(series: pd.Series) -> bool:
    dtype = series.dtype
    return isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"


def _one(arr: Any) -> pa.Array:
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    return arr.cast(TEXT) if arr.type != TEXT else arr


def text(series: pd.Series) -> pa.Array:
    """A column as Arrow text: zero-copy for Arrow-backed strings; otherwise as pandas' ``astype("string")``
    makes it (the planner's text keys always went through that conversion)."""
    if not is_arrow_text(series):
        series = series.astype("string[pyarrow]")
    return _one(pa.array(series.array))


def from_objects(values: Any) -> pa.Array:
    """Python strings (None or NaN for null) as Arrow text. Built as ``string`` then widened: pyarrow converts
    Python strings to ``large_string`` several times slower."""
    arr = pa.array(values, type=pa.string(), from_pandas=True)
    return _one(arr)


def boolean_text(series: pd.Series) -> pa.Array:
    """A boolean column as the planner compares it: "true" / "false", null for null."""
    values = pa.array(series.astype("boolean").array)
    return pc.if_else(values, pa.scalar("true", TEXT), pa.scalar("false", TEXT))


def objects(arr: pa.Array) -> np.ndarray:
    """Python objects (str, None for null) in an object array: only for the rows that go into the plan."""
    return arr.to_numpy(zero_copy_only=False).astype(object, copy=False) if len(arr) else np.empty(0, object)


def take(arr: pa.Array, positions: np.ndarray) -> pa.Array:
    return arr.take(pa.array(positions, type=pa.int64()))


def mask(values: Any) -> np.ndarray:
    """An Arrow boolean result as a NumPy mask, null counting as false."""
    return pc.fill_null(values, False).to_numpy(zero_copy_only=False).astype(bool, copy=False)


def present(arr: pa.Array) -> np.ndarray:
    return mask(pc.is_valid(arr))


def positions_in(values: pa.Array, keys: pa.Array) -> np.ndarray:
    """For each value, the position of the first equal key (a hash join), -1 where there is none."""
    found = pc.index_in(values, value_set=keys)
    return pc.fill_null(found, -1).to_numpy(zero_copy_only=False).astype(np.int64, copy=False)


def lower(arr: pa.Array) -> pa.Array:
    # The same Arrow kernel pandas' .str.lower() runs on Arrow strings (the planner's key lower-casing).
    return pc.utf8_lower(arr)


# pandas' default text dtype ("str": Arrow storage, NaN for null, pandas 3); on pandas 2 the Arrow string dtype.
_STR = pd.Series(["text"]).dtype if isinstance(pd.Series(["text"]).dtype, pd.StringDtype) else \
    pd.StringDtype("pyarrow")


def to_str_series(arr: pa.Array | pa.ChunkedArray) -> pd.Series:
    """pandas' default text column (``str``) over the Arrow data, without making Python strings."""
    return pd.Series(arr.to_pandas(types_mapper={TEXT: _STR, pa.string(): _STR}.get))
