"""Who is in scope: direct members of the assigned groups passing the scoping filters, and who is syncable
(internal members: userType Member, not created by invitation), as Entra scopes cross-tenant sync."""

from __future__ import annotations

import pandas as pd

from ..errors import InputError
from ..frames import TenantData
from .columns import as_objects, lower_text
from .rules import Scope

__all__ = ["scope_masks", "scope_user_ids"]


def scope_masks(source: TenantData, scope: Scope) -> tuple[pd.Series, pd.Series]:
    """(in scope, syncable) boolean masks over ``source.users`` (positional, index reset)."""
    users = source.users.reset_index(drop=True)
    syncable = (users["userType"].fillna("Member") == "Member") & (users["creationType"].isna()
                                                                   | (users["creationType"] != "Invitation"))
    if scope.groups:
        gm = source.group_members
        wanted = {g.lower() for g in scope.groups}
        known = set(gm["groupId"].dropna().str.lower()) | set(gm["groupDisplayName"].dropna().str.lower())
        unknown = sorted(g for g in scope.groups if g.lower() not in known)
        if unknown:
            raise InputError(f"scoping group(s) not found in the source export: {', '.join(unknown)}",
                             source=scope.source, hint="Export the source with --group for each scoping group "
                                                       "(ccsync export --group NAME), or fix the name.")
        hit = lower_text(gm["groupId"]).isin(wanted) | lower_text(gm["groupDisplayName"]).isin(wanted)
        members = set(as_objects(gm.loc[hit, "memberId"]).dropna())
        assigned = users["id"].isin(members)
    else:
        assigned = pd.Series(True, index=users.index)
    return (assigned & scope.filter_mask(users)).astype(bool), syncable.astype(bool)


def scope_user_ids(source: TenantData, scope: Scope) -> set[str]:
    """Ids of the source users in scope (assigned groups AND scoping filters), as the planner scopes them."""
    in_scope, _ = scope_masks(source, scope)
    return set(source.users["id"].reset_index(drop=True)[in_scope.to_numpy()].astype(str))
