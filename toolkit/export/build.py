"""Raw Graph JSON (a ``RawTenant``) -> ``TenantData``: the declared frames of ``toolkit.frames``.

Pure and vectorised: no Graph calls, no per-user Python work beyond pandas' own record conversion, so a
1,000,000-user tenant builds in seconds.

Choices a reader of the frames needs to know:

* ``license_assignments`` has one row per ``licenseAssignmentStates`` entry. ``source`` is ``"direct"`` when
  ``assignedByGroup`` is null, else ``"group"`` (``assignedByGroup`` holds the group id and
  ``assignedByGroupName`` its display name, null when the group could not be read, e.g. it was deleted).
  ``state`` and ``error`` are Graph's values as returned (Graph may send the string ``"None"`` for no error).
* JSON saved without ``licenseAssignmentStates`` (e.g. ``$select=assignedLicenses`` only) still yields rows, one
  per ``assignedLicenses`` entry, with ``source = "unknown"`` (Graph merges direct and group licences in that
  property) and ``state`` null.
* A ``skuId`` the tenant no longer has in ``subscribedSkus``: the row is kept and labelled
  ``skuPartNumber = "<not subscribed>"`` (``NOT_SUBSCRIBED``), so reports show it plainly; the skuId is kept, so
  the licensing catalog can still name the product. Its service plans are unknown, so it adds nothing to
  ``user_service_plans``. When the input had no ``subscribedSkus`` at all, ``skuPartNumber`` is left null
  (unknown rather than unsubscribed). Both cases add a line to ``TenantData.stats["warnings"]``.
* ``user_service_plans``: for every assignment whose state is ``Active`` or ``ActiveWithError`` (or unknown, for
  ``assignedLicenses``-only input), the SKU's service plans minus that assignment's ``disabledPlans``; a plan
  enabled by any assignment is enabled (Microsoft's group-licensing rule). ``skuIds`` lists the SKUs and
  ``sources`` the assignments that enable it (``"direct"``, ``"unknown"`` or the assigning group's id), sorted.
  The SKU-level ``provisioningStatus`` is not applied here; it is in ``sku_service_plans``.
* ``group_members.memberType`` is Graph's ``@odata.type`` without ``#microsoft.graph.`` (``user``, ``group``,
  ...); when saved JSON lacks ``@odata.type``, a member with a ``userPrincipalName`` is a ``user``.
* GUIDs are matched case-insensitively (saved JSON may have been edited), and kept as written.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Any, Iterable, Iterator, Mapping

import numpy as np
import pandas as pd

from ..errors import InputError
from ..frames import (DOMAINS, GROUP_MEMBERS, LICENSE_ASSIGNMENTS, SKU_SERVICE_PLANS, SKUS, USER_PROPERTIES,
                      USER_SERVICE_PLANS, USERS, FrameSpec, TenantData, conform)
from .raw import RawTenant

__all__ = ["build_tenant_data", "NOT_SUBSCRIBED", "EFFECTIVE_STATES", "SOURCE_DIRECT", "SOURCE_GROUP",
           "SOURCE_UNKNOWN"]

NOT_SUBSCRIBED = "<not subscribed>"
EFFECTIVE_STATES = ("Active", "ActiveWithError")
SOURCE_DIRECT, SOURCE_GROUP, SOURCE_UNKNOWN = "direct", "group", "unknown"

_STATE_FIELDS = ["skuId", "assignedByGroup", "state", "error", "disabledPlans", "lastUpdatedDateTime"]
_LICENCE_COLUMNS = ["assignedLicenses", "licenseAssignmentStates"]


def build_tenant_data(raw: RawTenant) -> TenantData:
    """Flatten one tenant's Graph JSON into the declared frames; raises InputError naming a malformed record."""
    with _gc_paused():
        return _build(raw)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic collector: building millions of small lists next to millions of live user dicts
    otherwise triggers full collections over and over (minutes instead of seconds). Nothing here makes cycles."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _build(raw: RawTenant) -> TenantData:
    warnings: list[str] = list(raw.stats.get("warnings", []))
    base = _users_base(raw.users, warnings)
    users = _conform(base, USERS, "users", extra={"tenantId": raw.tenant_id})
    skus = build_skus(raw.subscribed_skus or [])
    sku_plans = build_sku_service_plans(raw.subscribed_skus or [])
    group_names = _group_names(raw.groups)
    assignments = build_license_assignments(base, skus, group_names, skus_known=raw.subscribed_skus is not None,
                                            warnings=warnings)
    effective = build_user_service_plans(assignments, sku_plans)
    members = build_group_members(raw.group_members, group_names)
    domains = _conform(_records(raw.domains or [], "domains"), DOMAINS, "domains")
    stats = dict(raw.stats)
    stats["source"] = raw.source
    stats["warnings"] = warnings
    return TenantData(tenant_id=raw.tenant_id, cloud=raw.cloud, display_name=raw.display_name,
                      exported_at=raw.fetched_at, users=users, license_assignments=assignments,
                      user_service_plans=effective, skus=skus, sku_service_plans=sku_plans,
                      group_members=members, domains=domains,
                      organization=dict(raw.organization[0]) if raw.organization else {}, stats=stats,
                      directory_objects=build_directory_objects(raw.groups, getattr(raw, "contacts", []) or []))


def build_directory_objects(groups: list[dict[str, Any]], contacts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Contacts and the groups that hold addresses or refuse plain member adds (TenantData.directory_objects)."""
    out: list[dict[str, Any]] = []
    for c in contacts:
        if isinstance(c, dict) and c.get("id"):
            out.append({"id": str(c["id"]), "kind": "contact", "displayName": c.get("displayName"),
                        "mail": c.get("mail"), "proxyAddresses": list(c.get("proxyAddresses") or [])})
    for g in groups:
        if not isinstance(g, dict) or not g.get("id"):
            continue
        types = [str(t) for t in g.get("groupTypes") or []]
        if g.get("mailEnabled") or "DynamicMembership" in types or g.get("isAssignableToRole"):
            out.append({"id": str(g["id"]), "kind": "group", "displayName": g.get("displayName"),
                        "mail": g.get("mail"), "proxyAddresses": list(g.get("proxyAddresses") or []),
                        "mailEnabled": bool(g.get("mailEnabled")), "securityEnabled": bool(g.get("securityEnabled")),
                        "groupTypes": types, "isAssignableToRole": bool(g.get("isAssignableToRole"))})
    return out


# -- users ------------------------------------------------------------------------------------------------------

def _users_base(users: list[dict[str, Any]], warnings: list[str]) -> pd.DataFrame:
    """User properties plus the two licence lists, one row per distinct user id."""
    cols = list(USER_PROPERTIES) + _LICENCE_COLUMNS
    frame = _records(users, "users", cols)
    if len(frame) and frame["id"].isna().any():
        row = int(np.flatnonzero(frame["id"].isna().to_numpy())[0])
        raise InputError(f"user record #{row + 1} has no 'id'.", source="users", row=row + 1, field="id",
                         hint="Export users with $select including id, or re-export with 'ccsync export'.")
    _refuse_conflicting_duplicates(users)
    dupes = frame["id"].duplicated()
    if dupes.any():
        warnings.append(f"{int(dupes.sum())} user record(s) repeated an id already seen (overlapping pages?); "
                        "the first copy of each was kept.")
        frame = frame[~dupes].reset_index(drop=True)
    return frame


def _refuse_conflicting_duplicates(users: list[dict[str, Any]]) -> None:
    """One id, two different records: a file edited or merged by hand, and either could be the real user, so it
    is refused (issue 15). Identical copies (overlapping pages) are harmless and only warned about."""
    seen: dict[Any, dict[str, Any]] = {}
    for i, user in enumerate(users):
        uid = user.get("id") if isinstance(user, dict) else None
        if uid is None or isinstance(uid, (dict, list)):
            continue
        first = seen.setdefault(uid, user)
        if first is not user and first != user:
            raise InputError(f"user id {uid} appears more than once, with different content.", source="users",
                             row=i + 1, field="id", hint="Each user must appear once; export the tenant again.")


def _records(items: Iterable[Any] | None, what: str, columns: list[str] | None = None) -> pd.DataFrame:
    """A frame from a list of Graph objects; InputError naming the first item that is not an object."""
    items = list(items or [])
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise InputError(f"item #{i + 1} of '{what}' is a {type(item).__name__}, not a JSON object.",
                             source=what, row=i + 1,
                             hint="Graph returns objects in 'value'; check the file was saved from Graph unchanged.")
    if not items:
        return pd.DataFrame(columns=columns) if columns else pd.DataFrame()
    return pd.DataFrame(items, columns=columns) if columns else pd.DataFrame(items)


def _conform(frame: pd.DataFrame, spec: FrameSpec, what: str, extra: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """``frames.conform`` with an InputError that names the column whose values do not fit the declared dtype."""
    if extra:
        frame = frame.assign(**{k: [v] * len(frame) for k, v in extra.items()})
    try:
        out = conform(frame, spec)
    except (TypeError, ValueError) as exc:
        for col, dtype in spec.columns:
            if col in frame.columns:
                try:
                    conform(frame[[col]], FrameSpec(spec.name, ((col, dtype),)))
                except (TypeError, ValueError):
                    raise InputError(f"values of '{col}' in {what} are not {dtype}: {exc}", source=what,
                                     field=col, hint="Check the JSON was saved from Graph unchanged.") from exc
        raise InputError(f"{what} could not be read: {exc}", source=what) from exc
    for col, dtype in spec.columns:
        if dtype == "object" and len(out):
            # missing values read as NaN; Graph's null is None
            out[col] = out[col].where(out[col].notna(), None)
    return out


# -- SKUs ---------------------------------------------------------------------------------------------------------

def build_skus(subscribed_skus: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per subscribedSku: prepaidUnits flattened, available = enabled - consumedUnits."""
    frame = _records(subscribed_skus, "subscribedSkus")
    if frame.empty:
        return conform(frame, SKUS)
    prepaid_col = frame["prepaidUnits"] if "prepaidUnits" in frame else pd.Series([None] * len(frame))
    prepaid = pd.DataFrame([p if isinstance(p, dict) else {} for p in prepaid_col],
                           columns=["enabled", "warning", "suspended", "lockedOut"])
    frame = pd.concat([frame.drop(columns=[c for c in prepaid.columns if c in frame.columns]).reset_index(drop=True),
                       prepaid], axis=1)
    out = _conform(frame, SKUS, "subscribedSkus")
    out["available"] = (out["enabled"] - out["consumedUnits"]).astype("Int64")
    return out


def build_sku_service_plans(subscribed_skus: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per SKU x service plan, as subscribedSkus lists them."""
    frame = _records(subscribed_skus, "subscribedSkus")
    if frame.empty or "servicePlans" not in frame:
        return conform(pd.DataFrame(), SKU_SERVICE_PLANS)
    exploded = frame[["skuId", "skuPartNumber", "servicePlans"]].explode("servicePlans").dropna(subset=["servicePlans"])
    plans = _records(exploded["servicePlans"].tolist(), "subscribedSkus.servicePlans",
                     ["servicePlanId", "servicePlanName", "provisioningStatus", "appliesTo"])
    plans.insert(0, "skuId", exploded["skuId"].to_numpy())
    plans.insert(1, "skuPartNumber", exploded["skuPartNumber"].to_numpy())
    return _conform(plans, SKU_SERVICE_PLANS, "subscribedSkus.servicePlans")


# -- licence assignments -------------------------------------------------------------------------------------------

def _group_names(groups: list[dict[str, Any]]) -> dict[str, str]:
    return {str(g["id"]).lower(): g.get("displayName") for g in groups if isinstance(g, dict) and g.get("id")}


def build_license_assignments(base: pd.DataFrame, skus: pd.DataFrame, group_names: Mapping[str, str], *,
                              skus_known: bool, warnings: list[str]) -> pd.DataFrame:
    """One row per user x SKU x source, from licenseAssignmentStates (assignedLicenses when states are absent)."""
    if base.empty:
        return conform(pd.DataFrame(), LICENSE_ASSIGNMENTS)
    has_states = base["licenseAssignmentStates"].notna().to_numpy()
    from_states = _explode(base.loc[has_states], "licenseAssignmentStates", _STATE_FIELDS)
    from_assigned = _explode(base.loc[~has_states], "assignedLicenses", ["skuId", "disabledPlans"])
    from_assigned["source"] = SOURCE_UNKNOWN
    group_id = from_states["assignedByGroup"]
    from_states["source"] = np.where(group_id.isna(), SOURCE_DIRECT, SOURCE_GROUP)
    rows = pd.concat([from_states, from_assigned], ignore_index=True) if len(from_assigned) else from_states
    if rows.empty:
        return conform(pd.DataFrame(), LICENSE_ASSIGNMENTS)

    rows["assignedByGroupName"] = rows["assignedByGroup"].astype("string").str.lower().map(dict(group_names))
    rows["disabledPlans"] = [p if isinstance(p, list) else [] for p in rows["disabledPlans"]]
    part_numbers = dict(zip(skus["skuId"].str.lower(), skus["skuPartNumber"]))
    sku_key = rows["skuId"].astype("string").str.lower()
    rows["skuPartNumber"] = sku_key.map(part_numbers)
    unknown = ~sku_key.isin(list(part_numbers)).to_numpy()
    if unknown.any():
        missing = sorted(set(rows.loc[unknown, "skuId"].astype(str)))
        if skus_known:
            rows.loc[unknown, "skuPartNumber"] = NOT_SUBSCRIBED
            warnings.append(f"{int(unknown.sum())} licence assignment(s) name SKU(s) the tenant no longer has in "
                            f"subscribedSkus ({', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}); "
                            f"they are labelled skuPartNumber '{NOT_SUBSCRIBED}'.")
        else:
            warnings.append("The input has no subscribedSkus, so SKU part numbers and service plans are unknown; "
                            "save GET /subscribedSkus next to the users JSON to fill them in.")
    no_name = rows["assignedByGroup"].notna() & rows["assignedByGroupName"].isna()
    if no_name.any():
        warnings.append(f"{int(rows.loc[no_name, 'assignedByGroup'].nunique())} licence-assigning group(s) "
                        "could not be named (deleted, or not in the input); assignedByGroupName is empty.")
    return _conform(rows, LICENSE_ASSIGNMENTS, "users.licenseAssignmentStates")


def _explode(base: pd.DataFrame, column: str, fields: list[str]) -> pd.DataFrame:
    """One row per element of a list column, with the owning user's id and userPrincipalName."""
    cols = ["userId", "userPrincipalName"] + fields
    if base.empty:
        return pd.DataFrame(columns=cols)
    lists = base[column]
    bad = ~lists.map(lambda v: v is None or isinstance(v, list) or (isinstance(v, float) and np.isnan(v)))
    if bad.any():
        _raise_bad_user(base, bad, column, "is not a list")
    exploded = lists.explode().dropna()
    if exploded.empty:
        return pd.DataFrame(columns=cols)
    not_obj = ~exploded.map(lambda v: isinstance(v, dict))
    if not_obj.any():
        _raise_bad_user(base, not_obj.groupby(level=0).any().reindex(base.index, fill_value=False), column,
                        "holds an entry that is not a JSON object")
    rows = pd.DataFrame(exploded.tolist(), columns=fields)
    owner = exploded.index.to_numpy()
    rows.insert(0, "userId", base.loc[owner, "id"].to_numpy())
    rows.insert(1, "userPrincipalName", base.loc[owner, "userPrincipalName"].to_numpy())
    return rows


def _raise_bad_user(base: pd.DataFrame, mask: pd.Series, column: str, problem: str) -> None:
    idx = mask[mask].index[0]
    user = base.loc[idx, "userPrincipalName"]
    user = user if isinstance(user, str) else base.loc[idx, "id"]
    raise InputError(f"'{column}' of user {user} {problem}.", source="users", field=column,
                     hint="Check the JSON was saved from Graph unchanged.")


# -- effective service plans ---------------------------------------------------------------------------------------

def build_user_service_plans(assignments: pd.DataFrame, sku_plans: pd.DataFrame) -> pd.DataFrame:
    """Plans enabled for each user by at least one effective assignment (see the module docstring).

    Works on integer codes (users, SKUs, plans) so that millions of user x plan rows stay cheap.
    """
    state = assignments["state"]
    eff = assignments[(state.isin(EFFECTIVE_STATES) | state.isna()).to_numpy()]
    if eff.empty or sku_plans.empty:
        return conform(pd.DataFrame(), USER_SERVICE_PLANS)
    n = len(eff)
    user_codes, user_ids = pd.factorize(eff["userId"].to_numpy(dtype=object))
    sku_codes, sku_keys = pd.factorize(np.concatenate([
        eff["skuId"].str.lower().to_numpy(dtype=object), sku_plans["skuId"].str.lower().to_numpy(dtype=object)]))
    a_sku, p_sku = sku_codes[:n], sku_codes[n:]
    plan_codes, plan_keys = pd.factorize(sku_plans["servicePlanId"].str.lower().to_numpy(dtype=object))
    n_plans = max(len(plan_keys), 1)

    # Each assignment repeated once per service plan of its SKU.
    by_sku = np.argsort(p_sku, kind="stable")
    per_sku = np.bincount(p_sku, minlength=len(sku_keys))
    first_of_sku = np.concatenate([[0], np.cumsum(per_sku)[:-1]])
    reps = per_sku[a_sku]
    row_assignment = np.repeat(np.arange(n), reps)
    offset = np.arange(int(reps.sum())) - np.repeat(np.cumsum(reps) - reps, reps)
    row_plan = by_sku[np.repeat(first_of_sku[a_sku], reps) + offset]       # row of sku_plans
    row_plan_code = plan_codes[row_plan].astype(np.int64)

    # Minus the plans each assignment disables.
    disabled = pd.Series(eff["disabledPlans"].to_numpy(dtype=object), index=np.arange(n)).explode().dropna()
    if len(disabled):
        off_codes = pd.Index(plan_keys).get_indexer(disabled.astype(str).str.lower().to_numpy(dtype=object))
        known = off_codes >= 0
        off_keys = disabled.index.to_numpy()[known].astype(np.int64) * n_plans + off_codes[known]
        keep = ~np.isin(row_assignment.astype(np.int64) * n_plans + row_plan_code, off_keys)
        row_assignment, row_plan, row_plan_code = row_assignment[keep], row_plan[keep], row_plan_code[keep]
    if not len(row_assignment):
        return conform(pd.DataFrame(), USER_SERVICE_PLANS)

    # Merge across assignments: one row per (user, plan), with the SKUs and sources that enable it.
    labels = np.where(eff["source"].to_numpy(dtype=object) == SOURCE_GROUP,
                      eff["assignedByGroup"].to_numpy(dtype=object), eff["source"].to_numpy(dtype=object))
    label_codes, label_values = pd.factorize(labels)
    skus_as_written = eff["skuId"].to_numpy(dtype=object)
    group_key = user_codes[row_assignment].astype(np.int64) * n_plans + row_plan_code
    row_sku = a_sku[row_assignment]
    row_label = label_codes[row_assignment]
    order = np.lexsort((row_sku, group_key))
    group_key, row_assignment, row_plan = group_key[order], row_assignment[order], row_plan[order]
    row_sku, row_label = row_sku[order], row_label[order]
    starts = np.flatnonzero(np.r_[True, group_key[1:] != group_key[:-1]])

    first_sku = np.r_[True, (group_key[1:] != group_key[:-1]) | (row_sku[1:] != row_sku[:-1])]
    sku_lists = _lists(group_key[first_sku], skus_as_written[row_assignment[first_sku]])
    by_label = np.lexsort((row_label, group_key))
    g_l, l_l = group_key[by_label], row_label[by_label]
    first_label = np.r_[True, (g_l[1:] != g_l[:-1]) | (l_l[1:] != l_l[:-1])]
    source_lists = _lists(g_l[first_label], label_values[l_l[first_label]])

    head_plan = row_plan[starts]
    out = pd.DataFrame({
        "userId": user_ids[user_codes[row_assignment[starts]]],
        "servicePlanId": sku_plans["servicePlanId"].to_numpy(dtype=object)[head_plan],
        "servicePlanName": sku_plans["servicePlanName"].to_numpy(dtype=object)[head_plan],
        "skuIds": sku_lists, "sources": source_lists})
    return conform(out, USER_SERVICE_PLANS)


def _lists(keys: np.ndarray, values: np.ndarray) -> list[list[Any]]:
    """Values grouped by consecutive equal ``keys`` (sorted), as Python lists in key order."""
    vals = values.tolist()
    bounds = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1], True]).tolist()
    if len(bounds) - 1 == len(vals):          # the common case: one value per group
        return [[v] for v in vals]
    return [vals[a:b] for a, b in zip(bounds[:-1], bounds[1:])]


# -- groups --------------------------------------------------------------------------------------------------------

def build_group_members(group_members: Mapping[str, list[dict[str, Any]]],
                        group_names: Mapping[str, str]) -> pd.DataFrame:
    """Direct members of each scoping group, one row per (group, member)."""
    parts = []
    for group_id, members in group_members.items():
        frame = _records(members, f"group-members/{group_id}", ["id", "@odata.type", "userPrincipalName"])
        if frame.empty:
            continue
        kind = frame["@odata.type"].astype("string").str.replace("#microsoft.graph.", "", regex=False)
        kind = kind.mask(kind.isna() & frame["userPrincipalName"].notna(), "user")
        parts.append(pd.DataFrame({"groupId": group_id, "groupDisplayName": group_names.get(str(group_id).lower()),
                                   "memberId": frame["id"], "memberType": kind,
                                   "userPrincipalName": frame["userPrincipalName"]}))
    if not parts:
        return conform(pd.DataFrame(), GROUP_MEMBERS)
    return _conform(pd.concat(parts, ignore_index=True), GROUP_MEMBERS, "group members")
