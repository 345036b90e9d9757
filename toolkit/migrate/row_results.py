"""What validating a migration CSV found: ``Problem`` (row, column, value, problem, fix), ``RowResult`` (one data
row: member or invitation, its fields without the password, its resolved licences, groups and manager) and
``Validation`` (every row, the notes about the file, the target checked against, the seat summary)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .formats import Layout
from .read import CsvTable

__all__ = ["Problem", "RowResult", "Validation", "HIDDEN"]

HIDDEN = "(hidden)"                  # what a Problem shows instead of a password


@dataclass(frozen=True)
class Problem:
    row: int
    column: str
    value: str | None
    problem: str
    fix: str

    def to_dict(self) -> dict[str, Any]:
        return {"column": self.column, "value": self.value, "problem": self.problem, "fix": self.fix}


@dataclass
class RowResult:
    """One data row: its number (as Excel shows it), what it would create, and its problems.

    ``values``: the row's fields after trimming, *without* the password; ``has_password`` says whether the file
    gives one. ``mode``: ``member`` (POST /users) or ``invite`` (POST /invitations)."""

    row: int
    mode: str
    key: str | None                      # the UPN (member) or the invited address
    values: dict[str, str]
    has_password: bool
    errors: list[Problem] = field(default_factory=list)
    licenses: list[str] = field(default_factory=list)      # target skuIds (resolved) or the names as given
    groups: list[str] = field(default_factory=list)        # target group ids (resolved) or as given
    manager_id: str | None = None

    @property
    def valid(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        return {"row": self.row, "mode": self.mode,
                "userPrincipalName": self.key if self.mode == "member" else None,
                "invitedUserEmailAddress": self.key if self.mode == "invite" else None,
                "displayName": self.values.get("displayName"), "valid": self.valid,
                "errors": [p.to_dict() for p in self.errors]}


@dataclass
class Validation:
    table: CsvTable
    layout: Layout
    rows: list[RowResult]
    notes: list[str]
    target: dict[str, Any] | None = None
    seats: list[dict[str, Any]] = field(default_factory=list)

    @property
    def valid_rows(self) -> list[RowResult]:
        return [r for r in self.rows if r.valid]

    @property
    def invalid_rows(self) -> list[RowResult]:
        return [r for r in self.rows if not r.valid]

    @property
    def exit_code(self) -> int:
        return 1 if self.invalid_rows else 0

    def summary(self) -> dict[str, Any]:
        return {"file": self.table.describe(), "layout": self.layout.name, "rows": len(self.rows),
                "valid": len(self.valid_rows), "invalid": len(self.invalid_rows),
                "problems": sum(len(r.errors) for r in self.rows), "unknownColumns": list(self.layout.unknown),
                "target": self.target, "tenantChecks": self.target is not None}

    def to_dict(self) -> dict[str, Any]:
        return {**self.summary(), "notes": list(self.notes), "seats": self.seats,
                "rowResults": [r.to_dict() for r in self.rows]}

    def problems(self) -> list[Problem]:
        return [p for r in self.rows for p in r.errors]
