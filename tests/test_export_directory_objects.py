"""Exports carry the target's contacts and the groups that hold addresses or refuse member adds, so plans can
check invited addresses and --target-group against them (live exports and snapshots alike)."""

from __future__ import annotations

from toolkit.export import export_tenant, load_tenant
from toolkit.frames import DOMAINS, USERS, TenantData, conform
from toolkit.graph import GraphClient
from toolkit.plan.planner import PlanOptions, plan_sync
from toolkit.simulator import SimConfig, Simulator

from conftest import SEED_TENANT
from test_sim_strictness import DL, DYNAMIC, _seed


def test_contacts_and_special_groups_reach_the_plan_from_a_live_export_and_a_snapshot(tmp_path):
    seed = _seed()
    with Simulator(SimConfig(seed_dir=None, seeds=[seed])) as sim:
        profile = next(p for p in sim.profiles() if p.tenant == SEED_TENANT and "ccsync" in p.name)
        client = GraphClient.from_profile(profile, secret=sim.secret_for(SEED_TENANT))
        live = export_tenant(client, cloud="commercial", out_dir=tmp_path / "snap")
    saved = load_tenant(tmp_path / "snap")
    source = TenantData("11111111-1111-4111-8111-111111111111", "commercial", "Src", live.exported_at,
                        users=conform([{"id": "s1", "userPrincipalName": "jane@partner.example",
                                        "mail": "jane@partner.example", "displayName": "Jane",
                                        "accountEnabled": True, "userType": "Member"}], USERS),
                        domains=conform([{"id": "partner.example", "isVerified": True}], DOMAINS))
    for target in (live, saved):
        kinds = {(o["kind"], o["id"]) for o in target.directory_objects}
        assert ("contact", "cccccccc-0000-4000-8000-000000000001") in kinds
        assert ("group", DL) in kinds and ("group", DYNAMIC) in kinds
        plan = plan_sync(source, target, options=PlanOptions(check_licences=False))
        [op] = plan.ops.itertuples()
        assert op.kind == "conflict" and "contact Jane Partner" in op.reason
