"""Send: packing due work into ``$batch``es and keeping ``concurrency`` of them in flight.

Each step's requests are built in one place (``requests_for``), where the write-time guard checks them
(``guard.py``); a create's follow-ups stay one ``dependsOn`` chain, never split across batches. Every batch's
operations are marked ``sent`` in the journal (committed and synced) before it leaves, and its answers are
settled (``settle.py``) and journaled when it returns. Stopping (``opts.stop`` or Ctrl-C) sends nothing more;
the batches in flight finish and are recorded.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

from ..graph import MAX_BATCH, BatchRequest
from . import killpoints
from .guard import WriteRefused
from .managers import MANAGER_STEP, manager_request, manager_target
from .operations import finish_requests, first_request
from .reconcile import run_due_lookups
from .schedule import Chunk, Work
from .settle import settle

if TYPE_CHECKING:
    from .run import Run

__all__ = ["send_all", "requests_for", "next_chunk"]


def requests_for(run: "Run", work: Work, seq: int) -> list[BatchRequest]:
    """The requests of one step (the one place they are built); raises WriteRefused from the guard."""
    op = run.ops[work.op_id]
    if work.step == MANAGER_STEP:
        _, manager_id = manager_target(op, run.entries, run.ops)
        reqs = [manager_request(op, run.entries[work.op_id].target_id or "", manager_id or "", f"g{seq}",
                                run.root)]
    elif work.step == "finish":
        target = run.entries[work.op_id].target_id or ""
        reqs = finish_requests(op, target, f"f{seq}", run.create_as, run.root, restored=op.kind == "restore")
    else:
        reqs = [first_request(op, f"m{seq}", run.create_as, run.root, redirect_url=run.redirect_url,
                              reconcile_proxies=run.opts.auto_reconcile_proxy_conflict)]
    run.guard.check(op, work.step, reqs, run.entries[work.op_id].target_id)   # raises WriteRefused
    return reqs


def _manager_not_ready(run: "Run", work: Work) -> bool:
    """The manager step waits for the manager's create, or fails when that create failed (managers.py) or is
    not selected in this run (it would never come)."""
    status, reason = manager_target(run.ops[work.op_id], run.entries, run.ops)
    manager_op = str(run.ops[work.op_id].extra.get("managerOp") or "")
    if status == "wait" and manager_op not in run.selection:
        status, reason = "failed", (f"the user was created, but its manager (operation {manager_op}) was not "
                                    f"selected: apply it (--operation {manager_op}), then apply this one again "
                                    "with --retry-failed to set the manager")
    if status == "wait":
        run.schedule.after(work.op_id, work.step, 0.5)
    elif status == "failed":
        run.fail(work.op_id, reason)
        run.count_terminal([work.op_id])
    return status != "ready"


def next_chunk(run: "Run", now: float, counter: list[int]) -> Chunk | None:
    """The next ``$batch``: due work in order, whole chains only, at most ``MAX_BATCH`` requests."""
    run.schedule.release_due(now)
    queue = run.schedule.queue
    chunk = Chunk([], [])
    while queue and len(chunk.requests) < MAX_BATCH:
        work = queue.popleft()
        if work.step == MANAGER_STEP and _manager_not_ready(run, work):
            continue
        counter[0] += 1
        try:
            reqs = requests_for(run, work, counter[0])
        except WriteRefused as refused:
            run.fail(work.op_id, refused)
            continue
        if not reqs:
            run.set(work.op_id, state="done", result="created")
            continue
        if len(reqs) > MAX_BATCH:
            run.fail(work.op_id, f"the user's follow-ups ({len(reqs)} requests: attributes, licences, groups) "
                                 f"do not fit one $batch of {MAX_BATCH}; give fewer target licences/groups")
            continue
        if len(chunk.requests) + len(reqs) > MAX_BATCH:
            queue.appendleft(work)       # a chain is never split: it goes first in the next batch
            break
        chunk.items.append(work)
        chunk.requests.extend(reqs)
        chunk.ids[work.op_id] = [r.id for r in reqs]
    return chunk if chunk.items else None


def send_all(run: "Run") -> None:
    """Send until nothing is left to send or wait for, or the run is stopped."""
    counter = [0]
    in_flight: dict[Future, Chunk] = {}
    clock, tally, concurrency = run.clock, run.tally, run.opts.concurrency
    pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="ccsync-apply")
    try:
        while True:
            if run.stop_requested() and not tally.interrupted:
                tally.interrupted = True
            if not tally.interrupted:
                run_due_lookups(run)
                now = clock.monotonic()
                while len(in_flight) < concurrency:
                    chunk = next_chunk(run, now, counter)
                    if chunk is None:
                        break
                    run.ledger.mark_sent([(w.op_id, w.step) for w in chunk.items], now=clock.time())
                    in_flight[pool.submit(run.client.batch, chunk.requests)] = chunk
                run.flush()
            wake = run.schedule.next_wake()
            if not in_flight:
                if tally.interrupted or wake is None:
                    break
                run.sleep(max(0.0, wake - clock.monotonic()))
                continue
            timeout = None
            if wake is not None and len(in_flight) < concurrency:
                timeout = max(0.01, wake - clock.monotonic())
            try:
                done = clock.wait(in_flight, timeout)
            except KeyboardInterrupt:
                tally.interrupted = True
                run.emit({"event": "apply_stopping", "in_flight": len(in_flight)})
                continue
            for future in done:
                chunk = in_flight.pop(future)
                killpoints.at_phase("settle")                 # test-only (killpoints.py)
                settle(run, chunk, future)
            run.flush()
            run.progress()
    finally:
        run.flush()
        pool.shutdown(wait=True)
