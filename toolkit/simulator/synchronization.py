"""Graph routes for ``/servicePrincipals/{id}/synchronization``: jobs (list, create, get, delete, start, pause,
restart, validateCredentials, provisionOnDemand, schema) and secrets.

State lives in ``enterprise_apps.py``; cycles and connection checks in ``syncengine.py``. Rules and sources:
docs/entra-sync-simulator.md ("Synchronization jobs").
"""

from __future__ import annotations

import copy
import json
import time
import uuid
from typing import Any

from . import syncengine
from .enterprise_apps import SyncJob
from .graph_api import GraphRequest, GraphResult, GraphService, RouteTable
from .odata import GraphFault, bad_request, not_found
from .syncschema import SchemaError, check_schema, default_schema, user_rule

# Permissions (synchronization-* pages): reads need Synchronization.Read.All or more; writes
# Synchronization.ReadWrite.All or (application) Application.ReadWrite.OwnedBy.
ROUTES = RouteTable(permissions={
    "sync.read": frozenset({"Synchronization.Read.All", "Synchronization.ReadWrite.All",
                            "Application.ReadWrite.OwnedBy"}),
    "sync.write": frozenset({"Synchronization.ReadWrite.All", "Application.ReadWrite.OwnedBy"}),
})
route = ROUTES.route        # @route adds to this module's table only; toolkit.simulator.registry reads it

_SP = r"/servicePrincipals/(?P<sp_id>[^/]+)/synchronization"
_JOB = _SP + r"/jobs/(?P<job_id>[^/]+)"
TEMPLATE_ID = "Azure2Azure"       # the cross-tenant sync job template ([CTS-GRAPH] step 8)
RESET_SCOPES = {"None", "ConnectorDataStore", "Escrows", "Watermark", "QuarantineState", "Full", "ForceDeletes"}
STATUS_INFO_KEY = "Microsoft.Identity.Health.CPP.Common.DataContracts.SyncFabric.StatusInfo"
# provisionOnDemand's limit (5 requests per 10 seconds) is enforced with the other documented quotas in
# throttling.py, before the request reaches these routes.


def _sp(req: GraphRequest, sp_id: str) -> dict[str, Any]:
    sp = req.tenant.enterprise_apps.service_principal(sp_id)
    if sp is None:
        raise not_found(sp_id)
    return sp


def _job(req: GraphRequest, sp_id: str, job_id: str) -> tuple[dict[str, Any], SyncJob]:
    sp = _sp(req, sp_id)
    job = req.tenant.enterprise_apps.jobs.get(sp["id"], {}).get(job_id)
    if job is None:
        raise not_found(job_id)
    return sp, job


def _body(req: GraphRequest, required: bool = True) -> dict[str, Any]:
    if req.body is None and not required:
        return {}
    if not isinstance(req.body, dict):
        raise bad_request("Invalid request body: a JSON object was expected.", "BadRequest")
    return req.body


def _job_context(svc: GraphService, req: GraphRequest, sp_id: str, entity: bool = True) -> str:
    return svc.context(req, f"servicePrincipals('{sp_id}')/synchronization/jobs" + ("/$entity" if entity else ""))


# ============================================================================ jobs

@route("GET", _SP + r"/jobs", "sync.read")
def list_jobs(svc: GraphService, req: GraphRequest, sp_id: str) -> GraphResult:
    with req.tenant.lock:
        sp = _sp(req, sp_id)
        jobs = [j.view() for j in req.tenant.enterprise_apps.jobs.get(sp["id"], {}).values()]
    text = req.query.get("$filter")
    if text:
        # documented use: $filter=templateId eq '<id>' (graph-facts 2.2 step G)
        parts = text.split(" eq ")
        if len(parts) != 2 or parts[0].strip() != "templateId":
            raise GraphFault(400, "BadRequest", f"Invalid filter clause: {text}")
        jobs = [j for j in jobs if j["templateId"] == parts[1].strip().strip("'")]
    return GraphResult(200, {"@odata.context": _job_context(svc, req, sp["id"], entity=False), "value": jobs})


@route("POST", _SP + r"/jobs", "sync.write")
def create_job(svc: GraphService, req: GraphRequest, sp_id: str) -> GraphResult:
    body = _body(req)
    template = body.get("templateId")
    if not isinstance(template, str) or not template:
        raise bad_request("Property 'templateId' is required.", "BadRequest")
    with req.tenant.lock:
        sp = _sp(req, sp_id)
        if template != TEMPLATE_ID:
            # the configuration app offers only the Azure2Azure template; the error text is not documented
            raise bad_request(f"The synchronization template '{template}' was not found for this application.",
                              "BadRequest")
        # Docs silent on a second job of the same template: the simulator allows it, as the create page does not
        # forbid it. ccsync reads the job list first.
        job_id = f"Azure2Azure.{req.tenant.tenant_id.replace('-', '')}.{uuid.uuid4()}"
        job = SyncJob(id=job_id, template_id=template, schema=default_schema(job_id))
        req.tenant.enterprise_apps.jobs.setdefault(sp["id"], {})[job_id] = job
        out = {"@odata.context": _job_context(svc, req, sp["id"])}
        out.update(job.view())
    return GraphResult(201, out)


@route("GET", _JOB, "sync.read")
def get_job(svc: GraphService, req: GraphRequest, sp_id: str, job_id: str) -> GraphResult:
    with req.tenant.lock:
        sp, job = _job(req, sp_id, job_id)
        out = {"@odata.context": _job_context(svc, req, sp["id"])}
        out.update(job.view())
    return GraphResult(200, out)


@route("DELETE", _JOB, "sync.write")
def delete_job(svc: GraphService, req: GraphRequest, sp_id: str, job_id: str) -> GraphResult:
    # "stops and permanently deletes the job and its state" (synchronization-synchronizationjob.md); synced users stay
    with req.tenant.lock:
        sp, job = _job(req, sp_id, job_id)
        del req.tenant.enterprise_apps.jobs[sp["id"]][job.id]
    return GraphResult(204)


def _activate(job: SyncJob) -> None:
    job.schedule["state"] = "Active"
    job.status["code"] = "NotRun" if job.status.get("lastExecution") is None else "Active"
    job.next_run = time.monotonic()      # the first cycle starts soon after start / restart


@route("POST", _JOB + r"/start", "sync.write")
def start_job(svc: GraphService, req: GraphRequest, sp_id: str, job_id: str) -> GraphResult:
    # Start resumes a paused job and clears quarantine (synchronization-synchronizationjob.md, graph-facts 2.2 K)
    with req.tenant.lock:
        _, job = _job(req, sp_id, job_id)
        job.status["quarantine"] = None
        _activate(job)
    return GraphResult(204)


@route("POST", _JOB + r"/pause", "sync.write")
def pause_job(svc: GraphService, req: GraphRequest, sp_id: str, job_id: str) -> GraphResult:
    with req.tenant.lock:
        _, job = _job(req, sp_id, job_id)
        job.schedule["state"] = "Paused"
        job.status["code"] = "Paused"
    return GraphResult(204)


@route("POST", _JOB + r"/restart", "sync.write")
def restart_job(svc: GraphService, req: GraphRequest, sp_id: str, job_id: str) -> GraphResult:
    """resetScope (synchronization-synchronizationjob-restart.md): Escrows, Watermark (full cycle),
    QuarantineState, Full (all), ForceDeletes (apply the deletions held back by the threshold); no criteria =
    the portal's "Restart provisioning" = QuarantineState, Watermark, Escrows."""
    body = _body(req, required=False)
    criteria = body.get("criteria") or {}
    if not isinstance(criteria, dict):
        raise bad_request("Invalid value specified for property 'criteria'.", "BadRequest")
    raw = criteria.get("resetScope")
    scopes = {s.strip() for s in str(raw).split(",") if s.strip()} if raw else {"QuarantineState", "Watermark",
                                                                                 "Escrows"}
    unknown = scopes - RESET_SCOPES
    if unknown:
        raise bad_request(f"Requested value '{sorted(unknown)[0]}' was not found.", "BadRequest")
    with req.tenant.lock:
        _, job = _job(req, sp_id, job_id)
        if scopes & {"Watermark", "Full"}:
            job.full_cycle = True
        if scopes & {"QuarantineState", "Full", "ForceDeletes"}:
            job.status["quarantine"] = None
        if "ForceDeletes" in scopes:
            job.force_deletes = True
        if scopes & {"Escrows", "Full"}:
            job.status["escrowsPruned"] = False
        if "Full" in scopes:
            job.links.clear()        # re-match every user by alternativeSecurityIds
        _activate(job)
    return GraphResult(204)


# ============================================================================ validateCredentials

def _credential(pairs: Any, key: str) -> str | None:
    for pair in pairs if isinstance(pairs, list) else []:
        if isinstance(pair, dict) and str(pair.get("key", "")).lower() == key.lower():
            return pair.get("value")
    return None


def _validate(svc: GraphService, req: GraphRequest, sp_id: str) -> GraphResult:
    body = _body(req)
    with req.tenant.lock:
        sp = _sp(req, sp_id)
        if body.get("useSavedCredentials"):
            company = req.tenant.enterprise_apps.secret(sp["id"], "CompanyId")
        else:
            company = _credential(body.get("credentials"), "CompanyId")
            if _credential(body.get("credentials"), "AuthenticationType") not in (None, "SyncPolicy"):
                raise bad_request("The AuthenticationType credential must be SyncPolicy for cross-tenant "
                                  "synchronization.", "BadRequest")
    # the engine takes both tenants' locks itself: do not hold ours while it runs
    failure = syncengine.check_connection(svc.directory, req.tenant, company, sp["id"])
    if failure is not None:
        # The portal shows these codes on "Test connection"; the Graph status and body are not documented: a
        # Graph error with the code.
        return GraphResult(failure.status, {"error": {"code": failure.code, "message": failure.message}})
    return GraphResult(204)


@route("POST", _SP + r"/jobs/validateCredentials", "sync.write")
def validate_before_job(svc: GraphService, req: GraphRequest, sp_id: str) -> GraphResult:
    # [CTS-GRAPH] step 7 calls this before a job exists
    return _validate(svc, req, sp_id)


@route("POST", _JOB + r"/validateCredentials", "sync.write")
def validate_job(svc: GraphService, req: GraphRequest, sp_id: str, job_id: str) -> GraphResult:
    with req.tenant.lock:
        _job(req, sp_id, job_id)
    return _validate(svc, req, sp_id)


# ============================================================================ provisionOnDemand

def _status_entry(record: dict[str, Any]) -> dict[str, Any]:
    """A provisioning record in the on-demand result's shape (the API page's example: action, changeId, times,
    modifiedProperties, provisioningSteps with type/timestamp, statusInfo, identities, systems)."""
    info = record["provisioningStatusInfo"]
    error = info.get("errorInformation") or {}
    stamp = record["activityDateTime"]
    return {
        "action": record["provisioningAction"].capitalize() if record["provisioningAction"] != "stageddelete"
        else "StagedDelete",
        "changeId": record["changeId"], "startTime": stamp, "endTime": stamp,
        "modifiedProperties": record["modifiedProperties"],
        "provisioningSteps": [{"name": s["name"], "type": s["provisioningStepType"].capitalize(),
                               "status": s["status"].capitalize(), "description": s["description"],
                               "timestamp": stamp, "details": s["details"]} for s in record["provisioningSteps"]],
        "reportableIdentifier": record["sourceIdentity"]["details"].get("UserPrincipalName"),
        "statusInfo": {"status": info["status"].capitalize(), "errorCode": error.get("errorCode"),
                       "reason": error.get("reason"), "additionalDetails": error.get("additionalDetails"),
                       "errorCategory": error.get("errorCategory"), "recommendedAction": error.get("recommendedAction")},
        "sourceIdentity": {"id": record["sourceIdentity"]["id"], "type": "User",
                           "displayName": record["sourceIdentity"]["displayName"], "details": None},
        "sourceSystem": {"id": None, "name": record["sourceSystem"]["displayName"], "details": None},
        "targetIdentity": {"id": record["targetIdentity"]["id"] or None, "type": "User",
                           "displayName": record["targetIdentity"]["displayName"] or None, "details": None},
        "targetSystem": {"id": None, "name": record["targetSystem"]["displayName"], "details": None},
    }


@route("POST", _JOB + r"/provisionOnDemand", "sync.write")
def provision_on_demand(svc: GraphService, req: GraphRequest, sp_id: str, job_id: str) -> GraphResult:
    body = _body(req)
    params = body.get("parameters")
    if not isinstance(params, list) or not params:
        raise bad_request("Property 'parameters' is required.", "BadRequest")
    with req.tenant.lock:
        sp, job = _job(req, sp_id, job_id)
        rule = user_rule(job.schema) or {}
        subjects = []
        for p in params:
            if not isinstance(p, dict) or p.get("ruleId") != rule.get("id"):
                raise bad_request(f"The synchronization rule '{(p or {}).get('ruleId')}' was not found in the "
                                  "job's schema.", "BadRequest")
            for s in p.get("subjects") or []:
                if not isinstance(s, dict) or not s.get("objectId"):
                    raise bad_request("Each subject needs an objectId and an objectTypeName.", "BadRequest")
                subjects.append(s)
        if not subjects:
            raise bad_request("Property 'subjects' is required.", "BadRequest")
    app = req.app
    initiated = {"id": app.app_id if app else "", "displayName": app.display_name if app else "",
                 "initiatorType": "application"}
    entries: list[dict[str, Any]] = []
    for subject in subjects:
        if str(subject.get("objectTypeName", "User")).lower() != "user":
            # groups are not provisioned by user sync: a skipped EntityTypeNotSupported (graph-facts 10)
            entries.append({"action": "Other", "changeId": str(uuid.uuid4()), "provisioningSteps": [],
                            "modifiedProperties": [],
                            "statusInfo": {"status": "Skipped", "errorCode": "EntityTypeNotSupported",
                                           "reason": "Groups are not provisioned on demand by this configuration.",
                                           "additionalDetails": None, "errorCategory": None,
                                           "recommendedAction": None}})
            continue
        result = syncengine.provision_on_demand(svc.directory, req.tenant, sp["id"], job.id,
                                                str(subject["objectId"]).lower(), initiated)
        failure = result.get("failure")
        if failure is not None:
            return GraphResult(failure.status, {"error": {"code": failure.code, "message": failure.message}})
        entries.extend(_status_entry(r) for r in result["records"])
    return GraphResult(200, {"@odata.context": svc.context(req, "microsoft.graph.stringKeyStringValuePair"),
                             "key": STATUS_INFO_KEY, "value": json.dumps(entries)})


# ============================================================================ schema

@route("GET", _JOB + r"/schema", "sync.read")
def get_schema(svc: GraphService, req: GraphRequest, sp_id: str, job_id: str) -> GraphResult:
    with req.tenant.lock:
        sp, job = _job(req, sp_id, job_id)
        out = {"@odata.context": svc.context(
            req, f"servicePrincipals('{sp['id']}')/synchronization/jobs('{job.id}')/schema/$entity")}
        out.update(copy.deepcopy(job.schema))
    return GraphResult(200, out)


@route("PUT", _JOB + r"/schema", "sync.write")
def put_schema(svc: GraphService, req: GraphRequest, sp_id: str, job_id: str) -> GraphResult:
    body = {k: v for k, v in _body(req).items() if not k.startswith("@odata")}
    try:
        check_schema(body)
    except SchemaError as exc:
        raise GraphFault(400, exc.code, str(exc)) from exc
    with req.tenant.lock:
        _, job = _job(req, sp_id, job_id)
        body["id"] = job.id
        body.setdefault("version", job.schema.get("version", "v1.2"))
        body.setdefault("directories", job.schema.get("directories", []))
        job.schema = copy.deepcopy(body)
        # a changed schema (e.g. a new scoping filter) triggers a full resync (define-conditional-rules... .md)
        job.full_cycle = True
    return GraphResult(204)


# ============================================================================ secrets

_MASKED = ("secret", "password", "token")


@route("PUT", _SP + r"/secrets", "sync.write")
def put_secrets(svc: GraphService, req: GraphRequest, sp_id: str) -> GraphResult:
    body = _body(req)
    pairs = body.get("value")
    if not isinstance(pairs, list) or any(not isinstance(p, dict) or not isinstance(p.get("key"), str)
                                          for p in pairs):
        raise bad_request("Property 'value' must be a collection of key/value pairs.", "BadRequest")
    total = sum(len(str(p.get("key"))) + len(str(p.get("value") or "")) for p in pairs)
    with req.tenant.lock:
        sp = _sp(req, sp_id)
        if req.tenant.cloud in ("gcch", "dod") and total > 1024:
            # known-issues.md: in Azure Government the credentials (secret token + notification e-mail) are
            # limited to 1 KB; the error text is not documented
            raise bad_request("The provisioning credentials exceed the 1 KB limit of Azure Government.",
                              "BadRequest")
        # PUT replaces the whole set (synchronization-serviceprincipal-put-synchronization.md)
        req.tenant.enterprise_apps.secrets[sp["id"]] = [{"key": p["key"], "value": "" if p.get("value") is None
                                                         else str(p["value"])} for p in pairs]
    return GraphResult(204)


@route("GET", _SP + r"/secrets", "sync.read")
def get_secrets(svc: GraphService, req: GraphRequest, sp_id: str) -> GraphResult:
    # Credentials come back masked as "*" (graph-facts 2.2 step H); non-secret settings as saved.
    with req.tenant.lock:
        sp = _sp(req, sp_id)
        pairs = [{"key": p["key"], "value": "*" if any(m in p["key"].lower() for m in _MASKED) else p["value"]}
                 for p in req.tenant.enterprise_apps.secrets.get(sp["id"], [])]
    return GraphResult(200, {"@odata.context": svc.context(
        req, f"servicePrincipals('{sp['id']}')/synchronization/secrets"), "value": pairs})
