"""The licence gate: for a cross-cloud pair, source users not eligible for cross-tenant sync (toolkit.licensing)
are **blocked** from create and update, with the reason (licensing-facts.md; docs/licensing.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..frames import TenantData
from . import arrowtext as at
from .options import PlanOptions
from .tables import SourceUsers

__all__ = ["LicenceGate", "gate_by_licence"]


@dataclass
class LicenceGate:
    """Per candidate position: blocked or not, and why (None where not blocked)."""

    blocked: np.ndarray
    reason: np.ndarray


def gate_by_licence(source: TenantData, target_cloud: str, src: SourceUsers, pair_kind: str,
                    options: PlanOptions, eligibility: pd.DataFrame | None, catalog: Any) -> LicenceGate:
    """Which in-scope source users the licence gate blocks (nobody for a same-cloud pair or --no-check-licences)."""
    n = len(src)
    blocked, reason = np.zeros(n, dtype=bool), np.full(n, None, dtype=object)
    if pair_kind != "cross-cloud" or not options.check_licences:
        return LicenceGate(blocked, reason)
    ids = at.objects(src.id)
    if eligibility is None:
        from ..licensing import evaluate_eligibility
        eligibility = evaluate_eligibility(source, source.cloud, target_cloud, scope_user_ids=set(ids),
                                           catalog=catalog).users
    return _blocked(eligibility, ids)


def _blocked(eligibility: pd.DataFrame, ids: np.ndarray) -> LicenceGate:
    el = eligibility.set_index("userId")
    not_ok = el[(el["eligible"] != True) & el.index.isin(ids)]  # noqa: E712 (nullable)
    why = ("not licensed for cross-cloud sync (" + not_ok["status"].astype(str) + "): "
           + not_ok["reason"].astype(str))
    n = len(ids)
    blocked, reason = np.zeros(n, dtype=bool), np.full(n, None, dtype=object)
    if len(why):
        at_pos = pd.Index(why.index).get_indexer(ids)
        blocked = at_pos >= 0
        reason[blocked] = why.to_numpy(dtype=object)[at_pos[blocked]]
    return LicenceGate(blocked, reason)
