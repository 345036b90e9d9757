"""Which application permissions grant each operation of the simulated directory resources.

``ROLES`` maps a permission name that routes use (``users.read``, ``license.assign``, ...) to the app roles that
grant it: the least-privileged first, then the higher ones Microsoft lists, from the "Permissions" tables of the
v1.0 API pages: user-list, user-get, user-post-users, user-update, user-delete, user-delta,
directory-deleteditems-list/get/restore/delete, subscribedsku-list/get, user-assignlicense,
user-list-licensedetails, group-list, group-get, group-list-members, group-list-transitivemembers,
group-post-members, group-delete-members, domain-list, domain-get, organization-list, invitation-post.

Families outside the directory core (policies, applications, synchronization, audit logs, contacts) declare
their own in their ``RouteTable``; ``toolkit.simulator.registry`` merges them with these.
"""

from __future__ import annotations

__all__ = ["ROLES"]

_READ_USERS = frozenset({"User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"})
_WRITE_USERS = frozenset({"User.ReadWrite.All", "Directory.ReadWrite.All"})
ROLES: dict[str, frozenset[str]] = {
    "users.read": _READ_USERS,
    "users.write": _WRITE_USERS,
    "users.delete": frozenset({"User.DeleteRestore.All", *_WRITE_USERS}),
    "deleted.read": _READ_USERS,
    "deleted.restore": frozenset({"User.DeleteRestore.All", *_WRITE_USERS}),
    "skus.read": frozenset({"LicenseAssignment.Read.All", "LicenseAssignment.ReadWrite.All", "Organization.Read.All",
                            "Organization.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}),
    "license.assign": frozenset({"LicenseAssignment.ReadWrite.All", "User.ReadWrite.All", "Directory.ReadWrite.All"}),
    "license.read": frozenset({"LicenseAssignment.Read.All", "LicenseAssignment.ReadWrite.All", *_READ_USERS}),
    "groups.read": frozenset({"GroupMember.Read.All", "Group.Read.All", "Group.ReadWrite.All",
                              "GroupMember.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}),
    "members.write": frozenset({"GroupMember.ReadWrite.All", "Group.ReadWrite.All", "Directory.ReadWrite.All"}),
    "domains.read": frozenset({"Domain.Read.All", "Domain.ReadWrite.All", "Directory.Read.All",
                               "Directory.ReadWrite.All"}),
    "org.read": frozenset({"Organization.Read.All", "Organization.ReadWrite.All", "Directory.Read.All",
                           "Directory.ReadWrite.All", "User.Read.All"}),
    "invite": frozenset({"User.Invite.All", "User.ReadWrite.All", "Directory.ReadWrite.All"}),
}
