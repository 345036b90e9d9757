"""Parsing the timestamps log exports carry, in every shape they come in, to timezone-aware UTC datetimes.

Shapes seen in Microsoft's exports (docs/logs.md): Graph's ISO 8601 UTC with ``Z`` and 0, 3, 7 (.NET ticks)
or 9 fractional digits (``2018-01-09T21:20:02.7215374Z``); ISO with an offset (``+01:00``); ISO with a space
instead of ``T`` and no zone (Log Analytics CSV, which is UTC); US-style dates from the portal's and Log
Analytics' CSV downloads (``7/31/2023 12:40:37 AM``, ``7/31/2023, 12:40:37.123 AM``, ``7/31/2023 00:40``).
A timestamp without a zone is UTC: every Entra log is written in UTC (provisioningobjectsummary.md:
"always in UTC time"). Anything else raises ``ValueError`` naming the text, so the caller can count the
record as skipped and say why.
"""

from __future__ import annotations

import datetime as dt
import re

__all__ = ["parse_timestamp", "iso_z"]

_UTC = dt.timezone.utc
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?"
                  r"\s*(Z|z|[+-]\d{2}:?\d{2}|UTC|GMT)?$")
_US = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4}),?\s+(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"
                 r"\s*([AaPp][Mm])?\s*(Z|UTC|GMT)?$")
_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


def _micro(frac: str | None) -> int:
    # 7-digit (.NET) and 9-digit (nanosecond) fractions are cut to Python's microseconds, never rounded up
    # into the next second.
    return int((frac or "0")[:6].ljust(6, "0"))


def _zone(text: str | None) -> dt.tzinfo:
    if not text or text.upper() in ("Z", "UTC", "GMT"):
        return _UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return dt.timezone(sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:4])))


def parse_timestamp(value: object) -> dt.datetime | None:
    """A tz-aware UTC datetime, or None for an empty value; ``ValueError`` for text in no known shape."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=_UTC) if value.tzinfo is None else value.astimezone(_UTC)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise ValueError(f"'{value}' is a number, not a timestamp")
    text = str(value).strip()
    if not text:
        return None
    m = _ISO.match(text)
    if m:
        y, mo, d, h, mi, s, frac, zone = m.groups()
        try:
            stamp = dt.datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0), _micro(frac),
                                tzinfo=_zone(zone))
        except ValueError as exc:
            raise ValueError(f"'{text}' is not a valid date/time ({exc})") from None
        return stamp.astimezone(_UTC)
    m = _US.match(text)
    if m:
        mo, d, y, h, mi, s, frac, ampm, _zone_text = m.groups()
        hour = int(h)
        if ampm:
            if not 1 <= hour <= 12:
                raise ValueError(f"'{text}' has hour {hour} with {ampm}")
            hour = hour % 12 + (12 if ampm.lower() == "pm" else 0)
        try:
            return dt.datetime(int(y), int(mo), int(d), hour, int(mi), int(s or 0), _micro(frac), tzinfo=_UTC)
        except ValueError as exc:
            raise ValueError(f"'{text}' is not a valid date/time ({exc})") from None
    m = _US_DATE.match(text)
    if m:
        mo, d, y = m.groups()
        try:
            return dt.datetime(int(y), int(mo), int(d), tzinfo=_UTC)
        except ValueError as exc:
            raise ValueError(f"'{text}' is not a valid date ({exc})") from None
    raise ValueError(f"'{text}' is not a timestamp in any shape Entra's exports use")


def iso_z(stamp: dt.datetime) -> str:
    """Graph's form: ``2026-01-02T03:04:05.123456Z`` (UTC; fraction only when there is one)."""
    stamp = stamp.astimezone(_UTC)
    text = stamp.strftime("%Y-%m-%dT%H:%M:%S")
    if stamp.microsecond:
        text += f".{stamp.microsecond:06d}".rstrip("0")
    return text + "Z"
