"""The PowerShell module's sources as parsed structure (tree-sitter-powershell; no pwsh on these machines).

Helpers for tests/test_ps_*.py: parse a file, walk its nodes, read a .psd1 as Python data, and find what the
tests check by structure rather than by text: functions and their parameters with attributes, comment-based
help, Invoke-CcsCli calls, method invocations (``$PSCmdlet.ShouldProcess(...)``), commands with their
arguments, the objects a cmdlet emits (``[PSCustomObject]@{...}``) and the loops around a node.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Iterator

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


def invocations(root: tree_sitter.Node) -> list[tuple[str, str, list[str], tree_sitter.Node]]:
    """Every method call under ``root``: (receiver, member, argument texts, node), e.g.
    ('$PSCmdlet', 'ShouldProcess', ['$target', '$action'], node) or ('[Python.Runtime.Py]', 'GIL', [], node)."""
    out = []
    for node in walk(root):
        if node.type != "invokation_expression":
            continue
        receiver = node.children[0]
        member = next((c for c in node.children if c.type == "member_name"), None)
        arguments = next((c for c in node.children if c.type == "argument_list"), None)
        args = [text(a) for a in walk(arguments) if a.type == "argument_expression"
                and a.parent.type == "argument_expression_list"] if arguments else []
        out.append((text(receiver), text(member) if member else "", args, node))
    return out


def commands(root: tree_sitter.Node, name: str) -> list[tuple[dict[str, str | None], list[str], tree_sitter.Node]]:
    """Every call of command ``name`` under ``root``: ({-Parameter: value text or None}, positional texts, node)."""
    out = []
    for node in walk(root):
        if node.type != "command":
            continue
        command_name = next((c for c in node.children if c.type == "command_name"), None)
        if command_name is None or text(command_name).lower() != name.lower():
            continue
        elements = next((c for c in node.children if c.type == "command_elements"), None)
        items = [c for c in (elements.children if elements else []) if c.type != "command_argument_sep"]
        named: dict[str, str | None] = {}
        positional: list[str] = []
        index = 0
        while index < len(items):
            item = items[index]
            if item.type == "command_parameter":
                following = items[index + 1] if index + 1 < len(items) else None
                if following is not None and following.type != "command_parameter" and not text(item).endswith(":"):
                    named[text(item)] = text(following)
                    index += 2
                    continue
                named[text(item).rstrip(":")] = None
            else:
                positional.append(text(item))
            index += 1
        out.append((named, positional, node))
    return out


def emitted_objects(root: tree_sitter.Node) -> list[dict[str, str]]:
    """Each ``[PSCustomObject]@{...}`` under ``root`` as {key: value text} in order."""
    out = []
    for node in walk(root):
        if node.type != "cast_expression":
            continue
        kind = next((c for c in node.children if c.type == "type_literal"), None)
        operand = next((c for c in node.children if c.type != "type_literal"), None)
        table = next((n for n in walk(operand) if n.type == "hash_literal_expression"), None) if operand else None
        if kind is None or table is None or text(kind).lower() != "[pscustomobject]":
            continue
        body = next((c for c in table.children if c.type == "hash_literal_body"), None)
        entries = {}
        for entry in (c for c in (body.children if body else []) if c.type == "hash_entry"):
            key = unquote(text(next(c for c in entry.children if c.type == "key_expression")))
            value = [c for c in entry.children if c.type not in ("key_expression", "=", ";", "comment")]
            entries[key] = text(value[0]) if value else ""
        out.append(entries)
    return out


def parameter_attributes(func: tree_sitter.Node) -> dict[str, dict[str, list[str]]]:
    """{parameter: {attribute name: [argument texts, string literals unquoted]}} from the param() block;
    type constraints appear under the key 'type' ('[string[]]')."""
    out: dict[str, dict[str, list[str]]] = {}
    block = next((n for n in walk(func) if n.type == "param_block"), None)
    for script_param in (n for n in walk(block) if n.type == "script_parameter") if block else []:
        name = text(next(c for c in script_param.children if c.type == "variable")).lstrip("$")
        attributes: dict[str, list[str]] = {}
        for attribute in (n for n in walk(script_param) if n.type == "attribute"):
            type_literal = next((c for c in attribute.children if c.type == "type_literal"), None)
            if type_literal is not None:
                attributes.setdefault("type", []).append(text(type_literal))
                continue
            attribute_name = text(next(c for c in attribute.children if c.type == "attribute_name"))
            arguments = [unquote(text(a)) for a in walk(attribute) if a.type == "attribute_argument"]
            attributes.setdefault(attribute_name, []).extend(arguments)
        out[name] = attributes
    return out


_LOOPS = {"foreach_statement", "for_statement", "while_statement", "do_statement"}


def enclosing_loops(node: tree_sitter.Node, stop: tree_sitter.Node | None = None) -> list[tree_sitter.Node]:
    """The loops around ``node`` (foreach/for/while/do statements and ForEach-Object script blocks), inner first."""
    loops = []
    parent = node.parent
    while parent is not None and parent != stop:
        if parent.type in _LOOPS:
            loops.append(parent)
        elif parent.type == "command" and any(c.type == "command_name" and text(c).lower() in ("foreach-object", "%")
                                              for c in parent.children):
            loops.append(parent)
        parent = parent.parent
    return loops


def if_condition_of(node: tree_sitter.Node) -> tree_sitter.Node | None:
    """The if statement whose condition holds ``node`` (so the node decides what runs), else None."""
    child, parent = node, node.parent
    while parent is not None:
        if parent.type in ("if_statement", "elseif_clause"):
            condition_index = [c.type for c in parent.children].index("(") + 1
            return parent if parent.children[condition_index] == child else None
        if parent.type in ("statement_block", "script_block", "statement_list"):
            return None
        child, parent = parent, parent.parent
    return None
