"""The demo's per-tenant steps: sign in through msal, list users, list subscribed SKUs (``TenantRun``)."""

from __future__ import annotations

from typing import Any

from .runs import Step, TenantRun, save_graph_json

__all__ = ["TENANT_STEPS", "step_sign_in", "step_users", "step_skus"]

USER_SELECT = "id,displayName,userPrincipalName,userType,accountEnabled,usageLocation"
SAMPLE_ROWS = 5


def step_sign_in(run: TenantRun) -> dict[str, Any]:
    from toolkit.graph import GraphClient

    run.client = GraphClient.from_profile(run.profile, secret=run.secret)
    orgs = run.client.get("/organization").get("value", [])
    org = orgs[0] if orgs else {}
    return {"organization": org.get("displayName"), "tenantId": org.get("id"),
            "verifiedDomains": [d.get("name") for d in org.get("verifiedDomains", []) if d.get("name")]}


def step_users(run: TenantRun) -> dict[str, Any]:
    users = list(run.client.iter_items("/users", params={"$select": USER_SELECT, "$top": "100"}))
    keys = USER_SELECT.split(",")
    return {"count": len(users), "sample": [{k: u.get(k) for k in keys} for u in users[:SAMPLE_ROWS]],
            "savedTo": save_graph_json(run, "users", users)}


def step_skus(run: TenantRun) -> dict[str, Any]:
    skus = list(run.client.iter_items("/subscribedSkus"))
    rows = [{"skuPartNumber": s.get("skuPartNumber"), "skuId": s.get("skuId"),
             "enabled": (s.get("prepaidUnits") or {}).get("enabled"), "consumed": s.get("consumedUnits")}
            for s in skus]
    return {"count": len(rows), "skus": rows, "savedTo": save_graph_json(run, "subscribedSkus", skus)}


TENANT_STEPS: list[Step] = [
    Step("signIn", "signing in", step_sign_in),
    Step("users", "listing users", step_users),
    Step("subscribedSkus", "listing subscribed SKUs", step_skus),
]
