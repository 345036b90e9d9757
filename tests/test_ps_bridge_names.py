"""The names the module's bridge code reads are the names toolkit.interop writes (no pwsh needed): the probe's
keys (Initialize-CcsBridge), the answer's keys and the exception Data keys (Invoke-CcsEngine), the request keys
(toolkit.interop.entry.invoke). The PowerShell side is read from its parsed structure (member and element
accesses, the request's hashtable); the Python side by calling the entry point."""

from __future__ import annotations

from typing import Any

from ps_source import MODULE, data_value, functions, invocations, text, unquote, walk
from toolkit.interop import entry, errors
from toolkit.interop.probe import describe
from toolkit.interop.run import CommandRun


def _function(name: str):
    return functions(MODULE / "Private" / f"{name}.ps1")[0]


def _members_read(func, variable: str) -> set[str]:
    """$variable.Name reads (member access, not method calls)."""
    return {text(n.children[-1]) for n in walk(func) if n.type == "member_access"
            and text(n.children[0]).lower() == variable.lower()}


def _elements_read(func, variable: str) -> set[str]:
    """$variable['Name'] reads."""
    out = set()
    for node in walk(func):
        if node.type == "element_access" and text(node.children[0]).lower() == variable.lower():
            keys = [n for n in walk(node.children[2]) if n.type == "string_literal"]
            out.update(unquote(text(k)) for k in keys)
    return out


class _Recorded(dict):
    """A request that records which keys the entry point reads."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.read: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:
        self.read.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> Any:
        self.read.add(key)
        return super().__getitem__(key)


def _call_entry(monkeypatch) -> tuple[_Recorded, Any]:
    monkeypatch.setattr(entry, "run_command", lambda command, arguments, **_: CommandRun(command, list(arguments)))
    monkeypatch.setattr(entry, "to_dotnet", lambda value: value)
    request = _Recorded({"Command": "clouds", "Arguments": [], "WorkingDirectory": None, "Environment": None,
                         "OnOutput": None})
    return request, entry.invoke(request)


def test_initialize_reads_only_what_the_probe_writes():
    read = _members_read(_function("Initialize-CcsBridge"), "$probe")
    assert read and read <= set(describe())


def test_engine_reads_the_answer_and_error_data_the_entry_point_writes(monkeypatch):
    engine = _function("Invoke-CcsEngine")
    answer_keys = _elements_read(engine, "$answer")
    data_keys = _elements_read(engine, "$data") | {
        unquote(args[0]) for receiver, member, args, _ in invocations(engine)
        if receiver == "$data" and member == "Contains"}
    _, answer = _call_entry(monkeypatch)
    assert answer_keys and answer_keys <= set(answer) == {"Document", "ExitCode", "Messages"}
    fields = set(errors.error_fields(RuntimeError("x"), 1)) - {"Message"} | {"Document"}
    assert data_keys and data_keys <= fields


def test_request_keys_match_the_entry_point(monkeypatch):
    engine = _function("Invoke-CcsEngine")
    assignment = next(n for n in walk(engine) if n.type == "assignment_expression"
                      and text(n.children[0]).strip().lower() == "$request")
    table = next(n for n in walk(assignment) if n.type == "hash_literal_expression")
    sent = set(data_value(table))
    request, _ = _call_entry(monkeypatch)
    assert sent == request.read == {"Command", "Arguments", "WorkingDirectory", "Environment", "OnOutput"}
