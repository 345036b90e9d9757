"""Seats: per entitlement and per SKU, the seats the users in scope need vs. the seats the tenant has.

Rows of the ``toolkit.frames.SEATS`` frame, per entitlement the pair needs (P1; GOVERNANCE too for cross-cloud):

* one row per tenant SKU that carries the entitlement (plan present and not provisioning-Disabled):
  ``prepaid`` = prepaidUnits.enabled, ``consumedUnits``, ``available`` = enabled - consumed (0 when the SKU is
  Suspended/LockedOut/Deleted, whose seats cannot be assigned). ``needed`` is the users ccsync would put on
  that SKU: users lacking the entitlement are spread over SKUs with free seats, most free seats first (the
  same order the per-user fix text recommends). Users left over are the shortfall, booked on the first usable
  SKU ("buy more of this"), or, when the tenant has no usable SKU, on a row for the SKU to buy
  (capabilityStatus ``NotSubscribed``);
* one ``TOTAL`` row (skuId empty): sums, ``needed`` = users needing a seat, ``shortfall`` = max(0, needed -
  available).

A user "needs a seat" for an entitlement when they are in scope, syncable (internal member, enabled) and lack
it, except when it is only switched off in an assignment they already hold (plan_disabled): enabling the plan
costs no seat. Entitlements are counted independently, so one Suite seat can appear under P1 and GOVERNANCE.

Governance, tenant view (cross-cloud only): Microsoft's Governance licensing FAQ says users need not be
*assigned* Governance; the tenant needs enough Governance/Suite seats for every user in scope. The row
``GOVERNANCE_TENANT`` / ``TOTAL`` compares the syncable users in scope (``needed``) with all Governance-carrying
prepaid seats (``prepaid`` = ``available``), whoever they are assigned to. The GOVERNANCE rows above are the
per-user assignment view.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..clouds import get_cloud
from ..frames import SEATS, conform
from .catalog import Catalog

__all__ = ["ENTITLEMENT_BITS", "USABLE_CAPABILITY", "Purchase", "purchase_suggestion", "SeatPlan",
           "plan_seats"]

# Bits of the per-SKU plan mask: 1 AAD_PREMIUM, 2 AAD_PREMIUM_P2, 4 Entra_Identity_Governance.
ENTITLEMENT_BITS = {"P1": 3, "GOVERNANCE": 4}
USABLE_CAPABILITY = frozenset({"enabled", "warning"})


@dataclass(frozen=True)
class Purchase:
    sku_id: str | None
    sku_part_number: str
    product_name: str


# What to buy when the tenant has nothing that carries the entitlement (licensing-facts sections 4 and 6).
_PURCHASE = {
    ("P1", "com"): "078d2b04-f1bd-4111-bbd4-b4b1b354cef4",            # AAD_PREMIUM
    ("P1", "gov"): "de597797-22fb-4d65-a9fe-b7dbe8893914",            # AAD_PREMIUM_USGOV_GCCHIGH
    ("GOVERNANCE", "com"): "cf6b0d46-4093-4546-a0ab-0b1546dcc10e",    # Microsoft_Entra_ID_Governance
    ("BOTH", "com"): "f9602137-2203-447b-9fff-41b36e08ce5d",          # Microsoft_Entra_Suite
}


def purchase_suggestion(entitlement: str, cloud: str, catalog: Catalog) -> Purchase:
    """The SKU to buy for an entitlement ('P1', 'GOVERNANCE', 'BOTH') in a cloud."""
    family = "gov" if get_cloud(cloud).entra_instance == "microsoftonline.us" else "com"
    sku = _PURCHASE.get((entitlement, family))
    if sku is None:
        # Microsoft publishes no SKU id for Governance for Government (licensing-facts section 7).
        if entitlement == "GOVERNANCE":
            return Purchase(None, "Microsoft Entra ID Governance for Government",
                            "Microsoft Entra ID Governance for Government")
        return Purchase(None, "Microsoft Entra ID P1 plus Microsoft Entra ID Governance for Government",
                        "Microsoft Entra ID P1 plus Microsoft Entra ID Governance for Government")
    return Purchase(sku, catalog.sku_part_number(sku) or sku, catalog.product_name(sku) or sku)


@dataclass
class SeatPlan:
    """The SEATS frame, a fix phrase per need ('P1', 'GOVERNANCE', 'BOTH') and the summary figures."""

    frame: pd.DataFrame
    fix_target: dict[str, str]
    summary: dict[str, Any]


def _usable(cap: pd.Series) -> pd.Series:
    return cap.isna() | cap.astype("string").str.lower().isin(USABLE_CAPABILITY)


def plan_seats(sku_info: pd.DataFrame, needed: dict[str, int], users_to_cover: int, need_governance: bool,
               cloud: str, catalog: Catalog, *, skus_known: bool = True) -> SeatPlan:
    """Allocate needed seats per entitlement over the tenant's SKUs.

    ``sku_info``: one row per subscribed SKU with columns skuId, skuPartNumber, capabilityStatus, enabled,
    consumedUnits, available, mask (entitlement plans present and not provisioning-Disabled).
    ``needed``: users needing a seat per entitlement ('P1', 'GOVERNANCE'); ``users_to_cover``: syncable users
    in scope (the Governance tenant view).
    """
    entitlements = ["P1", "GOVERNANCE"] if need_governance else ["P1"]
    if not skus_known:
        return _unknown_seats(needed, users_to_cover, entitlements, cloud, catalog)
    info = sku_info.copy()
    info["usable"] = _usable(info["capabilityStatus"]).to_numpy(bool)
    for col in ("enabled", "consumedUnits", "available"):
        info[col] = pd.to_numeric(info[col], errors="coerce").fillna(0).astype("int64")
    info["free"] = info["available"].clip(lower=0).where(info["usable"], 0)
    rows: list[dict[str, Any]] = []
    fix: dict[str, str] = {}
    summary: dict[str, Any] = {}
    for ent in entitlements:
        bits = ENTITLEMENT_BITS[ent]
        cands = info[(info["mask"] & bits) != 0].sort_values(
            ["usable", "free", "skuPartNumber"], ascending=[False, False, True])
        left = int(needed.get(ent, 0))
        ent_rows = []
        for rec in cands.itertuples(index=False):
            take = min(left, int(rec.free))
            left -= take
            ent_rows.append({"entitlement": ent, "skuId": rec.skuId, "skuPartNumber": rec.skuPartNumber,
                             "capabilityStatus": rec.capabilityStatus, "prepaid": rec.enabled,
                             "consumedUnits": rec.consumedUnits, "available": int(rec.free),
                             "needed": take, "shortfall": 0})
        usable_rows = [r for r, u in zip(ent_rows, cands["usable"]) if u]
        if left and usable_rows:
            usable_rows[0]["needed"] += left
            usable_rows[0]["shortfall"] = left
        elif left:
            buy = purchase_suggestion(ent, cloud, catalog)
            ent_rows.append({"entitlement": ent, "skuId": buy.sku_id, "skuPartNumber": buy.sku_part_number,
                             "capabilityStatus": "NotSubscribed", "prepaid": 0, "consumedUnits": 0,
                             "available": 0, "needed": left, "shortfall": left})
        usable = cands[cands["usable"]]
        total = {"entitlement": ent, "skuId": None, "skuPartNumber": "TOTAL", "capabilityStatus": None,
                 "prepaid": int(usable["enabled"].sum()), "consumedUnits": int(usable["consumedUnits"].sum()),
                 "available": int(usable["free"].sum()), "needed": int(needed.get(ent, 0))}
        total["shortfall"] = max(0, total["needed"] - total["available"])
        rows.extend(ent_rows)
        rows.append(total)
        summary[ent] = {"needed": total["needed"], "available": total["available"],
                        "shortfall": total["shortfall"], "prepaid": total["prepaid"],
                        "skus": [r["skuPartNumber"] for r in ent_rows]}
        fix[ent] = _fix_phrase(usable, cands, ent, cloud, catalog, total["shortfall"])
    if need_governance:
        gov = info[((info["mask"] & ENTITLEMENT_BITS["GOVERNANCE"]) != 0) & info["usable"]]
        prepaid = int(gov["enabled"].sum())
        rows.append({"entitlement": "GOVERNANCE_TENANT", "skuId": None, "skuPartNumber": "TOTAL",
                     "capabilityStatus": None, "prepaid": prepaid, "consumedUnits": int(gov["consumedUnits"].sum()),
                     "available": prepaid, "needed": users_to_cover,
                     "shortfall": max(0, users_to_cover - prepaid)})
        summary["GOVERNANCE"]["tenantView"] = {
            "usersToCover": users_to_cover, "prepaidSeats": prepaid, "shortfall": max(0, users_to_cover - prepaid),
            "note": "Microsoft's Governance licensing FAQ: users need not be assigned Governance, but the tenant "
                    "needs enough Governance or Suite seats for every user in scope."}
        both = info[((info["mask"] & 3) != 0) & ((info["mask"] & 4) != 0) & info["usable"] & (info["free"] > 0)]
        if not both.empty:
            top = both.sort_values(["free", "skuPartNumber"], ascending=[False, True]).iloc[0]
            fix["BOTH"] = f"{top['skuPartNumber']} ({int(top['free'])} of {int(top['enabled'])} seats free)"
        elif "does not have yet" in fix["P1"] and "does not have yet" in fix["GOVERNANCE"]:
            buy = purchase_suggestion("BOTH", cloud, catalog)
            fix["BOTH"] = (f"{buy.product_name} ({buy.sku_part_number}), or {fix['P1']} plus {fix['GOVERNANCE']}"
                           if buy.sku_id else f"{fix['P1']} plus {fix['GOVERNANCE']}")
        else:
            fix["BOTH"] = f"{fix['P1']} plus {fix['GOVERNANCE']}"
    return SeatPlan(conform(rows, SEATS), fix, summary)


def _fix_phrase(usable: pd.DataFrame, cands: pd.DataFrame, ent: str, cloud: str, catalog: Catalog,
                shortfall: int) -> str:
    """'SKU (n of m seats free)', 'SKU (no free seats: k short)' or the SKU to buy."""
    if not usable.empty:
        top = usable.iloc[0]
        if int(top["free"]) > 0:
            return f"{top['skuPartNumber']} ({int(top['free'])} of {int(top['enabled'])} seats free)"
        return f"{top['skuPartNumber']} (no free seats: buy {shortfall} more)"
    buy = purchase_suggestion(ent, cloud, catalog)
    held = (f" (the tenant's {', '.join(cands['skuPartNumber'])} cannot be assigned: "
            f"{', '.join(cands['capabilityStatus'].astype(str))})" if not cands.empty else "")
    return f"{buy.product_name} ({buy.sku_part_number}), which the tenant does not have yet{held}"


def _unknown_seats(needed: dict[str, int], users_to_cover: int, entitlements: list[str], cloud: str,
                   catalog: Catalog) -> SeatPlan:
    """No subscribedSkus in the input: no seat rows; needs are reported, availability is unknown (None)."""
    fix, summary = {}, {}
    for ent in entitlements:
        buy = purchase_suggestion(ent, cloud, catalog)
        fix[ent] = (f"{buy.product_name} ({buy.sku_part_number}) or another SKU carrying it "
                    "(free seats unknown: the input has no subscribedSkus)")
        summary[ent] = {"needed": int(needed.get(ent, 0)), "available": None, "shortfall": None, "prepaid": None,
                        "skus": []}
    if "GOVERNANCE" in entitlements:
        fix["BOTH"] = f"{fix['P1']} plus {fix['GOVERNANCE']}"
        summary["GOVERNANCE"]["tenantView"] = {"usersToCover": users_to_cover, "prepaidSeats": None,
                                               "shortfall": None, "note": "Seat counts unknown: the input has "
                                               "no subscribedSkus."}
    return SeatPlan(conform([], SEATS), fix, summary)
