"""NITF 3.x (News Industry Text Format): one story per document.

Real NITF is rarely what the schema describes: DTD-era files (3.0 to 3.4) come without a
namespace and with a DOCTYPE, 3.5 and 3.6 with or without one, and the version attribute takes
every shape. So elements are matched by local name, the DTD is never loaded (named entities it
would have defined, such as &mdash;, are read from the HTML entity table) and nothing is checked
against the schema.

Where the fields come from (the corpus's FIELDS.md has the full table):

    uri            head/docdata/doc-id/@id-string (+ @regsrc; as it is when it is a urn:, tag:
                   or http URI); else du-key/@key; else built from the headline and the issue
                   date. A kill that names the killed document (management-doc-idref) carries
                   that document's uri.
    version        du-key/@version, when it is a number
    headline       body.head/hedline/hl1, else head/title, else derived from the lede
    subheadline    hedline/hl2
    by             body.head/byline (all its text: person, byttl)
    dateline       body.head/dateline; place from its location, else docdata/evloc/@city, else
                   the words before the first comma; date from story.date/@norm
    pubstatus      docdata/@management-status; "embargoed" is usable copy with an embargo
    embargoed      date.release/@norm, when the status says embargoed or it is after date.issue
    versioncreated date.issue/@norm, else pubdata/@date.publication
    subjects       tobject.subject (IPTC subject codes), keywords from key-list/keyword/@key
    signals        "kill" for canceled copy, "correction" when docdata has a correction

The body is what readers get, in reading order: each `p` and crosshead (`hl2`) of body.content,
also inside `block`, `bq` and lists. A table gives one paragraph per row, its cells joined by
" | " (CELL_SEPARATOR): wire tables are results and listings, and a row is the unit a reader
scans. Media (references and their captions), non-publishable notes and body.end (taglines,
usually the reporter's e-mail address) are not copy and are left out.

Paragraph text is kept as written, except for the layout of the XML itself: a run of white space
that contains a line break (pretty-printing, hard-wrapped source) becomes one space, and
leading and trailing white space goes. A `<br/>` is a line break inside the paragraph; two in a
row end the paragraph, as they do on the page.
"""

from __future__ import annotations

import datetime as dt
import functools
import html.entities
import re
import unicodedata
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from lxml import etree

from wiredesk.formats import xml
from wiredesk.formats.errors import FormatError
from wiredesk.formats.shared import derive_headline
from wiredesk.formats.times import parse_time
from wiredesk.formats.xml import Children, local
from wiredesk.story import Dateline, Story, Subject

FORMAT = "nitf"
CELL_SEPARATOR = " | "
SUBJECT_CODES = "http://cv.iptc.org/newscodes/subjectcode/"

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_STATUSES = {"usable": "usable", "embargoed": "usable", "withheld": "withheld",
             "canceled": "canceled", "cancelled": "canceled"}


def parse(data: bytes, context) -> list[Story]:
    root = xml.load(data)
    if local(root.tag) != "nitf":
        raise FormatError(f"this is not NITF: the root element is <{local(root.tag)}>, not <nitf>")
    document = Children(root)
    head = Children(document.first("head"))
    docdata = Children(head.first("docdata"))

    top, paragraphs = read_body(document.first("body"), place=attribute(docdata.first("evloc"), "city"))
    headline = top.headline or clean(inline_text(head.first("title")))
    derived = headline is None
    if derived:
        if not paragraphs:
            raise FormatError("the NITF document has neither a headline (hl1 or title) nor body text")
        headline = derive_headline(paragraphs[0])

    issued = (parse_time(attribute(docdata.first("date.issue"), "norm"), context.zone)
              or parse_time(attribute(head.first("pubdata"), "date.publication"), context.zone))
    status = (attribute(docdata.element, "management-status") or "usable").lower()
    release = parse_time(attribute(docdata.first("date.release"), "norm"), context.zone)
    embargoed = release if status == "embargoed" or (release and issued and release > issued) else None
    # Copy the desk does not know how to release is not released: an embargo without a time is
    # "hold until told", and a status outside NITF's four is no licence to publish.
    pubstatus = _STATUSES.get(status, "withheld")
    if status == "embargoed" and embargoed is None:
        pubstatus = "withheld"

    signals, correction_text = [], None
    if pubstatus == "canceled":
        signals.append("kill")
    if (correction := docdata.first("correction")) is not None:
        signals.append("correction")
        correction_text = clean(correction.get("info"))

    du_key = docdata.first("du-key")
    version = attribute(du_key, "version")
    copyright_ = docdata.first("doc.copyright")
    rights = docdata.first("doc.rights")
    holder = attribute(copyright_, "holder") or attribute(rights, "owner")
    year = attribute(copyright_, "year")
    return [Story(
        uri=_uri(docdata, headline, issued or context.received, context.source),
        version=int(version) if version and version.isdigit() else None,
        headline=headline,
        headline_derived=derived,
        subheadline=top.subheadline,
        paragraphs=paragraphs,
        dateline=top.dateline,
        language=attribute(root, "baselang") or attribute(root, XML_LANG),
        versioncreated=issued,
        pubstatus=pubstatus,
        urgency=urgency(attribute(docdata.first("urgency"), "ed-urg")),
        by=top.by,
        slugline=_anpa_keyword(head) or attribute(du_key, "key"),
        subjects=[s for el in every(head.first("tobject"), "tobject.subject") if (s := _subject(el))],
        ednote="\n".join(n for el in docdata.every("ed-msg") if (n := clean(el.get("info")))) or None,
        copyrightnotice=" ".join(filter(None, ["Copyright", year, holder])) if holder else None,
        usageterms=clean(attribute(rights, "limitations")),
        embargoed=embargoed,
        signals=signals,
        correction=correction_text,
        keywords=[k for el in every(docdata.first("key-list"), "keyword") if (k := clean(el.get("key")))],
        format=FORMAT,
    )]


class BodyHead(NamedTuple):
    """What body.head says; NewsML-G2 reads it too, from NITF carried inline."""

    headline: str | None
    subheadline: str | None
    by: str | None
    dateline: Dateline | None


def read_body(body: etree._Element | None, place: str | None = None) -> tuple[BodyHead, list[str]]:
    """body.head, and the paragraphs of every body.content (a body may have several).

    `place` is where the metadata says the story happened, for a dateline without a location.
    """
    parts = Children(body)
    paragraphs = [p for content in parts.every("body.content") for p in body_paragraphs(content)]
    return _read_body_head(Children(parts.first("body.head")), place), paragraphs


def _read_body_head(body_head: Children, place: str | None) -> BodyHead:
    dateline = None
    if (element := body_head.first("dateline")) is not None:
        parts = Children(element)
        date = parse_time(attribute(parts.first("story.date"), "norm"))
        location = clean(inline_text(parts.first("location")))
        dateline = make_dateline(inline_text(element), location or place, date.date() if date else None)
    bylines = [b for el in body_head.every("byline") if (b := clean(inline_text(el)))]
    hedline = Children(body_head.first("hedline"))
    return BodyHead(
        headline=clean(inline_text(hedline.first("hl1"))),
        subheadline=clean(inline_text(hedline.first("hl2"))),
        by="; ".join(bylines) or None,
        dateline=dateline,
    )


# "NEW YORK, Oct 21 (Reuters) -": the place runs to the first comma or parenthesis, an agency
# stands in parentheses at the end, and the dash only leads into the text.
_DATELINE_AGENCY = re.compile(r"\(([^()]+)\)\s*$")
_DATELINE_PLACE = re.compile(r"^([^,(]+)")


def make_dateline(text: str | None, place: str | None = None, date: dt.date | None = None) -> Dateline | None:
    """A Dateline from the agency's text; the place, when not given, is read from the text."""
    text = (clean(text) or "").rstrip(" -–—:")
    if not text:
        return None
    agency = m.group(1).strip() if (m := _DATELINE_AGENCY.search(text)) else None
    if place is None and (m := _DATELINE_PLACE.match(text)):
        place = m.group(1).strip() or None
    return Dateline(text=text, place=place, date=date, agency=agency)


# --- body text ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Markup:
    """How a body vocabulary reads: which elements are paragraphs, which hold no copy."""

    paragraphs: frozenset[str]
    not_copy: Callable[[str, etree._Element], bool]  # given the local name and the element

    @functools.cached_property
    def blocks(self) -> frozenset[str]:
        return self.paragraphs | {"table"}

    @functools.cached_property
    def block_tags(self) -> tuple[str, ...]:
        """The blocks as lxml tags, for lxml to look for in C."""
        return tuple(f"{{*}}{name}" for name in self.blocks)


def _nitf_not_copy(name: str, element: etree._Element) -> bool:
    return name in ("media", "nitf-table-metadata") or (name == "note" and element.get("type") == "npa")


NITF_BODY = Markup(frozenset({"p", "hl2", "li", "dt", "dd", "pre"}), _nitf_not_copy)
# h1 is the page title, which is the item's headline; the header repeats headline and byline.
_XHTML_NOT_COPY = frozenset({"head", "header", "h1", "figcaption", "script", "style", "template", "nav",
                             "noscript"})
XHTML_BODY = Markup(frozenset({"p", "h2", "h3", "h4", "h5", "h6", "li", "dt", "dd", "pre", "blockquote"}),
                    lambda name, element: name in _XHTML_NOT_COPY)

_METADATA = Markup(frozenset(), lambda name, element: False)

# XML text cannot contain NUL, so it marks a <br/> without colliding with anything written.
_BREAK = "\x00"
_LAYOUT = re.compile(r"[ \t\r\n]*\n[ \t\r\n]*")


def body_paragraphs(element: etree._Element | None, markup: Markup = NITF_BODY) -> list[str]:
    """The paragraphs of a body (NITF body.content, or XHTML body with XHTML_BODY)."""
    out: list[str] = []
    if element is not None:
        _walk(element, markup, out)
    return out


def _walk(element: etree._Element, markup: Markup, out: list[str]) -> None:
    for child in element[:]:
        name = local(child.tag)
        if not name or markup.not_copy(name, child):
            continue
        if name == "table":
            out.extend(_table_rows(child, markup))
            continue
        if name in markup.paragraphs:
            if not len(child):  # text only, as most paragraphs are
                out.extend(_paragraph_texts(child.text or ""))
                continue
            parts: list[str] = []
            if not _gather(child, markup, parts):
                out.extend(_paragraph_texts("".join(parts)))
                continue
        # A container (block, div, section, a list item holding paragraphs): its own loose
        # text is layout or labels, its paragraphs are the copy.
        _walk(child, markup, out)


def _holds_blocks(element: etree._Element, markup: Markup) -> bool:
    return len(element) > 0 and next(element.iterdescendants(*markup.block_tags), None) is not None


_CELLS = frozenset({"td", "th"})


def _table_rows(table: etree._Element, markup: Markup) -> list[str]:
    rows = _texts(caption, markup) if (caption := first(table, "caption")) is not None else []
    for row in table.iter("{*}tr"):
        # A row is one line: breaks inside a cell become spaces.
        cells = [" ".join(_texts(cell, markup)).replace("\n", " ") for cell in row[:] if local(cell.tag) in _CELLS]
        if any(cells):
            rows.append(CELL_SEPARATOR.join(cells))
    return rows


def _texts(element: etree._Element, markup: Markup) -> list[str]:
    """The paragraph text of one element: usually one, more where a double <br/> splits it."""
    return _paragraph_texts(_joined(element, markup))


def _paragraph_texts(text: str) -> list[str]:
    """Breaks (with only spaces or tabs between them) part paragraphs; a single break is a line
    break, without the spaces and tabs around it."""
    # Long lines without a line break are common, and the pattern is slow to search them.
    if "\n" in text:
        text = _LAYOUT.sub(" ", text)
    if _BREAK not in text:  # most paragraphs
        return [text] if (text := text.strip(" \t\r\n")) else []
    paragraphs, lines = [], []
    for piece in text.split(_BREAK):
        if line := piece.strip(" \t"):
            lines.append(line)
        else:
            # Two breaks in a row; at the start or the end, a break that would be stripped anyway.
            paragraphs.append(lines)
            lines = []
    paragraphs.append(lines)
    return [paragraph for lines in paragraphs if (paragraph := "\n".join(lines).strip(" \t\r\n"))]


def _joined(element: etree._Element, markup: Markup) -> str:
    """All the copy inside an element, a <br/> as _BREAK."""
    if not len(element):
        return element.text or ""
    parts: list[str] = []
    _gather(element, markup, parts)
    return "".join(parts)


def _gather(element: etree._Element, markup: Markup, parts: list[str]) -> bool:
    """Adds the copy inside `element` to `parts`, and says whether a paragraph or a table is
    inside it: a paragraph element that holds one is a container (see _walk). Finding that
    out on the way saves walking every paragraph twice."""
    holds_blocks = False
    if element.text:
        parts.append(element.text)
    for child in element[:]:
        if isinstance(child, etree._Entity):
            # Only a DTD-era document can hold an undeclared entity (xml.load refuses
            # declarations); its DTD took the names from the HTML set. Unknown names stay as written.
            parts.append(html.entities.html5.get(f"{child.name};", child.text))
        elif (name := local(child.tag)) == "br" or markup.not_copy(name, child):
            if name == "br":
                parts.append(_BREAK)
            # Not read, but a paragraph inside it still makes a container of this element.
            holds_blocks = holds_blocks or name in markup.blocks or _holds_blocks(child, markup)
        elif name in markup.paragraphs:
            # A paragraph inside a paragraph happens in table cells: keep the two apart.
            holds_blocks = True
            parts.append(_BREAK)
            _gather(child, markup, parts)
            parts.append(_BREAK)
        else:
            holds_blocks = _gather(child, markup, parts) or name == "table" or holds_blocks
        if child.tail:
            parts.append(child.tail)
    return holds_blocks


def inline_text(element: etree._Element | None) -> str | None:
    """All the text of a metadata element, entities read, or None."""
    if element is None:
        return None
    return _joined(element, _METADATA).replace(_BREAK, " ")


# --- finding things by local name -----------------------------------------------------------

def first(element: etree._Element | None, name: str) -> etree._Element | None:
    """The first child element called `name`, in any namespace or none."""
    # lxml matches "{*}name" in C, and stops at the first.
    return next(element.iterchildren(f"{{*}}{name}"), None) if element is not None else None


def every(element: etree._Element | None, name: str) -> list[etree._Element]:
    """Every child element called `name`, in any namespace or none."""
    # The parents asked hold few children, mostly the ones wanted: looking at each in Python is
    # quicker than setting up lxml's matching iterator, which costs about a microsecond.
    return [child for child in element[:] if local(child.tag) == name] if element is not None else []


def attribute(element: etree._Element | None, name: str) -> str | None:
    value = element.get(name) if element is not None else None
    return value.strip() or None if value else None


_SPACES = re.compile(r"[ \t\r\n]+")


def clean(value: str | None) -> str | None:
    """Metadata text on one line: white space runs become one space."""
    if not value:
        return None
    # Most metadata has nothing to replace, which these scans tell far faster than the pattern.
    if "  " in value or "\n" in value or "\t" in value or "\r" in value:
        value = _SPACES.sub(" ", value)
    return value.strip() or None


def urgency(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and 1 <= int(value) <= 9 else None


# A URI as RFC 3986 writes it: a scheme, then only characters a URI may hold (brackets, which
# only an IPv6 host may use, are left to urn_part to encode).
# Possessive: a run of URI characters is taken whole, not one alternation per character.
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:(?:[A-Za-z0-9\-._~:/?#@!$&'()*+,;=]++|%[0-9A-Fa-f]{2})++$")


def is_uri(value: str | None) -> bool:
    return bool(value and _URI.match(value))


_URN_SAFE = "-._~!$&'()*+,;=:@"
_URN_SAFE_ONLY = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@]*")  # what quote() leaves as it is


def urn_part(value: str) -> str:
    """`value` made safe inside a urn: characters a URN may not hold are percent-encoded."""
    value = value.strip()
    # Most ids have nothing to encode, which the pattern tells faster than quote() finds out.
    return value if _URN_SAFE_ONLY.fullmatch(value) else urllib.parse.quote(value, safe=_URN_SAFE)


_SLUG_WORD = re.compile(r"[a-z0-9]+")


def slug(value: str, words: int = 8) -> str:
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode().lower()
    return "-".join(_SLUG_WORD.findall(ascii_text)[:words]) or "story"


# --- NITF fields ----------------------------------------------------------------------------

_GLOBAL_ID = re.compile(r"(?i)(urn|tag|https?):")


def _uri(docdata: Children, headline: str, issued: dt.datetime, source: str) -> str:
    doc_id = docdata.first("doc-id")
    regsrc = attribute(doc_id, "regsrc")
    own_id = attribute(doc_id, "id-string")
    if (attribute(docdata.element, "management-status") or "").lower() in ("canceled", "cancelled"):
        # A kill notice may be a document of its own that names the one it kills.
        own_id = attribute(docdata.element, "management-doc-idref") or own_id
    prefix = f"urn:wiredesk:{urn_part(source)}:nitf"
    if own_id:
        # NITF does not make id-strings URIs; one written as a global name is used as it is.
        # "NTB:1234" is a local id with a colon in it, not a URI with the scheme "NTB".
        if _GLOBAL_ID.match(own_id) and is_uri(own_id):
            return own_id
        # A local id is unique only within its registered source, and the source is ours.
        return f"{prefix}:{urn_part(regsrc) + ':' if regsrc else ''}{urn_part(own_id)}"
    if key := attribute(docdata.first("du-key"), "key"):
        return f"{prefix}:key:{urn_part(key)}"
    return f"{prefix}:{slug(headline)}:{issued.date().isoformat()}"


_SUBJECT_CODE = re.compile(r"\d{8}")


def _subject(element: etree._Element) -> Subject | None:
    refnum = attribute(element, "tobject.subject.refnum")
    name = (attribute(element, "tobject.subject.detail") or attribute(element, "tobject.subject.matter")
            or attribute(element, "tobject.subject.type") or refnum)
    if not name:
        return None
    ipr = attribute(element, "tobject.subject.ipr") or "IPTC"
    if refnum and ipr.upper() == "IPTC" and _SUBJECT_CODE.fullmatch(refnum):
        return Subject(name=name, uri=SUBJECT_CODES + refnum)
    return Subject(name=name, literal=f"{ipr}:{refnum}" if refnum else None)


def _anpa_keyword(head: Children) -> str | None:
    return next((clean(m.get("content")) for m in head.every("meta")
                 if m.get("name") == "anpa-keyword" and clean(m.get("content"))), None)
