"""The sync job of a configuration: credentials check, job, secrets, schema, start/pause/restart, on demand.

Documented calls (docs/xts.md; graph-facts 2.2, 2.3), all under ``/servicePrincipals/{id}/synchronization``:
``POST jobs/validateCredentials`` -> 204; ``POST jobs {"templateId": "Azure2Azure"}`` -> 201 (created
disabled); ``PUT secrets {"value": [...]}`` -> 204; ``GET jobs/{jobId}/schema``; ``POST jobs/{jobId}/start``,
``/pause`` -> 204; ``POST jobs/{jobId}/restart {"criteria": {"resetScope"}}`` -> 204;
``POST jobs/{jobId}/provisionOnDemand`` -> 200 (5 requests per 10 s: the Graph client's pacer holds to it);
``DELETE jobs/{jobId}`` -> 204.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from toolkit.errors import GraphError, InputError

from .calls import Call, TenantSide
from .steps import JOB_TEMPLATE_ID, RESET_SCOPES

__all__ = ["SYNC_PERMISSION", "find_jobs", "plan_validate", "plan_create_job", "secrets_body", "read_secrets",
           "plan_secrets", "job_path", "control_call", "restart_call", "user_rule_id", "provision_on_demand",
           "ProvisionResult", "parse_on_demand", "provision_frame", "PROVISION_COLUMNS"]

SYNC_PERMISSION = "Synchronization.ReadWrite.All"


def job_path(sp_id: str, job_id: str, action: str = "") -> str:
    return f"/servicePrincipals/{sp_id}/synchronization/jobs/{job_id}" + (f"/{action}" if action else "")


def find_jobs(side: TenantSide, sp_id: str, step: str = "source.job") -> list[dict[str, Any]]:
    """The configuration's Azure2Azure jobs."""
    jobs = side.read_all(f"/servicePrincipals/{sp_id}/synchronization/jobs", step=step,
                         permission="Synchronization.Read.All")
    return [j for j in jobs if j.get("templateId") == JOB_TEMPLATE_ID]


def plan_validate(side: TenantSide, target_tenant_id: str) -> Call:
    # The how-to calls validateCredentials on /jobs before a job exists, with templateId ([CTS-GRAPH] step 7).
    return Call(side.role, "source.testConnection", "POST",
                "/servicePrincipals/{servicePrincipalId}/synchronization/jobs/validateCredentials",
                {"useSavedCredentials": False, "templateId": JOB_TEMPLATE_ID,
                 "credentials": [{"key": "CompanyId", "value": target_tenant_id},
                                 {"key": "AuthenticationType", "value": "SyncPolicy"}]},
                "test connection with the target tenant", write=False, permission=SYNC_PERMISSION)


def plan_create_job(side: TenantSide) -> Call:
    return Call(side.role, "source.job", "POST", "/servicePrincipals/{servicePrincipalId}/synchronization/jobs",
                {"templateId": JOB_TEMPLATE_ID}, "create the provisioning job", permission=SYNC_PERMISSION)


def notification_settings(threshold: int, notify_email: str | None) -> dict[str, Any]:
    # SyncNotificationSettings keys: Enabled (quarantine e-mails), Recipients, DeleteThresholdEnabled,
    # DeleteThresholdValue (entra-docs docs/identity/hybrid/cloud-sync/how-to-inbound-synch-ms-graph.md,
    # "Accidental deletes"), HumanResourcesLookaheadQueryEnabled from the cross-tenant how-to's example.
    out: dict[str, Any] = {"Enabled": bool(notify_email)}
    if notify_email:
        out["Recipients"] = notify_email
    out.update({"DeleteThresholdEnabled": threshold > 0, "HumanResourcesLookaheadQueryEnabled": False})
    if threshold > 0:
        out["DeleteThresholdValue"] = threshold
    return out


def secrets_body(target_tenant_id: str, threshold: int, notify_email: str | None) -> dict[str, Any]:
    """The documented secrets: target tenant, SyncPolicy auth, notifications/threshold, assigned users only."""
    return {"value": [
        {"key": "AuthenticationType", "value": "SyncPolicy"},
        {"key": "CompanyId", "value": target_tenant_id},
        {"key": "SyncNotificationSettings",
         "value": json.dumps(notification_settings(threshold, notify_email), separators=(",", ":"))},
        {"key": "SyncAll", "value": "false"},
    ]}


def read_secrets(side: TenantSide, sp_id: str) -> dict[str, Any] | None:
    """The saved secrets as {key: value}, or None when Graph does not show them.

    ``GET .../synchronization/secrets`` is documented in the cloud-sync Graph how-to (entra-docs
    docs/identity/hybrid/cloud-sync/how-to-inbound-synch-ms-graph.md: "PUT replaces all values, read them
    first"), not on a v1.0 reference page; a tenant that does not answer it is treated as "not shown".
    """
    try:
        body = side.read(f"/servicePrincipals/{sp_id}/synchronization/secrets", step="source.secrets",
                         permission=SYNC_PERMISSION)
    except GraphError as err:
        if err.status in (400, 404, 405, 501):
            return None
        raise
    items = body.get("value") if isinstance(body, dict) else body
    if not isinstance(items, list):
        return None
    return {i.get("key"): i.get("value") for i in items if isinstance(i, dict)}


def _same_secret(key: str, current: Any, wanted: Any) -> bool:
    if key == "SyncNotificationSettings":
        # An absent flag is off: {"Enabled": false} and {} mean the same settings.
        def meaningful(text: Any) -> dict[str, Any]:
            value = json.loads(text or "{}")
            return {k: v for k, v in value.items() if v not in (False, None, "")} if isinstance(value, dict) else {}
        try:
            return meaningful(current) == meaningful(wanted)
        except (TypeError, ValueError):
            return False
    return str(current).lower() == str(wanted).lower()


def plan_secrets(side: TenantSide, current: dict[str, Any] | None, wanted: dict[str, Any],
                 job_is_new: bool) -> tuple[list[Call], bool]:
    """(calls, unverifiable): PUT when a value differs; when Graph does not show them, only for a new job."""
    call = Call(side.role, "source.secrets", "PUT", "/servicePrincipals/{servicePrincipalId}/synchronization/secrets",
                wanted, "save credentials, scope (assigned users only), notification and deletion threshold",
                permission=SYNC_PERMISSION)
    if current is None:
        return ([call], False) if job_is_new else ([], True)
    for item in wanted["value"]:
        if not _same_secret(item["key"], current.get(item["key"]), item["value"]):
            return [call], False
    return [], False


def control_call(side: TenantSide, sp_id: str, job_id: str, action: str) -> Call:
    """start / pause (POST, no body, 204)."""
    return Call(side.role, f"source.{action}", "POST", job_path(sp_id, job_id, action), None, f"{action} the job",
                permission=SYNC_PERMISSION)


def restart_call(side: TenantSide, sp_id: str, job_id: str, *, force_deletes: bool = False,
                 full: bool = False) -> Call:
    # "To allow these deletes to flow through after the job goes into quarantine, you need to issue a restart
    # with just ForceDeletes as the scope" (cloud-sync Graph how-to, "Allowing deletes").
    if force_deletes and full:
        raise InputError("--force-deletes and --full cannot be combined: ForceDeletes must be the only scope.",
                         hint="Run 'restart --force-deletes' first, then 'restart --full' if still needed.")
    scope = RESET_SCOPES["force-deletes"] if force_deletes else RESET_SCOPES["full"] if full else RESET_SCOPES["default"]
    return Call(side.role, "source.restart", "POST", job_path(sp_id, job_id, "restart"),
                {"criteria": {"resetScope": scope}}, f"restart the job (resetScope {scope})",
                permission=SYNC_PERMISSION)


def user_rule_id(side: TenantSide, sp_id: str, job_id: str) -> str:
    """The id of the schema's user rule (USER_INBOUND_USER, or the rule that supports on-demand provisioning)."""
    schema = side.read(job_path(sp_id, job_id, "schema"), step="source.provision",
                       permission="Synchronization.Read.All") or {}
    rules = schema.get("synchronizationRules") or []
    for rule in rules:
        if rule.get("name") == "USER_INBOUND_USER":
            return rule["id"]
    for rule in rules:
        meta = {m.get("key"): m.get("value") for m in rule.get("metadata") or []}
        if str(meta.get("supportsProvisionOnDemand", "")).lower() == "true":
            return rule["id"]
    raise InputError(f"the job {job_id} has no user rule in its schema that supports on-demand provisioning.",
                     hint="Check the job's schema in the portal (Provisioning > Mappings).")


PROVISION_COLUMNS = ["user", "userId", "step", "type", "status", "description", "result", "errorCode"]


@dataclass
class ProvisionResult:
    """The outcome of provisioning one user on demand: each step's status, and the overall result."""

    user: str
    user_id: str
    result: str
    steps: list[dict[str, Any]] = field(default_factory=list)
    error_code: str | None = None
    message: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"user": self.user, "userId": self.user_id, "result": self.result, "errorCode": self.error_code,
                "message": self.message, "steps": self.steps}


def _loads(text: Any) -> Any:
    if isinstance(text, str):
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def parse_on_demand(body: dict[str, Any]) -> tuple[str, list[dict[str, Any]], str | None]:
    """(result, steps, error code) from provisionOnDemand's stringKeyStringValuePair.

    In cross-tenant sync ``value`` is a JSON string (a list of objects with ``provisioningSteps``); in the API
    reference example ``key`` is also JSON (``{"result", "details"}``) and ``value`` has ``statusInfo``.
    """
    key, value = _loads(body.get("key")), _loads(body.get("value"))
    items = value if isinstance(value, list) else [value] if isinstance(value, dict) else []
    steps: list[dict[str, Any]] = []
    error_code = None
    result = None
    for item in items:
        for s in item.get("provisioningSteps") or []:
            steps.append({"name": s.get("name"), "type": s.get("provisioningStepType") or s.get("type"),
                          "status": s.get("status"), "description": s.get("description")})
        status_info = item.get("statusInfo") or {}
        error_code = error_code or status_info.get("errorCode")
        result = result or status_info.get("status")
    if isinstance(key, dict):
        result = key.get("result") or result
        error_code = error_code or (key.get("details") or {}).get("errorCode")
    if result is None:
        failed = [s for s in steps if str(s.get("status")).lower() in ("failure", "failed")]
        result = "Failure" if failed else "Success" if steps else "Unknown"
    return str(result), steps, error_code


def provision_on_demand(side: TenantSide, sp_id: str, job_id: str, users: list[str]) -> list[ProvisionResult]:
    """Provision each user (UPN or object id) now; the client's pacer keeps to 5 requests per 10 s."""
    rule_id = user_rule_id(side, sp_id, job_id)
    out: list[ProvisionResult] = []
    for user in users:
        found = side.read_or_none(f"/users/{user}", step="source.provision", permission="User.Read.All",
                                  params={"$select": "id,userPrincipalName"})
        if found is None:
            out.append(ProvisionResult(user, "", "NotFound", message=f"no user {user} in the source tenant"))
            continue
        call = Call(side.role, "source.provision", "POST", job_path(sp_id, job_id, "provisionOnDemand"),
                    {"parameters": [{"ruleId": rule_id, "subjects": [{"objectId": found["id"],
                                                                      "objectTypeName": "User"}]}]},
                    f"provision {found.get('userPrincipalName') or user} on demand", permission=SYNC_PERMISSION)
        try:
            body = side.send(call) or {}
        except GraphError as err:
            out.append(ProvisionResult(user, found["id"], "Failure", error_code=err.code, message=err.graph_message))
            continue
        result, steps, code = parse_on_demand(body)
        out.append(ProvisionResult(user, found["id"], result, steps, code))
    return out


def provision_frame(results: list[ProvisionResult]) -> Any:
    """One row per user and step (``PROVISION_COLUMNS``); a user without steps gets one row."""
    import pandas as pd

    rows = []
    for r in results:
        for s in r.steps or [{}]:
            rows.append({"user": r.user, "userId": r.user_id, "step": s.get("name"), "type": s.get("type"),
                         "status": s.get("status"), "description": s.get("description") or r.message,
                         "result": r.result, "errorCode": r.error_code})
    return pd.DataFrame(rows, columns=PROVISION_COLUMNS)
