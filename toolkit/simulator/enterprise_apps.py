"""One tenant's enterprise applications in the simulator: applications and service principals instantiated from
the gallery, app role assignments, and the synchronization jobs, schemas and secrets of cross-tenant sync
configurations.

Graph shapes follow docs/entra-sync-simulator.md (Microsoft: applicationTemplate instantiate, servicePrincipal,
appRoleAssignment, synchronizationJob, synchronizationSchema, synchronizationSecret). Routes are in
``applications.py`` and ``synchronization.py``; ``syncengine.py`` runs the jobs. Callers hold the tenant's lock.
Seeded apps (``SimApp``, the ones that sign in) are not listed here: the simulator does not serve their service
principals.
"""

from __future__ import annotations

import copy
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

__all__ = ["CTS_TEMPLATE_ID", "EnterpriseApps", "SyncJob", "NEVER", "default_job_status", "cross_cloud_sync_permissions"]

# The cross-tenant synchronization gallery template ([CTS-GRAPH] step 6, graph-facts 2.2 step E).
CTS_TEMPLATE_ID = "518e5f48-1fc8-4c48-9387-9fdf28b0dfe7"
CTS_HOMEPAGE = ("https://account.activedirectory.windowsazure.com:444/applications/default.aspx?"
                "metadata=aad2aadsync|ISV9.1|primary|z")
NEVER = "0001-01-01T00:00:00Z"       # Graph's "not yet" DateTimeOffset in job status
MICROSOFT_GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
# Graph application permissions the portal's target-side "cross-cloud synchronization" tick grants
# (graph-facts 1.4 step 2). Role ids: Microsoft Graph's published app role ids; User.ReadWrite.CrossCloud's id
# comes from third-party permission trackers (no Microsoft page found).
CROSS_CLOUD_SYNC_PERMISSIONS = {
    "User.ReadWrite.CrossCloud": "5652f862-b626-407b-a3e6-248aeb95763c",
    "User.Invite.All": "09850681-111b-4a89-9bed-3f2cae46d706",
    "Organization.Read.All": "498476ce-e0fe-48b0-b801-37ba7e2685c6",
    "Policy.Read.All": "246dd0d5-5bd0-4def-940b-0421030a5b68",
}


def cross_cloud_sync_permissions() -> list[str]:
    return list(CROSS_CLOUD_SYNC_PERMISSIONS)


def now_iso(fraction: bool = False) -> str:
    fmt = "%Y-%m-%dT%H:%M:%S.%fZ" if fraction else "%Y-%m-%dT%H:%M:%SZ"
    return datetime.now(timezone.utc).strftime(fmt)


def default_job_status() -> dict[str, Any]:
    """synchronizationStatus of a new job ([CTS-GRAPH] step 8 response)."""
    return {"countSuccessiveCompleteFailures": 0, "escrowsPruned": False, "code": "Paused", "lastExecution": None,
            "lastSuccessfulExecution": None, "lastSuccessfulExecutionWithExports": None, "quarantine": None,
            "steadyStateFirstAchievedTime": NEVER, "steadyStateLastAchievedTime": NEVER, "troubleshootingUrl": None,
            "progress": [], "synchronizedEntryCountByType": []}


@dataclass
class SyncJob:
    """A synchronizationJob plus the engine's bookkeeping (never returned by Graph)."""

    id: str
    template_id: str
    schema: dict[str, Any]
    schedule: dict[str, Any] = field(default_factory=lambda: {"expiration": None, "interval": "PT40M",
                                                              "state": "Disabled"})
    status: dict[str, Any] = field(default_factory=default_job_status)
    settings: list[dict[str, str]] = field(default_factory=lambda: [
        {"name": "AzureIngestionAttributeOptimization", "value": "False"},
        {"name": "LookaheadQueryEnabled", "value": "False"}])
    # --- engine state ---
    links: dict[str, str] = field(default_factory=dict)          # source user id -> target user id
    exported: dict[str, dict[str, Any]] = field(default_factory=dict)   # source id -> last exported values
    staged_deletes: dict[str, str] = field(default_factory=dict)  # source id -> "delete" | "disable" held back
    force_deletes: bool = False         # restart ForceDeletes: release the staged deletions on the next cycle
    full_cycle: bool = True             # next cycle re-evaluates everyone (initial cycle / Watermark reset)
    next_run: float = 0.0               # monotonic time of the next scheduled cycle
    cycles: int = 0
    retry_delay: float = 0.0            # seconds to the next attempt while quarantined

    def view(self) -> dict[str, Any]:
        return {"id": self.id, "templateId": self.template_id, "schedule": copy.deepcopy(self.schedule),
                "status": copy.deepcopy(self.status), "synchronizationJobSettings": copy.deepcopy(self.settings)}


class EnterpriseApps:
    """Applications, service principals, their assignments, sync jobs and secrets in one tenant."""

    def __init__(self, tenant_id: str, initial_domain: str) -> None:
        self.tenant_id = tenant_id
        self.initial_domain = initial_domain
        self.applications: dict[str, dict[str, Any]] = {}
        self.service_principals: dict[str, dict[str, Any]] = {}
        self.assigned_to: dict[str, dict[str, dict[str, Any]]] = {}     # resource sp id -> assignment id -> obj
        self.app_permissions: dict[str, list[dict[str, Any]]] = {}       # principal sp id -> its app role grants
        self.secrets: dict[str, list[dict[str, str]]] = {}
        self.jobs: dict[str, dict[str, SyncJob]] = {}
        # Portal-only fact: the configuration was created with "Setup cross-tenant synchronization across
        # Microsoft clouds" ticked (graph-facts 1.4 step 5); Graph shows no property for it.
        self.cross_cloud_configurations: set[str] = set()

    # --- gallery template ----------------------------------------------------------------------------------

    def instantiate_cts(self, display_name: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """Create the application and service principal of a cross-tenant sync configuration ([CTS-GRAPH] step 6
        response shape)."""
        app_object_id, app_id, sp_id, role_id, scope_id = (str(uuid.uuid4()) for _ in range(5))
        role = {"allowedMemberTypes": ["User"], "displayName": "msiam_access", "id": role_id, "isEnabled": True,
                "description": "msiam_access", "value": None, "origin": "Application"}
        scope = {"adminConsentDescription": f"Allow the application to access {display_name} on behalf of the "
                                            "signed-in user.",
                 "adminConsentDisplayName": f"Access {display_name}", "id": scope_id, "isEnabled": True,
                 "type": "User", "userConsentDescription": f"Allow the application to access {display_name} on "
                                                           "your behalf.",
                 "userConsentDisplayName": f"Access {display_name}", "value": "user_impersonation"}
        info = {"logoUrl": None, "marketingUrl": None, "privacyStatementUrl": None, "supportUrl": None,
                "termsOfServiceUrl": None}
        publisher = {"displayName": None, "verifiedPublisherId": None, "addedDateTime": None}
        application = {
            "id": app_object_id, "appId": app_id, "applicationTemplateId": CTS_TEMPLATE_ID,
            "createdDateTime": now_iso(), "deletedDateTime": None, "displayName": display_name, "description": None,
            "groupMembershipClaims": None, "identifierUris": [], "isFallbackPublicClient": False,
            "signInAudience": "AzureADMyOrg", "tags": [], "tokenEncryptionKeyId": None, "defaultRedirectUri": None,
            "optionalClaims": None, "addIns": [], "publisherDomain": self.initial_domain,
            "api": {"acceptMappedClaims": None, "knownClientApplications": [], "requestedAccessTokenVersion": None,
                    "oauth2PermissionScopes": [scope], "preAuthorizedApplications": []},
            "appRoles": [role], "info": info, "keyCredentials": [],
            "parentalControlSettings": {"countriesBlockedForMinors": [], "legalAgeGroupRule": "Allow"},
            "passwordCredentials": [], "publicClient": {"redirectUris": []}, "requiredResourceAccess": [],
            "verifiedPublisher": publisher,
            "web": {"homePageUrl": CTS_HOMEPAGE, "redirectUris": [], "logoutUrl": None}}
        sp = {
            "id": sp_id, "deletedDateTime": None, "accountEnabled": True, "appId": app_id,
            "applicationTemplateId": CTS_TEMPLATE_ID, "appDisplayName": display_name, "alternativeNames": [],
            "appOwnerOrganizationId": self.tenant_id, "displayName": display_name, "appRoleAssignmentRequired": True,
            "loginUrl": None, "logoutUrl": None, "homepage": CTS_HOMEPAGE, "notificationEmailAddresses": [],
            "preferredSingleSignOnMode": None, "preferredTokenSigningKeyThumbprint": None, "replyUrls": [],
            "servicePrincipalNames": [app_id], "servicePrincipalType": "Application",
            "tags": ["WindowsAzureActiveDirectoryIntegratedApp"], "tokenEncryptionKeyId": None,
            "samlSingleSignOnSettings": None, "addIns": [], "appRoles": [copy.deepcopy(role)], "info": dict(info),
            "keyCredentials": [], "oauth2PermissionScopes": [copy.deepcopy(scope)], "passwordCredentials": [],
            "verifiedPublisher": dict(publisher)}
        self.applications[app_object_id] = application
        self.service_principals[sp_id] = sp
        return application, sp

    def add_cross_cloud_sync_principal(self, source_cloud_display: str) -> dict[str, Any]:
        """The target-side service principal the portal's cross-cloud synchronization tick creates, with its
        Graph application permissions (graph-facts 1.4 step 2). Its name and appId are not documented: ours."""
        app_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"ccsync-sim/cross-cloud-sync/{source_cloud_display}"))
        for sp in self.service_principals.values():
            if sp["appId"] == app_id:
                return sp
        sp_id = str(uuid.uuid4())
        name = f"Cross-cloud synchronization ({source_cloud_display})"
        sp = {"id": sp_id, "deletedDateTime": None, "accountEnabled": True, "appId": app_id,
              "applicationTemplateId": None, "appDisplayName": name, "alternativeNames": [],
              "appOwnerOrganizationId": None, "displayName": name, "appRoleAssignmentRequired": False,
              "homepage": None, "servicePrincipalNames": [app_id], "servicePrincipalType": "Application",
              "tags": [], "appRoles": [], "oauth2PermissionScopes": [], "keyCredentials": [],
              "passwordCredentials": [], "replyUrls": [], "notificationEmailAddresses": [], "info": None}
        self.service_principals[sp_id] = sp
        graph_sp = str(uuid.uuid5(uuid.NAMESPACE_OID, f"{self.tenant_id}/{MICROSOFT_GRAPH_APP_ID}"))
        self.app_permissions[sp_id] = [
            {"id": str(uuid.uuid4()), "deletedDateTime": None, "appRoleId": role_id, "createdDateTime": now_iso(),
             "principalDisplayName": name, "principalId": sp_id, "principalType": "ServicePrincipal",
             "resourceDisplayName": "Microsoft Graph", "resourceId": graph_sp, "@sim.permission": permission}
            for permission, role_id in CROSS_CLOUD_SYNC_PERMISSIONS.items()]
        return sp

    # --- lookups -------------------------------------------------------------------------------------------

    def service_principal(self, sp_id: str) -> dict[str, Any] | None:
        return self.service_principals.get((sp_id or "").lower())

    def application_for(self, sp: dict[str, Any]) -> dict[str, Any] | None:
        return next((a for a in self.applications.values() if a["appId"] == sp["appId"]), None)

    def delete_service_principal(self, sp_id: str) -> None:
        """Remove a service principal with its assignments, jobs and secrets (users already synced stay)."""
        self.service_principals.pop(sp_id, None)
        self.assigned_to.pop(sp_id, None)
        self.app_permissions.pop(sp_id, None)
        self.secrets.pop(sp_id, None)
        self.jobs.pop(sp_id, None)
        self.cross_cloud_configurations.discard(sp_id)

    def delete_application(self, app_object_id: str) -> bool:
        """Delete an application; its service principal goes with it (Entra removes the SP of a deleted
        single-tenant app)."""
        app = self.applications.pop(app_object_id, None)
        if app is None:
            return False
        for sp_id in [i for i, sp in self.service_principals.items() if sp["appId"] == app["appId"]]:
            self.delete_service_principal(sp_id)
        return True

    def secret(self, sp_id: str, key: str) -> str | None:
        for pair in self.secrets.get(sp_id, []):
            if str(pair.get("key", "")).lower() == key.lower():
                return pair.get("value")
        return None

    def assignments(self, sp_id: str) -> list[dict[str, Any]]:
        return list(self.assigned_to.get(sp_id, {}).values())

    def all_jobs(self) -> list[tuple[str, SyncJob]]:
        return [(sp_id, job) for sp_id, jobs in self.jobs.items() for job in jobs.values()]


def notification_settings(raw: str | None) -> dict[str, Any]:
    """The SyncNotificationSettings secret (a JSON string); {} when missing or not JSON."""
    try:
        value = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


# The portal's names of the Microsoft clouds, by allowedCloudEndpoints value (Microsoft cloud settings tab).
PORTAL_CLOUD_NAMES = {"microsoftonline.com": "Microsoft Azure Commercial",
                      "microsoftonline.us": "Microsoft Azure Government",
                      "partner.microsoftonline.cn": "Microsoft Azure China"}


def seed_enterprise_apps(tenant: Any, seed: dict[str, Any]) -> EnterpriseApps:
    """The tenant's enterprise apps at start: the target-side principals of the portal's cross-cloud ticks
    (``crossTenantAccessPolicy."@sim.crossCloudSyncFrom"``) and configurations created in the portal with the
    cross-cloud checkbox (``"@sim.crossCloudConfigurations": [display names]``), see samples/README.md."""
    apps = EnterpriseApps(tenant.tenant_id, tenant.initial_domain)
    for endpoint in sorted(tenant.cross_tenant.cross_cloud_sync_from):
        apps.add_cross_cloud_sync_principal(PORTAL_CLOUD_NAMES.get(endpoint, endpoint))
    for name in seed.get("@sim.crossCloudConfigurations") or []:
        _, sp = apps.instantiate_cts(str(name))
        apps.cross_cloud_configurations.add(sp["id"])
    return apps
