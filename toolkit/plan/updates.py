"""Matched users: which need an update (an "always" mapping whose value changed, or the link to write), which a
disable (the source account is disabled), and which are refused (mastered on-premises) or blocked (licence).

"Once" mappings are not compared; a null mapped value is never written (Entra does not provision nulls).
Compared column-wise over all matched users in Arrow; Python values are made only for the changed rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import arrowtext as at
from .columns import on_premises_mastered, text_values
from .decisions import Decisions
from .gate import LicenceGate
from .mapped import MappedValues, target_text
from .match import Matches
from .options import PlanOptions
from .rules import Mapping
from .tables import SourceUsers, TargetUsers

__all__ = ["plan_updates", "compare"]


def compare(new: pa.Array | np.ndarray, old: pa.Array | np.ndarray | None
            ) -> tuple[np.ndarray, pa.Array | np.ndarray, pa.Array | np.ndarray]:
    """(changed, new, old): a value changes where the new value is not null and differs (null old differs)."""
    n = len(new)
    if old is None:
        old = pa.nulls(n, at.TEXT) if isinstance(new, pa.Array) else np.full(n, None, dtype=object)
    if isinstance(new, pa.Array) and isinstance(old, pa.Array):
        differs = pc.fill_null(pc.not_equal(new, old), True)
        return at.mask(pc.and_(pc.is_valid(new), differs)), new, old
    new = at.objects(new) if isinstance(new, pa.Array) else new
    old = at.objects(old) if isinstance(old, pa.Array) else old
    return ~pd.isna(new) & (new != old), new, old


def _pick(values: pa.Array | np.ndarray, rows: np.ndarray) -> pa.Array | np.ndarray:
    return at.take(values, rows) if isinstance(values, pa.Array) else values[rows]


def plan_updates(src: SourceUsers, tgt: TargetUsers, matches: Matches, values: MappedValues, gate: LicenceGate,
                 mapping: Mapping, options: PlanOptions, link_column: str, link_prefix: str) -> Decisions:
    """Updates and disables of matched users, with their changes; conflicts and blocks of the same users."""
    out = Decisions()
    sp, tp = matches.source_pos, matches.target_pos
    n = len(sp)
    if not n:
        return out
    changed_any = np.zeros(n, dtype=bool)
    disable = np.zeros(n, dtype=bool)
    per_attr = []               # (attribute, rows that changed, old there, new there)
    for rule in mapping.rules:
        if rule.once:
            continue
        diff, new, old = compare(values.text(rule.target, sp), target_text(tgt.frame, rule.target, tp))
        if rule.target == "accountEnabled":
            is_false = at.mask(pc.equal(new, "false")) if isinstance(new, pa.Array) else (new == "false")
            disable |= diff & is_false
        changed_any |= diff
        rows = np.flatnonzero(diff)
        per_attr.append((rule.target, rows, _pick(old, rows), _pick(new, rows)))
        del new, old
    # The durable link: written on every matched user that does not carry it yet (adoptions, repairs). A target
    # whose link names this very candidate (the match phase's join) carries it; every other one does not.
    if tgt.link_raw is None:
        link_diff = ~(tgt.linked[tp] & (matches.link_owner[tp] == sp))
        rows = np.flatnonzero(link_diff)
        old_link = at.take(tgt.link, tp[rows])
        new_link = pc.binary_join_element_wise(pa.scalar(link_prefix, at.TEXT), at.take(src.id, sp[rows]),
                                               pa.scalar("", at.TEXT))
    else:
        new_link = at.objects(pc.binary_join_element_wise(pa.scalar(link_prefix, at.TEXT), at.take(src.id, sp),
                                                          pa.scalar("", at.TEXT)))
        old_link = text_values(tgt.link_raw[tp])
        link_diff = old_link != new_link
        rows = np.flatnonzero(link_diff)
        old_link, new_link = old_link[rows], new_link[rows]
    changed_any |= link_diff
    per_attr.append((link_column, rows, old_link, new_link))

    # Graph refuses to PATCH a user whose source of authority is on-premises AD ("Unable to update the
    # specified properties for objects that have originated within an external service"): never planned.
    onprem = on_premises_mastered(tgt.frame).to_numpy()[tp] & changed_any
    changed_any &= ~onprem
    is_blocked = gate.blocked[sp] & changed_any
    kind = np.where(disable, "disable", "update")

    def fields(rows: np.ndarray) -> dict:
        s, t = sp[rows], tp[rows]
        return {"sourceId": at.take(src.id, s), "sourceUpn": at.take(src.upn, s),
                "sourceMail": at.take(src.mail, s), "targetId": at.take(tgt.id, t),
                "targetUpn": at.take(tgt.upn, t), "matchedBy": matches.matched_by[rows]}

    if onprem.any():
        rows = np.flatnonzero(onprem)
        f = fields(rows)
        upn = pd.Series(at.objects(f["targetUpn"]), dtype="object").astype(str).to_numpy(dtype=object)
        out.add("conflict", len(rows), **f,
                reason="the target user " + upn + " is synchronized from on-premises AD (onPremisesSyncEnabled): "
                       "Graph refuses to update it; change it in the target's on-premises directory, or take "
                       "this user out of scope")
    # A mail/UPN match survives matching only as an adoption the admin opted into (--adopt): its update or
    # disable takes the user over, and the plan marks it so ("adopt": true; the guard allows nothing else).
    adopting = np.isin(matches.matched_by, ["mail", "upn"]) & options.adopt
    op_of = np.full(n, None, dtype=object)
    for k in ("update", "disable"):
        rows = np.flatnonzero(changed_any & (kind == k) & ~is_blocked)
        if len(rows):
            ids = out.add(k, len(rows), **fields(rows), reason=("source account is disabled" if k == "disable"
                                                               else None))
            op_of[rows] = ids
            out.adopted.update(ids[adopting[rows]])
    if is_blocked.any():
        rows = np.flatnonzero(is_blocked)
        out.add("blocked", len(rows), **fields(rows), reason=gate.reason[sp[rows]])
    for attr, rows, old, new in per_attr:
        keep = op_of[rows] != None          # noqa: E711 (object array, elementwise)
        if keep.any():
            chosen = np.flatnonzero(keep)
            out.change(op_of[rows][chosen], attr, at.objects(_pick(old, chosen)) if isinstance(old, pa.Array)
                       else old[chosen], _pick(new, chosen), "always")
    return out
