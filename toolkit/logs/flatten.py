"""Graph-shaped log records -> the declared DataFrames (``toolkit.frames``): events, steps, modified properties.

Each event keeps every field Graph sends: the ones with a column of their own, and the rest (fields from newer
API versions ccsync does not know yet) as JSON in ``extra``. Values are never validated against an enum list,
so ``unknownFutureValue`` or a value Microsoft adds later comes through as text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

import pandas as pd

from ..frames import (AUDIT_EVENTS, AUDIT_TARGETS, PROVISIONING_CHANGES, PROVISIONING_EVENTS, PROVISIONING_STEPS,
                      conform)
from .catalog import advice_for, normalize_code

__all__ = ["ProvisioningFrames", "AuditFrames", "flatten_provisioning", "flatten_audit", "text_of"]

_PROV_KNOWN = {"id", "activityDateTime", "tenantId", "jobId", "cycleId", "changeId", "provisioningAction",
               "durationInMilliseconds", "provisioningStatusInfo", "provisioningSteps", "modifiedProperties",
               "servicePrincipal", "sourceSystem", "targetSystem", "initiatedBy", "sourceIdentity",
               "targetIdentity", "@odata.type"}
_AUDIT_KNOWN = {"id", "activityDateTime", "category", "correlationId", "result", "resultReason",
                "activityDisplayName", "loggedByService", "operationType", "initiatedBy", "targetResources",
                "additionalDetails", "@odata.type"}


@dataclass
class ProvisioningFrames:
    events: pd.DataFrame
    steps: pd.DataFrame
    changes: pd.DataFrame


@dataclass
class AuditFrames:
    events: pd.DataFrame
    targets: pd.DataFrame


def text_of(value: Any) -> str | None:
    """A cell's text: strings as they are, anything structured as compact JSON, empty as None."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str) if value else None
    return str(value)


def _obj(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _detail(identity: Mapping[str, Any], *names: str) -> Any:
    details = _obj(identity.get("details"))
    low = {str(k).lower(): v for k, v in details.items()}
    for n in names:
        if low.get(n.lower()):
            return low[n.lower()]
    return None


def _extra(rec: Mapping[str, Any], known: set[str]) -> str | None:
    rest = {k: v for k, v in rec.items() if k not in known and not k.startswith("_") and v not in (None, "", [], {})}
    return text_of(rest) if rest else None


def flatten_provisioning(records: Iterable[Mapping[str, Any]]) -> ProvisioningFrames:
    """Frames ``PROVISIONING_EVENTS``/``_STEPS``/``_CHANGES`` from canonical records (``activityDateTime`` a
    datetime or ISO text; ``source`` optional: where the record came from)."""
    events, steps, changes = [], [], []
    for rec in records:
        status = _obj(rec.get("provisioningStatusInfo"))
        err = _obj(status.get("errorInformation"))
        code = normalize_code(text_of(err.get("errorCode")))
        advice = advice_for(code)
        init = _obj(rec.get("initiatedBy"))
        sp = rec.get("servicePrincipal")
        sp = sp[0] if isinstance(sp, list) and sp else _obj(sp)   # the doc table says "collection"
        src, tgt = _obj(rec.get("sourceIdentity")), _obj(rec.get("targetIdentity"))
        when = rec.get("activityDateTime")
        rid, change = text_of(rec.get("id")), text_of(rec.get("changeId"))
        step_list = rec.get("provisioningSteps") or []
        mods = rec.get("modifiedProperties") or []
        events.append({
            "id": rid, "activityDateTime": when, "tenantId": text_of(rec.get("tenantId")),
            "jobId": text_of(rec.get("jobId")), "cycleId": text_of(rec.get("cycleId")), "changeId": change,
            "provisioningAction": text_of(rec.get("provisioningAction")), "status": text_of(status.get("status")),
            "durationInMilliseconds": rec.get("durationInMilliseconds"),
            "initiatedBy": text_of(init.get("displayName")), "initiatorType": text_of(init.get("initiatorType")),
            "servicePrincipalId": text_of(_obj(sp).get("id")),
            "servicePrincipalName": text_of(_obj(sp).get("displayName")),
            "sourceSystem": text_of(_obj(rec.get("sourceSystem")).get("displayName")),
            "targetSystem": text_of(_obj(rec.get("targetSystem")).get("displayName")),
            "sourceIdentityType": text_of(src.get("identityType")), "sourceId": text_of(src.get("id")),
            "sourceDisplayName": text_of(src.get("displayName")) or text_of(_detail(src, "DisplayName")),
            "sourceUpn": text_of(_detail(src, "UserPrincipalName", "userPrincipalName")),
            "targetIdentityType": text_of(tgt.get("identityType")), "targetId": text_of(tgt.get("id")),
            "targetDisplayName": text_of(tgt.get("displayName")) or text_of(_detail(tgt, "DisplayName")),
            "errorCode": code, "errorCategory": text_of(err.get("errorCategory")),
            "errorReason": text_of(err.get("reason")), "errorDetails": text_of(err.get("additionalDetails")),
            "errorRecommendedAction": text_of(err.get("recommendedAction")),
            "explanation": advice.explanation if advice else None, "action": advice.action if advice else None,
            "steps": len(step_list), "modifiedProperties": len(mods),
            "extra": _extra(rec, _PROV_KNOWN | {"source"}), "source": text_of(rec.get("source"))})
        for i, step in enumerate(step_list, 1):
            steps.append({"id": rid, "changeId": change, "activityDateTime": when, "stepIndex": i,
                          "name": text_of(step.get("name")),
                          "provisioningStepType": text_of(step.get("provisioningStepType")),
                          "status": text_of(step.get("status")), "description": text_of(step.get("description")),
                          "details": text_of(step.get("details"))})
        target_name = events[-1]["targetDisplayName"] or events[-1]["sourceDisplayName"]
        for mod in mods:
            changes.append({"id": rid, "changeId": change, "activityDateTime": when,
                            "targetDisplayName": target_name, "property": text_of(mod.get("displayName")),
                            "oldValue": text_of(mod.get("oldValue")), "newValue": text_of(mod.get("newValue"))})
    return ProvisioningFrames(conform(events, PROVISIONING_EVENTS), conform(steps, PROVISIONING_STEPS),
                              conform(changes, PROVISIONING_CHANGES))


def _initiator(init: Mapping[str, Any]) -> dict[str, Any]:
    user, app = _obj(init.get("user")), _obj(init.get("app"))
    if app and (app.get("displayName") or app.get("appId") or app.get("servicePrincipalName")):
        # Entra's own sync shows as the app "Microsoft.Azure.SyncFabric"; ccsync's writes as ccsync's app name.
        return {"initiatorKind": "app", "initiatedBy": text_of(app.get("displayName"))
                or text_of(app.get("servicePrincipalName")) or text_of(app.get("appId")),
                "initiatorId": text_of(app.get("servicePrincipalId")), "initiatorUpn": None,
                "initiatorAppId": text_of(app.get("appId"))}
    if user:
        return {"initiatorKind": "user", "initiatedBy": text_of(user.get("displayName"))
                or text_of(user.get("userPrincipalName")), "initiatorId": text_of(user.get("id")),
                "initiatorUpn": text_of(user.get("userPrincipalName")), "initiatorAppId": None}
    return {"initiatorKind": None, "initiatedBy": None, "initiatorId": None, "initiatorUpn": None,
            "initiatorAppId": None}


def flatten_audit(records: Iterable[Mapping[str, Any]]) -> AuditFrames:
    """Frames ``AUDIT_EVENTS``/``AUDIT_TARGETS`` from canonical directoryAudit records."""
    events, targets = [], []
    for rec in records:
        tlist = [t for t in rec.get("targetResources") or [] if isinstance(t, Mapping)]
        first = tlist[0] if tlist else {}
        rid, when = text_of(rec.get("id")), rec.get("activityDateTime")
        mods = 0
        for t in tlist:
            for mod in t.get("modifiedProperties") or []:
                if not isinstance(mod, Mapping):
                    continue
                mods += 1
                targets.append({"id": rid, "activityDateTime": when,
                                "activityDisplayName": text_of(rec.get("activityDisplayName")),
                                "targetType": text_of(t.get("type")), "targetId": text_of(t.get("id")),
                                "targetDisplayName": text_of(t.get("displayName")) or text_of(t.get("userPrincipalName")),
                                "property": text_of(mod.get("displayName")), "oldValue": text_of(mod.get("oldValue")),
                                "newValue": text_of(mod.get("newValue"))})
        details = rec.get("additionalDetails") or []
        events.append({
            "id": rid, "activityDateTime": when, "category": text_of(rec.get("category")),
            "activityDisplayName": text_of(rec.get("activityDisplayName")),
            "operationType": text_of(rec.get("operationType")), "result": text_of(rec.get("result")),
            "resultReason": text_of(rec.get("resultReason")), "loggedByService": text_of(rec.get("loggedByService")),
            "correlationId": text_of(rec.get("correlationId")), **_initiator(_obj(rec.get("initiatedBy"))),
            "targetType": text_of(first.get("type")), "targetId": text_of(first.get("id")),
            "targetDisplayName": text_of(first.get("displayName")), "targetUpn": text_of(first.get("userPrincipalName")),
            "targets": len(tlist), "modifiedProperties": mods,
            "additionalDetails": "; ".join(f"{d.get('key')}={d.get('value')}" for d in details
                                           if isinstance(d, Mapping)) or None,
            "extra": _extra(rec, _AUDIT_KNOWN | {"source"}), "source": text_of(rec.get("source"))})
    return AuditFrames(conform(events, AUDIT_EVENTS), conform(targets, AUDIT_TARGETS))
