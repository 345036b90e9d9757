"""Results of an apply: one row per operation (DataFrame), a summary, the Excel workbook and the CSV.

Built from a ``RunSnapshot``: a small read-only picture of a run (one ``OpView`` per operation it dealt with,
the plan's header, call statistics, elapsed time), taken by the executor when the run ends. Nothing here reads
a run's own state, so this module depends on no other part of the executor.

``summary`` counts creates by their own create mode: ``creates`` (planned) and ``created`` (done), each
``{"members": n, "invitations": n}``; ``createAs`` is ``member``, ``invite`` or ``mixed``. ``notSelected``: the
plan's operations this run left out (``--operation``: the frame holds only the selected ones); with a
selection, ``selection`` = ``{"operations": [...], "notCarriedOut": [{"opId", "kind", "reason"}]}`` (selected
but held, a conflict or blocked: never sent).

Columns of ``ApplyResult.frame`` (``RESULT_COLUMNS``): opId, kind, state (pending/sent/done/failed/skipped, or
``planned`` in a what-if run), step, sourceUpn, targetUpn, targetId, attempts, httpStatus, errorCode,
message, requestId, result, action (what the admin should do about a failed or skipped operation).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from ..frames import APPLY_RESULTS

__all__ = ["ApplyResult", "RESULT_COLUMNS", "STATE_VOCABULARY", "OpView", "RunSnapshot", "advice", "build_result",
           "write_results_workbook", "write_results_csv"]

RESULT_COLUMNS = APPLY_RESULTS.names      # declared once, in toolkit/frames.py

STATE_VOCABULARY: dict[str, tuple[str, str]] = {
    "done": ("Done", "Carried out and confirmed by Graph."),
    "failed": ("Failed", "Graph refused it; see the error code, message and what to do."),
    "skipped": ("Skipped", "The target changed after planning (stale), so ccsync did not overwrite it."),
    "pending": ("Pending", "Not carried out yet: the run was stopped; continue with --resume."),
    "sent": ("Sent", "Sent when the run stopped; --resume reads the target to learn what happened."),
    "planned": ("Planned", "What-if run: what apply would do; nothing was written."),
}

# (status or Graph error code) -> what to do. Codes first, then statuses.
_ADVICE_BY_CODE = {
    "Authorization_RequestDenied": "Grant the app the Graph permission for this write (User.ReadWrite.All, "
                                   "User.Invite.All, LicenseAssignment.ReadWrite.All, GroupMember.ReadWrite.All) "
                                   "with admin consent, then run apply again with --retry-failed.",
    "Request_BadRequest": "Graph refused a value: correct it in the source (or the mapping), plan again and apply.",
    "Request_ResourceNotFound": "The object is gone or has not replicated: plan again to see the current state.",
    "TooManyRequests": "Graph kept throttling: run apply again later with --resume / --retry-failed.",
}


def advice(kind: str, state: str, status: Any, code: Any, message: Any, result: Any = None) -> str | None:
    """What an admin should do about one operation's outcome (None when nothing)."""
    if state == "skipped" and str(result or "").startswith("existing user"):
        return ("The invitation returned a user that already existed, so ccsync did not link it: check that it is "
                "this source user, then plan again with --adopt (or resolve the duplicate address).")
    if state == "done" and kind == "create" and str(result or "") == "created":
        return None
    if state == "skipped":
        return ("Someone changed this user after the plan was made: export and plan again, review, then apply "
                "the new plan.")
    if state in ("pending", "sent"):
        return "Continue the run: ccsync apply PLAN --profile TARGET --resume."
    if state != "failed":
        return None
    text = str(message or "")
    if kind == "restore" and "proxyaddresses" in text.lower():
        return ("Another object now holds one of the deleted user's proxy addresses: free the address, or apply "
                "again with --auto-reconcile-proxy-conflict (Entra then drops it from the restored user).")
    if kind == "restore" and "userprincipalname" in text.lower():
        return ("Another user now has the deleted user's userPrincipalName: rename or remove that user, then apply "
                "again with --retry-failed.")
    if "usage location" in text.lower():
        return "Set usageLocation on the user (or map it), plan again and apply; licences need a usage location."
    if "available licenses" in text.lower() or "CountViolation" in text:
        return "Buy or free licences of this SKU in the target tenant, then apply with --retry-failed."
    if "already exists" in text.lower():
        return ("An object with this key already exists in the target: resolve the collision (it shows as a "
                "conflict when you plan again).")
    if code and str(code) in _ADVICE_BY_CODE:
        return _ADVICE_BY_CODE[str(code)]
    try:
        st = int(status) if status is not None and not pd.isna(status) else None
    except (TypeError, ValueError):
        st = None
    if st in (401, 403):
        return _ADVICE_BY_CODE["Authorization_RequestDenied"]
    if st == 429 or (st is not None and st >= 500):
        return "A service problem outlived the retries: apply again with --retry-failed later."
    if st is None:
        return "The request got no answer from Graph: check the network, then apply again with --retry-failed."
    return "Read Graph's message, fix the cause in the source or the mapping, plan again and apply."


@dataclass
class ApplyResult:
    """What an apply did (or, with ``what_if``, would do)."""

    frame: pd.DataFrame
    summary: dict[str, Any]
    interrupted: bool = False
    nothing_to_do: bool = False
    what_if: bool = False
    journal: str | None = None
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> int:
        return int((self.frame["state"] == "failed").sum()) if len(self.frame) else 0

    @property
    def exit_code(self) -> int:
        """0 when everything asked for was carried out (or skipped as stale), 1 on failures or interruption."""
        return 1 if self.failed or self.interrupted else 0

    @property
    def failures(self) -> pd.DataFrame:
        return self.frame[self.frame["state"] == "failed"].reset_index(drop=True)

    @property
    def not_selected(self) -> int:
        """How many of the plan's operations this run left out (``--operation``)."""
        return int(self.summary.get("notSelected", 0))

    def message(self) -> str:
        s = self.summary["states"]
        left_out = ""
        if self.not_selected:
            left_out = (f" {self.not_selected} operation(s) of the plan were not selected and are left for a later "
                        "apply (without --operation: the rest).")
        held = len((self.summary.get("selection") or {}).get("notCarriedOut") or [])
        if held:
            left_out += f" {held} selected operation(s) are held or not carried out by apply (see the summary)."
        if self.nothing_to_do and not self.summary["operations"] and not self.not_selected:
            return "Nothing to do: the plan has no operation to carry out (conflicts and blocked users excepted)."
        if self.nothing_to_do and not self.summary["operations"]:
            return "Nothing to do: none of the selected operations is carried out by apply." + left_out
        if self.nothing_to_do:
            what = "the selected operations were" if self.not_selected else "this plan was"
            return (f"Nothing to do: {what} already applied ({s.get('done', 0)} done, "
                    f"{s.get('failed', 0)} failed, {s.get('skipped', 0)} skipped)." + left_out)
        if self.what_if:
            return (f"What if: {s.get('planned', 0)} operation(s) would be carried out, "
                    f"{s.get('skipped', 0)} skipped as stale; nothing was written." + left_out)
        text = (f"{s.get('done', 0)} done, {s.get('failed', 0)} failed, {s.get('skipped', 0)} skipped "
                f"(stale)")
        if self.interrupted:
            text += f"; stopped with {s.get('pending', 0) + s.get('sent', 0)} left: continue with --resume"
        return text + "." + left_out

    def to_dict(self) -> dict[str, Any]:
        return {"summary": self.summary, "interrupted": self.interrupted, "nothingToDo": self.nothing_to_do,
                "whatIf": self.what_if, "journal": self.journal, "message": self.message(),
                "operations": [{k: _plain(v) for k, v in row.items()}
                               for row in self.frame.to_dict(orient="records")]}


def _plain(v: Any) -> Any:
    """A JSON value: None for missing, Python ints for numpy/pandas integers."""
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    return v.item() if hasattr(v, "item") else v


@dataclass(frozen=True)
class OpView:
    """One operation as the run left it: the journal entry's fields plus what the plan and the run know."""

    op_id: str
    kind: str
    state: str
    step: str
    source_upn: str | None
    target_upn: str | None
    target_id: str | None
    attempts: int
    http_status: int | None
    error_code: str | None
    message: str | None
    request_id: str | None
    result: str | None
    create_mode: str                        # 'member' or 'invite' (its own '@createAs', else the plan's)
    invitation: Mapping[str, Any] = field(default_factory=dict)   # externalUserState, inviteRedeemUrl, note


@dataclass(frozen=True)
class RunSnapshot:
    """What a results table needs to know about a finished (or stopped) run, and nothing more."""

    header: Mapping[str, Any]               # the plan's header (source, target)
    operations: tuple[OpView, ...]          # the operations this run dealt with, in plan order
    stats: Mapping[str, Any]                # the Graph client's call statistics
    elapsed: float
    interrupted: bool = False
    journal: str | None = None
    prerequisites: Mapping[str, Any] | None = None
    not_selected: int = 0
    selected: tuple[str, ...] | None = None                 # the op ids asked for (None: the whole plan)
    not_carried_out: tuple[Mapping[str, Any], ...] = ()     # selected, but held, a conflict or blocked


def build_result(run: RunSnapshot, *, nothing_to_do: bool = False, what_if: bool = False) -> ApplyResult:
    rows = []
    for v in run.operations:
        state = v.state
        if what_if and state == "pending":
            state = "planned"
        invitation = v.invitation
        message = v.message
        if invitation.get("note") and state == "done":
            message = invitation["note"]
        rows.append({"opId": v.op_id, "kind": v.kind, "state": state, "step": v.step, "sourceUpn": v.source_upn,
                     "targetUpn": v.target_upn, "targetId": v.target_id, "attempts": v.attempts,
                     "httpStatus": v.http_status, "errorCode": v.error_code, "message": message,
                     "requestId": v.request_id, "result": v.result,
                     "action": advice(v.kind, state, v.http_status, v.error_code, v.message, v.result),
                     "externalUserState": invitation.get("externalUserState"),
                     "inviteRedeemUrl": invitation.get("inviteRedeemUrl")})
    frame = pd.DataFrame(rows, columns=RESULT_COLUMNS)
    frame["attempts"] = frame["attempts"].astype("int64")
    frame["httpStatus"] = frame["httpStatus"].astype("Int64")
    states = {k: int(v) for k, v in frame["state"].value_counts().items()} if len(frame) else {}
    by_kind = {k: int(v) for k, v in frame["kind"].value_counts().items()} if len(frame) else {}
    elapsed = run.elapsed
    stats = dict(run.stats)
    writes = int(stats.get("writes_sent", 0))
    items = int(stats.get("batch_items", 0)) + int(stats.get("requests", 0)) - int(stats.get("batch_requests", 0))
    header = run.header
    creates = _creates_by_mode(run, frame)
    summary = {"target": {"tenantId": header["target"]["tenantId"], "cloud": header["target"]["cloud"],
                          "displayName": header["target"].get("displayName")},
               "source": {"tenantId": header["source"]["tenantId"], "cloud": header["source"]["cloud"],
                          "displayName": header["source"].get("displayName")},
               "createAs": creates["createAs"], "creates": creates["planned"], "created": creates["done"],
               "operations": int(len(frame)),
               "states": states, "kinds": by_kind, "elapsedSeconds": round(elapsed, 3),
               "writesSent": writes, "writesPerSecond": round(writes / elapsed, 3) if elapsed > 0 else 0.0,
               "throttled": int(stats.get("throttled", 0)),
               "throttledShare": round(int(stats.get("throttled", 0)) / items, 5) if items else 0.0}
    summary["notSelected"] = int(run.not_selected)
    if run.selected is not None:
        summary["selection"] = {"operations": sorted(run.selected),
                                "notCarriedOut": [dict(x) for x in run.not_carried_out]}
    if run.prerequisites:
        summary["prerequisites"] = dict(run.prerequisites)  # the target's cross-cloud B2B settings, as read
    return ApplyResult(frame, summary, interrupted=run.interrupted, nothing_to_do=nothing_to_do, what_if=what_if,
                       journal=run.journal, stats=stats)


def _creates_by_mode(run: RunSnapshot, frame: pd.DataFrame) -> dict[str, Any]:
    """Creates counted by how each one is carried out (its own '@createAs': a migration mixes members and
    invitations), never by the plan header's default. ``done`` counts the creates carried out."""
    planned = {"members": 0, "invitations": 0}
    done = {"members": 0, "invitations": 0}
    mode = {v.op_id: v.create_mode for v in run.operations}
    for op_id, kind, state in zip(frame["opId"], frame["kind"], frame["state"]):
        if kind != "create":
            continue
        key = "members" if mode[op_id] == "member" else "invitations"
        planned[key] += 1
        done[key] += int(state == "done")
    modes = [k for k, n in planned.items() if n]
    label = {("members",): "member", ("invitations",): "invite"}.get(tuple(modes), "mixed" if modes else None)
    return {"createAs": label, "planned": planned, "done": done}


def write_results_workbook(result: ApplyResult, path: str | os.PathLike[str], *, plan_file: str | None = None,
                           generated_at: dt.datetime | None = None, definition: Any = "apply-results") -> Path:
    """The results workbook (``reports/apply-results.toml``): summary, failures with what to do, every op."""
    from ..report import build_workbook, load_definition

    d = load_definition(definition) if isinstance(definition, (str, os.PathLike)) else definition
    frame = result.frame
    values = dict(result.summary)
    values.update({"targetName": result.summary["target"].get("displayName") or result.summary["target"]["tenantId"],
                   "sourceName": result.summary["source"].get("displayName") or result.summary["source"]["tenantId"],
                   "done": result.summary["states"].get("done", 0),
                   "failed": result.summary["states"].get("failed", 0),
                   "skipped": result.summary["states"].get("skipped", 0),
                   "left": result.summary["states"].get("pending", 0) + result.summary["states"].get("sent", 0),
                   "outcome": result.message()})
    if plan_file:
        values["planFile"] = str(plan_file)
    if result.journal:
        values["journalFile"] = result.journal
    frames = {"operations": frame, "failures": frame[frame["state"] == "failed"].reset_index(drop=True),
              "skipped": frame[frame["state"] == "skipped"].reset_index(drop=True)}
    return build_workbook(d, path, frames=frames, values=values, vocabularies={"states": STATE_VOCABULARY},
                          generated_at=generated_at)


def write_results_csv(result: ApplyResult, path: str | os.PathLike[str]) -> Path:
    """Every operation's outcome as Excel-friendly CSV."""
    from ..report import write_csv

    return write_csv(result.frame, path)
