"""How one seeded tenant document is built: the ``Tenant`` accumulator (tenant, domains, SKUs, apps, users,
guests, groups) and the fixed GUIDs every sample object gets (UUIDv5 of a fixed namespace and a readable name).
Who is in each of the five sample tenants is in ``build_seeds.py``, which imports this from its own folder.
"""

from __future__ import annotations

import base64
import uuid
from typing import Any, Iterable

from toolkit.simulator.generate import PLAN_IDS, SKU_CATALOG, domain, initial_domain, subscribed_sku

__all__ = ["Tenant", "gid", "sku_id", "b2b_partner", "assignment", "NAMESPACE", "FULL_ROLES"]

NAMESPACE = uuid.uuid5(uuid.NAMESPACE_DNS, "samples.ccsync.invalid")
FULL_ROLES = ["User.ReadWrite.All", "Directory.ReadWrite.All", "User.Invite.All", "LicenseAssignment.ReadWrite.All",
              "Group.ReadWrite.All", "AuditLog.Read.All", "Policy.ReadWrite.CrossTenantAccess",
              "Synchronization.ReadWrite.All", "Application.ReadWrite.All", "AppRoleAssignment.ReadWrite.All",
              "Policy.Read.All", "Policy.ReadWrite.Authorization"]


def gid(*parts: str) -> str:
    """The fixed GUID of a named sample object."""
    return str(uuid.uuid5(NAMESPACE, "/".join(parts)))


def sku_id(part: str) -> str:
    return SKU_CATALOG[part][0]


def b2b_partner(other_key: str) -> dict[str, Any]:
    """A cross-tenant access partner entry that allows B2B collaboration both ways with all users and apps, and
    nothing else (no inbound identity sync, no automatic redemption): what the direct-apply demo assumes."""
    allowed = {"usersAndGroups": {"accessType": "allowed", "targets": [{"target": "AllUsers", "targetType": "user"}]},
               "applications": {"accessType": "allowed",
                                "targets": [{"target": "AllApplications", "targetType": "application"}]}}
    return {"tenantId": gid(other_key, "tenant"), "b2bCollaborationInbound": allowed,
            "b2bCollaborationOutbound": allowed}


class Tenant:
    """Accumulates one seed document; users and groups are addressed by alias / display name."""

    def __init__(self, key: str, cloud: str, display_name: str, initial: str, custom: list[str], unverified: list[str],
                 country: str, company: str, offices: dict[str, tuple[str, ...]], employee_prefix: str,
                 federated: Iterable[str] = ()):
        self.key, self.cloud, self.company = key, cloud, company
        self.initial = initial_domain(initial, cloud)
        self.custom = custom
        self.offices = offices
        self.employee_prefix = employee_prefix
        self.users: list[dict[str, Any]] = []
        self.by_alias: dict[str, dict[str, Any]] = {}
        self.groups: list[dict[str, Any]] = []
        self.skus: list[dict[str, Any]] = []
        fed = set(federated)
        self.doc: dict[str, Any] = {
            "cloud": cloud,
            "organization": {
                "id": gid(key, "tenant"), "displayName": display_name, "countryLetterCode": country,
                "tenantType": "AAD", "createdDateTime": "2016-03-14T17:02:11Z",
                "verifiedDomains": [{"name": d, "isDefault": d == custom[0], "isInitial": d == self.initial,
                                     "type": "Federated" if d in fed else "Managed"}
                                    for d in [self.initial, *custom]],
            },
            "domains": ([domain(self.initial, initial=True)]
                        + [domain(d, default=(n == 0), federated=d in fed) for n, d in enumerate(custom)]
                        + [domain(d, verified=False) for d in unverified]),
            "apps": [{"appId": gid(key, "app", "ccsync"), "displayName": "ccsync", "roles": list(FULL_ROLES),
                      "certificates": []}],
        }

    def sku(self, part: str, enabled: int, **kw: Any) -> None:
        self.skus.append(subscribed_sku(part, enabled, **kw))

    def _created(self) -> str:
        n = len(self.users)
        return f"20{18 + n % 8}-{1 + n * 5 % 12:02d}-{1 + n * 7 % 28:02d}T{8 + n % 10:02d}:{n * 13 % 60:02d}:00Z"

    def member(self, given: str, surname: str, department: str, title: str, office: str, *,
               licences: Iterable[str | tuple[str, list[str]]] = (), alias: str | None = None,
               upn_domain: str | None = None, enabled: bool = True, usage_location: bool = True,
               hybrid: bool = False, admin: bool = False, errors: dict[str, str] | None = None,
               display_name: str | None = None, other_mails: list[str] | None = None,
               proxy_addresses: list[str] | None = None) -> dict[str, Any]:
        """An internal member with a full profile; ``licences`` are direct assignments (part or (part, plans off))."""
        alias = alias or f"{given}.{surname}".lower().replace(" ", "")
        dom = upn_domain or self.custom[0]
        city, state, country, usage, postal, street, lang = self.offices[office]
        n = len(self.users)
        user: dict[str, Any] = {
            "id": gid(self.key, "user", alias), "userPrincipalName": f"{alias}@{dom}",
            "displayName": display_name or f"{given} {surname}", "givenName": given, "surname": surname,
            "mail": f"{alias}@{dom}", "mailNickname": alias, "otherMails": other_mails or [],
            "proxyAddresses": proxy_addresses or [f"SMTP:{alias}@{dom}"],
            "accountEnabled": enabled, "userType": "Member", "creationType": None, "externalUserState": None,
            "externalUserStateChangeDateTime": None,
            "jobTitle": title, "department": department, "companyName": self.company,
            "employeeId": f"{self.employee_prefix}{1001 + n}", "employeeType": "Employee",
            "officeLocation": f"{office} {2 + n % 5}.{100 + n * 7 % 60}", "streetAddress": street, "city": city,
            "state": state,
            "country": country, "postalCode": postal, "usageLocation": usage if usage_location else None,
            "preferredLanguage": lang, "businessPhones": [f"+1 425 555 {1000 + n:04d}"] if usage == "US" else [],
            "mobilePhone": None, "createdDateTime": self._created(),
            "onPremisesSyncEnabled": True if hybrid else None,
            # Graph shows an immutable ID as the base64 of the AD objectGUID; derive one from a fixed GUID.
            "onPremisesImmutableId": base64.b64encode(uuid.UUID(gid(self.key, "ad", alias)).bytes).decode()
            if hybrid else None,
            "onPremisesSamAccountName": alias[:20] if hybrid else None,
            "onPremisesDomainName": f"corp.{self.custom[0]}" if hybrid else None,
            "onPremisesLastSyncDateTime": "2026-06-30T23:40:00Z" if hybrid else None,
            "assignedLicenses": [assignment(lic) for lic in licences],
        }
        if errors:
            user["@sim.licenseErrors"] = {sku_id(part): err for part, err in errors.items()}
        if admin:
            user["@sim.admin"] = True
        self.users.append(user)
        self.by_alias[alias] = user
        return user

    def external(self, given: str, surname: str, home_domain: str, *, user_type: str = "Guest",
                 state: str = "Accepted", alias: str | None = None, mail: str | None = None,
                 display_name: str | None = None, job_title: str | None = None, department: str | None = None,
                 company: str | None = None, licences: Iterable[str] = ()) -> dict[str, Any]:
        """A B2B user (creationType Invitation): a guest, or a member brought by cross-tenant sync."""
        alias = alias or f"{given}.{surname}".lower()
        home_mail = mail or f"{alias}@{home_domain}"
        ext = home_mail.replace("@", "_")
        user = {
            "id": gid(self.key, "user", f"{alias}@{home_domain}"),
            "userPrincipalName": f"{ext}#EXT#@{self.initial}", "displayName": display_name or f"{given} {surname}",
            "givenName": given, "surname": surname, "mail": home_mail, "mailNickname": f"{ext}#EXT#",
            "otherMails": [home_mail], "proxyAddresses": [f"SMTP:{home_mail}"],
            "accountEnabled": True, "userType": user_type, "creationType": "Invitation",
            "externalUserState": state, "externalUserStateChangeDateTime": "2025-09-02T15:20:00Z",
            "jobTitle": job_title, "department": department, "companyName": company,
            "createdDateTime": self._created(), "usageLocation": None,
            "assignedLicenses": [assignment(lic) for lic in licences],
        }
        self.users.append(user)
        self.by_alias[f"{alias}@{home_domain}"] = user
        return user

    def group(self, name: str, description: str, members: Iterable[str], *, licences: Iterable[str] = (),
              mail_enabled: bool = False, unified: bool = False) -> dict[str, Any]:
        """A security group (or a Microsoft 365 group) whose members are user aliases or group names."""
        ids = []
        for m in members:
            if m in self.by_alias:
                ids.append(self.by_alias[m]["id"])
            else:
                ids.append(next(g["id"] for g in self.groups if g["displayName"] == m))
        nick = name.lower().replace(" ", "-")
        g = {"id": gid(self.key, "group", name), "displayName": name, "description": description,
             "mailNickname": nick, "mail": f"{nick}@{self.custom[0]}" if mail_enabled else None,
             "securityEnabled": not unified, "mailEnabled": mail_enabled, "groupTypes": ["Unified"] if unified else [],
             "createdDateTime": "2023-02-01T10:00:00Z", "members": ids,
             "assignedLicenses": [assignment(lic) for lic in licences]}
        self.groups.append(g)
        return g

    def document(self) -> dict[str, Any]:
        return {**self.doc, "subscribedSkus": self.skus, "groups": self.groups, "users": self.users}


def assignment(lic: str | tuple[str, list[str]]) -> dict[str, Any]:
    part, off = (lic, []) if isinstance(lic, str) else lic
    return {"skuId": sku_id(part), "disabledPlans": [PLAN_IDS[p] for p in off]}
