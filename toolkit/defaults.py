"""Every default an admin can override, in one place.

The CLI's options, the planner's and executor's fallbacks for plan files that predate an option, the
PowerShell cmdlets' help and the docs all read these names; a test (tests/test_defaults.py) holds the cmdlet help
and the README to the values here. The simulator keeps its own copy of Entra's numbers on purpose: it stands in
for Microsoft's service, whose defaults ccsync follows but does not own.
"""

from __future__ import annotations

__all__ = ["LINK_ATTRIBUTE", "DELETION_THRESHOLD", "CREATE_AS", "ON_DEPROVISION", "ALLOW_DELETES"]

# The target extension attribute (onPremisesExtensionAttributes.<name>) where ccsync records its durable link to
# the source user or CSV row: the last of the fifteen, the one tenants use least.
LINK_ATTRIBUTE = "extensionAttribute15"

# Deletes and disables together, per plan or per cycle, above which they are held: Entra's accidental-deletion
# default ("By default, the threshold is set to 500": cross-tenant sync configure page, step 10).
DELETION_THRESHOLD = 500

# How the direct engine creates a target user: "invite" (an external member through /invitations, as
# cross-tenant sync creates them) or "member" (POST /users, for in-tenant migrations).
CREATE_AS = "invite"

# What happens in the target when a user leaves scope or is deleted in the source: "delete" (soft delete, Entra's
# behaviour) or "disable".
ON_DEPROVISION = "delete"

# Deletes/disables explicitly allowed above the threshold: none unless the admin says so.
ALLOW_DELETES = 0
