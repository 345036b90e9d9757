"""Opening a tenant for a command: a snapshot or saved Graph JSON on disk, or a live export through a profile."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Sequence

from .output import info, state


def open_tenant(ref: str, *, groups: Sequence[str] = (), role: str = "tenant", cloud: str | None = None,
                cloud_flag: str = "--source-cloud") -> Any:
    """TenantData for ``ref``: an existing path is read offline; anything else names a profile to export live.

    A path wins over a profile of the same name, so an offline run never signs in by surprise. ``cloud`` (the
    command's ``cloud_flag``) names the cloud of saved Graph JSON, which ccsync otherwise infers from the Graph
    host in its ``@odata`` annotations; when neither tells, the error names the flag to add.
    """
    from toolkit.clouds import CLOUDS, get_cloud
    from toolkit.errors import InputError
    from toolkit.export import export_tenant, load_tenant

    path = Path(ref).expanduser()
    if path.exists():
        info(f"Reading the {role} from {path}")
        data = load_tenant(path, cloud=get_cloud(cloud).name if cloud else None)
        if data.cloud not in CLOUDS:
            from toolkit.export.load import graph_hosts

            hosts = sorted(graph_hosts([p for p in ([path] if path.is_file() else path.rglob("*.json*"))]))
            seen = f" (its Graph host {', '.join(hosts)} serves more than one cloud)" if hosts else ""
            raise InputError(f"cannot tell which Microsoft cloud the {role} in {path} is from{seen}",
                             source=str(path), field=cloud_flag,
                             hint=f"Add {cloud_flag} CLOUD (one of {', '.join(CLOUDS)}).")
        return data
    from toolkit.config import get_profile
    from toolkit.graph import GraphClient

    profile = get_profile(ref, state().config)
    if cloud and get_cloud(cloud).name != get_cloud(profile.cloud).name:
        raise InputError(f"{cloud_flag} {cloud} contradicts profile '{profile.name}', which signs in to "
                         f"{profile.cloud}", field=cloud_flag, hint=f"Drop {cloud_flag}, or use another profile.")
    info(f"Exporting the {role} through profile '{profile.name}' ({profile.cloud}, {profile.tenant})")
    client = GraphClient.from_profile(profile)
    return export_tenant(client, groups=groups, cloud=profile.cloud)


def records(frame: Any) -> list[dict[str, Any]]:
    """DataFrame rows as JSON-ready dicts: missing values become null, timestamps ISO-8601 strings."""
    out = []
    columns = list(frame.columns)
    for row in frame.itertuples(index=False, name=None):
        item = {}
        for key, value in zip(columns, row):
            if value is None or (isinstance(value, float) and math.isnan(value)):
                item[key] = None
            elif hasattr(value, "isoformat"):
                item[key] = value.isoformat()
            elif hasattr(value, "item") and not isinstance(value, (list, dict)):
                item[key] = value.item()
            elif type(value).__name__ in ("NAType", "NaTType"):
                item[key] = None
            else:
                item[key] = value
        out.append(item)
    return out
