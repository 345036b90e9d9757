"""Scope changes that bring Entra's sync job to a desired scope: group assignments and direct memberships.

The job's scope is "Sync only assigned users and groups" (``SyncAll`` false): the direct members of the groups
assigned to the configuration's ``msiam_access`` role (graph-facts 2.2 step I; nested groups are not
cascaded), then the schema's scoping filter. A desired scope is written in ccsync's scope-file syntax
(``toolkit.plan.rules``): ``group NAME`` lines and ``filter`` blocks. The changes, in this order:

============== ==========================================================================================
assignGroup    a group of the scope file that is not assigned to the job yet (POST appRoleAssignedTo)
unassignGroup  an assigned group the scope file does not list (only when the scope file lists groups)
addMember      a user the scope wants who is not a direct member of any wanted group: added to the first
               one (only when the scope file lists no groups: the job's assigned groups are then the wanted)
removeMember   a direct member of a wanted group whom the scope's filters exclude: removed from that group
============== ==========================================================================================

Users assigned to the job directly (not through a group) are never changed; they are named in ``notes``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace

import pandas as pd

from ..errors import InputError
from ..frames import GROUP_MEMBERS, TenantData, conform
from .entra_predict import JobState
from .columns import lower_text as _lower
from .rules import Scope

__all__ = ["ScopeChanges", "plan_scope_changes", "SCOPE_CHANGE_COLUMNS", "SCOPE_ACTIONS"]

SCOPE_ACTIONS = ("assignGroup", "unassignGroup", "addMember", "removeMember")
SCOPE_CHANGE_COLUMNS = ["changeId", "action", "groupId", "groupName", "userId", "userPrincipalName"]


@dataclass
class ScopeChanges:
    changes: pd.DataFrame                  # SCOPE_CHANGE_COLUMNS, in apply order
    source_after: TenantData               # the source as it will be after the changes (group members)
    job_after: JobState                    # the job as it will be (assigned groups)
    notes: list[str] = field(default_factory=list)

    def to_list(self) -> list[dict]:
        return [{k: (None if pd.isna(v) else v) for k, v in row.items()}
                for row in self.changes.to_dict("records")]


def _change_id(action: str, group: str, user: str | None) -> str:
    # Stable across re-planning, so apply's journal recognises a change it has already made.
    key = f"{action}|{group}|{user or ''}"
    return f"{action[:3]}-{hashlib.sha1(key.encode()).hexdigest()[:12]}"


def plan_scope_changes(source: TenantData, job: JobState, desired: Scope) -> ScopeChanges:
    if job.sync_all:
        raise InputError("the job synchronizes all users (SyncAll is true), so group membership does not decide "
                         "its scope", hint="Set the configuration's scope to 'Sync only assigned users and "
                                           "groups' first (ccsync xts enable does).")
    gm = source.group_members
    names = dict(zip(_lower(gm["groupId"]), gm["groupId"]))
    names.update(dict(zip(_lower(gm["groupDisplayName"]), gm["groupId"])))
    display = dict(zip(gm["groupId"], gm["groupDisplayName"]))

    def resolve(g: str, what: str) -> str | None:
        hit = names.get(g.lower())
        if hit is None and what == "scope":
            raise InputError(f"the scope file's group {g!r} is not in the source export (or has no members)",
                             source=desired.source, hint="Export the source with --group for it, or fix the name.")
        return hit if hit is not None else g

    assigned = [resolve(g, "job") for g in job.assigned_groups]
    wanted = [resolve(g, "scope") for g in desired.groups] if desired.groups else list(assigned)
    if not wanted:
        raise InputError("the job has no assigned group and the scope file lists none: there is no group to put "
                         "users in", source=desired.source, hint="Add a 'group NAME' line to the scope file.")
    users = source.users.reset_index(drop=True)
    internal = ((users["userType"].fillna("Member") == "Member")
                & (users["creationType"].isna() | (users["creationType"] != "Invitation")))
    passes = desired.filter_mask(users) & internal
    upn = dict(zip(users["id"], users["userPrincipalName"]))
    direct = gm[gm["groupId"].isin(wanted) & gm["memberId"].isin(set(users["id"]))]
    rows: list[dict] = []

    def add(action: str, group: str, user: str | None) -> None:
        rows.append({"changeId": _change_id(action, group, user), "action": action, "groupId": group,
                     "groupName": display.get(group, group), "userId": user,
                     "userPrincipalName": upn.get(user) if user else None})

    for g in wanted:
        if g not in assigned:
            add("assignGroup", g, None)
    if desired.groups:
        for g in assigned:
            if g not in wanted:
                add("unassignGroup", g, None)
    else:
        members = set(direct["memberId"])
        for uid in users.loc[passes, "id"]:
            if uid not in members:
                add("addMember", wanted[0], uid)
    excluded = set(users.loc[~passes, "id"])
    for g, uid in sorted(zip(direct["groupId"], direct["memberId"])):
        if uid in excluded:
            add("removeMember", g, uid)

    changes = pd.DataFrame(rows, columns=SCOPE_CHANGE_COLUMNS)
    order = {a: i for i, a in enumerate(SCOPE_ACTIONS)}
    changes = changes.sort_values(["action", "groupName", "userPrincipalName"], key=lambda s: s.map(order)
                                  if s.name == "action" else s.astype("string").str.lower(),
                                  kind="mergesort").reset_index(drop=True)

    # The source after the changes: memberships added/removed; the job: assigned groups.
    removed = {(r.groupId, r.userId) for r in changes.itertuples() if r.action == "removeMember"}
    kept = gm[[(g, m) not in removed for g, m in zip(gm["groupId"], gm["memberId"])]]
    added = [{"groupId": r.groupId, "groupDisplayName": r.groupName, "memberId": r.userId,
              "memberType": "#microsoft.graph.user"} for r in changes.itertuples() if r.action == "addMember"]
    group_members = conform(pd.concat([kept, conform(added, GROUP_MEMBERS)], ignore_index=True), GROUP_MEMBERS) \
        if added else kept.reset_index(drop=True)
    job_after = replace(job, assigned_groups=tuple(wanted))
    notes = []
    direct_users = [u for u in job.assigned_users if u in excluded]
    if direct_users:
        notes.append(f"{len(direct_users)} user(s) assigned to the job directly are outside the desired scope; "
                     "ccsync does not change direct assignments: " + ", ".join(sorted(str(upn.get(u, u))
                                                                                     for u in direct_users)))
    return ScopeChanges(changes, replace(source, group_members=group_members), job_after, notes)
