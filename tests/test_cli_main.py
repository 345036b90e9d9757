"""ccsync's output conventions, error handling and command registry, as a user or a script sees them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

import toolkit.cli.clouds as cli_clouds
from toolkit.cli.main import cli
from toolkit.cli.registry import describe_tree, walk_commands


def run(*args: str, **kwargs):
    return CliRunner().invoke(cli, list(args), **kwargs)


def test_help_lists_every_command_group():
    result = run("--help")
    assert result.exit_code == 0
    for name in ("clouds", "login", "sim", "demo", "commands"):
        assert name in result.stdout


def test_version():
    result = run("--version")
    assert result.exit_code == 0 and "ccsync 0.1.0" in result.stdout


def test_json_output_is_one_document_and_nothing_else_on_stdout():
    result = run("clouds", "--output", "json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)  # would fail on any extra text
    assert {c["name"] for c in doc["clouds"]} == {"commercial", "gcc", "gcch", "dod", "china"}


def test_output_option_is_accepted_before_or_after_the_command():
    before = run("--output", "json", "clouds")
    after = run("clouds", "-o", "json")
    assert json.loads(before.stdout) == json.loads(after.stdout)


def test_ccsync_error_becomes_error_line_hint_and_exit_code():
    result = run("clouds", "detect", "not a tenant!!")
    assert result.exit_code == 2  # InputError: the user's input is wrong
    assert result.stdout == ""
    assert result.stderr.startswith("Error: 'not a tenant!!' is neither a tenant ID")
    assert "Hint: Give the tenant ID" in result.stderr
    assert "Traceback" not in result.stderr


def test_ccsync_error_in_json_mode_also_writes_the_error_object_to_stdout():
    result = run("clouds", "detect", "not a tenant!!", "--output", "json")
    assert result.exit_code == 2
    doc = json.loads(result.stdout)
    assert doc["error"] == "InputError" and "neither a tenant ID" in doc["message"] and doc["hint"]
    assert "Error:" in result.stderr


def test_usage_error_exits_2_and_json_mode_reports_it_on_stdout():
    result = run("--output", "json", "clouds", "detect")
    assert result.exit_code == 2
    assert "Missing argument 'TENANT'" in result.stderr
    assert json.loads(result.stdout)["error"] == "UsageError"
    plain = run("clouds", "--bogus")
    assert plain.exit_code == 2 and "No such option" in plain.stderr and plain.stdout == ""


def test_unexpected_exception_is_one_line_without_traceback(monkeypatch):
    def boom():
        raise ValueError("boom in the cloud table")

    monkeypatch.setattr(cli_clouds, "clouds_document", boom)
    result = run("clouds")
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "Internal error: ValueError: boom in the cloud table. This is a bug in ccsync; rerun with -v for the traceback."]
    assert result.stdout == ""


def test_unexpected_exception_shows_traceback_only_with_verbose(monkeypatch):
    def boom():
        raise ValueError("boom")

    monkeypatch.setattr(cli_clouds, "clouds_document", boom)
    result = run("-v", "clouds", "--output", "json")
    assert result.exit_code == 1
    assert "Traceback (most recent call last)" in result.stderr and "ValueError: boom" in result.stderr
    assert json.loads(result.stdout) == {"error": "InternalError", "message": "ValueError: boom"}


# --- the registry -------------------------------------------------------------------------------------------

def _all_commands():
    return list(walk_commands(cli))


def test_every_command_option_and_argument_is_documented():
    missing = []
    for path, command in _all_commands():
        name = "ccsync " + " ".join(path)
        if not (command.help or "").strip():
            missing.append(f"{name}: no help")
        for param in command.params:
            if isinstance(param, click.Option) and not (param.help or "").strip():
                missing.append(f"{name} {param.opts[0]}: no help")
            if isinstance(param, click.Argument) and param.human_readable_name not in (command.help or ""):
                missing.append(f"{name} {param.human_readable_name}: argument not described in the help")
    assert missing == []


def test_every_runnable_command_accepts_the_common_options():
    for path, command in _all_commands():
        invokable = not isinstance(command, click.Group) or command.invoke_without_command
        if path and invokable:
            names = {p.name for p in command.params}
            assert {"output", "verbose", "config_path"} <= names, path


def test_no_command_takes_a_secret_as_an_argument():
    for path, command in _all_commands():
        for param in command.params:
            words = " ".join([param.name or ""] + list(getattr(param, "opts", [])))
            assert not any(w in words.lower() for w in ("secret", "password", "token")), (path, words)


def test_commands_json_lists_every_command_path_with_its_parameters():
    result = run("commands", "--output", "json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    paths = {c["path"] for c in doc["commands"]}
    assert {"clouds", "clouds detect", "login", "sim", "sim serve", "demo", "commands"} <= paths
    detect = next(c for c in doc["commands"] if c["path"] == "clouds detect")
    params = {p["name"]: p for p in detect["params"]}
    assert params["tenant"]["kind"] == "argument" and params["tenant"]["required"] is True
    assert params["login_urls"]["multiple"] is True and params["login_urls"]["opts"] == ["--login-url"]
    assert params["timeout"]["default"] == 15.0 and params["timeout"]["type"] == "float range"
    assert params["output"]["choices"] == ["table", "json"] and params["output"]["common"] is True
    assert params["ca_bundle"]["help"]
    login = next(c for c in doc["commands"] if c["path"] == "login")
    assert {p["name"]: p["required"] for p in login["params"]}["profile_name"] is True
    assert [p["name"] for p in doc["globalParams"] if p["common"]] == ["output", "verbose", "config_path"]
    assert doc == describe_tree(cli)


def test_commands_table_names_each_command():
    result = run("commands")
    assert result.exit_code == 0
    assert "ccsync clouds detect" in result.stdout and "--login-url" in result.stdout


# --- the real console script ---------------------------------------------------------------------------------

def test_module_entry_point_writes_json_and_exit_code():
    env = {**os.environ, "COLUMNS": "200"}
    proc = subprocess.run([sys.executable, "-m", "toolkit.cli", "clouds", "--output", "json"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0 and json.loads(proc.stdout)["pairs"]
    bad = subprocess.run([sys.executable, "-m", "toolkit.cli", "clouds", "detect", "x y"],
                         capture_output=True, text=True, env=env, timeout=60)
    assert bad.returncode == 2 and bad.stderr.startswith("Error:")


def test_importing_the_cli_does_not_import_heavy_libraries():
    code = ("import sys, toolkit.cli.main; heavy = [m for m in ('pandas', 'msal', 'werkzeug', 'rich.console', "
            "'requests', 'pyarrow', 'openpyxl', 'trustme') if m in sys.modules]; print(heavy)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


@pytest.mark.parametrize("args", [["clouds"], ["commands"]])
def test_table_mode_writes_tables_to_stdout_and_nothing_to_stderr(args):
    result = run(*args)
    assert result.exit_code == 0 and result.stdout.strip() and result.stderr == ""
