"""Matching in the simulated sync engine: which target user a source user is linked to.

The job's own link first, then any EXTERNAL target user with the same alternativeSecurityIds
(AltSecIdFromNetId([netId])); sync never matches an internal target user (graph-facts 3). A redeemed B2B user
that was not created by sync is matched through the home account its mail signs in to ([CTS-PORTAL]
troubleshooting).
"""

from __future__ import annotations

import json
from typing import Any

from .synccycle import Cycle
from .syncschema import alt_sec_id, evaluate, net_id

__all__ = ["matching_value", "find_match", "match_key", "alt_sec_index"]


def matching_value(cycle: Cycle, read: Any) -> list[dict[str, Any]] | None:
    for m in cycle.mapping.get("attributeMappings") or []:
        if int(m.get("matchingPriority") or 0) > 0:
            return evaluate(m.get("source") or {}, read)
    return None


def _target_alt_sec_ids(cycle: Cycle, user: dict[str, Any]) -> list[dict[str, Any]] | None:
    """A target user's alternativeSecurityIds: set by sync, or by redemption. A seeded B2B user that has
    redeemed (Accepted) is linked to the home account its mail signs in to; PendingAcceptance users have none
    ([CTS-PORTAL] troubleshooting)."""
    note = cycle.target.annotations.get(user["id"], {}).get("@sim.alternativeSecurityIds")
    if note:
        return note
    if user.get("creationType") != "Invitation" or user.get("externalUserState") != "Accepted":
        return None
    mail = str(user.get("mail") or "").lower()
    home = cycle.directory.find_tenant(mail.rsplit("@", 1)[-1]) if "@" in mail else None
    if home is None or home is cycle.target:
        return None
    homes = cycle.homes
    if home.tenant_id not in homes:
        by_mail: dict[str, str] = {}
        for u in home.users.values():
            for address in (u.get("mail"), u.get("userPrincipalName")):
                if address:
                    by_mail.setdefault(str(address).lower(), u["id"])
        homes[home.tenant_id] = by_mail
    home_user = homes[home.tenant_id].get(mail)
    return alt_sec_id(net_id(home.tenant_id, home_user)) if home_user else None


def find_match(cycle: Cycle, key: list[dict[str, Any]] | None, source_id: str) -> tuple[dict[str, Any] | None, bool]:
    """(target user, soft-deleted?) linked to this source user: the job's own link first, then any EXTERNAL
    target user with the same alternativeSecurityIds (sync never matches internal users, graph-facts 3)."""
    target = cycle.target
    linked = cycle.job.links.get(source_id)
    if linked:
        if linked in target.users:
            return target.users[linked], False
        if linked in target.deleted:
            return target.deleted[linked], True
    if not key:
        return None, False
    found = alt_sec_index(cycle).get(match_key(key))
    if found is None:
        return None, False
    uid, deleted = found
    pool = target.deleted if deleted else target.users
    return (pool[uid], deleted) if uid in pool else (None, False)


def match_key(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def alt_sec_index(cycle: Cycle) -> dict[str, tuple[str, bool]]:
    """alternativeSecurityIds -> (target user id, soft-deleted?) over the target's external users, built once a
    cycle (a scan per source user would be quadratic on large tenants)."""
    index = cycle.alt_index
    if index is None:
        index = {}
        for pool, deleted in ((cycle.target.deleted, True), (cycle.target.users, False)):
            for u in pool.values():
                if u.get("creationType") == "Invitation":
                    ids = _target_alt_sec_ids(cycle, u)
                    if ids:
                        index[match_key(ids)] = (u["id"], deleted)
        cycle.alt_index = index
    return index
