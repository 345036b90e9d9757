"""Shared helpers of the apply tests (no tests here): a private simulator, synthetic sources, plans.

Apply writes to the simulated target, so every test module starts its own ``Simulator`` instead of the shared
session one, and checks the result on the simulator's own state (``sim.tenant(...)``), not through ccsync.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from toolkit.apply import ApplyOptions
from toolkit.apply.clock import SimulatedClock
from toolkit.export import export_tenant
from toolkit.frames import DOMAINS, USERS, TenantData, conform
from toolkit.graph import GraphClient, RetryPolicy, WritePacer
from toolkit.plan.planner import PlanOptions, plan_sync
from toolkit.plan.rules import parse_mapping

CONTOSO = "f78a1d87-6c6a-551d-9a2d-2868c0bcaf9d"       # commercial (source of the demo pair)
FABRIKAM = "630001af-a570-5cab-abf5-2e9d77c5349f"      # gcch (target)
LINK_ATTR = "extensionAttribute15"


def profile(sim: Any, tenant_id: str) -> Any:
    return next(p for p in sim.profiles() if p.tenant == tenant_id and "reader" not in p.name)


def client(sim: Any, tenant_id: str = FABRIKAM, *, scale: float | None = None, fast_retry: bool = True,
           **kwargs: Any) -> GraphClient:
    """A GraphClient for a simulated tenant; ``scale`` shrinks the pacer's quota windows like the simulator's."""
    prof = profile(sim, tenant_id)
    if scale is not None:
        kwargs.setdefault("pacer", WritePacer.scaled(scale))
    if fast_retry:
        kwargs.setdefault("retry", RetryPolicy(base=0.05, cap=0.5, max_attempts=8))
    return GraphClient.from_profile(prof, secret=sim.secret_for(tenant_id), **kwargs)


def sim_time(**options: Any) -> ApplyOptions:
    """ApplyOptions whose run reads a SimulatedClock: the executor's own waits (follow-ups after a create,
    look-ups of an unknown create, requeues) take no real time. Not for a test that waits out the simulator's
    replication lag, which is real time."""
    return ApplyOptions(clock=SimulatedClock(), **options)


def source_user(i: int, **extra: Any) -> dict[str, Any]:
    row = {"id": f"00000000-0000-4000-8000-{i:012d}", "userPrincipalName": f"user{i:05d}@contoso.com",
           "mail": f"user{i:05d}@contoso.com", "mailNickname": f"user{i:05d}", "displayName": f"User {i:05d}",
           "givenName": "User", "surname": f"{i:05d}", "department": "Sales", "jobTitle": "Engineer",
           "usageLocation": "US", "accountEnabled": True, "userType": "Member", "creationType": None}
    row.update(extra)
    return row


def source_tenant(users: list[dict[str, Any]]) -> TenantData:
    """A synthetic Contoso (commercial) whose users are all in scope (no scoping groups)."""
    domains = [{"id": "contoso.com", "isVerified": True, "isInitial": False},
               {"id": "contoso.onmicrosoft.com", "isVerified": True, "isInitial": True}]
    return TenantData(CONTOSO, "commercial", "Contoso", "2026-11-26T10:00:00Z", users=conform(users, USERS),
                      domains=conform(domains, DOMAINS))


def export_target(sim: Any, tenant_id: str = FABRIKAM, cloud: str = "gcch") -> TenantData:
    data = export_tenant(client(sim, tenant_id, pacer=None), cloud=cloud)
    # The synthetic source carries no export time of the same day; keep plans reproducible.
    return replace(data, exported_at="2026-11-26T10:00:00Z")


def mapping_with_usage_location() -> Any:
    """The default mapping plus usageLocation (licences need it)."""
    from importlib import resources

    text = resources.files("toolkit").joinpath("data", "default-mapping.map").read_text(encoding="utf-8")
    return parse_mapping(text + "\nusageLocation = [usageLocation]\n", "test-mapping.map")


def make_plan(sim: Any, source: TenantData, **options: Any) -> Any:
    options.setdefault("check_licences", False)
    mapping = options.pop("mapping", None)
    return plan_sync(source, export_target(sim), mapping=mapping, options=PlanOptions(**options))


def linked_users(sim: Any, tenant_id: str = FABRIKAM) -> dict[str, list[dict[str, Any]]]:
    """Active target users by the link value they carry (a list: more than one would be a duplicate)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for user in sim.tenant(tenant_id).users.values():
        link = (user.get("onPremisesExtensionAttributes") or {}).get(LINK_ATTR)
        if link:
            out.setdefault(link, []).append(user)
    return out


def link_of(i: int) -> str:
    return f"ccsync:{CONTOSO}:{source_user(i)['id']}"
