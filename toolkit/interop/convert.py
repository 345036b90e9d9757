"""Python values -> .NET objects for the PowerShell host (and .NET request values -> Python).

Runs only inside a process where pythonnet has loaded a .NET runtime (``import clr`` works): the PowerShell
module's in-process bridge, or the bridge tests. The rules, so a cmdlet author knows what arrives:

======================================  =================================================================
Python                                  .NET
======================================  =================================================================
None, NaN, pandas NA / NaT              ``null`` (``DBNull.Value`` inside a ``DataTable``)
bool / int / float / str                ``System.Boolean`` / ``System.Int64`` / ``System.Double`` / ``System.String``
datetime, date, pandas Timestamp        ``System.DateTime`` (aware values in UTC, ``Kind = Utc``)
ISO-8601 text under a date-named key    ``System.DateTime``: keys ending in ``DateTime``, ``At`` or ``On``
                                        (``createdDateTime``, ``exportedAt``, ``expiresOn``), since the CLI's
                                        documents carry dates as text
dict (any mapping, dataclass, to_dict)  ``System.Collections.Specialized.OrderedDictionary`` (key order kept)
list / tuple / set of mappings          ``System.Data.DataTable``: one typed column per key; a column named in
                                        a declared frame (``toolkit.frames``) gets that frame's dtype
other list / tuple / set                ``System.Object[]``
pandas DataFrame                        ``System.Data.DataTable`` with the frame's dtypes
======================================  =================================================================
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import math
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

__all__ = ["to_dotnet", "frame_to_datatable", "records_to_datatable", "from_dotnet", "column_dtypes"]

_DATE_KEY = re.compile(r"(DateTime|At|On)$")
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
_TICKS_PER_MICROSECOND = 10


@lru_cache(maxsize=1)
def _system() -> Any:
    import clr  # noqa: F401  (pythonnet: makes the System namespace importable)
    clr.AddReference("System.Data.Common")  # DataTable's assembly on .NET (Core); PowerShell 7 loads it too
    clr.AddReference("System.Collections.Specialized")
    import System
    import System.Collections.Specialized  # noqa: F401
    import System.Data  # noqa: F401
    return System


def _net_types() -> dict[str, Any]:
    System = _system()
    return {"string": System.String, "boolean": System.Boolean, "Int64": System.Int64,
            "datetime": System.DateTime, "float": System.Double, "object": System.Object}


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return type(value).__name__ in ("NAType", "NaTType")


def _datetime(value: _dt.datetime | _dt.date) -> Any:
    System = _system()
    if not isinstance(value, _dt.datetime):
        return System.DateTime(value.year, value.month, value.day)
    kind = System.DateTimeKind.Unspecified
    if value.tzinfo is not None:
        value = value.astimezone(_dt.timezone.utc)
        kind = System.DateTimeKind.Utc
    result = System.DateTime(value.year, value.month, value.day, value.hour, value.minute, value.second, kind)
    return result.AddTicks(value.microsecond * _TICKS_PER_MICROSECOND) if value.microsecond else result


def _parse_iso(text: str) -> _dt.datetime | None:
    if not _ISO.match(text):
        return None
    try:
        return _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _plain(value: Any) -> Any:
    """Dataclasses and objects with to_dict() as mappings; numpy scalars as Python scalars."""
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict) and not _is_frame(value):
        return to_dict()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    item = getattr(value, "item", None)
    if callable(item) and type(value).__module__ == "numpy":
        return item()
    return value


def _is_frame(value: Any) -> bool:
    return type(value).__name__ == "DataFrame" and type(value).__module__.startswith("pandas")


def to_dotnet(value: Any, key: str | None = None) -> Any:
    """One Python value as .NET objects, following the table in this module's docstring."""
    System = _system()
    value = _plain(value)
    if _missing(value):
        return None
    if isinstance(value, bool):
        return System.Boolean(value)
    if isinstance(value, int):
        return System.Int64(value)
    if isinstance(value, float):
        return System.Double(value)
    if isinstance(value, str):
        if key is not None and _DATE_KEY.search(key):
            parsed = _parse_iso(value)
            if parsed is not None:
                return _datetime(parsed)
        return System.String(value)
    if isinstance(value, (_dt.datetime, _dt.date)):
        return _datetime(value)
    if isinstance(value, Path):
        return System.String(str(value))
    if _is_frame(value):
        return frame_to_datatable(value)
    if isinstance(value, Mapping):
        out = System.Collections.Specialized.OrderedDictionary()
        for k, v in value.items():
            out[str(k)] = to_dotnet(v, str(k))
        return out
    if isinstance(value, (list, tuple, set, frozenset)):
        items = list(value) if not isinstance(value, (set, frozenset)) else sorted(value, key=str)
        if items and all(type(i) is dict for i in items):  # the common case, checked at C speed
            return records_to_datatable(items)
        if items and all(isinstance(_plain(i), Mapping) for i in items):
            return records_to_datatable([_plain(i) for i in items])
        array = System.Array.CreateInstance(System.Object, len(items))
        for i, item in enumerate(items):
            array[i] = to_dotnet(item, key)
        return array
    return System.String(str(value))


@lru_cache(maxsize=1)
def column_dtypes() -> dict[str, str]:
    """Declared dtype of every column name in ``toolkit.frames`` (the first declaration wins)."""
    from toolkit import frames

    dtypes: dict[str, str] = {}
    for spec in [v for v in vars(frames).values() if isinstance(v, frames.FrameSpec)]:
        for name, dtype in spec.columns:
            dtypes.setdefault(name, dtype)
    return dtypes


_FITS: dict[str, tuple[type, ...]] = {"string": (str,), "boolean": (bool,), "Int64": (int,), "float": (int, float),
                                      "datetime": (_dt.datetime, _dt.date, str)}


def _kinds(values: list[Any]) -> set[type]:
    """The types of the present values (None, NaN, pandas NA/NaT left out), in one pass."""
    kinds = {type(v) for v in values}
    kinds = {k for k in kinds if k is not type(None) and k.__name__ not in ("NAType", "NaTType")}
    if float in kinds and all(math.isnan(v) for v in values if type(v) is float):
        kinds.discard(float)
    return kinds


def _infer(column: str, values: Iterable[Any]) -> str:
    """The declared dtype of ``column`` when every value fits it (a document may reuse a frame's column name
    for something else, e.g. ``error`` as an object), else the type of the values themselves."""
    values = list(values)
    kinds = _kinds(values)
    declared = column_dtypes().get(column)
    if declared is not None:
        fits = declared == "object" or all(issubclass(k, _FITS.get(declared, (object,))) for k in kinds)
        if fits and declared == "datetime" and str in kinds:
            fits = all(_parse_iso(v) is not None for v in values if isinstance(v, str))
        if fits and declared in ("Int64", "float") and bool in kinds:
            fits = False
        if fits:
            return declared
    if len(kinds) > 1 and not kinds <= {int, float}:
        return "object"
    for value in values:
        if _missing(value):
            continue
        if isinstance(value, bool):
            return "boolean"
        if isinstance(value, int):
            return "Int64"
        if isinstance(value, float):
            return "float"
        if isinstance(value, (_dt.datetime, _dt.date)):
            return "datetime"
        if isinstance(value, str):
            return "datetime" if _DATE_KEY.search(column) and _parse_iso(value) is not None else "string"
        return "object"
    return "string"


def _column_values(values: Sequence[Any], dtype: str, column: str) -> list[Any]:
    """One column's values as .NET-ready values (None for missing), converted in bulk per dtype."""
    # Values already of the column's type pass straight through (the common case); the rest are checked.
    if dtype == "string":
        return [v if type(v) is str else (None if _missing(v) else str(v)) for v in values]
    if dtype == "boolean":
        return [v if type(v) is bool else (None if _missing(v) else bool(v)) for v in values]
    if dtype == "Int64":
        return [None if _missing(v) else int(v) for v in values]
    if dtype == "float":
        return [None if _missing(v) else float(v) for v in values]
    if dtype == "datetime":
        out = []
        for v in values:
            if isinstance(v, str):
                v = _parse_iso(v)
            elif hasattr(v, "to_pydatetime") and not _missing(v):
                v = v.to_pydatetime()
            out.append(None if _missing(v) else _datetime(v))
        return out
    return [to_dotnet(v, column) for v in values]


@lru_cache(maxsize=1)
def _row_filler() -> Any:
    """A compiled .NET loop ``(DataTable table, object[][] columns) -> void`` that adds one row per index,
    nulls as DBNull: filling a table cell by cell from Python costs a crossing per cell; this costs one."""
    import clr

    System = _system()
    from System.Linq.Expressions import Expression as E
    from System.Linq.Expressions import ParameterExpression

    T = clr.GetClrType
    t_obj, t_int = T(System.Object), T(System.Int32)
    t_objs = t_obj.MakeArrayType()
    table = E.Parameter(T(System.Data.DataTable), "table")
    columns = E.Parameter(t_objs.MakeArrayType(), "columns")
    r, c, rows, width = (E.Variable(t_int, n) for n in ("r", "c", "rows", "width"))
    values, cell = E.Variable(t_objs, "values"), E.Variable(t_obj, "cell")
    end_rows, end_cols = E.Label("endRows"), E.Label("endCols")
    add = T(System.Data.DataRowCollection).GetMethod("Add", System.Array[System.Type]([t_objs]))
    dbnull = E.Field(None, T(System.DBNull), "Value")
    zero = E.Constant(System.Int32(0))
    inner = E.Loop(E.IfThenElse(
        E.LessThan(c, width),
        E.Block(System.Array[E]([
            E.Assign(cell, E.ArrayIndex(E.ArrayIndex(columns, c), r)),
            E.Assign(E.ArrayAccess(values, c), E.Coalesce(cell, E.Convert(dbnull, t_obj))),
            E.PreIncrementAssign(c)])),
        E.Break(end_cols)), end_cols)
    outer = E.Loop(E.IfThenElse(
        E.LessThan(r, rows),
        E.Block(System.Array[E]([
            E.Assign(values, E.NewArrayBounds(t_obj, System.Array[E]([width]))),
            E.Assign(c, zero), inner,
            E.Call(E.Property(table, "Rows"), add, values),
            E.PreIncrementAssign(r)])),
        E.Break(end_rows)), end_rows)
    body = E.Block(System.Array[ParameterExpression]([r, c, rows, width, values, cell]), System.Array[E]([
        E.Assign(width, E.ArrayLength(columns)),
        E.Assign(rows, E.Condition(E.Equal(width, zero), zero, E.ArrayLength(E.ArrayIndex(columns, zero)))),
        E.Assign(r, zero), outer]))
    return E.Lambda[System.Action[System.Data.DataTable, t_objs.MakeArrayType()]](
        body, System.Array[ParameterExpression]([table, columns])).Compile()


def _datatable(name: str, columns: Sequence[str], dtypes: Sequence[str],
               column_values: Sequence[Sequence[Any]]) -> Any:
    System = _system()
    types = _net_types()
    table = System.Data.DataTable(name)
    for column, dtype in zip(columns, dtypes):
        added = table.Columns.Add(column, types.get(dtype, System.Object))
        if dtype == "datetime":
            added.DateTimeMode = System.Data.DataSetDateTime.Utc  # ccsync's dates are UTC; keep Kind = Utc
    arrays = System.Array.CreateInstance(System.Type.GetType("System.Object[]"), len(columns))
    for i, (column, dtype, values) in enumerate(zip(columns, dtypes, column_values)):
        arrays[i] = System.Array[System.Object](_column_values(values, dtype, column))
    table.BeginLoadData()
    _row_filler()(table, arrays)
    table.EndLoadData()
    return table


def records_to_datatable(records: Sequence[Mapping[str, Any]], name: str = "rows") -> Any:
    """Rows of dicts as a DataTable: the union of keys, in first-seen order, typed as declared or inferred."""
    names = [str(c) for c in records[0]] if records else []
    seen = set(names)
    for record in records:
        if record.keys() != seen:  # rows with other keys: add theirs, in first-seen order
            for column in map(str, record):
                if column not in seen:
                    names.append(column)
                    seen.add(column)
    dtypes = [_infer(c, (r.get(c) for r in records)) for c in names]
    return _datatable(name, names, dtypes, [[r.get(c) for r in records] for c in names])


def _frame_dtype(column: str, series: Any) -> str:
    kind = str(series.dtype)
    if kind.startswith("datetime64"):
        return "datetime"
    if kind in ("boolean", "bool"):
        return "boolean"
    if kind in ("Int64", "int64", "Int32", "int32"):
        return "Int64"
    if kind.startswith("float"):
        return "float"
    if kind in ("string", "str") or kind.startswith("string"):
        return "string"
    return _infer(column, series.head(50).tolist())


def frame_to_datatable(frame: Any, name: str = "rows") -> Any:
    """A pandas DataFrame as a DataTable with one typed column per frame column."""
    names = [str(c) for c in frame.columns]
    dtypes = [_frame_dtype(c, frame[c]) for c in frame.columns]
    return _datatable(name, names, dtypes, [frame[c].tolist() for c in frame.columns])


def from_dotnet(value: Any) -> Any:
    """A request value from the host as plain Python: dictionaries, lists, strings, numbers, booleans.

    pythonnet already hands over .NET strings, numbers and booleans as Python values; collections arrive as
    .NET objects and are walked here.
    """
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    System = _system()
    if _is(value, System.Collections.IDictionary):
        return {str(k): from_dotnet(value[k]) for k in value.Keys}
    if _is(value, System.DateTime):
        return _dt.datetime(value.Year, value.Month, value.Day, value.Hour, value.Minute, value.Second)
    if _is(value, System.Delegate):
        return value
    if _is(value, System.Collections.IEnumerable):
        return [from_dotnet(v) for v in value]
    return str(value)


def _is(value: Any, clr_type: Any) -> bool:
    """isinstance for .NET interfaces too (a Python isinstance check does not see them)."""
    import clr

    get_type = getattr(value, "GetType", None)
    return callable(get_type) and clr.GetClrType(clr_type).IsAssignableFrom(get_type())
