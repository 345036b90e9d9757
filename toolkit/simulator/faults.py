"""Latency and fault injection for the simulated Graph: the bad days a real tenant has.

``FaultInjector.decide(method, path)`` draws, from a seeded RNG, at most one fault per request:

* ``"429"``   -- throttled outside the quota model (Microsoft: 429s also happen below the limits under load);
  carries ``retry_after``;
* ``"503"``   -- Service Unavailable, with ``retry_after`` (Graph sends Retry-After on 503 too);
* ``"504"``   -- Gateway Timeout, no Retry-After;
* ``"reset"`` -- the server drops the connection without an HTTP answer;
* ``"slow"``  -- served normally after an extra ``delay_s``.

``latency()`` gives the base delay for every request (``latency_ms`` plus up to ``jitter_ms`` uniformly).
``replication_lag_s`` is read by the Graph side: objects written less than that long ago are not yet visible to
reads (Microsoft warns about replication delays for recently changed users).

``FaultConfig.from_spec`` parses the CLI form, e.g. ``"429=0.1,503=0.02,reset=0.01,latency=100ms,lag=2s"``.
"""

from __future__ import annotations

import fnmatch
import random
import re
import threading
from dataclasses import dataclass, fields, replace
from typing import Any, Literal

from ..errors import InputError

__all__ = ["FaultConfig", "Fault", "FaultInjector", "FAULT_KINDS"]

FAULT_KINDS: tuple[str, ...] = ("429", "503", "504", "reset", "slow")

FaultKind = Literal["429", "503", "504", "reset", "slow"]


@dataclass(frozen=True)
class FaultConfig:
    """Rates (0..1, summing to at most 1), delays and filters of the injected faults.

    ``methods``: only requests with these HTTP methods can fault (None = all). ``paths``: only paths matching
    one of these shell-style patterns (``/users*``, ``*/assignLicense``; case-insensitive) can fault.
    Latency applies to every request regardless of the filters.
    """

    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    p429: float = 0.0
    p503: float = 0.0
    p504: float = 0.0
    p_reset: float = 0.0
    p_slow: float = 0.0
    slow_ms: float = 2000.0
    replication_lag_s: float = 0.0
    # Advanced queries (ConsistencyLevel: eventual) read an index that lags behind writes (docs/graph-facts.md
    # 6.4: "eventually consistent"): a user created less than this long ago is missing from their results.
    index_lag_s: float = 0.0
    retry_after_s: float = 1.0
    seed: int | None = None
    methods: tuple[str, ...] | None = None
    paths: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        for name in ("p429", "p503", "p504", "p_reset", "p_slow"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise InputError(f"fault rate {name}={value} is outside 0..1.", field=name,
                                 hint="Give a probability such as 0.05 (or 5%).")
        if self.total_rate > 1.0 + 1e-9:
            raise InputError(f"fault rates add up to {self.total_rate:g}, more than 1.", field="rates",
                             hint="Lower some of 429/503/504/reset/slow so that their sum is at most 1.")
        for name in ("latency_ms", "jitter_ms", "slow_ms", "replication_lag_s", "index_lag_s", "retry_after_s"):
            if getattr(self, name) < 0:
                raise InputError(f"{name}={getattr(self, name)} is negative.", field=name,
                                 hint="Durations must be zero or more.")
        if self.methods is not None:
            object.__setattr__(self, "methods", tuple(m.upper() for m in self.methods))
        if self.paths is not None:
            object.__setattr__(self, "paths", tuple(self.paths))

    @property
    def total_rate(self) -> float:
        return self.p429 + self.p503 + self.p504 + self.p_reset + self.p_slow

    @classmethod
    def from_spec(cls, spec: str, base: "FaultConfig | None" = None) -> "FaultConfig":
        """Parse ``key=value`` pairs separated by commas (the ``ccsync sim --faults`` syntax).

        Keys: ``429 503 504 reset slow`` (rates: ``0.1`` or ``10%``); ``latency jitter slow_ms`` (durations,
        bare numbers are milliseconds); ``lag retry_after`` (durations, bare numbers are seconds); ``seed``
        (integer); ``methods`` (``POST|PATCH``); ``paths`` (``/users*|*/assignLicense``). Durations take
        ``ms``, ``s`` or ``m`` suffixes. An empty spec gives the defaults. Raises InputError naming the bad key.
        """
        values: dict[str, Any] = {}
        text = (spec or "").strip()
        for item in filter(None, (part.strip() for part in text.split(","))):
            if "=" not in item:
                raise InputError(f"'{item}' is not key=value.", source="fault spec", field=item,
                                 hint=f"Write e.g. '429=0.1,latency=100ms'. Keys: {', '.join(_SPEC_KEYS)}.")
            key, raw = (s.strip() for s in item.split("=", 1))
            k = key.lower()
            if k not in _SPEC_KEYS:
                raise InputError(f"unknown fault key '{key}'.", source="fault spec", field=key,
                                 hint=f"Known keys: {', '.join(_SPEC_KEYS)}.")
            attr, kind = _SPEC_KEYS[k]
            if attr in values:
                raise InputError(f"fault key '{key}' is given twice.", source="fault spec", field=key,
                                 hint="Give each key once.")
            values[attr] = _parse_value(key, raw, kind)
        return replace(base or cls(), **values)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


# spec key -> (FaultConfig attribute, value kind)
_SPEC_KEYS: dict[str, tuple[str, str]] = {
    "429": ("p429", "rate"), "503": ("p503", "rate"), "504": ("p504", "rate"),
    "reset": ("p_reset", "rate"), "slow": ("p_slow", "rate"),
    "latency": ("latency_ms", "ms"), "jitter": ("jitter_ms", "ms"), "slow_ms": ("slow_ms", "ms"),
    "lag": ("replication_lag_s", "s"), "index_lag": ("index_lag_s", "s"), "retry_after": ("retry_after_s", "s"),
    "seed": ("seed", "int"), "methods": ("methods", "list"), "paths": ("paths", "list"),
}
_DURATION = re.compile(r"^(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m)?$", re.IGNORECASE)
_HTTP_METHODS = {"GET", "POST", "PATCH", "PUT", "DELETE", "HEAD", "OPTIONS"}


def _parse_value(key: str, raw: str, kind: str) -> Any:
    bad = lambda what: InputError(f"'{raw}' is not {what} for fault key '{key}'.",  # noqa: E731
                                  source="fault spec", field=key, hint=_HINT[kind])
    if kind == "rate":
        try:
            value = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
        except ValueError:
            raise bad("a probability") from None
        if not 0.0 <= value <= 1.0:
            raise bad("a probability between 0 and 1")
        return value
    if kind in ("ms", "s"):
        m = _DURATION.match(raw)
        if not m:
            raise bad("a duration")
        number, unit = float(m.group(1)), (m.group(2) or kind).lower()
        seconds = number * {"ms": 0.001, "s": 1.0, "m": 60.0}[unit]
        return seconds * 1000 if kind == "ms" else seconds
    if kind == "int":
        try:
            return int(raw)
        except ValueError:
            raise bad("an integer") from None
    items = tuple(p.strip() for p in raw.split("|") if p.strip())
    if not items:
        raise bad("a list")
    if key.lower() == "methods":
        unknown = [m for m in items if m.upper() not in _HTTP_METHODS]
        if unknown:
            raise bad("a list of HTTP methods")
        return tuple(m.upper() for m in items)
    return items


_HINT = {
    "rate": "Use a number from 0 to 1 (0.05) or a percentage (5%).",
    "ms": "Use e.g. 100ms, 0.5s or a bare number of milliseconds.",
    "s": "Use e.g. 2s, 500ms, 1m or a bare number of seconds.",
    "int": "Use a whole number, e.g. seed=42.",
    "list": "Separate items with '|', e.g. methods=POST|PATCH or paths=/users*|*/assignLicense.",
}


@dataclass(frozen=True)
class Fault:
    """One injected fault: what to do instead of (or before) serving the request."""

    kind: FaultKind
    delay_s: float = 0.0
    retry_after: float | None = None


class FaultInjector:
    """Seeded, thread-safe fault and latency decisions (same seed + same call order => same faults)."""

    def __init__(self, config: FaultConfig | None = None):
        self.config = config or FaultConfig()
        self._rng = random.Random(self.config.seed)
        self._lock = threading.Lock()
        self._decisions = 0
        self._eligible = 0
        self._counts = {k: 0 for k in FAULT_KINDS}
        self._latency_total = 0.0

    @property
    def replication_lag(self) -> float:
        """Seconds a newly written object stays invisible to reads."""
        return self.config.replication_lag_s

    def _applies(self, method: str, path: str) -> bool:
        cfg = self.config
        if cfg.methods is not None and method.upper() not in cfg.methods:
            return False
        if cfg.paths is not None:
            p = path.split("?", 1)[0].lower()
            return any(fnmatch.fnmatchcase(p, pat.lower()) for pat in cfg.paths)
        return True

    def decide(self, method: str, path: str) -> Fault | None:
        """At most one fault for this request, or None to serve it normally."""
        cfg = self.config
        with self._lock:
            self._decisions += 1
            if cfg.total_rate <= 0 or not self._applies(method, path):
                return None
            self._eligible += 1
            r = self._rng.random()
            edge = 0.0
            for kind, rate in (("429", cfg.p429), ("503", cfg.p503), ("504", cfg.p504), ("reset", cfg.p_reset),
                               ("slow", cfg.p_slow)):
                edge += rate
                if r < edge:
                    self._counts[kind] += 1
                    if kind == "slow":
                        return Fault("slow", delay_s=cfg.slow_ms / 1000.0)
                    if kind in ("429", "503"):
                        return Fault(kind, retry_after=cfg.retry_after_s)  # type: ignore[arg-type]
                    return Fault(kind)  # type: ignore[arg-type]
            return None

    def latency(self) -> float:
        """Base delay for one request in seconds: latency_ms plus a uniform 0..jitter_ms."""
        cfg = self.config
        if cfg.latency_ms <= 0 and cfg.jitter_ms <= 0:
            return 0.0
        with self._lock:
            delay = (cfg.latency_ms + (self._rng.uniform(0.0, cfg.jitter_ms) if cfg.jitter_ms > 0 else 0.0)) / 1000
            self._latency_total += delay
            return delay

    def stats(self) -> dict[str, Any]:
        """Requests seen, requests eligible for faults, faults injected per kind, total latency added."""
        with self._lock:
            return {"decisions": self._decisions, "eligible": self._eligible, "faults": dict(self._counts),
                    "injected": sum(self._counts.values()), "latencySeconds": round(self._latency_total, 6)}
