"""Graph URLs as ccsync sends them: relative paths percent-encoded, query values as text, ``$top`` checked.

Both the client (one request) and ``$batch`` (each inner request's relative ``url``) build URLs with these
helpers, so a path is encoded the same way whichever route it takes.
"""

from __future__ import annotations

from typing import Any, Mapping
from urllib.parse import quote

from ..errors import InputError
from .pacing import api_path

__all__ = ["USERS_TOP_MAX", "QUERY_SAFE", "quote_path", "param_text", "check_top"]

USERS_TOP_MAX = 999
# Characters kept as they are in query strings: Graph's own links use them unencoded ($select, $filter quotes).
QUERY_SAFE = "$'(),:/@!*"


def quote_path(path: str) -> str:
    """Percent-encode what a relative path must not carry raw (``#`` of guest UPNs, spaces, non-ASCII),
    keeping an existing query string and existing %-escapes as they are."""
    head, sep, query = path.partition("?")
    return quote(head, safe="/:@!$&'()*+,;=%-._~") + sep + query


def param_text(value: Any) -> str:
    """A query parameter's value as Graph reads it: booleans lower-case, lists comma-separated."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)


def check_top(path: str, query: Mapping[str, str]) -> None:
    """Graph rejects ``$top`` outside 1..999 on /users; say so before sending (graph-facts 6.3)."""
    if "$top" not in query or api_path(path) != "/users":
        return
    raw = query["$top"]
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or not 1 <= value <= USERS_TOP_MAX:
        raise InputError(f"$top={raw!r} is not a valid page size for /users: Graph accepts 1 to 999.",
                         hint="Use $top=999 for the largest pages; ccsync follows @odata.nextLink for the rest.",
                         field="$top")
