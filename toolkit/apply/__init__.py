"""Apply a sync plan through Graph exactly once: batched, paced, journaled and resumable.

- ``apply_plan(plan, client, cloud=..., plan_path=None, options=ApplyOptions(...))`` -> ``ApplyResult``
- ``apply_plan_file(path, client, cloud=..., options=...)`` -> ``ApplyResult`` (loads and verifies the plan)
- ``ApplyResult``: ``frame`` (``RESULT_COLUMNS``), ``summary``, ``failures``, ``exit_code``, ``to_dict()``
- ``write_results_workbook(result, path)``, ``write_results_csv(result, path)``
- ``check_invite_prerequisites(plan, client)``: the target's cross-cloud B2B settings (raises PrerequisiteError)
- ``Journal``: the SQLite (WAL) journal, ``default_journal_path(plan_path)``
"""

from .executor import ApplyOptions, apply_plan, apply_plan_file, verify_target
from .journal import STATES, Journal, JournalEntry, default_journal_path
from .operations import Operation, operations_from_plan
from .prerequisites import PrerequisiteError, check_invite_prerequisites
from .results import (RESULT_COLUMNS, STATE_VOCABULARY, ApplyResult, advice, write_results_csv,
                      write_results_workbook)

__all__ = ["ApplyOptions", "apply_plan", "apply_plan_file", "verify_target", "Journal", "JournalEntry", "STATES",
           "default_journal_path", "Operation", "operations_from_plan", "ApplyResult", "RESULT_COLUMNS",
           "STATE_VOCABULARY", "advice", "write_results_workbook", "write_results_csv", "PrerequisiteError",
           "check_invite_prerequisites"]
