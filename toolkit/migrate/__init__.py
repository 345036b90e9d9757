"""One-time migrations from a CSV: read it (``read``), recognise its columns (``formats``), check every row
before anything is written (``validate``), and turn the valid rows into the plan ``ccsync apply`` executes
(``convert``). Reports: ``toolkit.migrate.report``.

- ``read_table(path)`` -> ``CsvTable``
- ``validate_file(path, target=None)`` -> ``Validation`` (target: ``TenantData`` or ``TargetIndex``)
- ``plan_migration(validation, skip_invalid=False)`` -> ``SyncPlan``
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .convert import plan_migration
from .formats import Layout, detect_layout
from .read import CsvTable, read_table
from .validate import Problem, RowResult, TargetIndex, Validation, validate_table

__all__ = ["read_table", "validate_file", "validate_table", "plan_migration", "detect_layout", "CsvTable", "Layout",
           "Problem", "RowResult", "TargetIndex", "Validation"]


def validate_file(path: str | Path, target: Any = None) -> Validation:
    """Read ``path`` and validate every row (tenant checks too when ``target`` is given)."""
    return validate_table(read_table(path), target)
