"""Bytes in, Stories out. Pure Python: no Django import anywhere below this folder.

Each format is a module with `parse(data: bytes, context: Context) -> list[Story]`.
The format is recognised from the bytes themselves, never from a file name.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from wiredesk.formats import agency_copy
from wiredesk.formats.errors import FormatError
from wiredesk.story import Story

FORMATS = {
    "agency-copy": agency_copy,
}

__all__ = ["FORMATS", "Context", "FormatError", "detect", "parse"]


@dataclass(frozen=True)
class Context:
    """What a format may need to know besides the bytes."""

    source: str = "wire"  # the source's slug: part of the uris built for id-less formats
    received: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))


def detect(data: bytes) -> str:
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if not head:
        raise FormatError("the file is empty: there is no story text")
    if head == b"<":
        raise FormatError("this is XML (NITF, NewsML or a feed), which wiredesk cannot read yet")
    if head in (b"{", b"["):
        raise FormatError("this is JSON (ninjs), which wiredesk cannot read yet")
    return "agency-copy"


def parse(data: bytes, context: Context | None = None, *, format: str | None = None) -> list[Story]:
    """Every story in `data`; FormatError (with the reason) when it cannot be read."""
    name = format or detect(data)
    if name not in FORMATS:
        raise FormatError(f"unknown format {name!r}; known: {', '.join(FORMATS)}")
    return FORMATS[name].parse(data, context or Context())
