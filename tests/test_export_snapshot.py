"""Snapshots (write -> load round trip, integrity errors, atomic write) and loading Graph JSON saved elsewhere."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from test_export_build import SKU_E3, tenant
from toolkit.errors import InputError
from toolkit.export import build_tenant_data, load_tenant, read_graph_json, write_snapshot
from toolkit.export import snapshot as snapshot_module
from toolkit.frames import FRAMES


def written(tmp_path: Path) -> tuple[Path, object]:
    raw = tenant()
    data = build_tenant_data(raw)
    return write_snapshot(raw, data, tmp_path / "snap"), data


def assert_same(a, b) -> None:
    for name in FRAMES:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_like=False)
    assert (a.tenant_id, a.cloud, a.display_name) == (b.tenant_id, b.cloud, b.display_name)


def test_round_trip_equals(tmp_path):
    folder, data = written(tmp_path)
    loaded = load_tenant(folder)
    assert_same(loaded, data)
    assert loaded.stats["source"] == "snapshot"
    assert loaded.organization == {"id": "t-1", "displayName": "Contoso"}


def test_layout_and_manifest(tmp_path):
    folder, data = written(tmp_path)
    users = json.loads((folder / "graph/users.json").read_text())
    assert list(users) == ["value"] and len(users["value"]) == 4
    assert users["value"][0]["licenseAssignmentStates"][0]["skuId"] == SKU_E3   # Graph's JSON, as returned
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["tenantId"] == "t-1" and manifest["cloud"] == "commercial"
    assert manifest["displayName"] == "Contoso" and manifest["exportedAt"] == "2026-11-26T20:00:00Z"
    assert manifest["counts"]["frames"] == data.counts()
    assert manifest["counts"]["graph"]["users"] == 4
    assert manifest["toolkitVersion"]
    for rel, meta in manifest["files"].items():
        assert (folder / rel).is_file() and len(meta["sha256"]) == 64
    assert {f"parquet/{n}.parquet" for n in FRAMES} <= set(manifest["files"])
    assert (folder / "graph/group-members").is_dir()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]     # no staging left behind


def test_rebuild_from_json_equals_parquet(tmp_path):
    folder, data = written(tmp_path)
    (folder / "parquet/users.parquet").unlink()
    loaded = load_tenant(folder)
    assert_same(loaded, data)
    assert any("users.parquet is missing" in w and "rebuilt" in w for w in loaded.stats["warnings"])


def test_corrupt_graph_json_names_the_file(tmp_path):
    folder, _ = written(tmp_path)
    path = folder / "graph/users.json"
    path.write_text(path.read_text().replace("ada@", "eve@"))
    with pytest.raises(InputError, match=r"users\.json.*sha256.*re-export|users\.json.*Re-export") as err:
        load_tenant(folder)
    assert "users.json" in err.value.source


def test_missing_graph_json_names_the_file(tmp_path):
    folder, _ = written(tmp_path)
    (folder / "graph/subscribedSkus.json").unlink()
    with pytest.raises(InputError, match="missing") as err:
        load_tenant(folder)
    assert err.value.source.endswith("subscribedSkus.json")
    assert "Re-export" in str(err.value)


def test_corrupt_manifest(tmp_path):
    folder, _ = written(tmp_path)
    (folder / "manifest.json").write_text("{not json")
    with pytest.raises(InputError, match="manifest is corrupt"):
        load_tenant(folder)


def test_missing_manifest_says_what_to_do(tmp_path):
    folder, _ = written(tmp_path)
    (folder / "manifest.json").unlink()
    with pytest.raises(InputError, match="no manifest.json") as err:
        load_tenant(folder)
    assert "graph" in str(err.value)
    # the suggested way out works: the Graph JSON alone loads
    assert len(load_tenant(folder / "graph").users) == 4


def test_corrupt_parquet_falls_back_to_json(tmp_path):
    folder, data = written(tmp_path)
    (folder / "parquet/skus.parquet").write_bytes(b"PAR1 garbage")
    loaded = load_tenant(folder)
    assert_same(loaded, data)


def test_refuses_non_empty_target_unless_overwrite(tmp_path):
    folder, data = written(tmp_path)
    with pytest.raises(InputError, match="not empty"):
        write_snapshot(tenant(), data, folder)
    raw = tenant()
    raw.users = raw.users[:1]
    write_snapshot(raw, build_tenant_data(raw), folder, overwrite=True)
    assert len(load_tenant(folder).users) == 1


def test_interrupted_write_leaves_no_snapshot(tmp_path, monkeypatch):
    raw = tenant()
    data = build_tenant_data(raw)
    calls = {"n": 0}
    real = snapshot_module.frame_to_parquet

    def failing(frame, path):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk full")
        real(frame, path)

    monkeypatch.setattr(snapshot_module, "frame_to_parquet", failing)
    with pytest.raises(InputError, match="disk full"):      # an OSError becomes an Error: naming the path
        write_snapshot(raw, data, tmp_path / "snap")
    assert list(tmp_path.iterdir()) == []


def test_interrupted_overwrite_keeps_the_old_snapshot(tmp_path, monkeypatch):
    folder, data = written(tmp_path)

    def failing(frame, path):
        raise OSError("disk full")

    monkeypatch.setattr(snapshot_module, "frame_to_parquet", failing)
    with pytest.raises(InputError, match="disk full"):
        write_snapshot(tenant(), data, folder, overwrite=True)
    assert len(load_tenant(folder).users) == 4
    assert [p.name for p in tmp_path.iterdir()] == ["snap"]


def test_empty_tenant_round_trip(tmp_path):
    from toolkit.export import RawTenant
    raw = RawTenant("t-0", "gcch", "2026-01-01T00:00:00Z", users=[], subscribed_skus=[], domains=[])
    data = build_tenant_data(raw)
    assert_same(load_tenant(write_snapshot(raw, data, tmp_path / "empty")), data)


# -- Graph JSON saved elsewhere ---------------------------------------------------------------------------------------

def users_payload() -> list[dict]:
    return tenant().users


@pytest.mark.parametrize("shape", ["collection", "bare", "jsonl", "jsonl-pages", "utf16", "bom"])
def test_users_file_shapes(tmp_path, shape):
    users = users_payload()
    path = tmp_path / "users.json"
    if shape == "collection":
        path.write_text(json.dumps({"@odata.context": "x", "value": users}))
    elif shape == "bare":
        path.write_text(json.dumps(users))
    elif shape == "jsonl":
        path.write_text("\n".join(json.dumps(u) for u in users) + "\n")
    elif shape == "jsonl-pages":
        path.write_text(json.dumps({"value": users[:2]}) + "\n" + json.dumps({"value": users[2:]}) + "\n")
    elif shape == "utf16":
        path.write_bytes(json.dumps({"value": users}).encode("utf-16"))     # PowerShell 5.1 Out-File
    else:
        path.write_bytes(b"\xef\xbb\xbf" + json.dumps(users).encode())
    assert read_graph_json(path) == users
    data = load_tenant(path, cloud="commercial", tenant_id="t-1")
    assert len(data.users) == 4 and data.cloud == "commercial" and data.tenant_id == "t-1"
    assert data.license_assignments.skuPartNumber.isna().all()      # no subscribedSkus given


def test_folder_of_saved_json_with_pages(tmp_path):
    raw = tenant()
    (tmp_path / "users-1.json").write_text(json.dumps({"value": raw.users[:2]}))
    (tmp_path / "users-2.json").write_text(json.dumps({"value": raw.users[2:]}))
    (tmp_path / "subscribedSkus.json").write_text(json.dumps({"value": raw.subscribed_skus}))
    (tmp_path / "organization.json").write_text(json.dumps({"value": raw.organization}))
    (tmp_path / "groups.jsonl").write_text("\n".join(json.dumps(g) for g in raw.groups))
    data = load_tenant(tmp_path, cloud="commercial")
    expected = build_tenant_data(raw)
    assert data.tenant_id == "t-1"
    pd.testing.assert_frame_equal(data.license_assignments, expected.license_assignments)
    pd.testing.assert_frame_equal(data.user_service_plans, expected.user_service_plans)


def test_bad_json_line_is_named(tmp_path):
    path = tmp_path / "users.jsonl"
    path.write_text('{"id": "a"}\n{"id": "b"}\n{"id": oops}\n')
    with pytest.raises(InputError, match="line 3") as err:
        load_tenant(path)
    assert err.value.row == 3 and err.value.source == str(path)


def test_broken_json_names_line_and_column(tmp_path):
    path = tmp_path / "users.json"
    path.write_text('{"value": [\n  {"id": "a",}\n]}')
    with pytest.raises(InputError, match="line 2"):
        load_tenant(path)


@pytest.mark.parametrize("content, needle", [("", "empty"), ("42", "object or array"), ("[1, 2]", "item #1")])
def test_unusable_files(tmp_path, content, needle):
    path = tmp_path / "users.json"
    path.write_text(content)
    with pytest.raises(InputError, match=needle):
        load_tenant(path)


def test_first_page_only_is_warned(tmp_path):
    path = tmp_path / "users.json"
    path.write_text(json.dumps({"value": users_payload(), "@odata.nextLink": "https://graph.microsoft.com/v1.0/x"}))
    data = load_tenant(path)
    assert any("nextLink" in w for w in data.stats["warnings"])


def test_missing_source_and_folder_without_users(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        load_tenant(tmp_path / "nope")
    (tmp_path / "domains.json").write_text("[]")
    with pytest.raises(InputError, match="no users JSON"):
        load_tenant(tmp_path)


def test_tenant_mismatch_is_refused(tmp_path):
    folder, _ = written(tmp_path)
    with pytest.raises(InputError, match="snapshot is of tenant t-1"):
        load_tenant(folder, tenant_id="other")
