"""The PowerShell module ps/CrossCloudSync, checked from Python with tree-sitter (no pwsh on this machine).

Syntax of every file (.ps1, .psm1, .psd1 with tree-sitter; .ps1xml as XML); one function per file named after
it; the manifest's exports equal Public/; complete comment-based help with .LINK on every cmdlet; the about
topic; default views for every output type; ShouldProcess where a tenant changes; secrets only as SecureString
or PSCredential; and every cmdlet's ccsync invocation names a command (and options) in the click registry.
The cmdlet <-> CLI parity in both directions is tests/test_ps_parity.py.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
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
XML_SOURCES = sorted(MODULE.rglob("*.ps1xml"))
PARAMETER_MAP = MODULE / "CrossCloudSync.ParameterMap.psd1"


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


_PASS_THROUGH = {"program", "statement_list", "pipeline", "pipeline_chain", "logical_expression",
                 "bitwise_expression", "comparison_expression", "additive_expression", "multiplicative_expression",
                 "format_expression", "range_expression", "array_literal_expression", "unary_expression",
                 "parenthesized_expression"}


def data_value(node: tree_sitter.Node):
    """A PowerShell data literal (hashtable, @() array, string) as Python: dict, list, str."""
    if node.type == "hash_literal_expression":
        out = {}
        body = next((c for c in node.children if c.type == "hash_literal_body"), None)
        for entry in (c for c in (body.children if body else []) if c.type == "hash_entry"):
            key = unquote(text(next(c for c in entry.children if c.type == "key_expression")))
            value = [c for c in entry.children if c.type not in ("key_expression", "=", ";", "comment")]
            out[key] = data_value(value[0]) if value else None
        return out
    if node.type == "string_literal":
        return unquote(text(node))
    if node.type == "array_expression":
        items = []
        for child in node.children:
            if child.type == "statement_list":
                items.extend(_array_items(child))
        return items
    if node.type in _PASS_THROUGH:
        named = [c for c in node.children if c.type not in (",", "comment", ";")]
        if node.type == "array_literal_expression" and len(named) > 1:
            return [data_value(c) for c in named]
        if len(named) == 1:
            return data_value(named[0])
    return text(node)


def _array_items(node: tree_sitter.Node) -> list:
    items = []
    for child in node.children:
        if child.type in ("comment", ";", "\n"):
            continue
        value = data_value(child)
        items.extend(value if isinstance(value, list) else [value])
    return items


@lru_cache(maxsize=None)
def psd1(path: Path) -> dict:
    """A .psd1 data file as a Python dict."""
    return data_value(parse(path).root_node)


def parameter_map() -> dict:
    return psd1(PARAMETER_MAP)


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
                     "Get-CcsLicenseEligibility", "New-CcsSyncPlan", "Start-CcsDemo", "Get-CcsBridge"):
        assert expected in stems
    for expected in ("Invoke-CcsCli", "Invoke-CcsEngine", "Initialize-CcsBridge", "ConvertTo-CcsCliArgument",
                     "ConvertFrom-CcsDotNet", "Write-CcsProgress", "New-CcsErrorRecord", "Find-CcsPython"):
        assert expected in [p.stem for p in PRIVATE]


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
    assert any(a.startswith("[outputtype(") for a in attributes)


@pytest.mark.parametrize("path", PUBLIC, ids=lambda p: p.name)
def test_public_cmdlet_help_links_and_output_type(path):
    func = functions(path)[0]
    sections = help_sections(help_comment(func))
    assert sections.get("LINK") and all(sections["LINK"]), f"{path.name}: .LINK missing"
    assert "about_CrossCloudSync" in sections["LINK"], f"{path.name}: .LINK about_CrossCloudSync missing"
    attributes = [text(n).replace(" ", "").lower() for n in walk(func) if n.type == "attribute"]
    assert "[outputtype([pscustomobject])]" in attributes or path.stem == "Get-CcsDefaultMapping"


def _cmdletbinding(func) -> str:
    attributes = [text(n).replace(" ", "").lower() for n in walk(func) if n.type == "attribute"]
    return next(a for a in attributes if a.startswith("[cmdletbinding("))


@pytest.mark.parametrize("path", PUBLIC, ids=lambda p: p.name)
def test_cmdlets_that_change_a_tenant_support_whatif_and_confirm(path):
    """Commands the parameter map lists as tenant writers: ShouldProcess with the declared ConfirmImpact
    (dbatools' habit, STYLE.md), and a ShouldProcess call that decides what runs."""
    func = functions(path)[0]
    writers = parameter_map()["TenantWriters"]
    commands = {command for command, _ in cli_invocations(func)}
    impacts = {writers[c] for c in commands if c in writers}
    binding = _cmdletbinding(func)
    if "supportsshouldprocess" in binding:
        assert "$PSCmdlet.ShouldProcess(" in text(func), f"{path.name} offers -WhatIf but never asks"
    if not impacts:
        return
    assert len(impacts) == 1
    assert binding == f"[cmdletbinding(supportsshouldprocess,confirmimpact='{impacts.pop().lower()}')]"
    assert "$PSCmdlet.ShouldProcess(" in text(func)


SECRET_NAME = re.compile(r"secret|password|token|credential|key", re.I)


@pytest.mark.parametrize("path", PUBLIC, ids=lambda p: p.name)
def test_public_cmdlet_emits_objects_and_takes_secrets_only_as_securestring(path):
    func = functions(path)[0]
    source = text(func)
    assert "[PSCustomObject]@{" in source or path.stem in ("Get-CcsBridge", "Get-CcsDefaultMapping")
    for script_param in (n for n in walk(func) if n.type == "script_parameter"):
        name = text(next(c for c in script_param.children if c.type == "variable")).lstrip("$")
        if SECRET_NAME.search(name):
            types = {text(n).lower() for n in walk(script_param) if n.type == "type_literal"}
            assert types & {"[securestring]", "[pscredential]", "[system.security.securestring]",
                            "[system.management.automation.pscredential]"}, f"{path.name}: -{name} must be a SecureString or PSCredential"


def _module_only() -> set[str]:
    return set(parameter_map()["ModuleOnly"])


@pytest.mark.parametrize("path", PUBLIC, ids=lambda p: p.name)
def test_cli_invocations_name_registered_commands_and_options(path):
    func = functions(path)[0]
    calls = cli_invocations(func)
    if path.stem in _module_only():
        assert not calls, f"{path.name} is listed as module-only but calls ccsync"
        return
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


def test_engine_appends_json_output_uses_ccsync_exe_and_the_bridge():
    source = text(functions(MODULE / "Private" / "Invoke-CcsEngine.ps1")[0])
    assert "@('--output', 'json')" in source and "$env:CCSYNC_EXE" in source
    assert "[Python.Runtime.Py]::GIL()" in source and "'toolkit.interop.entry'" in source
    assert "InvokeMethod('invoke'" in source and ".Dispose()" in source
    assert "ThrowTerminatingError" in text(functions(MODULE / "Private" / "Invoke-CcsCli.ps1")[0])


def test_write_progress_is_called_in_one_place_only():
    callers = [p.stem for p in PUBLIC + PRIVATE
               if any(n.type == "command_name" and text(n).lower() == "write-progress"
                      for n in walk(parse(p).root_node))]
    assert callers == ["Write-CcsProgress"]


def test_only_the_engine_and_bridge_touch_python_runtime():
    touching = sorted(p.stem for p in PUBLIC + PRIVATE
                      if "[Python.Runtime." in p.read_text(encoding="utf-8").split("#>", 1)[-1])
    assert touching == ["Initialize-CcsBridge", "Invoke-CcsEngine"]


def test_public_cmdlets_call_invoke_ccscli_not_the_engine():
    for path in PUBLIC:
        names = {text(n).lower() for n in walk(parse(path).root_node) if n.type == "command_name"}
        if path.stem in _module_only():
            continue
        assert not names & {"invoke-ccsengine", "initialize-ccsbridge"}, path.name


@pytest.mark.parametrize("path", XML_SOURCES, ids=lambda p: p.name)
def test_ps1xml_is_well_formed_xml(path):
    ET.parse(path)


def _output_type_names() -> set[str]:
    names = set()
    for path in PUBLIC + [MODULE / "Private" / "Initialize-CcsBridge.ps1"]:
        for match in re.finditer(r"PSTypeName\s*=\s*'([^']+)'", path.read_text(encoding="utf-8")):
            names.add(match.group(1))
    return names


def test_every_output_type_has_a_default_view():
    root = ET.parse(MODULE / "CrossCloudSync.Format.ps1xml").getroot()
    viewed = {t.text for t in root.iter("TypeName")}
    assert len(_output_type_names()) >= 10 and _output_type_names() <= viewed


def test_manifest_links_formats_and_help():
    manifest = psd1(MODULE / "CrossCloudSync.psd1")
    for key in ("ProjectUri", "LicenseUri"):
        assert manifest["PrivateData"]["PSData"][key].startswith("https://")
    assert manifest["HelpInfoURI"].startswith("https://")
    for name in manifest["FormatsToProcess"]:
        assert (MODULE / name).is_file()


def test_about_topic_names_every_cmdlet_and_both_bridge_modes():
    about = (MODULE / "en-US" / "about_CrossCloudSync.help.txt").read_text(encoding="utf-8")
    assert about.startswith("TOPIC\n    about_CrossCloudSync")
    for path in PUBLIC:
        assert path.stem in about, f"about_CrossCloudSync does not mention {path.stem}"
    for words in ("In-process", "CLI:", "CCSYNC_PYTHON", "CCSYNC_BRIDGE", "-WhatIf", "secret"):
        assert words in about


def test_cli_mode_error_categories_equal_the_bridges():
    """CLI mode reads the category from the module's table; the bridge from toolkit/interop/errors.py."""
    import click

    from toolkit import errors
    from toolkit.interop.errors import category_of

    node = next(n for n in walk(parse(MODULE / "CrossCloudSync.psm1").root_node)
                if n.type == "assignment_expression" and "$script:CcsErrorCategories" in text(n).split("=")[0])
    table = data_value(next(n for n in walk(node) if n.type == "hash_literal_expression"))
    classes = [errors.CcsyncError, *errors.CcsyncError.__subclasses__(), *errors.GraphError.__subclasses__()]
    expected = {cls.__name__: category_of(cls) for cls in classes}
    expected["UsageError"] = category_of(click.UsageError)
    expected["InternalError"] = category_of(RuntimeError)
    assert {k: table.get(k) for k in expected} == expected
