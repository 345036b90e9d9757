"""The files an apply keeps next to its plan: the journal, the results workbook and CSV, and what an entra-engine
run recorded in its journal.

* ``journal_path_for(plan_path, journal=None)``: ``PLAN.journal.sqlite`` unless another path is given;
* ``results_paths(plan_path, workbook=None, csv=None)``: ``PLAN.results.xlsx`` and ``PLAN.results.csv``;
* ``write_results(result, plan_path, workbook=None, csv=None)``: both files of a direct-engine run;
* ``entra_run_started(plan, journal)``: when an entra-engine run started the job (for ``--verify-only``).

The CLI (``ccsync apply``) only passes the admin's paths through; the rules for where these files live are here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import InputError
from .journal import Journal, default_journal_path
from .results import ApplyResult, write_results_csv, write_results_workbook

__all__ = ["journal_path_for", "results_paths", "write_results", "entra_run_started"]


def journal_path_for(plan_path: str | Path, journal: str | Path | None = None) -> Path:
    """The journal of ``plan_path``: ``journal`` when given, else ``PLAN.journal.sqlite`` next to the plan."""
    return Path(journal) if journal else default_journal_path(plan_path)


def results_paths(plan_path: str | Path, workbook: str | Path | None = None,
                  csv: str | Path | None = None) -> tuple[Path, Path]:
    """(workbook, CSV) of an apply: the given paths, else ``PLAN.results.xlsx`` / ``PLAN.results.csv``."""
    base = Path(plan_path)
    return (Path(workbook) if workbook else base.with_name(base.name + ".results.xlsx"),
            Path(csv) if csv else base.with_name(base.name + ".results.csv"))


def write_results(result: ApplyResult, plan_path: str | Path, workbook: str | Path | None = None,
                  csv: str | Path | None = None) -> dict[str, str]:
    """Write the results workbook and CSV of a direct-engine run; their paths as ``{"workbook", "csv"}``."""
    xlsx, csv_file = results_paths(plan_path, workbook, csv)
    return {"workbook": str(write_results_workbook(result, xlsx, plan_file=str(plan_path))),
            "csv": str(write_results_csv(result, csv_file))}


def entra_run_started(plan: Any, journal: str | Path) -> str:
    """When the entra-engine run of ``plan`` started the job (``runStartedAt`` in its journal).

    Raises InputError when the plan was never applied (no journal) or its run never started the job.
    """
    from ..plan.planfile import canonical_digest

    path = Path(journal)
    if not path.exists():
        raise InputError("nothing to verify: this plan has not been applied (no journal next to it)",
                         hint="Apply it first: ccsync apply PLAN --profile SOURCE.")
    with Journal(path, canonical_digest(plan.to_document())) as j:
        since = j.meta().get("runStartedAt")
    if not since:
        raise InputError("the plan's run was never started", hint="Apply it again to start the job.")
    return since
