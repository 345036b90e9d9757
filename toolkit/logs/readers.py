"""Reading provisioning and audit logs from whatever file an admin has, into Graph-shaped records.

Formats (detected from the content, not the file name; docs/logs.md):

- JSON: a Graph collection ``{"value": [...]}``, a bare array, JSON lines, several pages one after another in
  one file, or several files; the portal's JSON download; Azure Monitor diagnostic-settings records (one JSON
  object per line, as a storage account or Event Hubs capture keeps them, or ``{"records": [...]}``); Log
  Analytics exports of ``AADProvisioningLogs`` / ``AuditLogs`` as JSON.
- CSV: the portal's three-file download (``ProvisioningLogs``, ``ProvisioningLogs_ProvisioningSteps``,
  ``ProvisioningLogs_ModifiedProperties``, joined by change ID; give all three, or the main one and ccsync
  looks for the other two beside it and names a missing one); Log Analytics exports as CSV (nested columns as
  JSON text). Any of UTF-8 (with or without BOM), UTF-16 with BOM, or Windows-1252; comma, semicolon, tab or
  pipe as the delimiter.

Nothing is dropped silently: a record that cannot be read (malformed or truncated JSON, a timestamp in no known
shape, no id, a record of the other log kind) is counted in ``LogInput.skipped`` with where and why. The same
record read twice (overlapping pages or files) is kept once (by id) and counted in ``duplicates``.

This module detects each file's format and turns raw records into canonical ones (``read_records``); each
format is read by its own module: ``json_logs.py``, ``csv_logs.py``, ``portal_csv.py`` (files opened and
decoded by ``log_files.py``; results in ``log_input.py``).
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from ..errors import InputError
from .csv_logs import csv_rows
from .json_logs import is_json_lines, json_documents, json_lines, records_of
from .log_files import decode, read_bytes
from .log_input import LogInput, Skipped
from .portal_csv import PORTAL_CSV_PARTS, is_portal_csv, portal_download_records, portal_key, portal_part
from .records import AUDIT, PROVISIONING, canonical_audit, canonical_provisioning, record_kind
from .timestamps import parse_timestamp

__all__ = ["Skipped", "LogInput", "read_logs", "read_records", "PORTAL_CSV_PARTS"]


# --- files -> raw records -----------------------------------------------------------------------------------

def _raw_records(paths: Sequence[Path], notes: list[str], skipped: list[Skipped],
                 formats: Counter) -> Iterator[tuple[str, str, Any]]:
    """(file name, where, raw record) for every record in the files."""
    portal: dict[str, dict[str, Path]] = {}
    for path in paths:
        if is_json_lines(path):
            # One record per line (Graph exports, Azure Monitor storage blobs): read line by line, so a file of
            # any size never sits in memory whole.
            formats["json"] += 1
            yield from json_lines(path, skipped)
            continue
        data = read_bytes(path)
        text = decode(data, path.name, notes)
        stripped = text.lstrip()
        if not stripped:
            notes.append(f"{path.name}: empty file.")
            continue
        if stripped[0] in "[{":
            formats["json"] += 1
            for i, doc in enumerate(json_documents(text, path.name, skipped), 1):
                for j, raw in enumerate(records_of(doc), 1):
                    yield path.name, f"record {j} of document {i}" if i > 1 else f"record {j}", raw
            continue
        rows, delim = csv_rows(text, path.name)
        if rows and is_portal_csv(rows):
            portal.setdefault(portal_key(path), {})[portal_part(path)] = path
            continue
        formats["csv"] += 1
        if delim != ",":
            notes.append(f"{path.name}: CSV delimited by {delim!r}.")
        for i, row in enumerate(rows, 2):
            yield path.name, f"line {i}", {k: v for k, v in row.items() if k is not None}
    for base, parts in portal.items():
        formats["portal-csv"] += 1
        yield from portal_download_records(base, parts, notes)


# --- public -------------------------------------------------------------------------------------------------

CHUNK = 5_000           # records flattened at a time in streaming mode (~50 MB of dicts)


def read_records(raws: Iterable[tuple[str, str, Any]], kind: str, result: LogInput | None = None, *,
                 flatten: Callable[[list[dict[str, Any]]], Any] | None = None,
                 keep: Callable[[dict[str, Any]], bool] | None = None) -> LogInput:
    """Canonical records of ``kind`` from (source, where, raw record) triples, de-duplicated by id.

    With ``flatten``, records are flattened CHUNK at a time into ``result.chunks`` instead of being kept in
    ``result.records``. ``keep`` filters records (e.g. a time range) after they were read and counted as valid.
    """
    out = result or LogInput(kind)
    seen: set[str] = {r["id"] for r in out.records}
    canon = canonical_provisioning if kind == PROVISIONING else canonical_audit
    other = AUDIT if kind == PROVISIONING else PROVISIONING
    buffer: list[dict[str, Any]] = []
    for source, where, raw in raws:
        found = record_kind(raw)
        if found is None:
            out.skipped.append(Skipped(source, where, "not a log record: no field of a provisioning or audit "
                                                      "event was found" if isinstance(raw, Mapping) else
                                       f"not a log record: a JSON {type(raw).__name__}, not an object"))
            continue
        if found == other:
            out.skipped.append(Skipped(source, where, f"{other} record: this report reads {kind} logs "
                                                      f"(use 'ccsync report {other}')"))
            continue
        rec = canon(raw)
        try:
            rec["activityDateTime"] = parse_timestamp(rec.get("activityDateTime"))
        except ValueError as exc:
            out.skipped.append(Skipped(source, where, f"bad timestamp: {exc}"))
            continue
        if rec["activityDateTime"] is None:
            out.skipped.append(Skipped(source, where, "no timestamp: the record has no activityDateTime"))
            continue
        rid = rec.get("id")
        if rid in (None, ""):
            out.skipped.append(Skipped(source, where, "no id: the record has no id to tell it apart"))
            continue
        rec["id"] = rid = str(rid)
        if rid in seen:
            out.duplicates += 1
            continue
        seen.add(rid)
        if keep is not None and not keep(rec):
            continue
        rec.setdefault("source", source)
        when = rec["activityDateTime"]
        out.count += 1
        out.first = when if out.first is None or when < out.first else out.first
        out.last = when if out.last is None or when > out.last else out.last
        if flatten is None:
            out.records.append(rec)
            continue
        buffer.append(rec)
        if len(buffer) >= CHUNK:
            out.chunks.append(flatten(buffer))
            buffer = []
    if flatten is not None and (buffer or not out.chunks):
        out.chunks.append(flatten(buffer))
    return out


def read_logs(files: Sequence[str | os.PathLike[str]], kind: str, *,
              flatten: Callable[[list[dict[str, Any]]], Any] | None = None,
              keep: Callable[[dict[str, Any]], bool] | None = None) -> LogInput:
    """Read ``kind`` (``provisioning`` or ``audit``) records from the files, in any supported format.

    Raises InputError for a file that cannot be read at all or a portal CSV download missing a file; every
    record that cannot be used is counted in ``skipped`` with its reason, never dropped silently.
    """
    if kind not in (PROVISIONING, AUDIT):
        raise InputError(f"Unknown log kind '{kind}'.", hint="Use 'provisioning' or 'audit'.")
    if not files:
        raise InputError("No log file given.", hint="Give one or more files (JSON, JSON lines or CSV).")
    paths = [Path(f).expanduser() for f in files]
    result = LogInput(kind, sources=[p.name for p in paths])
    read_records(_raw_records(paths, result.notes, result.skipped, result.formats), kind, result, flatten=flatten,
                 keep=keep)
    result.records.sort(key=lambda r: r["activityDateTime"])
    return result
