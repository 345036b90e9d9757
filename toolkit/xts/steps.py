"""The documented configuration steps of Entra cross-tenant / cross-cloud synchronization, as data.

Each ``Step`` names the tenant it runs in, what it does, the Graph call that does it (or that Graph has none:
portal-only), the application permission it needs and Microsoft's source. The order of ``STEPS`` is the
documented order (docs/xts.md "Call sequence"): target policies first, then the source's policies, the sync
configuration, its job, secrets, scope and start. Each step names the earlier steps it ``needs`` (the object
or id it writes to, or the setting the documented order puts before it): ``ccsync xts enable --step`` runs
only named steps and refuses one whose needed step is neither done in the tenant nor named.
``manual_steps(source_cloud, target_cloud)`` gives the exact portal clicks Microsoft documents only in the
portal for a cloud pair.
"""

from __future__ import annotations

from dataclasses import dataclass

from toolkit.clouds import Cloud, get_cloud, pair_kind

__all__ = ["Step", "ManualStep", "STEPS", "STEP_BY_KEY", "TEMPLATE_ID", "JOB_TEMPLATE_ID", "CTAP_PATH",
           "MSIAM_ACCESS", "SELECTABLE_STEPS", "MICROSOFT_GRAPH_APP_ID", "USER_READWRITE_CROSSCLOUD_ID",
           "manual_steps", "RESET_SCOPES", "default_configuration_name"]

# The cross-tenant synchronization gallery template (docs/xts.md, [CTS-GRAPH] step 6).
TEMPLATE_ID = "518e5f48-1fc8-4c48-9387-9fdf28b0dfe7"
# The job template of cross-tenant sync (POST jobs body {"templateId": "Azure2Azure"}, [CTS-GRAPH] step 8).
JOB_TEMPLATE_ID = "Azure2Azure"
CTAP_PATH = "/policies/crossTenantAccessPolicy"
# The one app role of the configuration's service principal (value null; its id differs per tenant).
MSIAM_ACCESS = "msiam_access"
# Microsoft Graph's well-known appId, and the id of User.ReadWrite.CrossCloud, the permission the target's
# cross-cloud sync service principal receives when its admin ticks the portal checkbox (graph-facts 1.4:
# the id comes from permission trackers, not an official page; used only to verify, never to decide).
MICROSOFT_GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
USER_READWRITE_CROSSCLOUD_ID = "5652f862-b626-407b-a3e6-248aeb95763c"

# restart's documented resetScope values (synchronization-synchronizationjobrestartcriteria.md). The portal's
# "Restart provisioning" is the documented example "Watermark, Escrows, QuarantineState".
RESET_SCOPES = {
    "default": "Watermark, Escrows, QuarantineState",
    "full": "Full",
    "force-deletes": "ForceDeletes",
}

CTS_GRAPH = "MicrosoftDocs/entra-docs docs/identity/multi-tenant-organizations/cross-tenant-synchronization-configure-graph.md"
CTS_PORTAL = "learn.microsoft.com/entra/identity/multi-tenant-organizations/cross-tenant-synchronization-configure (cross-cloud pivot)"
CTAP_UPDATE = "microsoft-graph-docs-contrib api-reference/v1.0/api/crosstenantaccesspolicy-update.md"


def default_configuration_name(target_tenant_id: str) -> str:
    """The configuration name used when --name is not given (one configuration per source -> target pair)."""
    return f"ccsync to {target_tenant_id}"


@dataclass(frozen=True)
class Step:
    key: str
    tenant: str                  # "source" or "target"
    title: str
    graph: str                   # the documented call(s), or "portal only"
    permission: str              # least-privileged application permission
    source: str                  # Microsoft's documentation
    cross_cloud_only: bool = False
    portal_only: bool = False
    needs: tuple[str, ...] = ()  # steps that must be done (in the tenant, or in the same run) before this one

    def to_dict(self) -> dict[str, object]:
        return {"key": self.key, "tenant": self.tenant, "title": self.title, "graph": self.graph,
                "permission": self.permission, "source": self.source, "crossCloudOnly": self.cross_cloud_only,
                "portalOnly": self.portal_only, "needs": list(self.needs)}


STEPS: list[Step] = [
    Step("target.cloudSettings", "target", "Microsoft cloud settings: allow the source's cloud",
         f"GET + PATCH {CTAP_PATH} {{allowedCloudEndpoints}}", "Policy.ReadWrite.CrossTenantAccess", CTAP_UPDATE,
         cross_cloud_only=True),
    Step("target.crossCloudSyncCheckbox", "target", "Microsoft cloud settings: tick 'cross-cloud synchronization'",
         "portal only", "(portal: Security Administrator)", CTS_PORTAL, cross_cloud_only=True, portal_only=True),
    Step("target.partner", "target", "Partner entry for the source tenant",
         f"GET/POST {CTAP_PATH}/partners", "Policy.ReadWrite.CrossTenantAccess", CTS_GRAPH),
    Step("target.inboundSync", "target", "Allow user synchronization into this tenant",
         f"GET + PUT/PATCH {CTAP_PATH}/partners/{{sourceTenantId}}/identitySynchronization",
         "Policy.ReadWrite.CrossTenantAccess", CTS_GRAPH, needs=("target.partner",)),
    Step("target.inboundRedemption", "target", "Automatic redemption (inbound)",
         f"PATCH {CTAP_PATH}/partners/{{sourceTenantId}}", "Policy.ReadWrite.CrossTenantAccess", CTS_GRAPH,
         needs=("target.partner",)),
    Step("source.cloudSettings", "source", "Microsoft cloud settings: allow the target's cloud",
         f"GET + PATCH {CTAP_PATH} {{allowedCloudEndpoints}}", "Policy.ReadWrite.CrossTenantAccess", CTAP_UPDATE,
         cross_cloud_only=True),
    Step("source.partner", "source", "Partner entry for the target tenant",
         f"GET/POST {CTAP_PATH}/partners", "Policy.ReadWrite.CrossTenantAccess", CTS_GRAPH),
    Step("source.outboundRedemption", "source", "Automatic redemption (outbound)",
         f"PATCH {CTAP_PATH}/partners/{{targetTenantId}}", "Policy.ReadWrite.CrossTenantAccess", CTS_GRAPH,
         needs=("source.partner",)),
    Step("source.crossCloudCheckbox", "source",
         "Configuration: 'Setup cross-tenant synchronization across Microsoft clouds'",
         "portal only", "(portal: Hybrid Identity Administrator)", CTS_PORTAL, cross_cloud_only=True,
         portal_only=True),
    Step("source.configuration", "source", "Sync configuration from the cross-tenant sync template",
         f"POST /applicationTemplates/{TEMPLATE_ID}/instantiate", "Application.ReadWrite.All", CTS_GRAPH),
    Step("source.testConnection", "source", "Test connection (validateCredentials)",
         "POST /servicePrincipals/{id}/synchronization/jobs/validateCredentials", "Synchronization.ReadWrite.All",
         CTS_GRAPH, needs=("source.configuration",)),
    Step("source.job", "source", "Provisioning job (Azure2Azure)",
         "GET/POST /servicePrincipals/{id}/synchronization/jobs", "Synchronization.ReadWrite.All", CTS_GRAPH,
         needs=("source.configuration",)),
    Step("source.secrets", "source", "Credentials, scope (assigned only), notifications, deletion threshold",
         "PUT /servicePrincipals/{id}/synchronization/secrets", "Synchronization.ReadWrite.All", CTS_GRAPH,
         needs=("source.job",)),
    Step("source.assignments", "source", "Assign the scoping groups (msiam_access)",
         "GET/POST /servicePrincipals/{id}/appRoleAssignedTo", "AppRoleAssignment.ReadWrite.All", CTS_GRAPH,
         needs=("source.configuration",)),
    Step("source.start", "source", "Start the job", "POST /servicePrincipals/{id}/synchronization/jobs/{jobId}/start",
         "Synchronization.ReadWrite.All", CTS_GRAPH, needs=("source.job", "source.secrets")),
]
STEP_BY_KEY = {s.key: s for s in STEPS}
# The steps ``xts enable --step`` can name: every step with a Graph call (portal-only ones are the admin's).
SELECTABLE_STEPS = [s.key for s in STEPS if not s.portal_only]
# Why each step waits for the ones it needs: inbound sync and redemption are settings of the partner entry (the
# how-to creates the partner first); the job, secrets, scope and test connection belong to the configuration's
# service principal; secrets are the job's; a job starts only with its credentials ([CTS-GRAPH] steps 2-11).


@dataclass(frozen=True)
class ManualStep:
    """A step Microsoft documents only in the admin portal: what to click, where, and how ccsync verifies it."""

    key: str
    tenant: str
    portal: str
    instructions: str
    verify: str

    def to_dict(self) -> dict[str, str]:
        return {"key": self.key, "tenant": self.tenant, "portal": self.portal, "instructions": self.instructions,
                "verify": self.verify}


def _cloud_label(cloud: Cloud) -> str:
    # The labels the portal's "Microsoft cloud settings" tab shows ([CTS-PORTAL]; cross-cloud-settings.md).
    if cloud.entra_instance == "microsoftonline.us":
        return "Microsoft Azure Government"
    if cloud.entra_instance == "partner.microsoftonline.cn":
        return "Microsoft Azure China"
    return "Microsoft Azure Commercial"


def manual_steps(source_cloud: str | Cloud, target_cloud: str | Cloud, *, source_tenant: str = "{sourceTenantId}",
                 configuration: str = "{configuration name}") -> list[ManualStep]:
    """The portal-only steps for a cloud pair (none for same-cloud sync), in the documented order."""
    s, t = get_cloud(source_cloud), get_cloud(target_cloud)
    if pair_kind(s, t) != "cross-cloud":
        return []
    return [
        ManualStep(
            "target.crossCloudSyncCheckbox", "target", f"https://{t.entra_portal_host}",
            f"In the TARGET tenant's Entra admin center ({t.entra_portal_host}): Entra ID > External Identities > "
            f"Cross-tenant access settings > Microsoft cloud settings: next to '{_cloud_label(s)}', tick "
            f"'Cross-cloud synchronization' and Save. (This creates the target's sync service principal with "
            f"User.ReadWrite.CrossCloud, User.Invite.All, Organization.Read.All and Policy.Read.All.)",
            "Test connection from the source: AzureActiveDirectoryTokenExpired means it is not ticked; "
            "also the target's Graph app role assignments show User.ReadWrite.CrossCloud."),
        ManualStep(
            "source.crossCloudCheckbox", "source", f"https://{s.entra_portal_host}",
            f"In the SOURCE tenant's Entra admin center ({s.entra_portal_host}): Entra ID > External Identities > "
            f"Cross-tenant synchronization > Configurations > New configuration: tick 'Setup cross-tenant "
            f"synchronization across Microsoft clouds', name it '{configuration}' and Create (nothing else: ccsync "
            f"adopts it by name and does the rest). Graph has no call for this box, so ccsync cannot create a "
            f"cross-cloud configuration itself; one created without the box must be deleted and created again.",
            "ccsync finds the configuration by name; test connection answers ExternalTenantNotFound if the box "
            "was not ticked."),
    ]
