"""Opening a tenant for a command: a snapshot or saved Graph JSON on disk, or a live export through a profile."""

from __future__ import annotations

import math
from typing import Any, Sequence

from .output import info, state


def open_tenant(ref: str, *, groups: Sequence[str] = (), role: str = "tenant", cloud: str | None = None,
                cloud_flag: str = "--source-cloud") -> Any:
    """``toolkit.export.open.open_tenant`` with the command's config, saying on stderr where the tenant comes from."""
    from toolkit.export.open import open_tenant as open_any

    return open_any(ref, config=state().config, groups=groups, role=role, cloud=cloud, cloud_flag=cloud_flag,
                    say=info)


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
