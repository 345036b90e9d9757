"""What the tenant checks of a migration need from the target's ``TenantData``, indexed once: addresses in use,
verified domains, subscribed SKUs and their free seats, groups, user ids (sets and dicts, lower-cased)."""

from __future__ import annotations

from typing import Any

__all__ = ["TargetIndex"]


class TargetIndex:
    """What the tenant checks need from ``TenantData``, indexed once (sets and dicts, lower-cased)."""

    def __init__(self, tenant: Any):
        import pandas as pd

        users = tenant.users
        self.tenant_id, self.cloud, self.display_name = tenant.tenant_id, tenant.cloud, tenant.display_name
        self.exported_at = tenant.exported_at
        self.upns = _lower_series(users["userPrincipalName"])
        self.mails = _lower_series(users["mail"])
        self.nicknames = _lower_series(users["mailNickname"])
        self.proxies: set[str] = set()
        if "proxyAddresses" in users.columns:
            for lst in users["proxyAddresses"]:
                if isinstance(lst, (list, tuple)) or hasattr(lst, "tolist"):
                    for a in list(lst):
                        self.proxies.add(str(a).split(":", 1)[-1].lower())
        self.addresses = self.upns | self.mails | self.proxies
        self.id_by_upn = dict(zip(users["userPrincipalName"].astype("string").str.lower(), users["id"]))
        self.ids = _lower_series(users["id"])
        d = tenant.domains
        self.verified = set(d.loc[d["isVerified"].fillna(False).astype(bool), "id"].astype(str).str.lower()) \
            if len(d) else set()
        s = tenant.skus
        self.skus: dict[str, dict[str, Any]] = {}
        for row in s.itertuples(index=False):
            info = {"skuId": str(row.skuId), "skuPartNumber": str(row.skuPartNumber),
                    "available": int(row.available) if not pd.isna(row.available) else 0,
                    "capabilityStatus": None if pd.isna(row.capabilityStatus) else str(row.capabilityStatus)}
            self.skus[str(row.skuId).lower()] = info
            self.skus[str(row.skuPartNumber).lower()] = info
        g = tenant.group_members
        self.groups: dict[str, str] = {}
        for gid, name in zip(g["groupId"], g["groupDisplayName"]):
            if isinstance(gid, str):
                self.groups[gid.lower()] = gid
                if isinstance(name, str):
                    self.groups.setdefault(name.lower(), gid)

    def describe(self) -> dict[str, Any]:
        return {"tenantId": self.tenant_id, "cloud": self.cloud, "displayName": self.display_name,
                "exportedAt": self.exported_at, "users": len(self.upns)}


def _lower_series(series: Any) -> set[str]:
    return set(series.dropna().astype("string").str.strip().str.lower())
