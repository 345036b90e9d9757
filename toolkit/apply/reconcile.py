"""Reconcile: decide, by reading the target, what became of operations whose outcome is unknown.

Operations left ``sent`` by an interrupted run, and a ``$batch`` that got no usable answer, are never guessed:

* updates, disables, deletes and restores: the user is re-read; done, still to do, or stale;
* follow-ups and the manager step: safe to resend, so simply pending again;
* creates: looked up by their link (``$filter`` on the extension attribute, an advanced query), then by the
  invitation's mail or the planned UPN (``reads.lookup_created``). Found: on to the follow-ups. Not found: looked
  for again with back-off (replication lag can hide a user just created) until ``unknown_create_wait`` has
  passed since the create was sent; only then is it sent again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..graph import MAX_BATCH
from .managers import MANAGER_STEP
from .operations import is_done, stale_reason
from .reads import chunks, get_users, lookup_created

if TYPE_CHECKING:
    from .run import Run

__all__ = ["reconcile", "reconcile_creates", "run_due_lookups"]


def reconcile(run: "Run", op_ids: list[str]) -> None:
    """Settle ``op_ids`` (outcome unknown) from what the target says now; journaled at the end."""
    creates = [o for o in op_ids if run.entries[o].step == "main" and run.ops[o].kind == "create"]
    users = [o for o in op_ids if run.entries[o].step == "main" and run.ops[o].kind in
             ("update", "disable", "delete", "restore")]
    for o in op_ids:
        if run.entries[o].step in ("finish", MANAGER_STEP):    # follow-ups and PUT manager: safe to resend
            run.set(o, state="pending")
    for chunk in chunks(users, MAX_BATCH * 10):
        current = get_users(run, chunk)
        for o in chunk:
            _settle_unknown(run, o, current[o])
    for o in op_ids:
        if o not in creates:
            run.enqueue(o, 0.25)
    if creates:
        reconcile_creates(run, creates)
    run.flush()


def _settle_unknown(run: "Run", o: str, user: dict[str, Any] | None) -> None:
    op = run.ops[o]
    if op.kind == "delete":
        if user is None:
            run.set(o, state="done", result="deleted (soft)")
        else:
            run.set(o, state="pending")
    elif op.kind == "restore":
        if user is None:
            run.set(o, state="pending")
        else:
            run.to_finish(o, run.entries[o].target_id or op.target_id or "", restored=True)
    else:
        if user is not None and is_done(op, user):
            run.set(o, state="done", result=f"updated {len(op.attrs)} attribute(s)")
            return
        reason = stale_reason(op, user, allow_done=True)
        if reason:
            run.set(o, state="skipped", result="stale", message=reason)
        else:
            run.set(o, state="pending")


def reconcile_creates(run: "Run", op_ids: list[str]) -> None:
    """One look-up round for creates of unknown outcome (see the module docstring)."""
    found: dict[str, str | None] = {}
    for chunk in chunks(op_ids, MAX_BATCH * 10):
        found.update(lookup_created(run, chunk))
    now = run.clock.time()
    for o in op_ids:
        run.schedule.lookups.pop(o, None)
        if found[o]:
            run.to_finish(o, found[o])   # type: ignore[arg-type]
            run.enqueue(o)
        elif now >= (run.entries[o].sent_at or 0.0) + run.opts.unknown_create_wait:
            run.set(o, state="pending", step="main")
            run.enqueue(o)
        else:
            run.schedule.look_again(o)


def run_due_lookups(run: "Run") -> None:
    """The look-ups whose back-off has passed (called by the send loop)."""
    due = run.schedule.due_lookups()
    if due:
        reconcile_creates(run, due)
        run.flush()
