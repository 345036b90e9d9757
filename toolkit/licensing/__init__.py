"""Licence eligibility for cross-tenant synchronization: the catalog, per-user decisions and seat counts.

``evaluate_eligibility(tenant, source_cloud, target_cloud, scope_user_ids=None, catalog=None)`` is the entry
point; ``Catalog.bundled()`` / ``Catalog.from_official_csv(path)`` give the licence catalog; ``STATUSES`` is the
status vocabulary (label, meaning, fix template) for report legends.
"""

from .catalog import Catalog
from .eligibility import STATUS_ORDER, STATUSES, EligibilityResult, evaluate_eligibility

__all__ = ["Catalog", "STATUSES", "STATUS_ORDER", "EligibilityResult", "evaluate_eligibility"]
