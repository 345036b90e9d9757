"""One apply run: what its phases share, and the state transitions they all make.

``Run`` holds the plan's operations and settings (read-only once built), the journal mirror (``ledger.py``),
the queues and timers (``schedule.py``), the progress tally and the invitations' answers. The transitions an
operation goes through (failed, sent round again, a create that took effect, finished) are methods here, so each
phase module (``verify``, ``reconcile``, ``send``, ``settle``) states *when* they happen, not how.

``snapshot()`` is the read-only picture the results are built from (``results.RunSnapshot``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import defaults
from ..clouds import get_cloud
from ..errors import GraphError
from ..graph import GraphClient
from ..plan.planfile import SyncPlan
from .clock import Clock
from .guard import WriteGuard
from .journal import TERMINAL, Journal, JournalEntry
from .ledger import Ledger
from .managers import MANAGER_STEP, wants_manager
from .operations import Operation, finish_requests
from .results import OpView, RunSnapshot
from .schedule import Schedule
from .selection import Selection

__all__ = ["Run", "Tally"]


@dataclass
class Tally:
    """Progress of the send phase: operations finished of ``total``, failures, and whether it was stopped."""

    started: float
    processed: int = 0
    total: int = 0
    failed: int = 0
    interrupted: bool = False


class Run:
    def __init__(self, plan: SyncPlan, client: GraphClient, journal: Journal, ops: list[Operation], opts: Any,
                 selection: Selection, clock: Clock):
        self.plan, self.client, self.opts, self.clock, self.selection = plan, client, opts, clock, selection
        self.ops = {op.op_id: op for op in ops}
        self.order = [op.op_id for op in ops if op.op_id in selection]      # what this run deals with
        self.not_selected = len(ops) - len(self.order)
        options = plan.header["options"]
        self.create_as = options.get("createAs", defaults.CREATE_AS)
        self.link_attr = options.get("linkAttribute", defaults.LINK_ATTRIBUTE)
        self.root = client.root
        self.guard = WriteGuard(str(plan.header["source"]["tenantId"]), self.link_attr)   # see guard.py
        self.redirect_url = get_cloud(str(plan.header["target"]["cloud"])).my_apps_url
        self.ledger = Ledger(journal)
        self.schedule = Schedule(clock)
        self.tally = Tally(started=clock.monotonic())
        # What each invitation returned and what the read-back found: op_id -> externalUserState,
        # inviteRedeemUrl (kept for this run's results; the journal does not hold them).
        self.invitations: dict[str, dict[str, Any]] = {}
        self.prerequisites: dict[str, Any] | None = None     # what the cross-cloud B2B check read, when it ran

    # --- shorthands ------------------------------------------------------------------------------------
    @property
    def journal(self) -> Journal:
        return self.ledger.journal

    @property
    def entries(self) -> dict[str, JournalEntry]:
        return self.ledger.entries

    def chosen(self) -> list[JournalEntry]:
        """The journal entries of the operations this run deals with (the selection), in plan order."""
        return [self.ledger.entries[o] for o in self.order]

    def set(self, op_id: str, **fields: Any) -> None:
        self.ledger.set(op_id, **fields)

    def flush(self) -> None:
        self.ledger.flush()

    def emit(self, event: dict[str, Any]) -> None:
        if self.opts.on_event is not None:
            self.opts.on_event(event)

    # --- transitions -----------------------------------------------------------------------------------
    def fail(self, o: str, error: Any) -> None:
        self.tally.failed += 1
        if isinstance(error, GraphError):
            self.set(o, state="failed", http_status=error.status, error_code=error.code,
                     message=error.graph_message or str(error), request_id=error.request_id, result="failed")
        else:
            self.set(o, state="failed", message=str(error), result="failed")

    def bump(self, o: str, error: Any) -> None:
        """One more round for ``o``; it fails once it has gone round ``max_requeues`` times."""
        n = self.schedule.requeues.get(o, 0) + 1
        self.schedule.requeues[o] = n
        if n > self.opts.max_requeues:
            self.fail(o, error)

    def requeue(self, o: str, step: str, delay: float, error: Any) -> None:
        self.bump(o, error)
        if self.entries[o].state == "failed":
            return
        self.set(o, state="pending", step=step)
        self.schedule.after(o, step, delay)

    def enqueue(self, o: str, delay: float = 0.0) -> None:
        if self.schedule.open and self.entries[o].state == "pending":
            self.schedule.after(o, self.entries[o].step, delay)

    def to_finish(self, o: str, target_id: str, *, restored: bool = False) -> None:
        """A create or restore took effect: queue its follow-ups, or finish it when there are none."""
        op = self.ops[o]
        self.guard.created(o, target_id)
        self.schedule.known(o)
        follow = finish_requests(op, target_id, "x", self.create_as, self.root,
                                 restored=restored or op.kind == "restore")
        if follow:
            self.set(o, state="pending", step="finish", target_id=target_id)
        else:
            self.set(o, step="finish", target_id=target_id)
            self.finished(o, enqueue=False)               # the callers queue it

    def finished(self, o: str, *, enqueue: bool) -> None:
        """A create/restore and its follow-ups took effect: done, or next its manager (managers.py)."""
        if wants_manager(self.ops[o]):
            self.set(o, state="pending", step=MANAGER_STEP, http_status=None)
            if enqueue:
                self.enqueue(o)
        else:
            self.set(o, state="done", result="restored" if self.ops[o].kind == "restore" else "created",
                     http_status=None)

    def count_terminal(self, op_ids: Any) -> None:
        self.tally.processed += sum(1 for o in op_ids if self.entries[o].state in TERMINAL)

    def sleep(self, seconds: float) -> None:
        try:
            self.clock.sleep(seconds, self.opts.stop)
        except KeyboardInterrupt:
            self.tally.interrupted = True

    def stop_requested(self) -> bool:
        return self.tally.interrupted or (self.opts.stop is not None and self.opts.stop.is_set())

    def progress(self) -> None:
        t = self.tally
        elapsed = self.clock.monotonic() - t.started
        rate = t.processed / elapsed if elapsed > 0 else 0.0
        remaining = max(0, t.total - t.processed)
        self.emit({"event": "apply_progress", "completed": t.processed, "total": t.total,
                   "rate": round(rate, 2), "eta": round(remaining / rate, 1) if rate > 0 else None,
                   "failed": t.failed})

    # --- the picture the results are built from ---------------------------------------------------------
    def snapshot(self) -> RunSnapshot:
        views = []
        for o in self.order:
            op, e = self.ops[o], self.entries[o]
            views.append(OpView(
                op_id=o, kind=e.kind or op.kind, state=e.state, step=e.step, source_upn=op.source_upn,
                target_upn=op.target_upn, target_id=e.target_id or op.target_id, attempts=e.attempts,
                http_status=e.http_status, error_code=e.error_code, message=e.message, request_id=e.request_id,
                result=e.result, create_mode=op.create_as(self.create_as),
                invitation=dict(self.invitations.get(o, {}))))
        sel = self.selection
        return RunSnapshot(header=self.plan.header, operations=tuple(views), stats=self.client.stats.to_dict(),
                           elapsed=self.clock.monotonic() - self.tally.started, interrupted=self.tally.interrupted,
                           journal=str(self.journal.path) if self.journal.path else None,
                           prerequisites=self.prerequisites, not_selected=self.not_selected,
                           selected=tuple(sorted(sel.ids)) if sel.ids is not None else None,
                           not_carried_out=sel.not_carried_out)
