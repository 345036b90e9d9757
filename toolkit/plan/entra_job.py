"""What the entra-engine planner needs from a cross-tenant sync job, read live through Graph or from saved files.

Live (source tenant, the job's own cloud), each call as Microsoft documents it (graph-facts sections 2.2-2.3, 4):

* ``GET /servicePrincipals?$filter=applicationTemplateId eq '518e5f48-...'``: the configuration's service
  principal, unless its id is given (the cross-tenant sync gallery template id, graph-facts 2.2 step E);
* ``GET /servicePrincipals/{id}/synchronization/jobs``: the job (``templateId`` ``Azure2Azure``), unless its id
  is given; ``GET .../jobs/{jobId}/schema``: the schema;
* ``GET /servicePrincipals/{id}/synchronization/secrets``: ``SyncAll`` and ``SyncNotificationSettings``;
* ``GET /servicePrincipals/{id}/appRoleAssignedTo``: the assigned groups and users;
* ``GET /auditLogs/provisioning?$filter=servicePrincipal/id eq '{id}'``: the links the job holds. Graph does not
  expose a user's ``alternativeSecurityIds`` (alternativeSecurityId is "for internal use only"), so the source ->
  target pairs come from the job's own successful actions in its provisioning logs (30 days with P1/P2).

Offline: the schema as saved from Graph or the portal's schema editor ("Download"), the assigned group names or
ids, the two behaviour settings, and optionally the provisioning logs as saved (Graph JSON or the portal's JSON
download). The live reader will delegate to ``toolkit.xts`` once that package reads jobs itself.
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

__all__ = ["JobSnapshot", "links_from_provisioning", "read_job", "offline_job", "CROSS_TENANT_SYNC_TEMPLATE",
           "BEHAVIOUR_SECRETS"]

CROSS_TENANT_SYNC_TEMPLATE = "518e5f48-1fc8-4c48-9387-9fdf28b0dfe7"
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
    links = links_from_provisioning(_read_records(provisioning_log)) if provisioning_log else None
    schema = load_schema(schema_path)
    return JobSnapshot(schema, JobState(job_id=job_id or schema.get("id"), assigned_groups=tuple(assigned_groups),
                                        secrets=settings, links=links))


def read_job(client: Any, *, service_principal_id: str | None = None, job_id: str | None = None,
             read_logs: bool = True) -> JobSnapshot:
    """Read the job's schema, scope, behaviour secrets and links through ``client`` (a GraphClient)."""
    sp = service_principal_id
    if not sp:
        found = list(client.iter_items("servicePrincipals", params={
            "$filter": f"applicationTemplateId eq '{CROSS_TENANT_SYNC_TEMPLATE}'", "$select": "id,displayName"}))
        if not found:
            raise InputError("the source tenant has no cross-tenant synchronization configuration",
                             hint="Create one with 'ccsync xts enable', or give --service-principal.")
        if len(found) > 1:
            listed = ", ".join(f"{s.get('displayName')} ({s['id']})" for s in found)
            raise InputError(f"the source tenant has several cross-tenant sync configurations: {listed}",
                             hint="Choose one with --service-principal ID.")
        sp = found[0]["id"]
    base = f"servicePrincipals/{sp}/synchronization"
    jobs = client.get(f"{base}/jobs").get("value", [])
    if job_id:
        job = next((j for j in jobs if j.get("id") == job_id), None)
        if job is None:
            raise InputError(f"the configuration {sp} has no job {job_id}",
                             hint="Jobs: " + (", ".join(j.get("id", "?") for j in jobs) or "none"))
    else:
        a2a = [j for j in jobs if j.get("templateId") == "Azure2Azure"]
        if len(a2a) != 1:
            raise InputError(f"the configuration {sp} has {len(a2a)} Azure2Azure jobs", hint="Give --job-id.")
        job = a2a[0]
    schema = client.get(f"{base}/jobs/{job['id']}/schema")
    secrets = {s.get("key"): s.get("value") for s in client.get(f"{base}/secrets").get("value", [])
               if s.get("key") in BEHAVIOUR_SECRETS}
    groups, users = [], []
    for a in client.iter_items(f"servicePrincipals/{sp}/appRoleAssignedTo"):
        (groups if a.get("principalType") == "Group" else users).append(a.get("principalId"))
    links = None
    if read_logs:
        links = links_from_provisioning(client.iter_items("auditLogs/provisioning", params={
            "$filter": f"servicePrincipal/id eq '{sp}'"}))
    return JobSnapshot(schema, JobState(job_id=job["id"], service_principal_id=sp, assigned_groups=tuple(groups),
                                        assigned_users=tuple(users), secrets=secrets, links=links))
