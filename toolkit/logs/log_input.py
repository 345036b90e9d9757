"""What reading logs gives back: ``LogInput`` (records of one kind, or their flattened chunks, with counts and
the time range) and ``Skipped`` (a record that could not be used: which file, where in it, and why)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Skipped", "LogInput"]


@dataclass(frozen=True)
class Skipped:
    source: str          # file name
    where: str           # "line 12", "record 3", "byte 4,096"
    reason: str


@dataclass
class LogInput:
    """Records of one kind read from files, in Graph's shape, plus what could not be read and why."""

    kind: str
    records: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    duplicates: int = 0
    sources: list[str] = field(default_factory=list)
    formats: Counter = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    # Streaming mode (read_logs(..., flatten=...)): records are flattened every CHUNK records into these frame
    # chunks and not kept, so a million records never sit in memory as dicts; count/first/last still hold.
    chunks: list[Any] = field(default_factory=list)
    count: int = 0
    first: Any = None
    last: Any = None

    def skipped_by_reason(self) -> dict[str, int]:
        return dict(Counter(_reason_class(s.reason) for s in self.skipped))

    def time_range(self) -> tuple[Any, Any]:
        return self.first, self.last


def _reason_class(reason: str) -> str:
    return reason.split(":", 1)[0]
