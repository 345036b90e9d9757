"""Time for an apply: the one place the executor reads clocks and waits, injected like ``graph/retry.py`` and
``graph/pacing.py`` do (``ApplyOptions.clock``).

* ``monotonic()``: deadlines within a run (follow-up delays, replication-lag tolerance, look-up retries);
* ``time()``: wall-clock seconds, for what outlives the process (the journal's ``sent_at``) and for comparing with
  Graph's ``createdDateTime``;
* ``sleep(seconds, stop)``: wait, returning early when ``stop`` is set;
* ``wait(futures, timeout)``: wait for the first of the ``$batch``es in flight to come back, or the timeout.

``SystemClock`` is the real one. ``SimulatedClock`` lets time pass only when the run waits: every delay the
executor chooses (follow-ups, look-ups of unknown creates, requeues) costs no real time, so tests run without
sleeping. Requests in flight still take their real time; while waiting for them with a deadline, simulated time
jumps to the deadline. Graph's own delays (replication lag in the simulator) are real time: a test that waits one
out needs the ``SystemClock``.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, wait
from typing import Iterable, Protocol

__all__ = ["Clock", "SystemClock", "SimulatedClock"]


class Clock(Protocol):
    def monotonic(self) -> float: ...

    def time(self) -> float: ...

    def sleep(self, seconds: float, stop: threading.Event | None = None) -> None: ...

    def wait(self, futures: Iterable[Future], timeout: float | None) -> set[Future]: ...


class SystemClock:
    """The machine's clocks; waits really wait."""

    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time()

    def sleep(self, seconds: float, stop: threading.Event | None = None) -> None:
        if stop is not None:
            stop.wait(seconds)
        else:
            time.sleep(seconds)

    def wait(self, futures: Iterable[Future], timeout: float | None) -> set[Future]:
        done, _ = wait(list(futures), timeout=timeout, return_when=FIRST_COMPLETED)
        return done


class SimulatedClock:
    """Time that passes only when the run waits (thread-safe). The wall clock starts at the real time."""

    def __init__(self, start: float = 1_000.0, wall_start: float | None = None):
        self._lock = threading.Lock()
        self._now = float(start)
        self._start = float(start)
        self._wall = time.time() if wall_start is None else float(wall_start)
        self.slept = 0.0                  # simulated seconds waited, for tests to look at

    def monotonic(self) -> float:
        with self._lock:
            return self._now

    def time(self) -> float:
        with self._lock:
            return self._wall + (self._now - self._start)

    def advance(self, seconds: float) -> None:
        with self._lock:
            step = max(0.0, float(seconds))
            self._now += step
            self.slept += step

    def sleep(self, seconds: float, stop: threading.Event | None = None) -> None:
        if stop is not None and stop.is_set():
            return
        self.advance(seconds)

    def wait(self, futures: Iterable[Future], timeout: float | None) -> set[Future]:
        pending = list(futures)
        done, _ = wait(pending, timeout=0)
        if done or not pending:
            return done
        if timeout is None:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            return done
        self.advance(timeout)             # the deadline comes first in simulated time
        done, _ = wait(pending, timeout=0)
        return done
