"""Validation of a migration CSV before anything is written: every problem with its row, column, value and fix.

``validate_table(table, target=None)`` -> ``Validation``. Without a target only the file is checked; with a
target (``TenantData`` from a profile or a snapshot) the tenant checks are added: the UPN's domain is verified
there, UPN / mail / mailNickname / proxy addresses are free there, licences exist and have free seats, groups
and managers exist. Rules and their Microsoft sources are summarised in docs/migrate.md.

Passwords are checked here and then forgotten: a ``Validation`` holds no password, only whether a row has one.

The parts: ``row_results`` (what was found), ``field_rules`` (single values), ``target_index`` (the target,
indexed), ``row_checks`` (one row), ``table_checks`` (across rows and against the target's users).
"""

from __future__ import annotations

from typing import Any

from .field_rules import parse_bool, password_problems, split_list
from .formats import detect_layout, is_template_example
from .read import CsvTable
from .row_checks import check_row
from .row_results import HIDDEN, Problem, RowResult, Validation
from .table_checks import check_duplicates, check_managers, check_seats, check_target_duplicates
from .target_index import TargetIndex

__all__ = ["Problem", "RowResult", "Validation", "TargetIndex", "validate_table", "password_problems",
           "parse_bool", "split_list", "HIDDEN", "groups_named"]


def groups_named(table: CsvTable) -> list[str]:
    """Every group the file's rows name (sorted, once each): the target export must read these groups' members
    so that the group checks can run."""
    column = detect_layout(table.header).by_field().get("groups")
    if column is None:
        return []
    return sorted({g for record in table.rows if column.index < len(record) for g in split_list(record[column.index])})


def validate_table(table: CsvTable, target: Any = None) -> Validation:
    """Check every row of ``table`` (file checks; tenant checks when ``target`` is given)."""
    layout = detect_layout(table.header)
    index = target if isinstance(target, TargetIndex) or target is None else TargetIndex(target)
    notes: list[str] = []
    if table.preamble is None and layout.name.startswith("portal"):
        notes.append("The portal's 'version:v1.0' first line is missing; ccsync reads the file anyway (the portal "
                     "would refuse it).")
    for h in layout.unknown:
        notes.append(f"Column '{h}' is not a field ccsync knows; its values are not used. Rename it to a Graph "
                     "property name (see 'ccsync migrate validate --help') or remove it.")
    for h in layout.duplicates:
        notes.append(f"Column '{h}' repeats a field given by an earlier column; only the first one is used.")
    by_field = layout.by_field()
    if not ({"userPrincipalName", "invitedUserEmailAddress"} & set(by_field)) and not (
            "mail" in by_field and "userType" in by_field):
        notes.append("The file has no userPrincipalName column (members) and no invitedUserEmailAddress column "
                     "(invitations): no row can be created.")
    rows: list[RowResult] = []
    for number, record in zip(table.row_numbers, table.rows):
        raw = {c.field: record[c.index] for c in layout.columns if c.field and c.index < len(record)}
        if is_template_example(raw):
            notes.append(f"Row {number} is the template's example row; it is skipped. Delete it from the file.")
            continue
        rows.append(check_row(number, raw, layout, index))
    check_duplicates(rows, layout)
    if index is not None:
        check_target_duplicates(rows, layout, index)
        check_managers(rows, layout, index)
    seats = check_seats(rows, layout, index) if index is not None else []
    return Validation(table, layout, rows, notes, index.describe() if index is not None else None, seats)
