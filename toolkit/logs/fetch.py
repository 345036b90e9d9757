"""Fetching provisioning and audit logs from Graph into the archive, within the reports limit.

Graph allows 5 requests per 10 seconds per app and tenant on ``/auditLogs`` (graph-facts 8.3), and its own
advice for large volumes is to page by date ranges and shrink the range when needed. So:

- The time range is walked in **windows** (``activityDateTime`` filters). A window that held more than
  ``dense`` records makes the next one smaller in proportion; a sparse one (under a quarter of ``dense``) makes
  the next one twice as long, up to ``max_window``. A window whose page fails with a server error or a timeout
  after the client's retries is halved and fetched again (down to ``min_window``).
- Every request goes through the Graph client, whose pacer keeps ``/auditLogs`` requests under 5 per 10 s
  (``graph/pacing.py``: no 429 in a normal run) and whose retry policy honours ``Retry-After`` when a 429
  comes anyway (``graph/retry.py``).
- Each page is committed to the archive together with the nextLink of the page after it, so an interrupted
  fetch resumes where it stopped; a window is marked done only when its last page is stored. The next run
  starts at the end of the last finished window (minus ``overlap``, for records Entra writes late), so it
  costs only what is new; records seen again are de-duplicated by id.

Filters: provisioning supports ``gt``/``lt`` on activityDateTime, directory audits ``ge``/``le``
(provisioningobjectsummary.md, directoryaudit.md). ``--job`` adds ``jobId eq '...'`` (provisioning only).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from ..errors import GraphBadRequest, GraphServerError, InputError, TransportError
from .archive import LogArchive
from .records import AUDIT, PROVISIONING
from .timestamps import iso_z

__all__ = ["FetchOptions", "KindResult", "FetchResult", "fetch_logs", "fetch_for_profile", "default_archive_path",
           "LOG_PATHS", "RETENTION_DAYS"]

LOG_PATHS = {PROVISIONING: "auditLogs/provisioning", AUDIT: "auditLogs/directoryAudits"}
RETENTION_DAYS = 30            # with Entra ID P1/P2 (7 without): nothing older is there to fetch
_UTC = dt.timezone.utc


@dataclass(frozen=True)
class FetchOptions:
    since: dt.datetime | None = None          # default: where the archive stopped, else now - 30 days
    until: dt.datetime | None = None          # default: now
    job_id: str | None = None
    kinds: tuple[str, ...] = (PROVISIONING, AUDIT)
    top: int = 500                            # page size: the value Microsoft's cross-tenant sync how-to uses
    window: dt.timedelta = dt.timedelta(hours=6)
    min_window: dt.timedelta = dt.timedelta(seconds=10)
    max_window: dt.timedelta = dt.timedelta(days=7)
    dense: int = 5_000                        # records in one window above which the next window shrinks
    overlap: dt.timedelta = dt.timedelta(minutes=5)


@dataclass
class KindResult:
    kind: str
    fetched: int = 0
    new: int = 0
    requests: int = 0
    windows: int = 0
    shrunk: int = 0
    resumed: bool = False
    since: str | None = None
    until: str | None = None
    stored: int = 0


@dataclass
class FetchResult:
    tenant_id: str
    archive: str
    kinds: list[KindResult] = field(default_factory=list)
    requests: int = 0
    throttled: int = 0
    retries: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"tenantId": self.tenant_id, "archive": self.archive, "requests": self.requests,
                "throttled": self.throttled, "retries": self.retries, "seconds": round(self.seconds, 3),
                "kinds": [asdict(k) for k in self.kinds]}


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=_UTC) if value.tzinfo is None else value.astimezone(_UTC)


def _window_filter(kind: str, start: dt.datetime, end: dt.datetime, job_id: str | None) -> str:
    if kind == PROVISIONING:
        # gt/lt only (no ge/le on provisioning): start a second early; the archive drops what it already has.
        text = (f"activityDateTime gt {iso_z(start - dt.timedelta(seconds=1))} "
                f"and activityDateTime lt {iso_z(end)}")
        if job_id:
            text = f"jobId eq '{job_id.replace(chr(39), chr(39) * 2)}' and " + text
        return text
    return f"activityDateTime ge {iso_z(start)} and activityDateTime le {iso_z(end)}"


def fetch_logs(client: Any, archive: LogArchive, options: FetchOptions = FetchOptions(), *,
               on_progress: Callable[[dict[str, Any]], None] | None = None,
               clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(_UTC)) -> FetchResult:
    """Fetch the logs in ``options`` through ``client`` (a ``GraphClient``) into ``archive``.

    Raises InputError for an impossible range; Graph errors (403 without AuditLog.Read.All, ...) as raised by
    the client. Progress dicts go to ``on_progress``.
    """
    started = time.monotonic()
    until = _aware(options.until) or clock()
    since_opt = _aware(options.since)
    if since_opt is not None and since_opt >= until:
        raise InputError(f"--since ({iso_z(since_opt)}) is not before --until ({iso_z(until)}).",
                         hint="Give a --since earlier than --until.")
    emit = on_progress or (lambda event: None)
    stats0 = (client.stats.requests, client.stats.throttled, client.stats.retries)
    result = FetchResult(tenant_id=archive.tenant_id or "", archive=str(archive.path))
    for kind in options.kinds:
        result.kinds.append(_fetch_kind(client, archive, kind, options, since_opt, until, emit))
    result.requests = client.stats.requests - stats0[0]
    result.throttled = client.stats.throttled - stats0[1]
    result.retries = client.stats.retries - stats0[2]
    result.seconds = time.monotonic() - started
    return result


def _fetch_kind(client: Any, archive: LogArchive, kind: str, options: FetchOptions,
                since_opt: dt.datetime | None, until: dt.datetime, emit: Callable[[dict[str, Any]], None]) -> KindResult:
    res = KindResult(kind)
    scope = json.dumps({"job": options.job_id if kind == PROVISIONING else None})
    progress = archive.progress(kind)
    oldest = until - dt.timedelta(days=RETENTION_DAYS)
    if since_opt is not None:
        start = since_opt
    elif progress["fetchedUntil"] is not None and progress["scope"] == scope:
        start = max(progress["fetchedUntil"] - options.overlap, oldest)
    else:
        start = oldest
    pending_link = None
    window = options.window
    if (progress["nextLink"] and progress["scope"] == scope and progress["windowStart"] is not None
            and progress["windowEnd"] is not None and since_opt is None):
        # An interrupted fetch: finish its window from the stored nextLink first.
        start, pending_end = progress["windowStart"], progress["windowEnd"]
        window = max(pending_end - start, options.min_window)
        pending_link = progress["nextLink"]
        res.resumed = True
    res.since, res.until = iso_z(start), iso_z(until)
    fetched_until = progress["fetchedUntil"] if progress["scope"] == scope else None
    cursor = start
    while cursor < until:
        end = min(cursor + window, until)
        try:
            count = _fetch_window(client, archive, kind, cursor, end, options, scope, fetched_until,
                                  pending_link, res, emit)
        except (GraphServerError, TransportError):
            if end - cursor <= options.min_window:
                raise
            window = max((end - cursor) / 2, options.min_window)      # too heavy for one query: halve it
            res.shrunk += 1
            pending_link = None
            emit({"event": "window-shrunk", "kind": kind, "seconds": window.total_seconds()})
            continue
        pending_link = None
        res.windows += 1
        if fetched_until is None or end > fetched_until:
            fetched_until = end
        archive.save_progress(kind, fetched_until=fetched_until, window=None, next_link=None, scope=scope)
        cursor = end
        if count > options.dense:
            window = max(window * (options.dense / count), options.min_window)
            res.shrunk += 1
        elif count < options.dense / 4:
            window = min(window * 2, options.max_window)
    res.stored = archive.count(kind)
    emit({"event": "done", "kind": kind, "fetched": res.fetched, "new": res.new, "requests": res.requests})
    return res


def _fetch_window(client: Any, archive: LogArchive, kind: str, start: dt.datetime, end: dt.datetime,
                  options: FetchOptions, scope: str, fetched_until: dt.datetime | None, link: str | None,
                  res: KindResult, emit: Callable[[dict[str, Any]], None]) -> int:
    count = 0
    params: dict[str, Any] | None = {"$filter": _window_filter(kind, start, end, options.job_id),
                                     "$top": options.top}
    url = LOG_PATHS[kind]
    if link:
        url, params = link, None
    while True:
        try:
            resp = client.request("GET", url, params=params)
        except GraphBadRequest as exc:
            if params is None and link and "token" in str(exc.message).lower():
                # The stored skip token expired while we were away: fetch the window again from its start.
                url, params, link = LOG_PATHS[kind], {"$filter": _window_filter(kind, start, end, options.job_id),
                                                      "$top": options.top}, None
                continue
            raise
        res.requests += 1
        body = resp.body if isinstance(resp.body, dict) else {}
        items = [r for r in body.get("value", []) if isinstance(r, dict)]
        next_link = body.get("@odata.nextLink")
        with archive.transaction() as db:
            new = archive.add(kind, items, db=db)
            archive.save_progress(kind, fetched_until=fetched_until, window=(start, end) if next_link else None,
                                  next_link=next_link, scope=scope, db=db)
        count += len(items)
        res.fetched += len(items)
        res.new += new
        emit({"event": "page", "kind": kind, "window": [iso_z(start), iso_z(end)], "records": len(items),
              "new": new, "total": res.fetched})
        if not next_link:
            return count
        url, params = next_link, None


def default_archive_path(profile_name: str) -> str:
    """Where ``ccsync logs fetch`` keeps a profile's archive when ``--archive`` is not given."""
    return f"ccsync-logs-{profile_name}.sqlite"


def fetch_for_profile(profile: Any, archive_path: str | None = None, options: FetchOptions = FetchOptions(), *,
                      secret: str | None = None, on_progress: Callable[[dict[str, Any]], None] | None = None,
                      client: Any = None) -> FetchResult:
    """Sign in with ``profile``, check the archive is this tenant's (by the token's ``tid``), and fetch."""
    from ..auth import TokenProvider
    from ..graph import GraphClient
    from ..transport import make_session

    if client is None:
        session = make_session(getattr(profile, "ca_bundle", None))
        provider = TokenProvider(profile, session=session, secret=secret)
        client = GraphClient(profile.graph_base, provider, session)
    else:
        provider = client._token_provider
    claims = provider.claims() if hasattr(provider, "claims") else {}
    tenant_id = str(claims.get("tid") or profile.tenant)
    path = archive_path or default_archive_path(profile.name)
    with LogArchive(path, tenant_id=tenant_id, cloud=profile.cloud) as archive:
        return fetch_logs(client, archive, options, on_progress=on_progress)
