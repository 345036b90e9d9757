"""Call statistics of one GraphClient: what was sent, what came back, how often Graph pushed back."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

__all__ = ["CallStats"]


class CallStats:
    """Thread-safe counters; ``to_dict()`` gives a JSON-friendly snapshot.

    * ``requests``: HTTP requests sent (each retry and each ``$batch`` POST counts once)
    * ``batch_requests`` / ``batch_items``: ``$batch`` POSTs and the inner requests they carried
    * ``retries``: resends of a request or of a batch item
    * ``throttled``: 429 answers, outer and inner
    * ``by_status`` / ``item_by_status``: HTTP statuses of outer responses / of batch items
    * ``writes_sent``: POST/PATCH/PUT/DELETE sent, counting each write inside a ``$batch``
    * ``transport_errors``: requests that got no HTTP answer
    * ``bytes``: response body bytes received
    """

    _COUNTERS = ("requests", "batch_requests", "batch_items", "retries", "throttled", "writes_sent",
                 "transport_errors", "bytes")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests = 0
        self.batch_requests = 0
        self.batch_items = 0
        self.retries = 0
        self.throttled = 0
        self.writes_sent = 0
        self.transport_errors = 0
        self.bytes = 0
        self.by_status: Counter[int] = Counter()
        self.item_by_status: Counter[int] = Counter()

    def add(self, **counts: int) -> None:
        """Add to named counters atomically, e.g. ``add(requests=1, writes_sent=1)``."""
        with self._lock:
            for name, value in counts.items():
                if name not in self._COUNTERS:
                    raise AttributeError(f"CallStats has no counter {name!r}")
                setattr(self, name, getattr(self, name) + value)

    def record_status(self, status: int, *, item: bool = False) -> None:
        """Count one outer response (or batch item with ``item=True``) with this status."""
        with self._lock:
            (self.item_by_status if item else self.by_status)[status] += 1
            if status == 429:
                self.throttled += 1

    def to_dict(self) -> dict[str, Any]:
        with self._lock:
            out: dict[str, Any] = {name: getattr(self, name) for name in self._COUNTERS}
            out["by_status"] = {str(k): v for k, v in sorted(self.by_status.items())}
            out["item_by_status"] = {str(k): v for k, v in sorted(self.item_by_status.items())}
            return out

    def __repr__(self) -> str:
        return f"CallStats({self.to_dict()})"
