"""The sync configuration in the source tenant: its application from the gallery template, and its scope.

* ``POST /applicationTemplates/518e5f48-.../instantiate {"displayName"}`` -> 201 ``{application,
  servicePrincipal}``; instantiate is not idempotent, so an existing configuration is looked up by name first;
  the service principal's ``id`` is kept (not its appId) ([CTS-GRAPH] step 6);
* ``POST /servicePrincipals/{id}/appRoleAssignedTo {"appRoleId", "resourceId", "principalId"}`` -> 201, the
  app role being the configuration's one ``msiam_access`` role ([CTS-GRAPH] step 10). Groups scope by their
  direct members only.
"""

from __future__ import annotations

from typing import Any

from toolkit.errors import InputError

from .calls import Call, TenantSide
from .steps import MSIAM_ACCESS, TEMPLATE_ID

__all__ = ["find_configuration", "find_configurations", "resolve_configuration", "plan_adopt", "plan_instantiate", "msiam_role_id", "resolve_groups",
           "read_assignments", "plan_assignments", "assignments_frame", "ASSIGNMENT_COLUMNS"]

SP_SELECT = "id,appId,displayName,appRoles,applicationTemplateId"
ASSIGNMENT_COLUMNS = ["principalId", "principalDisplayName", "principalType", "appRoleId", "createdDateTime", "id"]


def _quote(value: str) -> str:
    return value.replace("'", "''")


def find_configurations(side: TenantSide, step: str = "source.configuration") -> list[dict[str, Any]]:
    """Every service principal created from the cross-tenant sync template in this tenant."""
    return side.read_all("/servicePrincipals", step=step, permission="Application.Read.All",
                         params={"$filter": f"applicationTemplateId eq '{TEMPLATE_ID}'", "$select": SP_SELECT})


def find_configuration(side: TenantSide, name: str, step: str = "source.configuration") -> dict[str, Any] | None:
    """The configuration named ``name`` (a service principal from the template), or None; several is an error."""
    found = side.read_all("/servicePrincipals", step=step, permission="Application.Read.All",
                          params={"$filter": f"displayName eq '{_quote(name)}'", "$select": SP_SELECT})
    found = [sp for sp in found if sp.get("applicationTemplateId") in (None, TEMPLATE_ID)
             and sp.get("displayName") == name]
    from_template = [sp for sp in found if sp.get("applicationTemplateId") == TEMPLATE_ID]
    found = from_template or found
    if len(found) > 1:
        raise InputError(
            f"{len(found)} sync configurations in tenant {side.tenant_id} are named '{name}' "
            f"(service principal ids {', '.join(sp['id'] for sp in found)}).",
            hint="Give --name a unique configuration name, or delete the duplicate in the portal.")
    return found[0] if found else None


def resolve_configuration(side: TenantSide, target_tenant_id: str, target_display_name: str | None,
                          name: str | None) -> tuple[dict[str, Any] | None, str]:
    """The source's configuration for this target, and the name to use.

    With ``name``: the configuration of that name (or None: to be created under it). Without: the one whose
    saved CompanyId is the target tenant (one configuration per pair), else one named like the target tenant
    (the portal's habit, e.g. 'Fabrikam Federal'); else None and that name for a new one.
    """
    from .job import read_secrets
    from .steps import default_configuration_name

    if name:
        return find_configuration(side, name), name
    configs = find_configurations(side)
    for sp in configs:
        secrets = read_secrets(side, sp["id"]) or {}
        if str(secrets.get("CompanyId") or "").lower() == target_tenant_id.lower():
            return sp, sp.get("displayName") or ""
    default = target_display_name or default_configuration_name(target_tenant_id)
    named = [sp for sp in configs if sp.get("displayName") == default]
    return (named[0] if named else None), default


def plan_adopt(side: TenantSide, name: str) -> Call:
    """Cross-cloud: look up the configuration the admin created in the portal (Graph cannot create one)."""
    return Call(side.role, "source.configuration", "GET", "/servicePrincipals",
                {"$filter": f"displayName eq '{_quote(name)}'"},
                f"find the configuration '{name}' created in the portal", write=False,
                permission="Application.Read.All")


def plan_instantiate(side: TenantSide, name: str) -> Call:
    return Call(side.role, "source.configuration", "POST", f"/applicationTemplates/{TEMPLATE_ID}/instantiate",
                {"displayName": name}, f"create the sync configuration '{name}'",
                permission="Application.ReadWrite.All")


def msiam_role_id(service_principal: dict[str, Any]) -> str | None:
    roles = service_principal.get("appRoles") or []
    for role in roles:
        if MSIAM_ACCESS in (role.get("displayName"), role.get("value")):
            return role.get("id")
    return roles[0].get("id") if roles else None


def resolve_groups(side: TenantSide, names: list[str]) -> list[dict[str, Any]]:
    """Each group name to exactly one group of the source tenant (by displayName); else a clear InputError."""
    from toolkit.clouds import is_guid

    out = []
    for name in names:
        if is_guid(name):
            group = side.read_or_none(f"/groups/{name}", step="source.assignments", permission="Group.Read.All",
                                      params={"$select": "id,displayName"})
            if group is None:
                raise InputError(f"no group with id {name} in the source tenant {side.tenant_id}.", field="--group",
                                 hint="Check the id, or give the group's displayName.")
            out.append(group)
            continue
        found = side.read_all("/groups", step="source.assignments", permission="Group.Read.All",
                              params={"$filter": f"displayName eq '{_quote(name)}'", "$select": "id,displayName"})
        found = [g for g in found if g.get("displayName") == name] or found
        if not found:
            raise InputError(f"no group named '{name}' in the source tenant {side.tenant_id}.", field="--group",
                             hint="Check the name (it is matched exactly, as displayName) or give the group's id.")
        if len(found) > 1:
            raise InputError(
                f"{len(found)} groups are named '{name}' in the source tenant {side.tenant_id} "
                f"({', '.join(g['id'] for g in found)}).", field="--group",
                hint="Rename one of them, or pass the id of the one to scope the sync with as --group.")
        out.append(found[0])
    return out


def read_assignments(side: TenantSide, sp_id: str) -> list[dict[str, Any]]:
    return side.read_all(f"/servicePrincipals/{sp_id}/appRoleAssignedTo", step="source.assignments",
                         permission="Application.Read.All")


def plan_assignments(side: TenantSide, groups: list[dict[str, Any]], current: list[dict[str, Any]]) -> list[Call]:
    have = {a.get("principalId") for a in current}
    return [Call(side.role, "source.assignments", "POST", "/servicePrincipals/{servicePrincipalId}/appRoleAssignedTo",
                 {"appRoleId": "{appRoleId}", "resourceId": "{servicePrincipalId}", "principalId": g["id"]},
                 f"scope: assign group '{g.get('displayName')}'", permission="AppRoleAssignment.ReadWrite.All")
            for g in groups if g["id"] not in have]


def assignments_frame(assignments: list[dict[str, Any]]) -> Any:
    """The configuration's assignments as a DataFrame (``ASSIGNMENT_COLUMNS``)."""
    import pandas as pd

    return pd.DataFrame([{c: a.get(c) for c in ASSIGNMENT_COLUMNS} for a in assignments], columns=ASSIGNMENT_COLUMNS)
