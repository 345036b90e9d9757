"""Refusals before planning: the wrong tenant, a stale target, mappings Graph or the cloud pair refuse, target
groups Graph will not add members to, and a scope that matches nobody while the target holds linked users."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..frames import TenantData
from .options import PlanOptions
from .rules import CROSS_CLOUD_REFUSED, Mapping, Scope

__all__ = ["check_inputs", "check_expected", "check_empty_scope", "check_target_groups", "group_refusal"]


def check_inputs(source: TenantData, target: TenantData, mapping: Mapping, options: PlanOptions,
                  pair_kind: str) -> None:
    if source.tenant_id and target.tenant_id and source.tenant_id.lower() == target.tenant_id.lower():
        raise InputError(f"the source and the target are the same tenant ({source.tenant_id})",
                         hint="Give the target tenant's profile or snapshot as --target.")
    if (source.exported_at and target.exported_at and not options.allow_older_target
            and pd.Timestamp(target.exported_at) < pd.Timestamp(source.exported_at) - pd.Timedelta(hours=24)):
        raise InputError(f"the target snapshot ({target.exported_at}) is more than a day older than the source "
                         f"snapshot ({source.exported_at}): the plan would be based on a stale target",
                         hint="Export the target again, or pass --allow-older-target if you know it is current.")
    if pair_kind == "cross-cloud":
        for rule in mapping.rules:
            if rule.target in CROSS_CLOUD_REFUSED:
                raise InputError(f"'{rule.target}' cannot be synchronized between these clouds: "
                                 f"{CROSS_CLOUD_REFUSED[rule.target]}", source=mapping.source, row=rule.line,
                                 field=rule.target, hint="Remove this mapping for a cross-cloud plan.")
    if options.create_as == "member":
        for needed in ("userPrincipalName", "mailNickname", "displayName"):
            if mapping.rule(needed) is None:
                raise InputError(f"creating users with POST /users needs a mapping for '{needed}'",
                                 source=mapping.source, hint=f"Add a line '{needed} = ...' to the mapping.")
    if options.target_licenses and len(target.skus):
        known = set(target.skus["skuId"].astype("string").str.lower())
        unknown = [s for s in options.target_licenses if s.lower() not in known]
        if unknown:
            raise InputError(f"the target tenant has no subscription for SKU(s) {', '.join(unknown)}",
                             hint="Use a skuId from the target's subscribedSkus ('ccsync export' lists them).")
    link_column = f"onPremisesExtensionAttributes.{options.link_attribute}"
    for rule in mapping.rules:
        if rule.target == link_column:
            raise InputError(f"the mapping writes '{rule.target}', which holds ccsync's own link to the source "
                             "user: overwriting it would detach (or hijack) synced users", source=mapping.source,
                             row=rule.line, field=rule.target,
                             hint="Map another extension attribute, or choose another --link-attribute.")
    if options.target_licenses and mapping.rule("usageLocation") is None:
        # Graph refuses a licence for a user without usageLocation (user resource; docs/direct-engine.md).
        raise InputError("--target-license needs a usageLocation for every user it is given to, and the mapping "
                         "maps none", source=mapping.source, field="usageLocation",
                         hint="Add a line such as 'usageLocation = [usageLocation]' (or a constant like \"US\") "
                              "to the mapping, or drop --target-license.")
    check_target_groups(target, options)
    missing = sorted(a for a in mapping.source_attributes() if a not in source.users.columns)
    if missing:
        raise InputError(f"the mapping reads source attributes the export does not have: {', '.join(missing)}",
                         source=mapping.source, hint="Use Graph user property names that ccsync exports "
                                                     "(see toolkit.frames.USER_PROPERTIES).")


def group_refusal(group: dict[str, Any]) -> str | None:
    """Why Graph refuses a plain members/$ref add to this group (group-post-members.md), else None."""
    types = [str(t).lower() for t in group.get("groupTypes") or []]
    if "dynamicmembership" in types:
        return "a dynamic group (its members come from its membership rule)"
    if group.get("mailEnabled") and "unified" not in types:
        return ("a mail-enabled security group" if group.get("securityEnabled") else "a distribution group") + \
            " (its members are managed in Exchange Online)"
    if group.get("isAssignableToRole"):
        return "a role-assignable group (adding members needs RoleManagement.ReadWrite.Directory)"
    return None


def check_target_groups(target: TenantData, options: PlanOptions) -> None:
    """--target-group must name groups Graph lets ccsync add members to (known from the target's export)."""
    groups = {str(o.get("id", "")).lower(): o for o in getattr(target, "directory_objects", None) or ()
              if o.get("kind") == "group"}
    for gid in options.target_groups:
        group = groups.get(str(gid).lower())
        why = group_refusal(group) if group else None
        if why:
            raise InputError(f"target group {group.get('displayName') or gid} ({gid}) is {why}: Graph refuses to "
                             "add members to it", field="targetGroups",
                             hint="Give a security or Microsoft 365 group with assigned membership as --target-group.")


def check_expected(tenant: TenantData, expected: str | None, role: str) -> None:
    """A snapshot of the wrong tenant is refused: ``expected`` is a tenant id or one of its verified domains."""
    if not expected:
        return
    want = expected.strip().lower()
    names = {str(tenant.tenant_id or "").lower()}
    if len(tenant.domains):
        verified = tenant.domains[tenant.domains["isVerified"].fillna(False).astype(bool)]
        names |= set(verified["id"].astype(str).str.lower())
    if want not in names:
        raise InputError(f"the {role} is tenant {tenant.display_name or '?'} ({tenant.tenant_id}), not {expected}",
                         hint=f"Give the {role}'s own profile or snapshot, or correct --expect-{role.split()[0]}.")


def check_empty_scope(candidates: pd.DataFrame, linked_to_source: np.ndarray, source: TenantData, scope: Scope,
                      options: PlanOptions) -> None:
    """No source user in scope while the target holds users linked to this source: almost always a broken scope
    (a misspelt group, a filter that matches nobody), and the plan would deprovision every linked user."""
    scoped = bool(scope.groups or scope.filters)
    if len(candidates) or options.confirm_empty_scope or not (scoped or len(source.users)):
        return      # an empty source export is a different signal: every source user was deleted
    linked = int(linked_to_source.sum())
    if linked:
        action = "delete" if options.on_deprovision == "delete" else "disable"
        raise InputError(f"the scope matches no source user, so the plan would {action} all {linked} target "
                         "users linked to this source", source=scope.source,
                         hint="Check the scoping file (group names, filter values). If the empty scope is meant, "
                              "plan again with --confirm-empty-scope (confirm_empty_scope=True).")
