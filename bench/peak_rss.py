"""Peak memory for the benchmarks, read one way everywhere (Linux).

- ``max_rss_kib()``: the process's peak resident set so far (``getrusage`` ``ru_maxrss``, KiB on Linux). It only
  grows, so a benchmark that compares variants runs each in a process of its own (fork) and reads it there.
- ``max_rss_mib()``: the same in MiB.
- ``measure_peak(fn)``: (wall seconds, peak resident bytes while ``fn`` ran above the resident set before it). A
  sampler thread reads ``/proc/self/statm`` every 5 ms, so memory held before the call (the input) is not counted.

Not a benchmark itself: each ``bench/bench_*.py`` imports it from its own folder and still runs alone.
"""

from __future__ import annotations

import os
import resource
import threading
import time
from typing import Callable

__all__ = ["max_rss_kib", "max_rss_mib", "resident_bytes", "measure_peak"]


def max_rss_kib() -> int:
    """The peak resident set of this process so far, in KiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def max_rss_mib() -> float:
    """The peak resident set of this process so far, in MiB."""
    return max_rss_kib() / 1024


def resident_bytes() -> int:
    """The resident set of this process now, in bytes."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def measure_peak(fn: Callable[[], object]) -> tuple[float, int]:
    """Run ``fn``; return its wall seconds and the peak resident bytes during it above those before it."""
    base, peak, stop = resident_bytes(), [0], threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], resident_bytes())
            time.sleep(0.005)
    t = threading.Thread(target=sample, daemon=True)
    t.start()
    started = time.perf_counter()
    fn()
    seconds = time.perf_counter() - started
    stop.set()
    t.join()
    return seconds, max(peak[0], resident_bytes()) - base
