"""Per-user licence eligibility for cross-tenant synchronization between two clouds.

The rule (licensing-facts sections 0 and 9; graph-facts 1.2). The pair kind comes from
``toolkit.clouds.check_pair``: **same-cloud** sync needs Microsoft Entra ID P1 on the user (service plan
``AAD_PREMIUM`` or ``AAD_PREMIUM_P2``: a P1 check accepts either); **cross-cloud** sync needs P1/P2 *and*
``Entra_Identity_Governance`` (in Governance, Entra Suite and Microsoft 365 E7 SKUs). The decision is made on
service-plan GUIDs, never on SKU names. Only internal members can be synchronized.

A plan counts for a user when, in at least one of the user's assignments (direct or group-based; Microsoft
merges the enabled plans of all of them):

* the SKU carries the plan: per the tenant's own ``subscribedSkus``; for a SKU the tenant no longer has, the
  catalog tells what it would carry, but it does not count (status ``sku_not_subscribed``);
* the assignment state is ``Active`` or ``ActiveWithError`` (the licence is in force; the error concerns a
  later change) or unknown (a snapshot with ``assignedLicenses`` only: Graph lists only assigned licences
  there). ``Error`` and ``Disabled`` do not count;
* the plan is not in that assignment's ``disabledPlans``;
* the SKU's capabilityStatus is ``Enabled`` or ``Warning`` (or unknown); ``Suspended``, ``LockedOut`` and
  ``Deleted`` do not count;
* the plan's provisioningStatus in the tenant's SKU is not ``Disabled``.

Statuses, in precedence order (the first that applies wins; ``STATUSES`` holds the same as data):

=============================  ===================================================================================
status                         meaning
=============================  ===================================================================================
not_in_scope                   the user is not in the synchronization scope
account_disabled               the account is disabled (accountEnabled false)
not_syncable_external          a guest or external user (userType Guest or creationType Invitation)
eligible                       every entitlement the pair needs is enabled on the user
assignment_error               a licence that would grant it is in state Error/Disabled (e.g. CountViolation)
sku_suspended                  the SKU that would grant it is Suspended, LockedOut or Deleted in the tenant
plan_disabled                  the plan is switched off in the assignment (disabledPlans) or in the subscription
sku_not_subscribed             the user holds a SKU the tenant no longer subscribes to (the catalog says it
                               would grant the entitlement)
unknown_sku                    the user holds a SKU neither the tenant nor the catalog describes: ccsync cannot
                               tell whether it grants the entitlement (never counted as "no licence")
missing_p1_and_governance      cross-cloud: neither P1/P2 nor Governance, and nothing above explains it
missing_p1                     no P1/P2 plan (AAD_PREMIUM / AAD_PREMIUM_P2) in any licence
missing_governance             cross-cloud: no Entra_Identity_Governance plan in any licence
=============================  ===================================================================================

Input without subscribedSkus (a users JSON saved alone): plans come from the catalog, SKUs it knows are taken
as held, seat counts are unknown (no SEATS rows) and a note says so.

Among the reasons for a missing entitlement the most actionable is reported (an error on a licence the user
already has before a missing licence). Look-alike plans (AAD_SMB, AAD_BASIC, AAD_EDU,
ENTRA_ID_GOV_FOR_ASSISTIVE_AGENTS, INFO_GOVERNANCE) grant nothing.

Each row fills ``toolkit.frames.ELIGIBILITY``: which plan, SKU and source grant P1 and Governance (source
``direct``, ``group:<name or id>``, or ``unknown`` for assignedLicenses-only input); a one-sentence ``reason``
naming the user, the SKU and the cause; a ``fix`` naming the SKU to assign (the tenant's SKU with the most free
seats, with the count) or to buy, and whether the other entitlement also needs a licence; and the Entra
admin center link of the source cloud. Everything is vectorised (numpy/pandas), with no per-user Python loop.

The statuses as data (labels, meanings, fix templates, codes) are in ``statuses.py``; the Arrow/pandas string
helpers the text columns are built with are in ``columns.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np
import pandas as pd

from ..clouds import CloudPair, check_pair, get_cloud
from ..frames import ELIGIBILITY, SEATS, TenantData, conform, empty
from .catalog import Catalog
from .columns import const, fill, labels, lower_in, string_col
from .seats import plan_seats
from .statuses import (BITS, CAUSES, CODE, ENT_TEXT, ERROR_HINTS, MASK_NAMES, PLAN_BIT, STATUS_ORDER,
                       STATUSES)

__all__ = ["STATUSES", "STATUS_ORDER", "EligibilityResult", "evaluate_eligibility"]


@dataclass
class EligibilityResult:
    """Per-user rows (``ELIGIBILITY``), per-SKU seats (``SEATS``), a summary dict and the cloud pair."""

    users: pd.DataFrame
    seats: pd.DataFrame
    summary: dict[str, Any]
    pair: CloudPair
    notes: list[str] = field(default_factory=list)

    def to_dict(self, *, include_users: bool = True) -> dict[str, Any]:
        """JSON-friendly: pair, summary, seats and (unless told not to) the user rows; NA becomes None."""
        def records(df: pd.DataFrame) -> list[dict[str, Any]]:
            return df.astype(object).where(df.notna(), None).to_dict("records")
        out: dict[str, Any] = {"pair": self.pair.to_dict(), "summary": self.summary,
                               "seats": records(self.seats), "notes": list(self.notes)}
        if include_users:
            out["users"] = records(self.users)
        return out


def evaluate_eligibility(tenant: TenantData, source_cloud: str, target_cloud: str, *,
                         scope_user_ids: Iterable[str] | None = None,
                         catalog: Catalog | None = None) -> EligibilityResult:
    """Decide, for every user of the source tenant, whether they can be synchronized to ``target_cloud``.

    ``scope_user_ids``: ids of the users in scope (e.g. direct members of the scoping groups); None means all.
    Raises CloudError for an unsupported pair. Never raises on odd data: a stale or unknown SKU, an empty
    tenant or scope ids that match no user are reported in the rows, ``summary`` and ``notes``.
    """
    pair = check_pair(source_cloud, target_cloud)
    need_gov = pair.kind == "cross-cloud"
    catalog = catalog or Catalog.bundled()
    cloud = get_cloud(source_cloud)
    notes: list[str] = []

    users = tenant.users
    ids = string_col(users, "id")
    dup = ids.duplicated()
    if dup.any():
        notes.append(f"{int(dup.sum())} duplicate user id(s) in the users frame were ignored "
                     f"(first: {ids[dup].iloc[0]}).")
        users, ids = users[~dup.to_numpy()].reset_index(drop=True), ids[~dup].reset_index(drop=True)
    n = len(users)
    if n == 0:
        notes.append(f"The tenant {tenant.tenant_id or '(unnamed)'} has no users: nothing to evaluate. "
                     "Check that the export read the users (User.Read.All) or that the snapshot is complete.")
    id_index = pd.Index(ids)

    # --- SKU table (small): what each SKU carries and whether the tenant can still grant it -------------------
    la = tenant.license_assignments.reset_index(drop=True)
    skus, plans = tenant.skus, tenant.sku_service_plans
    la_sku = string_col(la, "skuId").str.lower()
    tenant_sku_ids = set(string_col(skus, "skuId").str.lower().dropna()) | set(string_col(plans, "skuId").str.lower().dropna())
    all_skus = pd.Index(sorted(tenant_sku_ids | set(la_sku.dropna().unique())))
    m = len(all_skus)
    plan_sku = string_col(plans, "skuId").str.lower()
    plan_id = string_col(plans, "servicePlanId").str.lower()
    plan_bit = plan_id.map(PLAN_BIT).fillna(0).astype("int64").to_numpy()
    plan_code = all_skus.get_indexer(plan_sku)
    sku_mask = np.zeros(m, np.int64)
    sku_prov_off = np.zeros(m, np.int64)
    has_tenant_plans = np.zeros(m, bool)
    ok = plan_code >= 0
    has_tenant_plans[plan_code[ok]] = True
    np.bitwise_or.at(sku_mask, plan_code[ok], plan_bit[ok])
    prov_off = lower_in(string_col(plans, "provisioningStatus"), {"disabled"}) & ok
    np.bitwise_or.at(sku_prov_off, plan_code[prov_off], plan_bit[prov_off])
    cat_masks = catalog.sku_masks(all_skus)
    known = has_tenant_plans.copy()
    for i, sku in enumerate(all_skus):
        if not has_tenant_plans[i] and sku in cat_masks:
            sku_mask[i] = cat_masks[sku]
            known[i] = True
    skus_known = bool(len(skus) or len(plans))
    if skus_known:
        subscribed = all_skus.isin(tenant_sku_ids)
    else:
        # No subscribedSkus in the input: "not subscribed" cannot be told, so catalog SKUs are taken as held.
        subscribed = known.copy()
        if len(la):
            notes.append("The input has no subscribedSkus: service plans come from the licence catalog, and "
                         "suspended subscriptions and free seats cannot be seen. Export GET /subscribedSkus too.")
    sku_rows = pd.Index(string_col(skus, "skuId").str.lower()).get_indexer(all_skus) if len(skus) else np.full(m, -1)
    cap = pd.Series(pd.NA, index=range(m), dtype="string")
    part = pd.Series(pd.NA, index=range(m), dtype="string")
    has_row = sku_rows >= 0
    if has_row.any():
        cap[has_row] = string_col(skus, "capabilityStatus").to_numpy()[sku_rows[has_row]]
        part[has_row] = string_col(skus, "skuPartNumber").to_numpy()[sku_rows[has_row]]
    plan_parts = pd.Series(string_col(plans, "skuPartNumber").to_numpy(), index=plan_sku).dropna()
    plan_parts = plan_parts[~plan_parts.index.duplicated()]
    part = part.fillna(pd.Series(all_skus.map(lambda s: plan_parts.get(s)), dtype="string"))
    part = part.fillna(pd.Series(all_skus.map(catalog.sku_part_number), dtype="string"))
    cap_ok = (cap.isna() | cap.str.lower().isin({"enabled", "warning"})).to_numpy(bool)

    # --- per assignment row (vectorised) ---------------------------------------------------------------------
    code = all_skus.get_indexer(la_sku)
    uidx = id_index.get_indexer(string_col(la, "userId")) if n else np.full(len(la), -1)
    valid = (uidx >= 0) & (code >= 0)
    code_c = np.where(code >= 0, code, 0)
    state = string_col(la, "state")
    state_ok = (state.isna() | pd.Series(lower_in(state, {"active", "activewitherror"}))).to_numpy(bool)
    row_off = np.zeros(len(la), np.int64)
    if "disabledPlans" in la.columns and len(la):
        dp = la["disabledPlans"].explode()
        dp = dp[dp.notna()]
        if len(dp):
            bits = dp.astype(str).str.lower().map(PLAN_BIT)
            hit = bits.notna().to_numpy()
            np.bitwise_or.at(row_off, dp.index.to_numpy()[hit], bits[hit].astype("int64").to_numpy())
    r_mask = sku_mask[code_c]
    r_sub, r_known, r_cap = subscribed[code_c], known[code_c], cap_ok[code_c]
    counts = valid & r_sub & r_known & r_cap & state_ok
    eff = np.where(counts, r_mask & ~sku_prov_off[code_c] & ~row_off, 0)
    group = string_col(la, "assignedByGroup")
    is_direct = group.isna().to_numpy() | (group.fillna("").str.strip() == "").to_numpy()
    # assignedLicenses-only input (no licenseAssignmentStates): the export marks the source "unknown".
    src_unknown = is_direct & lower_in(string_col(la, "source"), {"unknown"})
    rows_all = np.arange(len(la))

    def per_user(cond: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(flag per user, one matching row per user; direct assignments win over group ones)."""
        flag = np.zeros(n, bool)
        row = np.full(n, -1, np.int64)
        # Group rows first, then direct rows over them, so a direct assignment is the one reported.
        for sel in (rows_all[cond & valid & ~is_direct], rows_all[cond & valid & is_direct]):
            flag[uidx[sel]] = True
            row[uidx[sel]] = sel
        return flag, row

    has, grant_row, cause_flag, cause_row = {}, {}, {}, {}
    for ent, bits in BITS.items():
        has[ent], grant_row[ent] = per_user((eff & bits) != 0)
        potential = (r_mask & bits) != 0
        blocked = {
            "assignment_error": potential & r_sub & r_known & r_cap & ~state_ok,
            "sku_suspended": potential & r_sub & r_known & ~r_cap,
            "plan_disabled": potential & r_sub & r_known & r_cap & state_ok
                             & ((r_mask & ~sku_prov_off[code_c] & ~row_off & bits) == 0),
            "sku_not_subscribed": potential & ~r_sub & r_known,
            "unknown_sku": ~r_known,
        }
        for cause, cond in blocked.items():
            cause_flag[cause, ent], cause_row[cause, ent] = per_user(cond)

    # --- status per user -------------------------------------------------------------------------------------
    in_scope = np.ones(n, bool) if scope_user_ids is None else ids.isin(set(scope_user_ids)).to_numpy(bool)
    if scope_user_ids is not None:
        missing_scope = len(set(scope_user_ids) - set(ids.dropna()))
        if missing_scope:
            notes.append(f"{missing_scope} id(s) in the scope match no user of the tenant (deleted users, or "
                         "non-user members of a scoping group); they are not counted.")
    enabled = string_col(users, "accountEnabled")
    disabled = (enabled.astype(str).str.lower() == "false").to_numpy(bool)
    external = (lower_in(string_col(users, "userType"), {"guest"})
                | lower_in(string_col(users, "creationType"), {"invitation"}))
    miss = {"P1": ~has["P1"], "GOVERNANCE": ~has["GOVERNANCE"] & need_gov}
    eligible = ~miss["P1"] & ~miss["GOVERNANCE"]
    status = np.full(n, CODE["missing_p1"], np.int8)
    status[miss["GOVERNANCE"] & ~miss["P1"]] = CODE["missing_governance"]
    status[miss["GOVERNANCE"] & miss["P1"]] = CODE["missing_p1_and_governance"]
    chosen_row = np.full(n, -1, np.int64)
    chosen_p1 = miss["P1"].copy()           # which entitlement the reported cause is about
    for cause in reversed(CAUSES):   # lowest precedence first, so higher ones overwrite
        p1 = miss["P1"] & cause_flag[cause, "P1"]
        gov = miss["GOVERNANCE"] & cause_flag[cause, "GOVERNANCE"] & ~p1
        status[p1 | gov] = CODE[cause]
        chosen_row[p1] = cause_row[cause, "P1"][p1]
        chosen_row[gov] = cause_row[cause, "GOVERNANCE"][gov]
        chosen_p1[p1], chosen_p1[gov] = True, False
    status[eligible] = CODE["eligible"]
    status[external] = CODE["not_syncable_external"]
    status[disabled] = CODE["account_disabled"]
    status[~in_scope] = CODE["not_in_scope"]

    # --- seats and fix targets -------------------------------------------------------------------------------
    syncable = in_scope & ~disabled & ~external
    needed = {ent: int((syncable & miss[ent] & ~cause_flag["plan_disabled", ent]).sum()) for ent in BITS}
    sku_info = pd.DataFrame({"skuId": all_skus[subscribed], "skuPartNumber": part[subscribed].to_numpy(),
                             "capabilityStatus": cap[subscribed].to_numpy(),
                             "mask": (sku_mask & ~sku_prov_off)[subscribed]})
    if len(skus):
        extra = skus.assign(skuId=string_col(skus, "skuId").str.lower()).drop_duplicates("skuId").set_index("skuId")
        for col in ("enabled", "consumedUnits", "available"):
            sku_info[col] = sku_info["skuId"].map(extra[col]) if col in extra.columns else pd.NA
        if sku_info["available"].isna().all():
            sku_info["available"] = (pd.to_numeric(sku_info["enabled"], errors="coerce")
                                     - pd.to_numeric(sku_info["consumedUnits"], errors="coerce"))
    else:
        sku_info = sku_info.assign(enabled=0, consumedUnits=0, available=0)
    seat_plan = plan_seats(sku_info, needed, int(syncable.sum()), need_gov, cloud.name, catalog,
                           skus_known=skus_known)
    target = dict(seat_plan.fix_target)

    # --- text columns: per status, with arrow string operations (no per-user Python) --------------------------
    upn = string_col(users, "userPrincipalName").fillna(ids).reset_index(drop=True)
    # Placeholders such as the export's "<not subscribed>" are not part numbers: fall back to the catalog's.
    la_part = string_col(la, "skuPartNumber").reset_index(drop=True)
    la_part = la_part.mask(la_part.str.fullmatch(r"<.*>").fillna(False).to_numpy(bool))
    la_gname = string_col(la, "assignedByGroupName").fillna(group).fillna("").reset_index(drop=True)
    la_state = state.fillna("(none)").reset_index(drop=True)
    la_error = string_col(la, "error").fillna("").replace("", "none").reset_index(drop=True)
    la_sku_s = la_sku.reset_index(drop=True)
    part_s = part.reset_index(drop=True)
    cap_s = cap.fillna("").reset_index(drop=True)

    def take(series: pd.Series, rows: np.ndarray) -> pd.Series:
        return series.take(rows).reset_index(drop=True)

    def row_fields(rows: np.ndarray, full: bool = True) -> dict[str, pd.Series]:
        """SKU and source (and with ``full`` state, error, capability, skuId) of one assignment row per user."""
        c = code_c[rows]
        sku = take(la_part, rows).fillna(take(part_s, c)).fillna(take(la_sku_s, rows))
        direct = is_direct[rows]
        gname = take(la_gname, rows)
        out = {"sku": sku, "source": ("group:" + gname).mask(direct, "direct").mask(src_unknown[rows], "unknown")}
        if full:
            out.update({"where": ("the licence assignment of group " + gname + ", or assign it directly with the "
                                  "plan on").mask(direct, "the user's direct assignment"),
                        "state": take(la_state, rows), "error": take(la_error, rows), "capability": take(cap_s, c),
                        "skuId": take(la_sku_s, rows)})
        return out

    def grant_cols(ent: str) -> tuple[pd.Series, pd.Series, pd.Series]:
        """Plan, SKU and source granting an entitlement, per user (NA where nothing grants it)."""
        rows = grant_row[ent]
        got = np.nonzero(rows >= 0)[0]
        plan_code = np.full(n, -1, np.int64)
        if ent == "P1":
            plan_code[got] = np.where(eff[rows[got]] & 1, 0, 1)
        else:
            plan_code[got] = 2
        plan = labels(plan_code, ["AAD_PREMIUM", "AAD_PREMIUM_P2", "Entra_Identity_Governance"])
        if not len(la):
            return plan, pd.Series(pd.NA, index=range(n), dtype="string"), pd.Series(pd.NA, index=range(n),
                                                                                     dtype="string")
        f = row_fields(np.where(rows >= 0, rows, 0), full=False)
        none = rows < 0
        return plan, f["sku"].mask(none), f["source"].mask(none)

    p1_plan, p1_sku, p1_src = grant_cols("P1")
    g_plan, g_sku, g_src = grant_cols("GOVERNANCE")

    pieces: list[tuple[np.ndarray, pd.Series, pd.Series]] = []

    def put(code_name: str, reason_tpl: str, fields: dict[str, Any], fix_tpl: str | None = None) -> None:
        idx = np.nonzero(status == CODE[code_name])[0]
        if len(idx):
            f = {k: (v(idx) if callable(v) else v) for k, v in fields.items()}
            f["upn"] = upn.iloc[idx].reset_index(drop=True)
            fix_t = STATUSES[code_name][2] if fix_tpl is None else fix_tpl
            pieces.append((idx, fill(reason_tpl, f, len(idx)), fill(fix_t, f, len(idx))))

    put("not_in_scope", "{upn} is not in the synchronization scope.", {})
    put("account_disabled", "{upn} is disabled (accountEnabled is false), so ccsync does not count it.", {})
    put("not_syncable_external", "{upn} is a guest or external user (userType {ut}, creationType {ct}); "
        "cross-tenant synchronization only synchronizes internal members.",
        {"ut": lambda i: string_col(users, "userType").fillna("(none)").iloc[i].reset_index(drop=True),
         "ct": lambda i: string_col(users, "creationType").fillna("(none)").iloc[i].reset_index(drop=True)})

    def eligible_fields(i: np.ndarray) -> dict[str, pd.Series]:
        return {"p1sku": p1_sku.iloc[i].reset_index(drop=True), "p1src": p1_src.iloc[i].reset_index(drop=True),
                "gsku": g_sku.iloc[i].reset_index(drop=True), "gsrc": g_src.iloc[i].reset_index(drop=True)}

    idx_el = np.nonzero(status == CODE["eligible"])[0]
    if len(idx_el):
        f = eligible_fields(idx_el)
        f["upn"] = upn.iloc[idx_el].reset_index(drop=True)
        tpl = ("{upn} is eligible: Entra ID P1 through {p1sku} ({p1src})"
               + (", Entra ID Governance through {gsku} ({gsrc})." if need_gov else "."))
        pieces.append((idx_el, fill(tpl, f, len(idx_el)), const("", len(idx_el))))

    plan_txt = pd.Series([MASK_NAMES[k] for k in range(8)], dtype="string")
    for cause, tpl in (
        ("assignment_error", "{upn} holds {sku} ({source}) but that assignment is in state {state} ({error}), "
                             "so its {ent} plan is not in force.{also}"),
        ("sku_suspended", "{upn} holds {sku} ({source}) but the tenant's subscription is {capability}, "
                          "so its {ent} plan is not in force.{also}"),
        ("plan_disabled", "{upn} holds {sku} ({source}) but its {plan} plan, which grants {ent}, is disabled "
                          "there.{also}"),
        ("sku_not_subscribed", "{upn} holds {sku} ({source}), which would grant {ent}, but the tenant no longer "
                               "subscribes to that SKU.{also}"),
        ("unknown_sku", "{upn} holds SKU {skuId} ({source}), which neither the tenant's subscriptions nor the "
                        "licence catalog describe, so ccsync cannot tell whether it grants {ent}.{also}"),
    ):
        idx = np.nonzero(status == CODE[cause])[0]
        if not len(idx):
            continue
        rows = chosen_row[idx]
        cp1 = chosen_p1[idx]
        f = row_fields(rows)
        other_missing = np.where(cp1, miss["GOVERNANCE"][idx], miss["P1"][idx])
        f["ent"] = labels(np.where(cp1, 0, 1), [ENT_TEXT["P1"], ENT_TEXT["GOVERNANCE"]])
        f["also"] = labels(np.where(other_missing, np.where(cp1, 1, 2), 0),
                            ["", " It also lacks Entra ID Governance.", " It also lacks Entra ID P1/P2."])
        f["target"] = labels(np.where(cp1, 0, 1), [target.get("P1", ""), target.get("GOVERNANCE", "")])
        # Fixing the reported cause restores one entitlement; say what the other gap needs.
        f["alsofix"] = labels(np.where(other_missing, np.where(cp1, 1, 2), 0),
                               ["", f" Also assign {target.get('GOVERNANCE', '')}.",
                                f" Also assign {target.get('P1', '')}."])
        f["plan"] = take(plan_txt, r_mask[rows] & np.where(cp1, 3, 4))
        f["hint"] = f["error"].str.lower().map(ERROR_HINTS).fillna(
            "reprocess the licence in the Entra admin center (Licenses)").astype("string")
        f["upn"] = upn.iloc[idx].reset_index(drop=True)
        pieces.append((idx, fill(tpl, f, len(idx)), fill(STATUSES[cause][2] + "{alsofix}", f, len(idx))))

    put("missing_p1_and_governance", "{upn} has neither an enabled Entra ID P1/P2 plan nor "
        "Entra_Identity_Governance in any licence; cross-cloud sync needs both.", {"target": target.get("BOTH", "")})
    put("missing_p1", "{upn} has no enabled Entra ID P1/P2 plan (AAD_PREMIUM or AAD_PREMIUM_P2) in any licence.",
        {"target": target.get("P1", "")})
    put("missing_governance", "{upn} has Entra ID P1/P2 but no enabled Entra_Identity_Governance plan in any "
        "licence; cross-cloud sync needs Entra ID Governance.", {"target": target.get("GOVERNANCE", "")})

    # --- assemble --------------------------------------------------------------------------------------------
    if pieces:
        order = np.argsort(np.concatenate([p[0] for p in pieces]), kind="stable")
        reason = pd.concat([p[1] for p in pieces], ignore_index=True).take(order).reset_index(drop=True)
        fix = pd.concat([p[2] for p in pieces], ignore_index=True).take(order).reset_index(drop=True)
    else:
        reason = fix = pd.Series([], dtype="string")

    status_s = labels(status.astype(np.int64), list(STATUS_ORDER))
    plain_ids = ids.reset_index(drop=True)
    out = pd.DataFrame({
        "userId": plain_ids, "userPrincipalName": string_col(users, "userPrincipalName").reset_index(drop=True),
        "displayName": string_col(users, "displayName").reset_index(drop=True),
        "accountEnabled": (users["accountEnabled"].reset_index(drop=True) if "accountEnabled" in users.columns
                           else pd.Series(pd.NA, index=range(n), dtype="boolean")),
        "userType": string_col(users, "userType").reset_index(drop=True),
        "inScope": in_scope, "eligible": status == CODE["eligible"], "status": status_s,
        "reason": reason, "p1Plan": p1_plan, "p1SkuPartNumber": p1_sku, "p1Source": p1_src,
        "governancePlan": g_plan, "governanceSkuPartNumber": g_sku, "governanceSource": g_src,
        "fix": fix, "portalUrl": cloud.user_portal_url("") + plain_ids.fillna(""),
    })
    result_users = conform(out, ELIGIBILITY) if n else empty(ELIGIBILITY)

    # --- summary ---------------------------------------------------------------------------------------------
    by_status = np.bincount(status.astype(np.int64), minlength=len(STATUS_ORDER))
    stale = valid & ~r_sub
    part_arr = part.to_numpy(object)
    summary: dict[str, Any] = {
        "tenantId": tenant.tenant_id, "tenantName": tenant.display_name or tenant.tenant_id,
        "sourceCloud": pair.source, "targetCloud": pair.target, "pairKind": pair.kind,
        "requires": ["P1", "GOVERNANCE"] if need_gov else ["P1"],
        "usersTotal": n, "usersInScope": int(in_scope.sum()), "eligible": int((status == CODE["eligible"]).sum()),
        "notEligible": int((in_scope & (status != CODE["eligible"])).sum()),
        "byStatus": {s: int(by_status[i]) for i, s in enumerate(STATUS_ORDER)},
        "entitlements": seat_plan.summary,
        "skusNotSubscribed": _sku_users(stale, code_c, uidx, all_skus, part_arr),
        "unknownSkus": _sku_users(valid & ~r_known, code_c, uidx, all_skus, part_arr),
        "tenantSkusNotInCatalog": sorted(str(part_arr[i] if isinstance(part_arr[i], str) else all_skus[i])
                                         for i in range(m) if subscribed[i] and not catalog.knows_sku(all_skus[i])),
        "assignmentsForUnknownUsers": int(((uidx < 0) & (code >= 0)).sum()),
        "catalog": catalog.to_dict(),
    }
    if summary["assignmentsForUnknownUsers"]:
        notes.append(f"{summary['assignmentsForUnknownUsers']} licence assignment row(s) name users that are not "
                     "in the users frame; they were ignored.")
    summary["notes"] = notes
    return EligibilityResult(result_users, seat_plan.frame if len(seat_plan.frame) else empty(SEATS), summary,
                             pair, notes)


def _sku_users(cond: np.ndarray, code: np.ndarray, uidx: np.ndarray, all_skus: pd.Index,
               part: np.ndarray) -> list[dict[str, Any]]:
    """[{skuId, skuPartNumber, users}] for the assignment rows matching ``cond`` (distinct users per SKU)."""
    if not cond.any():
        return []
    pairs = pd.DataFrame({"c": code[cond], "u": uidx[cond]}).drop_duplicates()
    counts = pairs.groupby("c")["u"].size()
    return [{"skuId": all_skus[c], "skuPartNumber": part[c] if isinstance(part[c], str) else None,
             "users": int(k)} for c, k in counts.items()]
