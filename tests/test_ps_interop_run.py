"""Running registered commands in-process for the bridge (pure Python: no .NET needed)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from toolkit.errors import ConfigError, InputError
from toolkit.interop.run import parse_event, run_command

FIXTURES = Path(__file__).parent / "fixtures" / "clixml"


def test_the_emitted_result_is_kept_as_objects_not_json():
    run = run_command("clouds")
    assert run.exit_code == 0 and run.error is None
    assert isinstance(run.document, dict) and [c["name"] for c in run.document["clouds"]][:2] == ["commercial", "gcc"]


def test_errors_keep_the_ccsync_exception_and_exit_code():
    run = run_command("clouds detect", ["not a tenant"])
    assert isinstance(run.error, InputError) and run.exit_code == 2 and run.document is None
    assert any(m.startswith("Hint: ") for m in run.messages)


def test_text_output_becomes_the_document():
    run = run_command("plan", ["--show-default-mapping"])
    assert run.exit_code == 0 and run.document.startswith("# ccsync default attribute mapping")


def test_messages_are_relayed_on_the_calling_thread_in_order(tmp_path):
    seen = []
    run = run_command("eligibility", ["--source", str(FIXTURES), "--target-cloud", "gcch"],
                      on_line=lambda kind, value: seen.append((kind, value, threading.current_thread())))
    assert seen and all(t is threading.current_thread() for _, _, t in seen)
    assert seen[0][1].startswith("Reading the source tenant from")
    assert run.messages == [v for k, v, _ in seen if k == "message"]


def test_the_hosts_folder_and_environment_apply_to_the_call_only(tmp_path):
    (tmp_path / "config.toml").write_text("[profiles]\n", encoding="utf-8")
    before_cwd, before_env = os.getcwd(), dict(os.environ)
    env = {**os.environ, "CCSYNC_CONFIG": "config.toml"}
    run = run_command("login", ["--profile", "nobody"], cwd=str(tmp_path), environment=env)
    assert isinstance(run.error, ConfigError) and "nobody" in run.error.message  # the relative config was found
    assert os.getcwd() == before_cwd and dict(os.environ) == before_env


def test_progress_lines_are_events():
    assert parse_event('{"event": "apply_progress", "completed": 3, "total": 10}')["completed"] == 3
    assert parse_event("Reading the source tenant") is None and parse_event("{not json") is None


def test_full_paths_from_the_host_are_used_as_given_whatever_the_working_folder(tmp_path):
    """The module resolves path parameters against PowerShell's location (ConvertTo-CcsCliArgument.ps1), so the
    engine receives full paths: they must land where they say, not under the folder the call runs in."""
    elsewhere, reports = tmp_path / "elsewhere", tmp_path / "reports"
    elsewhere.mkdir()
    reports.mkdir()
    workbook = reports / "eligibility.xlsx"
    run = run_command("eligibility", ["--source", str(FIXTURES), "--source-cloud", "commercial", "--target-cloud", "gcch",
                                     "--report", str(workbook)],
                      cwd=str(elsewhere))
    assert run.error is None, run.messages
    assert workbook.is_file() and list(elsewhere.iterdir()) == []
