"""Carry out a plan through Graph exactly once: batched, paced, journaled and resumable.

``apply_plan(plan, client, cloud=...)`` does, in order:

1. **Refusals** before anything is written: the plan's integrity hash (checked when it is loaded), the
   profile's cloud and the tenant the token reaches (``GET /organization``) against the plan's target; for
   cross-cloud invitations the target's cross-tenant access and invite settings (``prerequisites.py``); deletes
   and disables need ``allow_destructive``.
2. **Journal** (``journal.py``): every operation is registered as pending; a journal with unfinished work is
   only continued with ``resume``; a finished one makes the run a no-op that says so.
3. **Reconcile** operations left ``sent`` by an interrupted run (outcome unknown): the target is read, never
   guessed. A create is looked up by its link (``$filter`` on the extension attribute, an advanced query),
   then by the invitation's mail or the planned UPN, waiting out replication lag before concluding it never
   happened; only then is it sent again.
4. **Stale check**: the users that updates, disables and deletes touch are re-read in ``$batch``es of 20 GETs;
   an operation whose target no longer matches the plan's 'before' values (or is gone) is ``skipped`` and
   reported, never clobbered. Creates whose linked user sits in the deleted items are restored instead.
5. **Execution**: operations are packed into ``$batch``es of up to 20 requests (a create's follow-ups chained
   with ``dependsOn``), ``concurrency`` batches in flight, paced by the client's ``WritePacer``; each
   batch's operations are marked ``sent`` in the journal before it leaves and recorded when it returns. Each
   invited user is read back: one that already existed becomes an adoption for review, never linked. Items
   Graph throttled (429/503) after the client's own per-item retries are queued again; a just-created user
   that answers 404 is retried until ``lag_tolerance`` has passed; a create answered 500/502/504 or lost to a
   connection reset is reconciled as in step 3.

Stopping: ``KeyboardInterrupt`` (Ctrl-C) or ``options.stop.set()`` stops sending; batches in flight finish and
are recorded; the result says ``interrupted`` and ``resume`` continues.

The phases live in modules named for them: ``verify.py`` (1, 4), ``reconcile.py`` (3), ``schedule.py`` and
``send.py`` (5), ``settle.py`` (what each answer means); ``run.py`` holds what they share, ``clock.py`` the time
they read (``ApplyOptions.clock``: a ``SimulatedClock`` makes a run's own waits take no real time).
``--operation`` selections: ``selection.py``. Test-only kill points at each phase boundary: ``killpoints.py``.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..errors import InputError
from ..graph import GraphClient
from ..plan.planfile import SyncPlan, canonical_digest, load_plan
from . import killpoints
from .clock import Clock, SystemClock
from .journal import Journal, default_journal_path
from .lock import ApplyLock
from .operations import operations_from_plan
from .prerequisites import check_invite_prerequisites, needs_invite_prerequisites
from .reconcile import reconcile
from .results import ApplyResult, build_result
from .run import Run
from .schedule import Work
from .secrets_source import attach_secrets
from .selection import select_operations
from .send import send_all
from .verify import check_deleted, check_stale, refuse_unsafe, verify_target

__all__ = ["ApplyOptions", "apply_plan", "apply_plan_file", "verify_target"]


@dataclass
class ApplyOptions:
    """How to run an apply.

    ``journal_path``: default ``<plan>.journal.sqlite`` next to ``plan_path``; in memory (no resume) for what-if
    runs and when neither is given; ``concurrency``:
    ``$batch``es in flight; ``lag_tolerance``: seconds a just-created user may answer 404 (replication lag);
    ``max_requeues``: how often one operation may go round again after throttling or lag before it fails;
    ``unknown_create_wait``: how long after sending a create of unknown outcome ccsync keeps looking for the
    user it may have made (replication lag) before sending it again. Graph's own keys are the second line of
    defence: an invitation to an address that already has a user returns that user, and POST /users refuses a
    UPN that exists. ``follow_up_delay``: seconds between a create and its follow-ups (attributes, licences,
    groups), so they rarely meet the new user's replication lag; other operations are sent meanwhile.
    """

    what_if: bool = False
    resume: bool = False
    retry_failed: bool = False
    allow_destructive: bool = False
    journal_path: str | Path | None = None
    concurrency: int = 4
    lag_tolerance: float = 60.0
    max_requeues: int = 12
    unknown_create_wait: float = 10.0
    follow_up_delay: float = 1.0
    # Restore a soft-deleted user even when another object now holds one of its proxy addresses: Entra drops
    # those addresses from the restored user (autoReconcileProxyConflict). Off: such a restore fails and says so.
    auto_reconcile_proxy_conflict: bool = False
    on_event: Callable[[dict[str, Any]], None] | None = None
    stop: threading.Event | None = None
    # Only these op ids (``selection.py``); None: the whole plan. The rest stay pending for a later apply.
    operations: tuple[str, ...] | None = None
    # Where the run reads time and waits (clock.py); a SimulatedClock makes its own delays take no real time.
    clock: Clock = field(default_factory=SystemClock, compare=False, repr=False)


def apply_plan_file(path: str | Path, client: GraphClient, *, cloud: str,
                    options: ApplyOptions | None = None, trust_unsigned: bool = False) -> ApplyResult:
    """``load_plan`` (schema, integrity), the signature check (refused unless signed with this user's key or
    ``trust_unsigned``), then ``apply_plan``, with the journal next to the plan by default."""
    plan = load_plan(path)
    plan.check_signature(str(path), trust_unsigned=trust_unsigned)
    return apply_plan(plan, client, cloud=cloud, plan_path=path, options=options)


def apply_plan(plan: SyncPlan, client: GraphClient, *, cloud: str, plan_path: str | Path | None = None,
               options: ApplyOptions | None = None) -> ApplyResult:
    """Carry out ``plan`` in the tenant ``client`` reaches (see the module docstring); returns the results.

    Raises InputError for a plan that is not for this tenant/cloud, unconfirmed deletes/disables, or an
    interrupted run without ``resume``; GraphError/TransportError when Graph cannot be read at all.
    """
    opts = options or ApplyOptions()
    if opts.concurrency < 1:
        raise InputError("concurrency must be at least 1", field="concurrency")
    selection = select_operations(plan, opts.operations)      # unknown op ids: refused before anything is written
    journal_path = opts.journal_path
    if journal_path is None and plan_path is not None and not opts.what_if:
        journal_path = default_journal_path(plan_path)
    if opts.what_if:
        journal_path = None                                       # a what-if run writes nothing, anywhere
    # One apply per plan (lock.py), taken before anything talks to Graph: a second run stops at once.
    lock = ApplyLock(journal_path).acquire() if journal_path is not None else None
    try:
        verify_target(plan, client, cloud)
        prerequisites = None
        if needs_invite_prerequisites(plan):
            # Before any cross-cloud write (and in what-if runs): Entra refuses every invitation until these hold.
            prerequisites = check_invite_prerequisites(plan, client)
        killpoints.at_phase("verify")                             # test-only (killpoints.py)
        digest = canonical_digest(plan.to_document())
        ops = operations_from_plan(plan)
        attach_secrets(plan, ops, plan_path=plan_path, what_if=opts.what_if)  # migrations' passwords, never in a plan
        if lock is not None and lock.took_over:
            if opts.on_event is not None:
                opts.on_event({"event": "apply_lock_taken_over", "message": lock.took_over})
        if journal_path is not None and Path(journal_path).exists() and not opts.what_if:
            journal = Journal(journal_path, digest)
        else:
            journal = Journal(journal_path, digest, target_tenant=str(plan.header["target"]["tenantId"]),
                              plan_file=str(plan_path or ""))
        try:
            run = Run(plan, client, journal, ops, opts, selection, opts.clock)
            run.prerequisites = prerequisites
            result = _execute(run)
        finally:
            journal.close()
        if lock is not None and lock.took_over:
            result.stats["lockTakenOver"] = lock.took_over
        return result
    finally:
        if lock is not None:
            lock.release()


def _execute(run: Run) -> ApplyResult:
    """The phases after the target is verified: journal, refusals, reconcile, checks, send (module docstring)."""
    opts, journal = run.opts, run.journal
    fresh = journal.is_new()
    journal.add_operations((op.op_id, op.kind) for op in run.ops.values())
    for op_id, entry in run.ledger.load().items():
        op = run.ops.get(op_id)
        if op is not None and entry.kind == "restore" and op.kind == "create":
            # An earlier run found this user in the deleted items: it stays a restore of that user.
            op.kind, op.target_id = "restore", entry.target_id
    if refuse_unsafe(run, fresh=fresh):
        return build_result(run.snapshot(), nothing_to_do=True)
    killpoints.at_phase("reconcile")
    run.emit({"event": "apply_phase", "phase": "reconcile"})
    sent = [e.op_id for e in run.chosen() if e.state == "sent"]
    if sent:
        reconcile(run, sent)
    killpoints.at_phase("check")
    run.emit({"event": "apply_phase", "phase": "check"})
    check_stale(run)
    check_deleted(run)
    run.flush()
    live = [op_id for op_id in run.order if run.entries[op_id].state == "pending"]
    run.tally.total = len(live) + len(run.schedule.lookups)
    if opts.what_if:
        return build_result(run.snapshot(), what_if=True)
    run.schedule.queue = deque(Work(op_id, run.entries[op_id].step) for op_id in live)
    run.schedule.open = True
    killpoints.at_phase("send")
    run.emit({"event": "apply_phase", "phase": "apply", "total": run.tally.total})
    send_all(run)
    killpoints.at_phase("done")
    return build_result(run.snapshot())
