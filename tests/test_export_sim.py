"""Export over loopback HTTPS from the simulator: call counts, no per-user calls, snapshot round trip."""

from __future__ import annotations

import copy
import math
import uuid

import pandas as pd
import pytest

from toolkit.errors import InputError
from toolkit.export import PAGE_SIZE, export_tenant, load_tenant
from toolkit.frames import FRAMES
from toolkit.graph import GraphClient
from toolkit.simulator import SimConfig, Simulator
from toolkit.simulator.generate import generate_tenant

N_USERS = 2100          # three pages of 999


@pytest.fixture(scope="module")
def seed():
    doc = generate_tenant(N_USERS, "gcch", seed=3)
    # a second group with the same display name, to test ambiguity
    twin = copy.deepcopy(next(g for g in doc["groups"] if g["displayName"] == "Dept-Sales"))
    twin.update(id=str(uuid.UUID(int=7)), members=[], assignedLicenses=[])
    doc["groups"].append(twin)
    return doc


@pytest.fixture(scope="module")
def sim(seed):
    with Simulator(SimConfig(seed_dir=None, seeds=[seed])) as running:
        yield running


def client_for(sim, seed) -> GraphClient:
    tid = seed["organization"]["id"]
    profile = next(p for p in sim.profiles() if p.tenant == tid)
    return GraphClient.from_profile(profile, secret=sim.secret_for(tid))


def test_export_reads_users_with_licences_in_pages_of_999(sim, seed, tmp_path):
    client = client_for(sim, seed)
    data = export_tenant(client, groups=["CCS-Sync-Scope"], cloud="gcch", out_dir=tmp_path / "snap")
    pages = data.stats["pages"]
    assert len(data.users) == N_USERS
    assert pages["users"] == math.ceil(N_USERS / PAGE_SIZE)
    scope = next(g for g in seed["groups"] if g["displayName"] == "CCS-Sync-Scope")
    assert pages[f"group-members/{scope['id']}"] == max(1, math.ceil(len(scope["members"]) / PAGE_SIZE))
    calls = data.stats["graph"]
    expected = (1 + 1 + 1 + pages["users"] + pages["groups"] + pages[f"group-members/{scope['id']}"]
                + pages.get("groupNames", 0) + pages["directoryGroups"] + pages["contacts"])
    assert calls["requests"] == expected          # nothing per user: 2,100 users in about ten calls
    assert calls["requests"] < 15
    assert set(data.group_members.memberId) == set(scope["members"])


def test_export_matches_the_simulated_directory(sim, seed):
    data = export_tenant(client_for(sim, seed), cloud="gcch")
    la = data.license_assignments
    lic_group = next(g for g in seed["groups"] if g["displayName"] == "LIC-Entra-ID-Governance")
    group_rows = la[la.source == "group"]
    assert len(group_rows) > 0
    assert set(group_rows.assignedByGroupName) == {"LIC-Entra-ID-Governance"}
    assert set(group_rows.assignedByGroup) == {lic_group["id"]}
    direct_seeded = sum(len(u.get("assignedLicenses", [])) for u in seed["users"])
    assert (la.source == "direct").sum() == direct_seeded
    assert set(data.skus.skuPartNumber) == {s["skuPartNumber"] for s in seed["subscribedSkus"]}
    assert data.tenant_id == seed["organization"]["id"]
    # errors the simulator derives (CountViolation, forced errors) are carried through
    assert la.state.isin(["Active", "Error", "ActiveWithError", "Disabled"]).all()
    assert not data.user_service_plans.empty


def test_snapshot_from_simulator_round_trips(sim, seed, tmp_path):
    data = export_tenant(client_for(sim, seed), groups=["CCS-Sync-Scope"], cloud="gcch", out_dir=tmp_path / "s")
    loaded = load_tenant(tmp_path / "s")
    for name in FRAMES:
        pd.testing.assert_frame_equal(getattr(loaded, name), getattr(data, name))
    assert loaded.stats["graphCalls"]["requests"] == data.stats["graph"]["requests"]


def test_group_by_id(sim, seed):
    scope = next(g for g in seed["groups"] if g["displayName"] == "CCS-Sync-Pilot")
    data = export_tenant(client_for(sim, seed), groups=[scope["id"]], cloud="gcch")
    assert set(data.group_members.groupDisplayName) == {"CCS-Sync-Pilot"}


@pytest.mark.parametrize("group, needle", [("No Such Group", "no group named 'No Such Group'"),
                                           ("Dept-Sales", "2 groups are named 'Dept-Sales'"),
                                           (str(uuid.UUID(int=99)), "no group with id")])
def test_unknown_or_ambiguous_group_is_an_input_error(sim, seed, group, needle):
    with pytest.raises(InputError, match=needle):
        export_tenant(client_for(sim, seed), groups=[group], cloud="gcch")
