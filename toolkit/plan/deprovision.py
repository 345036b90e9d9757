"""Deprovisioning: target users linked to this source whose source user is deleted, out of scope, or no longer
syncable are soft-deleted (Entra's behaviour) or, with ``on_deprovision="disable"``, disabled. Target users
ccsync did not create or adopt (no link to this source) are never touched.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import arrowtext as at
from .columns import on_premises_mastered
from .decisions import Decisions
from .options import PlanOptions
from .match import Matches
from .tables import TargetUsers

__all__ = ["plan_deprovisioning"]


def plan_deprovisioning(matches: Matches, every_source_id: pa.Array, every_source_upn: pa.Array,
                        tgt: TargetUsers, options: PlanOptions) -> Decisions:
    """Deletes (or disables) of linked target users whose source user is not an in-scope candidate (the match
    phase's ``link_owner``). ``every_source_id`` / ``every_source_upn``: all users of the source export (to say
    which reason applies)."""
    out = Decisions()
    linked = np.flatnonzero(tgt.linked & (matches.link_owner < 0))
    if not len(linked):
        return out
    source_id = at.take(tgt.link_source, linked)
    # Which of those source users still exist (out of scope) and their UPN: the few gone ids are hashed, the
    # whole source export only probes them.
    unique = pc.unique(source_id)
    in_source = at.positions_in(every_source_id, unique)
    row_of = np.full(len(unique), -1, dtype=np.int64)
    rows = np.flatnonzero(in_source >= 0)
    row_of[in_source[rows[::-1]]] = rows[::-1]           # the first source row with that id
    known = row_of[at.positions_in(source_id, unique)]
    exists = known >= 0
    why = np.where(exists, "the source user is out of scope", "the source user no longer exists").astype(object)
    # Where the source user still exists, its UPN; NaN where it does not (as the plan always had it).
    upn = np.full(len(linked), np.nan, dtype=object)
    if len(every_source_id):
        upn[exists] = at.objects(at.take(every_source_upn, known[exists]))
    else:
        upn[:] = None
    fields = {"sourceId": at.objects(source_id), "targetId": at.objects(at.take(tgt.id, linked)),
              "targetUpn": at.objects(at.take(tgt.upn, linked)), "matchedBy": "link", "sourceUpn": upn}
    if options.on_deprovision == "delete":
        out.add("delete", len(linked), **fields, reason=why + " (soft delete, restorable for 30 days)")
        return out
    frame = tgt.frame
    enabled = frame["accountEnabled"].fillna(True).astype(bool).to_numpy()[linked]
    onprem = on_premises_mastered(frame).to_numpy()[linked] & enabled
    if onprem.any():
        out.add("conflict", int(onprem.sum()), **{k: _rows(v, onprem) for k, v in fields.items()},
                reason="the target user is synchronized from on-premises AD (onPremisesSyncEnabled): Graph refuses "
                       "to disable it; disable it on-premises")
        enabled &= ~onprem
    ids = out.add("disable", int(enabled.sum()), **{k: _rows(v, enabled) for k, v in fields.items()},
                  reason=why[enabled])
    out.change(ids, "accountEnabled", "true", "false", "always")
    return out


def _rows(value, keep: np.ndarray):
    return value[keep] if isinstance(value, np.ndarray) else value
