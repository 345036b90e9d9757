"""The PowerShell module ps/CrossCloudSync, checked from Python with tree-sitter (no pwsh on this machine).

Syntax of every file; one function per file named after it; the manifest's exports equal Public/; complete
comment-based help; and every cmdlet's ccsync invocation names a command (and options) in the click registry.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Iterator

import pytest
import tree_sitter
import tree_sitter_powershell

from toolkit.cli.main import cli
from toolkit.cli.registry import describe_tree

MODULE = Path(__file__).resolve().parent.parent / "ps" / "CrossCloudSync"
PUBLIC = sorted((MODULE / "Public").glob("*.ps1"))
PRIVATE = sorted((MODULE / "Private").glob("*.ps1"))
ALL_SOURCES = sorted(p for p in MODULE.rglob("*") if p.suffix in (".ps1", ".psm1", ".psd1"))


@lru_cache(maxsize=1)
def _parser() -> tree_sitter.Parser:
    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))


@lru_cache(maxsize=None)
def parse(path: Path) -> tree_sitter.Tree:
    return _parser().parse(path.read_bytes())


def walk(node: tree_sitter.Node) -> Iterator[tree_sitter.Node]:
    yield node
    for child in node.children:
        yield from walk(child)


def text(node: tree_sitter.Node) -> str:
    return node.text.decode("utf-8")


def unquote(literal: str) -> str:
    return literal[1:-1] if literal[:1] in "'\"" and literal[-1:] == literal[:1] else literal


def functions(path: Path) -> list[tree_sitter.Node]:
    return [n for n in walk(parse(path).root_node) if n.type == "function_statement"]


def function_name(func: tree_sitter.Node) -> str:
    return next(text(c) for c in func.children if c.type == "function_name")


def declared_parameters(func: tree_sitter.Node) -> list[str]:
    params = []
    for node in walk(func):
        if node.type == "param_block":
            for script_param in (n for n in walk(node) if n.type == "script_parameter"):
                variable = next(c for c in script_param.children if c.type == "variable")
                params.append(text(variable).lstrip("$"))
            break
    return params


def help_comment(func: tree_sitter.Node) -> str:
    """The comment-based help block: a <# #> comment at the start of the function body."""
    for child in func.children:
        if child.type == "comment" and text(child).startswith("<#"):
            return text(child)
        if child.type == "script_block":
            break
    return ""


def help_sections(comment: str) -> dict[str, list[str]]:
    """{'SYNOPSIS': [text], 'PARAMETER': ['Name', ...], 'EXAMPLE': [...]} from a help comment."""
    sections: dict[str, list[str]] = {}
    for match in re.finditer(r"^\s*\.([A-Z]+)[ \t]*(\S*)[ \t]*\n(.*?)(?=^\s*\.[A-Z]+\b|#>)", comment, re.M | re.S):
        keyword, argument, body = match.group(1), match.group(2), match.group(3).strip()
        sections.setdefault(keyword, []).append(argument if keyword == "PARAMETER" else body)
        if keyword == "PARAMETER":
            sections.setdefault("PARAMETER_BODY", []).append(body)
    return sections


def cli_invocations(func: tree_sitter.Node) -> list[tuple[str | None, tree_sitter.Node]]:
    """(value of -Command if a string literal else None, command node) for every Invoke-CcsCli call."""
    calls = []
    for node in walk(func):
        if node.type != "command":
            continue
        name = next((c for c in node.children if c.type == "command_name"), None)
        if name is None or text(name).lower() != "invoke-ccscli":
            continue
        elements = next((c for c in node.children if c.type == "command_elements"), None)
        items = [c for c in (elements.children if elements else []) if c.type != "command_argument_sep"]
        command = None
        for i, item in enumerate(items):
            if item.type == "command_parameter" and text(item).lower() == "-command" and i + 1 < len(items):
                literals = [n for n in walk(items[i + 1]) if n.type == "string_literal"]
                if len(literals) == 1 and text(items[i + 1]) == text(literals[0]):
                    command = unquote(text(literals[0]))
        calls.append((command, node))
    return calls


@lru_cache(maxsize=1)
def registry() -> dict[str, dict]:
    return {entry["path"]: entry for entry in describe_tree(cli)["commands"]}


# --- tests --------------------------------------------------------------------------------------------------

def test_module_layout_exists():
    assert (MODULE / "CrossCloudSync.psd1").is_file() and (MODULE / "CrossCloudSync.psm1").is_file()
    stems = [p.stem for p in PUBLIC]
    for expected in ("Connect-CcsTenant", "Export-CcsTenant", "Find-CcsTenantCloud", "Get-CcsCloud",
                     "Get-CcsLicenseEligibility", "New-CcsSyncPlan", "Start-CcsDemo"):
        assert expected in stems
    assert [p.stem for p in PRIVATE] == ["Invoke-CcsCli"]


def test_parser_reports_syntax_errors():
    # Guards the next test: a broken file must be seen as broken.
    assert _parser().parse(b"function Get-X { param( [string] $a \n if (").root_node.has_error


@pytest.mark.parametrize("path", ALL_SOURCES, ids=lambda p: str(p.relative_to(MODULE)))
def test_powershell_source_has_no_syntax_errors(path):
    assert not parse(path).root_node.has_error


@pytest.mark.parametrize("path", PUBLIC + PRIVATE, ids=lambda p: p.name)
def test_one_function_per_file_named_after_the_file(path):
    funcs = functions(path)
    assert [function_name(f) for f in funcs] == [path.stem]


def _manifest_list(key: str) -> list[str]:
    tree = parse(MODULE / "CrossCloudSync.psd1")
    for node in walk(tree.root_node):
        if node.type == "hash_entry":
            key_node = next(c for c in node.children if c.type == "key_expression")
            if text(key_node) == key:
                return [unquote(text(n)) for n in walk(node) if n.type == "string_literal"]
    raise AssertionError(f"{key} not in the manifest")


def test_manifest_exports_equal_public_file_names():
    assert sorted(_manifest_list("FunctionsToExport")) == [p.stem for p in PUBLIC]


def test_manifest_fields():
    assert _manifest_list("RootModule") == ["CrossCloudSync.psm1"]
    assert _manifest_list("ModuleVersion") == ["0.1.0"]
    assert _manifest_list("PowerShellVersion") == ["7.2"]
    guid = _manifest_list("GUID")
    assert len(guid) == 1 and re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", guid[0])


@pytest.mark.parametrize("path", PUBLIC + PRIVATE, ids=lambda p: p.name)
def test_comment_based_help_is_complete(path):
    func = functions(path)[0]
    sections = help_sections(help_comment(func))
    for keyword in ("SYNOPSIS", "DESCRIPTION", "EXAMPLE"):
        assert sections.get(keyword) and all(sections[keyword]), f"{path.name}: .{keyword} missing or empty"
    declared = declared_parameters(func)
    assert sorted(sections.get("PARAMETER", [])) == sorted(declared), f"{path.name}: .PARAMETER vs param()"
    assert all(sections.get("PARAMETER_BODY", [])), f"{path.name}: a .PARAMETER has no description"


@pytest.mark.parametrize("path", PUBLIC + PRIVATE, ids=lambda p: p.name)
def test_cmdletbinding_and_output_type_declared(path):
    func = functions(path)[0]
    attributes = [text(n).replace(" ", "").lower() for n in walk(func) if n.type == "attribute"]
    assert any(a.startswith("[cmdletbinding(") for a in attributes)
    assert "[outputtype([pscustomobject])]" in attributes


# CLI commands that write to a tenant: their cmdlets must ask before acting (dbatools' habit, STYLE.md).
TENANT_WRITERS = {"apply", "xts enable", "xts disable", "xts provision", "xts pause", "xts start", "xts restart"}


@pytest.mark.parametrize("path", PUBLIC, ids=lambda p: p.name)
def test_cmdlets_that_change_a_tenant_support_whatif_and_confirm(path):
    func = functions(path)[0]
    commands = {command for command, _ in cli_invocations(func)}
    if not commands & TENANT_WRITERS:
        return
    attributes = [text(n).replace(" ", "").lower() for n in walk(func) if n.type == "attribute"]
    assert "[cmdletbinding(supportsshouldprocess,confirmimpact='high')]" in attributes
    assert "$PSCmdlet.ShouldProcess(" in text(func)


@pytest.mark.parametrize("path", PUBLIC, ids=lambda p: p.name)
def test_public_cmdlet_emits_pscustomobjects_and_takes_no_secret(path):
    func = functions(path)[0]
    source = text(func)
    assert "[PSCustomObject]@{" in source
    assert not [p for p in declared_parameters(func) if re.search(r"secret|password|token", p, re.I)]


@pytest.mark.parametrize("path", PUBLIC, ids=lambda p: p.name)
def test_cli_invocations_name_registered_commands_and_options(path):
    func = functions(path)[0]
    calls = cli_invocations(func)
    assert calls, f"{path.name} never calls Invoke-CcsCli"
    for command, node in calls:
        assert command is not None, f"{path.name}: -Command must be a string literal: {text(node)}"
        assert command in registry(), f"{path.name}: 'ccsync {command}' is not a ccsync command"
        assert registry()[command]["invokable"], f"{path.name}: 'ccsync {command}' needs a subcommand"
    # Every option spelled in the cmdlet ('--login-url') must be an option of the command(s) it calls.
    known = {opt for command, _ in calls for p in registry()[command]["params"] for opt in p["opts"]}
    spelled = {unquote(text(n)) for n in walk(func) if n.type == "string_literal"}
    options = {s for s in spelled if s.startswith("--")}
    assert options <= known, f"{path.name}: unknown ccsync options {sorted(options - known)}"


def test_cli_wrapper_appends_json_output_and_uses_ccsync_exe():
    func = functions(MODULE / "Private" / "Invoke-CcsCli.ps1")[0]
    source = text(func)
    assert "@('--output', 'json')" in source
    assert "$env:CCSYNC_EXE" in source and "ThrowTerminatingError" in source


def test_every_registered_leaf_command_is_wrapped_or_deliberately_not():
    """New CLI commands must get a cmdlet (or be listed here with the reason they have none)."""
    not_wrapped = {
        "commands": "tooling: the registry itself",
        "sim serve": "runs until Ctrl-C in a terminal; not a pipeline cmdlet",
        "sim portal tick-cross-cloud-sync": "a simulated admin's portal click, for the simulator only",
        "sim portal create-configuration": "a simulated admin's portal click, for the simulator only",
        "sim run-cycle": "advances the simulator's sync clock; for the simulator only",
    }
    wrapped = {command for path in PUBLIC for command, _ in cli_invocations(functions(path)[0])}
    invokable = {path for path, entry in registry().items() if entry["invokable"]}
    assert sorted(invokable - wrapped - set(not_wrapped)) == []
