"""The one command registry drives both faces: every CLI command has a cmdlet, every cmdlet parameter maps to a
CLI option, and every CLI option has a cmdlet parameter (or is set by the module).

The mapping is read, not hand-listed: each Public cmdlet's ``Invoke-CcsCli -Command '...'`` call(s) name its
command(s) (tree-sitter-powershell), and its parameters map to options by one rule: the PowerShell PascalCase
of the option (``--target-cloud`` -> ``TargetCloud``). Exceptions (renamed parameters, positional arguments,
PowerShell-only parameters, options the module sets, commands without a cmdlet) are declared in one place,
``ps/CrossCloudSync/CrossCloudSync.ParameterMap.psd1``, which the module itself uses to build command lines.

Left out of "every command": ``commands`` (the registry itself) and ``sim serve`` (a terminal server, Ctrl-C to
stop); the map says why. Hidden commands and groups that cannot run alone are not capabilities.
"""

from __future__ import annotations

import re
from functools import lru_cache

import pytest

from ps_source import (MODULE, PUBLIC, cli_invocations, declared_parameters, emitted_objects, functions,
                       parameter_attributes, parameter_map, registry, text, unquote, walk)

MAP = parameter_map()


def kebab(name: str) -> str:
    """The rule, as ConvertTo-CcsCliArgument.ps1 applies it: TargetCloud -> --target-cloud."""
    return "--" + re.sub(r"(?<=[a-z0-9])([A-Z])", r"-\1", name).lower()


def pascal(option: str) -> str:
    """The rule read the other way: --target-cloud -> TargetCloud, plan_path -> PlanPath."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[-_]", option.lstrip("-")) if part)


def test_the_rule_round_trips():
    for option in ("--target-cloud", "--login-url", "--ca-bundle", "--retry-failed", "--quota-window-scale"):
        assert kebab(pascal(option)) == option


@lru_cache(maxsize=1)
def cmdlets() -> dict[str, dict]:
    """cmdlet -> {"commands": [...], "params": [...], "literals": {--options spelled in the source}}."""
    out = {}
    for path in PUBLIC:
        func = functions(path)[0]
        out[path.stem] = {
            "commands": sorted({c for c, _ in cli_invocations(func) if c}),
            "params": declared_parameters(func),
            "literals": {unquote(text(n)) for n in walk(func) if n.type == "string_literal"
                         and unquote(text(n)).startswith("--")},
        }
    return out


def mapped_name(cmdlet: str, parameter: str) -> str:
    renamed = MAP["Renamed"]
    return (renamed.get(cmdlet, {}).get(parameter) or renamed.get("*", {}).get(parameter) or kebab(parameter))


def wrapped_cmdlets() -> list[str]:
    return [c for c in cmdlets() if c not in MAP["ModuleOnly"]]


def capabilities() -> list[str]:
    return sorted(p for p, e in registry().items() if e["invokable"] and not e["hidden"])


def test_every_cli_command_has_a_cmdlet():
    wrapped = {command for info in cmdlets().values() for command in info["commands"]}
    missing = [c for c in capabilities() if c not in wrapped and c not in MAP["NoCmdlet"]]
    assert not missing, (f"ccsync commands without a cmdlet: {missing}. Add a Public/<Verb>-Ccs<Noun>.ps1 that calls "
                         "Invoke-CcsCli -Command '<path>' -BoundParameters $PSBoundParameters (README: PowerShell "
                         "module), or list the command under NoCmdlet in CrossCloudSync.ParameterMap.psd1 with why.")


def test_the_map_names_only_real_commands_and_cmdlets():
    assert set(MAP["NoCmdlet"]) <= set(capabilities()), "NoCmdlet lists a command ccsync no longer has"
    wrapped = {command for info in cmdlets().values() for command in info["commands"]}
    assert not set(MAP["NoCmdlet"]) & wrapped, "a command listed under NoCmdlet has a cmdlet"
    assert set(MAP["ModuleOnly"]) <= set(cmdlets())
    for scope in list(MAP["Renamed"]) + list(MAP["PowerShellOnly"]):
        assert scope == "*" or scope in cmdlets(), f"the parameter map names an unknown cmdlet {scope}"
    assert set(MAP["TenantWriters"]) <= set(capabilities())
    for command in MAP["ModuleOptions"]:
        assert command == "*" or command in registry()


@pytest.mark.parametrize("cmdlet", sorted(cmdlets()), ids=str)
def test_every_cmdlet_parameter_maps_to_a_cli_option(cmdlet):
    info = cmdlets()[cmdlet]
    ps_only = set(MAP["PowerShellOnly"].get(cmdlet, []))
    assert ps_only <= set(info["params"]), f"{cmdlet}: PowerShellOnly names an undeclared parameter"
    for parameter in MAP["Renamed"].get(cmdlet, {}):
        assert parameter in info["params"], f"{cmdlet}: Renamed names an undeclared parameter -{parameter}"
    if cmdlet in MAP["ModuleOnly"]:
        return
    options = {o for command in info["commands"] for p in registry()[command]["params"] for o in p["opts"]}
    for parameter in info["params"]:
        if parameter in ps_only:
            continue
        name = mapped_name(cmdlet, parameter)
        assert name in options, (f"{cmdlet} -{parameter} maps to '{name}', which 'ccsync {' / '.join(info['commands'])}' "
                                 f"does not take. Rename the parameter to {pascal(sorted(options)[0]) if options else '?'}"
                                 "-style PascalCase of its option, or declare it in CrossCloudSync.ParameterMap.psd1.")


@pytest.mark.parametrize("command", [c for c in capabilities()], ids=str)
def test_every_cli_option_has_a_cmdlet_parameter(command):
    if command in MAP["NoCmdlet"]:
        return
    callers = [c for c in wrapped_cmdlets() if command in cmdlets()[c]["commands"]]
    covered = set(MAP["ModuleOptions"].get("*", [])) | set(MAP["ModuleOptions"].get(command, []))
    for cmdlet in callers:
        info = cmdlets()[cmdlet]
        covered |= {mapped_name(cmdlet, p) for p in info["params"]} | info["literals"]
    common = set(MAP["CommonOptions"])
    for param in registry()[command]["params"]:
        opts = set(param["opts"])
        if opts & common or param["common"]:
            continue
        assert opts & covered, (f"'ccsync {command}' {param['opts'][0]} has no parameter on "
                                f"{' / '.join(callers)}: add -{pascal(param['opts'][0] if param['kind'] == 'option' else param['name'])} "
                                "or declare it in CrossCloudSync.ParameterMap.psd1")


@pytest.mark.parametrize("cmdlet", sorted(cmdlets()), ids=str)
def test_positional_arguments_are_declared(cmdlet):
    """The rule yields options (--x); a parameter feeding a positional argument must be declared as such."""
    if cmdlet in MAP["ModuleOnly"]:
        return
    for command in cmdlets()[cmdlet]["commands"]:
        arguments = {p["name"] for p in registry()[command]["params"] if p["kind"] == "argument"}
        for parameter in cmdlets()[cmdlet]["params"]:
            name = mapped_name(cmdlet, parameter)
            if name.lstrip("-").replace("-", "_") in arguments:
                assert not name.startswith("-"), f"{cmdlet} -{parameter} feeds argument {name}: declare it in Renamed"


def _cmdlet_function(cmdlet: str):
    return functions(MODULE / "Public" / f"{cmdlet}.ps1")[0]


def test_pipeline_property_names_match_what_cmdlets_emit():
    """Export-CcsTenant | Get-CcsLicenseEligibility (Snapshot), New-CcsSyncPlan | Invoke-CcsSyncPlan (PlanFile,
    and OperationId: piped operations choose which of the plan's operations are applied)."""
    def emitted(cmdlet: str) -> set[str]:
        return {key for obj in emitted_objects(_cmdlet_function(cmdlet)) for key in obj}

    def by_property_name(cmdlet: str, parameter: str) -> set[str]:
        attributes = parameter_attributes(_cmdlet_function(cmdlet)).get(parameter)
        assert attributes is not None, f"{cmdlet} has no -{parameter}"
        assert "ValueFromPipelineByPropertyName" in attributes.get("Parameter", []), f"{cmdlet} -{parameter}"
        return {parameter, *attributes.get("Alias", [])}

    assert by_property_name("Get-CcsLicenseEligibility", "Source") & emitted("Export-CcsTenant") == {"Snapshot"}
    assert by_property_name("Invoke-CcsSyncPlan", "Path") & emitted("New-CcsSyncPlan") == {"PlanFile"}
    assert by_property_name("Invoke-CcsSyncPlan", "OperationId") & emitted("New-CcsSyncPlan") == {"OperationId"}
    # ccsync's own documents name an operation opId: objects from its JSON bind too.
    assert "OpId" in by_property_name("Invoke-CcsSyncPlan", "OperationId")


def _creplace_rule() -> tuple[str, str]:
    """The pattern and replacement of the one -creplace in ConvertTo-CcsCliArgument.ps1 (parsed, not grepped)."""
    func = functions(MODULE / "Private" / "ConvertTo-CcsCliArgument.ps1")[0]
    found = []
    for node in walk(func):
        operators = [c for c in node.children if c.type == "comparison_operator" and text(c).lower() == "-creplace"]
        if node.type == "comparison_expression" and operators:
            right = node.children[node.children.index(operators[0]) + 1]
            literals = [unquote(text(c)) for c in walk(right) if c.type == "string_literal"]
            found.append((literals[0], literals[1]))
    assert len(found) == 1, found
    return found[0]


def test_the_module_applies_the_same_rule():
    """ConvertTo-CcsCliArgument.ps1 builds command lines with the rule this test reads cmdlets by: its
    -creplace pattern and replacement, run here, give the same option for every cmdlet parameter."""
    pattern, replacement = _creplace_rule()
    python_replacement = re.sub(r"\$(\d)", r"\\\1", replacement)
    names = {p for info in cmdlets().values() for p in info["params"]} | {"TargetCloud", "CaBundle", "QuotaWindowScale"}
    for name in sorted(names):
        assert "--" + re.sub(pattern, python_replacement, name).lower() == kebab(name), name
    assert kebab("TargetCloud") == "--target-cloud" and kebab("CaBundle") == "--ca-bundle"


def _path_typed(cmdlet: str, parameter: str) -> bool | None:
    """Whether the option or argument -parameter feeds is a path in the registry (None: it feeds none)."""
    name = mapped_name(cmdlet, parameter)
    types = {p["type"] for command in cmdlets()[cmdlet]["commands"] for p in registry()[command]["params"]
             if name in p["opts"] or name == p["name"]}
    return bool(types & {"file", "directory", "path"}) if types else None


def test_paths_are_the_parameters_whose_option_is_a_path():
    """The map's Paths (resolved against PowerShell's location before crossing the bridge) are exactly the
    parameters whose ccsync option or argument is a file or folder, on every cmdlet that declares them."""
    declared = set(MAP["Paths"])
    found: dict[str, set[bool]] = {}
    for cmdlet in wrapped_cmdlets():
        for parameter in cmdlets()[cmdlet]["params"]:
            typed = _path_typed(cmdlet, parameter)
            if typed is not None:
                found.setdefault(parameter, set()).add(typed)
    mixed = {p for p, kinds in found.items() if len(kinds) > 1}
    assert not mixed, f"a parameter name is a path on one cmdlet and not on another: {sorted(mixed)}"
    assert declared == {p for p, kinds in found.items() if True in kinds}
