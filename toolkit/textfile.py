"""Reading files an admin hands to ccsync (plans, mappings, scopes, manifests): text and JSON, as untrusted input.

One rule for decoding: UTF-8 (with or without BOM), or UTF-16 / UTF-32 *with* a BOM (what Windows PowerShell's
``Out-File`` writes). Anything else is an ``InputError`` naming the file, the line and the column of the first
byte that is not text. JSON that nests deeper than ``MAX_JSON_DEPTH`` (no ccsync file comes near it) is refused
before anything walks it, so a hostile file cannot exhaust Python's recursion limit.
"""

from __future__ import annotations

import codecs
import json
import os
from pathlib import Path
from typing import Any

from .errors import InputError

__all__ = ["decode_text", "read_text_file", "parse_json", "MAX_JSON_DEPTH"]

MAX_JSON_DEPTH = 64
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def decode_text(data: bytes, source: str, *, what: str = "file") -> str:
    """``data`` as text; InputError naming ``source``, line and column when it is not UTF-8/16/32 text."""
    encoding = next((enc for bom, enc in _BOMS if data.startswith(bom)), "utf-8")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InputError(f"the {what} is not UTF-8 text: byte 0x{data[exc.start]:02x} at line {line}, column "
                         f"{column} ({exc.reason})", source=source, row=line,
                         hint="Save the file as UTF-8 (in PowerShell: Out-File -Encoding utf8).") from None
    if "\x00" in text:
        line = text[:text.index("\x00")].count("\n") + 1
        raise InputError(f"the {what} contains NUL characters (line {line}): it looks like UTF-16 without a byte "
                         "order mark, or binary data", source=source, row=line,
                         hint="Save the file as UTF-8.")
    return text


def read_text_file(path: str | os.PathLike[str], *, what: str = "file") -> str:
    """The decoded text of ``path``; InputError naming the file when it cannot be read or decoded."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except IsADirectoryError:
        raise InputError(f"the {what} path is a folder, not a file", source=str(p), hint="Give the file.") from None
    except OSError as exc:
        raise InputError(f"cannot read the {what}: {exc.strerror or exc}", source=str(p),
                         hint="Check the path.") from None
    return decode_text(data, str(p), what=what)


def parse_json(text: str, source: str, *, what: str = "file") -> Any:
    """JSON from ``text``; InputError naming ``source`` (and the line) for bad or absurdly nested JSON."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"the {what} is not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}",
                         source=source, row=exc.lineno, hint="Give the file as ccsync (or Graph) wrote it.") from None
    except RecursionError:
        raise InputError(f"the {what} nests JSON too deeply to be read", source=source,
                         hint=f"No file ccsync reads nests more than {MAX_JSON_DEPTH} levels.") from None
    check_depth(doc, source, what=what)
    return doc


def check_depth(doc: Any, source: str, *, what: str = "file", limit: int = MAX_JSON_DEPTH) -> None:
    """Refuse JSON nested more than ``limit`` levels (walked without recursion)."""
    stack = [(doc, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            raise InputError(f"the {what} nests JSON more than {limit} levels deep", source=source,
                             hint="Give the file as ccsync (or Graph) wrote it.")
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node if isinstance(v, (dict, list)))
