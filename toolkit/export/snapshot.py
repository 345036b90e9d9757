"""Snapshot folders: Graph's own JSON (the source of truth), Parquet of every frame (a cache), and a manifest.

Layout::

    DIR/manifest.json                       format, tenant, cloud, exportedAt, counts, sha256 per file, call stats
    DIR/graph/users.json                    {"value": [...]}: Graph's objects as returned, pages concatenated
    DIR/graph/subscribedSkus.json, domains.json, organization.json, groups.json
    DIR/graph/group-members/<groupId>.json  direct members of each scoping group
    DIR/parquet/<frame>.parquet             every frame of toolkit.frames.FRAMES

The folder is written into a temporary sibling and renamed into place, so an interrupted export leaves no half
snapshot. Nothing secret is written: only Graph payloads, counts and call statistics.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .. import __version__
from ..errors import InputError
from ..frames import TenantData
from .raw import RawTenant

__all__ = ["write_snapshot", "SNAPSHOT_FORMAT", "MANIFEST", "frame_to_parquet", "frame_from_parquet"]

SNAPSHOT_FORMAT = "ccsync-snapshot/1"
MANIFEST = "manifest.json"
# Parquet metadata key listing object columns stored as JSON text (dicts do not survive Parquet structs exactly).
_JSON_COLUMNS_KEY = b"ccsync.json_columns"


def write_snapshot(raw: RawTenant, data: TenantData, out_dir: str | os.PathLike[str], *,
                   overwrite: bool = False) -> Path:
    """Write a snapshot folder at ``out_dir`` atomically and return its path.

    An existing non-empty ``out_dir`` is an InputError unless ``overwrite`` is true, in which case it is replaced
    only after the new snapshot is complete.
    """
    from ..writefile import check_output_dir, output_error

    target = check_output_dir(Path(out_dir).expanduser().absolute())
    if target.is_dir() and any(target.iterdir()) and not overwrite:
        raise InputError(f"{target} already exists and is not empty.",
                         hint="Choose a new --out folder, or pass --overwrite to replace it.")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        # mkdtemp makes the folder 0700: the snapshot names users, and stays private once renamed into place.
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    except OSError as exc:
        raise output_error(exc, target) from exc
    try:
        files = _write_graph_json(raw, staging)
        frame_files = {}
        for name, frame in data.frames().items():
            rel = f"parquet/{name}.parquet"
            frame_to_parquet(frame, staging / rel)
            frame_files[rel] = {"frame": name, "rows": int(len(frame))}
        manifest = {
            "format": SNAPSHOT_FORMAT,
            "toolkitVersion": __version__,
            "tenantId": raw.tenant_id,
            "displayName": raw.display_name,
            "cloud": raw.cloud,
            "exportedAt": raw.fetched_at,
            "scopingGroupIds": list(raw.scoping_group_ids),
            "counts": {"graph": raw.counts(), "frames": data.counts()},
            "files": {rel: {**meta, "sha256": sha256_file(staging / rel), "bytes": (staging / rel).stat().st_size}
                      for rel, meta in {**files, **frame_files}.items()},
            "graphCalls": raw.stats.get("graph", {}),
            "pages": raw.stats.get("pages", {}),
            "warnings": list(data.stats.get("warnings", [])),
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2, default=str), encoding="utf-8")
        _move_into_place(staging, target)
    except OSError as exc:
        raise output_error(exc, target) from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)      # gone after a successful rename; the leftovers otherwise
    return target


def _write_graph_json(raw: RawTenant, root: Path) -> dict[str, dict[str, Any]]:
    collections: dict[str, list[dict[str, Any]] | None] = {
        "users": raw.users, "subscribedSkus": raw.subscribed_skus, "domains": raw.domains,
        "organization": raw.organization, "groups": raw.groups}
    if raw.contacts:
        collections["contacts"] = raw.contacts
    for gid, members in raw.group_members.items():
        collections[f"group-members/{gid}"] = members
    files = {}
    for name, items in collections.items():
        if items is None:           # the input never had this collection; do not invent an empty one
            continue
        rel = f"graph/{name}.json"
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8") as fh:
            json.dump({"value": items}, fh, ensure_ascii=False, separators=(",", ":"))
        files[rel] = {"collection": name, "count": len(items)}
    return files


def _move_into_place(staging: Path, target: Path) -> None:
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.replace(target, old)
        try:
            os.replace(staging, target)
        except BaseException:
            os.replace(old, target)
            raise
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staging, target)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def frame_to_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Write a frame; object columns holding dicts go in as JSON text so they read back exactly."""
    path.parent.mkdir(parents=True, exist_ok=True)
    out = frame.copy()
    json_cols = [c for c in out.columns if out[c].dtype == object and any(isinstance(v, dict) for v in out[c])]
    for col in json_cols:
        out[col] = [None if v is None else json.dumps(v, ensure_ascii=False) for v in out[col]]
    table = pa.Table.from_pandas(out, preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta[_JSON_COLUMNS_KEY] = json.dumps(json_cols).encode()
    pq.write_table(table.replace_schema_metadata(meta), path)


def frame_from_parquet(path: Path) -> pd.DataFrame:
    """Read a frame written by ``frame_to_parquet``: JSON columns decoded, list columns back to Python lists."""
    table = pq.read_table(path)
    json_cols = json.loads((table.schema.metadata or {}).get(_JSON_COLUMNS_KEY, b"[]"))
    frame = table.to_pandas()
    for col in frame.columns:
        if col in json_cols:
            frame[col] = [None if v is None else json.loads(v) for v in frame[col]]
        elif frame[col].dtype == object:
            frame[col] = [v.tolist() if hasattr(v, "tolist") else v for v in frame[col]]
    return frame
