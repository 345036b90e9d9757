"""What `.ci/run` does, observed by running it: in a copy of the script, with python3, pip, pytest and ccsync
replaced by recording stand-ins on PATH, so the test checks the commands CI really executes and what it makes of
their exit codes (not the script's text)."""

from __future__ import annotations

import os
import shlex
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from test_cli_readme import TEST_LINE

ROOT = Path(__file__).resolve().parent.parent

# A stand-in for every program the script starts: it appends its own name and arguments to $CALLS, and exits with
# the code named for it in the environment (EXIT_<NAME>), so each test decides how each step ends. `python3 -m
# venv DIR` also makes DIR/bin with the same stand-in as pip, python and ccsync, as a real venv would.
_STAND_IN = """#!/usr/bin/env bash
name="$(basename "$0")"
printf '%s' "$name" >> "$CALLS"; for a in "$@"; do printf ' %q' "$a" >> "$CALLS"; done; echo >> "$CALLS"
if [ "$name" = python3 ] && [ "$1" = -m ] && [ "$2" = venv ]; then
    mkdir -p "$3/bin"; for p in pip python ccsync; do cp "$0" "$3/bin/$p"; done
fi
if [ "$name" = python ] && [ "$2" = pytest ]; then exit "${EXIT_PYTEST:-0}"; fi
if [ "$name" = ccsync ]; then exit "${EXIT_CCSYNC:-0}"; fi
exit 0
"""


@pytest.fixture()
def checkout(tmp_path):
    """A checkout with only .ci/run in it, and a bin folder of stand-ins that comes first on PATH."""
    (tmp_path / "repo" / ".ci").mkdir(parents=True)
    script = tmp_path / "repo" / ".ci" / "run"
    shutil.copy2(ROOT / ".ci" / "run", script)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    stand_in = bin_dir / "python3"
    stand_in.write_text(_STAND_IN)
    stand_in.chmod(stand_in.stat().st_mode | stat.S_IXUSR)
    return tmp_path


def _run_ci(checkout: Path, **exits: int) -> tuple[subprocess.CompletedProcess, list[list[str]]]:
    calls = checkout / "calls.log"
    calls.touch()
    # PATH keeps the system's folders for bash, dirname, mkdir, cp, but no pwsh: the stand-ins come first.
    path = os.pathsep.join([str(checkout / "bin")] + [p for p in os.environ.get("PATH", "").split(os.pathsep)
                                                       if p and not (Path(p) / "pwsh").exists()])
    env = {"PATH": path, "CALLS": str(calls), "HOME": str(checkout)}
    env.update({f"EXIT_{k.upper()}": str(v) for k, v in exits.items()})
    done = subprocess.run(["bash", str(checkout / "repo" / ".ci" / "run")], env=env, capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, timeout=60)
    return done, [shlex.split(line) for line in calls.read_text().splitlines()]


def _readme_test_commands() -> list[list[str]]:
    return [shlex.split(part) for part in TEST_LINE.split("&&")]


def test_ci_runs_exactly_the_readme_test_command_then_the_demo(checkout):
    done, calls = _run_ci(checkout)
    assert done.returncode == 0, done.stderr
    expected = [[Path(c[0]).name] + c[1:] for c in _readme_test_commands()]
    assert [[Path(c[0]).name] + c[1:] for c in calls[:3]] == expected
    assert calls[3] == ["ccsync", "demo", "--output", "json"]
    assert len(calls) == 4
    assert "Pester tests SKIPPED" in done.stderr and "CI passed" in done.stderr


def test_ci_fails_when_pytest_collects_no_tests(checkout):
    done, calls = _run_ci(checkout, pytest=5)
    assert done.returncode == 1
    assert "collected no tests" in done.stderr
    assert not any(c[0] == "ccsync" for c in calls), "the demo must not run after a failed test command"


@pytest.mark.parametrize("status", [1, 2, 3])
def test_ci_fails_with_the_test_commands_exit_code(checkout, status):
    done, calls = _run_ci(checkout, pytest=status)
    assert done.returncode == status
    assert f"exited with {status}" in done.stderr
    assert not any(c[0] == "ccsync" for c in calls)


def test_ci_fails_when_the_demo_smoke_test_fails(checkout):
    done, _ = _run_ci(checkout, ccsync=1)
    assert done.returncode != 0
    assert "CI passed" not in done.stderr


def test_ci_script_is_executable():
    assert os.access(ROOT / ".ci" / "run", os.X_OK)
