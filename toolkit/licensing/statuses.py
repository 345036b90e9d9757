"""The eligibility statuses as data: each status's label, meaning and fix template, in precedence order (the
first that applies wins; the rule is described in ``eligibility.py``), and the codes, entitlement bits and
texts the vectorised evaluation uses."""

from __future__ import annotations

import numpy as np

from .catalog import AAD_PREMIUM, AAD_PREMIUM_P2, ENTRA_IDENTITY_GOVERNANCE, OFFICIAL_CSV_PAGE

__all__ = ["STATUSES", "STATUS_ORDER", "CAUSES", "CODE", "BITS", "ENT_TEXT", "MASK_NAMES", "ERROR_HINTS",
           "PLAN_BIT"]

# status -> (label, meaning, fix template). Templates use {sku}, {source}, {plan}, {error}, {target}.
STATUSES: dict[str, tuple[str, str, str]] = {
    "not_in_scope": ("Not in scope", "The user is not in the synchronization scope.",
                     "Nothing, unless the user should be synchronized: then add them to a scoping group."),
    "account_disabled": ("Account disabled", "The account is disabled (accountEnabled is false).",
                         "Enable the account if the user should be synchronized."),
    "not_syncable_external": ("Guest or external", "Guests and external users (userType Guest or creationType "
                              "Invitation) cannot be synchronized; only internal members can.",
                              "Nothing in this tenant: synchronize the user from their home tenant."),
    "eligible": ("Eligible", "Every entitlement the cloud pair needs is enabled on the user.", ""),
    "assignment_error": ("Licence assignment error", "A licence that would grant the entitlement is assigned "
                         "but in an error state, so its plans are not in force.",
                         "Fix the {sku} assignment ({source}; state {state}, error {error}): {hint}; "
                         "or assign {target}."),
    "sku_suspended": ("SKU suspended", "The subscription that would grant the entitlement is Suspended, "
                      "LockedOut or Deleted.",
                      "Reactivate the {sku} subscription in the Microsoft 365 admin center, or assign {target}."),
    "plan_disabled": ("Plan disabled in the assignment", "The user holds a licence carrying the plan, but the "
                      "plan is switched off in that assignment (disabledPlans) or in the subscription.",
                      "Enable the {plan} service plan in {sku} ({where}); no extra seat is needed."),
    "sku_not_subscribed": ("SKU no longer in the tenant", "The user holds a SKU the tenant no longer "
                           "subscribes to; the catalog says it would grant the entitlement.",
                           "Remove the stale {sku} assignment ({source}) and assign {target}."),
    "unknown_sku": ("Unknown SKU", "The user holds a SKU neither the tenant's subscriptions nor the licence "
                    "catalog describe, so ccsync cannot tell whether it grants the entitlement.",
                    "Find out what SKU {sku} is (rerun with --catalog and the newest official CSV from "
                    f"{OFFICIAL_CSV_PAGE}), or assign {{target}}."),
    "missing_p1_and_governance": ("Missing P1/P2 and Governance", "Cross-cloud sync needs Entra ID P1/P2 and "
                                  "Entra ID Governance; the user has neither.", "Assign {target}."),
    "missing_p1": ("Missing P1/P2", "No enabled Entra ID P1 or P2 plan (AAD_PREMIUM / AAD_PREMIUM_P2) in any "
                   "of the user's licences.", "Assign {target}."),
    "missing_governance": ("Missing Governance", "Cross-cloud sync needs Entra ID Governance "
                           "(Entra_Identity_Governance, in Governance, Entra Suite or Microsoft 365 E7 SKUs).",
                           "Assign {target}."),
}
STATUS_ORDER: tuple[str, ...] = tuple(STATUSES)
CAUSES = ("assignment_error", "sku_suspended", "plan_disabled", "sku_not_subscribed", "unknown_sku")
CODE = {s: np.int8(i) for i, s in enumerate(STATUS_ORDER)}
BITS = {"P1": 3, "GOVERNANCE": 4}
ENT_TEXT = {"P1": "Entra ID P1/P2", "GOVERNANCE": "Entra ID Governance"}
MASK_NAMES = {m: "/".join(n for b, n in ((1, "AAD_PREMIUM"), (2, "AAD_PREMIUM_P2"),
                                           (4, "Entra_Identity_Governance")) if m & b) for m in range(8)}
ERROR_HINTS = {
    "countviolation": "the SKU has no free seats: free or buy seats",
    "mutuallyexclusiveviolation": "the user holds a licence that conflicts with it: remove the conflicting one",
    "dependencyviolation": "a prerequisite licence is missing: assign it first",
    "prohibitedinusagelocationviolation": "the SKU is not offered in the user's usage location: change it",
    "uniquenessviolation": "a proxy address clashes with another object: fix the duplicate address",
}
PLAN_BIT = {AAD_PREMIUM: 1, AAD_PREMIUM_P2: 2, ENTRA_IDENTITY_GOVERNANCE: 4}
