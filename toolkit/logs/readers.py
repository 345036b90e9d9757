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
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from ..errors import InputError
from .records import AUDIT, PROVISIONING, canonical_audit, canonical_provisioning, record_kind
from .timestamps import parse_timestamp

__all__ = ["Skipped", "LogInput", "read_logs", "read_records", "PORTAL_CSV_PARTS"]

PORTAL_CSV_PARTS = ("ProvisioningLogs", "ProvisioningLogs_ProvisioningSteps", "ProvisioningLogs_ModifiedProperties")
_SUFFIX_STEPS, _SUFFIX_MODS = "_provisioningsteps", "_modifiedproperties"


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


# --- bytes -> text ------------------------------------------------------------------------------------------

def _decode(data: bytes, name: str, notes: list[str]) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        # The portal's CSV has no BOM; a file re-saved by Excel on Windows is often Windows-1252.
        notes.append(f"{name}: not UTF-8; read as Windows-1252.")
        return data.decode("cp1252", errors="replace")


# --- JSON ---------------------------------------------------------------------------------------------------

_WS = re.compile(r"\s*")


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _salvage_array(text: str, start: int, decoder: json.JSONDecoder) -> tuple[list[Any], int]:
    """Elements of the JSON array opening at ``start`` one by one: (complete elements, where reading stopped)."""
    items: list[Any] = []
    pos = _WS.match(text, start + 1).end()
    while pos < len(text):
        if text[pos] == "]":
            return items, pos + 1
        try:
            item, end = decoder.raw_decode(text, pos)
        except ValueError:
            return items, pos
        items.append(item)
        pos = _WS.match(text, end).end()
        if pos < len(text) and text[pos] == ",":
            pos = _WS.match(text, pos + 1).end()
    return items, pos


def _json_documents(text: str, name: str, skipped: list[Skipped]) -> Iterator[Any]:
    """Every top-level JSON value in the text: one document, JSON lines, or pages one after another.

    A document that breaks off (a truncated download) gives its complete records, and the rest is reported."""
    decoder = json.JSONDecoder()
    pos = _WS.match(text).end()
    while pos < len(text):
        try:
            doc, end = decoder.raw_decode(text, pos)
        except ValueError as exc:
            # A Graph page or array cut short: take the records before the break.
            head = text[pos:pos + 4096]
            m = re.search(r'"value"\s*:\s*\[', head) if head.startswith("{") else None
            arr = pos + m.end() - 1 if m else (pos if head.startswith("[") else None)
            if arr is not None:
                items, stop = _salvage_array(text, arr, decoder)
                if items:
                    yield from items
                    skipped.append(Skipped(name, f"line {_line_of(text, stop)}",
                                           f"truncated JSON: the file breaks off after {len(items)} complete "
                                           f"record(s) ({exc.msg})"))
                    return
            # JSON lines: skip to the next line and go on.
            nl = text.find("\n", pos)
            skipped.append(Skipped(name, f"line {_line_of(text, pos)}", f"malformed JSON: {exc.msg}"))
            if nl < 0:
                return
            pos = _WS.match(text, nl + 1).end()
            continue
        yield doc
        pos = _WS.match(text, end).end()
        if pos < len(text) and text[pos] == ",":            # "[...],\n" or "{...},\n" lines
            pos = _WS.match(text, pos + 1).end()


def _records_of(doc: Any) -> Iterator[Any]:
    """Records inside one JSON document: a page's value, an array, a diagnostic file's records, or one record."""
    if isinstance(doc, list):
        for item in doc:
            yield from _records_of(item) if isinstance(item, list) else [item]
        return
    if isinstance(doc, Mapping):
        for key in ("value", "records", "Value", "Records"):
            if isinstance(doc.get(key), list):
                yield from doc[key]
                return
        if "tables" in doc and isinstance(doc["tables"], list):      # Log Analytics query API answer
            for table in doc["tables"]:
                cols = [c.get("name") for c in table.get("columns", [])]
                for row in table.get("rows", []):
                    yield dict(zip(cols, row))
            return
        if set(doc) <= {"@odata.context", "@odata.nextLink", "@odata.deltaLink", "@microsoft.graph.tips"}:
            return                                                 # an empty page
    yield doc


# --- CSV ----------------------------------------------------------------------------------------------------

def _norm_header(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _csv_rows(text: str, name: str) -> tuple[list[dict[str, str]], str]:
    sample = text[:16384]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
        delim = dialect.delimiter
    except csv.Error:
        delim = ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delim)
    rows = [dict(r) for r in reader]
    return rows, delim


# The portal's CSV headers are not documented; these are matched ignoring case, spaces and punctuation.
_PORTAL_MAIN = {
    "id": "id", "activityid": "id", "date": "activityDateTime", "dateutc": "activityDateTime",
    "activitydatetime": "activityDateTime", "datetime": "activityDateTime", "tenantid": "tenantId",
    "jobid": "jobId", "cycleid": "cycleId", "changeid": "changeId", "action": "provisioningAction",
    "provisioningaction": "provisioningAction", "status": "status", "provisioningstatus": "status",
    "durationms": "durationInMilliseconds", "durationinmilliseconds": "durationInMilliseconds",
    "duration": "durationInMilliseconds", "errorcode": "errorCode", "statusreason": "reason",
    "errorreason": "reason", "reason": "reason", "recommendedaction": "recommendedAction",
    "errorcategory": "errorCategory", "additionaldetails": "additionalDetails",
    "initiatedby": "initiatedBy", "initiatedbyname": "initiatedBy",
    "sourcesystem": "sourceSystem", "sourcesystemname": "sourceSystem",
    "targetsystem": "targetSystem", "targetsystemname": "targetSystem",
    "serviceprincipalid": "servicePrincipalId", "serviceprincipalname": "servicePrincipalName",
    "application": "servicePrincipalName", "applicationname": "servicePrincipalName",
    "identitytype": "identityType", "sourceidentityid": "sourceId", "sourceid": "sourceId",
    "sourceidentityname": "sourceName", "sourceidentitydisplayname": "sourceName", "sourcename": "sourceName",
    "sourcedisplayname": "sourceName", "targetidentityid": "targetId", "targetid": "targetId",
    "targetidentityname": "targetName", "targetidentitydisplayname": "targetName", "targetname": "targetName",
    "targetdisplayname": "targetName", "sourceidentitytype": "sourceType", "targetidentitytype": "targetType",
}
_PORTAL_STEP = {"changeid": "changeId", "stepname": "name", "name": "name", "steptype": "provisioningStepType",
                "provisioningsteptype": "provisioningStepType", "type": "provisioningStepType", "status": "status",
                "stepstatus": "status", "description": "description", "details": "details", "id": "id",
                "stepnumber": "order", "order": "order", "index": "order"}
_PORTAL_MOD = {"changeid": "changeId", "displayname": "displayName", "name": "displayName",
               "propertyname": "displayName", "attributename": "displayName", "attribute": "displayName",
               "property": "displayName", "oldvalue": "oldValue", "newvalue": "newValue", "id": "id"}


def _mapped(row: Mapping[str, str], table: Mapping[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in row.items():
        if k is None:
            continue
        name = table.get(_norm_header(k))
        if name and (v or "").strip() and name not in out:
            out[name] = v.strip()
    return out


def _portal_part(path: Path) -> str:
    stem = path.stem.lower()
    if stem.endswith(_SUFFIX_STEPS) or "provisioningsteps" in stem.replace("_", ""):
        return "steps"
    if stem.endswith(_SUFFIX_MODS) or "modifiedproperties" in stem.replace("_", ""):
        return "mods"
    return "main"


def _is_portal_csv(rows: list[dict[str, str]]) -> bool:
    heads = {_norm_header(k) for k in (rows[0] if rows else {}) if k}
    return "changeid" in heads and not ({"timegenerated", "provisioningsteps"} & heads)


def _portal_records(main: list[dict[str, str]], steps: list[dict[str, str]],
                    mods: list[dict[str, str]]) -> list[dict[str, Any]]:
    by_change_steps: dict[str, list[dict[str, Any]]] = {}
    for r in steps:
        m = _mapped(r, _PORTAL_STEP)
        details = m.get("details")
        by_change_steps.setdefault(m.get("changeId", ""), []).append(
            {"name": m.get("name"), "provisioningStepType": m.get("provisioningStepType"),
             "status": m.get("status"), "description": m.get("description"),
             "details": _maybe_json_text(details)})
    by_change_mods: dict[str, list[dict[str, Any]]] = {}
    for r in mods:
        m = _mapped(r, _PORTAL_MOD)
        by_change_mods.setdefault(m.get("changeId", ""), []).append(
            {"displayName": m.get("displayName"), "oldValue": m.get("oldValue"), "newValue": m.get("newValue")})
    out = []
    for r in main:
        m = _mapped(r, _PORTAL_MAIN)
        change = m.get("changeId", "")
        err = {k: m[k] for k in ("errorCode", "reason", "recommendedAction", "errorCategory", "additionalDetails")
               if m.get(k)}
        rec: dict[str, Any] = {
            "id": m.get("id") or None, "activityDateTime": m.get("activityDateTime"), "tenantId": m.get("tenantId"),
            "jobId": m.get("jobId"), "cycleId": m.get("cycleId"), "changeId": change or None,
            "provisioningAction": m.get("provisioningAction"),
            "durationInMilliseconds": _int_or_none(m.get("durationInMilliseconds")),
            "provisioningStatusInfo": {"status": m.get("status"), "errorInformation": err or None},
            "initiatedBy": {"displayName": m.get("initiatedBy")} if m.get("initiatedBy") else None,
            "servicePrincipal": {"id": m.get("servicePrincipalId"), "displayName": m.get("servicePrincipalName")},
            "sourceSystem": {"displayName": m.get("sourceSystem")}, "targetSystem": {"displayName": m.get("targetSystem")},
            "sourceIdentity": {"id": m.get("sourceId"), "displayName": m.get("sourceName"),
                               "identityType": m.get("sourceType") or m.get("identityType")},
            "targetIdentity": {"id": m.get("targetId"), "displayName": m.get("targetName"),
                               "identityType": m.get("targetType") or m.get("identityType")},
            "provisioningSteps": by_change_steps.get(change, []), "modifiedProperties": by_change_mods.get(change, [])}
        out.append(rec)
    return out


def _maybe_json_text(text: str | None) -> Any:
    if text and text.strip()[:1] == "{":
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def _int_or_none(text: Any) -> int | None:
    try:
        return int(float(str(text).replace(",", ""))) if text not in (None, "") else None
    except ValueError:
        return None


# --- one file -----------------------------------------------------------------------------------------------

def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError("This log file does not exist.", source=str(path),
                         hint="Check the path; give each file of the download.") from None
    except IsADirectoryError:
        raise InputError("This path is a folder, not a log file.", source=str(path),
                         hint="Give the files inside it (e.g. folder/*.json).") from None
    except OSError as exc:
        raise InputError(f"Cannot read this log file: {exc.strerror}.", source=str(path)) from exc


def _raw_records(paths: Sequence[Path], notes: list[str], skipped: list[Skipped],
                 formats: Counter) -> Iterator[tuple[str, str, Any]]:
    """(file name, where, raw record) for every record in the files."""
    portal: dict[str, dict[str, Path]] = {}
    for path in paths:
        if _is_json_lines(path):
            # One record per line (Graph exports, Azure Monitor storage blobs): read line by line, so a file of
            # any size never sits in memory whole.
            formats["json"] += 1
            yield from _json_lines(path, skipped)
            continue
        data = _read_bytes(path)
        text = _decode(data, path.name, notes)
        stripped = text.lstrip()
        if not stripped:
            notes.append(f"{path.name}: empty file.")
            continue
        if stripped[0] in "[{":
            formats["json"] += 1
            for i, doc in enumerate(_json_documents(text, path.name, skipped), 1):
                for j, raw in enumerate(_records_of(doc), 1):
                    yield path.name, f"record {j} of document {i}" if i > 1 else f"record {j}", raw
            continue
        rows, delim = _csv_rows(text, path.name)
        if rows and _is_portal_csv(rows):
            portal.setdefault(str(path.parent / _portal_base(path)), {})[_portal_part(path)] = path
            continue
        formats["csv"] += 1
        if delim != ",":
            notes.append(f"{path.name}: CSV delimited by {delim!r}.")
        for i, row in enumerate(rows, 2):
            yield path.name, f"line {i}", {k: v for k, v in row.items() if k is not None}
    for base, parts in portal.items():
        formats["portal-csv"] += 1
        main = parts.get("main")
        if main is None:
            raise InputError(f"The portal's CSV download has three files; the main one ({Path(base).name}.csv) "
                             "was not given.", source=str(next(iter(parts.values()))),
                             hint="Give ProvisioningLogs*.csv together with its _ProvisioningSteps and "
                                  "_ModifiedProperties files.")
        loaded = {}
        for part, suffix in (("steps", "_ProvisioningSteps"), ("mods", "_ModifiedProperties")):
            path = parts.get(part) or _sibling(main, suffix)
            if path is None:
                raise InputError(f"The portal's CSV download has three files; {_expected(main, suffix)} is "
                                 f"missing (looked beside {main.name}).", source=str(main),
                                 hint="Download the provisioning logs as CSV again and keep all three files "
                                      "together, or give the missing file on the command line.")
            loaded[part] = _csv_rows(_decode(_read_bytes(path), path.name, notes), path.name)[0]
        main_rows = _csv_rows(_decode(_read_bytes(main), main.name, notes), main.name)[0]
        for i, rec in enumerate(_portal_records(main_rows, loaded["steps"], loaded["mods"]), 2):
            yield main.name, f"line {i}", rec


def _is_json_lines(path: Path) -> bool:
    """UTF-8 text whose first line is one complete JSON object and whose next line starts another."""
    try:
        with open(path, "rb") as fh:
            first = fh.readline(1 << 24)
            second = fh.readline(1 << 24)
    except OSError:
        return False                                   # _read_bytes reports it properly
    if first.startswith(b"\xef\xbb\xbf"):
        first = first[3:]
    if not first.strip().startswith(b"{") or not second.strip().startswith(b"{"):
        return False
    try:
        return isinstance(json.loads(first), dict)
    except ValueError:
        return False


def _json_lines(path: Path, skipped: list[Skipped]) -> Iterator[tuple[str, str, Any]]:
    with open(path, "r", encoding="utf-8-sig", errors="replace", newline=None) as fh:
        for n, line in enumerate(fh, 1):
            text = line.strip().rstrip(",")
            if not text:
                continue
            try:
                doc = json.loads(text)
            except ValueError as exc:
                msg = getattr(exc, "msg", str(exc))
                skipped.append(Skipped(path.name, f"line {n}", f"malformed JSON: {msg}"))
                continue
            for j, raw in enumerate(_records_of(doc), 1):
                yield path.name, f"line {n}" if j == 1 else f"line {n}, record {j}", raw


def _portal_base(path: Path) -> str:
    stem = path.stem
    low = stem.lower()
    for suffix in (_SUFFIX_STEPS, _SUFFIX_MODS):
        if suffix in low:
            i = low.index(suffix)
            return stem[:i] + stem[i + len(suffix):]
    return stem


def _expected(main: Path, suffix: str) -> str:
    """The name the portal gives the other part: ProvisioningLogs<suffix><rest of the main file's name>."""
    stem, i = main.stem, main.stem.lower().find("provisioninglogs")
    if i < 0:
        return f"{stem}{suffix}{main.suffix}"
    cut = i + len("provisioninglogs")
    return f"{stem[:cut]}{suffix}{stem[cut:]}{main.suffix}"


def _sibling(main: Path, suffix: str) -> Path | None:
    stem = main.stem
    low = stem.lower()
    # "ProvisioningLogs_2026-01-02.csv" -> "ProvisioningLogs_ProvisioningSteps_2026-01-02.csv" (and plain names)
    i = low.find("provisioninglogs")
    candidates = [main.with_name(f"{stem}{suffix}{main.suffix}")]
    if i >= 0:
        cut = i + len("provisioninglogs")
        candidates.insert(0, main.with_name(f"{stem[:cut]}{suffix}{stem[cut:]}{main.suffix}"))
    for c in candidates:
        if c.is_file():
            return c
    wanted = suffix.lower()
    for c in main.parent.glob(f"*{main.suffix}"):
        if wanted in c.stem.lower() and _portal_base(c).lower() == low:
            return c
    return None


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
