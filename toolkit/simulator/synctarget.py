"""What the simulated sync engine writes in the target tenant: users created, updated, soft-deleted and
restored as Entra's sync does it, each with the target's audit entry naming Microsoft.Azure.SyncFabric.

Synced users are external members, already redeemed (creationType Invitation, externalUserState Accepted)
(docs/entra-sync-simulator.md, "Sync engine"; [CTS-PORTAL] step 13).
"""

from __future__ import annotations

import uuid
from types import SimpleNamespace
from typing import Any

from .login.directory import SimApp
from .synccycle import Cycle, iso

__all__ = ["SYNC_FABRIC", "modified_properties", "create_target_user", "update_target_user",
           "soft_delete_target_user", "restore_target_user"]

# The first-party app that writes synced users in the target's audit log ([CTS-PORTAL] step 13). Its appId is
# the one seen in tenants' audit logs, not taken from a Microsoft page.
SYNC_FABRIC = SimApp(app_id="00000014-0000-0000-c000-000000000000", display_name="Microsoft.Azure.SyncFabric")


def modified_properties(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    return [(k, old.get(k), v) for k, v in new.items()]


def create_target_user(cycle: Cycle, values: dict[str, Any], key: Any) -> dict[str, Any]:
    from .graph_api import add_new_user      # the one place that adds a user to a simulated directory

    target = cycle.target
    uid = str(uuid.uuid4())
    now = iso(fraction=False)
    mail = values.get("mail")
    user: dict[str, Any] = {
        "id": uid, "createdDateTime": now, "businessPhones": [], "userType": "Member",
        "creationType": "Invitation", "externalUserState": "Accepted", "externalUserStateChangeDateTime": now,
        "otherMails": [mail] if mail else [], "proxyAddresses": [f"SMTP:{mail}"] if mail else [],
        "identities": [{"signInType": "federated", "issuer": "ExternalAzureAD", "issuerAssignedId": None}]}
    user.update(values)
    user.setdefault("accountEnabled", True)
    if "mailNickname" not in user:
        user["mailNickname"] = str(user.get("userPrincipalName", uid)).split("@")[0]
    add_new_user(SimpleNamespace(replication_lag_s=0.0), target, user)
    target.annotations.setdefault(uid, {})["@sim.alternativeSecurityIds"] = key
    target.add_audit(activity="Add user", category="UserManagement", operation="Add", app=SYNC_FABRIC,
                     target=user, target_type="User", modified=modified_properties({}, values))
    return user


def update_target_user(cycle: Cycle, user: dict[str, Any], changes: dict[str, Any]) -> None:
    target = cycle.target
    old = {k: user.get(k) for k in changes}
    user.update(changes)
    if "userPrincipalName" in changes:
        target.invalidate_upns()
    target.record_change(user["id"], "upsert", changes.keys())
    target.add_audit(activity="Update user", category="UserManagement", operation="Update", app=SYNC_FABRIC,
                     target=user, target_type="User", modified=modified_properties(old, changes))


def soft_delete_target_user(cycle: Cycle, user: dict[str, Any]) -> None:
    target = cycle.target
    uid = user["id"]
    target.users.pop(uid, None)
    user["deletedDateTime"] = iso(fraction=False)
    user["_directLicenses"] = target.direct_licenses.pop(uid, [])
    user["_groups"] = [g["id"] for g in target.groups.values() if uid in g["members"]]
    for g in target.groups.values():
        if uid in g["members"]:
            g["members"].remove(uid)
    target.deleted[uid] = user
    target.relicense_user(uid)
    target.record_change(uid, "softdelete")
    target.add_audit(activity="Delete user", category="UserManagement", operation="Delete", app=SYNC_FABRIC,
                     target=user, target_type="User")


def restore_target_user(cycle: Cycle, user: dict[str, Any]) -> None:
    target = cycle.target
    uid = user["id"]
    target.deleted.pop(uid, None)
    user.pop("deletedDateTime", None)
    target.direct_licenses[uid] = user.pop("_directLicenses", [])
    for gid in user.pop("_groups", []) or []:
        if gid in target.groups and uid not in target.groups[gid]["members"]:
            target.groups[gid]["members"].append(uid)
    target.users[uid] = user
    target.relicense_user(uid)
    target.invalidate_upns()
    target.record_change(uid, "upsert")
    target.add_audit(activity="Restore user", category="UserManagement", operation="Restore", app=SYNC_FABRIC,
                     target=user, target_type="User")
