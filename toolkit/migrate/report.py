"""The validation report of a migration CSV: a workbook (``reports/migration-validation.toml``) and a CSV.

Shaped like the portal's bulk-operation results (one line per row with its status) but every problem says what
to do. Passwords never appear: a password problem shows the value ``(hidden)``.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import pandas as pd

from ..report import build_workbook, load_definition, write_csv
from .validate import Validation

__all__ = ["write_validation_workbook", "write_validation_csv", "rows_frame", "problems_frame", "STATUSES"]

STATUSES: dict[str, tuple[str, str]] = {
    "Valid": ("Valid", "Every check passed: 'ccsync migrate plan' plans this row."),
    "Invalid": ("Invalid", "Fix the problems listed for the row, then validate again (or plan the valid rows "
                           "with --skip-invalid)."),
}
ROW_COLUMNS = ["row", "key", "displayName", "mode", "status", "errorCount", "reasons"]
PROBLEM_COLUMNS = ["row", "key", "column", "value", "problem", "fix"]


def rows_frame(validation: Validation) -> pd.DataFrame:
    """One line per CSV row: row, key (UPN or invited address), displayName, mode, status, errorCount, reasons."""
    out = []
    for r in validation.rows:
        reasons = " | ".join(f"{p.column}: {p.problem}. {p.fix}" for p in r.errors)
        out.append({"row": r.row, "key": r.key, "displayName": r.values.get("displayName"),
                    "mode": "POST /users" if r.mode == "member" else "invitation",
                    "status": "Valid" if r.valid else "Invalid", "errorCount": len(r.errors),
                    "reasons": reasons or None})
    return pd.DataFrame(out, columns=ROW_COLUMNS)


def problems_frame(validation: Validation) -> pd.DataFrame:
    out = [{"row": p.row, "key": r.key, "column": p.column, "value": p.value, "problem": p.problem, "fix": p.fix}
           for r in validation.rows for p in r.errors]
    return pd.DataFrame(out, columns=PROBLEM_COLUMNS)


def write_validation_workbook(path: str | os.PathLike[str], validation: Validation, *,
                              generated_at: dt.datetime | None = None) -> Path:
    """Write the validation workbook (Summary, Rows, Problems, Notes, Legend) atomically; returns the path."""
    values: dict[str, Any] = {**validation.summary(), "fileName": Path(validation.table.path).name}
    if validation.target:
        values["targetName"] = validation.target.get("displayName") or validation.target["tenantId"]
    frames = {"rows": rows_frame(validation), "problems": problems_frame(validation),
              "notes": pd.DataFrame({"note": validation.notes or ["(none)"]}),
              "seats": pd.DataFrame(validation.seats, columns=["skuPartNumber", "available", "needed", "shortfall"])}
    return build_workbook(load_definition("migration-validation"), path, frames=frames, values=values,
                          vocabularies={"statuses": STATUSES}, generated_at=generated_at)


def write_validation_csv(path: str | os.PathLike[str], validation: Validation) -> Path:
    """One line per problem and one per valid row (UTF-8 with BOM, formula-safe), like the portal's results."""
    rows = rows_frame(validation)
    problems = problems_frame(validation)
    valid = rows[rows["status"] == "Valid"][["row", "key"]].assign(column=None, value=None, problem=None, fix=None)
    merged = pd.concat([problems, valid], ignore_index=True) if len(valid) else problems
    merged = merged.assign(status=merged["problem"].isna().map({True: "Valid", False: "Invalid"}))
    merged = merged.sort_values("row", kind="mergesort")
    return write_csv(merged, path, columns={"row": "Row", "key": "userPrincipalName or invited address",
                                            "status": "Status", "column": "Column", "value": "Value",
                                            "problem": "Problem", "fix": "Fix"})
