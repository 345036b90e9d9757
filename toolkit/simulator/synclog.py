"""The simulated sync engine's provisioning log: one provisioningObjectSummary per action, appended to the
SOURCE tenant's ``provisioning`` list (graph-facts 4, the shape of the [CTS-GRAPH] step 13 example).
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any, Iterable

from .synccycle import Cycle, iso
from .syncschema import SOURCE_DIRECTORY, TARGET_DIRECTORY

__all__ = ["PROVISIONING_SERVICE", "record"]

PROVISIONING_SERVICE = {"id": "", "displayName": "Azure AD Provisioning Service", "initiatorType": "system"}
_SOURCE_SYSTEM_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, f"ccsync-sim/{SOURCE_DIRECTORY}"))
_TARGET_SYSTEM_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, f"ccsync-sim/{TARGET_DIRECTORY}"))


_STEP_NAMES = {"create": ("EntryImportAdd", "EntrySynchronizationAdd", "EntryExportAdd"),
               "update": ("EntryImportUpdate", "EntrySynchronizationUpdate", "EntryExportUpdate"),
               "disable": ("EntryImportUpdate", "EntrySynchronizationUpdate", "EntryExportUpdate"),
               "delete": ("EntryImportDelete", "EntrySynchronizationDelete", "EntryExportDelete"),
               "stageddelete": ("EntryImportDelete", "EntrySynchronizationDelete", "EntryExportDelete"),
               "other": ("EntryImport", "EntrySynchronizationSkip", None)}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def record(cycle: Cycle, action: str, status: str, user: dict[str, Any], target_user: dict[str, Any] | None,
            scoping: dict[str, str], read: Any, modified: Iterable[tuple[str, Any, Any]], *,
            error: dict[str, Any] | None = None, skip_reason: str | None = None, staged: str | None = None) -> None:
    """One provisioningObjectSummary in the source tenant's provisioning log (graph-facts 4, the shape of the
    [CTS-GRAPH] step 13 example)."""
    source, target, sp = cycle.source, cycle.target, cycle.sp
    upn = user.get("userPrincipalName") or user.get("id")
    target_name = TARGET_DIRECTORY
    import_name, match_name, export_name = _STEP_NAMES[action]
    kind = {"create": "Add", "update": "Update", "disable": "Update", "delete": "Delete", "stageddelete": "Delete",
            "other": "Update"}[action]
    steps = [
        {"name": import_name, "provisioningStepType": "import", "status": "success",
         "description": f"Received User '{upn}' change of type ({kind}) from {SOURCE_DIRECTORY}",
         "details": {"objectId": user.get("id"), "accountEnabled": _text(user.get("accountEnabled")),
                     "displayName": user.get("displayName"), "mailNickname": user.get("mailNickname"),
                     "userPrincipalName": user.get("userPrincipalName"), "netId": read("netId"),
                     "alternativeSecurityIds": "None", "IsSoftDeleted": _text(bool(read("IsSoftDeleted"))),
                     "appRoleAssignments": read("appRoleAssignments") or ""}},
        {"name": "EntrySynchronizationScoping", "provisioningStepType": "scoping",
         "status": "success" if action != "other" else "skipped",
         "description": "Determine if User in scope by evaluating against each scoping filter", "details": scoping}]
    if action == "other":
        steps.append({"name": match_name, "provisioningStepType": "processing", "status": "skipped",
                      "description": (f"The state of the User '{upn}' in both the source and target systems "
                                      "already match. No change currently needs to be made."
                                      if skip_reason == "RedundantExport" else
                                      f"The User '{upn}' will be skipped: it is not in scope of the configuration."),
                      "details": {"SkipReason": skip_reason}})
    else:
        verb = {"create": "created", "update": "updated", "disable": "updated", "delete": "deleted",
                "stageddelete": "deleted"}[action]
        matched = target_user is not None and action != "create"
        steps.append({"name": match_name, "provisioningStepType": "matching", "status": "success",
                      "description": (f"User '{upn}' will be {verb} in {target_name}" +
                                      ("" if matched else f" (User is active and assigned in {SOURCE_DIRECTORY}, but "
                                                          f"no matching User was found in {target_name})")),
                      "details": {"matchingAttribute": "alternativeSecurityIds"}})
        if staged:
            steps.append({"name": "EntryExportStagedDelete", "provisioningStepType": "export", "status": "skipped",
                          "description": f"The {staged} of User '{upn}' was held back: the cycle exceeded the "
                                         "accidental deletion threshold.",
                          "details": {"StagedAction": "StagedDelete", "StagedOperation": staged}})
        else:
            steps.append({"name": export_name, "provisioningStepType": "export", "status": status,
                          "description": (f"User '{upn}' was {verb} in {target_name}" if status == "success" else
                                          f"Failed to export User '{upn}' to {target_name}"),
                          "details": {"ReportableIdentifier": upn} if not error else
                          {"ReportableIdentifier": upn, "ErrorCode": error["errorCode"]}})
    record = {
        "id": str(uuid.uuid4()), "activityDateTime": iso(fraction=False),
        # the how-to's example shows the TARGET tenant's id here (graph-facts 4)
        "tenantId": target.tenant_id, "jobId": cycle.job.id, "cycleId": cycle.cycle_id,
        "changeId": str(uuid.uuid4()), "provisioningAction": action,
        "durationInMilliseconds": max(0, int((time.perf_counter() - cycle.user_started) * 1000))
        if cycle.user_started else 0,
        "servicePrincipal": {"id": sp["id"], "displayName": sp["displayName"]},
        "sourceSystem": {"id": _SOURCE_SYSTEM_ID, "displayName": SOURCE_DIRECTORY, "details": {}},
        "targetSystem": {"id": _TARGET_SYSTEM_ID, "displayName": target_name,
                         "details": {"ApplicationId": sp["appId"], "ServicePrincipalId": sp["id"],
                                     "ServicePrincipalDisplayName": sp["displayName"]}},
        "initiatedBy": dict(cycle.initiated_by),
        "sourceIdentity": {"id": user.get("id"), "displayName": user.get("displayName"), "identityType": "User",
                           "details": {"id": user.get("id"), "odatatype": "User",
                                       "DisplayName": user.get("displayName"), "UserPrincipalName": upn}},
        "targetIdentity": {"id": (target_user or {}).get("id") or "", "displayName": (target_user or {}).get(
            "displayName") or "", "identityType": "User", "details": {}},
        "provisioningStatusInfo": {"status": status, "errorInformation": error},
        "provisioningSteps": steps,
        "modifiedProperties": [{"displayName": name, "oldValue": _text(old), "newValue": _text(new)}
                               for name, old, new in modified],
    }
    source.provisioning.append(record)
    cycle.records.append(record)
