"""Settle: what each answer of a ``$batch`` means for its operations.

* a whole ``$batch`` throttled (429/503): every item queued again after ``Retry-After``;
* a whole ``$batch`` without a usable answer (connection reset, timeout): outcome unknown, so reconciled
  (``reconcile.py``) by reading the target;
* per item: a create's main step took effect (its follow-ups are queued after ``follow_up_delay``), an
  invitation is read back (one that returned an existing user becomes an adoption for review, never linked),
  items Graph throttled after the client's own retries are queued again, a just-created user that answers 404
  (replication lag) is retried until ``lag_tolerance`` has passed, a create answered 500/502/504 is reconciled;
  everything else fails with Graph's error.
"""

from __future__ import annotations

from concurrent.futures import Future
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..errors import CcsyncError, GraphError
from ..graph import BatchRequest, BatchResult
from .managers import MANAGER_STEP, is_lag
from .reads import read
from .reconcile import reconcile
from .schedule import Chunk, Work

if TYPE_CHECKING:
    from .run import Run

__all__ = ["settle", "THROTTLED", "UNKNOWN"]

THROTTLED = {429, 503}
UNKNOWN = {0, 500, 502, 504}


def settle(run: "Run", chunk: Chunk, future: Future) -> None:
    """Record what one ``$batch`` did (journaled by the caller's next flush)."""
    try:
        results = {r.id: r for r in future.result()}
    except (CcsyncError, OSError) as exc:
        unknown = [w.op_id for w in chunk.items]
        if isinstance(exc, GraphError) and exc.status in THROTTLED:
            # Graph refused the whole $batch before running any of it: send it again later.
            run.emit({"event": "apply_batch_throttled", "operations": len(chunk.items)})
            for w in chunk.items:
                run.requeue(w.op_id, w.step, exc.retry_after or 1.0, exc)
            run.count_terminal(unknown)
            return
        # The whole $batch got no usable answer: what it did is unknown; read the target to find out.
        run.emit({"event": "apply_batch_lost", "operations": len(chunk.items), "error": str(exc)})
        for o in unknown:
            run.bump(o, exc)
        live = [o for o in unknown if run.entries[o].state == "sent"]
        if live:
            reconcile(run, live)
        run.count_terminal(unknown)
        return
    invited = [w.op_id for w in chunk.items if w.step == "main" and run.ops[w.op_id].kind == "create"
               and run.ops[w.op_id].create_as(run.create_as) == "invite" and results[chunk.ids[w.op_id][0]].ok]
    readback = _read_back(run, invited, results, chunk) if invited else {}
    for work in chunk.items:
        answers = [results[i] for i in chunk.ids[work.op_id]]
        if work.op_id in readback:
            existed = readback[work.op_id]
            if existed:
                run.set(work.op_id, state="skipped", result="existing user: adoption for review",
                        target_id=existed[0], message=existed[1])
                continue
        if work.step == "finish":
            _settle_finish(run, work, answers)
        elif work.step == MANAGER_STEP:
            _settle_manager(run, work, answers[0])
        else:
            _settle_main(run, work, answers[0])
    run.count_terminal([w.op_id for w in chunk.items])


def _read_back(run: "Run", op_ids: list[str], results: dict[str, BatchResult], chunk: Chunk
               ) -> dict[str, tuple[str, str] | None]:
    """Read each invited user back: did the invitation create it, or return a user that already existed?

    Entra answers an invitation to an address an existing object holds with that object (an earlier guest)
    or creates the user with the address in ``otherMails`` instead of ``mail`` (docs/direct-engine.md).
    An existing user is never linked silently: it becomes an adoption for the admin to review. A user that
    cannot be read yet (replication lag) was only just created, so it is new.
    """
    out: dict[str, tuple[str, str] | None] = {}
    reqs, who = [], {}
    for i, o in enumerate(op_ids):
        body = results[chunk.ids[o][0]].body
        body = body if isinstance(body, dict) else {}
        uid = str((body.get("invitedUser") or {}).get("id") or "")
        run.invitations[o] = {"inviteRedeemUrl": body.get("inviteRedeemUrl"),
                              "externalUserState": body.get("status")}
        if uid:
            reqs.append(BatchRequest(f"b{i}", "GET", f"/users/{uid}?$select=id,userPrincipalName,"
                                     "createdDateTime,mail,otherMails,creationType,externalUserState"))
            who[f"b{i}"] = o
    sent_at = {o: run.entries[o].sent_at or run.clock.time() for o in op_ids}
    for rid, res in read(run, reqs).items():
        o = who[rid]
        out[o] = None
        if not res.ok or not isinstance(res.body, dict):
            continue
        user = res.body
        info = run.invitations[o]
        info["externalUserState"] = user.get("externalUserState") or info.get("externalUserState")
        address = str(run.ops[o].source_upn or "").lower()
        created = _epoch(user.get("createdDateTime"))
        # Graph's createdDateTime has whole seconds; a minute of slack absorbs clock skew.
        if created is not None and created < sent_at[o] - 60:
            out[o] = (str(user.get("id")), (
                f"the invitation returned {user.get('userPrincipalName')}, a user that already existed "
                f"(created {user.get('createdDateTime')}, creationType {user.get('creationType')}): ccsync did "
                "not link it; review it, then plan again with --adopt to take it over"))
        elif str(user.get("mail") or "").lower() != address and address in \
                [str(m).lower() for m in user.get("otherMails") or []]:
            info["note"] = (f"created without mail: another object holds {address}, so Entra put it in "
                            "otherMails")
    return out


def _settle_main(run: "Run", work: Work, res: BatchResult) -> None:
    o = work.op_id
    op = run.ops[o]
    entry = run.entries[o]
    if res.ok:
        if op.kind == "create":
            body = res.body if isinstance(res.body, dict) else {}
            target_id = ((body.get("invitedUser") or {}).get("id") if op.create_as(run.create_as) == "invite"
                         else body.get("id"))
            if not target_id:
                run.fail(o, f"Graph answered {res.status} without the new user's id")
                return
            run.to_finish(o, str(target_id))
            run.enqueue(o, run.opts.follow_up_delay)
        elif op.kind == "restore":
            run.to_finish(o, op.target_id or "", restored=True)
            run.enqueue(o, run.opts.follow_up_delay)
        else:
            run.set(o, state="done", result={"update": f"updated {len(op.attrs)} attribute(s)",
                                             "disable": "disabled", "delete": "deleted (soft)"}[op.kind],
                    http_status=res.status)
        return
    status = res.status
    if status in THROTTLED:
        run.requeue(o, "main", _retry_delay(res), res.error)
    elif status in UNKNOWN and op.kind == "create":
        run.bump(o, res.error)
        if entry.state != "failed":
            reconcile(run, [o])
    elif status in UNKNOWN:
        run.requeue(o, "main", 0.5, res.error)
    elif status == 404 and op.kind in ("update", "disable", "delete", "restore"):
        if op.kind == "delete" and entry.attempts > 1:
            run.set(o, state="done", result="deleted (soft)")
        else:
            run.set(o, state="skipped", result="stale", http_status=404,
                    message="the target user no longer exists" if op.kind != "restore"
                    else "the user is no longer in the deleted items")
    elif op.kind == "restore" and status == 400 and res.error is not None and \
            "already exists" in str(res.error.graph_message or ""):
        run.fail(o, res.error)          # results.advice says how to resolve it (proxy: opt-in reconcile)
    elif (op.kind == "create" and status == 400 and entry.attempts > 1
          and "already exists" in str(res.error.graph_message if res.error else "")):
        # An earlier send whose outcome was unknown did create it: find it instead of failing.
        run.bump(o, res.error)
        if entry.state != "failed":
            reconcile(run, [o])
    else:
        run.fail(o, res.error)


def _settle_finish(run: "Run", work: Work, answers: list[BatchResult]) -> None:
    o = work.op_id
    failures = [r for r in answers if not r.ok and not _already_member(r)]
    if not failures:
        run.finished(o, enqueue=True)
        return
    first = next((r for r in failures if r.status != 424), failures[0])
    status = first.status
    if status == 404 or _lagging_reference(first):
        known = run.schedule.known(o)
        if run.clock.monotonic() - known < run.opts.lag_tolerance:
            # Replication lag: the new user is not visible everywhere yet.
            run.requeue(o, "finish", run.schedule.lag_backoff(o), first.error)
            return
        run.fail(o, first.error)
    elif status in THROTTLED or status in UNKNOWN or status == 424:
        run.requeue(o, "finish", _retry_delay(first), first.error)
    else:
        run.fail(o, first.error)


def _settle_manager(run: "Run", work: Work, res: BatchResult) -> None:
    o = work.op_id
    if res.ok:
        run.set(o, state="done", http_status=None,
                result=("restored" if run.ops[o].kind == "restore" else "created") + ", manager set")
        return
    if is_lag(res):
        # Replication lag of the user or of its manager (created by this plan): whichever appeared last.
        known = max(run.schedule.known(x) for x in (o, run.ops[o].extra.get("managerOp")) if x in run.ops)
        if run.clock.monotonic() - known < run.opts.lag_tolerance:
            run.requeue(o, MANAGER_STEP, run.schedule.lag_backoff(o), res.error)
            return
        run.fail(o, res.error)
    elif res.status in THROTTLED or res.status in UNKNOWN:
        run.requeue(o, MANAGER_STEP, _retry_delay(res), res.error)
    else:
        run.fail(o, res.error)


def _already_member(res: BatchResult) -> bool:
    """Adding a member twice answers 400 'already exist': the membership is what we wanted."""
    return res.status == 400 and res.error is not None and "already exist" in str(res.error.graph_message or "")


def _lagging_reference(res: BatchResult) -> bool:
    """Graph's replication-lag 400 on a member add: the just-created user is not visible to the group yet
    ("One or more added object references do not exist ..."); waited out like the 404 lag."""
    text = str(res.error.graph_message or "").lower() if res.error is not None else ""
    return res.status == 400 and ("references do not exist" in text or "being referenced do not exist" in text
                                  or "being referenced does not exist" in text)


def _epoch(value: Any) -> float | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except (TypeError, ValueError):
        return None


def _retry_delay(res: BatchResult) -> float:
    if res.error is not None and res.error.retry_after is not None:
        return float(res.error.retry_after)
    return 1.0
