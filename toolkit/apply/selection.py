"""Which of a reviewed plan's operations one apply carries out (``ccsync apply PLAN --operation OPID``).

A selection is a set of the plan's own op ids. It is checked before anything is written: an id the plan does not
have is refused (``InputError``, exit 2). A selected operation the plan holds (over the deletion threshold), or
one apply never carries out (a conflict, a blocked user), stays as it is and is reported back, never sent.

An operation is the unit of selection: a create is selected with its follow-ups (attributes, link, licences,
groups, manager), all under the create's op id. Operations left out are registered in the journal as pending
and never touched, so a later apply (other ids, or none: the rest) carries them out exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from ..errors import InputError

__all__ = ["Selection", "select_operations"]


@dataclass(frozen=True)
class Selection:
    """``ids``: the op ids asked for (None: the whole plan); ``not_carried_out``: selected operations apply does
    not carry out, each ``{"opId", "kind", "reason"}``."""

    ids: frozenset[str] | None = None
    not_carried_out: tuple[dict[str, Any], ...] = field(default=())

    def __contains__(self, op_id: object) -> bool:
        return self.ids is None or op_id in self.ids

    @property
    def partial(self) -> bool:
        return self.ids is not None


def select_operations(plan: Any, op_ids: Iterable[str] | None) -> Selection:
    """Check ``op_ids`` against ``plan`` (None or empty: every operation); raises InputError naming unknown ids."""
    if op_ids is None:
        return Selection()
    wanted = [str(o).strip() for o in op_ids if str(o).strip()]
    if not wanted:
        return Selection()
    ops = plan.ops
    known = dict(zip(ops["opId"].astype(str), zip(ops["kind"].astype(str), ops["held"].astype(bool))))
    unknown = sorted({o for o in wanted if o not in known})
    if unknown:
        shown = ", ".join(unknown[:5]) + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
        raise InputError(f"the plan has no operation {shown}; nothing was written", field="operation",
                         hint="Pass op ids exactly as the plan lists them (the opId column of 'ccsync apply PLAN "
                              "--what-if --output json', or of the plan workbook), or leave --operation out to "
                              "apply the whole plan.")
    out = []
    for o in dict.fromkeys(wanted):             # each id once, in the order given
        kind, held = known[o]
        if held:
            out.append({"opId": o, "kind": kind, "reason": "held: the plan's deletes/disables exceed its deletion "
                        "threshold; it stays held (plan again with --allow-deletes to release it)"})
        elif kind not in ("create", "update", "disable", "delete"):
            out.append({"opId": o, "kind": kind, "reason": f"a {kind}: apply never carries it out (see the plan's "
                        "reason for it)"})
    return Selection(frozenset(wanted), tuple(out))
