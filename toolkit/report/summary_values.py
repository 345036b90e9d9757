"""Reading a report's summary values: dotted paths (``byStatus.eligible``) through nested mappings, and the
``{key}`` templates that titles and page headers are written in."""

from __future__ import annotations

import re
from typing import Any, Mapping

__all__ = ["lookup", "render_template"]


def lookup(values: Mapping[str, Any], key: str) -> tuple[bool, Any]:
    """Follow a dotted path (``byStatus.eligible``) through nested mappings: (found, value)."""
    current: Any = values
    for part in key.split("."):
        if not isinstance(current, Mapping) or part not in current:
            return False, None
        current = current[part]
    return True, current


def render_template(text: str, values: Mapping[str, Any]) -> str:
    """``text`` with each ``{dotted.key}`` replaced by its value (nothing for a missing or None value)."""
    def sub(match: re.Match[str]) -> str:
        found, value = lookup(values, match.group(1))
        return "" if not found or value is None else str(value)
    return re.sub(r"\{([A-Za-z0-9_.]+)\}", sub, text)
