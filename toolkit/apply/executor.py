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
"""

from __future__ import annotations

import heapq
import threading
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable
from urllib.parse import quote

from .. import defaults
from ..clouds import get_cloud
from ..errors import CcsyncError, GraphError, InputError
from ..graph import BatchRequest, BatchResult, GraphClient
from ..plan.planfile import SyncPlan, canonical_digest, load_plan
from .guard import WriteGuard, WriteRefused
from .lock import ApplyLock
from .journal import TERMINAL, Journal, JournalEntry, default_journal_path
from .managers import MANAGER_STEP, is_lag, manager_request, manager_target, wants_manager
from .operations import (Operation, address_lookup_url, finish_requests, first_request, is_done, link_filter_url,
                         operations_from_plan, select_for, stale_reason)
from .prerequisites import check_invite_prerequisites, needs_invite_prerequisites
from .results import ApplyResult, build_result
from .secrets_source import attach_secrets
from .selection import Selection, select_operations

__all__ = ["ApplyOptions", "apply_plan", "apply_plan_file", "verify_target"]

MAX_BATCH = 20
_THROTTLED = {429, 503}
_UNKNOWN = {0, 500, 502, 504}
_LOOKUP_SELECT = ("id", "userPrincipalName", "mail", "creationType", "onPremisesExtensionAttributes")


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


def verify_target(plan: SyncPlan, client: GraphClient, cloud: str) -> dict[str, Any]:
    """Refuse a plan whose target is not the tenant and cloud this client reaches; returns the organization."""
    target = plan.header["target"]
    planned_cloud = get_cloud(str(target["cloud"])).name
    profile_cloud = get_cloud(cloud).name
    if planned_cloud != profile_cloud:
        raise InputError(f"the plan targets the {planned_cloud} cloud, but the profile signs in to {profile_cloud}; "
                         "nothing was written", field="target.cloud",
                         hint="Use the profile of the plan's target tenant (see 'ccsync login').")
    org = client.get("organization", params={"$select": "id,displayName"})
    values = org.get("value", []) if isinstance(org, dict) else []
    tid = str(values[0].get("id", "")).lower() if values else ""
    if tid != str(target["tenantId"]).lower():
        raise InputError(f"the plan targets tenant {target['tenantId']} ({target.get('displayName') or '?'}), but "
                         f"the profile reaches tenant {tid or '?'}; nothing was written", field="target.tenantId",
                         hint="Use the profile of the plan's target tenant, or make a plan for this tenant.")
    return values[0]


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
            run = _Run(plan, client, journal, ops, opts, selection)
            run.prerequisites = prerequisites
            result = run.execute()
        finally:
            journal.close()
        if lock is not None and lock.took_over:
            result.stats["lockTakenOver"] = lock.took_over
        return result
    finally:
        if lock is not None:
            lock.release()


@dataclass
class _Work:
    op_id: str
    step: str
    not_before: float = 0.0


@dataclass
class _Chunk:
    items: list[_Work]
    requests: list[BatchRequest]
    ids: dict[str, list[str]] = field(default_factory=dict)     # op_id -> its request ids, in chain order


class _Run:
    def __init__(self, plan: SyncPlan, client: GraphClient, journal: Journal, ops: list[Operation],
                 opts: ApplyOptions, selection: Selection | None = None):
        self.plan, self.client, self.journal, self.opts = plan, client, journal, opts
        self.selection = selection or Selection()
        self.ops = {op.op_id: op for op in ops}
        self.order = [op.op_id for op in ops if op.op_id in self.selection]      # what this run deals with
        self.not_selected = len(ops) - len(self.order)
        options = plan.header["options"]
        self.create_as = options.get("createAs", defaults.CREATE_AS)
        self.link_attr = options.get("linkAttribute", defaults.LINK_ATTRIBUTE)
        self.root = client.root
        self.guard = WriteGuard(str(plan.header["source"]["tenantId"]), self.link_attr)   # see guard.py
        self.redirect_url = get_cloud(str(plan.header["target"]["cloud"])).my_apps_url
        # What each invitation returned and what the read-back found: op_id -> externalUserState,
        # inviteRedeemUrl (kept for this run's results; the journal does not hold them).
        self.invitations: dict[str, dict[str, Any]] = {}
        self.prerequisites: dict[str, Any] | None = None     # what the cross-cloud B2B check read, when it ran
        self.entries: dict[str, JournalEntry] = {}
        self.pending_changes: dict[str, dict[str, Any]] = {}
        self.requeues: dict[str, int] = {}
        self.target_known_at: dict[str, float] = {}
        self.queue: deque[_Work] = deque()           # ready to send, in plan order
        self.delayed: list[tuple[float, int, _Work]] = []   # heap: (not_before, tiebreak, work)
        self._tiebreak = 0
        self.checks: dict[str, float] = {}          # creates of unknown outcome: op_id -> next look-up time
        self.check_tries: dict[str, int] = {}
        self.looping = False
        self.started = time.monotonic()
        self.processed = 0
        self.total = 0
        self.interrupted = False
        self.failed_count = 0

    # --- journal mirror --------------------------------------------------------------------------------
    def _set(self, op_id: str, **fields: Any) -> None:
        entry = self.entries[op_id]
        for k, v in fields.items():
            setattr(entry, k, v)
        self.pending_changes.setdefault(op_id, {"op_id": op_id}).update(fields)

    def _flush(self) -> None:
        if self.pending_changes:
            self.journal.update(list(self.pending_changes.values()))
            self.pending_changes = {}

    def _emit(self, event: dict[str, Any]) -> None:
        if self.opts.on_event is not None:
            self.opts.on_event(event)

    # --- the run ---------------------------------------------------------------------------------------
    def execute(self) -> ApplyResult:
        opts = self.opts
        fresh = self.journal.is_new()
        self.journal.add_operations((op.op_id, op.kind) for op in self.ops.values())
        self.entries = self.journal.entries()
        for op_id, entry in self.entries.items():
            op = self.ops.get(op_id)
            if op is not None and entry.kind == "restore" and op.kind == "create":
                # An earlier run found this user in the deleted items: it stays a restore of that user.
                op.kind, op.target_id = "restore", entry.target_id
        # Only the selected operations are looked at, changed or sent; the others stay as the journal has them.
        chosen = [self.entries[o] for o in self.order]
        states = {e.state for e in chosen}
        if not fresh and not opts.what_if:
            unfinished = any(e.state in ("pending", "sent") and e.attempts > 0 for e in chosen)
            if unfinished and not opts.resume:
                raise InputError("an earlier apply of this plan was interrupted", source=str(self.journal.path),
                                 hint="Continue it with --resume (ccsync re-reads the target before resending "
                                      "anything whose outcome is unknown).")
        if opts.retry_failed:
            for e in chosen:
                if e.state == "failed":
                    self._set(e.op_id, state="pending", http_status=None, error_code=None, message=None,
                              request_id=None)
            self._flush()
        if not fresh and states <= TERMINAL and not opts.retry_failed and chosen:
            return build_result(self, nothing_to_do=True)
        if not chosen:
            return build_result(self, nothing_to_do=True)
        destructive = [e for e in chosen if e.kind in ("delete", "disable") and e.state not in TERMINAL]
        if destructive and not opts.allow_destructive and not opts.what_if:
            n_del = sum(1 for e in destructive if e.kind == "delete")
            raise InputError(f"the plan deletes {n_del} and disables {len(destructive) - n_del} target users; "
                             "nothing was written", field="confirmation",
                             hint="Review the plan, then confirm (or pass --yes / allow_destructive=True).")
        self._emit({"event": "apply_phase", "phase": "reconcile"})
        sent = [e.op_id for e in chosen if e.state == "sent"]
        if sent:
            self._reconcile(sent)
        self._emit({"event": "apply_phase", "phase": "check"})
        self._stale_check()
        self._deleted_check()
        self._flush()
        live = [op_id for op_id in self.order if self.entries[op_id].state == "pending"]
        self.total = len(live) + len(self.checks)
        if opts.what_if:
            return build_result(self, what_if=True)
        self.queue = deque(_Work(op_id, self.entries[op_id].step) for op_id in live)
        self.looping = True
        self._emit({"event": "apply_phase", "phase": "apply", "total": self.total})
        self._loop()
        return build_result(self)

    # --- reading the target ----------------------------------------------------------------------------
    def _read(self, requests: list[BatchRequest]) -> dict[str, BatchResult]:
        """Run GETs through $batch (safe to resend); results by request id."""
        if not requests:
            return {}
        return {r.id: r for r in self.client.batch(requests)}

    def _get_users(self, op_ids: list[str]) -> dict[str, dict[str, Any] | None]:
        reqs = [BatchRequest(f"r{i}", "GET", f"/users/{self.ops[o].target_id or self.entries[o].target_id}"
                             f"?$select={','.join(select_for(self.ops[o]))}")
                for i, o in enumerate(op_ids)]
        results = self._read(reqs)
        out: dict[str, dict[str, Any] | None] = {}
        for i, o in enumerate(op_ids):
            res = results[f"r{i}"]
            if res.status == 404:
                out[o] = None
            elif res.ok:
                out[o] = res.body if isinstance(res.body, dict) else {}
            else:
                raise res.error  # type: ignore[misc]
            self.guard.observe(o, out[o])
        return out

    def _lookup_created(self, op_ids: list[str]) -> dict[str, str | None]:
        """Target ids of users a create may already have made: by link, then by invitation mail / planned UPN."""
        found: dict[str, str | None] = {o: None for o in op_ids}
        reqs = [BatchRequest(f"k{i}", "GET", link_filter_url(self.link_attr, self.ops[o].link or "", _LOOKUP_SELECT))
                for i, o in enumerate(op_ids)]
        results = self._read(reqs)
        second: list[str] = []
        for i, o in enumerate(op_ids):
            res = results[f"k{i}"]
            if res.status == 400:
                # The service refused the extension-attribute filter: the mail / UPN look-up below decides.
                second.append(o)
                continue
            if not res.ok:
                raise res.error  # type: ignore[misc]
            hits = res.body.get("value", []) if isinstance(res.body, dict) else []
            if hits:
                found[o] = hits[0]["id"]
            else:
                second.append(o)
        if second:
            # The link look-up is an advanced query, whose index lags behind writes (docs/graph-facts.md 6.4):
            # a user created moments ago may not be in it yet. These look-ups are plain reads that see it.
            reqs = []
            for i, o in enumerate(second):
                op = self.ops[o]
                if op.create_as(self.create_as) == "invite":
                    reqs.append(BatchRequest(f"m{i}", "GET", address_lookup_url(op.source_upn or "", _LOOKUP_SELECT)))
                else:
                    upn = quote(str(op.attrs.get("userPrincipalName") or ""), safe="@")
                    reqs.append(BatchRequest(f"m{i}", "GET", f"/users/{upn}?$select={','.join(_LOOKUP_SELECT)}"))
            results = self._read(reqs)
            for i, o in enumerate(second):
                res = results[f"m{i}"]
                if res.status == 404 and self.ops[o].create_as(self.create_as) == "member":
                    continue
                if not res.ok:
                    raise res.error  # type: ignore[misc]
                body = res.body if isinstance(res.body, dict) else {}
                member = self.ops[o].create_as(self.create_as) == "member"
                hits = [body] if member else body.get("value", [])
                for hit in hits:
                    if member or hit.get("creationType") == "Invitation":
                        found[o] = hit["id"]
                        break
        return found

    # --- reconciling unknown outcomes ------------------------------------------------------------------
    def _reconcile(self, op_ids: list[str]) -> None:
        """Decide, by reading the target, what became of operations whose outcome is unknown."""
        creates = [o for o in op_ids if self.entries[o].step == "main" and self.ops[o].kind == "create"]
        users = [o for o in op_ids if self.entries[o].step == "main" and self.ops[o].kind in
                 ("update", "disable", "delete", "restore")]
        for o in op_ids:
            if self.entries[o].step in ("finish", MANAGER_STEP):    # follow-ups and PUT manager: safe to resend
                self._set(o, state="pending")
        for chunk in _chunks(users, MAX_BATCH * 10):
            current = self._get_users(chunk)
            for o in chunk:
                self._settle_unknown(o, current[o])
        for o in op_ids:
            if o not in creates:
                self._enqueue(o, 0.25)
        if creates:
            self._reconcile_creates(creates)
        self._flush()

    def _settle_unknown(self, o: str, user: dict[str, Any] | None) -> None:
        op = self.ops[o]
        if op.kind == "delete":
            if user is None:
                self._set(o, state="done", result="deleted (soft)")
            else:
                self._set(o, state="pending")
        elif op.kind == "restore":
            if user is None:
                self._set(o, state="pending")
            else:
                self._to_finish(o, self.entries[o].target_id or op.target_id or "", restored=True)
        else:
            if user is not None and is_done(op, user):
                self._set(o, state="done", result=f"updated {len(op.attrs)} attribute(s)")
                return
            reason = stale_reason(op, user, allow_done=True)
            if reason:
                self._set(o, state="skipped", result="stale", message=reason)
            else:
                self._set(o, state="pending")

    def _reconcile_creates(self, op_ids: list[str]) -> None:
        """One look-up round for creates of unknown outcome. Found: go on with the follow-ups. Not found: look
        again (replication lag can hide a user just created) until ``unknown_create_wait`` has passed since the
        create was sent, then send it again."""
        found: dict[str, str | None] = {}
        for chunk in _chunks(op_ids, MAX_BATCH * 10):
            found.update(self._lookup_created(chunk))
        now = time.time()
        for o in op_ids:
            self.checks.pop(o, None)
            if found[o]:
                self._to_finish(o, found[o])   # type: ignore[arg-type]
                self._enqueue(o)
            elif now >= (self.entries[o].sent_at or 0.0) + self.opts.unknown_create_wait:
                self._set(o, state="pending", step="main")
                self._enqueue(o)
            else:
                tries = self.check_tries.get(o, 0)
                self.check_tries[o] = tries + 1
                self.checks[o] = time.monotonic() + min(0.25 * 2 ** tries, 5.0)

    def _enqueue(self, o: str, delay: float = 0.0) -> None:
        if self.looping and self.entries[o].state == "pending":
            self._push(_Work(o, self.entries[o].step, time.monotonic() + delay))

    def _run_due_checks(self) -> None:
        now = time.monotonic()
        due = [o for o, t in self.checks.items() if t <= now]
        if due:
            self._reconcile_creates(due)
            self._flush()

    def _to_finish(self, o: str, target_id: str, *, restored: bool = False) -> None:
        """A create or restore took effect: queue its follow-ups, or finish it when there are none."""
        op = self.ops[o]
        self.guard.created(o, target_id)
        self.target_known_at.setdefault(o, time.monotonic())
        follow = finish_requests(op, target_id, "x", self.create_as, self.root,
                                 restored=restored or op.kind == "restore")
        if follow:
            self._set(o, state="pending", step="finish", target_id=target_id)
        else:
            self._set(o, step="finish", target_id=target_id)
            self._finished(o, enqueue=False)               # the callers queue it

    def _finished(self, o: str, *, enqueue: bool) -> None:
        """A create/restore and its follow-ups took effect: done, or next its manager (managers.py)."""
        if wants_manager(self.ops[o]):
            self._set(o, state="pending", step=MANAGER_STEP, http_status=None)
            if enqueue:
                self._enqueue(o)
        else:
            self._set(o, state="done", result="restored" if self.ops[o].kind == "restore" else "created",
                      http_status=None)

    # --- before sending --------------------------------------------------------------------------------
    def _stale_check(self) -> None:
        check = [o for o in self.order if self.entries[o].state == "pending" and self.entries[o].step == "main"
                 and self.ops[o].kind in ("update", "disable", "delete")]
        for chunk in _chunks(check, MAX_BATCH * 10):
            current = self._get_users(chunk)
            for o in chunk:
                op = self.ops[o]
                user = current[o]
                if user is not None and op.kind != "delete" and is_done(op, user) and self.entries[o].attempts:
                    self._set(o, state="done", result=f"updated {len(op.attrs)} attribute(s)")
                    continue
                reason = stale_reason(op, user, allow_done=bool(self.entries[o].attempts))
                if reason:
                    self._set(o, state="skipped", result="stale", message=reason)

    def _deleted_check(self) -> None:
        """A create whose linked user is in the deleted items becomes a restore (never a second user)."""
        creates = [o for o in self.order if self.entries[o].state == "pending" and self.entries[o].step == "main"
                   and self.ops[o].kind == "create"]
        if not creates:
            return
        deleted: dict[str, str] = {}
        for user in self.client.iter_items("directory/deletedItems/microsoft.graph.user",
                                           params={"$select": "id,onPremisesExtensionAttributes"}):
            ext = user.get("onPremisesExtensionAttributes") or {}
            link = ext.get(self.link_attr) if isinstance(ext, dict) else None
            if link:
                deleted[str(link)] = user["id"]
        for o in creates:
            op = self.ops[o]
            if op.link in deleted:
                op.kind = "restore"
                op.target_id = deleted[op.link]
                self._set(o, kind="restore", target_id=op.target_id)

    # --- sending ---------------------------------------------------------------------------------------
    def _requests_for(self, work: _Work, seq: int) -> list[BatchRequest]:
        op = self.ops[work.op_id]
        if work.step == MANAGER_STEP:
            _, manager_id = manager_target(op, self.entries, self.ops)
            reqs = [manager_request(op, self.entries[work.op_id].target_id or "", manager_id or "", f"g{seq}",
                                    self.root)]
        elif work.step == "finish":
            target = self.entries[work.op_id].target_id or ""
            reqs = finish_requests(op, target, f"f{seq}", self.create_as, self.root, restored=op.kind == "restore")
        else:
            reqs = [first_request(op, f"m{seq}", self.create_as, self.root, redirect_url=self.redirect_url,
                                  reconcile_proxies=self.opts.auto_reconcile_proxy_conflict)]
        self.guard.check(op, work.step, reqs, self.entries[work.op_id].target_id)   # raises WriteRefused
        return reqs

    def _push(self, work: _Work) -> None:
        if work.not_before <= time.monotonic():
            self.queue.append(work)
        else:
            self._tiebreak += 1
            heapq.heappush(self.delayed, (work.not_before, self._tiebreak, work))

    def _next_wake(self) -> float | None:
        wakes = list(self.checks.values())
        if self.queue:
            wakes.append(0.0)
        if self.delayed:
            wakes.append(self.delayed[0][0])
        return min(wakes) if wakes else None

    def _next_chunk(self, now: float, counter: list[int]) -> _Chunk | None:
        while self.delayed and self.delayed[0][0] <= now:
            self.queue.append(heapq.heappop(self.delayed)[2])
        chunk = _Chunk([], [])
        while self.queue and len(chunk.requests) < MAX_BATCH:
            work = self.queue.popleft()
            if work.step == MANAGER_STEP and self._manager_not_ready(work):
                continue
            counter[0] += 1
            try:
                reqs = self._requests_for(work, counter[0])
            except WriteRefused as refused:
                self._fail(work.op_id, refused)
                continue
            if not reqs:
                self._set(work.op_id, state="done", result="created")
                continue
            if len(reqs) > MAX_BATCH:
                self._fail(work.op_id, f"the user's follow-ups ({len(reqs)} requests: attributes, licences, groups) "
                                       f"do not fit one $batch of {MAX_BATCH}; give fewer target licences/groups")
                continue
            if len(chunk.requests) + len(reqs) > MAX_BATCH:
                self.queue.appendleft(work)       # a chain is never split: it goes first in the next batch
                break
            chunk.items.append(work)
            chunk.requests.extend(reqs)
            chunk.ids[work.op_id] = [r.id for r in reqs]
        return chunk if chunk.items else None

    def _stop_requested(self) -> bool:
        return self.interrupted or (self.opts.stop is not None and self.opts.stop.is_set())

    def _loop(self) -> None:
        counter = [0]
        in_flight: dict[Future, _Chunk] = {}
        pool = ThreadPoolExecutor(max_workers=self.opts.concurrency, thread_name_prefix="ccsync-apply")
        try:
            while True:
                if self._stop_requested() and not self.interrupted:
                    self.interrupted = True
                if not self.interrupted:
                    self._run_due_checks()
                    now = time.monotonic()
                    while len(in_flight) < self.opts.concurrency:
                        chunk = self._next_chunk(now, counter)
                        if chunk is None:
                            break
                        self.journal.mark_sent([(w.op_id, w.step) for w in chunk.items])
                        for w in chunk.items:
                            self.entries[w.op_id].state = "sent"
                            self.entries[w.op_id].attempts += 1
                            self.entries[w.op_id].sent_at = time.time()
                        in_flight[pool.submit(self.client.batch, chunk.requests)] = chunk
                    self._flush()
                wake = self._next_wake()
                if not in_flight:
                    if self.interrupted or wake is None:
                        break
                    self._sleep(max(0.0, wake - time.monotonic()))
                    continue
                timeout = None
                if wake is not None and len(in_flight) < self.opts.concurrency:
                    timeout = max(0.01, wake - time.monotonic())
                try:
                    done, _ = wait(list(in_flight), timeout=timeout, return_when=FIRST_COMPLETED)
                except KeyboardInterrupt:
                    self.interrupted = True
                    self._emit({"event": "apply_stopping", "in_flight": len(in_flight)})
                    continue
                for future in done:
                    chunk = in_flight.pop(future)
                    self._settle(chunk, future)
                self._flush()
                self._progress()
        finally:
            self._flush()
            pool.shutdown(wait=True)

    def _sleep(self, seconds: float) -> None:
        try:
            if self.opts.stop is not None:
                self.opts.stop.wait(seconds)
            else:
                time.sleep(seconds)
        except KeyboardInterrupt:
            self.interrupted = True

    def _progress(self) -> None:
        elapsed = time.monotonic() - self.started
        rate = self.processed / elapsed if elapsed > 0 else 0.0
        remaining = max(0, self.total - self.processed)
        self._emit({"event": "apply_progress", "completed": self.processed, "total": self.total,
                    "rate": round(rate, 2), "eta": round(remaining / rate, 1) if rate > 0 else None,
                    "failed": self.failed_count})

    # --- results ---------------------------------------------------------------------------------------
    def _settle(self, chunk: _Chunk, future: Future) -> None:
        try:
            results = {r.id: r for r in future.result()}
        except (CcsyncError, OSError) as exc:
            unknown = [w.op_id for w in chunk.items]
            if isinstance(exc, GraphError) and exc.status in _THROTTLED:
                # Graph refused the whole $batch before running any of it: send it again later.
                self._emit({"event": "apply_batch_throttled", "operations": len(chunk.items)})
                for w in chunk.items:
                    self._requeue(w.op_id, w.step, exc.retry_after or 1.0, exc)
                self._count_terminal(unknown)
                return
            # The whole $batch got no usable answer: what it did is unknown; read the target to find out.
            self._emit({"event": "apply_batch_lost", "operations": len(chunk.items), "error": str(exc)})
            for o in unknown:
                self._bump(o, exc)
            live = [o for o in unknown if self.entries[o].state == "sent"]
            if live:
                self._reconcile(live)
            self._count_terminal(unknown)
            return
        invited = [w.op_id for w in chunk.items if w.step == "main" and self.ops[w.op_id].kind == "create"
                   and self.ops[w.op_id].create_as(self.create_as) == "invite" and results[chunk.ids[w.op_id][0]].ok]
        readback = self._read_back(invited, results, chunk) if invited else {}
        for work in chunk.items:
            answers = [results[i] for i in chunk.ids[work.op_id]]
            if work.op_id in readback:
                existed = readback[work.op_id]
                if existed:
                    self._set(work.op_id, state="skipped", result="existing user: adoption for review",
                              target_id=existed[0], message=existed[1])
                    continue
            if work.step == "finish":
                self._settle_finish(work, answers)
            elif work.step == MANAGER_STEP:
                self._settle_manager(work, answers[0])
            else:
                self._settle_main(work, answers[0])
        self._count_terminal([w.op_id for w in chunk.items])

    def _read_back(self, op_ids: list[str], results: dict[str, BatchResult], chunk: _Chunk
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
            self.invitations[o] = {"inviteRedeemUrl": body.get("inviteRedeemUrl"),
                                   "externalUserState": body.get("status")}
            if uid:
                reqs.append(BatchRequest(f"b{i}", "GET", f"/users/{uid}?$select=id,userPrincipalName,"
                                         "createdDateTime,mail,otherMails,creationType,externalUserState"))
                who[f"b{i}"] = o
        sent_at = {o: self.entries[o].sent_at or time.time() for o in op_ids}
        for rid, res in self._read(reqs).items():
            o = who[rid]
            out[o] = None
            if not res.ok or not isinstance(res.body, dict):
                continue
            user = res.body
            info = self.invitations[o]
            info["externalUserState"] = user.get("externalUserState") or info.get("externalUserState")
            address = str(self.ops[o].source_upn or "").lower()
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

    def _count_terminal(self, op_ids: Iterable[str]) -> None:
        self.processed += sum(1 for o in op_ids if self.entries[o].state in TERMINAL)

    def _bump(self, o: str, error: Any) -> None:
        n = self.requeues.get(o, 0) + 1
        self.requeues[o] = n
        if n > self.opts.max_requeues:
            self._fail(o, error)

    def _requeue(self, o: str, step: str, delay: float, error: Any) -> None:
        self._bump(o, error)
        if self.entries[o].state == "failed":
            return
        self._set(o, state="pending", step=step)
        self._push(_Work(o, step, time.monotonic() + delay))

    def _fail(self, o: str, error: Any) -> None:
        self.failed_count += 1
        if isinstance(error, GraphError):
            self._set(o, state="failed", http_status=error.status, error_code=error.code,
                      message=error.graph_message or str(error), request_id=error.request_id, result="failed")
        else:
            self._set(o, state="failed", message=str(error), result="failed")

    def _settle_main(self, work: _Work, res: BatchResult) -> None:
        o = work.op_id
        op = self.ops[o]
        if res.ok:
            if op.kind == "create":
                body = res.body if isinstance(res.body, dict) else {}
                target_id = ((body.get("invitedUser") or {}).get("id") if op.create_as(self.create_as) == "invite"
                             else body.get("id"))
                if not target_id:
                    self._fail(o, f"Graph answered {res.status} without the new user's id")
                    return
                self._to_finish(o, str(target_id))
                self._enqueue(o, self.opts.follow_up_delay)
            elif op.kind == "restore":
                self._to_finish(o, op.target_id or "", restored=True)
                self._enqueue(o, self.opts.follow_up_delay)
            else:
                self._set(o, state="done", result={"update": f"updated {len(op.attrs)} attribute(s)",
                                                   "disable": "disabled", "delete": "deleted (soft)"}[op.kind],
                          http_status=res.status)
            return
        status = res.status
        if status in _THROTTLED:
            self._requeue(o, "main", _retry_delay(res), res.error)
        elif status in _UNKNOWN and op.kind == "create":
            self._bump(o, res.error)
            if self.entries[o].state != "failed":
                self._reconcile([o])
        elif status in _UNKNOWN:
            self._requeue(o, "main", 0.5, res.error)
        elif status == 404 and op.kind in ("update", "disable", "delete", "restore"):
            if op.kind == "delete" and self.entries[o].attempts > 1:
                self._set(o, state="done", result="deleted (soft)")
            else:
                self._set(o, state="skipped", result="stale", http_status=404,
                          message="the target user no longer exists" if op.kind != "restore"
                          else "the user is no longer in the deleted items")
        elif op.kind == "restore" and status == 400 and res.error is not None and \
                "already exists" in str(res.error.graph_message or ""):
            self._fail(o, res.error)          # results.advice says how to resolve it (proxy: opt-in reconcile)
        elif (op.kind == "create" and status == 400 and self.entries[o].attempts > 1
              and "already exists" in str(res.error.graph_message if res.error else "")):
            # An earlier send whose outcome was unknown did create it: find it instead of failing.
            self._bump(o, res.error)
            if self.entries[o].state != "failed":
                self._reconcile([o])
        else:
            self._fail(o, res.error)

    def _settle_finish(self, work: _Work, answers: list[BatchResult]) -> None:
        o = work.op_id
        failures = [r for r in answers if not r.ok and not _already_member(r)]
        if not failures:
            self._finished(o, enqueue=True)
            return
        first = next((r for r in failures if r.status != 424), failures[0])
        status = first.status
        if status == 404 or _lagging_reference(first):
            known = self.target_known_at.setdefault(o, time.monotonic())
            if time.monotonic() - known < self.opts.lag_tolerance:
                # Replication lag: the new user is not visible everywhere yet.
                n = self.requeues.get(o, 0)
                self._requeue(o, "finish", min(0.25 * 2 ** n, 5.0), first.error)
                return
            self._fail(o, first.error)
        elif status in _THROTTLED or status in _UNKNOWN or status == 424:
            self._requeue(o, "finish", _retry_delay(first), first.error)
        else:
            self._fail(o, first.error)

    def _manager_not_ready(self, work: _Work) -> bool:
        """The manager step waits for the manager's create, or fails when that create failed (managers.py) or
        is not selected in this run (it would never come)."""
        status, reason = manager_target(self.ops[work.op_id], self.entries, self.ops)
        manager_op = str(self.ops[work.op_id].extra.get("managerOp") or "")
        if status == "wait" and manager_op not in self.selection:
            status, reason = "failed", (f"the user was created, but its manager (operation {manager_op}) was not "
                                        f"selected: apply it (--operation {manager_op}), then apply this one again "
                                        "with --retry-failed to set the manager")
        if status == "wait":
            self._push(_Work(work.op_id, work.step, time.monotonic() + 0.5))
        elif status == "failed":
            self._fail(work.op_id, reason)
            self._count_terminal([work.op_id])
        return status != "ready"

    def _settle_manager(self, work: _Work, res: BatchResult) -> None:
        o = work.op_id
        if res.ok:
            self._set(o, state="done", http_status=None,
                      result=("restored" if self.ops[o].kind == "restore" else "created") + ", manager set")
            return
        if is_lag(res):
            # Replication lag of the user or of its manager (created by this plan): whichever appeared last.
            now = time.monotonic()
            known = max(self.target_known_at.setdefault(x, now)
                        for x in (o, self.ops[o].extra.get("managerOp")) if x in self.ops)
            if now - known < self.opts.lag_tolerance:
                self._requeue(o, MANAGER_STEP, min(0.25 * 2 ** self.requeues.get(o, 0), 5.0), res.error)
                return
            self._fail(o, res.error)
        elif res.status in _THROTTLED or res.status in _UNKNOWN:
            self._requeue(o, MANAGER_STEP, _retry_delay(res), res.error)
        else:
            self._fail(o, res.error)


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
    from datetime import datetime

    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except (TypeError, ValueError):
        return None


def _retry_delay(res: BatchResult) -> float:
    if res.error is not None and res.error.retry_after is not None:
        return float(res.error.retry_after)
    return 1.0


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]

