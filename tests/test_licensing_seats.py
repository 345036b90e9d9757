"""Seat arithmetic: needed vs. available per SKU and per entitlement, shortfall, and the Governance tenant view."""

from __future__ import annotations

from test_licensing_eligibility import P1, Tenant, lic, row

from toolkit.frames import SEATS
from toolkit.licensing import evaluate_eligibility


def tenant() -> Tenant:
    t = (Tenant().sku("AAD_PREMIUM", enabled=5, consumed=3).sku("SPE_E5", enabled=10, consumed=9)
         .sku("Microsoft_Entra_ID_Governance", enabled=2, consumed=2)
         .sku("Microsoft_Entra_Suite", enabled=5, consumed=0, status="Suspended"))
    for i in range(6):
        t.user(f"u{i}")
    t.user("pd", lic("AAD_PREMIUM", disabled=[P1]), lic("Microsoft_Entra_ID_Governance"))
    t.user("ok", lic("AAD_PREMIUM"), lic("Microsoft_Entra_ID_Governance"))
    t.user("guest", user_type="Guest").user("off", enabled=False)
    return t


def seat(res, entitlement: str, part: str):
    rows = res.seats[(res.seats["entitlement"] == entitlement) & (res.seats["skuPartNumber"] == part)]
    assert len(rows) == 1, (entitlement, part, res.seats)
    r = rows.iloc[0]
    return {k: (None if str(r[k]) == "<NA>" else int(r[k]) if k in ("prepaid", "consumedUnits", "available",
                                                                      "needed", "shortfall") else r[k])
            for k in SEATS.names}


def test_p1_seats_are_spread_over_free_seats_and_the_rest_is_shortfall():
    res = evaluate_eligibility(tenant().data(), "commercial", "gcch")
    assert list(res.seats.columns) == SEATS.names
    aad = seat(res, "P1", "AAD_PREMIUM")
    assert (aad["prepaid"], aad["consumedUnits"], aad["available"]) == (5, 3, 2)
    assert (aad["needed"], aad["shortfall"]) == (5, 3)        # 2 free used + 3 to buy
    e5 = seat(res, "P1", "SPE_E5")
    assert (e5["available"], e5["needed"], e5["shortfall"]) == (1, 1, 0)
    suite = seat(res, "P1", "Microsoft_Entra_Suite")           # carries P2, but suspended: no usable seats
    assert (suite["capabilityStatus"], suite["available"], suite["needed"]) == ("Suspended", 0, 0)
    total = seat(res, "P1", "TOTAL")
    assert (total["prepaid"], total["available"], total["needed"], total["shortfall"]) == (15, 3, 6, 3)
    # plan_disabled users need no new seat; guests and disabled accounts are not counted.
    p1 = res.summary["entitlements"]["P1"]
    assert (p1["needed"], p1["available"], p1["shortfall"]) == (6, 3, 3)


def test_governance_assignment_view_and_tenant_view():
    res = evaluate_eligibility(tenant().data(), "commercial", "gcch")
    gov = seat(res, "GOVERNANCE", "Microsoft_Entra_ID_Governance")
    assert (gov["available"], gov["needed"], gov["shortfall"]) == (0, 6, 6)
    total = seat(res, "GOVERNANCE", "TOTAL")
    assert (total["needed"], total["available"], total["shortfall"]) == (6, 0, 6)
    tenant_view = seat(res, "GOVERNANCE_TENANT", "TOTAL")
    # 8 syncable users in scope (6 unlicensed, pd, ok) vs. 2 Governance seats (the suspended Suite does not count).
    assert (tenant_view["needed"], tenant_view["prepaid"], tenant_view["shortfall"]) == (8, 2, 6)
    view = res.summary["entitlements"]["GOVERNANCE"]["tenantView"]
    assert (view["usersToCover"], view["prepaidSeats"], view["shortfall"]) == (8, 2, 6)


def test_fix_text_names_free_seats_and_shortfall():
    res = evaluate_eligibility(tenant().data(), "commercial", "gcch")
    fix = row(res, "u0")["fix"]
    assert "AAD_PREMIUM (2 of 5 seats free)" in fix
    assert "Microsoft_Entra_ID_Governance (no free seats: buy 6 more)" in fix


def test_summary_counts_by_status():
    res = evaluate_eligibility(tenant().data(), "commercial", "gcch", scope_user_ids=[
        "u0", "u1", "u2", "u3", "u4", "u5", "pd", "ok", "guest", "off"])
    s = res.summary
    assert (s["usersTotal"], s["usersInScope"], s["eligible"], s["notEligible"]) == (10, 10, 1, 9)
    assert s["byStatus"]["missing_p1_and_governance"] == 6 and s["byStatus"]["plan_disabled"] == 1
    assert s["byStatus"]["not_syncable_external"] == 1 and s["byStatus"]["account_disabled"] == 1
    assert sum(s["byStatus"].values()) == 10


def test_scope_limits_needed_seats():
    res = evaluate_eligibility(tenant().data(), "commercial", "gcch", scope_user_ids={"u0", "ok"})
    assert res.summary["entitlements"]["P1"]["needed"] == 1
    assert seat(res, "P1", "TOTAL")["shortfall"] == 0
    assert seat(res, "GOVERNANCE_TENANT", "TOTAL")["needed"] == 2


def test_tenant_without_any_p1_sku_gets_a_purchase_row():
    t = Tenant().sku("O365_ONLY_SMB").user("a").user("b")
    res = evaluate_eligibility(t.data(), "commercial", "commercial")
    buy = seat(res, "P1", "AAD_PREMIUM")
    assert buy["capabilityStatus"] == "NotSubscribed"
    assert buy["skuId"] == "078d2b04-f1bd-4111-bbd4-b4b1b354cef4"
    assert (buy["prepaid"], buy["needed"], buy["shortfall"]) == (0, 2, 2)
    assert set(res.seats["entitlement"]) == {"P1"}


def test_governance_plan_disabled_in_subscription_is_not_a_seat():
    t = (Tenant().sku("AAD_PREMIUM").sku("Microsoft_Entra_ID_Governance", enabled=9,
                                          disabled_plans=("Entra_Identity_Governance",))
         .user("a", lic("AAD_PREMIUM"), lic("Microsoft_Entra_ID_Governance")))
    res = evaluate_eligibility(t.data(), "commercial", "gcch")
    assert row(res, "a")["status"] == "plan_disabled"
    assert seat(res, "GOVERNANCE_TENANT", "TOTAL")["prepaid"] == 0
