"""The apply journal: one SQLite file per plan, recording every operation's state so a run can stop and resume.

States: ``pending`` (not sent, or sent and known to need sending again), ``sent`` (written *before* the request
leaves, so after a crash its outcome is unknown and must be reconciled by reading the target), ``done``,
``failed``, ``skipped`` (stale: the target no longer matches the plan). ``step`` says which request an
operation is at: ``main`` (the create, restore, update, disable or delete itself), ``finish`` (after a
create or restore: attributes, link, licences, groups) or ``manager`` (last, when the plan sets the user's
manager: ``managers.py``).

Durability: WAL with ``synchronous=FULL``. A SIGKILL never loses a committed transaction with NORMAL either
(the WAL is in the OS cache), but a laptop that loses power could drop the last ``sent`` records with NORMAL;
the journal's whole promise is that a ``sent`` mark is on disk before the request leaves, and FULL costs one
fsync per transaction, of which there are two per ``$batch`` of up to 20 operations.

The journal is keyed by the plan's integrity digest: a journal written for another plan is refused.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Sequence

import pandas as pd

from ..errors import InputError
from . import killpoints

__all__ = ["Journal", "JournalEntry", "STATES", "TERMINAL", "default_journal_path"]

STATES = ("pending", "sent", "done", "failed", "skipped")
TERMINAL = frozenset({"done", "failed", "skipped"})
_SCHEMA_VERSION = "1"

_DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ops (
    op_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'done', 'failed', 'skipped')),
    step TEXT NOT NULL DEFAULT 'main',
    target_id TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    http_status INTEGER,
    error_code TEXT,
    message TEXT,
    request_id TEXT,
    result TEXT,
    sent_at REAL,
    updated_at TEXT
);
"""

_COLUMNS = ("op_id", "seq", "kind", "state", "step", "target_id", "attempts", "http_status", "error_code",
            "message", "request_id", "result", "sent_at", "updated_at")


@dataclass
class JournalEntry:
    op_id: str
    seq: int
    kind: str
    state: str
    step: str = "main"
    target_id: str | None = None
    attempts: int = 0
    http_status: int | None = None
    error_code: str | None = None
    message: str | None = None
    request_id: str | None = None
    result: str | None = None
    sent_at: float | None = None
    updated_at: str | None = None


def default_journal_path(plan_path: str | Path) -> Path:
    """``<plan>.journal.sqlite`` next to the plan file."""
    p = Path(plan_path)
    return p.with_name(p.name + ".journal.sqlite")


def _create_private(path: Path) -> None:
    """Create the journal file 0600 before SQLite opens it (it names users; SQLite gives its -wal and -shm files
    the database file's mode). Only a regular file is accepted (the output-path rule of toolkit.writefile)."""
    import os

    from ..private import open_private_file
    from ..writefile import check_output_path, output_error

    check_output_path(path)
    try:
        os.close(open_private_file(path, os.O_WRONLY | os.O_CREAT))
    except OSError as exc:
        raise output_error(exc, path) from exc


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Journal:
    """The journal of one plan's apply runs (single-threaded: only the executor's main thread writes)."""

    def __init__(self, path: str | Path | None, digest: str, *, target_tenant: str = "", plan_file: str = ""):
        """Open or create the journal at ``path`` (None: in memory, for what-if runs) for the plan ``digest``."""
        self.path = Path(path) if path is not None else None
        where = str(self.path) if self.path else ":memory:"
        if self.path is not None and not self.path.parent.is_dir():
            raise InputError(f"the folder {self.path.parent} does not exist", source=str(self.path),
                             hint="Create it or choose another --journal path.")
        if self.path is not None:
            _create_private(self.path)
        try:
            self._db = sqlite3.connect(where, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_DDL)
        except sqlite3.DatabaseError as exc:
            raise InputError(f"cannot open the apply journal: {exc}", source=where,
                             hint="Move the damaged file away; ccsync re-reads the target before resending.") from exc
        meta = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
        if meta:
            if meta.get("plan_digest") != digest:
                raise InputError(
                    f"this journal belongs to another plan (digest {meta.get('plan_digest', '?')[:12]}...)",
                    source=where, hint="Use the journal written for this plan, or pass another --journal path.")
        else:
            with self._tx():
                self._db.executemany("INSERT INTO meta(key, value) VALUES (?, ?)", [
                    ("plan_digest", digest), ("schema", _SCHEMA_VERSION), ("target_tenant", target_tenant),
                    ("plan_file", plan_file), ("created_at", _now())])
        self.digest = digest

    # --- transactions ----------------------------------------------------------------------------------
    class _Tx:
        def __init__(self, db: sqlite3.Connection):
            self.db = db

        def __enter__(self) -> sqlite3.Connection:
            self.db.execute("BEGIN IMMEDIATE")
            return self.db

        def __exit__(self, exc_type: Any, *rest: Any) -> None:
            self.db.execute("ROLLBACK" if exc_type else "COMMIT")
            if not exc_type:
                killpoints.after_journal_write()                 # test-only (killpoints.py); a no-op otherwise

    def _tx(self) -> "Journal._Tx":
        return Journal._Tx(self._db)

    # --- reading ---------------------------------------------------------------------------------------
    def is_new(self) -> bool:
        return self._db.execute("SELECT COUNT(*) FROM ops").fetchone()[0] == 0

    def entries(self) -> dict[str, JournalEntry]:
        rows = self._db.execute(f"SELECT {', '.join(_COLUMNS)} FROM ops ORDER BY seq").fetchall()
        return {r[0]: JournalEntry(*r) for r in rows}

    def counts(self) -> dict[str, int]:
        out = {s: 0 for s in STATES}
        for state, n in self._db.execute("SELECT state, COUNT(*) FROM ops GROUP BY state"):
            out[state] = n
        return out

    def meta(self) -> dict[str, str]:
        return dict(self._db.execute("SELECT key, value FROM meta").fetchall())

    def frame(self) -> pd.DataFrame:
        rows = self._db.execute(f"SELECT {', '.join(_COLUMNS)} FROM ops ORDER BY seq").fetchall()
        return pd.DataFrame(rows, columns=list(_COLUMNS))

    # --- writing ---------------------------------------------------------------------------------------
    def add_operations(self, ops: Iterable[tuple[str, str]]) -> None:
        """Register operations (op_id, kind) as pending, keeping any already known."""
        with self._tx() as db:
            base = db.execute("SELECT COALESCE(MAX(seq), -1) + 1 FROM ops").fetchone()[0]
            db.executemany("INSERT OR IGNORE INTO ops(op_id, seq, kind, state, updated_at) VALUES (?, ?, ?, "
                           "'pending', ?)", [(op_id, base + i, kind, _now()) for i, (op_id, kind) in enumerate(ops)])

    def mark_sent(self, items: Sequence[tuple[str, str]], now: float | None = None) -> None:
        """(op_id, step) pairs about to be sent: committed (and synced) before the requests leave. ``now``:
        the wall-clock time of sending (the run's clock); default the machine's."""
        now, stamp = (time.time() if now is None else now), _now()
        with self._tx() as db:
            db.executemany("UPDATE ops SET state='sent', step=?, attempts=attempts+1, sent_at=?, updated_at=? "
                           "WHERE op_id=?", [(step, now, stamp, op_id) for op_id, step in items])

    def update(self, changes: Sequence[dict[str, Any]]) -> None:
        """Apply field changes per operation in one transaction: each dict has ``op_id`` plus columns."""
        if not changes:
            return
        stamp = _now()
        with self._tx() as db:
            for change in changes:
                fields = {k: v for k, v in change.items() if k != "op_id"}
                bad = set(fields) - set(_COLUMNS)
                if bad:
                    raise ValueError(f"unknown journal columns {sorted(bad)}")
                fields["updated_at"] = stamp
                assign = ", ".join(f"{k}=?" for k in fields)
                db.execute(f"UPDATE ops SET {assign} WHERE op_id=?", [*fields.values(), change["op_id"]])

    def set_meta(self, key: str, value: str) -> None:
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "Journal":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
