"""What every format's `parse(data, context)` is told about the source besides the bytes.

A module of its own, as errors.py is, so that each format can name the type without importing the
package that lists the formats.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from wiredesk.formats.errors import FormatError


@dataclass(frozen=True)
class Context:
    """What a format may need to know besides the bytes."""

    source: str = "wire"  # the source's slug: part of the uris built for id-less formats
    received: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    zone: str = "UTC"  # the source's time zone (IANA name), for times written without an offset

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.zone)
        except (ValueError, ZoneInfoNotFoundError):
            raise FormatError(f"unknown time zone {self.zone!r}: use an IANA name such as Europe/Berlin") from None
