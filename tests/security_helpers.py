"""Shared inputs of the issue-15 security tests (no tests here): a pair of snapshots to plan from."""

from __future__ import annotations

from pathlib import Path

from toolkit.export import write_snapshot
from toolkit.export.build import build_tenant_data
from toolkit.export.raw import RawTenant

SOURCE_TID = "11111111-1111-4111-8111-111111111111"
TARGET_TID = "22222222-2222-4222-8222-222222222222"


def source_users(n: int = 3) -> list[dict]:
    return [{"id": f"s{i}", "userPrincipalName": f"user{i}@contoso.com", "mail": f"user{i}@contoso.com",
             "displayName": f"User {i}", "accountEnabled": True, "userType": "Member", "department": "Sales"}
            for i in range(n)]


def linked_target_users(n: int = 3) -> list[dict]:
    return [{"id": f"t{i}", "userPrincipalName": f"user{i}_contoso.com#EXT#@fabrikam.onmicrosoft.com",
             "mail": f"user{i}@contoso.com", "displayName": f"User {i}", "accountEnabled": True,
             "userType": "Member", "creationType": "Invitation", "department": "Sales",
             "onPremisesExtensionAttributes": {"extensionAttribute15": f"ccsync:{SOURCE_TID}:s{i}"}}
            for i in range(n)]


def snapshot(folder: Path, tid: str, name: str, domain: str, users: list[dict], cloud: str = "commercial") -> Path:
    raw = RawTenant(tenant_id=tid, cloud=cloud, fetched_at="2026-11-26T10:00:00Z", users=users,
                    subscribed_skus=[], domains=[{"id": domain, "isVerified": True, "isDefault": True,
                                                  "isInitial": False}],
                    organization=[{"id": tid, "displayName": name}], groups=[], group_members={},
                    scoping_group_ids=[])
    return write_snapshot(raw, build_tenant_data(raw), folder)


def write_pair(tmp_path: Path, *, linked: int = 0) -> tuple[Path, Path]:
    """A Contoso source snapshot (3 users) and a Fabrikam target snapshot (``linked`` users ccsync created)."""
    src = snapshot(tmp_path / "src", SOURCE_TID, "Contoso", "contoso.com", source_users())
    tgt = snapshot(tmp_path / "tgt", TARGET_TID, "Fabrikam", "fabrikam.com", linked_target_users(linked))
    return src, tgt
