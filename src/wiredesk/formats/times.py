"""Times as agencies write them, read into aware datetimes."""

from __future__ import annotations

import datetime as dt
import re
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

# Compact ISO 8601 as NITF and older G2 write it: 20241114T093000+0530, 20241114T0930Z.
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})?(?:[.,]\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?$", re.I)
# The years a time in news copy can fall in. Wire copy was not filed before 1900, and a time from
# 2200 on is a placeholder ("9999-12-31") or garbage. Both ends stay far from datetime's own limits,
# which converting a time at year 1 or 9999 to UTC, or adding a day to it, would cross.
YEARS = range(1900, 2200)
# A numeric UTC offset at the end of a time ("+05:30", "-0800"), its hours however many digits.
_TRAILING_OFFSET = re.compile(r"[+-]([0-9]{2,}):?[0-9]{2}\s*$")


def parse_time(value: object, zone: str = "UTC") -> dt.datetime | None:
    """An aware datetime, or None when `value` is empty, not a string or not a real time, which
    must never stop a story. Naive times are read in `zone`, the source's configured time zone."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = _read(value.strip())
    except (TypeError, ValueError, OverflowError, IndexError):
        # Digits in the right places, but no real time: month 13, an offset of 24 hours or more,
        # a year or an offset of twenty digits.
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(zone))
    return in_range(parsed)


def in_range(value: dt.datetime | None) -> dt.datetime | None:
    """`value` when it falls in YEARS, else None."""
    return value if value is not None and value.year in YEARS else None


def impossible_offset(value: object) -> bool:
    """Whether `value` ends with a UTC offset no clock has, of 24 hours or more: a reader that
    takes it anyway moves the time by days."""
    if not isinstance(value, str) or not (m := _TRAILING_OFFSET.search(value)):
        return False
    hours = m.group(1)  # compared as a string: int() refuses thousands of digits
    return len(hours) > 2 or hours >= "24"


def _read(value: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        pass
    if m := _COMPACT.match(value):
        y, mo, d, h, mi, s, tz = m.groups()
        parsed = dt.datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0))
        return parsed.replace(tzinfo=_offset(tz)) if tz else parsed
    return parsedate_to_datetime(value)  # RFC 822, as in RSS


def _offset(tz: str) -> dt.tzinfo:
    if tz.upper() == "Z":
        return dt.UTC
    sign = 1 if tz[0] == "+" else -1
    digits = tz[1:].replace(":", "")
    return dt.timezone(sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
