"""Verify: everything an apply checks before it sends a write.

* ``verify_target``: the plan's target tenant and cloud are the ones the profile reaches (``GET /organization``);
* ``refuse_unsafe``: an interrupted earlier run is only continued with ``resume``; deletes and disables need
  ``allow_destructive``; a finished selection is nothing to do;
* ``check_stale``: the users that updates, disables and deletes touch are re-read in ``$batch``es of 20 GETs; an
  operation whose target no longer matches the plan's 'before' values (or is gone) is ``skipped``, never
  clobbered;
* ``check_deleted``: a create whose linked user sits in the deleted items becomes a restore of that user.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..clouds import get_cloud
from ..errors import InputError
from ..graph import MAX_BATCH, GraphClient
from ..plan.planfile import SyncPlan
from .journal import TERMINAL
from .operations import is_done, stale_reason
from .reads import chunks, get_users

if TYPE_CHECKING:
    from .run import Run

__all__ = ["verify_target", "refuse_unsafe", "check_stale", "check_deleted"]


def verify_target(plan: SyncPlan, client: GraphClient, cloud: str) -> dict[str, Any]:
    """Refuse a plan whose target is not the tenant and cloud this client reaches; returns the organization."""
    target = plan.header["target"]
    planned_cloud = get_cloud(str(target["cloud"])).name
    profile_cloud = get_cloud(cloud).name
    if planned_cloud != profile_cloud:
        raise InputError(f"the plan targets the {planned_cloud} cloud, but the profile signs in to {profile_cloud}; "
                         "nothing was written", field="target.cloud",
                         hint="Use the profile of the plan's target tenant (see 'ccsync login').")
    org = client.get("organization", params={"$select": "id,displayName"})
    values = org.get("value", []) if isinstance(org, dict) else []
    tid = str(values[0].get("id", "")).lower() if values else ""
    if tid != str(target["tenantId"]).lower():
        raise InputError(f"the plan targets tenant {target['tenantId']} ({target.get('displayName') or '?'}), but "
                         f"the profile reaches tenant {tid or '?'}; nothing was written", field="target.tenantId",
                         hint="Use the profile of the plan's target tenant, or make a plan for this tenant.")
    return values[0]


def refuse_unsafe(run: "Run", *, fresh: bool) -> bool:
    """Raise InputError for an interrupted run without ``resume`` or unconfirmed deletes/disables; reset failed
    operations for ``retry_failed``. Returns True when the selected operations leave nothing to do."""
    opts = run.opts
    chosen = run.chosen()            # only the selected operations are looked at, changed or sent
    states = {e.state for e in chosen}
    if not fresh and not opts.what_if:
        unfinished = any(e.state in ("pending", "sent") and e.attempts > 0 for e in chosen)
        if unfinished and not opts.resume:
            raise InputError("an earlier apply of this plan was interrupted", source=str(run.journal.path),
                             hint="Continue it with --resume (ccsync re-reads the target before resending "
                                  "anything whose outcome is unknown).")
    if opts.retry_failed:
        for e in chosen:
            if e.state == "failed":
                run.set(e.op_id, state="pending", http_status=None, error_code=None, message=None,
                        request_id=None)
        run.flush()
    if not fresh and states <= TERMINAL and not opts.retry_failed and chosen:
        return True
    if not chosen:
        return True
    destructive = [e for e in chosen if e.kind in ("delete", "disable") and e.state not in TERMINAL]
    if destructive and not opts.allow_destructive and not opts.what_if:
        n_del = sum(1 for e in destructive if e.kind == "delete")
        raise InputError(f"the plan deletes {n_del} and disables {len(destructive) - n_del} target users; "
                         "nothing was written", field="confirmation",
                         hint="Review the plan, then confirm (or pass --yes / allow_destructive=True).")
    return False


def check_stale(run: "Run") -> None:
    check = [o for o in run.order if run.entries[o].state == "pending" and run.entries[o].step == "main"
             and run.ops[o].kind in ("update", "disable", "delete")]
    for chunk in chunks(check, MAX_BATCH * 10):
        current = get_users(run, chunk)
        for o in chunk:
            op = run.ops[o]
            user = current[o]
            if user is not None and op.kind != "delete" and is_done(op, user) and run.entries[o].attempts:
                run.set(o, state="done", result=f"updated {len(op.attrs)} attribute(s)")
                continue
            reason = stale_reason(op, user, allow_done=bool(run.entries[o].attempts))
            if reason:
                run.set(o, state="skipped", result="stale", message=reason)


def check_deleted(run: "Run") -> None:
    """A create whose linked user is in the deleted items becomes a restore (never a second user)."""
    creates = [o for o in run.order if run.entries[o].state == "pending" and run.entries[o].step == "main"
               and run.ops[o].kind == "create"]
    if not creates:
        return
    deleted: dict[str, str] = {}
    for user in run.client.iter_items("directory/deletedItems/microsoft.graph.user",
                                      params={"$select": "id,onPremisesExtensionAttributes"}):
        ext = user.get("onPremisesExtensionAttributes") or {}
        link = ext.get(run.link_attr) if isinstance(ext, dict) else None
        if link:
            deleted[str(link)] = user["id"]
    for o in creates:
        op = run.ops[o]
        if op.link in deleted:
            op.kind = "restore"
            op.target_id = deleted[op.link]
            run.set(o, kind="restore", target_id=op.target_id)
