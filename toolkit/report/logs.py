"""The provisioning and audit log workbooks (``reports/provisioning.toml``, ``reports/audit.toml``) and their
CSV side outputs, from log files in any supported format or from the local archive (``toolkit.logs``)."""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter
from pathlib import Path
from typing import Any, Sequence

import pandas as pd

from ..errors import InputError
from ..logs import (AUDIT, PROVISIONING, AuditFrames, LogInput, ProvisioningFrames, flatten_audit,
                    flatten_provisioning, read_archive, read_logs)
from .csvout import write_csv
from .definitions import ReportDefinition, load_definition
from .workbook import build_workbook

__all__ = ["write_provisioning_workbook", "write_audit_workbook", "log_report", "skipped_frame", "log_summary", "log_frames"]


def skipped_frame(log: LogInput) -> pd.DataFrame:
    """One row per reason records were skipped: the reason, how many, and the first one (file, place)."""
    first: dict[str, str] = {}
    counts: Counter = Counter()
    for s in log.skipped:
        key = s.reason.split(":", 1)[0]
        counts[key] += 1
        first.setdefault(key, f"{s.source}, {s.where}: {s.reason}")
    return pd.DataFrame({"reason": list(counts), "count": list(counts.values()),
                         "example": [first[k] for k in counts]}, columns=["reason", "count", "example"])


def log_summary(log: LogInput, events: pd.DataFrame, *, source_name: str, tenant_id: str | None = None) -> dict:
    lo, hi = log.time_range()
    failures = int((events["status"] == "failure").sum()) if "status" in events else int(
        (events["result"] == "failure").sum())
    summary: dict[str, Any] = {
        "sourceName": source_name, "tenantId": tenant_id or _single(events.get("tenantId")),
        "from": lo, "to": hi, "events": int(len(events)), "failures": failures,
        "skippedRecords": len(log.skipped), "skippedByReason": log.skipped_by_reason(),
        "duplicates": log.duplicates, "formats": dict(log.formats), "notes": list(log.notes)}
    if "cycleId" in events:
        summary["cycles"] = int(events["cycleId"].nunique(dropna=True))
    if not len(events):
        summary["note"] = "No events in these files or this time range." + (
            f" {len(log.skipped)} record(s) could not be read: see 'Records skipped'." if log.skipped else "")
    elif log.notes:
        summary["note"] = " ".join(log.notes)[:1000]
    return summary


def _single(series: Any) -> str | None:
    if series is None:
        return None
    values = series.dropna().unique()
    return str(values[0]) if len(values) == 1 else None


def log_frames(log: LogInput, kind: str) -> ProvisioningFrames | AuditFrames:
    """The log's frames, oldest event first: its streamed chunks joined, or its records flattened."""
    flatten = flatten_provisioning if kind == PROVISIONING else flatten_audit
    if not log.chunks:
        return flatten(log.records)
    parts = log.chunks
    names = ("events", "steps", "changes") if kind == PROVISIONING else ("events", "targets")
    joined = {}
    for name in names:
        frame = pd.concat([getattr(p, name) for p in parts], ignore_index=True) if len(parts) > 1 \
            else getattr(parts[0], name)
        for part in parts:
            setattr(part, name, None)                  # the chunks go as soon as they are joined
        frame = frame.sort_values("activityDateTime", kind="stable", ignore_index=True)
        joined[name] = frame
    log.chunks = [ProvisioningFrames(**joined) if kind == PROVISIONING else AuditFrames(**joined)]
    return log.chunks[0]


def _definition(definition: ReportDefinition | str | os.PathLike[str]) -> ReportDefinition:
    return definition if isinstance(definition, ReportDefinition) else load_definition(definition)


def write_provisioning_workbook(path: str | os.PathLike[str], log: LogInput, *, source_name: str,
                                tenant_id: str | None = None, generated_at: dt.datetime | None = None,
                                definition: ReportDefinition | str | os.PathLike[str] = "provisioning",
                                frames: ProvisioningFrames | None = None) -> tuple[Path, dict[str, Any]]:
    """Write the provisioning workbook (Summary, Events, Failures, Steps, Modified properties); return the
    path and the summary."""
    frames = frames or log_frames(log, PROVISIONING)
    summary = log_summary(log, frames.events, source_name=source_name, tenant_id=tenant_id)
    failures = frames.events[frames.events["status"] == "failure"].reset_index(drop=True)
    out = build_workbook(_definition(definition), path,
                         frames={"events": frames.events, "failures": failures, "steps": frames.steps,
                                 "changes": frames.changes, "skipped": skipped_frame(log)},
                         values=summary, generated_at=generated_at)
    return out, summary


def write_audit_workbook(path: str | os.PathLike[str], log: LogInput, *, source_name: str,
                         tenant_id: str | None = None, generated_at: dt.datetime | None = None,
                         definition: ReportDefinition | str | os.PathLike[str] = "audit",
                         frames: AuditFrames | None = None) -> tuple[Path, dict[str, Any]]:
    """Write the audit workbook (Summary, Events, Modified properties); return the path and the summary."""
    frames = frames or log_frames(log, AUDIT)
    summary = log_summary(log, frames.events, source_name=source_name, tenant_id=tenant_id)
    out = build_workbook(_definition(definition), path,
                         frames={"events": frames.events, "targets": frames.targets, "skipped": skipped_frame(log)},
                         values=summary, generated_at=generated_at)
    return out, summary


def log_report(kind: str, out: str | os.PathLike[str], *, files: Sequence[str | os.PathLike[str]] = (),
               archive: str | os.PathLike[str] | None = None, since: dt.datetime | None = None,
               until: dt.datetime | None = None, csv_path: str | os.PathLike[str] | None = None,
               generated_at: dt.datetime | None = None) -> dict[str, Any]:
    """Read ``kind`` logs from files or an archive and write the workbook (and the events as CSV)."""
    if bool(files) == bool(archive):
        raise InputError("Give log files or --archive, not both and not neither.",
                         hint="e.g. ccsync report provisioning logs/*.json --out prov.xlsx")
    tenant_id = None
    flatten = flatten_provisioning if kind == PROVISIONING else flatten_audit
    if archive:
        log = read_archive(str(archive), kind, since, until, flatten=flatten)
        from ..logs import LogArchive
        with LogArchive(archive, create=False) as arch:
            tenant_id = arch.tenant_id
        name = f"archive {Path(archive).name}" + (f" (tenant {tenant_id})" if tenant_id else "")
    else:
        def keep(rec: dict[str, Any]) -> bool:
            when = rec["activityDateTime"]
            return (since is None or when >= since) and (until is None or when < until)
        # Records are flattened as they are read (never a million dicts in memory at once).
        log = read_logs(files, kind, flatten=flatten, keep=keep if (since or until) else None)
        name = ", ".join(Path(f).name for f in files)
        if len(name) > 120:
            name = f"{len(files)} files ({Path(files[0]).name}, ...)"
    writer = write_provisioning_workbook if kind == PROVISIONING else write_audit_workbook
    frames = log_frames(log, kind)
    path, summary = writer(out, log, source_name=name, tenant_id=tenant_id, generated_at=generated_at,
                           frames=frames)  # type: ignore[arg-type]
    result: dict[str, Any] = {"kind": kind, "report": str(path), "summary": summary,
                              "skipped": [{"source": s.source, "where": s.where, "reason": s.reason}
                                          for s in log.skipped]}
    if csv_path:
        result["csv"] = str(write_csv(frames.events, csv_path))
    return result
