"""Which Graph application permissions each ``ccsync xts`` command needs, and the check of a token's roles.

Least-privileged permissions from each API page (graph-facts 2.0-2.2; docs/xts.md "Permissions"); a higher one
listed in ``IMPLIED_BY`` satisfies a lower one (e.g. Directory.ReadWrite.All covers Application.ReadWrite.All).
The check runs before any call; a 403 on a call still names the permission that call needs (calls.py).
"""

from __future__ import annotations

from toolkit.errors import MissingPermissionError

__all__ = ["REQUIRED", "IMPLIED_BY", "missing_permissions", "check_permissions", "ADMIN_ROLES"]

# command -> tenant role -> permissions (all needed).
REQUIRED: dict[str, dict[str, list[str]]] = {
    "enable": {
        "source": ["Policy.ReadWrite.CrossTenantAccess", "Application.ReadWrite.All", "Synchronization.ReadWrite.All",
                   "AppRoleAssignment.ReadWrite.All", "Group.Read.All"],
        "target": ["Policy.ReadWrite.CrossTenantAccess"],
    },
    "disable": {
        "source": ["Application.ReadWrite.All", "Synchronization.ReadWrite.All"],
        "target": ["Policy.ReadWrite.CrossTenantAccess"],
    },
    "status": {"source": ["Application.Read.All", "Synchronization.Read.All"]},
    "provision": {"source": ["Application.Read.All", "Synchronization.ReadWrite.All", "User.Read.All"]},
    "start": {"source": ["Application.Read.All", "Synchronization.ReadWrite.All"]},
    "pause": {"source": ["Application.Read.All", "Synchronization.ReadWrite.All"]},
    "restart": {"source": ["Application.Read.All", "Synchronization.ReadWrite.All"]},
}

# Admin roles the how-to names for doing the same in the portals ([CTS-GRAPH] prerequisites).
ADMIN_ROLES = {
    "source": "Security Administrator (cross-tenant access), Hybrid Identity Administrator (sync), "
              "Cloud Application Administrator or Application Administrator (configuration, assignments)",
    "target": "Security Administrator (cross-tenant access settings)",
}

IMPLIED_BY: dict[str, list[str]] = {
    "Application.Read.All": ["Application.ReadWrite.All", "Application.ReadWrite.OwnedBy", "Directory.Read.All",
                             "Directory.ReadWrite.All"],
    "Application.ReadWrite.All": ["Directory.ReadWrite.All"],
    "Synchronization.Read.All": ["Synchronization.ReadWrite.All"],
    "Synchronization.ReadWrite.All": ["Application.ReadWrite.OwnedBy"],
    "AppRoleAssignment.ReadWrite.All": [],
    "Group.Read.All": ["Group.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"],
    "User.Read.All": ["User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"],
    "Policy.ReadWrite.CrossTenantAccess": [],
}


def missing_permissions(command: str, role: str, roles: list[str]) -> list[str]:
    """The permissions ``command`` needs in the ``role`` tenant that ``roles`` (a token's roles) do not cover."""
    have = set(roles)
    return [p for p in REQUIRED.get(command, {}).get(role, [])
            if p not in have and not have.intersection(IMPLIED_BY.get(p, []))]


def check_permissions(command: str, side: object) -> None:
    """Raise MissingPermissionError naming the first missing permission of ``side`` (a TenantSide)."""
    roles = side.roles()  # type: ignore[attr-defined]
    if roles is None:
        return  # a delegated or unknown token: the calls' 403s will say what is missing
    missing = missing_permissions(command, side.role, roles)  # type: ignore[attr-defined]
    if missing:
        raise MissingPermissionError(
            f"'ccsync xts {command}' needs the Graph application permission(s) {', '.join(missing)} in the "
            f"{side.role} tenant {side.tenant_id} ({side.cloud}); the token has: "  # type: ignore[attr-defined]
            f"{', '.join(sorted(roles)) or 'none'}.",
            hint=f"Grant {missing[0]} to the app in the {side.cloud} portal's app registration "  # type: ignore[attr-defined]
                 f"(API permissions > Microsoft Graph > Application), give admin consent, then 'ccsync login'.",
            permission=missing[0], tenant=side.tenant_id)  # type: ignore[attr-defined]
