"""The command registry: the click command tree, described as data (``ccsync commands``).

PowerShell tooling and tests read this description so the cmdlets and the CLI cannot drift apart.
"""

from __future__ import annotations

from typing import Any, Iterator

import click

from .output import COMMON_OPTION_NAMES, add_rows, common_options, emit, new_table

__all__ = ["walk_commands", "describe_command", "describe_param", "describe_tree", "commands_command"]


def walk_commands(command: click.Command, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    """Yield (path, command) for ``command`` and every command below it, depth first, sorted by name."""
    yield path, command
    if isinstance(command, click.Group):
        for name in sorted(command.commands):
            yield from walk_commands(command.commands[name], path + (name,))


_UNSET = getattr(click.core, "UNSET", None)   # click >= 8.3 marks "no default given" with a sentinel


def _json_default(value: Any) -> Any:
    if _UNSET is not None and value is _UNSET:
        return None
    if callable(value):
        return None  # a computed default has no fixed value to show
    if isinstance(value, tuple):
        return [_json_default(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool, list)):
        return value
    return str(value)


def describe_param(param: click.Parameter) -> dict[str, Any]:
    """Name, kind, switches, type, choices, required, default, multiple, flag, help and hidden (left out of
    ``--help``, e.g. simulator-only options, but still a real option a cmdlet may pass) of one parameter."""
    is_option = isinstance(param, click.Option)
    out: dict[str, Any] = {
        "name": param.name,
        "kind": "option" if is_option else "argument",
        "opts": list(param.opts) + list(param.secondary_opts),
        "type": param.type.name,
        "required": bool(param.required),
        "default": _json_default(param.default),
        "multiple": bool(param.multiple or param.nargs == -1),
        "flag": bool(is_option and param.is_flag),  # type: ignore[union-attr]
        "help": (param.help or "") if is_option else "",  # type: ignore[union-attr]
        "metavar": param.metavar,
        "common": param.name in COMMON_OPTION_NAMES,
        "hidden": bool(getattr(param, "hidden", False)),  # not in --help (simulator-only options); still mapped
    }
    if isinstance(param.type, click.Choice):
        out["choices"] = list(param.type.choices)
    return out


def describe_command(path: tuple[str, ...], command: click.Command) -> dict[str, Any]:
    """One registry entry: the command path (without 'ccsync'), help, and its parameters."""
    is_group = isinstance(command, click.Group)
    return {
        "path": " ".join(path),
        "name": command.name,
        "help": (command.help or "").strip(),
        "shortHelp": command.get_short_help_str(limit=120),
        "group": is_group,
        "invokable": (not is_group) or bool(getattr(command, "invoke_without_command", False)),
        "hidden": bool(command.hidden),
        "params": [describe_param(p) for p in command.params],
    }


def describe_tree(root: click.Command) -> dict[str, Any]:
    """The whole registry: the root's (global) options and every command below it."""
    entries = [describe_command(path, cmd) for path, cmd in walk_commands(root)]
    return {"program": "ccsync", "globalParams": entries[0]["params"], "commands": entries[1:]}


@click.command("commands")
@common_options
@click.pass_context
def commands_command(ctx: click.Context) -> None:
    """List every ccsync command with its help and parameters (the registry PowerShell tooling reads).

    JSON: {"program", "globalParams", "commands": [{"path", "help", "params": [{"name", "kind", "opts",
    "type", "required", "default", "multiple", "flag", "help", "common", "hidden", "choices"?}]}]}.
    """
    registry = describe_tree(ctx.find_root().command)

    def render(console: Any) -> None:
        table = new_table("command", "parameters", "help", title="ccsync commands")
        rows = []
        for entry in registry["commands"]:
            params = [(p["opts"][0] if p["kind"] == "option" else p["name"].upper())
                      for p in entry["params"] if not p["common"]]
            rows.append((f"ccsync {entry['path']}", " ".join(params), entry["shortHelp"]))
        console.print(add_rows(table, rows))

    emit(registry, render)
