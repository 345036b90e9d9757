"""``RawTenant``: a tenant as Microsoft Graph returned it, before any flattening.

Every list holds Graph's own objects exactly as they came in the ``value`` arrays of the responses, so a snapshot
can write them back out unchanged and ``build_tenant_data`` can be re-run on them at any time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["RawTenant"]


@dataclass
class RawTenant:
    """One tenant's Graph JSON plus where and when it came from.

    ``subscribed_skus`` / ``domains`` are ``None`` when the input simply did not include them (JSON an admin saved
    with users only), and ``[]`` when the tenant has none: the difference decides whether an unknown ``skuId`` is
    labelled "not subscribed" or just left unnamed.
    """

    tenant_id: str
    cloud: str
    fetched_at: str                                     # ISO-8601 UTC
    users: list[dict[str, Any]] = field(default_factory=list)
    subscribed_skus: list[dict[str, Any]] | None = field(default_factory=list)
    domains: list[dict[str, Any]] | None = field(default_factory=list)
    organization: list[dict[str, Any]] = field(default_factory=list)
    # Scoping groups and the groups that assign licences, each {"id", "displayName", ...} as Graph returned it.
    groups: list[dict[str, Any]] = field(default_factory=list)
    scoping_group_ids: list[str] = field(default_factory=list)
    # Organizational contacts (GET /contacts): they hold mail addresses an invitation can collide with.
    contacts: list[dict[str, Any]] = field(default_factory=list)
    # Direct members of each scoping group, keyed by group id (directoryObjects with "@odata.type").
    group_members: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)
    source: str = "graph"                               # graph | snapshot | json

    @property
    def display_name(self) -> str:
        return str(self.organization[0].get("displayName") or "") if self.organization else ""

    def counts(self) -> dict[str, int]:
        """Objects per Graph collection, as recorded in a snapshot manifest."""
        out = {"users": len(self.users), "subscribedSkus": len(self.subscribed_skus or []),
               "domains": len(self.domains or []), "organization": len(self.organization),
               "groups": len(self.groups)}
        if self.contacts:
            out["contacts"] = len(self.contacts)
        for gid, members in self.group_members.items():
            out[f"group-members/{gid}"] = len(members)
        return out
