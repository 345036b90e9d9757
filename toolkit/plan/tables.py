"""The users one plan reads, as Arrow columns: the in-scope source users (the candidates) and the target users
with the durable link read once. Every phase of the planner works on these positions and columns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import arrowtext as at
from .columns import LINK_PREFIX

__all__ = ["SourceUsers", "TargetUsers", "read_links"]


@dataclass
class SourceUsers:
    """Source users by position (index reset): ``frame`` and its key columns as Arrow text."""

    frame: pd.DataFrame
    id: pa.Array
    upn: pa.Array
    mail: pa.Array

    @classmethod
    def of(cls, frame: pd.DataFrame) -> "SourceUsers":
        frame = frame.reset_index(drop=True)
        return cls(frame, at.text(frame["id"]), at.text(frame["userPrincipalName"]), at.text(frame["mail"]))

    def __len__(self) -> int:
        return len(self.frame)


@dataclass
class TargetUsers:
    """Target users by position, with ccsync's link to this source read once.

    ``linked``: the link names this source tenant (``ccsync:<source tenant>:``); ``link_source``: the source id
    after that prefix (valid where ``linked``). ``link_raw`` keeps the attribute's values as Graph gave them when
    some are not text (compared as they are, as the plan always did); None when all are text or unset.
    """

    frame: pd.DataFrame
    id: pa.Array
    upn: pa.Array
    link: pa.Array
    link_raw: np.ndarray | None
    linked: np.ndarray
    link_source: pa.Array

    @classmethod
    def of(cls, frame: pd.DataFrame, link_attribute: str, source_tenant_id: str) -> "TargetUsers":
        frame = frame.reset_index(drop=True)
        link, raw = read_links(frame, link_attribute)
        prefix = f"{LINK_PREFIX}:{source_tenant_id}:"
        linked = at.mask(pc.starts_with(link, prefix))
        # Sliced as pandas' .str.slice did (the same Arrow kernel); only read where ``linked``.
        link_source = pc.utf8_slice_codeunits(link, len(prefix))
        return cls(frame, at.text(frame["id"]), at.text(frame["userPrincipalName"]), link, raw, linked,
                   link_source)

    def __len__(self) -> int:
        return len(self.frame)


def read_links(frame: pd.DataFrame, name: str) -> tuple[pa.Array, np.ndarray | None]:
    """``onPremisesExtensionAttributes.<name>`` as Arrow text, and the raw values when some are not text."""
    if "onPremisesExtensionAttributes" not in frame.columns:
        return pa.nulls(len(frame), at.TEXT), None
    values = frame["onPremisesExtensionAttributes"].to_numpy(dtype=object)
    # The attribute lives in a dict per user (Graph's complex type): one pass of dict.get is the cheapest read.
    raw = [d.get(name) if type(d) is dict else (d.get(name) if isinstance(d, dict) else None) for d in values]
    try:
        return at.from_objects(raw), None
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        series = pd.Series(raw, dtype="object")
        return at.text(series.astype("string[pyarrow]")), series.to_numpy(dtype=object)
