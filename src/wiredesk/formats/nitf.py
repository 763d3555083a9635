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
import html.entities
import re
import unicodedata
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass

from lxml import etree

from wiredesk.formats import xml
from wiredesk.formats.agency_copy import derive_headline
from wiredesk.formats.errors import FormatError
from wiredesk.formats.times import parse_time
from wiredesk.formats.xml import local
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
    head, body = first(root, "head"), first(root, "body")
    docdata = first(head, "docdata")

    paragraphs = document_paragraphs(root)
    top = read_body_head(first(body, "body.head"), place=attribute(first(docdata, "evloc"), "city"))
    headline = top.headline or clean(inline_text(first(head, "title")))
    derived = headline is None
    if derived:
        if not paragraphs:
            raise FormatError("the NITF document has neither a headline (hl1 or title) nor body text")
        headline = derive_headline(paragraphs[0])

    issued = (parse_time(attribute(first(docdata, "date.issue"), "norm"), context.zone)
              or parse_time(attribute(first(head, "pubdata"), "date.publication"), context.zone))
    status = (attribute(docdata, "management-status") or "usable").lower()
    release = parse_time(attribute(first(docdata, "date.release"), "norm"), context.zone)
    embargoed = release if status == "embargoed" or (release and issued and release > issued) else None
    # Copy the desk does not know how to release is not released: an embargo without a time is
    # "hold until told", and a status outside NITF's four is no licence to publish.
    pubstatus = _STATUSES.get(status, "withheld")
    if status == "embargoed" and embargoed is None:
        pubstatus = "withheld"

    signals, correction_text = [], None
    if pubstatus == "canceled":
        signals.append("kill")
    if (correction := first(docdata, "correction")) is not None:
        signals.append("correction")
        correction_text = clean(correction.get("info"))

    du_key = first(docdata, "du-key")
    version = attribute(du_key, "version")
    copyright_ = first(docdata, "doc.copyright")
    holder = attribute(copyright_, "holder") or attribute(first(docdata, "doc.rights"), "owner")
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
        urgency=urgency(attribute(first(docdata, "urgency"), "ed-urg")),
        by=top.by,
        slugline=_anpa_keyword(head) or attribute(du_key, "key"),
        subjects=[s for el in every(head, "tobject/tobject.subject") if (s := _subject(el))],
        ednote="\n".join(n for el in every(docdata, "ed-msg") if (n := clean(el.get("info")))) or None,
        copyrightnotice=" ".join(filter(None, ["Copyright", year, holder])) if holder else None,
        usageterms=clean(attribute(first(docdata, "doc.rights"), "limitations")),
        embargoed=embargoed,
        signals=signals,
        correction=correction_text,
        keywords=[k for el in every(docdata, "key-list/keyword") if (k := clean(el.get("key")))],
        format=FORMAT,
    )]


@dataclass(frozen=True)
class BodyHead:
    """What body.head says; NewsML-G2 reads it too, from NITF carried inline."""

    headline: str | None
    subheadline: str | None
    by: str | None
    dateline: Dateline | None


def read_body_head(body_head: etree._Element | None, place: str | None = None) -> BodyHead:
    """`place` is where the metadata says the story happened, for a dateline without a location."""
    dateline = None
    if (element := first(body_head, "dateline")) is not None:
        date = parse_time(attribute(first(element, "story.date"), "norm"))
        dateline = make_dateline(inline_text(element), clean(inline_text(first(element, "location"))) or place,
                                 date.date() if date else None)
    bylines = [b for el in every(body_head, "byline") if (b := clean(inline_text(el)))]
    return BodyHead(
        headline=clean(inline_text(first(body_head, "hedline/hl1"))),
        subheadline=clean(inline_text(first(body_head, "hedline/hl2"))),
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
    not_copy: Callable[[etree._Element], bool]


def _nitf_not_copy(element: etree._Element) -> bool:
    name = local(element.tag)
    return name in ("media", "nitf-table-metadata") or (name == "note" and element.get("type") == "npa")


NITF_BODY = Markup(frozenset({"p", "hl2", "li", "dt", "dd", "pre"}), _nitf_not_copy)
# h1 is the page title, which is the item's headline; the header repeats headline and byline.
_XHTML_NOT_COPY = frozenset({"head", "header", "h1", "figcaption", "script", "style", "template", "nav",
                             "noscript"})
XHTML_BODY = Markup(frozenset({"p", "h2", "h3", "h4", "h5", "h6", "li", "dt", "dd", "pre", "blockquote"}),
                    lambda element: local(element.tag) in _XHTML_NOT_COPY)

_METADATA = Markup(frozenset(), lambda element: False)

# XML text cannot contain NUL, so it marks a <br/> without colliding with anything written.
_BREAK = "\x00"
_LAYOUT = re.compile(r"[ \t\r\n]*\n[ \t\r\n]*")
_PARAGRAPH_BREAK = re.compile(r"[ \t]*\x00[ \t]*(?:\x00[ \t]*)+")
_LINE_BREAK = re.compile(r"[ \t]*\x00[ \t]*")


def document_paragraphs(nitf: etree._Element) -> list[str]:
    """The paragraphs of a whole NITF document: a body may have several body.content parts."""
    return [p for content in every(nitf, "body/body.content") for p in body_paragraphs(content)]


def body_paragraphs(element: etree._Element | None, markup: Markup = NITF_BODY) -> list[str]:
    """The paragraphs of a body (NITF body.content, or XHTML body with XHTML_BODY)."""
    out: list[str] = []
    if element is not None:
        _walk(element, markup, out)
    return out


def _walk(element: etree._Element, markup: Markup, out: list[str]) -> None:
    for child in element:
        if not isinstance(child.tag, str) or markup.not_copy(child):
            continue
        name = local(child.tag)
        if name == "table":
            out.extend(_table_rows(child, markup))
        elif name in markup.paragraphs and not _holds_paragraphs(child, markup):
            out.extend(_texts(child, markup))
        else:
            # A container (block, div, section, a list item holding paragraphs): its own loose
            # text is layout or labels, its paragraphs are the copy.
            _walk(child, markup, out)


def _holds_paragraphs(element: etree._Element, markup: Markup) -> bool:
    return any((name := local(d.tag)) in markup.paragraphs or name == "table" for d in element.iterdescendants())


def _table_rows(table: etree._Element, markup: Markup) -> list[str]:
    rows = _texts(caption, markup) if (caption := first(table, "caption")) is not None else []
    for row in table.iter():
        if local(row.tag) != "tr":
            continue
        # A row is one line: breaks inside a cell become spaces.
        cells = [" ".join(_texts(cell, markup)).replace("\n", " ") for cell in row
                 if local(cell.tag) in ("td", "th")]
        if any(cells):
            rows.append(CELL_SEPARATOR.join(cells))
    return rows


def _texts(element: etree._Element, markup: Markup) -> list[str]:
    """The paragraph text of one element: usually one, more where a double <br/> splits it."""
    parts: list[str] = []
    _gather(element, markup, parts)
    text = _LAYOUT.sub(" ", "".join(parts))
    chunks = (_LINE_BREAK.sub("\n", chunk).strip(" \t\r\n") for chunk in _PARAGRAPH_BREAK.split(text))
    return [chunk for chunk in chunks if chunk]


def _gather(element: etree._Element, markup: Markup, parts: list[str]) -> None:
    if element.text:
        parts.append(element.text)
    for child in element:
        name = local(child.tag)
        if isinstance(child, etree._Entity):
            # Only a DTD-era document can hold an undeclared entity (xml.load refuses
            # declarations); its DTD took the names from the HTML set. Unknown names stay as written.
            parts.append(html.entities.html5.get(f"{child.name};", child.text))
        elif name == "br":
            parts.append(_BREAK)
        elif markup.not_copy(child):
            pass
        elif name in markup.paragraphs:
            # A paragraph inside a paragraph happens in table cells: keep the two apart.
            parts.append(_BREAK)
            _gather(child, markup, parts)
            parts.append(_BREAK)
        else:
            _gather(child, markup, parts)
        if child.tail:
            parts.append(child.tail)


def inline_text(element: etree._Element | None) -> str | None:
    """All the text of a metadata element, entities read, or None."""
    if element is None:
        return None
    parts: list[str] = []
    _gather(element, _METADATA, parts)
    return "".join(parts).replace(_BREAK, " ")


# --- finding things by local name -----------------------------------------------------------

def first(element: etree._Element | None, path: str) -> etree._Element | None:
    """The first element down `path` ("docdata/du-key"), names matched without namespace."""
    for name in path.split("/"):
        if element is None:
            return None
        element = next((c for c in element if isinstance(c.tag, str) and local(c.tag) == name), None)
    return element


def every(element: etree._Element | None, path: str) -> list[etree._Element]:
    """Every element named by the last step of `path`, under the first match of the rest."""
    parent_path, _, name = path.rpartition("/")
    parent = first(element, parent_path) if parent_path else element
    return [] if parent is None else [c for c in parent if isinstance(c.tag, str) and local(c.tag) == name]


def attribute(element: etree._Element | None, name: str) -> str | None:
    value = element.get(name) if element is not None else None
    return value.strip() if value and value.strip() else None


def clean(value: str | None) -> str | None:
    """Metadata text on one line: white space runs become one space."""
    value = re.sub(r"[ \t\r\n]+", " ", value).strip() if value else None
    return value or None


def urgency(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and 1 <= int(value) <= 9 else None


# A URI as RFC 3986 writes it: a scheme, then only characters a URI may hold (brackets, which
# only an IPv6 host may use, are left to urn_part to encode).
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:(?:[A-Za-z0-9\-._~:/?#@!$&'()*+,;=]|%[0-9A-Fa-f]{2})+$")


def is_uri(value: str | None) -> bool:
    return bool(value and _URI.match(value))


def urn_part(value: str) -> str:
    """`value` made safe inside a urn: characters a URN may not hold are percent-encoded."""
    return urllib.parse.quote(value.strip(), safe="-._~!$&'()*+,;=:@")


def slug(value: str, words: int = 8) -> str:
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode().lower()
    return "-".join(re.findall(r"[a-z0-9]+", ascii_text)[:words]) or "story"


# --- NITF fields ----------------------------------------------------------------------------

_GLOBAL_ID = re.compile(r"(?i)(urn|tag|https?):")


def _uri(docdata: etree._Element | None, headline: str, issued: dt.datetime, source: str) -> str:
    doc_id = first(docdata, "doc-id")
    regsrc = attribute(doc_id, "regsrc")
    own_id = attribute(doc_id, "id-string")
    if (attribute(docdata, "management-status") or "").lower() in ("canceled", "cancelled"):
        # A kill notice may be a document of its own that names the one it kills.
        own_id = attribute(docdata, "management-doc-idref") or own_id
    prefix = f"urn:wiredesk:{urn_part(source)}:nitf"
    if own_id:
        # NITF does not make id-strings URIs; one written as a global name is used as it is.
        # "NTB:1234" is a local id with a colon in it, not a URI with the scheme "NTB".
        if _GLOBAL_ID.match(own_id) and is_uri(own_id):
            return own_id
        # A local id is unique only within its registered source, and the source is ours.
        return f"{prefix}:{urn_part(regsrc) + ':' if regsrc else ''}{urn_part(own_id)}"
    if key := attribute(first(docdata, "du-key"), "key"):
        return f"{prefix}:key:{urn_part(key)}"
    return f"{prefix}:{slug(headline)}:{issued.date().isoformat()}"


def _subject(element: etree._Element) -> Subject | None:
    refnum = attribute(element, "tobject.subject.refnum")
    name = (attribute(element, "tobject.subject.detail") or attribute(element, "tobject.subject.matter")
            or attribute(element, "tobject.subject.type") or refnum)
    if not name:
        return None
    ipr = attribute(element, "tobject.subject.ipr") or "IPTC"
    if refnum and ipr.upper() == "IPTC" and re.fullmatch(r"\d{8}", refnum):
        return Subject(name=name, uri=SUBJECT_CODES + refnum)
    return Subject(name=name, literal=f"{ipr}:{refnum}" if refnum else None)


def _anpa_keyword(head: etree._Element | None) -> str | None:
    return next((clean(m.get("content")) for m in every(head, "meta")
                 if m.get("name") == "anpa-keyword" and clean(m.get("content"))), None)
