"""The mapping's value for each in-scope source user and rule, as the plan compares and writes it.

A rule that copies a text attribute (``department = [department]``, most of Entra's defaults) or a boolean one
into a boolean target (``accountEnabled``) is the source column itself, as Arrow text ("true"/"false" for
booleans). Any other expression is evaluated by toolkit.plan.expressions over all candidates, as it always was,
and compared as Python values.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from . import arrowtext as at
from .columns import keys_as_objects, mapped_rule_values, text_values
from .rules import BOOLEAN_TARGETS, Mapping, MappingRule
from .tables import SourceUsers

__all__ = ["MappedValues", "target_text"]


class MappedValues:
    """Per rule target: Arrow text over the candidates, or the expression's result (a pandas Series)."""

    def __init__(self, mapping: Mapping, src: SourceUsers):
        self.rules = list(mapping.rules)
        self._src = src
        self._arrow: dict[str, pa.Array] = {}
        self._series: dict[str, pd.Series] = {}
        self._frame: pd.DataFrame | None = None
        for rule in self.rules:
            column = _direct_column(rule, src.frame)
            constant = rule.expression.tree.value if rule.expression.is_constant else None
            if isinstance(constant, str):
                # A text constant ("Member"): the same text for everyone (lower-cased for a boolean target).
                value = constant.lower() if rule.target in BOOLEAN_TARGETS else constant
                self._arrow[rule.target] = pa.repeat(pa.scalar(value, at.TEXT), len(src))
            elif column is not None and at.is_arrow_text(column) and rule.target not in BOOLEAN_TARGETS:
                self._arrow[rule.target] = at.text(column)
            elif column is not None and str(column.dtype) in ("boolean", "bool") and rule.target in BOOLEAN_TARGETS:
                self._arrow[rule.target] = at.boolean_text(column)
            else:
                self._series[rule.target] = self._evaluate(rule)

    def _evaluate(self, rule: MappingRule) -> pd.Series:
        if self._frame is None:
            # The expression sees the frame it always saw: key columns as objects, indexed by id.
            self._frame = keys_as_objects(self._src.frame).set_index("id", drop=False)
        return mapped_rule_values(rule, self._frame)

    def is_text(self, target: str) -> bool:
        return target in self._arrow

    def text(self, target: str, pos: np.ndarray) -> pa.Array | np.ndarray:
        """Comparable text at candidate positions: Arrow, or objects (booleans as true/false, None for null)."""
        if target in self._arrow:
            return at.take(self._arrow[target], pos)
        return text_values(self._series[target].iloc[pos])

    def raw(self, target: str, pos: np.ndarray) -> pa.Array | pd.Series:
        """Values at candidate positions as the expression gives them (Arrow text for copied columns)."""
        if target in self._arrow:
            return at.take(self._arrow[target], pos)
        return self._series[target].iloc[pos]

    def frame(self, pos: np.ndarray, ids: np.ndarray) -> pd.DataFrame:
        """The values at ``pos`` as a frame indexed by source id (for the create checks)."""
        out: dict[str, Any] = {}
        for rule in self.rules:
            raw = self.raw(rule.target, pos)
            # Copied text stays Arrow (pandas' "string"): the checks read it column-wise.
            out[rule.target] = (pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array([raw])), index=ids)
                                if isinstance(raw, pa.Array) else pd.Series(raw.to_numpy(), index=ids,
                                                                            dtype=raw.dtype))
        return pd.DataFrame(out, index=ids)


def _direct_column(rule: MappingRule, frame: pd.DataFrame) -> pd.Series | None:
    expression = rule.expression
    if not expression.is_direct or expression.tree.name not in frame.columns:
        return None
    return frame[expression.tree.name]


def target_text(frame: pd.DataFrame, attribute: str, pos: np.ndarray) -> pa.Array | np.ndarray | None:
    """A target attribute at positions as comparable text: Arrow for text and boolean columns, objects for
    anything else, None when the target export has no such column."""
    if attribute not in frame.columns:
        return None
    column = frame[attribute]
    if at.is_arrow_text(column):
        return at.take(at.text(column), pos)
    if str(column.dtype) in ("boolean", "bool"):
        return at.take(at.boolean_text(column), pos)
    return text_values(column.iloc[pos])
