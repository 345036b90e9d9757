"""Tenant -> ``TenantData``: from Microsoft Graph, from a snapshot folder, or from Graph JSON an admin saved.

``fetch`` reads Graph into a ``RawTenant`` (Graph's own JSON), ``build`` turns that into the declared frames,
``snapshot`` writes JSON + Parquet + manifest, ``load`` reads snapshots and saved JSON back.
"""

from __future__ import annotations

import os
from typing import Any, Sequence

from ..frames import TenantData
from .build import NOT_SUBSCRIBED, build_tenant_data
from .fetch import PAGE_SIZE, USER_SELECT, fetch_tenant_raw
from .load import is_snapshot, load_raw, load_tenant, read_graph_json
from .raw import RawTenant
from .snapshot import write_snapshot

__all__ = ["export_tenant", "fetch_tenant_raw", "build_tenant_data", "write_snapshot", "load_tenant", "load_raw",
           "read_graph_json", "is_snapshot", "RawTenant", "NOT_SUBSCRIBED", "USER_SELECT", "PAGE_SIZE"]


def export_tenant(client: Any, *, groups: Sequence[str] = (), out_dir: str | os.PathLike[str] | None = None,
                  cloud: str | None = None, overwrite: bool = False) -> TenantData:
    """Fetch a tenant through ``client`` (a GraphClient), build its frames and, with ``out_dir``, write a snapshot.

    ``data.stats`` holds ``graph`` (the client's call statistics), ``pages`` (pages per collection), ``warnings``
    and, when written, ``snapshot`` (the folder).
    """
    raw = fetch_tenant_raw(client, groups=groups, cloud=cloud)
    data = build_tenant_data(raw)
    if out_dir is not None:
        data.stats["snapshot"] = str(write_snapshot(raw, data, out_dir, overwrite=overwrite))
    return data
