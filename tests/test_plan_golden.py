"""Golden plans: the planner's output for fixed inputs is byte-identical to the files recorded before the
planner was reshaped (tests/fixtures/golden_plans, README there): the plan file and the ops/changes frames."""

from __future__ import annotations

import pytest

from golden_cases import CASES, GOLDEN, plan_files


@pytest.mark.parametrize("name", sorted(CASES))
def test_plan_is_byte_identical_to_the_golden_plan(name):
    produced = plan_files(name)
    assert len(produced) == 3
    for file, text in produced.items():
        recorded = (GOLDEN / file).read_text(encoding="utf-8")
        assert text == recorded, f"{file} differs from the golden plan"
