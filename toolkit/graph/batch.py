"""JSON batching: any number of requests through ``POST /$batch``, 20 per call, with per-item retries.

Rules (graph-facts.md section 7):

* at most 20 requests per ``$batch``; ids are unique (case-insensitively) within a batch; a request and every
  request it ``dependsOn`` (directly or through others) travel in the same batch, so a chain longer than 20 is
  an ``InputError`` before anything is sent;
* ``url`` is relative to the version root (``/users/{id}``); a body needs ``headers`` with ``Content-Type``;
* responses are correlated by ``id`` (their order may differ); the outer status is 200 even when items fail,
  so every item's own status is checked; a malformed batch is a whole-batch 400 -> ``GraphBadRequest``;
* each inner request is throttled on its own: items answered 429 or 503 (504 too when the item's method is
  idempotent, see ``retry.py``) are resubmitted, and only those, in a new batch after the LONGEST
  ``Retry-After`` among them (each from the item's own headers; backoff when none has one). Items that failed
  with 424 because a request they depend on is being resubmitted go along with it;
* each write inside a batch is paced and counted as a write (Graph counts it so).

Several batches run at once (``GraphClient.max_workers`` threads). Progress events go to ``on_event`` from those
worker threads: ``batch_start``, ``batch_retry``, ``batch_done``, ``batch_end``.
"""

from __future__ import annotations

from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Protocol, Sequence
from urllib.parse import parse_qsl, urlsplit

from requests.structures import CaseInsensitiveDict

from ..errors import GraphError, InputError
from .pacing import WritePacer
from .responses import GraphResponse, error_from_response
from .retry import WRITE_METHODS, RetryPolicy, is_idempotent, parse_retry_after
from .stats import CallStats
from .urls import check_top, quote_path

__all__ = ["BatchRequest", "BatchResult", "BatchSender", "plan_batches", "run_batch", "MAX_BATCH"]

MAX_BATCH = 20


class BatchSender(Protocol):
    """What running batches needs from a client (``GraphClient`` is one): it sends each ``POST /$batch`` with
    its own retries and pacing, and lends its policy, pacer, statistics and progress events to the items."""

    root: str
    retry: RetryPolicy
    pacer: WritePacer | None
    stats: CallStats
    max_workers: int
    retry_unsafe: bool

    def request(self, method: str, path_or_url: str, *, json: Any = None,
                idempotent: bool | None = None) -> GraphResponse: ...

    def emit(self, event: dict[str, Any]) -> None: ...


@dataclass(frozen=True)
class BatchRequest:
    """One request inside a ``$batch``; ``url`` relative to the version root, e.g. ``/users/{id}``."""

    id: str
    method: str
    url: str
    body: Any = None
    headers: Mapping[str, str] | None = None
    depends_on: Sequence[str] = ()


@dataclass
class BatchResult:
    """The final answer to one BatchRequest; ``error`` is set when ``status`` >= 400."""

    id: str
    status: int
    headers: dict[str, Any] = field(default_factory=dict)
    body: Any = None
    error: GraphError | None = None
    attempts: int = 1

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "status": self.status, "attempts": self.attempts}
        if self.error is not None:
            out["error"] = self.error.to_dict()
        return out


def _validate(items: Sequence[BatchRequest]) -> dict[str, int]:
    index: dict[str, int] = {}
    for pos, item in enumerate(items):
        if not isinstance(item, BatchRequest):
            raise InputError(f"batch item {pos} is a {type(item).__name__}, not a BatchRequest", row=pos)
        if not item.id or not isinstance(item.id, str):
            raise InputError(f"batch item {pos} has no id", row=pos, field="id")
        key = item.id.lower()
        if key in index:
            raise InputError(f"batch request id {item.id!r} is used twice (ids are compared case-insensitively)",
                             row=pos, field="id", hint="Give every request in a batch its own id.")
        index[key] = pos
        if not item.method or not item.url:
            raise InputError(f"batch request {item.id!r} needs a method and a url", row=pos, field="url")
    for pos, item in enumerate(items):
        for dep in item.depends_on:
            if dep.lower() not in index:
                raise InputError(f"batch request {item.id!r} depends on {dep!r}, which is not in the batch",
                                 row=pos, field="dependsOn")
            if dep.lower() == item.id.lower():
                raise InputError(f"batch request {item.id!r} depends on itself", row=pos, field="dependsOn")
    _check_cycles(items, index)
    return index


def _check_cycles(items: Sequence[BatchRequest], index: Mapping[str, int]) -> None:
    state = [0] * len(items)  # 0 new, 1 on the stack, 2 done
    for start in range(len(items)):
        if state[start]:
            continue
        stack = [(start, iter(items[start].depends_on))]
        state[start] = 1
        while stack:
            node, deps = stack[-1]
            dep = next(deps, None)
            if dep is None:
                state[node] = 2
                stack.pop()
                continue
            child = index[dep.lower()]
            if state[child] == 1:
                raise InputError(f"batch requests {items[child].id!r} and {items[node].id!r} depend on each "
                                 "other in a cycle; Graph would fail them all", field="dependsOn")
            if state[child] == 0:
                state[child] = 1
                stack.append((child, iter(items[child].depends_on)))


def plan_batches(items: Sequence[BatchRequest], size: int = MAX_BATCH) -> list[list[BatchRequest]]:
    """Split into batches of at most ``size``, keeping every dependsOn chain within one batch.

    Raises InputError for duplicate ids, unknown or cyclic dependencies, and chains longer than ``size``.
    """
    index = _validate(items)
    parent = list(range(len(items)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for pos, item in enumerate(items):
        for dep in item.depends_on:
            a, b = find(pos), find(index[dep.lower()])
            if a != b:
                parent[max(a, b)] = min(a, b)
    groups: dict[int, list[int]] = {}
    for pos in range(len(items)):
        groups.setdefault(find(pos), []).append(pos)
    batches: list[list[int]] = []
    for members in groups.values():  # in order of first appearance
        if len(members) > size:
            ids = ", ".join(items[m].id for m in members[:5])
            raise InputError(f"{len(members)} batch requests ({ids}, ...) are linked by dependsOn, but one $batch "
                             f"holds at most {size}", field="dependsOn",
                             hint="Split the chain: send its first part, then the rest in a later call.")
        for batch in batches:  # first fit: fewer, fuller batches
            if len(batch) + len(members) <= size:
                batch.extend(members)
                break
        else:
            batches.append(list(members))
    return [[items[i] for i in sorted(batch)] for batch in batches]


def _relative_url(client: BatchSender, url: str) -> str:
    if "://" in url:
        if not url.startswith(client.root + "/"):
            raise InputError(f"batch url {url!r} is not under {client.root}", field="url")
        url = url[len(client.root):]
    url = quote_path(url)
    return url if url.startswith("/") else "/" + url


def _wire(client: BatchSender, item: BatchRequest, present: set[str]) -> dict[str, Any]:
    url = _relative_url(client, item.url)
    headers = dict(item.headers or {})
    lowered = {k.lower() for k in headers}
    if item.body is not None and "content-type" not in lowered:
        headers["Content-Type"] = "application/json"
    query = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
    if ("$count" in query or "$search" in query or url.split("?", 1)[0].endswith("/$count")) \
            and "consistencylevel" not in lowered:
        headers["ConsistencyLevel"] = "eventual"
    wire: dict[str, Any] = {"id": item.id, "method": item.method.upper(), "url": url}
    if headers:
        wire["headers"] = headers
    if item.body is not None:
        wire["body"] = item.body
    deps = [d for d in item.depends_on if d.lower() in present]
    if deps:
        wire["dependsOn"] = deps
    return wire


def _run_one(client: BatchSender, chunk: list[BatchRequest], number: int,
             emit: Callable[[dict[str, Any]], None]) -> list[BatchResult]:
    for item in chunk:
        check_top(_relative_url(client, item.url), dict(parse_qsl(urlsplit(item.url).query)))
    policy, pacer, stats = client.retry, client.pacer, client.stats
    answers: dict[str, tuple[BatchRequest, dict[str, Any]]] = {}
    attempts: dict[str, int] = {}
    pending = list(chunk)
    round_no = 0
    waited = 0.0
    while pending:
        round_no += 1
        present = {item.id.lower() for item in pending}
        if pacer is not None:
            pacer.before_send_many((item.method, _relative_url(client, item.url)) for item in pending)
        stats.add(batch_requests=1, batch_items=len(pending),
                  writes_sent=sum(1 for item in pending if item.method.upper() in WRITE_METHODS))
        resendable = client.retry_unsafe or all(is_idempotent(item.method) for item in pending)
        payload = {"requests": [_wire(client, item, present) for item in pending]}
        resp = client.request("POST", "$batch", json=payload, idempotent=resendable)
        body = resp.body if isinstance(resp.body, dict) else {}
        by_id = {str(r.get("id", "")).lower(): r for r in body.get("responses", []) if isinstance(r, dict)}
        retry: set[str] = set()
        retry_afters: list[float] = []
        statuses: dict[str, int] = {}
        for item in pending:
            key = item.id.lower()
            attempts[key] = attempts.get(key, 0) + 1
            answer = by_id.get(key)
            if answer is None:
                answer = {"id": item.id, "status": 502, "headers": {}, "body": {"error": {
                    "code": None, "message": "Graph's $batch response had no entry for this request id"}}}
            status = int(answer.get("status") or 0)
            headers = CaseInsensitiveDict(answer.get("headers") or {})
            answers[key] = (item, answer)
            statuses[str(status)] = statuses.get(str(status), 0) + 1
            stats.record_status(status, item=True)
            if pacer is not None:
                pacer.after_response(item.method, _relative_url(client, item.url), status, headers)
            resend_ok = client.retry_unsafe or is_idempotent(item.method)
            if policy.status_is_retryable(status, resendable=resend_ok):
                retry.add(key)
                ra = parse_retry_after(headers.get("Retry-After"), now=policy.wall_clock())
                if ra is not None:
                    retry_afters.append(ra)
        # A 424 caused by a dependency that is being resubmitted goes along with it.
        grew = True
        while grew:
            grew = False
            for item in pending:
                key = item.id.lower()
                if key not in retry and int(answers[key][1].get("status") or 0) == 424 \
                        and any(d.lower() in retry for d in item.depends_on):
                    retry.add(key)
                    grew = True
        if not retry:
            break
        delay = max(retry_afters) if retry_afters else policy.backoff(round_no)
        if not policy.may_continue(round_no, waited, delay):
            break
        stats.add(retries=len(retry))
        emit({"event": "batch_retry", "batch": number, "items": len(retry), "delay": round(delay, 3),
              "statuses": statuses})
        policy.sleep(delay)
        waited += delay
        pending = [item for item in pending if item.id.lower() in retry]

    results: list[BatchResult] = []
    for item in chunk:
        key = item.id.lower()
        _, answer = answers[key]
        status = int(answer.get("status") or 0)
        headers = dict(answer.get("headers") or {})
        item_body = answer.get("body")
        error = None
        if status >= 400 or status == 0:
            error = error_from_response(
                item.method, client.root + _relative_url(client, item.url), status or 502, headers, item_body,
                retry_after=parse_retry_after(CaseInsensitiveDict(headers).get("Retry-After"),
                                              now=policy.wall_clock()))
        results.append(BatchResult(item.id, status, headers, item_body, error, attempts.get(key, 1)))
    emit({"event": "batch_done", "batch": number, "items": len(chunk),
          "ok": sum(1 for r in results if r.ok), "failed": sum(1 for r in results if not r.ok)})
    return results


def run_batch(client: BatchSender, items: Sequence[BatchRequest], *,
              on_event: Callable[[dict[str, Any]], None] | None = None) -> list[BatchResult]:
    """Run ``items`` through ``$batch`` and return one BatchResult per request, in the order given.

    Whole-batch failures (400 malformed -> GraphBadRequest, 401/403, throttling or transport errors that
    outlived the retry policy) are raised; batches not yet started are then cancelled. The raised error carries
    ``partial_results``: the BatchResults of the batches that did finish, so a caller can still record them.
    """
    if not items:
        return []
    chunks = plan_batches(items)
    emit = on_event or client.emit
    emit({"event": "batch_start", "batches": len(chunks), "requests": len(items)})
    by_id: dict[str, BatchResult] = {}
    if len(chunks) == 1 or client.max_workers == 1:
        for number, chunk in enumerate(chunks, 1):
            try:
                chunk_results = _run_one(client, chunk, number, emit)
            except Exception as exc:
                exc.partial_results = list(by_id.values())  # type: ignore[attr-defined]
                raise
            for result in chunk_results:
                by_id[result.id.lower()] = result
    else:
        with ThreadPoolExecutor(max_workers=min(client.max_workers, len(chunks)),
                                thread_name_prefix="ccsync-batch") as pool:
            futures = [pool.submit(_run_one, client, chunk, number, emit)
                       for number, chunk in enumerate(chunks, 1)]
            done, not_done = wait(futures, return_when=FIRST_EXCEPTION)
            failed = [f for f in done if f.exception() is not None]
            if failed:
                for future in not_done:
                    future.cancel()
                wait(not_done)
                error = failed[0].exception()
                finished = [f for f in futures if f.done() and not f.cancelled() and f.exception() is None]
                error.partial_results = [r for f in finished for r in f.result()]  # type: ignore[union-attr]
                raise error  # type: ignore[misc]
            for future in futures:
                for result in future.result():
                    by_id[result.id.lower()] = result
    results = [by_id[item.id.lower()] for item in items]
    emit({"event": "batch_end", "requests": len(items), "ok": sum(1 for r in results if r.ok),
          "failed": sum(1 for r in results if not r.ok)})
    return results
