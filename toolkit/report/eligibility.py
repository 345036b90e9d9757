"""The licence-eligibility workbook: ``reports/eligibility.toml`` filled from toolkit.licensing's outputs."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from ..clouds import get_cloud
from ..errors import CloudError
from ..frames import ELIGIBILITY, SEATS, SKUS, conform
from .definitions import ReportDefinition, load_definition
from .workbook import build_workbook

__all__ = ["write_eligibility_workbook"]


def _with_portal_links(users: pd.DataFrame, source_cloud: Any) -> pd.DataFrame:
    """Fill empty ``portalUrl`` cells with the user's page in the source cloud's Entra admin center."""
    missing = users["portalUrl"].isna() | (users["portalUrl"].astype("string").str.strip() == "")
    if not missing.any() or not source_cloud:
        return users
    try:
        cloud = get_cloud(str(source_cloud))
    except CloudError:
        return users
    users = users.copy()
    fill = missing & users["userId"].notna()
    users.loc[fill, "portalUrl"] = users.loc[fill, "userId"].map(cloud.user_portal_url)
    return users


def write_eligibility_workbook(path: str | os.PathLike[str], users_df: pd.DataFrame, seats_df: pd.DataFrame,
                               skus_df: pd.DataFrame, summary: Mapping[str, Any],
                               statuses: Mapping[str, Any], *, generated_at: dt.datetime | None = None,
                               definition: ReportDefinition | str | os.PathLike[str] = "eligibility") -> Path:
    """Write the eligibility workbook (Summary, Users, SKUs, Legend) to ``path`` atomically; return the path.

    ``users_df``/``seats_df``/``skus_df`` have the columns of ``toolkit.frames.ELIGIBILITY``/``SEATS``/``SKUS``
    (missing columns are written empty); ``summary`` is EligibilityResult.summary; ``statuses`` maps each
    status to ``(label, meaning, fix)``. Users with no ``portalUrl`` are linked to their page in the summary's
    ``sourceCloud`` Entra admin center.
    """
    d = definition if isinstance(definition, ReportDefinition) else load_definition(definition)
    users = _with_portal_links(conform(users_df, ELIGIBILITY), summary.get("sourceCloud"))
    frames = {"users": users, "seats": conform(seats_df, SEATS), "skus": conform(skus_df, SKUS)}
    values = dict(summary)
    if not values.get("tenantName"):
        values["tenantName"] = values.get("tenantId") or ""      # the title names the tenant either way
    return build_workbook(d, path, frames=frames, values=values, vocabularies={"statuses": statuses},
                          generated_at=generated_at)
