"""Times as agencies write them, read into aware datetimes."""

from __future__ import annotations

import datetime as dt
import re
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

# Compact ISO 8601 as NITF and older G2 write it: 20241114T093000+0530, 20241114T0930Z.
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})?(?:[.,]\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?$", re.I)


def parse_time(value: object, zone: str = "UTC") -> dt.datetime | None:
    """An aware datetime, or None when `value` is empty, not a string or not a real time, which
    must never stop a story. Naive times are read in `zone`, the source's configured time zone."""
    if not isinstance(value, str) or not value.strip():
        return None
    value = value.strip()
    parsed = None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        if m := _COMPACT.match(value):
            y, mo, d, h, mi, s, tz = m.groups()
            try:
                parsed = dt.datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0))
            except ValueError:  # digits in the right places, but no real time (month 13)
                return None
            if tz:
                parsed = parsed.replace(tzinfo=_offset(tz))
        else:
            try:
                parsed = parsedate_to_datetime(value)  # RFC 822, as in RSS
            except (TypeError, ValueError, IndexError):
                return None
    except (TypeError, OverflowError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(zone))
    return parsed


def _offset(tz: str) -> dt.tzinfo:
    if tz.upper() == "Z":
        return dt.UTC
    sign = 1 if tz[0] == "+" else -1
    digits = tz[1:].replace(":", "")
    return dt.timezone(sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
