"""Load a tenant without calling Graph: from a snapshot folder, or from Graph JSON an admin saved elsewhere.

Accepted sources:

* a snapshot folder (has ``manifest.json``): every file's sha256 is checked against the manifest; Graph JSON is the
  source of truth, Parquet a cache used when it matches the manifest (otherwise the frames are rebuilt from the
  JSON and a warning says so);
* a folder of saved Graph JSON: ``users``, ``subscribedSkus``, ``domains``, ``organization``, ``groups``
  (``.json``, ``.jsonl`` or ``.ndjson``; numbered pages such as ``users-2.json`` are concatenated) and
  ``group-members/<groupId>.json``, either directly in the folder or in its ``graph/`` subfolder;
* a single file: the users.

Each file may be a collection ``{"value": [...]}``, a bare array, JSON lines (one object, or one page, per line),
or a single object; UTF-8 (with or without BOM) and UTF-16 with BOM (Windows PowerShell's ``Out-File``) are read.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..frames import FRAMES, TenantData, conform
from ..textfile import check_depth, read_text_file
from .build import build_tenant_data
from .raw import RawTenant
from .snapshot import MANIFEST, SNAPSHOT_FORMAT, frame_from_parquet, sha256_file

__all__ = ["load_tenant", "load_raw", "read_graph_json", "is_snapshot", "infer_cloud", "graph_hosts"]

_COLLECTIONS = ("users", "subscribedSkus", "domains", "organization", "groups", "contacts")
_SUFFIXES = (".json", ".jsonl", ".ndjson")
_REEXPORT = "Re-export the tenant with 'ccsync export --out DIR'."


def is_snapshot(path: str | os.PathLike[str]) -> bool:
    return (Path(path) / MANIFEST).is_file()


def load_tenant(source: str | os.PathLike[str], *, cloud: str | None = None,
                tenant_id: str | None = None) -> TenantData:
    """TenantData from a snapshot folder, a folder of saved Graph JSON, a users JSON file, or Export-Clixml
    files of Get-MgUser / Get-MgSubscribedSku (a .xml file or a folder of them)."""
    path = Path(source).expanduser()
    if not path.exists():
        raise InputError(f"{path} does not exist.", source=str(path),
                         hint="Give a snapshot folder, a folder of Graph JSON files, or a users JSON file.")
    if path.is_dir() and is_snapshot(path):
        return _unique_user_ids(_load_snapshot(path, cloud=cloud, tenant_id=tenant_id), path)
    from .clixml import is_clixml_source, load_clixml_tenant  # Export-Clixml files (PowerShell)
    if is_clixml_source(path):
        return _unique_user_ids(load_clixml_tenant(path, cloud=cloud, tenant_id=tenant_id), path)
    if path.is_dir() and (path / "graph").is_dir() and (path / "parquet").is_dir():
        raise InputError(f"{path} looks like a snapshot but has no {MANIFEST}, so its files cannot be verified.",
                         source=str(path / MANIFEST),
                         hint=f"{_REEXPORT} To read its Graph JSON unverified, load {path / 'graph'} instead.")
    return _unique_user_ids(build_tenant_data(load_raw(path, cloud=cloud, tenant_id=tenant_id)), path)


def load_raw(source: str | os.PathLike[str], *, cloud: str | None = None,
             tenant_id: str | None = None) -> RawTenant:
    """RawTenant from a folder of saved Graph JSON or a single users file (no manifest involved)."""
    path = Path(source).expanduser()
    warnings: list[str] = []
    if path.is_file():
        found: dict[str, list[Path]] = {"users": [path]}
        members_dir = None
    else:
        base = path / "graph" if (path / "graph").is_dir() else path
        found = _find_collections(base)
        members_dir = base / "group-members"
        if "users" not in found:
            raise InputError(f"no users JSON found in {base}.", source=str(base),
                             hint="Save GET /users (with $select including licenseAssignmentStates) as users.json, "
                                  "or give the file itself.")
    lists = {name: [item for p in paths for item in read_graph_json(p, warnings)] for name, paths in found.items()}
    members: dict[str, list[dict[str, Any]]] = {}
    if members_dir is not None and members_dir.is_dir():
        for p in sorted(members_dir.iterdir()):
            if p.suffix.lower() in _SUFFIXES:
                members[p.stem] = read_graph_json(p, warnings)
    organization = lists.get("organization", [])
    org_id = str(organization[0].get("id")) if organization and organization[0].get("id") else None
    if tenant_id and org_id and tenant_id.lower() != org_id.lower():
        raise InputError(f"tenant {tenant_id} was asked for, but the organization JSON is tenant {org_id}.",
                         source=str(found["organization"][0]), hint="Load the files of the right tenant.")
    return RawTenant(tenant_id=tenant_id or org_id or "",
                     cloud=cloud or infer_cloud([p for paths in found.values() for p in paths]) or "unknown",
                     fetched_at=_modified_at(found["users"][0]), users=lists["users"],
                     subscribed_skus=lists.get("subscribedSkus"), domains=lists.get("domains"),
                     organization=organization, groups=lists.get("groups", []),
                     contacts=lists.get("contacts", []),
                     scoping_group_ids=list(members), group_members=members,
                     stats={"warnings": warnings, "files": {k: [str(p) for p in v] for k, v in found.items()}},
                     source="json")


def _find_collections(folder: Path) -> dict[str, list[Path]]:
    found: dict[str, list[Path]] = {}
    files = sorted((p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in _SUFFIXES),
                   key=lambda p: (p.stem.lower(), _page_number(p.stem)))
    for name in _COLLECTIONS:
        pattern = re.compile(rf"^{name}(?:[-_. ]?\(?(\d+)\)?)?$", re.IGNORECASE)
        matches = [p for p in files if pattern.match(p.stem)]
        if matches:
            found[name] = sorted(matches, key=lambda p: _page_number(p.stem))
    return found


def _page_number(stem: str) -> int:
    digits = re.findall(r"\d+", stem)
    return int(digits[-1]) if digits else 0


def _modified_at(path: Path) -> str:
    from datetime import datetime, timezone
    return datetime.fromtimestamp(path.stat().st_mtime, timezone.utc).isoformat().replace("+00:00", "Z")


def read_graph_json(path: str | os.PathLike[str], warnings: list[str] | None = None) -> list[dict[str, Any]]:
    """The objects in one saved Graph JSON file (collection, bare array, JSON lines or a single object)."""
    path = Path(path)
    text = _read_text(path)
    if not text.strip():
        raise InputError("the file is empty.", source=str(path),
                         hint="Save the Graph response again; an empty tenant is saved as {\"value\": []}.")
    try:
        doc = json.loads(text)
    except RecursionError:
        raise _too_deep(path) from None
    except json.JSONDecodeError as exc:
        if exc.msg != "Extra data":
            raise InputError(f"not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}.",
                             source=str(path), row=exc.lineno,
                             hint="Save the Graph response again, unchanged.") from exc
        return _json_lines(path, text, warnings)
    check_depth(doc, str(path), what="Graph JSON file")
    return _items(doc, path, None, warnings)


def _json_lines(path: Path, text: str, warnings: list[str] | None) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
        except RecursionError:
            raise _too_deep(path) from None
        except json.JSONDecodeError as exc:
            raise InputError(f"JSON lines: line {number} is not valid JSON ({exc.msg}, column {exc.colno}).",
                             source=str(path), row=number,
                             hint="Each line must hold one Graph object or one page {\"value\": [...]}.") from exc
        check_depth(doc, str(path), what="Graph JSON file")
        items.extend(_items(doc, path, number, warnings))
    return items


def _items(doc: Any, path: Path, line: int | None, warnings: list[str] | None) -> list[dict[str, Any]]:
    if isinstance(doc, dict) and isinstance(doc.get("value"), list):
        if doc.get("@odata.nextLink") and warnings is not None:
            warnings.append(f"{path}: the saved page has an @odata.nextLink, so later pages are missing; "
                            "save every page (or use 'ccsync export').")
        items = doc["value"]
    elif isinstance(doc, list):
        items = doc
    elif isinstance(doc, dict):
        items = [doc]
    else:
        raise InputError(f"expected a JSON object or array, found {type(doc).__name__}.", source=str(path), row=line,
                         hint="Save the Graph response ({\"value\": [...]}) unchanged.")
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise InputError(f"item #{i + 1} is a {type(item).__name__}, not a JSON object.", source=str(path),
                             row=line if line is not None else i + 1,
                             hint="Save the Graph response ({\"value\": [...]}) unchanged.")
    return items


def _read_text(path: Path) -> str:
    # UTF-8 (BOM or not), UTF-16/32 with a BOM; errors name the file, line and column (toolkit.textfile).
    return read_text_file(path, what="JSON file")


def _too_deep(path: Path) -> InputError:
    return InputError("the JSON nests too deeply to be read.", source=str(path),
                      hint="Save the Graph response again, unchanged.")


def _unique_user_ids(data: TenantData, source: Path) -> TenantData:
    """Two users with one id cannot both be real: the file was edited or merged by hand. Refused, not guessed."""
    ids = data.users["id"] if "id" in data.users.columns else None
    if ids is not None and len(ids):
        dup = ids[ids.duplicated(keep=False) & ids.notna()]
        if len(dup):
            shown = ", ".join(sorted(set(map(str, dup)))[:5])
            raise InputError(f"{dup.nunique()} user id(s) appear more than once: {shown}.", source=str(source),
                             field="id", hint="Each user must appear once; export the tenant again.")
    return data


# -- snapshots -------------------------------------------------------------------------------------------------------

def _load_snapshot(folder: Path, *, cloud: str | None, tenant_id: str | None) -> TenantData:
    manifest = _read_manifest(folder)
    _check_manifest(folder, manifest)
    files: dict[str, dict[str, Any]] = manifest.get("files") or {}
    if tenant_id and manifest.get("tenantId") and tenant_id.lower() != str(manifest["tenantId"]).lower():
        raise InputError(f"tenant {tenant_id} was asked for, but the snapshot is of tenant {manifest['tenantId']}.",
                         source=str(folder / MANIFEST), hint="Load the snapshot of the right tenant.")
    for rel, meta in files.items():
        if rel.startswith("graph/"):
            _verify(folder, rel, meta)
    _check_organization(folder, manifest)
    warnings: list[str] = []
    frames = _cached_frames(folder, files, warnings)
    if frames is None:
        raw = _raw_from_snapshot(folder, manifest, cloud)
        data = build_tenant_data(raw)
        data.stats["warnings"] = warnings + data.stats.get("warnings", [])
    else:
        organization = read_graph_json(folder / "graph/organization.json") \
            if (folder / "graph/organization.json").is_file() else []
        data = TenantData(tenant_id=str(manifest.get("tenantId") or ""), cloud=cloud or manifest.get("cloud") or "unknown",
                          display_name=str(manifest.get("displayName") or ""),
                          exported_at=str(manifest.get("exportedAt") or ""),
                          organization=dict(organization[0]) if organization else {}, **frames)
        data.stats = {"source": "snapshot", "warnings": list(manifest.get("warnings", [])) + warnings}
        data.directory_objects = _snapshot_directory_objects(folder)
    data.stats.update({"snapshot": str(folder), "graphCalls": manifest.get("graphCalls", {}),
                       "toolkitVersion": manifest.get("toolkitVersion")})
    return data


def _read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    try:
        manifest = json.loads(_read_text(path))
        check_depth(manifest, str(path), what="snapshot manifest")
    except RecursionError:
        raise _too_deep(path) from None
    except json.JSONDecodeError as exc:
        raise InputError(f"the snapshot manifest is corrupt (line {exc.lineno}: {exc.msg}).", source=str(path),
                         hint=_REEXPORT) from exc
    if not isinstance(manifest, dict) or manifest.get("format") != SNAPSHOT_FORMAT:
        raise InputError(f"not a ccsync snapshot manifest (format {manifest.get('format')!r} "
                         f"where {SNAPSHOT_FORMAT!r} was expected)." if isinstance(manifest, dict)
                         else "not a ccsync snapshot manifest.", source=str(path), hint=_REEXPORT)
    return manifest


def _check_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    """The manifest's shape, and every file in graph/ and parquet/ listed in it (an unlisted file could not be
    verified, so it is refused rather than read or silently ignored)."""
    path = str(folder / MANIFEST)
    files = manifest.get("files")
    if not isinstance(files, dict) or not all(isinstance(m, dict) for m in files.values()):
        raise InputError("the manifest's 'files' is not an object of file entries.", source=path, field="files",
                         hint=_REEXPORT)
    for rel in files:
        parts = rel.split("/")
        if (rel.startswith("/") or "\\" in rel or ".." in parts or parts[0] not in ("graph", "parquet")
                or "" in parts):
            raise InputError(f"the manifest lists {rel!r}, which is not a file inside graph/ or parquet/.",
                             source=path, field="files", hint=_REEXPORT)
    for key, kind in (("scopingGroupIds", list), ("counts", dict), ("warnings", list)):
        if key in manifest and not isinstance(manifest[key], kind):
            raise InputError(f"the manifest's '{key}' is not a JSON {kind.__name__.replace('dict', 'object')}.",
                             source=path, field=key, hint=_REEXPORT)
    for gid in manifest.get("scopingGroupIds") or []:
        if not isinstance(gid, str) or f"graph/group-members/{gid}.json" not in files:
            raise InputError(f"scoping group {gid!r} has no members file listed in the manifest.", source=path,
                             field="scopingGroupIds", hint=_REEXPORT)
    for sub in ("graph", "parquet"):
        root = folder / sub
        if not root.is_dir():
            continue
        for file in root.rglob("*"):
            rel = file.relative_to(folder).as_posix()
            if (file.is_file() or file.is_symlink()) and rel not in files:
                raise InputError("this file is in the snapshot but not in its manifest, so it cannot be verified.",
                                 source=str(file), hint=f"Remove the file, or {_REEXPORT[0].lower()}{_REEXPORT[1:]}")


def _check_organization(folder: Path, manifest: dict[str, Any]) -> None:
    """The manifest's tenant must be the tenant its organization JSON describes."""
    if "graph/organization.json" not in (manifest.get("files") or {}):
        return
    org = read_graph_json(folder / "graph/organization.json")
    org_id = str(org[0].get("id") or "") if org else ""
    tenant = str(manifest.get("tenantId") or "")
    if org_id and tenant.lower() != org_id.lower():
        raise InputError(f"the manifest says tenant {tenant or '(none)'}, but its organization JSON is tenant "
                         f"{org_id}.", source=str(folder / MANIFEST), field="tenantId", hint=_REEXPORT)


def _verify(folder: Path, rel: str, meta: dict[str, Any]) -> bool:
    path = folder / rel
    if not path.is_file():
        raise InputError("the snapshot file is missing.", source=str(path), hint=_REEXPORT)
    if sha256_file(path) != meta.get("sha256"):
        raise InputError("the snapshot file was changed or is corrupt (its sha256 differs from the manifest).",
                         source=str(path), hint=_REEXPORT)
    return True


def _cached_frames(folder: Path, files: dict[str, dict[str, Any]], warnings: list[str]) -> dict[str, Any] | None:
    """The frames from Parquet when every file matches the manifest; None (and a warning) otherwise."""
    frames = {}
    for name, spec in FRAMES.items():
        rel = f"parquet/{name}.parquet"
        meta = files.get(rel)
        path = folder / rel
        reason = None
        if meta is None:
            reason = "is not in the manifest"
        elif not path.is_file():
            reason = "is missing"
        elif sha256_file(path) != meta.get("sha256"):
            reason = "does not match the manifest"
        else:
            try:
                frame = frame_from_parquet(path)
            except Exception as exc:  # pyarrow raises several types for a damaged file
                reason = f"cannot be read ({type(exc).__name__})"
            else:
                if len(frame) != meta.get("rows"):
                    reason = "has a different row count than the manifest"
                else:
                    frames[name] = conform(frame, spec)
                    continue
        warnings.append(f"{path} {reason}; the frames were rebuilt from the snapshot's Graph JSON.")
        return None
    return frames


def _raw_from_snapshot(folder: Path, manifest: dict[str, Any], cloud: str | None) -> RawTenant:
    graph = folder / "graph"
    counts = (manifest.get("counts") or {}).get("graph") or {}

    listed = manifest.get("files") or {}

    def collection(name: str) -> list[dict[str, Any]] | None:
        path = graph / f"{name}.json"
        if f"graph/{name}.json" not in listed:      # only files the manifest vouches for are read
            return None
        items = read_graph_json(path)
        if name in counts and counts[name] != len(items):
            raise InputError(f"the file holds {len(items)} objects where the manifest says {counts[name]}.",
                             source=str(path), hint=_REEXPORT)
        return items

    members = {gid: collection(f"group-members/{gid}") or [] for gid in manifest.get("scopingGroupIds", [])}
    users = collection("users") or []
    return RawTenant(tenant_id=str(manifest.get("tenantId") or ""), cloud=cloud or manifest.get("cloud") or "unknown",
                     fetched_at=str(manifest.get("exportedAt") or ""), users=users,
                     subscribed_skus=collection("subscribedSkus"), domains=collection("domains"),
                     organization=collection("organization") or [], groups=collection("groups") or [],
                     contacts=collection("contacts") or [],
                     scoping_group_ids=list(members), group_members=members, source="snapshot")


def _snapshot_directory_objects(folder: Path) -> list[dict[str, Any]]:
    """Contacts and special groups of a snapshot (verified files), for the Parquet path (no RawTenant built)."""
    from .build import build_directory_objects

    def read(name: str) -> list[dict[str, Any]]:
        path = folder / "graph" / f"{name}.json"
        return read_graph_json(path) if path.is_file() else []
    return build_directory_objects(read("groups"), read("contacts"))


# --- which cloud saved Graph JSON came from ------------------------------------------------------------------

_GRAPH_URL = re.compile(r'"@odata\.(?:context|nextLink|deltaLink)"\s*:\s*"https://([^/"]+)/(?:v1\.0|beta)/')
_HEAD = 256 * 1024        # the annotations sit at the top of each page; no need to read whole files


def graph_hosts(paths: list[Path]) -> set[str]:
    """Graph hosts named by the ``@odata.context`` / ``@odata.nextLink`` annotations of saved Graph JSON."""
    hosts: set[str] = set()
    for path in paths:
        try:
            with open(path, "rb") as fh:
                head = fh.read(_HEAD)
        except OSError:
            continue
        for enc in ("utf-8-sig", "utf-16"):
            try:
                text = head.decode(enc)
            except UnicodeDecodeError:
                continue
            if "@odata" in text:
                hosts.update(h.lower() for h in _GRAPH_URL.findall(text))
                break
    return hosts


def infer_cloud(paths: list[Path]) -> str | None:
    """The cloud saved Graph JSON came from, when its annotations tell it apart; else None.

    graph.microsoft.us is GCC High, dod-graph.microsoft.us DoD, microsoftgraph.chinacloudapi.cn China;
    graph.microsoft.com serves both commercial and GCC, so it decides nothing (the admin names the cloud).
    """
    from ..clouds import clouds_for_graph_host

    found = {tuple(clouds_for_graph_host(h)) for h in graph_hosts(paths)}
    found.discard(())
    if len(found) == 1:
        (clouds,) = found
        return clouds[0] if len(clouds) == 1 else None
    return None
