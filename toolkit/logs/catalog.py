"""Cross-tenant sync error codes from the provisioning logs: a plain explanation and the recommended action.

Source: Microsoft Entra docs, "How to download and analyze the provisioning logs" (error codes for
cross-tenant synchronization) and the configure pages (summarised with sources in docs/logs.md). Microsoft's
pages did a global text replace of "Azure Active Directory" with "Microsoft Entra ID", so the same code is
printed as ``AzureActiveDirectoryForbidden`` in logs and "Microsoft Entra IDForbidden" in the docs; both
spellings (and "Microsoft Entra ID Forbidden", "AzureAD...", "Entra...") resolve to one entry here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["ErrorAdvice", "CATALOG", "normalize_code", "advice_for"]


@dataclass(frozen=True)
class ErrorAdvice:
    code: str
    explanation: str
    action: str


_ENTRIES = (
    ("AzureActiveDirectoryCannotUpdateObjectsOriginatedInExternalService",
     "Entra refused to write an attribute that another service owns on the target user: Exchange Online owns "
     "extensionAttribute1-15 for users that existed when directory sync was turned off, and source-of-authority "
     "rules block some properties (currently mail and showInAddressList).",
     "Set the value in Exchange Online (Set-MailUser -CustomAttributeN / -HiddenFromAddressListsEnabled), or "
     "remove the attribute from the mapping; the engine retries without showInAddressList by itself."),
    ("AzureDirectoryB2BManagementPolicyCheckFailure",
     "Automatic redemption of invitations is not enabled on both sides, so the user cannot be created as a "
     "pre-redeemed B2B member.",
     "Enable 'Automatically redeem invitations' in the source tenant's outbound and the target tenant's inbound "
     "cross-tenant access settings for the partner."),
    ("AzureActiveDirectoryQuotaLimitExceeded",
     "The target tenant has reached its directory object quota.",
     "Remove unused objects or ask Microsoft support to raise the directory quota (Entra service limits)."),
    ("InvitationCreationFailure",
     "Entra could not create the invitation for the user in the target tenant.",
     "Retry on the next cycle; if it persists, open a support case with the change ID."),
    ("InvitationCreationFailureUserAccountDisabled",
     "A user with this identity exists in the target tenant but is disabled, with an invitation pending.",
     "Enable the target user account, then provision on demand or wait for the next cycle."),
    ("AzureActiveDirectoryForbidden",
     "The target tenant's external collaboration settings block guest invitations (message 'Guest invitations "
     "not allowed for your company'), or the service was forbidden from the operation.",
     "Allow invitations for the partner in the target's external collaboration settings, then retry."),
    ("InvitationCreationFailureInvalidPropertyValue",
     "The invitation was rejected: the source mail is not a valid primary SMTP address, userType is neither "
     "Member nor Guest, or the mail equals a group's address in the target.",
     "Fix the source user's mail or the userType mapping, or the conflicting target group's address."),
    ("InvitationCreationFailureAmbiguousUser",
     "A proxy address of the user matches an internal user in the target tenant (proxy addresses must be "
     "unique).",
     "Delete or change the internal target user, or take the user out of scope."),
    ("AzureActiveDirectoryCannotUpdateObjectsMasteredOnPremises",
     "The target user was synchronized from on-premises AD and later converted to external; its source of "
     "authority is still on-premises.",
     "Such a user cannot be updated by cross-tenant sync: manage it on-premises or recreate it in the cloud."),
    ("EntityTypeNotSupported",
     "A group was evaluated: groups only define scope and are not provisioned by cross-tenant sync.",
     "Nothing to do (a skipped event)."),
    ("AzureActiveDirectoryCrossTenantSyncPolicyCheckFailure",
     "The cross-tenant access policies do not allow sync: the source has not enabled automatic user consent "
     "with the target, or the target has not enabled inbound synchronization from this tenant.",
     "Enable automatic redemption (source outbound, target inbound) and 'Allow users sync into this tenant' in "
     "the target's inbound settings for the partner."),
    ("ExternalTenantNotFound",
     "The target tenant could not be found from the source's cloud (cross-cloud settings missing).",
     "Enable the other Microsoft cloud in both tenants' Microsoft cloud settings and add the partner."),
    ("AzureActiveDirectoryTokenExpired",
     "The sync job's credentials for the target tenant expired.",
     "Test the connection again in the sync configuration and restart the job."),
    ("EntrySynchronizationSkipped",
     "The user was skipped: out of scope, not assigned, or nothing to change.",
     "Check the scoping filters and assignments if the user should have been provisioned."),
    ("ImportSkipped", "The object was skipped at import.", "Nothing to do unless the object should be in scope."),
    ("DuplicateSourceEntries",
     "More than one source user matched on the matching attribute.",
     "Make the matching attribute unique in the source tenant."),
    ("DuplicateTargetEntries",
     "More than one target user matched on the matching attribute.",
     "Remove or change the duplicate target users so one matches."),
    ("EntryConflict",
     "A target user matched, but it is linked to another source user or conflicts on a unique attribute.",
     "Resolve the conflicting target user (rename, delete or unlink), then provision on demand."),
    ("Conflict", "A target object conflicts on a unique attribute.",
     "Resolve the conflicting target object, then provision on demand."),
    ("InvalidAnchor",
     "The target user this source user was matched to no longer exists.",
     "Restart the sync job (clear state) so the user is matched again."),
    ("InternalError", "A transient service error.", "None: the service retries within about 40 minutes."),
    ("Timeout", "The operation timed out.", "None: the service retries within about 40 minutes."),
    ("WebExceptionProtocolError", "A transient protocol error talking to the target.",
     "None: the service retries within about 40 minutes."),
    ("TooManyRequests", "The target throttled the provisioning service.", "None: the service retries by itself."),
)

CATALOG: dict[str, ErrorAdvice] = {code.lower(): ErrorAdvice(code, why, fix) for code, why, fix in _ENTRIES}

# "Microsoft Entra IDForbidden", "Microsoft Entra ID Forbidden", "MicrosoftEntraIDForbidden", "EntraIDForbidden",
# "AzureADForbidden" -> AzureActiveDirectoryForbidden
_ALIASES = re.compile(r"^(?:microsoft\s*entra\s*id|entra\s*id|azure\s*ad|azure\s*active\s*directory)\s*",
                      re.IGNORECASE)


def normalize_code(code: str | None) -> str | None:
    """One spelling per code: the ``AzureActiveDirectory...`` form logs use; unknown codes unchanged."""
    if code is None:
        return None
    text = str(code).strip()
    if not text:
        return None
    m = _ALIASES.match(text)
    if m:
        text = "AzureActiveDirectory" + text[m.end():]
    known = CATALOG.get(text.lower())
    return known.code if known else text


def advice_for(code: str | None) -> ErrorAdvice | None:
    """The catalog entry for a code in either spelling, or None when the catalog does not know it."""
    norm = normalize_code(code)
    return CATALOG.get(norm.lower()) if norm else None
