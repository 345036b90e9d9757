"""Small tenants built by hand for planner tests (shared by the plan test files)."""

from __future__ import annotations

from toolkit.frames import DOMAINS, GROUP_MEMBERS, USERS, TenantData, conform

SOURCE_TID = "11111111-1111-4111-8111-111111111111"
TARGET_TID = "22222222-2222-4222-8222-222222222222"


def member(i: int, **extra) -> dict:
    row = {"id": f"src-{i:04d}", "userPrincipalName": f"user{i}@contoso.com", "mail": f"user{i}@contoso.com",
           "displayName": f"User {i}", "givenName": "User", "surname": str(i), "department": "Sales",
           "jobTitle": "Engineer", "accountEnabled": True, "userType": "Member", "creationType": None}
    row.update(extra)
    return row


def tenant(users: list[dict], *, tid: str = SOURCE_TID, cloud: str = "commercial", exported_at: str =
           "2026-11-26T10:00:00Z", groups: list[tuple[str, str, str]] = (), domains: list[dict] | None = None,
           name: str = "Contoso") -> TenantData:
    domains = domains if domains is not None else [
        {"id": "contoso.com" if tid == SOURCE_TID else "fabrikam.com", "isVerified": True, "isInitial": False},
        {"id": ("contoso" if tid == SOURCE_TID else "fabrikam") + ".onmicrosoft.com", "isVerified": True,
         "isInitial": True}]
    return TenantData(
        tid, cloud, name, exported_at, users=conform(users, USERS),
        group_members=conform([{"groupId": g, "groupDisplayName": n, "memberId": m, "memberType":
                                "#microsoft.graph.user"} for g, n, m in groups], GROUP_MEMBERS),
        domains=conform(domains, DOMAINS))


def target_tenant(users: list[dict], **kw) -> TenantData:
    kw.setdefault("tid", TARGET_TID)
    kw.setdefault("name", "Fabrikam")
    return tenant(users, **kw)


def b2b(i: int, *, link: bool = True, **extra) -> dict:
    """A target user as ccsync would have created it for source member i."""
    row = {"id": f"tgt-{i:04d}", "userPrincipalName": f"user{i}_contoso.com#EXT#@fabrikam.onmicrosoft.com",
           "mail": f"user{i}@contoso.com", "displayName": f"User {i}", "givenName": "User", "surname": str(i),
           "department": "Sales", "jobTitle": "Engineer", "accountEnabled": True, "userType": "Member",
           "creationType": "Invitation",
           "onPremisesExtensionAttributes": ({"extensionAttribute15": f"ccsync:{SOURCE_TID}:src-{i:04d}"}
                                             if link else {})}
    row.update(extra)
    return row
