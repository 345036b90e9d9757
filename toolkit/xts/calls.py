"""One tenant's side of a sync setup: its Graph client, and the record of every call made or planned.

``TenantSide`` wraps a ``GraphClient`` (each profile's calls go to its own cloud's Graph). Reads go through
``read``/``read_or_none``; writes are ``Call`` objects sent with ``send``. Every call is recorded, so a what-if
can list them (method, path, body with secrets masked) and a run can say exactly which writes it sent.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from toolkit.errors import GraphAuthorizationError, GraphNotFound, MissingPermissionError

__all__ = ["Call", "TenantSide", "mask_body", "calls_frame", "CALL_COLUMNS", "substitute"]

CALL_COLUMNS = ["tenant", "tenantId", "cloud", "step", "method", "path", "body", "purpose", "state", "status"]
# Keys of synchronization secrets that carry no secret (shown as they are); every other value is masked.
_PLAIN_SECRET_KEYS = {"CompanyId", "AuthenticationType", "SyncAll", "SyncNotificationSettings"}
_SECRETISH = re.compile(r"(?i)secret|password|token|key$|credential")
_PLACEHOLDER = re.compile(r"\{(servicePrincipalId|jobId|appRoleId)\}")


def mask_body(body: Any) -> Any:
    """A copy of a request body fit to show: values of secret-bearing keys replaced by '***'."""
    if body is None:
        return None
    out = copy.deepcopy(body)

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            # Graph's key/value pairs ({"key": ..., "value": ...}) in secrets and credentials.
            if "key" in node and "value" in node and isinstance(node.get("key"), str):
                if node["key"] not in _PLAIN_SECRET_KEYS:
                    node["value"] = "***"
                return node
            for k, v in list(node.items()):
                if isinstance(v, str) and _SECRETISH.search(k):
                    node[k] = "***"
                else:
                    node[k] = walk(v)
        elif isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(out)


def substitute(value: Any, ids: Mapping[str, str]) -> Any:
    """Replace {servicePrincipalId}, {jobId}, {appRoleId} placeholders with ids learnt during the run."""
    if isinstance(value, str):
        return _PLACEHOLDER.sub(lambda m: ids.get(m.group(1), m.group(0)), value)
    if isinstance(value, dict):
        return {k: substitute(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, ids) for v in value]
    return value


@dataclass
class Call:
    """One Graph call of a setup: planned, then sent (or not, in a what-if)."""

    tenant: str                 # "source" or "target"
    step: str                   # a steps.STEPS key
    method: str
    path: str
    body: Any = None
    purpose: str = ""
    write: bool = True
    permission: str = ""        # the application permission this call needs (named on a 403)
    state: str = "planned"      # planned, sent, read, failed
    status: int | None = None
    response: Any = field(default=None, repr=False)

    def to_dict(self, side: "TenantSide | None" = None) -> dict[str, Any]:
        return {"tenant": self.tenant, "tenantId": side.tenant_id if side else None,
                "cloud": side.cloud if side else None, "step": self.step, "method": self.method,
                "path": self.path, "body": mask_body(self.body), "purpose": self.purpose, "state": self.state,
                "status": self.status}


class TenantSide:
    """A tenant in one role (source/target): its client, tenant id, cloud, token roles and call record."""

    def __init__(self, role: str, client: Any, *, tenant_id: str, cloud: str, name: str = "",
                 roles: Callable[[], list[str]] | list[str] | None = None):
        self.role, self.client, self.tenant_id, self.cloud, self.name = role, client, tenant_id, cloud, name
        self._roles = roles
        self.display_name: str | None = None
        self.calls: list[Call] = []

    @classmethod
    def from_profile(cls, role: str, profile: Any, *, client: Any = None, secret: str | None = None) -> "TenantSide":
        """A side for a ``config.Profile``: a GraphClient on its own cloud's Graph (no call is made yet)."""
        from toolkit.graph import GraphClient

        client = client or GraphClient.from_profile(profile, secret=secret)
        provider = getattr(client, "_token_provider", None)

        def roles() -> list[str]:
            claims = provider.claims() if provider is not None and hasattr(provider, "claims") else {}
            return list(claims.get("roles") or [])

        return cls(role, client, tenant_id=profile.tenant, cloud=profile.cloud, name=profile.name, roles=roles)

    def load_organization(self) -> None:
        """Read the tenant's id (a profile may name it by domain) and display name from /organization."""
        org = self.read("/organization", step=f"{self.role}.organization", params={"$select": "id,displayName"})
        orgs = (org or {}).get("value") or []
        if orgs:
            self.tenant_id = orgs[0].get("id") or self.tenant_id
            self.display_name = orgs[0].get("displayName")

    def roles(self) -> list[str] | None:
        """The application permissions in the app's token (None when unknown)."""
        if self._roles is None:
            return None
        return list(self._roles() if callable(self._roles) else self._roles)

    # --- reads -----------------------------------------------------------------------------------------
    def read(self, path: str, *, step: str, params: Mapping[str, Any] | None = None,
             permission: str = "") -> Any:
        call = Call(self.role, step, "GET", path, write=False, permission=permission, state="read")
        self.calls.append(call)
        try:
            resp = self.client.request("GET", path, params=params)
        except GraphAuthorizationError as err:
            call.state, call.status = "failed", err.status
            raise self.permission_error(call, err) from err
        call.status = resp.status
        return resp.body

    def read_or_none(self, path: str, *, step: str, params: Mapping[str, Any] | None = None,
                     permission: str = "") -> Any:
        """GET, with None for a 404 (the object does not exist yet)."""
        try:
            return self.read(path, step=step, params=params, permission=permission)
        except GraphNotFound:
            self.calls[-1].status = 404
            return None

    def read_all(self, path: str, *, step: str, params: Mapping[str, Any] | None = None,
                 permission: str = "") -> list[dict[str, Any]]:
        """Every item of a collection, following @odata.nextLink."""
        items: list[dict[str, Any]] = []
        url, page_params = path, params
        while url:
            body = self.read(url, step=step, params=page_params, permission=permission) or {}
            items.extend(body.get("value") or [])
            url, page_params = body.get("@odata.nextLink"), None
        return items

    # --- writes ----------------------------------------------------------------------------------------
    def send(self, call: Call, ids: Mapping[str, str] | None = None) -> Any:
        """Send a planned call (placeholders filled from ``ids``); record it; return the parsed body."""
        if ids:
            call.path, call.body = substitute(call.path, ids), substitute(call.body, ids)
        self.calls.append(call)
        try:
            resp = self.client.request(call.method, call.path, json=call.body)
        except GraphAuthorizationError as err:
            call.state, call.status = "failed", err.status
            raise self.permission_error(call, err) from err
        except Exception as err:
            call.state = "failed"
            call.status = getattr(err, "status", None)
            raise
        call.state, call.status, call.response = "sent", resp.status, resp.body
        return resp.body

    def permission_error(self, call: Call, err: Any) -> Exception:
        """A 403 names the permission the call needs (from the step table), the tenant and the cloud."""
        if err.status == 401 or not call.permission:
            return err
        roles = self.roles()
        have = "unknown" if roles is None else (", ".join(sorted(roles)) or "none")
        return MissingPermissionError(
            f"{self.role} tenant {self.tenant_id} ({self.cloud}) refused {call.method} {call.path} with "
            f"{err.status} {err.code or ''}: the app needs the Graph application permission {call.permission} "
            f"(token has: {have}).",
            hint=f"Grant {call.permission} to the app in the {self.cloud} portal's app registration, give admin "
                 f"consent, then run 'ccsync login --profile {self.name or '<profile>'}' to see the new roles.",
            permission=call.permission, tenant=self.tenant_id)

    @property
    def writes(self) -> list[Call]:
        return [c for c in self.calls if c.write and c.state in ("sent", "failed")]


def calls_frame(calls: list[tuple[Call, "TenantSide | None"]]) -> Any:
    """A DataFrame of calls (``CALL_COLUMNS``; body as masked JSON text) for reports and the cmdlets."""
    import pandas as pd

    rows = []
    for call, side in calls:
        d = call.to_dict(side)
        d["body"] = json.dumps(d["body"], sort_keys=True) if d["body"] is not None else None
        rows.append(d)
    frame = pd.DataFrame(rows, columns=CALL_COLUMNS)
    frame["status"] = frame["status"].astype("Int64")
    return frame
