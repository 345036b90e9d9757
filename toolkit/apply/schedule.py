"""When each piece of an apply's work goes out: pure bookkeeping over the run's clock (no Graph, no journal).

* ``queue``: work ready to send, in plan order;
* ``delayed``: work that waits until a moment (a follow-up after its create, a requeue after throttling or
  replication lag), a heap by time;
* ``lookups``: creates of unknown outcome and when to look for them in the target next (with back-off);
* ``requeues``: how often each operation went round again (``max_requeues`` caps it);
* ``known_at``: when a just-created user's id became known, for the replication-lag tolerance.

``Work`` is one step of one operation; ``Chunk`` is one ``$batch`` of them with its requests.
"""

from __future__ import annotations

import heapq
from collections import deque
from dataclasses import dataclass, field

from ..graph import BatchRequest
from .clock import Clock

__all__ = ["Work", "Chunk", "Schedule"]


@dataclass
class Work:
    op_id: str
    step: str
    not_before: float = 0.0


@dataclass
class Chunk:
    items: list[Work]
    requests: list[BatchRequest]
    ids: dict[str, list[str]] = field(default_factory=dict)     # op_id -> its request ids, in chain order


class Schedule:
    """The run's queues and timers; ``open`` once the send loop runs (before it, nothing is queued)."""

    def __init__(self, clock: Clock):
        self.clock = clock
        self.queue: deque[Work] = deque()
        self.delayed: list[tuple[float, int, Work]] = []
        self._tiebreak = 0
        self.lookups: dict[str, float] = {}
        self.lookup_tries: dict[str, int] = {}
        self.requeues: dict[str, int] = {}
        self.known_at: dict[str, float] = {}
        self.open = False

    def push(self, work: Work) -> None:
        if work.not_before <= self.clock.monotonic():
            self.queue.append(work)
        else:
            self._tiebreak += 1
            heapq.heappush(self.delayed, (work.not_before, self._tiebreak, work))

    def after(self, op_id: str, step: str, delay: float) -> None:
        """Queue ``op_id``'s ``step`` ``delay`` seconds from now."""
        self.push(Work(op_id, step, self.clock.monotonic() + delay))

    def release_due(self, now: float) -> None:
        while self.delayed and self.delayed[0][0] <= now:
            self.queue.append(heapq.heappop(self.delayed)[2])

    def next_wake(self) -> float | None:
        wakes = list(self.lookups.values())
        if self.queue:
            wakes.append(0.0)
        if self.delayed:
            wakes.append(self.delayed[0][0])
        return min(wakes) if wakes else None

    def look_again(self, op_id: str) -> None:
        """Look for an unknown create again after a back-off (0.25 s doubling, at most 5 s)."""
        tries = self.lookup_tries.get(op_id, 0)
        self.lookup_tries[op_id] = tries + 1
        self.lookups[op_id] = self.clock.monotonic() + min(0.25 * 2 ** tries, 5.0)

    def due_lookups(self) -> list[str]:
        now = self.clock.monotonic()
        return [o for o, t in self.lookups.items() if t <= now]

    def known(self, op_id: str) -> float:
        """When ``op_id``'s user became known (set the first time it is asked)."""
        return self.known_at.setdefault(op_id, self.clock.monotonic())

    def lag_backoff(self, op_id: str) -> float:
        return min(0.25 * 2 ** self.requeues.get(op_id, 0), 5.0)
