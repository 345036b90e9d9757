"""The Entra portal's provisioning-log CSV download: three files (``ProvisioningLogs``,
``ProvisioningLogs_ProvisioningSteps``, ``ProvisioningLogs_ModifiedProperties``) joined by change ID into
Graph-shaped records. Given the main file alone, the other two are looked for beside it, and a missing one is
named.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator, Mapping

from ..errors import InputError
from .csv_logs import csv_rows, norm_header
from .log_files import decode, read_bytes

__all__ = ["PORTAL_CSV_PARTS", "is_portal_csv", "portal_key", "portal_part", "portal_download_records"]

PORTAL_CSV_PARTS = ("ProvisioningLogs", "ProvisioningLogs_ProvisioningSteps", "ProvisioningLogs_ModifiedProperties")
_SUFFIX_STEPS, _SUFFIX_MODS = "_provisioningsteps", "_modifiedproperties"


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
        name = table.get(norm_header(k))
        if name and (v or "").strip() and name not in out:
            out[name] = v.strip()
    return out


def portal_part(path: Path) -> str:
    stem = path.stem.lower()
    if stem.endswith(_SUFFIX_STEPS) or "provisioningsteps" in stem.replace("_", ""):
        return "steps"
    if stem.endswith(_SUFFIX_MODS) or "modifiedproperties" in stem.replace("_", ""):
        return "mods"
    return "main"


def is_portal_csv(rows: list[dict[str, str]]) -> bool:
    heads = {norm_header(k) for k in (rows[0] if rows else {}) if k}
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


def portal_key(path: Path) -> str:
    """The download a portal CSV file belongs to: its folder and its name without the part's suffix."""
    return str(path.parent / _portal_base(path))


def portal_download_records(base: str, parts: dict[str, Path], notes: list[str]) -> Iterator[tuple[str, str, Any]]:
    """(file name, where, record) for each row of the main file of one download, its steps and modified
    properties joined in; ``parts`` maps "main", "steps", "mods" to the files given."""
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
        loaded[part] = csv_rows(decode(read_bytes(path), path.name, notes), path.name)[0]
    main_rows = csv_rows(decode(read_bytes(main), main.name, notes), main.name)[0]
    for i, rec in enumerate(_portal_records(main_rows, loaded["steps"], loaded["mods"]), 2):
        yield main.name, f"line {i}", rec
