"""Plan a sync: what would happen to every user, computed column-wise so a million users plan in seconds.

Behaviour mirrors Microsoft Entra cross-tenant synchronization unless stated (graph-facts.md section 3):

* **Who is synced**: internal members of the source (userType Member, not created by invitation) that are in
  scope (direct members of the assigned groups, and passing the scoping filters). Guests are never synced.
* **Matching**, in this precedence: (1) the durable link ccsync writes on every user it creates or adopts,
  ``ccsync:<source tenant id>:<source object id>`` in the target's
  ``onPremisesExtensionAttributes.<link attribute>`` (default extensionAttribute15; Entra's own anchor,
  alternativeSecurityIds, is not writable through Graph); (2) mail, case-insensitive; (3) the source UPN
  against the target's mail or the UPN of an external user (``alias_domain#EXT#@...``). More than one
  candidate at the first level that has any, or one target claimed by several sources, is a **conflict**,
  never a guess. A candidate that is an internal user of the target is a conflict too: Entra cannot take
  over internal users.
* **Attribute flow**: "always" mappings are compared and updated; "once" mappings only on create. A null
  mapped value is not written (Entra does not provision nulls).
* **Deprovisioning**: a linked target user whose source user is deleted, out of scope, or no longer a member
  is soft-deleted (Entra's behaviour) or, with ``on_deprovision="disable"``, disabled. A source user that is
  disabled makes the target user disabled. Target users that ccsync did not create or adopt are never touched.
* **Accidental deletions**: deletes and disables together above ``deletion_threshold`` (default 500, Entra's
  default) are **held** unless ``allow_deletes`` covers them.
* **Licences**: for a cross-cloud pair, creates and updates of users that are not eligible
  (toolkit.licensing) are **blocked** with the reason.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from .. import defaults
from ..clouds import check_pair
from ..errors import InputError
from ..frames import TenantData
from .rules import BOOLEAN_TARGETS, CROSS_CLOUD_REFUSED, TARGET_LIMITS, Mapping, Scope, default_mapping

__all__ = ["PlanOptions", "plan_sync", "scope_masks", "scope_user_ids", "OPS_COLUMNS", "CHANGES_COLUMNS",
           "link_value", "KINDS"]

KINDS = ("create", "update", "disable", "delete", "conflict", "blocked")
OPS_COLUMNS = ["opId", "kind", "held", "sourceId", "sourceUpn", "sourceMail", "targetId", "targetUpn",
               "matchedBy", "reason", "changeCount"]
CHANGES_COLUMNS = ["opId", "attribute", "oldValue", "newValue", "flow"]
LINK_PREFIX = "ccsync"


@dataclass(frozen=True)
class PlanOptions:
    on_deprovision: str = defaults.ON_DEPROVISION          # delete (soft delete, Entra's default) | disable
    deletion_threshold: int = defaults.DELETION_THRESHOLD           # Entra's default; deletes + disables together
    allow_deletes: int = defaults.ALLOW_DELETES                  # explicit allowance above the threshold (admin's opt-in)
    link_attribute: str = defaults.LINK_ATTRIBUTE
    create_as: str = defaults.CREATE_AS               # invite (B2B member via /invitations) | member (POST /users)
    allow_older_target: bool = False
    check_licences: bool = True
    # Given to every user ccsync creates in the target (chained after the create in one $batch).
    target_licenses: tuple[str, ...] = ()   # skuIds of the target tenant
    target_groups: tuple[str, ...] = ()     # object ids of target groups
    # A scope that matches no source user, against a target with linked users, would deprovision every one of
    # them: refused unless the admin says the empty scope is meant. Not part of the plan file's options.
    confirm_empty_scope: bool = False
    # Matching an existing target user by mail or UPN takes it over (ccsync writes its link, and later may
    # disable or delete it): only with the admin's explicit opt-in (--adopt); otherwise such a match is a
    # conflict.
    adopt: bool = False

    def __post_init__(self) -> None:
        if self.on_deprovision not in ("delete", "disable"):
            raise InputError(f"on_deprovision must be 'delete' or 'disable', not {self.on_deprovision!r}")
        if self.create_as not in ("invite", "member"):
            raise InputError(f"create_as must be 'invite' or 'member', not {self.create_as!r}")
        if self.deletion_threshold < 0 or self.allow_deletes < 0:
            raise InputError("the deletion threshold and the deletion allowance cannot be negative")
        if not self.link_attribute.startswith("extensionAttribute") or not \
                self.link_attribute[len("extensionAttribute"):].isdigit() or \
                not 1 <= int(self.link_attribute[len("extensionAttribute"):]) <= 15:
            raise InputError(f"link attribute {self.link_attribute!r} is not one of extensionAttribute1..15",
                             hint="Pick an extension attribute your tenant does not use, e.g. extensionAttribute15.")

    def to_dict(self) -> dict[str, Any]:
        return {"onDeprovision": self.on_deprovision, "deletionThreshold": self.deletion_threshold,
                "allowDeletes": self.allow_deletes, "linkAttribute": self.link_attribute,
                "createAs": self.create_as, "checkLicences": self.check_licences,
                "targetLicenses": list(self.target_licenses), "targetGroups": list(self.target_groups),
                "adopt": self.adopt}


def link_value(source_tenant_id: str, source_id: str) -> str:
    return f"{LINK_PREFIX}:{source_tenant_id}:{source_id}"


def _op_id(kind: str, source_id: Any, target_id: Any) -> str:
    # Stable across re-planning, so a journal can recognise an operation it has already carried out.
    key = f"{kind}|{source_id or ''}|{target_id or ''}"
    return f"{kind[:3]}-{hashlib.sha1(key.encode()).hexdigest()[:12]}"


def _text(series: pd.Series | np.ndarray) -> np.ndarray:
    """Values as comparable text in an object array: booleans as true/false, None for null.

    Column-wise on purpose: a per-value Python function here dominated planning time at a million users.
    """
    if isinstance(series, np.ndarray):
        series = pd.Series(series, dtype="object")
    if str(series.dtype) in ("bool", "boolean"):
        arr = series.to_numpy(dtype=object, na_value=None)
        out = np.full(len(arr), None, dtype=object)
        out[arr == True] = "true"     # noqa: E712 (object array, elementwise)
        out[arr == False] = "false"   # noqa: E712
        return out
    arr = series.to_numpy(dtype=object, na_value=None)
    bools = np.fromiter((isinstance(v, (bool, np.bool_)) for v in arr), dtype=bool, count=len(arr)) \
        if series.dtype == object and len(arr) and isinstance(next((v for v in arr if v is not None), None),
                                                              (bool, np.bool_)) else None
    if bools is not None and bools.any():
        arr = arr.copy()
        arr[bools] = np.where(arr[bools].astype(bool), "true", "false")
    nulls = pd.isna(arr)
    if nulls.any():
        arr = arr.copy()
        arr[nulls] = None
    return arr


def _lower(series: pd.Series) -> pd.Series:
    # Lower-case with Arrow, then back to object: pandas' isin/merge on Arrow strings go value by value.
    return _obj(series.astype("string").str.lower())


def _obj(series: pd.Series) -> pd.Series:
    return pd.Series(series.to_numpy(dtype=object, na_value=None), index=series.index, dtype="object")


_KEY_COLUMNS = ("id", "userPrincipalName", "mail", "userType", "creationType")


def _keys_as_objects(users: pd.DataFrame) -> pd.DataFrame:
    return users.assign(**{c: _obj(users[c]) for c in _KEY_COLUMNS if c in users.columns})


def _external_upn_to_address(upn: pd.Series) -> pd.Series:
    """``john_contoso.com#EXT#@fabrikam.onmicrosoft.com`` -> ``john@contoso.com`` (last underscore is the @)."""
    def decode(value: object) -> object:
        if not isinstance(value, str):
            return None
        cut = value.find("#EXT#@")
        if cut < 0:
            return None
        local, sep, domain = value[:cut].rpartition("_")
        return f"{local}@{domain}".lower() if sep else None

    # A plain loop over the values beats Arrow's regex replace here (most target UPNs are external).
    return pd.Series([decode(v) for v in upn.to_numpy(dtype=object, na_value=None)], index=upn.index,
                     dtype="object")


def _extension(users: pd.DataFrame, name: str) -> pd.Series:
    if "_link" in users.columns and name == users.attrs.get("link_attribute"):
        return users["_link"]
    if "onPremisesExtensionAttributes" not in users.columns:
        return pd.Series([None] * len(users), index=users.index, dtype="object")
    values = users["onPremisesExtensionAttributes"].to_numpy(dtype=object)
    return pd.Series([d.get(name) if isinstance(d, dict) else None for d in values], index=users.index,
                     dtype="object")


@dataclass
class _Result:
    ops: list[pd.DataFrame] = field(default_factory=list)
    changes: list[pd.DataFrame] = field(default_factory=list)
    adopted: set[str] = field(default_factory=set)      # op ids that take over a user (--adopt)

    def add(self, kind: str, frame: pd.DataFrame, reason: pd.Series | str | None = None,
            matched_by: pd.Series | str | None = None) -> pd.Series:
        if frame.empty:
            return pd.Series([], dtype="object")
        ops = pd.DataFrame(index=frame.index)
        ops["kind"] = kind
        for col in ("sourceId", "sourceUpn", "sourceMail", "targetId", "targetUpn"):
            ops[col] = frame[col] if col in frame.columns else None
        ops["matchedBy"] = matched_by if matched_by is not None else (
            frame["matchedBy"] if "matchedBy" in frame.columns else None)
        ops["reason"] = reason if reason is not None else None
        ops["opId"] = [_op_id(kind, s, t) for s, t in zip(ops["sourceId"], ops["targetId"])]
        self.ops.append(ops)
        return ops["opId"]


def _check_inputs(source: TenantData, target: TenantData, mapping: Mapping, options: PlanOptions,
                  pair_kind: str) -> None:
    if source.tenant_id and target.tenant_id and source.tenant_id.lower() == target.tenant_id.lower():
        raise InputError(f"the source and the target are the same tenant ({source.tenant_id})",
                         hint="Give the target tenant's profile or snapshot as --target.")
    if (source.exported_at and target.exported_at and not options.allow_older_target
            and pd.Timestamp(target.exported_at) < pd.Timestamp(source.exported_at) - pd.Timedelta(hours=24)):
        raise InputError(f"the target snapshot ({target.exported_at}) is more than a day older than the source "
                         f"snapshot ({source.exported_at}): the plan would be based on a stale target",
                         hint="Export the target again, or pass --allow-older-target if you know it is current.")
    if pair_kind == "cross-cloud":
        for rule in mapping.rules:
            if rule.target in CROSS_CLOUD_REFUSED:
                raise InputError(f"'{rule.target}' cannot be synchronized between these clouds: "
                                 f"{CROSS_CLOUD_REFUSED[rule.target]}", source=mapping.source, row=rule.line,
                                 field=rule.target, hint="Remove this mapping for a cross-cloud plan.")
    if options.create_as == "member":
        for needed in ("userPrincipalName", "mailNickname", "displayName"):
            if mapping.rule(needed) is None:
                raise InputError(f"creating users with POST /users needs a mapping for '{needed}'",
                                 source=mapping.source, hint=f"Add a line '{needed} = ...' to the mapping.")
    if options.target_licenses and len(target.skus):
        known = set(target.skus["skuId"].astype("string").str.lower())
        unknown = [s for s in options.target_licenses if s.lower() not in known]
        if unknown:
            raise InputError(f"the target tenant has no subscription for SKU(s) {', '.join(unknown)}",
                             hint="Use a skuId from the target's subscribedSkus ('ccsync export' lists them).")
    link_column = f"onPremisesExtensionAttributes.{options.link_attribute}"
    for rule in mapping.rules:
        if rule.target == link_column:
            raise InputError(f"the mapping writes '{rule.target}', which holds ccsync's own link to the source "
                             "user: overwriting it would detach (or hijack) synced users", source=mapping.source,
                             row=rule.line, field=rule.target,
                             hint="Map another extension attribute, or choose another --link-attribute.")
    if options.target_licenses and mapping.rule("usageLocation") is None:
        # Graph refuses a licence for a user without usageLocation (user resource; docs/direct-engine.md).
        raise InputError("--target-license needs a usageLocation for every user it is given to, and the mapping "
                         "maps none", source=mapping.source, field="usageLocation",
                         hint="Add a line such as 'usageLocation = [usageLocation]' (or a constant like \"US\") "
                              "to the mapping, or drop --target-license.")
    _check_target_groups(target, options)
    missing = sorted(a for a in mapping.source_attributes() if a not in source.users.columns)
    if missing:
        raise InputError(f"the mapping reads source attributes the export does not have: {', '.join(missing)}",
                         source=mapping.source, hint="Use Graph user property names that ccsync exports "
                                                     "(see toolkit.frames.USER_PROPERTIES).")


def group_refusal(group: dict[str, Any]) -> str | None:
    """Why Graph refuses a plain members/$ref add to this group (group-post-members.md), else None."""
    types = [str(t).lower() for t in group.get("groupTypes") or []]
    if "dynamicmembership" in types:
        return "a dynamic group (its members come from its membership rule)"
    if group.get("mailEnabled") and "unified" not in types:
        return ("a mail-enabled security group" if group.get("securityEnabled") else "a distribution group") + \
            " (its members are managed in Exchange Online)"
    if group.get("isAssignableToRole"):
        return "a role-assignable group (adding members needs RoleManagement.ReadWrite.Directory)"
    return None


def _check_target_groups(target: TenantData, options: PlanOptions) -> None:
    """--target-group must name groups Graph lets ccsync add members to (known from the target's export)."""
    groups = {str(o.get("id", "")).lower(): o for o in getattr(target, "directory_objects", None) or ()
              if o.get("kind") == "group"}
    for gid in options.target_groups:
        group = groups.get(str(gid).lower())
        why = group_refusal(group) if group else None
        if why:
            raise InputError(f"target group {group.get('displayName') or gid} ({gid}) is {why}: Graph refuses to "
                             "add members to it", field="targetGroups",
                             hint="Give a security or Microsoft 365 group with assigned membership as --target-group.")


def scope_masks(source: TenantData, scope: Scope) -> tuple[pd.Series, pd.Series]:
    """(in scope, syncable) boolean masks over ``source.users`` (positional, index reset)."""
    users = source.users.reset_index(drop=True)
    syncable = (users["userType"].fillna("Member") == "Member") & (users["creationType"].isna()
                                                                   | (users["creationType"] != "Invitation"))
    if scope.groups:
        gm = source.group_members
        wanted = {g.lower() for g in scope.groups}
        known = set(gm["groupId"].dropna().str.lower()) | set(gm["groupDisplayName"].dropna().str.lower())
        unknown = sorted(g for g in scope.groups if g.lower() not in known)
        if unknown:
            raise InputError(f"scoping group(s) not found in the source export: {', '.join(unknown)}",
                             source=scope.source, hint="Export the source with --group for each scoping group "
                                                       "(ccsync export --group NAME), or fix the name.")
        hit = _lower(gm["groupId"]).isin(wanted) | _lower(gm["groupDisplayName"]).isin(wanted)
        members = set(_obj(gm.loc[hit, "memberId"]).dropna())
        assigned = users["id"].isin(members)
    else:
        assigned = pd.Series(True, index=users.index)
    return (assigned & scope.filter_mask(users)).astype(bool), syncable.astype(bool)


def scope_user_ids(source: TenantData, scope: Scope) -> set[str]:
    """Ids of the source users in scope (assigned groups AND scoping filters), as the planner scopes them."""
    in_scope, _ = scope_masks(source, scope)
    return set(source.users["id"].reset_index(drop=True)[in_scope.to_numpy()].astype(str))


def _match(src: pd.DataFrame, tgt: pd.DataFrame, source_tid: str, options: PlanOptions
           ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Returns (matches: sourceId,targetId,matchedBy) and (conflicts: sourceId, reason, targetIds)."""
    link = _extension(tgt, options.link_attribute)
    prefix = f"{LINK_PREFIX}:{source_tid}:"
    is_ours = link.astype("string").str.startswith(prefix).fillna(False).to_numpy(dtype=bool)
    linked_source = _obj(link.astype("string").str.slice(len(prefix))).where(is_ours, None)
    tgt = tgt.assign(_linkSource=linked_source,
                     _mail=_lower(tgt["mail"]), _upn=_lower(tgt["userPrincipalName"]),
                     _extAddr=_external_upn_to_address(tgt["userPrincipalName"]))
    src = src.assign(_mail=_lower(src["mail"]), _upn=_lower(src["userPrincipalName"]))

    candidates = []
    by_link = src[["id"]].merge(tgt.loc[tgt["_linkSource"].notna(), ["id", "_linkSource"]],
                                left_on="id", right_on="_linkSource", suffixes=("", "_t"))
    candidates.append(pd.DataFrame({"sourceId": by_link["id"], "targetId": by_link["id_t"], "level": 1}))
    # Targets linked to some source are reserved for it: never re-matched by mail or UPN.
    free = tgt[tgt["_linkSource"].isna()]
    by_mail = src.loc[src["_mail"].notna(), ["id", "_mail"]].merge(
        free.loc[free["_mail"].notna(), ["id", "_mail"]], on="_mail", suffixes=("", "_t"))
    candidates.append(pd.DataFrame({"sourceId": by_mail["id"], "targetId": by_mail["id_t"], "level": 2}))
    keys = []
    for col in ("_mail", "_extAddr"):
        keys.append(src.loc[src["_upn"].notna(), ["id", "_upn"]].merge(
            free.loc[free[col].notna(), ["id", col]], left_on="_upn", right_on=col, suffixes=("", "_t")))
    if options.create_as == "member":
        keys.append(src.loc[src["_upn"].notna(), ["id", "_upn"]].merge(
            free[["id", "_upn"]], on="_upn", suffixes=("", "_t")))
    by_upn = pd.concat([k[["id", "id_t"]] for k in keys], ignore_index=True).drop_duplicates()
    candidates.append(pd.DataFrame({"sourceId": by_upn["id"], "targetId": by_upn["id_t"], "level": 3}))

    cand = pd.concat(candidates, ignore_index=True).drop_duplicates(["sourceId", "targetId"])
    if cand.empty:
        empty = pd.DataFrame(columns=["sourceId", "targetId", "matchedBy"])
        return empty, pd.DataFrame(columns=["sourceId", "reason"])
    best = cand.groupby("sourceId")["level"].transform("min")
    cand = cand[cand["level"] == best]
    n_targets = cand.groupby("sourceId")["targetId"].transform("nunique")
    n_sources = cand.groupby("targetId")["sourceId"].transform("nunique")
    level_name = cand["level"].map({1: "link", 2: "mail", 3: "upn"})
    tgt_upn = tgt.set_index("id")["userPrincipalName"]
    ambiguous = cand[n_targets > 1]
    shared = cand[(n_targets == 1) & (n_sources > 1)]
    conflicts = []
    if not ambiguous.empty:
        names = ambiguous.assign(u=ambiguous["targetId"].map(tgt_upn)).groupby("sourceId")["u"].apply(
            lambda s: ", ".join(sorted(map(str, s))))
        lvl = ambiguous.groupby("sourceId")["level"].first().map({1: "link", 2: "mail", 3: "UPN"})
        conflicts.append(pd.DataFrame({"sourceId": names.index,
                                       "reason": "matches several target users by " + lvl.values + ": "
                                                 + names.values + "; resolve by hand, ccsync never guesses"}))
    if not shared.empty:
        others = shared.groupby("targetId")["sourceId"].apply(lambda s: len(s))
        conflicts.append(pd.DataFrame({
            "sourceId": shared["sourceId"].values,
            "reason": ("the target user " + shared["targetId"].map(tgt_upn).astype(str).values + " is matched by "
                       + shared["targetId"].map(others).astype(str).values
                       + " source users (same mail or UPN): Entra would link them all to one user")}))
    ok = cand[(n_targets == 1) & (n_sources == 1)]
    if options.create_as == "invite":
        # Entra cannot match a source user to an INTERNAL target user; only a link ccsync wrote may adopt one.
        internal_ids = set(tgt.loc[tgt["creationType"].isna() & (tgt["userType"].fillna("Member") == "Member"),
                                   "id"])
        takeover = ok[(ok["level"] > 1) & ok["targetId"].isin(internal_ids)]
        if not takeover.empty:
            conflicts.append(pd.DataFrame({
                "sourceId": takeover["sourceId"].values,
                "reason": ("matches " + takeover["targetId"].map(tgt_upn).astype(str).values
                           + ", an internal user of the target: Entra cross-tenant sync cannot take over internal "
                             "users; remove or convert that user, or take this user out of scope")}))
            ok = ok[~ok.index.isin(takeover.index)]
    adoptions = ok[ok["level"] > 1]
    if not adoptions.empty:
        refused = _adoption_refusals(adoptions, tgt, options)
        if not refused.empty:
            conflicts.append(refused)
            ok = ok[~ok["sourceId"].isin(set(refused["sourceId"]))]
    matches = pd.DataFrame({"sourceId": ok["sourceId"].values, "targetId": ok["targetId"].values,
                            "matchedBy": level_name[ok.index].values})
    conflict_frame = (pd.concat(conflicts, ignore_index=True).drop_duplicates("sourceId")
                      if conflicts else pd.DataFrame(columns=["sourceId", "reason"]))
    return matches, conflict_frame


def looks_entra_synced(tgt: pd.DataFrame) -> pd.Series:
    """Target users Entra's own cross-tenant sync created: linked to their source by ``alternativeSecurityIds``.

    Graph v1.0 does not return ``alternativeSecurityIds`` on users (docs/direct-engine.md), so a snapshot
    that carries the property (saved beta JSON, the simulator's sync engine) is read as is, and otherwise the
    shape Entra's sync gives its users is used: an external *member* (creationType Invitation, userType
    Member) that was pre-redeemed (externalUserState Accepted).
    """
    if "alternativeSecurityIds" in tgt.columns:
        has = tgt["alternativeSecurityIds"].map(lambda v: isinstance(v, (list, tuple, np.ndarray)) and len(v) > 0)
    else:
        has = pd.Series(False, index=tgt.index)
    shape = ((tgt["creationType"].astype("string") == "Invitation")
             & (tgt["userType"].astype("string").fillna("Member") == "Member")
             & (tgt["externalUserState"].astype("string") == "Accepted")).fillna(False)
    return (has.astype(bool) | shape.astype(bool))


def _adoption_refusals(adoptions: pd.DataFrame, tgt: pd.DataFrame, options: PlanOptions) -> pd.DataFrame:
    """Mail/UPN matches ccsync may not take over: Entra-synced users always, any user without --adopt."""
    synced = pd.Series(looks_entra_synced(tgt).to_numpy(dtype=bool), index=tgt["id"].to_numpy())
    is_synced = adoptions["targetId"].map(synced).fillna(False).astype(bool).to_numpy()
    if not options.adopt:
        refused = adoptions
    else:
        refused = adoptions[is_synced]
        is_synced = is_synced[is_synced]
    if refused.empty:
        return pd.DataFrame(columns=["sourceId", "reason"])
    users = tgt.set_index("id").loc[refused["targetId"].to_numpy()]
    upn = users["userPrincipalName"].astype(str).to_numpy()
    synced_reason = ("matches " + upn + ", a user Entra's own cross-tenant sync created (an external member linked "
                     "to its source by alternativeSecurityIds): ccsync never adopts it; keep it with Entra's sync, "
                     "or take this user out of scope")
    how = np.where(users["creationType"].astype("string").fillna("") == "Invitation", "invited", "created")
    day = users["createdDateTime"].astype("string").str.slice(0, 10).fillna("").to_numpy(dtype=object) \
        if "createdDateTime" in users.columns else np.full(len(users), "", dtype=object)
    state = users["externalUserState"].astype("string").fillna("").to_numpy(dtype=object)
    who = [f" ({h}{' on ' + d if d else ''} by someone other than ccsync{', ' + st if st else ''})"
           for h, d, st in zip(how, day, state)]
    adopt_reason = ("would adopt " + upn + ", a user ccsync did not create" + np.array(who, dtype=object)
                    + ": review it, then plan again with --adopt to take it over (ccsync writes its link, and may "
                      "later disable or delete it)")
    return pd.DataFrame({"sourceId": refused["sourceId"].to_numpy(),
                         "reason": np.where(is_synced, synced_reason, adopt_reason)})


def _mapped_values(mapping: Mapping, users: pd.DataFrame) -> pd.DataFrame:
    out = {}
    for rule in mapping.rules:
        values = rule.expression.evaluate(users)
        if rule.target in BOOLEAN_TARGETS:
            text = _text(values)
            lowered = pd.Series(text, dtype="object").str.lower().to_numpy(dtype=object, na_value=None)
            values = pd.Series(lowered, index=users.index, dtype="object")
        out[rule.target] = values
    return pd.DataFrame(out, index=users.index)


def _check_expected(tenant: TenantData, expected: str | None, role: str) -> None:
    """A snapshot of the wrong tenant is refused: ``expected`` is a tenant id or one of its verified domains."""
    if not expected:
        return
    want = expected.strip().lower()
    names = {str(tenant.tenant_id or "").lower()}
    if len(tenant.domains):
        verified = tenant.domains[tenant.domains["isVerified"].fillna(False).astype(bool)]
        names |= set(verified["id"].astype(str).str.lower())
    if want not in names:
        raise InputError(f"the {role} is tenant {tenant.display_name or '?'} ({tenant.tenant_id}), not {expected}",
                         hint=f"Give the {role}'s own profile or snapshot, or correct --expect-{role.split()[0]}.")


def plan_sync(source: TenantData, target: TenantData, *, mapping: Mapping | None = None,
              scope: Scope | None = None, options: PlanOptions | None = None, catalog: Any = None,
              eligibility: pd.DataFrame | None = None, expect_source: str | None = None,
              expect_target: str | None = None) -> "SyncPlan":
    """Plan the sync of ``source`` into ``target``. Pure: reads frames, writes nothing.

    ``expect_source`` / ``expect_target`` (a tenant id or verified domain) refuse a snapshot of the wrong tenant.
    """
    from .planfile import SyncPlan

    _check_expected(source, expect_source, "source tenant")
    _check_expected(target, expect_target, "target tenant")
    mapping = mapping or default_mapping()
    scope = scope or Scope()
    options = options or PlanOptions()
    pair = check_pair(source.cloud, target.cloud)
    _check_inputs(source, target, mapping, options, pair.kind)

    users = _keys_as_objects(source.users.reset_index(drop=True))
    in_scope, syncable = scope_masks(replace(source, users=users), scope)
    candidates = users[in_scope & syncable]
    tgt = _keys_as_objects(target.users.reset_index(drop=True))
    tgt["_link"] = _extension(tgt, options.link_attribute)      # read once: every step below needs it
    tgt.attrs["link_attribute"] = options.link_attribute

    _check_empty_scope(candidates, tgt, source, scope, options)
    matches, conflicts = _match(candidates, tgt, source.tenant_id, options)
    res = _Result()

    src_cols = candidates.set_index("id")
    tgt_idx = tgt.set_index("id")

    def source_view(ids: pd.Series) -> pd.DataFrame:
        view = src_cols.loc[ids.values, ["userPrincipalName", "mail"]]
        return pd.DataFrame({"sourceId": ids.values, "sourceUpn": view["userPrincipalName"].values,
                             "sourceMail": view["mail"].values})

    # Conflicts found while matching.
    if not conflicts.empty:
        frame = source_view(conflicts["sourceId"])
        res.add("conflict", frame, reason=conflicts["reason"].values)
    conflicted = set(conflicts["sourceId"])

    # Licence gating (cross-cloud): not-eligible users are blocked from create/update.
    blocked_reason = pd.Series(dtype="object")
    if pair.kind == "cross-cloud" and options.check_licences:
        if eligibility is None:
            from ..licensing import evaluate_eligibility
            eligibility = evaluate_eligibility(source, source.cloud, target.cloud,
                                               scope_user_ids=set(candidates["id"]), catalog=catalog).users
        el = eligibility.set_index("userId")
        not_ok = el[(el["eligible"] != True) & el.index.isin(candidates["id"])]  # noqa: E712 (nullable)
        blocked_reason = ("not licensed for cross-cloud sync (" + not_ok["status"].astype(str) + "): "
                          + not_ok["reason"].astype(str))

    values = _mapped_values(mapping, candidates.set_index("id", drop=False))
    values.index = candidates["id"].values
    link_col = f"onPremisesExtensionAttributes.{options.link_attribute}"
    links = pd.Series(values.index.to_numpy(dtype=object), index=values.index, dtype="object").radd(
        f"{LINK_PREFIX}:{source.tenant_id}:")

    # --- matched users: update / disable -------------------------------------------------------------
    matched = matches[~matches["sourceId"].isin(conflicted)]
    change_rows = []
    if not matched.empty:
        sid, tid = matched["sourceId"].values, matched["targetId"].values
        new_vals = values.loc[sid]
        old_users = tgt_idx.loc[tid]
        changed_any = np.zeros(len(matched), dtype=bool)
        disable = np.zeros(len(matched), dtype=bool)
        per_attr = []
        for rule in mapping.rules:
            if rule.once:
                continue
            new = _text(new_vals[rule.target])
            old = (_text(old_users[rule.target]) if rule.target in old_users.columns
                   else np.full(len(matched), None, dtype=object))
            diff = ~pd.isna(new) & (new != old)
            if rule.target == "accountEnabled":
                disable |= diff & (new == "false")
            changed_any |= diff
            per_attr.append((rule.target, diff, old, new))
        old_link = _text(_extension(old_users, options.link_attribute))
        new_link = links.loc[sid].to_numpy(dtype=object)
        link_diff = old_link != new_link
        changed_any |= link_diff
        per_attr.append((link_col, link_diff, old_link, new_link))

        base = pd.DataFrame({"sourceId": sid, "targetId": tid, "matchedBy": matched["matchedBy"].values,
                             "targetUpn": old_users["userPrincipalName"].values})
        base = base.merge(source_view(matched["sourceId"]).drop_duplicates("sourceId"), on="sourceId")
        kind = np.where(disable, "disable", "update")
        # Graph refuses to PATCH a user whose source of authority is on-premises AD ("Unable to update the
        # specified properties for objects that have originated within an external service"): never planned.
        onprem = _on_premises_mastered(old_users).to_numpy() & changed_any
        if onprem.any():
            res.add("conflict", base[onprem], matched_by=base.loc[onprem, "matchedBy"].values,
                    reason="the target user " + base.loc[onprem, "targetUpn"].astype(str).values
                           + " is synchronized from on-premises AD (onPremisesSyncEnabled): Graph refuses to "
                             "update it; change it in the target's on-premises directory, or take this user "
                             "out of scope")
            changed_any = changed_any & ~onprem
        is_blocked = base["sourceId"].isin(blocked_reason.index).to_numpy() & changed_any
        # A mail/UPN match survives _match only as an adoption the admin opted into (--adopt): its update or
        # disable takes the user over, and the plan marks it so ("adopt": true; the guard allows nothing else).
        adopting = base["matchedBy"].isin(["mail", "upn"]).to_numpy(dtype=bool) & options.adopt
        op_ids = pd.Series([None] * len(base), dtype="object")
        for k in ("update", "disable"):
            sel = changed_any & (kind == k) & ~is_blocked
            if sel.any():
                ids = res.add(k, base[sel], matched_by=base.loc[sel, "matchedBy"].values,
                              reason=("source account is disabled" if k == "disable" else None))
                op_ids[np.flatnonzero(sel)] = ids.values
                res.adopted.update(ids.to_numpy(dtype=object)[adopting[sel]])
        if is_blocked.any():
            blk = base[is_blocked]
            res.add("blocked", blk, reason=blocked_reason.loc[blk["sourceId"]].values,
                    matched_by=blk["matchedBy"].values)
        for attr, diff, old, new in per_attr:
            sel = diff & op_ids.notna().to_numpy()
            if sel.any():
                change_rows.append(pd.DataFrame({"opId": op_ids[sel].values, "attribute": attr,
                                                 "oldValue": old[sel], "newValue": new[sel],
                                                 "flow": "always"}))

    # --- unmatched in-scope users: create (or conflict / blocked) -------------------------------------
    matched_sources = set(matches["sourceId"]) | conflicted
    # Entra skips source users that are not active ("Active in the source system"): a disabled user that has
    # no target user yet is not created.
    active = candidates["accountEnabled"].fillna(True).astype(bool)
    to_create = candidates[~candidates["id"].isin(matched_sources) & active]
    if not to_create.empty:
        frame = source_view(to_create["id"])
        frame["matchedBy"] = None
        problems = _create_problems(to_create, values.loc[to_create["id"].values], tgt, target, options, source)
        bad = frame["sourceId"].isin(problems.index)
        if bad.any():
            res.add("conflict", frame[bad], reason=problems.loc[frame.loc[bad, "sourceId"]].values)
        blocked = ~bad & frame["sourceId"].isin(blocked_reason.index)
        if blocked.any():
            res.add("blocked", frame[blocked], reason=blocked_reason.loc[frame.loc[blocked, "sourceId"]].values)
        good = frame[~bad & ~blocked]
        if not good.empty:
            ids = res.add("create", good)
            new = values.loc[good["sourceId"].values].reset_index(drop=True)
            new[link_col] = links.loc[good["sourceId"].values].values
            new["opId"] = ids.values
            long = new.melt(id_vars="opId", var_name="attribute", value_name="newValue")
            long = long[long["newValue"].notna()]
            flows = {r.target: r.flow for r in mapping.rules}
            long["flow"] = long["attribute"].map(flows).fillna("always")
            long["oldValue"] = None
            long["newValue"] = _text(long["newValue"])
            change_rows.append(long[CHANGES_COLUMNS])
            for attr, wanted in (("@assignLicense", options.target_licenses), ("@addToGroup", options.target_groups)):
                for value in wanted:
                    change_rows.append(pd.DataFrame({"opId": ids.values, "attribute": attr, "oldValue": None,
                                                     "newValue": value, "flow": "once"}))

    # --- linked target users whose source is gone, out of scope, or no longer syncable: deprovision -----
    link = _extension(tgt, options.link_attribute)
    prefix = f"{LINK_PREFIX}:{source.tenant_id}:"
    linked = tgt[link.astype("string").str.startswith(prefix).fillna(False).to_numpy(dtype=bool)]
    if not linked.empty:
        src_id = _obj(link.loc[linked.index].astype("string").str.slice(len(prefix)))
        keep = src_id.isin(set(candidates["id"]))
        gone = linked[~keep.to_numpy()]
        if not gone.empty:
            gone_src = src_id[~keep.to_numpy()]
            known = users.set_index("id")
            exists = gone_src.isin(known.index)
            why = np.where(exists, "the source user is out of scope", "the source user no longer exists")
            frame = pd.DataFrame({"sourceId": gone_src.values, "targetId": gone["id"].values,
                                  "targetUpn": gone["userPrincipalName"].values, "matchedBy": "link",
                                  "sourceUpn": gone_src.map(known["userPrincipalName"]).values
                                  if len(known) else None})
            if options.on_deprovision == "delete":
                ids = res.add("delete", frame, reason=pd.Series(why).values + " (soft delete, restorable for 30 "
                                                                          "days)")
            else:
                enabled = gone["accountEnabled"].fillna(True).astype(bool).to_numpy()
                onprem = _on_premises_mastered(gone).to_numpy() & enabled
                if onprem.any():
                    res.add("conflict", frame[onprem], reason="the target user is synchronized from on-premises "
                            "AD (onPremisesSyncEnabled): Graph refuses to disable it; disable it on-premises")
                    enabled = enabled & ~onprem
                frame = frame[enabled]
                ids = res.add("disable", frame, reason=pd.Series(why[enabled]).values)
                if len(frame):
                    change_rows.append(pd.DataFrame({"opId": ids.values, "attribute": "accountEnabled",
                                                     "oldValue": "true", "newValue": "false", "flow": "always"}))

    ops = (pd.concat(res.ops, ignore_index=True) if res.ops else pd.DataFrame(columns=OPS_COLUMNS))
    changes = (pd.concat(change_rows, ignore_index=True) if change_rows
               else pd.DataFrame(columns=CHANGES_COLUMNS))
    ops = _finish(ops, changes, options)
    from .. import __version__
    header = {
        "format": "ccsync-plan/1",
        "toolkitVersion": __version__,
        "asOf": max(filter(None, [source.exported_at, target.exported_at]), default=""),
        "source": _tenant_header(source, int(in_scope.sum()), int((in_scope & syncable).sum())),
        "target": _tenant_header(target),
        "pair": pair.to_dict(),
        "options": options.to_dict(),
        "mapping": {"source": mapping.source, "sha256": mapping.digest, "rules": mapping.to_dict()},
        "scope": {"source": scope.source, "sha256": scope.digest, **scope.describe()},
    }
    return SyncPlan(header=header, ops=ops, changes=changes, adopted=frozenset(res.adopted))


def _check_empty_scope(candidates: pd.DataFrame, tgt: pd.DataFrame, source: TenantData, scope: Scope,
                       options: PlanOptions) -> None:
    """No source user in scope while the target holds users linked to this source: almost always a broken scope
    (a misspelt group, a filter that matches nobody), and the plan would deprovision every linked user."""
    scoped = bool(scope.groups or scope.filters)
    if len(candidates) or options.confirm_empty_scope or not (scoped or len(source.users)):
        return      # an empty source export is a different signal: every source user was deleted
    prefix = f"{LINK_PREFIX}:{source.tenant_id}:"
    linked = int(tgt["_link"].astype("string").str.startswith(prefix).fillna(False).sum())
    if linked:
        action = "delete" if options.on_deprovision == "delete" else "disable"
        raise InputError(f"the scope matches no source user, so the plan would {action} all {linked} target "
                         "users linked to this source", source=scope.source,
                         hint="Check the scoping file (group names, filter values). If the empty scope is meant, "
                              "plan again with --confirm-empty-scope (confirm_empty_scope=True).")


def _on_premises_mastered(users: pd.DataFrame) -> pd.Series:
    if "onPremisesSyncEnabled" not in users.columns:
        return pd.Series(False, index=users.index)
    return users["onPremisesSyncEnabled"].astype("boolean").fillna(False).astype(bool)


def _tenant_header(t: TenantData, in_scope: int | None = None, syncable: int | None = None) -> dict:
    out = {"tenantId": t.tenant_id, "cloud": t.cloud, "displayName": t.display_name,
           "exportedAt": t.exported_at, "users": int(len(t.users))}
    if in_scope is not None:
        out["usersInScope"] = in_scope
        out["usersSyncable"] = syncable
    return out


def _verified_domains(tenant: TenantData) -> set[str]:
    d = tenant.domains
    if not len(d):
        return set()
    return set(d.loc[d["isVerified"].fillna(False).astype(bool), "id"].astype(str).str.lower())


def _create_problems(to_create: pd.DataFrame, values: pd.DataFrame, tgt: pd.DataFrame, target: TenantData,
                     options: PlanOptions, source: TenantData | None = None) -> pd.Series:
    """Reasons why a create would fail, per source id (only users with a problem)."""
    reasons: dict[str, list[str]] = {}

    def note(ids: Any, text: Any) -> None:
        for i, t in zip(ids, text if not isinstance(text, str) else [text] * len(ids)):
            reasons.setdefault(i, []).append(t)

    ids = to_create["id"].to_numpy()
    if options.create_as == "invite":
        # Cross-cloud invitations go by UPN; the address must exist and be unique among the creates.
        address = _lower(to_create["userPrincipalName"]).to_numpy()
        missing = pd.isna(address)
        note(ids[missing], "has no userPrincipalName to invite")
        mail = _lower(to_create["mail"])
        dup_mail = mail.notna() & mail.duplicated(keep=False)
        note(ids[dup_mail.to_numpy()], "shares its mail with another source user: Entra would link both to one "
                                       "target user")
        # Entra: the source user's mail must be on a domain verified in the source tenant, or creation fails.
        source_verified = _verified_domains(source) if source is not None else set()
        if source_verified:
            mail_domain = mail.map(lambda m: m.rsplit("@", 1)[-1] if isinstance(m, str) else None)
            off = (mail.notna() & ~mail_domain.isin(source_verified)).to_numpy()
            note(ids[off], [f"its mail {m} is not on a domain verified in the source tenant: Entra cannot "
                            "create it" for m in mail[off]])
        # The invitation goes to the UPN (the address actually invited), so that is the address that must be
        # free in the target: not the mail, a proxy address or another address of any object there.
        invited = pd.Series(address, dtype="object")
        owners = _address_owners(tgt, target, {a for a in address if isinstance(a, str)})
        internal = {str(i) for i in tgt.loc[tgt["creationType"].isna(), "id"]}
        hit_owner = invited.map(owners)
        for i, who in zip(ids, hit_owner):
            if not isinstance(who, tuple):
                continue
            oid, kind, name = who
            if kind == "user" and oid in internal:
                # Entra: a proxy address of an INTERNAL target user equal to the invited address makes the
                # invitation fail (InvitationCreationFailureAmbiguousUser).
                note([i], f"its invited address is a proxy address of {name}, an internal target user: the "
                          "invitation would fail (InvitationCreationFailureAmbiguousUser); remove the address "
                          "from that user or take this user out of scope")
            elif kind == "user":
                note([i], f"its invited address is already the mail or a proxy address of {name}, a target user "
                          "that is not linked to it: Entra would return that user or create one without a mail; "
                          "resolve it, or plan with --adopt if that user is this one")
            else:
                note([i], f"its invited address is already used by the target {kind} {name}: Entra would create "
                          "the user without that mail (address moved to otherMails); free the address first")
    else:
        upn = _lower(values["userPrincipalName"].astype("object")).reset_index(drop=True)
        domain = upn.str.split("@").str[-1]
        verified = _verified_domains(target)
        unverified = (upn.notna() & ~domain.isin(verified)).to_numpy()
        note(ids[unverified], [f"its target UPN {u} is on a domain not verified in the target tenant"
                               for u in upn[unverified]])
        existing = set(_lower(tgt["userPrincipalName"]).dropna())
        clash = upn.isin(existing).to_numpy()
        note(ids[clash], [f"its target UPN {u} already exists in the target" for u in upn[clash]])
        dup = (upn.notna() & upn.duplicated(keep=False)).to_numpy()
        note(ids[dup], "its target UPN is the same as another new user's")
    if options.target_licenses:
        usage = values["usageLocation"] if "usageLocation" in values.columns else pd.Series(None, index=values.index)
        none = pd.isna(usage.to_numpy(dtype=object))
        note(ids[none], "has no usageLocation: Graph refuses the --target-license licence without one; set it in "
                        "the source or map a constant")
    for attr, limit in TARGET_LIMITS.items():
        if attr in values.columns:
            lengths = values[attr].astype("string").str.len().fillna(0).to_numpy()
            over = lengths > limit
            note(ids[over], [f"{attr} is {int(n)} characters, Graph allows {limit}" for n in lengths[over]])
    return pd.Series({k: "; ".join(v) for k, v in reasons.items()}, dtype="object")


def _address_owners(tgt: pd.DataFrame, target: TenantData, wanted: set[str]) -> dict[str, tuple[str, str, str]]:
    """For the ``wanted`` (lower-case) addresses: address -> (object id, "user" | "contact" | "group", name),
    over the target users' mail, proxyAddresses and otherMails and the contacts and groups its export carries.

    Column-wise: a million target users must not mean a million Python iterations."""
    owners: dict[str, tuple[str, str, str]] = {}
    if not wanted:
        return owners
    for col in ("mail", "proxyAddresses", "otherMails"):
        if col not in tgt.columns:
            continue
        values = (tgt[col] if col == "mail" else tgt[col].explode()).dropna()
        if values.empty:
            continue
        # "SMTP:a@b" -> "a@b" (a mail has no prefix). Non-text values become NaN and never match.
        text = values.astype("object")
        address = (text if col == "mail" else text.str.split(":", n=1).str[-1]).str.lower()
        hit = address[address.isin(wanted)]
        for row, a in zip(hit.index, hit.to_numpy()):
            owners.setdefault(a, (str(tgt.at[row, "id"]), "user", str(tgt.at[row, "userPrincipalName"])))
    for obj in getattr(target, "directory_objects", None) or ():
        for a in [obj.get("mail"), *(obj.get("proxyAddresses") or [])]:
            if isinstance(a, str) and a:
                key = a.split(":", 1)[-1].lower()
                if key in wanted:
                    owners.setdefault(key, (str(obj.get("id")), str(obj.get("kind", "object")),
                                            str(obj.get("displayName") or obj.get("mail"))))
    return owners


_KIND_ORDER = {k: i for i, k in enumerate(KINDS)}


def _finish(ops: pd.DataFrame, changes: pd.DataFrame, options: PlanOptions) -> pd.DataFrame:
    if ops.empty:
        return pd.DataFrame(columns=OPS_COLUMNS)
    counts = changes.groupby("opId").size() if not changes.empty else pd.Series(dtype="int64")
    ops["changeCount"] = ops["opId"].map(counts).fillna(0).astype("int64")
    destructive = ops["kind"].isin(["delete", "disable"])
    n = int(destructive.sum())
    ops["held"] = False
    if n > options.deletion_threshold and n > options.deletion_threshold + options.allow_deletes:
        ops.loc[destructive, "held"] = True
    ops["_k"] = ops["kind"].map(_KIND_ORDER)
    for col in ("sourceUpn", "targetUpn", "sourceId", "targetId"):
        ops[f"_{col}"] = ops[col].astype("string").str.lower().fillna("")
    ops = ops.sort_values(["_k", "_sourceUpn", "_targetUpn", "_sourceId", "_targetId"], kind="mergesort")
    return ops[OPS_COLUMNS].reset_index(drop=True)
