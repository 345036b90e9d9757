"""Deletions in the simulated sync engine, held to the accidental-deletion threshold.

A cycle's soft deletes (users leaving scope) and disables (source users blocked) are applied together, unless
there are more than the threshold (accidental-deletions.md): then none is applied, each is logged as
stageddelete, and the job goes to quarantine TooManyDeletes until a restart with ForceDeletes.
"""

from __future__ import annotations

from typing import Any

from .synccycle import Cycle
from .synclog import record
from .syncstatus import quarantine
from .synctarget import soft_delete_target_user, update_target_user

__all__ = ["DEFAULT_DELETE_THRESHOLD", "delete_threshold", "apply_deletions"]

DEFAULT_DELETE_THRESHOLD = 500      # accidental-deletions.md: default threshold


def delete_threshold(settings: dict[str, Any]) -> int | None:
    """The accidental-deletion threshold from SyncNotificationSettings: None when DeleteThresholdEnabled is
    false; DeleteThresholdValue, else the default 500 (accidental-deletions.md, graph-facts 2.2 step H)."""
    if settings.get("DeleteThresholdEnabled") is False or str(settings.get("DeleteThresholdEnabled")).lower() == "false":
        return None
    try:
        return int(settings.get("DeleteThresholdValue", DEFAULT_DELETE_THRESHOLD))
    except (TypeError, ValueError):
        return DEFAULT_DELETE_THRESHOLD


def apply_deletions(cycle: Cycle, pending: list[tuple[str, dict[str, Any], str]], threshold: int | None,
                     whole_cycle: bool = True) -> None:
    """Deletes and disables of this cycle, unless there are more than the threshold (accidental-deletions.md):
    then none is applied, each is logged as stageddelete, and the job goes to quarantine TooManyDeletes.
    Restart with ForceDeletes applies them on the next cycle. On demand (``whole_cycle`` False) there is no
    threshold and the other users' held deletions stay held."""
    job = cycle.job
    context = cycle.context
    live = {uid for uid, _, _ in pending}
    if whole_cycle:
        for uid in [u for u in job.staged_deletes if u not in live]:
            job.staged_deletes.pop(uid)      # back in scope or already handled: nothing held for it any more
    if not pending:
        return
    if threshold is not None and len(pending) > threshold and not job.force_deletes:
        for uid, match, kind in pending:
            user, scoping, read = context[uid]
            record(cycle, "stageddelete", "skipped", user, match, scoping, read, [], staged=kind)
        quarantine(job, "TooManyDeletes", {
            "code": "TooManyDeletes", "tenantActionable": True,
            "message": f"The job has {len(pending)} deletions or disables to apply, more than the accidental "
                       f"deletion threshold of {threshold}."})
        cycle.quarantined = True
        return
    for uid, match, kind in pending:
        user, scoping, read = context[uid]
        cycle.counts["exports"] += 1
        cycle.counts["deltas"] += 1
        if kind == "disable":
            update_target_user(cycle, match, {"accountEnabled": False})
            job.exported[uid] = {**job.exported.get(uid, {}), "accountEnabled": False}
            record(cycle, "disable", "success", user, match, scoping, read, [("accountEnabled", True, False)])
        else:
            soft_delete_target_user(cycle, match)
            record(cycle, "delete", "success", user, match, scoping, read, [("IsSoftDeleted", "False", "True")])
        cycle.counts["exported"] += 1
        job.staged_deletes.pop(uid, None)
    if whole_cycle:
        job.force_deletes = False
