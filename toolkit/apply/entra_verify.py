"""Planned vs. observed for an entra-engine plan: what the job's cycle actually did, user by user.

Observed comes from the job's provisioning logs (``provisioningObjectSummary``: ``provisioningAction`` create /
update / delete / stageddelete / disable / other, ``provisioningStatusInfo.status`` success / warning / failure /
skipped; graph-facts section 4) and, when given, from the target users themselves (created users exist, deleted
ones are gone, planned attribute values are there).

Agreement rules (a row that breaks them is a **mismatch**; a mismatch is reported, never hidden):

========== ==================================================================================================
planned    observed that agrees
========== ==================================================================================================
create     a successful ``create``
update     a successful ``update``
disable    a successful ``disable``, or a successful ``update`` that sets accountEnabled to false
delete     a successful ``delete``
held       (a delete or disable the threshold holds) a ``stageddelete`` record, or no record
skip       a ``skipped`` record, or no record (Entra logs skips only for some users)
fail       a ``failure`` record
unknown    anything: ccsync said it could not predict; the observation is reported, never a mismatch
========== ==================================================================================================
"""

from __future__ import annotations

from typing import Any, Iterable

import pandas as pd

__all__ = ["verify_cycle", "VERIFY_COLUMNS"]

VERIFY_COLUMNS = ["opId", "sourceId", "sourceUpn", "targetId", "planned", "held", "observed", "status",
                  "errorCode", "targetCheck", "match", "detail"]
_AGREES = {"create": {"create"}, "update": {"update"}, "disable": {"disable"}, "delete": {"delete"}}


def _observed_text(rec: dict | None) -> str:
    if rec is None:
        return "no record"
    if rec["status"] == "success":
        return rec["action"]
    return rec["status"] or rec["action"]


def verify_cycle(plan: Any, records: Iterable[dict], target_users: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per planned operation (VERIFY_COLUMNS): planned, observed, and whether they agree."""
    latest = sorted(((r.get("activityDateTime") or "", i, r) for i, r in enumerate(records)), key=lambda x: x[:2])
    by_source: dict[str, dict] = {}
    by_target: dict[str, dict] = {}
    for _, _, r in latest:                      # plain dicts: verifying 100,000 users must not wait on pandas
        info = r.get("provisioningStatusInfo") or {}
        err = info.get("errorInformation") or {}
        modified = {m.get("displayName"): m.get("newValue") for m in r.get("modifiedProperties") or []}
        rec = {"targetId": (r.get("targetIdentity") or {}).get("id") or None,
               "action": (r.get("provisioningAction") or "").lower(), "status": (info.get("status") or "").lower(),
               "errorCode": err.get("errorCode"), "reason": err.get("reason"),
               "disables": str(modified.get("accountEnabled", "")).strip('"').lower() == "false"}
        sid = (r.get("sourceIdentity") or {}).get("id")
        if sid:
            by_source[sid] = rec
        if rec["targetId"]:
            by_target[rec["targetId"]] = rec
    tgt = target_users.set_index("id") if target_users is not None and len(target_users) else None
    planned_values: dict[str, list[tuple[str, str]]] = {}
    if tgt is not None and len(plan.changes):
        for op_id, attr, new in zip(plan.changes["opId"], plan.changes["attribute"], plan.changes["newValue"]):
            planned_values.setdefault(op_id, []).append((attr, new))
    rows = []
    for op in plan.ops.itertuples(index=False):
        rec = by_source.get(op.sourceId) or (by_target.get(op.targetId) if op.targetId else None)
        observed = _observed_text(rec)
        ok = rec is not None and rec["status"] == "success"
        planned = op.kind
        if planned in _AGREES and op.held:
            # Held by the accidental-deletion threshold: staged (StagedDelete) or not attempted at all.
            match = rec is None or rec["action"] == "stageddelete"
        elif planned in _AGREES:
            match = ok and (rec["action"] in _AGREES[planned] or (planned == "disable" and rec["action"] == "update"
                                                                  and rec["disables"]))
        elif planned == "skip":
            match = rec is None or rec["status"] == "skipped"
        elif planned == "fail":
            match = rec is not None and rec["status"] == "failure"
        else:
            match = True
        target_id = (rec or {}).get("targetId") or op.targetId
        check, detail = (_target_check(planned, target_id, tgt, planned_values.get(op.opId, []))
                         if match and tgt is not None else (None, None))
        if check == "differs":
            match = False
        if not match and detail is None:
            detail = f"planned {planned}, observed {observed}" + (
                f" ({rec['errorCode']}: {rec['reason']})" if rec and rec.get("errorCode") else "")
        rows.append({"opId": op.opId, "sourceId": op.sourceId, "sourceUpn": op.sourceUpn, "targetId": target_id,
                     "planned": planned, "held": bool(op.held), "observed": observed,
                     "status": (rec or {}).get("status"), "errorCode": (rec or {}).get("errorCode"),
                     "targetCheck": check, "match": bool(match), "detail": detail})
    return pd.DataFrame(rows, columns=VERIFY_COLUMNS)


def _norm(v: Any) -> str | None:
    if v is None or (not isinstance(v, (list, dict)) and pd.isna(v)):
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _target_check(planned: str, target_id: Any, tgt: pd.DataFrame, values: list[tuple[str, Any]]
                  ) -> tuple[str | None, str | None]:
    """'ok', 'differs' or None (nothing to check) against the target users read after the cycle."""
    exists = target_id is not None and target_id in tgt.index
    if planned == "delete":
        return ("ok", None) if not exists else ("differs", f"target user {target_id} still exists")
    if planned not in ("create", "update", "disable"):
        return None, None
    if not exists:
        return "differs", f"target user {target_id} not found in the target"
    user = tgt.loc[target_id]
    wrong = []
    for attr, new in values:
        if attr in user.index and attr != "showInAddressList":
            have = _norm(user[attr])
            if have is not None and have.lower() in ("true", "false"):
                have = have.lower()
            if have != new:
                wrong.append(f"{attr} is {have!r}, planned {new!r}")
    return ("differs", "; ".join(wrong)) if wrong else ("ok", None)
