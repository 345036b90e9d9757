"""Declared columns and dtypes of every DataFrame ccsync produces: declared here once, used everywhere.

Columns keep Microsoft Graph's property names (camelCase) so admins recognise them; columns ccsync adds are
named in the same style (``tenantId``, ``source``). ``conform(df, spec)`` gives any frame exactly these
columns, in this order, with these dtypes (missing columns are added empty).

dtype vocabulary: ``string`` (pandas StringDtype), ``boolean`` (nullable), ``Int64`` (nullable integer),
``datetime`` (datetime64[ns, UTC]), ``object`` (Python lists, e.g. ``disabledPlans``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import pandas as pd

__all__ = ["FrameSpec", "FRAMES", "USERS", "LICENSE_ASSIGNMENTS", "USER_SERVICE_PLANS", "SKUS",
           "SKU_SERVICE_PLANS", "GROUP_MEMBERS", "DOMAINS", "ELIGIBILITY", "SEATS", "APPLY_RESULTS", "PROVISIONING_EVENTS", "PROVISIONING_STEPS",
           "PROVISIONING_CHANGES", "AUDIT_EVENTS", "AUDIT_TARGETS", "conform", "empty", "TenantData", "KINDS",
           "OPS_COLUMNS", "CHANGES_COLUMNS"]


@dataclass(frozen=True)
class FrameSpec:
    name: str
    columns: tuple[tuple[str, str], ...]
    doc: str = ""

    @property
    def names(self) -> list[str]:
        return [c for c, _ in self.columns]

    def dtype(self, column: str) -> str:
        return dict(self.columns)[column]


def _spec(name: str, doc: str, cols: str) -> FrameSpec:
    pairs = []
    for item in cols.split():
        col, dtype = item.split(":")
        pairs.append((col, dtype))
    return FrameSpec(name, tuple(pairs), doc)


# Graph user properties ccsync exports ($select), plus tenantId. Single-valued only; otherMails, proxyAddresses
# and identities stay in the snapshot JSON.
USER_PROPERTIES = (
    "id userPrincipalName displayName givenName surname mail mailNickname accountEnabled userType creationType "
    "externalUserState externalUserStateChangeDateTime usageLocation jobTitle department companyName employeeId "
    "employeeType officeLocation streetAddress city state postalCode country preferredLanguage mobilePhone "
    "onPremisesSyncEnabled onPremisesImmutableId onPremisesSamAccountName onPremisesDomainName "
    "onPremisesLastSyncDateTime createdDateTime onPremisesExtensionAttributes proxyAddresses"
).split()

_USER_DTYPES = {"accountEnabled": "boolean", "onPremisesSyncEnabled": "boolean",
                "createdDateTime": "datetime", "onPremisesLastSyncDateTime": "datetime",
                "externalUserStateChangeDateTime": "datetime",
                # a dict {extensionAttribute1..15}; the sync planner keeps its durable source link in one of them
                "onPremisesExtensionAttributes": "object",
                # a list of "SMTP:a@b" strings; an invitation colliding with one fails in Entra
                "proxyAddresses": "object"}

USERS = FrameSpec("users", tuple((p, _USER_DTYPES.get(p, "string")) for p in USER_PROPERTIES)
                  + (("tenantId", "string"),),
                  "One row per user: Graph user properties as returned with $select, plus tenantId.")

LICENSE_ASSIGNMENTS = _spec(
    "license_assignments",
    "One row per user x SKU x assignment source (licenseAssignmentStates): direct, or the assigning group.",
    "userId:string userPrincipalName:string skuId:string skuPartNumber:string source:string "
    "assignedByGroup:string assignedByGroupName:string state:string error:string disabledPlans:object "
    "lastUpdatedDateTime:datetime")

USER_SERVICE_PLANS = _spec(
    "user_service_plans",
    "Effective service plans per user: plans enabled in at least one Active assignment, merged across "
    "assignments (Microsoft's group-licensing rule), minus plans disabled in every assignment that carries them.",
    "userId:string servicePlanId:string servicePlanName:string skuIds:object sources:object")

SKUS = _spec(
    "skus",
    "One row per subscribed SKU (subscribedSkus) with prepaid units flattened; available = enabled - consumed.",
    "skuId:string skuPartNumber:string appliesTo:string capabilityStatus:string enabled:Int64 warning:Int64 "
    "suspended:Int64 lockedOut:Int64 consumedUnits:Int64 available:Int64")

SKU_SERVICE_PLANS = _spec(
    "sku_service_plans",
    "One row per SKU x service plan (subscribedSkus.servicePlans).",
    "skuId:string skuPartNumber:string servicePlanId:string servicePlanName:string provisioningStatus:string "
    "appliesTo:string")

GROUP_MEMBERS = _spec(
    "group_members",
    "Direct members of the scoping groups (as Entra scopes cross-tenant sync: nested groups are not expanded).",
    "groupId:string groupDisplayName:string memberId:string memberType:string userPrincipalName:string")

DOMAINS = _spec(
    "domains",
    "Domains of the tenant (GET /domains).",
    "id:string isVerified:boolean isDefault:boolean isInitial:boolean authenticationType:string "
    "supportedServices:object")

FRAMES: dict[str, FrameSpec] = {s.name: s for s in (USERS, LICENSE_ASSIGNMENTS, USER_SERVICE_PLANS, SKUS,
                                                      SKU_SERVICE_PLANS, GROUP_MEMBERS, DOMAINS)}

# Outputs of toolkit.licensing (not part of TenantData). The status vocabulary is documented in
# toolkit/licensing/eligibility.py.
ELIGIBILITY = _spec(
    "eligibility",
    "One row per user of the source tenant: cross-tenant sync licence eligibility for a cloud pair.",
    "userId:string userPrincipalName:string displayName:string accountEnabled:boolean userType:string "
    "inScope:boolean eligible:boolean status:string reason:string "
    "p1Plan:string p1SkuPartNumber:string p1Source:string "
    "governancePlan:string governanceSkuPartNumber:string governanceSource:string "
    "fix:string portalUrl:string")

APPLY_RESULTS = _spec(
    "apply_results",
    "One row per operation of an applied plan: its final state and, for failures, Graph's answer and advice.",
    "opId:string kind:string state:string step:string sourceUpn:string targetUpn:string targetId:string "
    "attempts:Int64 httpStatus:Int64 errorCode:string message:string requestId:string result:string "
    "action:string externalUserState:string inviteRedeemUrl:string")

SEATS = _spec(
    "seats",
    "Per entitlement and SKU: seats the users in scope need vs. seats available, and the shortfall.",
    "entitlement:string skuId:string skuPartNumber:string capabilityStatus:string prepaid:Int64 "
    "consumedUnits:Int64 available:Int64 needed:Int64 shortfall:Int64")


# A sync plan (toolkit.plan): one row per operation and one per attribute change of an operation. The plan file
# (toolkit/plan/planfile.py) is their serialised form; ``held`` is a bool, ``changeCount`` an int64, the rest text
# or null. ``kind`` is one of KINDS (the direct engine's; an entra-engine plan adds its own, see entra_predict).
KINDS = ("create", "update", "disable", "delete", "conflict", "blocked")
OPS_COLUMNS = ["opId", "kind", "held", "sourceId", "sourceUpn", "sourceMail", "targetId", "targetUpn",
               "matchedBy", "reason", "changeCount"]
CHANGES_COLUMNS = ["opId", "attribute", "oldValue", "newValue", "flow"]


# Outputs of toolkit.logs: provisioning logs (provisioningObjectSummary) and audit logs (directoryAudit),
# flattened one row per event / step / modified property (graph-facts 4 and 5; docs/logs.md).
PROVISIONING_EVENTS = _spec(
    "provisioning_events",
    "One row per provisioning event (provisioningObjectSummary), with its error and the catalog's advice.",
    "id:string activityDateTime:datetime tenantId:string jobId:string cycleId:string changeId:string "
    "provisioningAction:string status:string durationInMilliseconds:Int64 "
    "initiatedBy:string initiatorType:string servicePrincipalId:string servicePrincipalName:string "
    "sourceSystem:string targetSystem:string sourceIdentityType:string sourceId:string sourceDisplayName:string "
    "sourceUpn:string targetIdentityType:string targetId:string targetDisplayName:string "
    "errorCode:string errorCategory:string errorReason:string errorDetails:string errorRecommendedAction:string "
    "explanation:string action:string steps:Int64 modifiedProperties:Int64 extra:string source:string")

PROVISIONING_STEPS = _spec(
    "provisioning_steps",
    "One row per step of a provisioning event (import, scoping, matching, processing, export ...).",
    "id:string changeId:string activityDateTime:datetime stepIndex:Int64 name:string provisioningStepType:string "
    "status:string description:string details:string")

PROVISIONING_CHANGES = _spec(
    "provisioning_changes",
    "One row per property a provisioning event changed: old -> new.",
    "id:string changeId:string activityDateTime:datetime targetDisplayName:string property:string "
    "oldValue:string newValue:string")

AUDIT_EVENTS = _spec(
    "audit_events",
    "One row per directory audit event (directoryAudit).",
    "id:string activityDateTime:datetime category:string activityDisplayName:string operationType:string "
    "result:string resultReason:string loggedByService:string correlationId:string initiatorKind:string "
    "initiatedBy:string initiatorId:string initiatorUpn:string initiatorAppId:string targetType:string "
    "targetId:string targetDisplayName:string targetUpn:string targets:Int64 modifiedProperties:Int64 "
    "additionalDetails:string extra:string source:string")

AUDIT_TARGETS = _spec(
    "audit_targets",
    "One row per property an audit event changed on one of its targets: old -> new.",
    "id:string activityDateTime:datetime activityDisplayName:string targetType:string targetId:string "
    "targetDisplayName:string property:string oldValue:string newValue:string")


def _convert(series: pd.Series, dtype: str) -> pd.Series:
    if dtype == "string":
        return series.astype("string")
    if dtype == "boolean":
        return series.astype("boolean")
    if dtype == "Int64":
        return pd.to_numeric(series, errors="coerce").astype("Int64")
    if dtype == "datetime":
        return pd.to_datetime(series, utc=True, errors="coerce", format="ISO8601")
    return series.astype("object")


def empty(spec: FrameSpec) -> pd.DataFrame:
    return conform(pd.DataFrame(), spec)


def conform(df: pd.DataFrame | list[Mapping[str, Any]], spec: FrameSpec) -> pd.DataFrame:
    """Exactly the declared columns, in order, with declared dtypes; extra columns are dropped."""
    if not isinstance(df, pd.DataFrame):
        df = pd.DataFrame(list(df))
    out = {}
    n = len(df)
    for col, dtype in spec.columns:
        series = df[col] if col in df.columns else pd.Series([None] * n, index=df.index, dtype="object")
        out[col] = _convert(series, dtype)
    return pd.DataFrame(out, index=pd.RangeIndex(n)) if n else pd.DataFrame(
        {c: _convert(pd.Series([], dtype="object"), d) for c, d in spec.columns})


@dataclass
class TenantData:
    """Everything ccsync knows about one tenant, from Graph or from a snapshot."""

    tenant_id: str
    cloud: str
    display_name: str = ""
    exported_at: str = ""                      # ISO-8601 UTC
    users: pd.DataFrame = field(default_factory=lambda: empty(USERS))
    license_assignments: pd.DataFrame = field(default_factory=lambda: empty(LICENSE_ASSIGNMENTS))
    user_service_plans: pd.DataFrame = field(default_factory=lambda: empty(USER_SERVICE_PLANS))
    skus: pd.DataFrame = field(default_factory=lambda: empty(SKUS))
    sku_service_plans: pd.DataFrame = field(default_factory=lambda: empty(SKU_SERVICE_PLANS))
    group_members: pd.DataFrame = field(default_factory=lambda: empty(GROUP_MEMBERS))
    domains: pd.DataFrame = field(default_factory=lambda: empty(DOMAINS))
    organization: dict[str, Any] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)   # e.g. {"graphCalls": 12, "source": "graph"}
    # Directory objects other than users that the direct engine must respect: org contacts and mail-enabled,
    # dynamic or role-assignable groups, each {"id", "kind": "contact" | "group", "displayName", "mail",
    # "proxyAddresses", and for groups "mailEnabled", "securityEnabled", "groupTypes", "isAssignableToRole"}.
    # The planner checks invited addresses against them and refuses --target-group on groups Graph will not
    # add members to.
    directory_objects: list[dict[str, Any]] = field(default_factory=list)

    def frames(self) -> dict[str, pd.DataFrame]:
        return {name: getattr(self, name) for name in FRAMES}

    def counts(self) -> dict[str, int]:
        return {name: int(len(df)) for name, df in self.frames().items()}
