"""Where ccsync finds its report definitions and samples, from a checkout or from an installed copy.

In a checkout (or an editable install) they are the repository's ``reports/`` and ``samples/``. A regular
``pip install .`` copies them to ``<prefix>/share/ccsync/`` (pyproject's data-files), because the layout keeps
them outside the ``toolkit`` package.
"""

from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["project_dir"]


def project_dir(name: str) -> Path:
    """The ``reports`` or ``samples`` folder: the checkout's, else the installed copy (else the checkout path)."""
    checkout = Path(__file__).resolve().parents[1] / name
    if checkout.is_dir():
        return checkout
    for prefix in (sys.prefix, sys.base_prefix):
        installed = Path(prefix) / "share" / "ccsync" / name
        if installed.is_dir():
            return installed
    return checkout
