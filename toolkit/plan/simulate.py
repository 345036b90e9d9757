"""Apply a plan to a target snapshot in memory: what the target would look like after ``ccsync apply``.

Invited users come out as Graph shows them right after ``POST /invitations``: external, ``PendingAcceptance``.

Used to show, before anything is written, that re-planning after the apply leaves nothing to do, and by the
planner's property tests. It writes the same values the executor writes through Graph.
"""

from __future__ import annotations

import uuid
from dataclasses import replace

import pandas as pd

from ..frames import USERS, TenantData, conform
from .planfile import SyncPlan
from .rules import BOOLEAN_TARGETS

__all__ = ["apply_plan_in_memory", "external_upn"]

_NAMESPACE = uuid.UUID("6f1c1b9e-4d1e-4f5a-9c55-0c2a1d6c0de5")


def external_upn(address: str, initial_domain: str) -> str:
    """The UPN Entra gives an invited user: ``john_contoso.com#EXT#@fabrikam.onmicrosoft.com``."""
    return f"{address.replace('@', '_')}#EXT#@{initial_domain}"


def _initial_domain(target: TenantData) -> str:
    d = target.domains
    if len(d):
        initial = d[d["isInitial"].fillna(False).astype(bool)]
        if len(initial):
            return str(initial["id"].iloc[0])
        return str(d["id"].iloc[0])
    return f"{target.tenant_id}.onmicrosoft.com"


def _value(attribute: str, text: object) -> object:
    if attribute in BOOLEAN_TARGETS and text is not None:
        return str(text).lower() == "true"
    return text


def apply_plan_in_memory(plan: SyncPlan, target: TenantData) -> TenantData:
    users = target.users.copy()
    users.index = pd.Index(users["id"].astype(object).tolist())
    changes = {op_id: grp for op_id, grp in plan.changes.groupby("opId")} if len(plan.changes) else {}
    create_as = plan.header["options"]["createAs"]
    initial = _initial_domain(target)
    new_rows = []
    to_delete = []
    for op in plan.actionable.itertuples(index=False):
        attrs = changes.get(op.opId)
        if op.kind == "delete":
            to_delete.append(op.targetId)
            continue
        if op.kind == "create":
            row = {c: None for c in USERS.names}
            row["id"] = str(uuid.uuid5(_NAMESPACE, op.opId))
            # An invitation creates a B2B user at the address invited (the source UPN) that stays
            # PendingAcceptance until the person redeems it: no API redeems it (docs/direct-engine.md).
            row["mail"] = op.sourceUpn if create_as == "invite" else op.sourceMail
            row["creationType"] = "Invitation" if create_as == "invite" else None
            row["externalUserState"] = "PendingAcceptance" if create_as == "invite" else None
            row["userType"] = "Member"
            row["userPrincipalName"] = (external_upn(op.sourceUpn, initial) if create_as == "invite" else None)
            row["tenantId"] = target.tenant_id
            row["onPremisesExtensionAttributes"] = {}
            if attrs is not None:
                for a, v in zip(attrs["attribute"], attrs["newValue"]):
                    if a.startswith("@"):
                        continue                  # licences and group memberships are not user columns
                    if a.startswith("onPremisesExtensionAttributes."):
                        row["onPremisesExtensionAttributes"] = {**row["onPremisesExtensionAttributes"],
                                                                a.split(".", 1)[1]: v}
                    elif a in row:
                        row[a] = _value(a, v)
            new_rows.append(row)
            continue
        # update / disable
        if attrs is None:
            continue
        for a, v in zip(attrs["attribute"], attrs["newValue"]):
            if a.startswith("onPremisesExtensionAttributes."):
                current = users.at[op.targetId, "onPremisesExtensionAttributes"]
                current = dict(current) if isinstance(current, dict) else {}
                current[a.split(".", 1)[1]] = v
                users.at[op.targetId, "onPremisesExtensionAttributes"] = current
            elif a in users.columns:
                users[a] = users[a].astype("object")
                users.at[op.targetId, a] = _value(a, v)
    users = users.drop(index=[t for t in to_delete if t in users.index])
    merged = pd.concat([users.reset_index(drop=True), pd.DataFrame(new_rows, columns=USERS.names)],
                       ignore_index=True) if new_rows else users.reset_index(drop=True)
    return replace(target, users=conform(merged, USERS))
