"""The PowerShell module ps/CrossCloudSync, checked from Python with tree-sitter (no pwsh on this machine).

Syntax of every file (.ps1, .psm1, .psd1 with tree-sitter; .ps1xml as XML); one function per file named after
it; the manifest's exports equal Public/; complete comment-based help with .LINK on every cmdlet; the about
topic; default views for every output type; ShouldProcess where a tenant changes; secrets only as SecureString
or PSCredential; and every cmdlet's ccsync invocation names a command (and options) in the click registry.
The cmdlet <-> CLI parity in both directions is tests/test_ps_parity.py.
"""

from __future__ import annotations

import re
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ps_source import (ALL_SOURCES, MODULE, PARAMETER_MAP, PRIVATE, PUBLIC, XML_SOURCES, _parser, cli_invocations,
                       commands, data_value, declared_parameters, emitted_objects, enclosing_loops, function_name,
                       functions, help_comment, help_sections, if_condition_of, invocations, parameter_map, parse,
                       psd1, registry, text, unquote, walk)


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


def decisions(func) -> list:
    """The ShouldProcess questions whose answer decides what runs: ``$PSCmdlet.ShouldProcess(...)`` or
    ``Confirm-CcsChange -Cmdlet $PSCmdlet ...`` (the one private wrapper) in an if condition."""
    asked = [n for receiver, member, _, n in invocations(func) if receiver.lower() == "$pscmdlet"
             and member.lower() == "shouldprocess"]
    asked += [n for named, _, n in commands(func, "Confirm-CcsChange") if (named.get("-Cmdlet") or "").lower() == "$pscmdlet"]
    return [n for n in asked if if_condition_of(n) is not None]


# Cmdlets that ask per item (STYLE.md: dbatools), and what an item is.
PER_ITEM = {"Invoke-CcsSyncPlan": "operation (user)", "Enable-CcsCrossTenantSync": "configuration step",
            "Invoke-CcsCrossTenantSyncProvisioning": "user"}


@pytest.mark.parametrize("path", PUBLIC, ids=lambda p: p.name)
def test_cmdlets_that_change_a_tenant_support_whatif_and_confirm(path):
    """Commands the parameter map lists as tenant writers: ShouldProcess with the declared ConfirmImpact
    (dbatools' habit, STYLE.md), and a ShouldProcess call that decides what runs (an if condition)."""
    func = functions(path)[0]
    writers = parameter_map()["TenantWriters"]
    called = {command for command, _ in cli_invocations(func)}
    impacts = {writers[c] for c in called if c in writers}
    binding = _cmdletbinding(func)
    if "supportsshouldprocess" in binding:
        assert decisions(func), f"{path.name} offers -WhatIf but never asks"
    if not impacts:
        return
    assert len(impacts) == 1
    assert binding == f"[cmdletbinding(supportsshouldprocess,confirmimpact='{impacts.pop().lower()}')]"
    assert decisions(func), f"{path.name} changes a tenant without asking"


@pytest.mark.parametrize("cmdlet", sorted(PER_ITEM), ids=str)
def test_per_item_cmdlets_ask_inside_the_loop_and_write_once_after_it(cmdlet):
    """ShouldProcess per item: a deciding question inside a loop over the items, and the call that writes
    (Invoke-CcsCli with --yes, or the only call) outside that loop: asked first, then applied once."""
    func = functions(MODULE / "Public" / f"{cmdlet}.ps1")[0]
    in_loops = [(n, enclosing_loops(n, func)) for n in decisions(func)]
    in_loops = [(n, loops[0]) for n, loops in in_loops if loops]
    assert in_loops, f"{cmdlet} does not ask per {PER_ITEM[cmdlet]}"
    calls = [node for _, node in cli_invocations(func)]
    writing = [node for node in calls if "'--yes'" in {text(s) for s in walk(node) if s.type == "string_literal"}]
    writing = writing or calls
    per_item = [loop for _, loop in in_loops if all(loop not in enclosing_loops(w, func) for w in writing)]
    assert per_item, f"{cmdlet}: every per-item question has the write inside its loop (asked and written per item)"


SECRET_NAME = re.compile(r"secret|password|token|credential|key", re.I)


@pytest.mark.parametrize("path", PUBLIC, ids=lambda p: p.name)
def test_public_cmdlet_emits_objects_and_takes_secrets_only_as_securestring(path):
    func = functions(path)[0]
    assert emitted_objects(func) or path.stem in ("Get-CcsBridge", "Get-CcsDefaultMapping")
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
    engine = functions(MODULE / "Private" / "Invoke-CcsEngine.ps1")[0]
    arrays = [data_value(n) for n in walk(engine) if n.type == "array_expression"]
    assert ["--output", "json"] in arrays
    assert "$env:CCSYNC_EXE" in {text(n) for n in walk(engine) if n.type == "variable"}
    calls = {(receiver, member): args for receiver, member, args, _ in invocations(engine)}
    assert ("[Python.Runtime.Py]", "GIL") in calls and ("$gil", "Dispose") in calls
    assert calls[("[Python.Runtime.Py]", "Import")] == ["'toolkit.interop.entry'"]
    assert calls[("$entry", "InvokeMethod")][0] == "'invoke'"
    # The GIL is released whatever happens: Dispose() in the finally block of the try that takes it.
    dispose = next(n for receiver, member, _, n in invocations(engine) if member == "Dispose")
    assert any(p.type == "finally_clause" for p in _ancestors(dispose))
    cli = functions(MODULE / "Private" / "Invoke-CcsCli.ps1")[0]
    assert any(r == "$PSCmdlet" and m == "ThrowTerminatingError" for r, m, _, _ in invocations(cli))


def _ancestors(node) -> list:
    out = []
    while node.parent is not None:
        node = node.parent
        out.append(node)
    return out


def test_write_progress_is_called_in_one_place_only():
    callers = [p.stem for p in PUBLIC + PRIVATE
               if any(n.type == "command_name" and text(n).lower() == "write-progress"
                      for n in walk(parse(p).root_node))]
    assert callers == ["Write-CcsProgress"]


def test_only_the_engine_and_bridge_touch_python_runtime():
    touching = sorted(p.stem for p in PUBLIC + PRIVATE
                      if any(n.type == "type_literal" and text(n).startswith("[Python.Runtime.")
                             for n in walk(functions(p)[0])))
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
        for emitted in emitted_objects(functions(path)[0]):
            if "PSTypeName" in emitted:
                names.add(unquote(emitted["PSTypeName"]))
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
    # One source: pyproject.toml's [project.urls]; the help URI points at this module's en-US folder there.
    urls = tomllib.loads((MODULE.parent.parent / "pyproject.toml").read_text(encoding="utf-8"))["project"]["urls"]
    assert manifest["PrivateData"]["PSData"]["ProjectUri"] == urls["Repository"]
    assert manifest["PrivateData"]["PSData"]["LicenseUri"] == urls["License"]
    help_folder = (MODULE / "en-US").relative_to(MODULE.parent.parent).as_posix()
    assert manifest["HelpInfoURI"] == f"{urls['Repository']}/tree/main/{help_folder}"
    assert urls["License"].endswith("/LICENSE") and (MODULE.parent.parent / "LICENSE").is_file()
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
