"""Bytes in, Stories out. Pure Python: no Django import anywhere below this folder.

Each format is a module with `parse(data: bytes, context: Context) -> list[Story]`.
The format is recognised from the bytes themselves, never from a file name.
"""

from __future__ import annotations

import codecs
import datetime as dt
import io
import re
from email.parser import BytesHeaderParser
from email.policy import compat32
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from lxml import etree

from wiredesk.formats import (
    agency_copy,
    anpa1312,
    conventions,
    dpa_digitalwires,
    feed,
    iptc7901,
    newsml1,
    newsml_g2,
    ninjs,
    nitf,
    xml,
)
from wiredesk.formats.errors import FormatError
from wiredesk.story import Story

FORMATS = {
    "nitf": nitf,
    "newsml-g2": newsml_g2,
    "newsml1": newsml1,
    "feed": feed,
    "ninjs": ninjs,
    "dpa-digitalwires": dpa_digitalwires,
    "iptc7901": iptc7901,
    "anpa1312": anpa1312,
    "agency-copy": agency_copy,
}

# The root element names an XML format; no two formats share one.
XML_ROOTS = {
    "nitf": "nitf",
    **dict.fromkeys(["newsItem", "newsMessage", "packageItem", "conceptItem", "knowledgeItem",
                     "planningItem", "catalogItem", "catalog"], "newsml-g2"),
    "NewsML": "newsml1",
    **dict.fromkeys(["rss", "feed", "RDF"], "feed"),
}
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
# An RFC 5322 header field starts a message: a name of printable characters but the colon, then one.
_HEADER_FIELD = re.compile(rb"[!-9;-~]+:")
_MAIL_FIELDS = ("Message-ID", "MIME-Version", "Received", "Return-Path", "Content-Type")

__all__ = ["FORMATS", "Context", "FormatError", "detect", "parse"]


@dataclass(frozen=True)
class Context:
    """What a format may need to know besides the bytes."""

    source: str = "wire"  # the source's slug: part of the uris built for id-less formats
    received: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    zone: str = "UTC"  # the source's time zone (IANA name), for times written without an offset

    def __post_init__(self):
        try:
            ZoneInfo(self.zone)
        except (ValueError, ZoneInfoNotFoundError):
            raise FormatError(f"unknown time zone {self.zone!r}: use an IANA name such as Europe/Berlin") from None


def detect(data: bytes) -> str:
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if not head:
        raise FormatError("the file is empty: there is no story text")
    # dpa's JSON carries some ninjs keys too, so it is asked first; both before the UTF-16 test,
    # which JSON may also start with.
    for name in ("dpa-digitalwires", "ninjs"):
        if FORMATS[name].sniff(data):
            return name
    if head == b"<" or data.startswith(_UTF16_BOMS):
        root = _xml_root(data)
        if root not in XML_ROOTS:
            raise FormatError(f"XML whose root is <{root}> is not a format wiredesk reads "
                              f"(NITF, NewsML-G2, NewsML 1.2, RSS or Atom)")
        return XML_ROOTS[root]
    if head in (b"{", b"["):
        raise FormatError("JSON, but neither ninjs nor dpa digitalwires: there is no uri or headline to go by")
    # The wire headers differ in their priority: a digit in 7901, a letter in ANPA.
    for name in ("anpa1312", "iptc7901"):
        if FORMATS[name].sniff(data):
            return name
    if _is_mail(data):
        # Read as plain copy, a whole e-mail would be a story headed by its first header line.
        raise FormatError("an e-mail message, headers and all: its plain-text body or an attachment is the copy")
    return "agency-copy"


def _is_mail(data: bytes) -> bool:
    if not _HEADER_FIELD.match(data):
        return False
    headers = BytesHeaderParser(policy=compat32).parsebytes(data[:65536])
    return not headers.defects and any(name in headers for name in _MAIL_FIELDS)


def _xml_root(data: bytes) -> str:
    """The root element's local name, read without parsing the rest of the document."""
    try:
        _, element = next(etree.iterparse(io.BytesIO(data), events=("start",), resolve_entities=False,
                                          no_network=True, load_dtd=False))
    except (etree.XMLSyntaxError, StopIteration):
        xml.load(data)  # raises with the line and column of the fault
        raise FormatError("the XML has no root element") from None
    return xml.local(element.tag)


def parse(data: bytes, context: Context | None = None, *, format: str | None = None) -> list[Story]:
    """Every story in `data`; FormatError (with the reason) when it cannot be read."""
    name = format or detect(data)
    if name not in FORMATS:
        raise FormatError(f"unknown format {name!r}; known: {', '.join(FORMATS)}")
    # Notes, advisories, kills and prefixes read the same in every format: once, here.
    return [conventions.apply(story) for story in FORMATS[name].parse(data, context or Context())]
