"""Scoping in the simulated sync engine: which source users a cycle looks at and whether each is in scope.

Assigned users and DIRECT members of assigned groups (every user with SyncAll); internal members only (no guests
or external users, no users with SMS sign-in); then the job's scoping filters. The attribute reader that the
mapping's expressions and filters use lives here too. Sources: docs/entra-sync-simulator.md, "Sync engine";
[CTS-PORTAL] step 7; known-issues.md; graph-facts 3.
"""

from __future__ import annotations

import json
from typing import Any, Callable, NamedTuple

from .synccycle import Cycle
from .syncschema import net_id, scope_result

__all__ = ["load_assignments", "is_internal_member", "source_attributes", "ScopeVerdict", "scope_of"]


def load_assignments(cycle: Cycle, sync_all: bool) -> None:
    """Users in scope of the assignment: every user with SyncAll, else assigned users and DIRECT members of
    assigned groups ([CTS-PORTAL] step 7: nested groups are not cascaded)."""
    source = cycle.source
    if sync_all:
        cycle.assigned = {uid: True for uid in source.users}
        return
    for a in source.enterprise_apps.assignments(cycle.sp["id"]):
        pid = a["principalId"]
        if a["principalType"] == "User":
            cycle.assigned[pid] = True
        elif pid in source.groups:
            for member in source.groups[pid]["members"]:
                if member in source.users:
                    cycle.assigned[member] = True


def is_internal_member(user: dict[str, Any]) -> bool:
    # Only internal members of the source are synced: not guests, not external (B2B) users (graph-facts 3).
    return (user.get("userType", "Member") == "Member" and user.get("creationType") != "Invitation"
            and "#EXT#" not in str(user.get("userPrincipalName", "")).upper())


def sms_sign_in(source: Any, uid: str) -> bool:
    # Users with SMS sign-in are skipped (known-issues.md). Graph does not show the setting: seeds mark such
    # users with "@sim.smsSignIn": true.
    return bool(source.annotations.get(uid, {}).get("@sim.smsSignIn"))


def source_attributes(cycle: Cycle, user: dict[str, Any], deleted: bool = False):
    uid = user["id"]

    def read(name: str) -> Any:
        if name == "netId":
            return net_id(cycle.source.tenant_id, uid)
        if name == "objectId":
            return uid
        if name == "IsSoftDeleted":
            return deleted
        if name == "appRoleAssignments":
            return "msiam_access" if cycle.assigned.get(uid) else None
        value = user.get(name)
        if value is None:   # attribute names are case-insensitive in schemas
            value = next((v for k, v in user.items() if k.lower() == name.lower()), None)
        return value
    return read


class ScopeVerdict(NamedTuple):
    """A source user's scoping: ``read`` gives its attributes as the mapping reads them; ``scoping`` is the
    scoping step's details in its provisioning record."""

    read: Callable[[str], Any]
    assigned: bool
    in_scope: bool
    scoping: dict[str, str]


def scope_of(cycle: Cycle, uid: str, user: dict[str, Any], deleted_source: bool) -> ScopeVerdict:
    """Whether a source user is in scope: assigned, an internal member without SMS sign-in, and passing the
    job's scoping filters."""
    read = source_attributes(cycle, user, deleted_source)
    in_filter, filter_detail = scope_result(cycle.mapping.get("scope"), read)
    assigned = bool(cycle.assigned.get(uid)) and not deleted_source
    internal = is_internal_member(user) and not sms_sign_in(cycle.source, uid)
    in_scope = assigned and internal and in_filter
    scoping = {"Active in the source system": str(not deleted_source), "Assigned to the application": str(assigned),
               "User has the required role": str(assigned), "Scoping filter evaluation passed": str(in_filter),
               "ScopeEvaluationResult": json.dumps(filter_detail)}
    return ScopeVerdict(read, assigned, in_scope, scoping)
