"""Changes to a simulated directory that several parts make: putting a just-created user in it (users, invitations
and the sync engine create users) and re-deriving a user's licences (licences and group membership change them).
"""

from __future__ import annotations

import time
from typing import Any

from ..state import TenantState
from .service import GraphService

__all__ = ["add_new_user", "relicense"]


def relicense(tenant: TenantState, uid: str) -> None:
    """Re-derive one user's licences; a change of assignedLicenses is logged for users/delta."""
    if uid in tenant.users and tenant.relicense_user(uid):
        tenant.record_change(uid, "upsert", {"assignedLicenses"})


def add_new_user(svc: GraphService, tenant: Any, user: dict[str, Any]) -> None:
    """Put a just-created user in the directory: licences derived, hidden for the replication lag, in delta."""
    uid = user["id"]
    tenant.users[uid] = user
    tenant.direct_licenses[uid] = []
    tenant.forced_license_errors[uid] = {}
    tenant.relicense_user(uid)
    tenant.invalidate_upns()
    if svc.replication_lag_s > 0:
        tenant.visible_after[uid] = time.monotonic() + svc.replication_lag_s
    index_lag = float(getattr(svc, "index_lag_s", 0.0) or 0.0)    # other writers (the sync engine) may not model it
    if index_lag > 0:
        tenant.indexed_after[uid] = time.monotonic() + max(index_lag, svc.replication_lag_s)
    tenant.record_change(uid, "upsert")
