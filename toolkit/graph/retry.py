"""The Graph client's retry policy, written once.

What is retried
    * ``429 Too Many Requests``: every method. Graph refused the request before running it, and throttled
      requests still count against the quota, so the client always waits before resending.
    * ``503 Service Unavailable``: every method, for the same reason (Graph sends it, with ``Retry-After``, when
      it sheds load before running the request).
    * ``500``, ``502``, ``504``: only for idempotent methods (GET, HEAD, OPTIONS, PUT, DELETE). For POST and
      PATCH these statuses do not prove the request was not carried out, so resending could create a second
      object or repeat an action; they are raised at once unless the caller passes ``retry_unsafe=True``.
    * Connection failures (``requests.ConnectionError`` incl. resets, ``ReadTimeout``,
      ``ChunkedEncodingError``):
        - failures *before the request was sent* (connection refused, DNS, connect timeout) are retried for
          every method: Graph never saw the request;
        - failures *after it was sent* (reset, read timeout, truncated body) leave the outcome unknown. They are
          retried for idempotent methods only; a POST/PATCH raises ``TransportError`` saying the outcome is
          unknown (check whether the object exists before trying again) unless ``retry_unsafe=True``.
      TLS failures (``SSLError``) are never retried: they need a CA bundle fix, not time.
    * ``401`` once, with a new token, when the token provider can ``invalidate()`` its cached token (a token
      revoked or expired early); a second 401 is raised.
    * ``404`` only when the caller passes ``retry_not_found=<seconds>`` (right after a write: Graph's directory
      is eventually consistent, and an object just created may not have replicated to the replica that
      answers). The 404 is retried with the backoff below until that many seconds have passed.

How long to wait
    * ``Retry-After`` is honoured when present: as (possibly fractional) seconds, e.g. ``2.128``, or as an
      HTTP-date (converted with the wall clock). A value above ``max_retry_after`` is not waited for: the error
      is raised at once with ``retry_after`` set, so a scheduler can come back later.
    * Without it: exponential backoff with full jitter,
      ``delay = uniform(0, min(cap, base * factor ** (retry - 1)))`` for retry 1, 2, 3, ...
      (defaults: base 1 s, factor 2, cap 60 s).

When to give up
    * After ``max_attempts`` attempts in total (default 6: the first try plus 5 retries), or when the next wait
      would take the time spent waiting past ``max_elapsed`` seconds (default 300). The last error is raised:
      ``GraphThrottled`` / ``GraphServerError`` (with method, URL, Graph's code and message, ``request-id``) or
      ``TransportError`` after connection failures.

``$batch`` items follow the same rules per item (see ``batch.py``): 429 and 503 items are resubmitted, 504
items only when their method is idempotent; the wait is the longest ``Retry-After`` among them.

``sleep``, ``clock`` (monotonic), ``wall_clock`` (for HTTP-dates) and ``rng`` are injectable so tests never
sleep and can assert the exact waits.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Callable

import requests
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError

__all__ = [
    "RetryPolicy", "IDEMPOTENT_METHODS", "WRITE_METHODS", "is_idempotent", "parse_retry_after",
    "sent_before_failure",
]

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})

# Statuses that prove Graph did not run the request, so any method may be resent.
_ALWAYS_RETRY = frozenset({429, 503})
# Statuses after which the outcome is unknown: only idempotent methods are resent.
_RETRY_IF_IDEMPOTENT = frozenset({500, 502, 504})


def is_idempotent(method: str) -> bool:
    """True for methods that can be repeated without changing the outcome (RFC 9110 section 9.2.2)."""
    return method.upper() in IDEMPOTENT_METHODS


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: fractional seconds or an HTTP-date; None if absent/bad.

    ``now`` is the wall-clock time (``time.time()``) used to turn an HTTP-date into a delay.
    """
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


def sent_before_failure(exc: BaseException) -> bool:
    """True when a connection failure may have happened after the request reached Graph (outcome unknown).

    Connection refused, DNS failures and connect timeouts happen before anything is sent: False.
    """
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return False
    if isinstance(exc, requests.exceptions.ConnectionError) and exc.args:
        inner = exc.args[0]
        if isinstance(inner, MaxRetryError):
            inner = inner.reason
        if isinstance(inner, (NewConnectionError, ConnectTimeoutError)):
            return False
    return True


@dataclass(frozen=True)
class RetryPolicy:
    """Retry limits and the backoff formula (see the module docstring for the rules)."""

    max_attempts: int = 6
    base: float = 1.0
    factor: float = 2.0
    cap: float = 60.0
    max_retry_after: float = 300.0
    max_elapsed: float = 300.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False, repr=False)
    clock: Callable[[], float] = field(default=time.monotonic, compare=False, repr=False)
    wall_clock: Callable[[], float] = field(default=time.time, compare=False, repr=False)
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("RetryPolicy.max_attempts must be at least 1")
        if self.base < 0 or self.factor < 1 or self.cap < 0:
            raise ValueError("RetryPolicy needs base >= 0, factor >= 1 and cap >= 0")

    def backoff(self, retry: int) -> float:
        """Full-jitter exponential backoff for the ``retry``-th retry (1-based)."""
        bound = min(self.cap, self.base * self.factor ** max(0, retry - 1))
        return self.rng.uniform(0.0, bound)

    def delay(self, retry: int, retry_after: float | None) -> float:
        """The wait before the ``retry``-th retry: ``Retry-After`` when Graph gave one, else backoff."""
        return retry_after if retry_after is not None else self.backoff(retry)

    def retry_after_seconds(self, value: str | None) -> float | None:
        """``parse_retry_after`` with this policy's wall clock."""
        return parse_retry_after(value, now=self.wall_clock())

    def status_is_retryable(self, status: int, *, resendable: bool) -> bool:
        """Whether a response with ``status`` may be resent; ``resendable``: the request is idempotent or the
        caller allowed unsafe retries. 404 is handled by the caller (``retry_not_found``)."""
        if status in _ALWAYS_RETRY:
            return True
        return status in _RETRY_IF_IDEMPOTENT and resendable

    def may_continue(self, attempt: int, waited: float, next_delay: float) -> bool:
        """True if a retry after ``attempt`` attempts and ``waited`` seconds, waiting ``next_delay``, fits."""
        return (attempt < self.max_attempts and next_delay <= self.max_retry_after
                and waited + next_delay <= self.max_elapsed)
