"""The local log archive: one SQLite file per tenant that keeps provisioning and audit records past Entra's
retention (30 days with P1/P2, 7 without; graph-facts 4 and 5).

- Records are stored as Graph returned them (JSON), keyed by (kind, id): the same record fetched twice is kept
  once, so overlapping windows and re-runs are harmless.
- ``progress`` holds, per kind, the end of the last window fetched completely (the next run starts there: only
  new records) and, while a window is being paged, its bounds and the nextLink of the page to fetch next (an
  interrupted fetch resumes from it; pages are committed one by one).
- ``meta`` names the tenant (and cloud) the archive belongs to; an archive is never mixed with another tenant.

The file is created mode 0600 (it holds user names and addresses) and uses WAL so a crash never corrupts it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
from contextlib import contextmanager
from typing import Any, Iterable, Iterator, Mapping

from ..errors import InputError
from .records import AUDIT, PROVISIONING
from .timestamps import iso_z, parse_timestamp

__all__ = ["LogArchive", "Progress"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS records (kind TEXT NOT NULL, id TEXT NOT NULL, activityDateTime TEXT NOT NULL,
                                    fetchedAt TEXT NOT NULL, json TEXT NOT NULL, PRIMARY KEY (kind, id));
CREATE INDEX IF NOT EXISTS records_time ON records (kind, activityDateTime);
CREATE TABLE IF NOT EXISTS progress (kind TEXT PRIMARY KEY, fetchedUntil TEXT, windowStart TEXT, windowEnd TEXT,
                                     nextLink TEXT, scope TEXT);
"""
_VERSION = "1"


class Progress(dict):
    """``fetchedUntil`` (datetime | None), ``windowStart``/``windowEnd``/``nextLink`` of an unfinished window."""


class LogArchive:
    """A SQLite archive of one tenant's logs. Use as a context manager, or call ``close()``."""

    def __init__(self, path: str | os.PathLike[str], *, tenant_id: str | None = None, cloud: str | None = None,
                 create: bool = True):
        from ..writefile import check_output_path

        # The output-path rule (toolkit/writefile.py): a regular file or nothing; never a link, device, FIFO or folder.
        self.path = check_output_path(path)
        if not self.path.exists():
            if not create:
                raise InputError("This log archive does not exist.", source=str(self.path),
                                 hint="Fetch first: ccsync logs fetch --profile P --archive PATH.")
            if not self.path.parent.is_dir():
                raise InputError(f"The folder {self.path.parent} does not exist.", source=str(self.path),
                                 hint="Create the folder first, or choose another archive path.")
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0), 0o600)
            os.close(fd)
            os.chmod(self.path, 0o600)                   # whatever the umask
        try:
            self.db = sqlite3.connect(str(self.path), isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise InputError(f"This is not a ccsync log archive ({exc}).", source=str(self.path),
                             hint="Give the .sqlite file 'ccsync logs fetch' wrote, or a new path.") from exc
        self._check_tenant(tenant_id, cloud)

    # --- identity -------------------------------------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def _set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    @property
    def tenant_id(self) -> str | None:
        return self.meta("tenantId")

    def _check_tenant(self, tenant_id: str | None, cloud: str | None) -> None:
        stored = self.tenant_id
        if tenant_id and stored and stored.lower() != tenant_id.lower():
            raise InputError(f"This log archive belongs to tenant {stored}, not {tenant_id}.",
                             source=str(self.path),
                             hint="Use one archive per tenant: give another --archive path for this profile.")
        if tenant_id and not stored:
            self._set_meta("tenantId", tenant_id.lower())
            self._set_meta("version", _VERSION)
            self._set_meta("createdAt", iso_z(dt.datetime.now(dt.timezone.utc)))
        if cloud and not self.meta("cloud"):
            self._set_meta("cloud", cloud)

    # --- records --------------------------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def add(self, kind: str, records: Iterable[Mapping[str, Any]], *, db: sqlite3.Connection | None = None) -> int:
        """Store records (Graph JSON); return how many were new. Records without id or time are refused."""
        now = iso_z(dt.datetime.now(dt.timezone.utc))
        rows = []
        for rec in records:
            rid, when = rec.get("id"), rec.get("activityDateTime")
            stamp = parse_timestamp(when) if when is not None else None
            if not rid or stamp is None:
                continue
            rows.append((kind, str(rid), iso_z(stamp), now, json.dumps(rec, ensure_ascii=False,
                                                                       separators=(",", ":"), default=str)))
        conn = db or self.db
        before = conn.total_changes
        conn.executemany("INSERT OR IGNORE INTO records (kind, id, activityDateTime, fetchedAt, json) "
                         "VALUES (?, ?, ?, ?, ?)", rows)
        return conn.total_changes - before

    def count(self, kind: str) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM records WHERE kind = ?", (kind,)).fetchone()[0])

    def records(self, kind: str, since: dt.datetime | None = None,
                until: dt.datetime | None = None) -> Iterator[dict[str, Any]]:
        """Stored records of ``kind`` oldest first, optionally within [since, until)."""
        sql, args = "SELECT json FROM records WHERE kind = ?", [kind]
        if since is not None:
            sql += " AND activityDateTime >= ?"
            args.append(iso_z(since))
        if until is not None:
            sql += " AND activityDateTime < ?"
            args.append(iso_z(until))
        for (text,) in self.db.execute(sql + " ORDER BY activityDateTime, id", args):
            yield json.loads(text)

    def time_range(self, kind: str) -> tuple[dt.datetime | None, dt.datetime | None]:
        lo, hi = self.db.execute("SELECT MIN(activityDateTime), MAX(activityDateTime) FROM records WHERE kind = ?",
                                 (kind,)).fetchone()
        return (parse_timestamp(lo) if lo else None, parse_timestamp(hi) if hi else None)

    # --- progress -------------------------------------------------------------------------------------------

    def progress(self, kind: str) -> Progress:
        row = self.db.execute("SELECT fetchedUntil, windowStart, windowEnd, nextLink, scope FROM progress "
                              "WHERE kind = ?", (kind,)).fetchone()
        p = Progress(fetchedUntil=None, windowStart=None, windowEnd=None, nextLink=None, scope=None)
        if row:
            p.update(fetchedUntil=parse_timestamp(row[0]) if row[0] else None,
                     windowStart=parse_timestamp(row[1]) if row[1] else None,
                     windowEnd=parse_timestamp(row[2]) if row[2] else None, nextLink=row[3], scope=row[4])
        return p

    def save_progress(self, kind: str, *, fetched_until: dt.datetime | None, window: tuple[Any, Any] | None,
                      next_link: str | None, scope: str | None, db: sqlite3.Connection | None = None) -> None:
        (db or self.db).execute(
            "INSERT OR REPLACE INTO progress (kind, fetchedUntil, windowStart, windowEnd, nextLink, scope) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (kind, iso_z(fetched_until) if fetched_until else None,
             iso_z(window[0]) if window else None, iso_z(window[1]) if window else None, next_link, scope))

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "LogArchive":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


KINDS = (PROVISIONING, AUDIT)
