"""What a phase of the planner decided: operations (one per user) and their attribute changes, collected in the
order the phases run and put together into the plan's two frames (columns: toolkit.frames OPS_COLUMNS and
CHANGES_COLUMNS) at the end. Values stay Arrow where they came from Arrow; Python objects are made here, once,
only for what is in the plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from . import arrowtext as at
from .columns import op_ids

__all__ = ["Decisions", "ops_frame", "changes_frame"]

OP_FIELDS = ("sourceId", "sourceUpn", "sourceMail", "targetId", "targetUpn", "matchedBy", "reason")


@dataclass
class Decisions:
    """Operations and changes, in the order they were decided; ``adopted``: op ids that take a user over."""

    ops: list[dict[str, Any]] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)
    adopted: set[str] = field(default_factory=set)

    def add(self, kind: str, n: int, **fields: Any) -> np.ndarray:
        """``n`` operations of ``kind``; each field an array of n values (objects, None for null) or one value
        for all. Returns their op ids (stable: kind, source id, target id)."""
        if not n:
            return np.empty(0, dtype=object)
        cols = {name: _column(fields.get(name), n) for name in OP_FIELDS}
        ids = np.array(op_ids(kind, cols["sourceId"], cols["targetId"]), dtype=object)
        self.ops.append({"kind": kind, "opId": ids, **cols})
        return ids

    def change(self, op_id: np.ndarray, attribute: Any, old: Any, new: Any, flow: str) -> None:
        """Changes of the operations ``op_id``: ``old`` / ``new`` are arrays (Arrow or objects) or one value."""
        if len(op_id):
            self.changes.append({"opId": op_id, "attribute": attribute, "oldValue": old, "newValue": new,
                                 "flow": flow})

    def extend(self, other: "Decisions") -> "Decisions":
        self.ops += other.ops
        self.changes += other.changes
        self.adopted |= other.adopted
        return self


def _column(value: Any, n: int) -> np.ndarray:
    if isinstance(value, np.ndarray):
        return value.astype(object, copy=False)
    if isinstance(value, (pa.Array, pa.ChunkedArray)):
        return at.objects(value)
    if isinstance(value, (list, tuple, pd.Series, pd.Index)):
        return np.asarray(value, dtype=object)
    out = np.empty(n, dtype=object)
    out[:] = value
    return out


def ops_frame(decisions: Decisions) -> pd.DataFrame:
    """The operations, unsorted, one column per field (objects; kind and opId as text)."""
    if not decisions.ops:
        return pd.DataFrame(columns=["kind", "opId", *OP_FIELDS])
    kinds = np.concatenate([np.full(len(o["opId"]), o["kind"], dtype=object) for o in decisions.ops])
    data = {"kind": at.to_str_series(at.from_objects(kinds)),
            "opId": at.to_str_series(at.from_objects(np.concatenate([o["opId"] for o in decisions.ops])))}
    for name in OP_FIELDS:
        data[name] = pd.Series(np.concatenate([o[name] for o in decisions.ops]), dtype="object")
    return pd.DataFrame(data)


def changes_frame(decisions: Decisions) -> pd.DataFrame:
    """All changes in decision order: opId, attribute, oldValue (objects), newValue, flow."""
    blocks = decisions.changes
    if not blocks:
        return pd.DataFrame(columns=["opId", "attribute", "oldValue", "newValue", "flow"])
    sizes = [len(b["opId"]) for b in blocks]
    op = pa.chunked_array([at.from_objects(np.asarray(b["opId"], dtype=object)) for b in blocks], type=at.TEXT)
    attr = pa.chunked_array([_repeat(b["attribute"], n) for b, n in zip(blocks, sizes)], type=at.TEXT)
    flow = pa.chunked_array([_repeat(b["flow"], n) for b, n in zip(blocks, sizes)], type=at.TEXT)
    old = np.concatenate([_column(b["oldValue"], n) for b, n in zip(blocks, sizes)])
    return pd.DataFrame({"opId": at.to_str_series(op), "attribute": at.to_str_series(attr),
                         "oldValue": pd.Series(old, dtype="object"), "newValue": _new_values(blocks, sizes),
                         "flow": at.to_str_series(flow)})


def _repeat(value: Any, n: int) -> pa.Array:
    return pa.repeat(pa.scalar(value, at.TEXT), n) if isinstance(value, str) else \
        at.from_objects(_column(value, n))


def _new_values(blocks: list[dict[str, Any]], sizes: list[int]) -> pd.Series:
    # Text all the way when every new value is text (the usual case): no Python string per change.
    parts = []
    for b, n in zip(blocks, sizes):
        value = b["newValue"]
        if isinstance(value, pa.Array):
            parts.append(value.cast(at.TEXT))
        elif isinstance(value, str):
            parts.append(at.from_objects(np.full(n, value, dtype=object)))
        else:
            try:
                parts.append(at.from_objects(np.asarray(value, dtype=object)))
            except (pa.ArrowTypeError, pa.ArrowInvalid):
                return pd.Series(np.concatenate([_column(b["newValue"], k) for b, k in zip(blocks, sizes)]),
                                 dtype="object")
    return at.to_str_series(pa.chunked_array(parts, type=at.TEXT))
