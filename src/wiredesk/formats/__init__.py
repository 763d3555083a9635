"""Bytes in, Stories out. Pure Python: no Django import anywhere below this folder.

Each format is a module that declares itself through the `Format` protocol: its `NAME`, a
`score` for given bytes, and `parse`. The format is recognised from the bytes themselves, never
from a file name: every format scores them and the highest score wins.
"""

from __future__ import annotations

import codecs
import io
import re
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import compat32
from typing import Literal, Protocol, runtime_checkable

from lxml import etree

from wiredesk.formats import (
    agency_copy,
    anpa1312,
    conventions,
    dpa_digitalwires,
    feed,
    iptc7901,
    language,
    newsml1,
    newsml_g2,
    ninjs,
    nitf,
    xml,
)
from wiredesk.formats.context import Context
from wiredesk.formats.errors import FormatError
from wiredesk.story import WireStory

__all__ = ["FORMATS", "Context", "Format", "FormatError", "Head", "detect", "parse"]


_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
# An RFC 5322 header field starts a message: a name of printable characters but the colon, then one.
_HEADER_FIELD = re.compile(rb"[!-9;-~]+:")
_MAIL_FIELDS = ("Message-ID", "MIME-Version", "Received", "Return-Path", "Content-Type")


@dataclass(frozen=True)
class Head:
    """What detection reads of the bytes once, for every format's score to look at.

    `kind` is what the bytes open with, white space and a byte-order mark aside: nothing at all,
    XML markup, a JSON object or array, an e-mail's header fields, or other text. For XML, `root`
    is the root element's local name, read without parsing the rest of the document; for JSON,
    `json` is the document. Bytes that open as XML or JSON but are not well-formed raise
    FormatError with the line and column of the fault: no format could read them.
    """

    kind: Literal["empty", "xml", "json", "mail", "text"]
    root: str | None = None
    json: object = None

    @classmethod
    def read(cls, data: bytes) -> Head:
        if data.startswith(_UTF16_BOMS):
            first = data.decode("utf-16", errors="ignore").lstrip(" \t\r\n")[:1]
        else:
            first = data.removeprefix(codecs.BOM_UTF8).lstrip(b" \t\r\n")[:1].decode("latin-1")
        if not first:
            return cls("empty")
        if first == "<":
            return cls("xml", root=_xml_root(data))
        if first in "{[":
            return cls("json", json=ninjs.load_json(data))
        return cls("mail" if _is_mail(data) else "text")


@runtime_checkable
class Format(Protocol):
    """A format wiredesk reads: a module with these three members, listed in FORMATS.

    NAME
        The format's name, unique among formats: `wiredesk parse --format NAME` reads the bytes as
        this format, and the Stories it gives say so in their `format`.

    score(data, head) -> float
        How surely `data` is this format, from 0 (it is not: never read it as this format) to 1
        (it carries the format's own mark: its XML root element, its JSON fields, its wire
        header). A score in between says the bytes resemble the format, as dpa's JSON shares some
        of ninjs's field names. `head` is what detection read of the bytes once for every format
        (the XML root, the JSON document): a score looks there before it reads `data` itself. A
        score is cheap and never raises: detection asks every format about every file.

    parse(data, context) -> list[WireStory]
        Every story in `data`, read with what `context` says about the source; FormatError with
        a reason a person can act on when they cannot be read. It may assume nothing about the
        bytes: it is also called for a format named by hand.
    """

    NAME: str

    def score(self, data: bytes, head: Head) -> float: ...

    def parse(self, data: bytes, context: Context) -> list[WireStory]: ...


# In the order that breaks a tie between two equal scores: dpa's JSON before ninjs, whose field
# names it shares; plain copy, which any text resembles, last.
FORMATS: dict[str, Format] = {
    module.NAME: module
    for module in (nitf, newsml_g2, newsml1, feed, dpa_digitalwires, ninjs, iptc7901, anpa1312, agency_copy)
}

# Why no format claimed bytes of each kind.
_UNCLAIMED = {
    "empty": "the file is empty: there is no story text",
    "json": "JSON, but neither ninjs nor dpa digitalwires: there is no uri or headline to go by",
    # Read as plain copy, a whole e-mail would be a story headed by its first header line.
    "mail": "an e-mail message, headers and all: its plain-text body or an attachment is the copy",
    "text": f"no format wiredesk reads ({', '.join(FORMATS)}) recognises this text",
}


def detect(data: bytes) -> str:
    """The name of the format that scores `data` highest; FormatError saying what the bytes are
    when no format claims them."""
    head = Head.read(data)
    scores = {name: module.score(data, head) for name, module in FORMATS.items()}
    best = max(scores, key=scores.__getitem__)  # the first of equals, in the order of FORMATS
    if scores[best] > 0:
        return best
    if head.kind == "xml":
        raise FormatError(
            f"XML whose root is <{head.root}> is not a format wiredesk reads (NITF, NewsML-G2, NewsML 1.2, RSS or Atom)"
        )
    raise FormatError(_UNCLAIMED[head.kind])


def _is_mail(data: bytes) -> bool:
    if not _HEADER_FIELD.match(data):
        return False
    headers = BytesHeaderParser(policy=compat32).parsebytes(data[:65536])
    return not headers.defects and any(name in headers for name in _MAIL_FIELDS)


def _xml_root(data: bytes) -> str:
    """The root element's local name, read without parsing the rest of the document."""
    try:
        _, element = next(
            etree.iterparse(
                io.BytesIO(data), events=("start",), resolve_entities=False, no_network=True, load_dtd=False
            )
        )
    except (etree.XMLSyntaxError, StopIteration):
        xml.load(data)  # raises with the line and column of the fault
        raise FormatError("the XML has no root element") from None
    return xml.local(element.tag)


def parse(data: bytes, context: Context | None = None, *, format: str | None = None) -> list[WireStory]:
    """Every story in `data`; FormatError (with the reason) when it cannot be read."""
    name = format or detect(data)
    if name not in FORMATS:
        raise FormatError(f"unknown format {name!r}; known: {', '.join(FORMATS)}")
    stories = FORMATS[name].parse(data, context or Context())
    for story in stories:
        # Pages write the tag into lang attributes: one that is not a tag is dropped here, once
        # for every format, before the conventions guess the language from the text instead.
        story.language = language.tag(story.language)
    # Notes, advisories, kills and prefixes read the same in every format: once, here.
    return [conventions.apply(story) for story in stories]
