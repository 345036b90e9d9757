"""The accidental-deletion threshold and the plan's order.

Deletes and disables together above ``deletion_threshold`` (default 500, Entra's default) are **held**, unless
``allow_deletes`` (the admin's explicit allowance) covers them. Operations are listed by kind (KINDS), then
source UPN, target UPN, source id and target id, case-insensitively: the same inputs give the same plan.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..frames import KINDS, OPS_COLUMNS
from . import arrowtext as at
from .options import PlanOptions

__all__ = ["hold_over_threshold", "in_plan_order", "count_changes"]

_KIND_ORDER = {k: i for i, k in enumerate(KINDS)}


def hold_over_threshold(ops: pd.DataFrame, options: PlanOptions) -> np.ndarray:
    """Which operations are held: every delete and disable, when there are more than the threshold allows."""
    destructive = ops["kind"].isin(["delete", "disable"]).to_numpy()
    n = int(destructive.sum())
    if n > options.deletion_threshold and n > options.deletion_threshold + options.allow_deletes:
        return destructive
    return np.zeros(len(ops), dtype=bool)


def count_changes(ops: pd.DataFrame, changes: pd.DataFrame) -> np.ndarray:
    """Changes per operation (int64)."""
    if changes.empty:
        return np.zeros(len(ops), dtype=np.int64)
    counted = pc.value_counts(pa.array(changes["opId"].array))
    at_pos = at.positions_in(pa.array(ops["opId"].array).cast(at.TEXT), counted.field("values").cast(at.TEXT))
    counts = counted.field("counts").to_numpy().astype(np.int64)
    return np.where(at_pos >= 0, counts[np.maximum(at_pos, 0)], 0).astype(np.int64)


def in_plan_order(ops: pd.DataFrame) -> np.ndarray:
    """Row order of the plan: kind, then lower-cased source UPN, target UPN, source id, target id (stable)."""
    keys = [ops["kind"].map(_KIND_ORDER).to_numpy(dtype=np.int64)]
    for col in ("sourceUpn", "targetUpn", "sourceId", "targetId"):
        text = at.from_objects(ops[col].to_numpy(dtype=object)) if ops[col].dtype == object else at.text(ops[col])
        # Each text key as its dense rank (Arrow sorts by code point, as Python compares strings).
        keys.append(pc.rank(pc.fill_null(pc.utf8_lower(text), ""), sort_keys="ascending",
                            tiebreaker="dense").to_numpy())
    return np.lexsort(keys[::-1])


def finish(ops: pd.DataFrame, changes: pd.DataFrame, options: PlanOptions) -> pd.DataFrame:
    """The plan's operations frame: counted, held over the threshold, in plan order, OPS_COLUMNS."""
    if ops.empty:
        return pd.DataFrame(columns=OPS_COLUMNS)
    ops["changeCount"] = count_changes(ops, changes)
    ops["held"] = hold_over_threshold(ops, options)
    ops = ops.take(in_plan_order(ops))
    return ops[OPS_COLUMNS].reset_index(drop=True)
