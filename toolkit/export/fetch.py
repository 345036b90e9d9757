"""Graph -> ``RawTenant``: every collection an export needs, in as few calls as Graph allows.

Calls made (n users, g scoping groups, k licence-assigning groups not among them):

* ``GET /organization``, ``GET /domains``, ``GET /subscribedSkus``: one page each in practice;
* ``GET /users?$select=<user properties + licence fields>&$top=999``: ceil(n / 999) pages; the licence fields
  (``assignedLicenses``, ``licenseAssignmentStates``) come with the users, never one request per user;
* per scoping group: one lookup when given by display name (by id: one ``GET /groups/{id}``), then
  ``/groups/{id}/members`` in pages of 999 (direct members only, as Entra scopes cross-tenant sync);
* the names of licence-assigning groups: ``$batch`` of ``GET /groups/{id}?$select=id,displayName``, 20 per call.

The per-collection page counts are in ``RawTenant.stats["pages"]``, the client's totals in ``stats["graph"]``.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Iterable, Sequence
from urllib.parse import urlsplit

from ..clouds import CLOUDS, is_guid
from ..errors import GraphNotFound, InputError
from ..frames import USER_PROPERTIES
from .raw import RawTenant

__all__ = ["fetch_tenant_raw", "RawTenant", "USER_SELECT", "PAGE_SIZE"]

PAGE_SIZE = 999   # the largest page /users and /groups/{id}/members accept
USER_SELECT = list(USER_PROPERTIES) + ["assignedLicenses", "licenseAssignmentStates", "otherMails",
                                        "proxyAddresses", "identities"]
_GROUP_SELECT = "id,displayName,mailNickname,securityEnabled,mailEnabled,groupTypes"
_MEMBER_SELECT = "id,userPrincipalName,displayName"


def fetch_tenant_raw(client: Any, *, groups: Sequence[str] = (), include_members: bool = True,
                     cloud: str | None = None) -> RawTenant:
    """Read one tenant through ``client`` (a ``toolkit.graph.GraphClient``).

    ``groups`` are scoping groups by object id or exact display name; a name that matches no group or several
    is an InputError naming it. ``cloud`` defaults to the cloud whose Graph host the client talks to
    (``"unknown"`` for an overridden endpoint such as the simulator, unless given).
    """
    pages: dict[str, int] = {}
    fetched_at = datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")

    def collect(name: str, path: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        for page in client.iter_pages(path, params=params):
            pages[name] = pages.get(name, 0) + 1
            items.extend(page)
        pages.setdefault(name, 0)
        return items

    organization = collect("organization", "/organization")
    domains = collect("domains", "/domains")
    skus = collect("subscribedSkus", "/subscribedSkus")
    users = collect("users", "/users", {"$select": ",".join(USER_SELECT), "$top": str(PAGE_SIZE)})

    scoping: list[dict[str, Any]] = []
    for ref in groups:
        group = _resolve_group(client, ref, pages)
        if all(str(g["id"]).lower() != str(group["id"]).lower() for g in scoping):   # named twice: read once
            scoping.append(group)
    members: dict[str, list[dict[str, Any]]] = {}
    if include_members:
        for group in scoping:
            gid = group["id"]
            members[gid] = collect(f"group-members/{gid}", f"/groups/{gid}/members",
                                   {"$select": _MEMBER_SELECT, "$top": str(PAGE_SIZE)})

    special, contacts = _directory_objects(client, collect, pages)

    known = {str(g["id"]).lower() for g in scoping}
    assigning = sorted({str(s["assignedByGroup"]) for u in users for s in (u.get("licenseAssignmentStates") or [])
                        if isinstance(s, dict) and s.get("assignedByGroup")
                        and str(s["assignedByGroup"]).lower() not in known})
    warnings: list[str] = []
    named = _group_names(client, assigning, pages, warnings)

    tenant_id = str(organization[0].get("id") or "") if organization else ""
    stats = {"graph": client.stats.to_dict(), "pages": pages, "warnings": warnings}
    return RawTenant(tenant_id=tenant_id, cloud=cloud or _cloud_of(client), fetched_at=fetched_at, users=users,
                     subscribed_skus=skus, domains=domains, organization=organization,
                     groups=_merge_groups(scoping + named, special), contacts=contacts,
                     scoping_group_ids=[g["id"] for g in scoping],
                     group_members=members, stats=stats, source="graph")


_DIRECTORY_GROUP_SELECT = ("id,displayName,mail,proxyAddresses,mailEnabled,securityEnabled,groupTypes,"
                           "isAssignableToRole,membershipRule")
_CONTACT_SELECT = "id,displayName,mail,proxyAddresses"


def _directory_objects(client: Any, collect: Any, pages: dict[str, int]) -> tuple[list[dict[str, Any]],
                                                                                    list[dict[str, Any]]]:
    """Groups that hold addresses or refuse plain member adds, and org contacts (docs/direct-engine.md).

    Reading them needs Group.Read.All / OrgContact.Read.All (or Directory.Read.All); an app without them gets
    a warning in the export's stats instead of a failed export.
    """
    from ..errors import GraphError

    special: list[dict[str, Any]] = []
    contacts: list[dict[str, Any]] = []
    try:
        for g in collect("directoryGroups", "/groups", {"$select": _DIRECTORY_GROUP_SELECT, "$top": str(PAGE_SIZE)}):
            types = [str(t).lower() for t in g.get("groupTypes") or []]
            if g.get("mailEnabled") or "dynamicmembership" in types or g.get("isAssignableToRole"):
                special.append(g)
    except GraphError as exc:
        if exc.status not in (401, 403):
            raise
        pages["directoryGroups.denied"] = 1
    try:
        contacts = collect("contacts", "/contacts", {"$select": _CONTACT_SELECT, "$top": str(PAGE_SIZE)})
    except GraphError as exc:
        if exc.status not in (401, 403):
            raise
        pages["contacts.denied"] = 1
    return special, contacts


def _merge_groups(first: list[dict[str, Any]], more: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per group id: the scoping/licensing group objects, completed with the directory read."""
    by_id: dict[str, dict[str, Any]] = {}
    for g in [*first, *more]:
        key = str(g.get("id", "")).lower()
        by_id[key] = {**by_id.get(key, {}), **g}
    return list(by_id.values())


def _resolve_group(client: Any, ref: str, pages: dict[str, int]) -> dict[str, Any]:
    ref = str(ref).strip()
    if is_guid(ref):
        pages["groups"] = pages.get("groups", 0) + 1
        try:
            return client.get(f"/groups/{ref}", params={"$select": _GROUP_SELECT})
        except GraphNotFound as exc:
            raise InputError(f"no group with id {ref} in this tenant.", field="groups",
                             hint="Check the scoping group's object id in the Entra admin center.") from exc
    escaped = ref.replace("'", "''")    # OData string literal quoting
    found: list[dict[str, Any]] = []
    for page in client.iter_pages("/groups", params={"$filter": f"displayName eq '{escaped}'",
                                                    "$select": _GROUP_SELECT}):
        pages["groups"] = pages.get("groups", 0) + 1
        found.extend(page)
    if not found:
        raise InputError(f"no group named '{ref}' in this tenant.", field="groups",
                         hint="Give the exact display name or the group's object id.")
    if len(found) > 1:
        ids = ", ".join(str(g.get("id")) for g in found)
        raise InputError(f"{len(found)} groups are named '{ref}' ({ids}).", field="groups",
                         hint="Give the group's object id instead of its name.")
    return found[0]


def _group_names(client: Any, group_ids: Iterable[str], pages: dict[str, int],
                 warnings: list[str]) -> list[dict[str, Any]]:
    """``{"id", "displayName"}`` of each group through ``$batch`` (20 per call); unreadable ones are skipped."""
    from ..graph import MAX_BATCH, BatchRequest   # lazy: keeps importing toolkit.export light

    ids = list(group_ids)
    if not ids:
        return []
    requests = [BatchRequest(id=str(i), method="GET", url=f"/groups/{gid}?$select=id,displayName")
                for i, gid in enumerate(ids)]
    results = client.batch(requests)
    pages["groupNames"] = -(-len(ids) // MAX_BATCH)
    out, missing = [], []
    for result in results:
        gid = ids[int(result.id)]
        if result.error is None and isinstance(result.body, dict) and result.body.get("id"):
            out.append({"id": result.body["id"], "displayName": result.body.get("displayName")})
        else:
            missing.append(gid)
    if missing:
        warnings.append(f"{len(missing)} licence-assigning group(s) could not be read "
                        f"({', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}).")
    return out


def _cloud_of(client: Any) -> str:
    host = urlsplit(getattr(client, "base_url", "")).hostname or ""
    matches = [c.name for c in CLOUDS.values() if c.graph_host == host]
    # graph.microsoft.com serves both commercial and GCC tenants: the host alone says "commercial".
    return matches[0] if matches else "unknown"
