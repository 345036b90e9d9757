"""Microsoft Graph client: one session, paging, ``$batch``, the retry policy, write pacing, call statistics.

``GraphClient`` is the only way ccsync talks to Graph; the rules it follows are written once, in
``retry.py`` (what is retried and how long to wait), ``pacing.py`` (quotas) and ``batch.py`` (JSON batching).
"""

from .batch import MAX_BATCH, BatchRequest, BatchResult, plan_batches
from .client import USERS_TOP_MAX, DeltaResult, GraphClient, GraphResponse, error_from_response
from .pacing import (INVITATIONS_QUOTA, PROVISION_ON_DEMAND_QUOTA, REPORTS_QUOTA, WRITE_QUOTA, Limiter, Quota,
                     WritePacer)
from .retry import RetryPolicy, parse_retry_after
from .stats import CallStats

__all__ = [
    "GraphClient", "GraphResponse", "DeltaResult", "error_from_response", "USERS_TOP_MAX",
    "BatchRequest", "BatchResult", "plan_batches", "MAX_BATCH",
    "RetryPolicy", "parse_retry_after",
    "WritePacer", "Limiter", "Quota", "WRITE_QUOTA", "INVITATIONS_QUOTA", "REPORTS_QUOTA",
    "PROVISION_ON_DEMAND_QUOTA",
    "CallStats",
]
