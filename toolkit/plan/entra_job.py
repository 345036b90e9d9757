"""What the entra-engine planner needs from a cross-tenant sync job, read live through Graph or from saved files.

Live (source tenant, the job's own cloud), through ``toolkit.xts`` (which finds the configuration and its
``Azure2Azure`` job), each call as Microsoft documents it (graph-facts sections 2.2-2.3, 4):

* ``GET .../jobs/{jobId}/schema``: the schema;
* ``GET /servicePrincipals/{id}/synchronization/secrets``: ``SyncAll`` and ``SyncNotificationSettings``;
* ``GET /servicePrincipals/{id}/appRoleAssignedTo``: the assigned groups and users;
* ``GET /auditLogs/provisioning?$filter=servicePrincipal/id eq '{id}'``: the links the job holds. Graph does not
  expose a user's ``alternativeSecurityIds`` (alternativeSecurityId is "for internal use only"), so the source ->
  target pairs come from the job's own successful actions in its provisioning logs (30 days with P1/P2).

Offline: the schema as saved from Graph or the portal's schema editor ("Download"), the assigned group names or
ids, the two behaviour settings, and optionally the provisioning logs as saved (Graph JSON or the portal's JSON
download).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from ..errors import InputError
from .entra_predict import JobState
from .entra_schema import load_schema

__all__ = ["JobSnapshot", "links_from_provisioning", "exported_from_provisioning", "read_job", "offline_job",
           "BEHAVIOUR_SECRETS"]

# Secrets that change what a cycle does (graph-facts 2.2 step H); the credentials are never kept.
BEHAVIOUR_SECRETS = ("SyncAll", "SyncNotificationSettings")
# provisioningAction values after which the job holds a link to the target user (graph-facts 4).
_LINKING = {"create", "update", "disable", "other"}


@dataclass
class JobSnapshot:
    schema: dict
    job: JobState


def links_from_provisioning(records: Iterable[dict]) -> pd.DataFrame:
    """(sourceId, targetId) pairs the job holds, from provisioningObjectSummary records.

    The latest successful action per source user wins; a successful ``delete`` ends the link (the target user is
    soft-deleted). Records of other jobs or failures are ignored.
    """
    rows = []
    for r in records:
        status = ((r.get("provisioningStatusInfo") or {}).get("status") or "").lower()
        action = (r.get("provisioningAction") or "").lower()
        sid = (r.get("sourceIdentity") or {}).get("id")
        tid = (r.get("targetIdentity") or {}).get("id")
        if status != "success" or not sid or not tid or action not in _LINKING | {"delete"}:
            continue
        rows.append((r.get("activityDateTime") or "", sid, tid, action))
    if not rows:
        return pd.DataFrame(columns=["sourceId", "targetId"])
    frame = pd.DataFrame(rows, columns=["at", "sourceId", "targetId", "action"]).sort_values("at", kind="mergesort")
    last = frame.drop_duplicates("sourceId", keep="last")
    return last.loc[last["action"] != "delete", ["sourceId", "targetId"]].reset_index(drop=True)


def exported_from_provisioning(records: Iterable[dict]) -> pd.DataFrame:
    """(sourceId, attribute, value): the last value the job wrote per user and attribute (``modifiedProperties``
    of its successful create, update and disable records, oldest first)."""
    rows = []
    for r in records:
        status = ((r.get("provisioningStatusInfo") or {}).get("status") or "").lower()
        action = (r.get("provisioningAction") or "").lower()
        sid = (r.get("sourceIdentity") or {}).get("id")
        if status != "success" or not sid or action not in ("create", "update", "disable"):
            continue
        for m in r.get("modifiedProperties") or []:
            rows.append((r.get("activityDateTime") or "", sid, m.get("displayName"), m.get("newValue")))
    frame = pd.DataFrame(rows, columns=["at", "sourceId", "attribute", "value"]).sort_values("at", kind="mergesort")
    return frame.drop_duplicates(["sourceId", "attribute"], keep="last")[["sourceId", "attribute", "value"]] \
        .reset_index(drop=True)


def _read_records(path: str | Path) -> list[dict]:
    """Graph JSON (``{"value": [...]}``), a bare array, or JSON lines."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"cannot read the provisioning logs: {exc.strerror}", source=str(p)) from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        try:
            return [json.loads(line) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError as exc:
            raise InputError("the provisioning logs are neither JSON nor JSON lines", source=str(p),
                             hint="Save them from Graph (GET /auditLogs/provisioning) or the portal's JSON "
                                  "download.") from exc
    return data.get("value", []) if isinstance(data, dict) else list(data)


def offline_job(schema_path: str | Path, *, assigned_groups: Iterable[str] = (), sync_all: bool = False,
                deletion_threshold: int | None = None, provisioning_log: str | Path | None = None,
                job_id: str | None = None) -> JobSnapshot:
    settings = {"SyncAll": "true" if sync_all else "false"}
    if deletion_threshold is not None:
        settings["SyncNotificationSettings"] = json.dumps({"DeleteThresholdEnabled": True,
                                                           "DeleteThresholdValue": deletion_threshold})
    records = _read_records(provisioning_log) if provisioning_log else None
    links = links_from_provisioning(records) if records is not None else None
    exported = exported_from_provisioning(records) if records is not None else None
    schema = load_schema(schema_path)
    return JobSnapshot(schema, JobState(job_id=job_id or schema.get("id"), assigned_groups=tuple(assigned_groups),
                                        secrets=settings, links=links, exported=exported))


def read_job(side: Any, *, job_id: str | None = None, name: str | None = None,
             read_logs: bool = True) -> JobSnapshot:
    """Read the job's schema, scope, behaviour secrets and links through the xts client.

    ``side`` is a ``toolkit.xts.calls.TenantSide`` for the source tenant; ``job_id`` / ``name`` (configuration
    display name) choose the job when the tenant has several.
    """
    from toolkit.xts.app import read_assignments
    from toolkit.xts.control import locate_one
    from toolkit.xts.job import job_path, read_secrets

    target = locate_one(side, job_id=job_id, name=name)
    sp = target.sp_id
    schema = side.read(job_path(sp, target.job_id, "schema"), step="source.schema",
                       permission="Synchronization.Read.All")
    secrets = {k: v for k, v in (read_secrets(side, sp) or {}).items() if k in BEHAVIOUR_SECRETS}
    groups, users = [], []
    for a in read_assignments(side, sp):
        (groups if a.get("principalType") == "Group" else users).append(a.get("principalId"))
    links = exported = None
    if read_logs:
        records = side.read_all("/auditLogs/provisioning", step="source.provisioningLogs",
                                permission="AuditLog.Read.All", params={"$filter": f"servicePrincipal/id eq '{sp}'"})
        links, exported = links_from_provisioning(records), exported_from_provisioning(records)
    return JobSnapshot(schema, JobState(job_id=target.job_id, service_principal_id=sp,
                                        assigned_groups=tuple(groups), assigned_users=tuple(users),
                                        secrets=secrets, links=links, exported=exported))
