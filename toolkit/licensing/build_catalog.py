"""Build ``toolkit/data/license-catalog.csv`` from Microsoft's official licensing CSV.

Usage::

    python -m toolkit.licensing.build_catalog OFFICIAL.csv [OUTPUT.csv]

OFFICIAL.csv is Microsoft's "Product names and service plan identifiers for licensing" CSV (download link on
https://learn.microsoft.com/entra/identity/users/licensing-service-plan-reference). The output keeps every SKU
and every plan GUID of it (trimmed, NBSP turned into spaces, GUIDs lower-cased), labels the entitlement plans
(P1, P2, GOVERNANCE, SUITE) and appends the documented additions of ``catalog.DOCUMENTED_ADDITIONS`` for SKUs
the CSV lacks. The friendly-name column is dropped: it is most of the file's size and ccsync never reads it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import CcsyncError
from .catalog import Catalog

DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / "data" / "license-catalog.csv"


def build(official_csv: str | Path, output: str | Path = DEFAULT_OUTPUT) -> Catalog:
    """Read the official CSV, merge the documented additions and write the bundled layout to ``output``."""
    catalog = Catalog.from_official_csv(official_csv)
    catalog.write_csv(output)
    return catalog


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("official_csv", help="Microsoft's official licensing CSV")
    parser.add_argument("output", nargs="?", default=str(DEFAULT_OUTPUT), help="where to write the catalog")
    args = parser.parse_args(argv)
    try:
        catalog = build(args.official_csv, args.output)
    except CcsyncError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return exc.exit_code
    info = catalog.to_dict()
    print(f"Wrote {args.output}: {info['skus']} SKUs, {info['rows']} rows. " + " ".join(catalog.notes),
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
