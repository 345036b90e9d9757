"""The run's in-memory mirror of its journal: every operation's ``JournalEntry``, with changes gathered and
written in one transaction per round (``flush``), and the ``sent`` marks written before requests leave.

Only the executor's main thread touches it (the journal is single-threaded).
"""

from __future__ import annotations

from typing import Any, Iterable

from .journal import Journal, JournalEntry

__all__ = ["Ledger"]


class Ledger:
    def __init__(self, journal: Journal):
        self.journal = journal
        self.entries: dict[str, JournalEntry] = {}
        self._pending: dict[str, dict[str, Any]] = {}

    def load(self) -> dict[str, JournalEntry]:
        self.entries = self.journal.entries()
        return self.entries

    def set(self, op_id: str, **fields: Any) -> None:
        """Change an entry now; the journal gets it at the next ``flush``."""
        entry = self.entries[op_id]
        for k, v in fields.items():
            setattr(entry, k, v)
        self._pending.setdefault(op_id, {"op_id": op_id}).update(fields)

    def flush(self) -> None:
        if self._pending:
            self.journal.update(list(self._pending.values()))
            self._pending = {}

    def mark_sent(self, items: Iterable[tuple[str, str]], now: float) -> None:
        """Committed (and synced) before the requests leave: after a crash their outcome is known to be unknown."""
        items = list(items)
        self.journal.mark_sent(items, now=now)
        for op_id, _step in items:
            entry = self.entries[op_id]
            entry.state = "sent"
            entry.attempts += 1
            entry.sent_at = now
