"""Write pacing: keep requests under Graph's documented quotas instead of discovering them through 429s.

Quotas (graph-facts.md section 8), each per app per tenant unless noted:

* identity writes (POST/PATCH/PUT/DELETE on users, groups, ...): 3,000 per 150 s. Every write inside a
  ``$batch`` counts, because Graph evaluates each inner request on its own;
* ``/invitations``: 150 requests per 5 s (per tenant, any operation);
* reports ``/auditLogs/*``: 5 requests per 10 s (any method);
* ``.../provisionOnDemand``: 5 requests per 10 s.

Each quota is a ``Limiter``: a sliding-window log (never more than ``capacity`` sends in any window; sends are
counted when they are *sent*, and throttled sends count too, as they do at Graph) plus a token bucket that
spreads sends at ``capacity / window`` per second after a burst (5 % of the capacity, at least one ``$batch``
of 20), so there is no cliff at the start of each window and a server that models the quota as a token bucket
(as Microsoft describes its limits) never sees more than it refills. The write quota aims at 97 % of the
limit: the margin absorbs clock skew between send and receipt.

Slowing down: a 429 to a paced request pauses that limiter for the ``Retry-After`` and multiplies its rate by
0.8; so does an ``x-ms-throttle-limit-percentage`` >= 0.8 on a write response when it is more than 0.1 above
this client's own share of the window (someone else, e.g. another app or process, uses the same quota) or
>= 1.0. Graph only sends that header above 0.8, so it is expected while pacing at 97 % on our own and is not a
reason to slow down then (``own_share_margin=None`` reacts to every header >= 0.8). The rate recovers by 5 % of the limit per quarter window without a new signal
(from one signal's 0.8 back to full pace in one window).
Signals within a thirtieth of a window of the previous one count once (one burst of responses, one signal).

All times come from an injectable ``clock`` and ``sleep``; ``WritePacer.scaled(f)`` shrinks every window by
``f`` for benchmarks against a simulator run with the same scale.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass, replace
from typing import Any, Callable, Iterable, Mapping
from urllib.parse import urlsplit

from .retry import WRITE_METHODS, parse_retry_after

__all__ = ["Quota", "Limiter", "WritePacer", "WRITE_QUOTA", "INVITATIONS_QUOTA", "REPORTS_QUOTA",
           "PROVISION_ON_DEMAND_QUOTA", "api_path"]


@dataclass(frozen=True)
class Quota:
    """``limit`` requests per ``window`` seconds; the pacer aims at ``fraction`` of it, over a window
    stretched by ``slack`` (a fraction of the window) to absorb latency differences."""

    name: str
    limit: int
    window: float
    fraction: float = 1.0
    slack: float = 0.0

    def __post_init__(self) -> None:
        if self.limit < 1 or self.window <= 0 or not 0 < self.fraction <= 1 or self.slack < 0:
            raise ValueError(f"invalid quota {self!r}: need limit >= 1, window > 0, 0 < fraction <= 1")

    @property
    def capacity(self) -> int:
        return max(1, math.floor(self.limit * self.fraction))

    @property
    def effective_window(self) -> float:
        return self.window * (1.0 + self.slack)

    def scaled(self, factor: float) -> "Quota":
        """The same quota with its window multiplied by ``factor`` (for scaled-down benchmarks)."""
        return replace(self, window=self.window * factor)


WRITE_QUOTA = Quota("writes", 3000, 150.0, fraction=0.97)
INVITATIONS_QUOTA = Quota("invitations", 150, 5.0, slack=0.05)
REPORTS_QUOTA = Quota("reports", 5, 10.0, slack=0.05)
PROVISION_ON_DEMAND_QUOTA = Quota("provisionOnDemand", 5, 10.0, slack=0.05)

_VERSION_PREFIXES = ("/v1.0/", "/beta/")


def api_path(path_or_url: str) -> str:
    """The lower-cased path below the version root: ``https://h/v1.0/Users/x?$a`` -> ``/users/x``."""
    path = urlsplit(path_or_url).path if "://" in path_or_url else path_or_url.split("?", 1)[0]
    if not path.startswith("/"):
        path = "/" + path
    lowered = path.lower()
    for prefix in _VERSION_PREFIXES:
        if lowered.startswith(prefix):
            return lowered[len(prefix) - 1:]
    return lowered


class Limiter:
    """One paced quota (thread-safe). ``acquire()`` blocks until a send fits, then counts it as sent."""

    def __init__(self, quota: Quota, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep, burst: int | None = None,
                 decrease: float = 0.8, min_factor: float = 0.1, recover_step: float = 0.05,
                 recover_interval: float | None = None, signal_cooldown: float | None = None):
        self.quota = quota
        self._clock, self._sleep = clock, sleep
        self._burst = burst if burst is not None else min(quota.capacity, max(quota.capacity // 20, 20))
        self._decrease, self._min_factor, self._recover_step = decrease, min_factor, recover_step
        self._recover_interval = recover_interval if recover_interval is not None else quota.window / 4
        self._cooldown = signal_cooldown if signal_cooldown is not None else quota.window / 30
        self._lock = threading.Lock()
        self._sent: deque[float] = deque()
        now = clock()
        self._tokens = float(self._burst)
        self._refilled_at = now
        self._factor_base = 1.0
        self._signal_at: float | None = None
        self._paused_until = now
        self.total_sent = 0
        self.total_waited = 0.0
        self.slowdowns = 0

    # --- rate and its recovery -------------------------------------------------------------------------
    def _factor(self, now: float) -> float:
        if self._signal_at is None or self._factor_base >= 1.0:
            return self._factor_base
        steps = math.floor((now - self._signal_at) / self._recover_interval) if self._recover_interval > 0 else 0
        return min(1.0, self._factor_base + steps * self._recover_step)

    @property
    def factor(self) -> float:
        """The current fraction of the quota's pace (1.0 = full pace; lower after throttling signals)."""
        with self._lock:
            return self._factor(self._clock())

    def _capacity(self, now: float) -> int:
        return max(1, math.floor(self.quota.capacity * self._factor(now)))

    def _prune(self, now: float) -> None:
        horizon = now - self.quota.effective_window
        while self._sent and self._sent[0] <= horizon:
            self._sent.popleft()

    def _refill(self, now: float) -> None:
        rate = self._capacity(now) / self.quota.effective_window
        self._tokens = min(float(self._burst), self._tokens + (now - self._refilled_at) * rate)
        self._refilled_at = now

    def _wait_needed(self, now: float, k: int) -> float:
        wait = self._paused_until - now
        cap = self._capacity(now)
        if len(self._sent) + k > cap:
            # The send whose expiry leaves room for k more.
            wait = max(wait, self._sent[len(self._sent) + k - cap - 1] + self.quota.effective_window - now)
        if self._tokens < k:
            rate = cap / self.quota.effective_window
            wait = max(wait, (k - self._tokens) / rate)
        return wait

    def acquire(self, n: int = 1) -> float:
        """Wait until ``n`` more sends fit the quota, count them as sent; returns the seconds waited.

        ``n`` sends are granted together (up to the burst size), so the requests of one ``$batch`` reach
        Graph in the burst the limiter accounted for.
        """
        waited = 0.0
        remaining = n
        while remaining > 0:
            with self._lock:
                now = self._clock()
                self._refill(now)
                self._prune(now)
                k = min(remaining, self._burst, self._capacity(now))
                wait = self._wait_needed(now, k)
                if wait <= 0:
                    self._tokens -= k
                    self._sent.extend([now] * k)
                    self.total_sent += k
                    remaining -= k
                    if remaining == 0:
                        self.total_waited += waited
                    continue
            # A hair past the computed instant, so float rounding cannot leave us a nanosecond early.
            wait += 1e-6
            self._sleep(wait)
            waited += wait
        return waited

    def used_fraction(self) -> float:
        """Sends in the current window as a fraction of the quota's full limit."""
        with self._lock:
            now = self._clock()
            self._prune(now)
            return len(self._sent) / self.quota.limit

    def slow_down(self, pause: float | None = None) -> bool:
        """Apply one throttling signal: reduce the pace (once per cooldown) and pause for ``pause`` seconds.

        Returns True if the pace was reduced.
        """
        with self._lock:
            now = self._clock()
            if pause:
                self._paused_until = max(self._paused_until, now + pause)
            if self._signal_at is not None and now - self._signal_at < self._cooldown:
                return False
            current = self._factor(now)
            self._factor_base = max(self._min_factor, current * self._decrease)
            self._signal_at = now
            self.slowdowns += 1
            return True

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            now = self._clock()
            self._prune(now)
            return {"quota": self.quota.name, "limit": self.quota.limit, "window": self.quota.window,
                    "in_window": len(self._sent), "factor": round(self._factor(now), 4),
                    "sent": self.total_sent, "waited": round(self.total_waited, 3), "slowdowns": self.slowdowns}


def _header(headers: Mapping[str, Any] | None, name: str) -> str | None:
    if not headers:
        return None
    value = headers.get(name)
    if value is None:
        lname = name.lower()
        for key, val in headers.items():
            if key.lower() == lname:
                return val
    return value


class WritePacer:
    """Keeps one app's requests to one tenant under Graph's quotas (see the module docstring).

    ``before_send(method, path)`` blocks until the request fits every quota it falls under;
    ``after_response(method, path, status, headers)`` feeds throttling signals back.
    """

    def __init__(self, writes: Quota | None = WRITE_QUOTA, invitations: Quota | None = INVITATIONS_QUOTA,
                 reports: Quota | None = REPORTS_QUOTA,
                 provision_on_demand: Quota | None = PROVISION_ON_DEMAND_QUOTA, *,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                 limit_percentage_threshold: float = 0.8, own_share_margin: float | None = 0.1,
                 on_event: Callable[[dict[str, Any]], None] | None = None, **limiter_options: Any):
        def make(q: Quota | None) -> Limiter | None:
            return Limiter(q, clock=clock, sleep=sleep, **limiter_options) if q else None

        self.writes = make(writes)
        self.invitations = make(invitations)
        self.reports = make(reports)
        self.provision_on_demand = make(provision_on_demand)
        self._threshold = limit_percentage_threshold
        self._margin = own_share_margin
        self._on_event = on_event

    @classmethod
    def scaled(cls, factor: float, **kwargs: Any) -> "WritePacer":
        """A pacer whose quota windows are multiplied by ``factor`` (0.1 = ten times faster windows)."""
        quotas = {name: kwargs.pop(name, default) for name, default in (
            ("writes", WRITE_QUOTA), ("invitations", INVITATIONS_QUOTA), ("reports", REPORTS_QUOTA),
            ("provision_on_demand", PROVISION_ON_DEMAND_QUOTA))}
        return cls(**{k: (q.scaled(factor) if q else None) for k, q in quotas.items()}, **kwargs)

    def limiters_for(self, method: str, path_or_url: str) -> list[Limiter]:
        """The limiters a request falls under (by method for writes, by path for the special services)."""
        path = api_path(path_or_url)
        out: list[Limiter] = []
        if self.writes and method.upper() in WRITE_METHODS and not path.startswith("/$batch"):
            out.append(self.writes)
        if self.invitations and (path == "/invitations" or path.startswith("/invitations/")):
            out.append(self.invitations)
        if self.reports and path.startswith("/auditlogs/"):
            out.append(self.reports)
        if self.provision_on_demand and path.endswith("/provisionondemand"):
            out.append(self.provision_on_demand)
        return out

    def before_send(self, method: str, path_or_url: str) -> float:
        """Block until the request fits its quotas and count it as sent; returns the seconds waited."""
        return sum(limiter.acquire() for limiter in self.limiters_for(method, path_or_url))

    def before_send_many(self, requests: Iterable[tuple[str, str]]) -> float:
        """``before_send`` for the (method, path) requests of one ``$batch``, granted together per quota."""
        counts: dict[int, tuple[Limiter, int]] = {}
        for method, path in requests:
            for limiter in self.limiters_for(method, path):
                counts[id(limiter)] = (limiter, counts.get(id(limiter), (limiter, 0))[1] + 1)
        return sum(limiter.acquire(n) for limiter, n in counts.values())

    def after_response(self, method: str, path_or_url: str, status: int,
                       headers: Mapping[str, Any] | None) -> None:
        """Slow the matching limiters down on a 429, or on a limit percentage our own sends do not explain."""
        limiters = self.limiters_for(method, path_or_url)
        if not limiters:
            return
        if status == 429:
            pause = parse_retry_after(_header(headers, "Retry-After"))
            for limiter in limiters:
                if limiter.slow_down(pause):
                    self._emit(limiter, "429")
            return
        raw = _header(headers, "x-ms-throttle-limit-percentage")
        if raw is None or self.writes is None or self.writes not in limiters:
            return
        try:
            percentage = float(raw)
        except ValueError:
            return
        if percentage < self._threshold:
            return
        own = self.writes.used_fraction()
        if self._margin is None or percentage >= 1.0 or percentage - own > self._margin:
            if self.writes.slow_down():
                self._emit(self.writes, f"x-ms-throttle-limit-percentage {percentage:g} (own share {own:.2f})")

    def _emit(self, limiter: Limiter, reason: str) -> None:
        if self._on_event:
            self._on_event({"event": "pacer_slowdown", "quota": limiter.quota.name, "reason": reason,
                            "factor": round(limiter.factor, 4)})

    def snapshot(self) -> dict[str, Any]:
        return {lim.quota.name: lim.snapshot() for lim in
                (self.writes, self.invitations, self.reports, self.provision_on_demand) if lim}
