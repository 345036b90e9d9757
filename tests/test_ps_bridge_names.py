"""The names the module's bridge code reads are the names toolkit.interop writes (no pwsh needed):
the probe's keys (Initialize-CcsBridge), the answer's keys and the exception Data keys (Invoke-CcsEngine), the
request keys (toolkit.interop.entry.invoke)."""

from __future__ import annotations

import re
from pathlib import Path

from toolkit.interop import entry, errors
from toolkit.interop.probe import describe

PRIVATE = Path(__file__).resolve().parent.parent / "ps" / "CrossCloudSync" / "Private"


def _code(name: str) -> str:
    return (PRIVATE / f"{name}.ps1").read_text(encoding="utf-8").split("#>", 1)[1]


def test_initialize_reads_only_what_the_probe_writes():
    read = set(re.findall(r"\$probe\.(\w+)", _code("Initialize-CcsBridge")))
    assert read and read <= set(describe())


def test_engine_reads_the_answer_and_error_data_the_entry_point_writes():
    code = _code("Invoke-CcsEngine")
    answer_keys = set(re.findall(r"\$answer\['(\w+)'\]", code))
    data_keys = set(re.findall(r"\$data\['(\w+)'\]", code)) | set(re.findall(r"\$data\.Contains\('(\w+)'\)", code))
    returned = set(re.findall(r'"(\w+)": (?:run\.|\[m )', Path(entry.__file__).read_text(encoding="utf-8")))
    assert answer_keys and answer_keys <= returned == {"Document", "ExitCode", "Messages"}
    fields = set(errors.error_fields(RuntimeError("x"), 1)) - {"Message"} | {"Document"}
    assert data_keys and data_keys <= fields


def test_request_keys_match_the_entry_point():
    code = _code("Invoke-CcsEngine")
    block = code.split("$request = [hashtable]@{", 1)[1].split("}", 1)[0]
    sent = set(re.findall(r"^\s+(\w+)\s+=", block, re.M))
    accepted = set(re.findall(r'req(?:\.get\(|\[)"(\w+)"', Path(entry.__file__).read_text(encoding="utf-8")))
    assert sent == accepted == {"Command", "Arguments", "WorkingDirectory", "Environment", "OnOutput"}
