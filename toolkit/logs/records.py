"""Turning a log record in any export's shape into Graph's shape (camelCase, nested objects, enum names).

Shapes handled (docs/logs.md has the sources): Graph's own JSON (``provisioningObjectSummary``,
``directoryAudit``); the portal's JSON download; Azure Monitor diagnostic-settings records (storage account or
Event Hubs: ``time``, ``category``, ``resultType``, ... with the record under ``properties``, in its own casing
such as ``Id``/``Name`` and with numeric enums); Log Analytics rows of the ``AADProvisioningLogs`` and
``AuditLogs`` tables (PascalCase columns, nested columns as JSON strings, ``TimeGenerated``). Keys are matched
case-insensitively; fields ccsync does not know are kept (under their own name), enum values it does not know
(``unknownFutureValue`` and beyond) are kept as text. Nothing here raises for a strange record: the caller
decides what to skip (see ``readers``).
"""

from __future__ import annotations

import json
from typing import Any, Mapping

__all__ = ["record_kind", "canonical_provisioning", "canonical_audit", "PROVISIONING", "AUDIT"]

PROVISIONING = "provisioning"
AUDIT = "audit"

# Every Graph property name of both resources and their nested types (graph-facts 4, 5), by lower case.
_NAMES = (
    "id activityDateTime tenantId jobId cycleId changeId provisioningAction durationInMilliseconds "
    "provisioningStatusInfo status errorInformation errorCode errorCategory reason additionalDetails "
    "recommendedAction provisioningSteps name provisioningStepType description details modifiedProperties "
    "displayName oldValue newValue servicePrincipal sourceSystem targetSystem initiatedBy initiatorType "
    "sourceIdentity targetIdentity identityType category correlationId result resultReason "
    "activityDisplayName loggedByService operationType targetResources type userPrincipalName groupType "
    "user app appId servicePrincipalId servicePrincipalName ipAddress userType homeTenantId homeTenantName "
    "key value").split()
_CANON = {n.lower(): n for n in _NAMES}
# Other spellings of the same fields: Log Analytics columns, diagnostic-settings fields, deprecated beta names.
_ALIAS = {"timegenerated": "activityDateTime", "durationms": "durationInMilliseconds", "action": "provisioningAction",
          "statusinfo": "provisioningStatusInfo", "errorinfo": "errorInformation", "initiatingtype": "initiatorType",
          "aadtenantid": "tenantId", "operationname": "activityDisplayName"}
_NAME_HOLDERS = {"servicePrincipal", "sourceSystem", "targetSystem", "initiatedBy", "sourceIdentity",
                 "targetIdentity", "user", "app"}
# Columns that Log Analytics and diagnostic records carry about the *export*, not the event.
_ENVELOPE = {"time", "category", "resulttype", "resultsignature", "resultdescription", "durationms", "level",
             "location", "operationversion", "identity", "properties", "resourceid", "callerIpAddress".lower(),
             "_billedsize", "_isbillable", "_resourceid", "sourcesystem_la", "tenantid_la", "type", "operationname",
             "correlationid", "timegenerated"}

# Numeric enum values (Azure Monitor records): Microsoft's docs do not document the numeric form; these are the
# member values of Graph's enum types (provisioningAction, provisioningResult, provisioningStepType) in the v1.0
# $metadata. A number outside them is kept as text ("7").
_ACTION_NUM = {0: "other", 1: "create", 2: "delete", 3: "disable", 4: "update", 5: "stagedDelete",
               6: "unknownFutureValue"}
_RESULT_NUM = {0: "success", 1: "failure", 2: "skipped", 3: "warning", 4: "unknownFutureValue"}
_STEP_NUM = {0: "import", 1: "scoping", 2: "matching", 3: "processing", 4: "referenceResolution", 5: "export",
             6: "unknownFutureValue"}
_INITIATOR_NUM = {0: "user", 1: "application", 2: "system", 3: "unknownFutureValue"}
_AUDIT_RESULT_NUM = {0: "success", 1: "failure", 2: "timeout", 3: "unknownFutureValue"}

_JSON_FIELDS = {"initiatedBy", "modifiedProperties", "provisioningStatusInfo", "provisioningSteps",
                "servicePrincipal", "sourceIdentity", "sourceSystem", "targetIdentity", "targetSystem",
                "targetResources", "additionalDetails", "details", "errorInformation"}


def _maybe_json(value: Any) -> Any:
    """Log Analytics exports nested columns as JSON text: parse text that looks like an object or array."""
    if isinstance(value, str):
        text = value.strip()
        if text[:1] in ("{", "[") and text[-1:] in ("}", "]"):
            try:
                return json.loads(text)
            except ValueError:
                return value
    return value


def _canon_key(key: str, parent: str | None) -> str:
    low = key.lower()
    if parent in _NAME_HOLDERS and low == "name":
        return "displayName"                  # diagnostic records: {"Id": ..., "Name": ...}
    return _CANON.get(low) or _ALIAS.get(low) or key


def _canon(value: Any, parent: str | None = None) -> Any:
    value = _maybe_json(value) if parent in _JSON_FIELDS or parent is None else value
    if parent == "details":
        return value                          # free-form key/value pairs: keep Microsoft's keys as they are
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for k, v in value.items():
            name = _canon_key(str(k), parent)
            if name in out and out[name] not in (None, "") and v in (None, ""):
                continue                       # a second spelling that is empty does not erase the first
            out[name] = _canon(v, name)
        return out
    if isinstance(value, list):
        return [_canon(v, parent) for v in value]
    return value


def _enum(value: Any, table: Mapping[int, str]) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return table.get(value, str(value))
    if isinstance(value, str) and value.strip().isdigit():
        return table.get(int(value), value)
    if isinstance(value, str) and value:
        # Log Analytics writes "Create"/"Success"; Graph writes "create"/"success": keep Graph's casing for the
        # names it knows, anything else as given.
        known = {v.lower(): v for v in table.values()}
        return known.get(value.lower(), value)
    return value


def _unwrap(raw: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(record, envelope): a diagnostic-settings record keeps the event under ``properties``."""
    props = None
    for k, v in raw.items():
        if str(k).lower() == "properties":
            props = _maybe_json(v)
    if isinstance(props, Mapping):
        env = {str(k).lower(): v for k, v in raw.items() if str(k).lower() != "properties"}
        return dict(props), env
    return dict(raw), {str(k).lower(): v for k, v in raw.items()}


def record_kind(raw: Any) -> str | None:
    """``provisioning``, ``audit`` or None (not a log record ccsync recognises)."""
    if not isinstance(raw, Mapping):
        return None
    keys = {str(k).lower() for k in raw}
    category = next((str(v) for k, v in raw.items() if str(k).lower() == "category"), "")
    if "properties" in keys and category.lower() in ("provisioninglogs", "auditlogs"):
        return PROVISIONING if category.lower() == "provisioninglogs" else AUDIT
    if str(raw.get("Type", "")) in ("AADProvisioningLogs", "AuditLogs"):
        return PROVISIONING if raw["Type"] == "AADProvisioningLogs" else AUDIT
    if keys & {"provisioningsteps", "provisioningaction", "provisioningstatusinfo", "cycleid", "changeid", "jobid"}:
        return PROVISIONING
    if keys & {"activitydisplayname", "targetresources", "loggedbyservice"}:
        return AUDIT
    if "properties" in keys:
        inner = _maybe_json(next(v for k, v in raw.items() if str(k).lower() == "properties"))
        return record_kind(inner) if isinstance(inner, Mapping) else None
    return None


def canonical_provisioning(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A provisioningObjectSummary in Graph's shape from any supported export of one."""
    body, env = _unwrap(raw)
    rec = _canon(body)
    if not rec.get("activityDateTime"):
        rec["activityDateTime"] = env.get("time") or env.get("timegenerated") or env.get("activitydatetime")
    if rec.get("durationInMilliseconds") in (None, "") and env.get("durationms") not in (None, ""):
        rec["durationInMilliseconds"] = env.get("durationms")
    status = rec.get("provisioningStatusInfo")
    if not isinstance(status, Mapping):
        status = {"status": status} if status not in (None, "") else {}
    status = dict(status)
    if status.get("status") in (None, ""):
        status["status"] = env.get("resulttype") or rec.pop("ResultType", None)
    err = status.get("errorInformation")
    if not isinstance(err, Mapping):
        err = {}
    err = dict(err)
    if not err.get("errorCode") and env.get("resultsignature") not in (None, "", "None"):
        err["errorCode"] = env.get("resultsignature")
    if not err.get("reason") and env.get("resultdescription"):
        err["reason"] = env.get("resultdescription")
    status["status"] = _enum(status.get("status"), _RESULT_NUM)
    status["errorInformation"] = err or None
    rec["provisioningStatusInfo"] = status
    rec["provisioningAction"] = _enum(rec.get("provisioningAction"), _ACTION_NUM)
    steps = rec.get("provisioningSteps")
    rec["provisioningSteps"] = [dict(s, provisioningStepType=_enum(s.get("provisioningStepType"), _STEP_NUM),
                                     status=_enum(s.get("status"), _RESULT_NUM))
                                for s in (steps if isinstance(steps, list) else []) if isinstance(s, Mapping)]
    mods = rec.get("modifiedProperties")
    rec["modifiedProperties"] = [m for m in (mods if isinstance(mods, list) else []) if isinstance(m, Mapping)]
    init = rec.get("initiatedBy")
    if isinstance(init, Mapping):
        rec["initiatedBy"] = dict(init, initiatorType=_enum(init.get("initiatorType"), _INITIATOR_NUM))
    for drop in [k for k in rec if k.lower() in _ENVELOPE and k not in _CANON.values()]:
        rec.pop(drop)
    return rec


def canonical_audit(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A directoryAudit in Graph's shape from any supported export of one."""
    body, env = _unwrap(raw)
    rec = _canon(body)
    if not rec.get("activityDateTime"):
        rec["activityDateTime"] = env.get("time") or env.get("timegenerated")
    if not rec.get("activityDisplayName") and env.get("operationname"):
        rec["activityDisplayName"] = env.get("operationname")
    if rec.get("result") in (None, ""):
        rec["result"] = env.get("resulttype")
    rec["result"] = _enum(rec.get("result"), _AUDIT_RESULT_NUM)
    if rec.get("category") in (None, "") or str(rec.get("category")).lower() == "auditlogs":
        inner = body.get("category") if isinstance(body, Mapping) else None
        rec["category"] = inner if inner and str(inner).lower() != "auditlogs" else rec.get("category")
    targets = rec.get("targetResources")
    rec["targetResources"] = [t for t in (targets if isinstance(targets, list) else []) if isinstance(t, Mapping)]
    for drop in [k for k in rec if k.lower() in _ENVELOPE and k not in _CANON.values()]:
        rec.pop(drop)
    return rec
