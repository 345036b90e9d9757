"""Export in the simulated sync engine: what a cycle does for one in-scope source user.

Create the target user (unless a user with the same mail is already linked), or restore a soft-deleted match,
or update the mapped attributes that changed; queue a disable when the source user is blocked (it counts toward
the deletion threshold, see ``syncdeletes``). The mapping's values for the target and the documented export
errors (automatic redemption, mail domain, proxy and UPN conflicts) live here. Sources:
docs/entra-sync-simulator.md, "Sync engine"; known-issues.md; howto-analyze-provisioning-logs.md (graph-facts 10);
the overview FAQ "Deprovisioning".
"""

from __future__ import annotations

from typing import Any

from .synccycle import Cycle
from .synclog import record
from .syncmatch import alt_sec_index, match_key
from .syncschema import evaluate
from .synctarget import create_target_user, modified_properties, restore_target_user, update_target_user

__all__ = ["provision", "flow_types"]

_NOT_WRITTEN = {"alternativeSecurityIds", "IsSoftDeleted"}     # drive matching / deletion, not target properties


def provision(cycle: Cycle, user: dict[str, Any], read: Any, key: Any, match: dict[str, Any] | None,
               match_deleted: bool, scoping: dict[str, str]) -> None:
    target = cycle.target
    uid = user["id"]
    if match is None:
        if "Add" not in flow_types(cycle):
            return
        values = _target_values(cycle, read, creating=True)
        # Two source users with the same mail: one target user, linked to both (known-issues.md).
        mail = str(values.get("mail") or "").lower()
        if mail:
            twins = cycle.linked_mail
            if twins is None:
                twins = {str(target.users[t].get("mail") or "").lower(): t for t in cycle.job.links.values()
                         if t in target.users}
                cycle.linked_mail = twins
            if mail in twins and twins[mail] in target.users:
                cycle.job.links[uid] = twins[mail]
                return
        error = _create_error(cycle, values)
        cycle.counts["exports"] += 1
        if error is not None:
            cycle.counts["escrowed"] += 1
            record(cycle, "create", "failure", user, None, scoping, read, modified_properties({}, values),
                   error=error)
            return
        created = create_target_user(cycle, values, key)
        if key:
            alt_sec_index(cycle)[match_key(key)] = (created["id"], False)
        _taken_upns(cycle).add(str(created.get("userPrincipalName", "")).lower())
        cycle.job.links[uid] = created["id"]
        if mail and cycle.linked_mail is not None:
            cycle.linked_mail[mail] = created["id"]
        cycle.job.exported[uid] = dict(values)
        cycle.counts["exported"] += 1
        cycle.counts["deltas"] += 1
        record(cycle, "create", "success", user, created, scoping, read, modified_properties({}, values))
        return
    cycle.job.links[uid] = match["id"]
    cycle.job.staged_deletes.pop(uid, None)
    if match_deleted:
        # Back in scope within 30 days: the soft-deleted target user is restored (overview FAQ
        # "Deprovisioning"; [CTS-PORTAL] says the next cycle does not restore - we follow the FAQ).
        restore_target_user(cycle, match)
        cycle.counts["exports"] += 1
        cycle.counts["exported"] += 1
        cycle.counts["deltas"] += 1
        record(cycle, "update", "success", user, match, scoping, read, [("IsSoftDeleted", "True", "False")])
    values = _target_values(cycle, read, creating=False)
    last = cycle.job.exported.get(uid)
    if not match_deleted and last is not None and all(last.get(k) == v for k, v in values.items()):
        # Sync does not read the target: edits made there persist until the source user changes ([OVERVIEW]
        # "target-side edits"; a target admin's block is lifted when the source user changes).
        return
    if "Update" not in flow_types(cycle):
        return
    if values.get("accountEnabled") is False and match.get("accountEnabled") is not False:
        # Disable: the source user is blocked; it counts toward the deletion threshold (accidental-deletions.md).
        cycle.disables.append((uid, match, "disable"))
        cycle.job.staged_deletes.setdefault(uid, "disable")
        cycle.remember(uid, user, scoping, read)
        values.pop("accountEnabled")
    changes = {k: v for k, v in values.items() if match.get(k) != v}
    if not changes:
        cycle.job.exported[uid] = {**(last or {}), **values}
        return
    cycle.counts["exports"] += 1
    cycle.counts["deltas"] += 1
    error = _update_error(cycle)
    if error is not None:
        cycle.counts["escrowed"] += 1
        record(cycle, "update", "failure", user, match, scoping, read, modified_properties(match, changes),
               error=error)
        return
    old = {k: match.get(k) for k in changes}
    update_target_user(cycle, match, changes)
    cycle.job.exported[uid] = {**(last or {}), **values}
    cycle.counts["exported"] += 1
    record(cycle, "update", "success", user, match, scoping, read, modified_properties(old, changes))


def flow_types(cycle: Cycle) -> set[str]:
    """The object mapping's target object actions ("Add, Update, Delete"); the portal's "Target Object Actions"
    (graph-facts 10: unticking Delete stops soft deletes)."""
    return {t.strip() for t in str(cycle.mapping.get("flowTypes") or "Add, Update, Delete").split(",")}


def _target_values(cycle: Cycle, read: Any, creating: bool) -> dict[str, Any]:
    """Mapped values for the target (null source values are not provisioned: known-issues.md)."""
    out: dict[str, Any] = {}
    for m in cycle.mapping.get("attributeMappings") or []:
        name = m.get("targetAttributeName")
        if not name or name in _NOT_WRITTEN:
            continue
        if m.get("flowType") == "ObjectAddOnly" and not creating:
            continue
        value = evaluate(m.get("source") or {}, read)
        if value is None and m.get("defaultValue") not in (None, ""):
            value = m["defaultValue"]
        if value is None:
            continue
        out[name] = _typed(name, value, cycle.target.initial_domain)
    return out


def _typed(name: str, value: Any, target_domain: str) -> Any:
    if name in ("accountEnabled", "showInAddressList"):
        return value if isinstance(value, bool) else str(value).lower() == "true"
    if name == "userPrincipalName":
        # B2B users carry the external form of the home UPN (the form invitations produce, graph-facts 9.1); the
        # docs do not spell out this transformation for sync.
        text = str(value)
        return text if "#EXT#" in text.upper() else f"{text.replace('@', '_')}#EXT#@{target_domain}"
    return value


def _b2b_error(cycle: Cycle) -> dict[str, Any] | None:
    if not cycle.target.cross_tenant.automatic_redemption(cycle.source.tenant_id, "inbound"):
        # howto-analyze-provisioning-logs.md (graph-facts 10): automatic redemption missing on either side
        return _error("AzureDirectoryB2BManagementPolicyCheckFailure",
                      "Policy permitting auto-redemption of invitations not configured.",
                      "Enable automatic redemption: outbound in the source tenant and inbound in the target tenant.")
    return None


def _create_error(cycle: Cycle, values: dict[str, Any]) -> dict[str, Any] | None:
    error = _b2b_error(cycle)
    if error is not None:
        return error
    mail = str(values.get("mail") or "")
    if mail:
        domain = mail.rsplit("@", 1)[-1].lower()
        if domain not in cycle.source.verified_domains():
            # the source mail must be on a verified domain (known-issues.md)
            return _error("InvitationCreationFailureInvalidPropertyValue",
                          f"The mail '{mail}' is not on a verified domain of the source tenant.",
                          "Give the user a mail address on a verified domain of the source tenant.")
        holder = _internal_proxies(cycle).get(f"smtp:{mail.lower()}")
        if holder is not None:
            return _error("InvitationCreationFailureAmbiguousUser",
                          f"A proxy address of the invited user matches the internal user '{holder}' in the target "
                          "tenant.", "Delete or change the conflicting internal user, or remove the user from scope.")
    upn = values.get("userPrincipalName")
    if upn and str(upn).lower() in _taken_upns(cycle):
        return _error("InvitationCreationFailure", f"Another object with the userPrincipalName '{upn}' exists.",
                      "Contact support if the conflict cannot be resolved in the target tenant.")
    return None


def _internal_proxies(cycle: Cycle) -> dict[str, str]:
    """smtp proxy address (lower case) -> UPN of the target's INTERNAL user holding it (once per cycle)."""
    if cycle.proxies is None:
        cycle.proxies = {str(p).lower(): str(u.get("userPrincipalName")) for u in cycle.target.users.values()
                         if u.get("creationType") != "Invitation" for p in u.get("proxyAddresses") or []}
    return cycle.proxies


def _taken_upns(cycle: Cycle) -> set[str]:
    """UPNs of the target's live and soft-deleted users (Graph keeps deleted UPNs taken), once per cycle."""
    if cycle.upns is None:
        cycle.upns = {str(u.get("userPrincipalName", "")).lower() for pool in (cycle.target.users,
                      cycle.target.deleted) for u in pool.values()}
    return cycle.upns


def _update_error(cycle: Cycle) -> dict[str, Any] | None:
    return _b2b_error(cycle)


def _error(code: str, reason: str, action: str) -> dict[str, Any]:
    return {"errorCode": code, "errorCategory": "NonServiceFailure", "reason": reason,
            "additionalDetails": None, "recommendedAction": action}
