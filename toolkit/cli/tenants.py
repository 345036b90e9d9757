"""Opening a tenant for a command: a snapshot or saved Graph JSON on disk, or a live export through a profile."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Sequence

from .output import info, state


def open_tenant(ref: str, *, groups: Sequence[str] = (), role: str = "tenant") -> Any:
    """TenantData for ``ref``: an existing path is read offline; anything else names a profile to export live.

    A path wins over a profile of the same name, so an offline run never signs in by surprise.
    """
    from toolkit.export import export_tenant, load_tenant

    path = Path(ref).expanduser()
    if path.exists():
        info(f"Reading the {role} from {path}")
        return load_tenant(path)
    from toolkit.config import get_profile
    from toolkit.graph import GraphClient

    profile = get_profile(ref, state().config)
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
