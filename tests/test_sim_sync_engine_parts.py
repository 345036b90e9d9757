"""The simulated sync engine is split into phase modules (toolkit/simulator/sync*.py); like ``syncengine.py``
itself, none of them may borrow the planner's code (toolkit.plan), so that comparing the two stays meaningful."""

from __future__ import annotations

import ast
from pathlib import Path

import toolkit.simulator as simulator


def test_no_part_of_the_engine_imports_the_planner():
    folder = Path(simulator.__file__).parent
    parts = sorted(folder.glob("sync*.py"))
    assert {"syncengine.py", "syncscope.py", "syncmatch.py", "syncexport.py", "syncdeletes.py"} <= \
        {p.name for p in parts}
    for path in parts:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert not any(m.startswith(("toolkit.plan", "..plan", "plan")) for m in imported), (path.name, imported)
