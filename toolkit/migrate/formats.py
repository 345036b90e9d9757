"""The column layouts a migration CSV may have, and how each column maps to a field ccsync understands.

Three layouts (``detect_layout``):

* ``portal-create``: the Entra admin center's *Bulk create* template as downloaded: first line
  ``version:v1.0``, headers ``<Item name> [propertyName] <Required or blank>`` such as
  ``Name [displayName] Required``, ``User name [userPrincipalName] Required``,
  ``Initial password [passwordProfile] Required``, ``Block sign in (Yes/No) [accountEnabled] Required``, then
  ``First name [givenName]`` ... ``Mobile phone [mobile]``; older templates write
  ``Name (example: Chris Green) [displayName] *``. Source: MicrosoftDocs/entra-docs
  docs/identity/users/users-bulk-add.md ("CSV template structure"), summarised in docs/migrate.md.
* ``portal-invite``: the *Bulk invite* template: ``Email address to invite [inviteeEmail] Required``,
  ``Redirection url [inviteRedirectURL] Required``, ``Send invitation message (true or false) [sendEmail]``,
  ``Customized invitation message [customizedMessageBody]``. Source: MicrosoftDocs/entra-docs
  docs/external-id/tutorial-bulk-invite.md.
* ``graph``: plain headers named after Graph user properties (what ``Get-MgUser | Export-Csv`` writes),
  matched case-insensitively, plus ccsync's own optional columns (licences, groups, manager, password ...).

Any layout may carry ccsync's optional columns (the portal ignores extra columns; ccsync reads them). A column
ccsync does not know is reported, never silently dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["Layout", "Column", "FIELDS", "detect_layout", "PORTAL_CREATE_HEADERS", "PORTAL_INVITE_HEADERS",
           "is_template_example"]

# Fields ccsync understands. Graph user properties keep their Graph names; the rest are ccsync's:
# password, blockSignIn (the portal's inverted accountEnabled), licenses, groups, manager, invitedUserEmailAddress,
# inviteRedirectUrl, sendInvitationMessage, invitedUserMessage, forceChangePasswordNextSignIn.
USER_FIELDS = ("displayName", "userPrincipalName", "mailNickname", "givenName", "surname", "jobTitle", "department",
               "companyName", "employeeId", "employeeType", "officeLocation", "streetAddress", "city", "state",
               "postalCode", "country", "usageLocation", "mobilePhone", "businessPhones", "mail",
               "preferredLanguage", "accountEnabled", "userType")
EXTRA_FIELDS = ("password", "blockSignIn", "forceChangePasswordNextSignIn", "licenses", "groups", "manager",
                "invitedUserEmailAddress", "inviteRedirectUrl", "sendInvitationMessage", "invitedUserMessage")
FIELDS = USER_FIELDS + EXTRA_FIELDS

# The bracketed property names of the portal templates -> ccsync fields.
_PORTAL_PROPS = {
    "displayname": "displayName", "userprincipalname": "userPrincipalName", "passwordprofile": "password",
    "accountenabled": "blockSignIn", "givenname": "givenName", "surname": "surname", "jobtitle": "jobTitle",
    "department": "department", "usagelocation": "usageLocation", "streetaddress": "streetAddress",
    "state": "state", "country": "country", "physicaldeliveryofficename": "officeLocation", "city": "city",
    "postalcode": "postalCode", "telephonenumber": "businessPhones", "mobile": "mobilePhone",
    "inviteeemail": "invitedUserEmailAddress", "inviteredirecturl": "inviteRedirectUrl",
    "sendemail": "sendInvitationMessage", "customizedmessagebody": "invitedUserMessage",
}
PORTAL_CREATE_HEADERS = (
    "Name [displayName] Required", "User name [userPrincipalName] Required",
    "Initial password [passwordProfile] Required", "Block sign in (Yes/No) [accountEnabled] Required",
    "First name [givenName]", "Last name [surname]", "Job title [jobTitle]", "Department [department]",
    "Usage location [usageLocation]", "Street address [streetAddress]", "State or province [state]",
    "Country or region [country]", "Office [physicalDeliveryOfficeName]", "City [city]",
    "ZIP or postal code [postalCode]", "Office phone [telephoneNumber]", "Mobile phone [mobile]")
PORTAL_INVITE_HEADERS = (
    "Email address to invite [inviteeEmail] Required", "Redirection url [inviteRedirectURL] Required",
    "Send invitation message (true or false) [sendEmail]", "Customized invitation message [customizedMessageBody]")

# Plain headers (case- and space-insensitive) -> ccsync fields: Graph names and the usual admin spellings.
_ALIASES = {f.lower(): f for f in FIELDS}
_ALIASES.update({
    "upn": "userPrincipalName", "username": "userPrincipalName", "name": "displayName",
    "firstname": "givenName", "lastname": "surname", "title": "jobTitle", "office": "officeLocation",
    "physicaldeliveryofficename": "officeLocation", "telephonenumber": "businessPhones", "phone": "businessPhones",
    "mobile": "mobilePhone", "zip": "postalCode", "passwordprofile": "password", "initialpassword": "password",
    "license": "licenses", "licences": "licenses", "licence": "licenses", "skus": "licenses", "sku": "licenses",
    "assignedlicenses": "licenses", "group": "groups", "memberof": "groups", "inviteeemail": "invitedUserEmailAddress",
    # Not "email": in admins' own sheets it is often the member's mail, and must not turn rows into invitations.
    "invitedemail": "invitedUserEmailAddress", "emailaddresstoinvite": "invitedUserEmailAddress",
    "inviteredirecturl": "inviteRedirectUrl", "redirecturl": "inviteRedirectUrl",
    "sendemail": "sendInvitationMessage", "customizedmessagebody": "invitedUserMessage",
    "blocksignin": "blockSignIn", "managerupn": "manager", "manageruserprincipalname": "manager",
})
_PORTAL_HEADER = re.compile(r"^(?P<label>.*?)\s*\[(?P<prop>[A-Za-z0-9_.]+)\]\s*(?P<req>required|\*)?\s*$",
                            re.IGNORECASE)


@dataclass(frozen=True)
class Column:
    index: int
    header: str          # as in the file
    field: str | None    # ccsync field, None for an unknown column
    required: bool = False


@dataclass
class Layout:
    name: str                                   # portal-create | portal-invite | graph
    columns: list[Column]
    unknown: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)

    def by_field(self) -> dict[str, Column]:
        return {c.field: c for c in self.columns if c.field}

    def header_of(self, name: str) -> str:
        col = self.by_field().get(name)
        return col.header if col else name


def _plain_key(header: str) -> str:
    return re.sub(r"[\s_\-]", "", header).lower()


def detect_layout(header: list[str]) -> Layout:
    """Which layout ``header`` is, and the field of every column (unknown and repeated columns listed)."""
    columns: list[Column] = []
    portal_props = set()
    for i, h in enumerate(header):
        m = _PORTAL_HEADER.match(h)
        prop = m.group("prop").lower() if m else None
        if m and prop in _PORTAL_PROPS:
            portal_props.add(prop)
            columns.append(Column(i, h, _PORTAL_PROPS[prop], bool(m.group("req"))))
            continue
        key = _plain_key(m.group("prop") if m else h)
        columns.append(Column(i, h, _ALIASES.get(key)))
    if "inviteeemail" in portal_props:
        name = "portal-invite"
    elif portal_props & {"displayname", "userprincipalname", "passwordprofile", "accountenabled"}:
        name = "portal-create"
    else:
        name = "graph"
    seen: dict[str, Column] = {}
    duplicates = []
    final = []
    for c in columns:
        if c.field and c.field in seen:
            duplicates.append(c.header)
            final.append(Column(c.index, c.header, None))
            continue
        if c.field:
            seen[c.field] = c
        final.append(c)
    unknown = [c.header for c in final if c.field is None and c.header not in duplicates and c.header.strip()]
    return Layout(name, final, unknown, duplicates)


# The portal templates' example row. Microsoft's page shows it only in a screenshot, so ccsync recognises it by
# its well-known values (older templates: 'Chris Green' / 'chris@contoso.com'; the invite template:
# 'example@example.com') or by cells that start with 'Example:'.
_EXAMPLE_ADDRESSES = {"chris@contoso.com", "example@example.com"}


def is_template_example(values: dict[str, str]) -> bool:
    upn = (values.get("userPrincipalName") or values.get("invitedUserEmailAddress") or "").strip().lower()
    if upn in _EXAMPLE_ADDRESSES:
        return True
    cells = [v for v in values.values() if v]
    return bool(cells) and all(v.strip().lower().startswith("example") for v in cells[:2])
