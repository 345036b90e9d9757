"""The v1.0 user and group types as the simulated Graph serves them: their properties, defaults and
collections (graph-facts 6.1; user and group resources v1.0), and how a user is shown for a ``$select``.
"""

from __future__ import annotations

from typing import Any, Mapping

from ..odata import GraphFault, not_found, parse_select, project
from ..state import TenantState
from .messages import GraphRequest

__all__ = ["existing_user", "USER_DEFAULT", "USER_COLLECTIONS", "USER_PROPERTIES", "USER_SINGLE_ONLY", "USER_READ_ONLY",
           "USER_NEVER_RETURNED", "GROUP_DEFAULT", "GROUP_COLLECTIONS", "GROUP_PROPERTIES", "user_view",
           "user_select"]

# --- user schema (graph-facts 6.1; user resource v1.0) --------------------------------------------------

USER_DEFAULT = ["businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone", "officeLocation",
                "preferredLanguage", "surname", "userPrincipalName", "id"]
USER_COLLECTIONS = {"assignedLicenses", "assignedPlans", "businessPhones", "identities", "imAddresses", "interests",
                    "licenseAssignmentStates", "otherMails", "pastProjects", "provisionedPlans", "proxyAddresses",
                    "responsibilities", "schools", "skills", "onPremisesProvisioningErrors",
                    "serviceProvisioningErrors"}
USER_PROPERTIES = set(USER_DEFAULT) | USER_COLLECTIONS | set((
    "aboutMe accountEnabled ageGroup authorizationInfo birthday city companyName consentProvidedForMinor country "
    "createdDateTime creationType customSecurityAttributes deletedDateTime department employeeHireDate employeeId "
    "employeeLeaveDateTime employeeOrgData employeeType externalUserState externalUserStateChangeDateTime faxNumber "
    "hireDate isManagementRestricted isResourceAccount lastPasswordChangeDateTime legalAgeGroupClassification "
    "mailboxSettings mailNickname mySite onPremisesDistinguishedName onPremisesDomainName "
    "onPremisesExtensionAttributes onPremisesImmutableId onPremisesLastSyncDateTime onPremisesSamAccountName "
    "onPremisesSecurityIdentifier onPremisesSyncEnabled onPremisesUserPrincipalName passwordPolicies "
    "passwordProfile postalCode preferredDataLocation preferredName securityIdentifier showInAddressList "
    "signInActivity signInSessionsValidFromDateTime state streetAddress usageLocation userType").split())
# only on GET of a single user; on the collection Graph answers 501 (user-list.md)
USER_SINGLE_ONLY = {"aboutMe", "birthday", "hireDate", "interests", "mySite", "pastProjects", "preferredName",
                    "responsibilities", "schools", "skills", "mailboxSettings"}
USER_READ_ONLY = {"id", "createdDateTime", "creationType", "assignedLicenses", "assignedPlans",
                  "licenseAssignmentStates", "provisionedPlans", "proxyAddresses", "deletedDateTime",
                  "externalUserState", "externalUserStateChangeDateTime", "onPremisesSyncEnabled",
                  "onPremisesLastSyncDateTime", "onPremisesSecurityIdentifier", "onPremisesDistinguishedName",
                  "onPremisesDomainName", "onPremisesProvisioningErrors", "securityIdentifier", "signInActivity",
                  "lastPasswordChangeDateTime", "serviceProvisioningErrors", "isResourceAccount"}
USER_NEVER_RETURNED = {"passwordProfile"}


# The v1.0 group type as Microsoft's v1.0 SDK models it (microsoftgraph/msgraph-sdk-python
# msgraph/generated/models/group.py, generated from the v1.0 metadata): creationOptions, resourceBehaviorOptions
# and resourceProvisioningOptions are beta properties, so v1.0 neither returns nor selects them.
GROUP_DEFAULT = ["id", "deletedDateTime", "classification", "createdDateTime", "description",
                 "displayName", "expirationDateTime", "groupTypes", "isAssignableToRole", "mail", "mailEnabled",
                 "mailNickname", "membershipRule", "membershipRuleProcessingState", "onPremisesDomainName",
                 "onPremisesLastSyncDateTime", "onPremisesNetBiosName", "onPremisesSamAccountName",
                 "onPremisesSecurityIdentifier", "onPremisesSyncEnabled", "preferredDataLocation",
                 "preferredLanguage", "proxyAddresses", "renewedDateTime", "securityEnabled", "securityIdentifier",
                 "theme", "visibility", "onPremisesProvisioningErrors", "serviceProvisioningErrors"]
GROUP_COLLECTIONS = {"groupTypes", "proxyAddresses", "onPremisesProvisioningErrors", "serviceProvisioningErrors",
                     "assignedLicenses", "licenseProcessingState", "assignedLabels"}
GROUP_PROPERTIES = set(GROUP_DEFAULT) | {"assignedLicenses", "licenseProcessingState", "hasMembersWithLicenseErrors",
                                         "assignedLabels"}


def user_view(tenant: TenantState, user: Mapping[str, Any], select: list[str] | None) -> dict[str, Any]:
    props = select or USER_DEFAULT
    out = project(user, props, USER_COLLECTIONS)
    for p in USER_NEVER_RETURNED & set(out):
        out[p] = None
    return out


def user_select(req: GraphRequest, collection: bool) -> list[str] | None:
    select = parse_select(req.query, USER_PROPERTIES, "microsoft.graph.user")
    if collection and select and USER_SINGLE_ONLY & set(select):
        raise GraphFault(501, "NotImplemented", "This operation target is not yet supported.")
    return select


def existing_user(tenant: TenantState, key: str) -> dict[str, Any]:
    """The user ``/users/{key}`` names (object id or UPN), or Graph's 404 ``Request_ResourceNotFound`` for it.
    Call with the tenant's lock held."""
    user = tenant.find_user(key)
    if user is None:
        raise not_found(key)
    return user
