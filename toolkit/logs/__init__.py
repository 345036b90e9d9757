"""Provisioning and audit logs: fetching them within Graph's limits, keeping them past retention, reading
every export format, and the error catalog for cross-tenant sync.

- ``fetch_logs(client, archive, FetchOptions(...))`` -> ``FetchResult`` (``fetch.py``)
- ``LogArchive(path, tenant_id=...)``: the SQLite archive (``archive.py``)
- ``read_logs(files, "provisioning"|"audit")`` -> ``LogInput`` (records, skipped with reasons) (``readers.py``)
- ``flatten_provisioning(records)`` / ``flatten_audit(records)`` -> frames of ``toolkit.frames`` (``flatten.py``)
- ``advice_for(code)``: explanation and action for an error code in either spelling (``catalog.py``)
- ``parse_timestamp(text)``: every timestamp shape the exports use (``timestamps.py``)
"""

from .archive import LogArchive
from .catalog import CATALOG, ErrorAdvice, advice_for, normalize_code
from .fetch import FetchOptions, FetchResult, default_archive_path, fetch_for_profile, fetch_logs
from .flatten import AuditFrames, ProvisioningFrames, flatten_audit, flatten_provisioning
from .readers import LogInput, Skipped, read_logs
from .records import AUDIT, PROVISIONING
from .timestamps import parse_timestamp

__all__ = ["LogArchive", "CATALOG", "ErrorAdvice", "advice_for", "normalize_code", "FetchOptions", "FetchResult",
           "fetch_logs", "fetch_for_profile", "default_archive_path", "AuditFrames", "ProvisioningFrames", "flatten_audit", "flatten_provisioning", "LogInput",
           "Skipped", "read_logs", "AUDIT", "PROVISIONING", "parse_timestamp", "read_archive"]


def read_archive(path: str, kind: str, since=None, until=None, *, flatten=None) -> LogInput:
    """The archive's records of ``kind`` as a ``LogInput`` (same shape as ``read_logs``, streaming with
    ``flatten``)."""
    from .readers import read_records

    with LogArchive(path, create=False) as archive:
        raws = ((archive.path.name, f"record {r.get('id')}", r) for r in archive.records(kind, since, until))
        result = read_records(raws, kind, LogInput(kind, sources=[archive.path.name]), flatten=flatten)
    result.records.sort(key=lambda r: r["activityDateTime"])
    return result
