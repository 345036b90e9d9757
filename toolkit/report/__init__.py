"""Reports: Excel workbooks built from declarative definitions in ``reports/``, and CSV side outputs.

- ``load_definition(name_or_path)`` -> ``ReportDefinition`` (validated; errors name the file and key)
- ``build_workbook(definition, path, frames=..., values=..., vocabularies=...)`` -> Path (atomic)
- ``write_eligibility_workbook(path, users_df, seats_df, skus_df, summary, statuses)`` -> Path
- ``write_csv(df, path, columns=None)`` -> Path (UTF-8 with BOM, CRLF, formula-safe, atomic)
- ``sanitize``: the cell-safety rules every value written goes through
"""

from .csvout import write_csv
from .definitions import ReportDefinition, list_definitions, load_definition, parse_definition, reports_dir
from .eligibility import write_eligibility_workbook
from .plan import PLAN_KINDS, write_plan_workbook
from .workbook import MAX_DATA_ROWS, MAX_HYPERLINKS, atomic_write, build_workbook

__all__ = ["write_plan_workbook", "PLAN_KINDS", "ReportDefinition", "load_definition", "parse_definition", "list_definitions", "reports_dir",
           "build_workbook", "atomic_write", "write_csv", "write_eligibility_workbook", "MAX_DATA_ROWS",
           "MAX_HYPERLINKS"]
