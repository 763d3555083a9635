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
    dateline       body.head/dateline; place from its location (the city in it, when it names
                   one), else docdata/evloc/@city, else the words before the first comma; date
                   from story.date/@norm
    pubstatus      docdata/@management-status; "embargoed" is usable copy with an embargo
    embargoed      date.release/@norm, when the status says embargoed or it is after date.issue
    versioncreated date.issue/@norm, else pubdata/@date.publication
    firstcreated   the same, for a first version (du-key/@version 1, or none): NITF has no
                   creation time, and a later version's issue time is not when the story began
    subjects       tobject.subject (IPTC subject codes), keywords from key-list/keyword/@key
    signals        "kill" for canceled copy, "correction" when docdata has a correction
    ednote         docdata/ed-msg/@info and every note in the body (body.head, body.content),
                   one a line

The body is what readers get, in reading order: the paragraphs, crossheads (`hl2`), list items
and table rows of body.content, read by the markup module's walker with its NITF vocabulary.
Media (references and their captions), notes and body.end (taglines, usually the reporter's
e-mail address) are not copy and are left out.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import unicodedata
import urllib.parse
from typing import TYPE_CHECKING, NamedTuple, TypeGuard

from lxml import etree

from wiredesk.formats import markup, xml
from wiredesk.formats.context import Context
from wiredesk.formats.errors import FormatError
from wiredesk.formats.markup import clean, inline_text
from wiredesk.formats.shared import VERSION_MAX, derive_headline, read_dateline, whole_number
from wiredesk.formats.times import parse_time
from wiredesk.formats.xml import Children, every, first, local
from wiredesk.story import Dateline, Subject, WireStory

if TYPE_CHECKING:  # the package, which imports this module, defines Head
    from wiredesk.formats import Head

FORMAT = "nitf"
SUBJECT_CODES = "http://cv.iptc.org/newscodes/subjectcode/"

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_STATUSES = {
    "usable": "usable",
    "embargoed": "usable",
    "withheld": "withheld",
    "canceled": "canceled",
    "cancelled": "canceled",
}


def parse(data: bytes, context: Context) -> list[WireStory]:
    root = xml.load(data)
    if local(root.tag) != "nitf":
        raise FormatError(f"this is not NITF: the root element is <{local(root.tag)}>, not <nitf>")
    document = Children(root)
    head = Children(document.first("head"))
    docdata = Children(head.first("docdata"))

    top, paragraphs = read_body(document, place=attribute(docdata.first("evloc"), "city"))
    headline = top.headline
    derived = headline is None
    if headline is None:
        if not paragraphs:
            raise FormatError("the NITF document has neither a headline (hl1 or title) nor body text")
        headline = derive_headline(paragraphs[0])

    issued = parse_time(attribute(docdata.first("date.issue"), "norm"), context.zone) or parse_time(
        attribute(head.first("pubdata"), "date.publication"), context.zone
    )
    status = (attribute(docdata.element, "management-status") or "usable").lower()
    release_norm = attribute(docdata.first("date.release"), "norm")
    release = parse_time(release_norm, context.zone)
    embargoed = release if status == "embargoed" or (release and issued and release > issued) else None
    # Copy the desk does not know how to release is not released: an embargo without a time is
    # "hold until told", a release time that cannot be read may be an embargo's, and a status
    # outside NITF's four is no licence to publish.
    pubstatus = _STATUSES.get(status, "withheld")
    if pubstatus == "usable" and ((status == "embargoed" and embargoed is None) or (release_norm and release is None)):
        pubstatus = "withheld"

    signals, correction_text = [], None
    if pubstatus == "canceled":
        signals.append("kill")
    if (correction := docdata.first("correction")) is not None:
        signals.append("correction")
        correction_text = clean(correction.get("info"))

    notes = [n for el in docdata.every("ed-msg") if (n := clean(el.get("info")))]
    notes.extend(top.notes)

    du_key = docdata.first("du-key")
    version = whole_number(attribute(du_key, "version"), VERSION_MAX)
    copyright_ = docdata.first("doc.copyright")
    rights = docdata.first("doc.rights")
    holder = attribute(copyright_, "holder") or attribute(rights, "owner")
    year = attribute(copyright_, "year")
    return [
        WireStory(
            uri=_uri(docdata, headline, issued or context.received, context.source),
            version=version,
            headline=headline,
            headline_derived=derived,
            subheadline=top.subheadline,
            paragraphs=paragraphs,
            dateline=top.dateline,
            language=attribute(root, "baselang") or attribute(root, XML_LANG),
            firstcreated=issued if version is None or version <= 1 else None,
            versioncreated=issued,
            pubstatus=pubstatus,
            urgency=urgency(attribute(docdata.first("urgency"), "ed-urg")),
            by=top.by,
            slugline=_anpa_keyword(head) or attribute(du_key, "key"),
            subjects=[s for el in every(head.first("tobject"), "tobject.subject") if (s := _subject(el))],
            ednote="\n".join(notes) or None,
            copyrightnotice=" ".join(filter(None, ["Copyright", year, holder])) if holder else None,
            usageterms=clean(attribute(rights, "limitations")),
            embargoed=embargoed,
            signals=signals,
            correction=correction_text,
            keywords=[k for el in every(docdata.first("key-list"), "keyword") if (k := clean(el.get("key")))],
            format=FORMAT,
        )
    ]


class BodyHead(NamedTuple):
    """What a NITF body says besides its paragraphs; NewsML-G2 and NewsML 1.2 read it too, from
    NITF carried inline."""

    headline: str | None
    subheadline: str | None
    by: str | None
    dateline: Dateline | None
    notes: tuple[str, ...]  # to the editors, never to readers


NO_HEAD = BodyHead(headline=None, subheadline=None, by=None, dateline=None, notes=())


def read_body(document: Children, place: str | None = None) -> tuple[BodyHead, list[str]]:
    """What the body of a NITF document says, and the paragraphs of every body.content (a body
    may have several). The headline falls back to the head's title.

    `place` is where the metadata says the story happened, for a dateline without a location.
    """
    parts = Children(document.first("body"))
    body_head = Children(parts.first("body.head"))
    notes = [note for element in body_head.every("note") if (note := " ".join(markup.paragraphs(element, markup.NITF)))]
    paragraphs: list[str] = []
    for content in parts.every("body.content"):
        paragraphs += markup.paragraphs(content, markup.NITF, notes)
    dateline = None
    if (element := body_head.first("dateline")) is not None:
        pieces = Children(element)
        date = parse_time(attribute(pieces.first("story.date"), "norm"))
        location = pieces.first("location")
        # "<city>GULL POINT</city>, <state>Maine</state>": the place is the city.
        city = inline_text(first(location, "city")) or inline_text(location)
        dateline = make_dateline(inline_text(element), city or place, date.date() if date else None)
    hedline = Children(body_head.first("hedline"))
    return BodyHead(
        inline_text(hedline.first("hl1")) or inline_text(first(document.first("head"), "title")),
        inline_text(hedline.first("hl2")),
        "; ".join(b for el in body_head.every("byline") if (b := inline_text(el))) or None,
        dateline,
        tuple(notes),
    ), paragraphs


def read_embedded(container: etree._Element, place: str | None = None) -> tuple[BodyHead, list[str]]:
    """The text another format carries inline (NewsML-G2's inlineXML, NewsML 1.2's DataContent):
    a NITF document, an XHTML page or fragment, or text, which may be HTML escaped once more
    than the XML needed."""
    roots = [child for child in container if isinstance(child.tag, str)]
    body_head: BodyHead = NO_HEAD
    paragraphs: list[str] = []
    for root in roots:
        kind = xml.name(root.tag)
        if kind == "nitf":
            body_head, paragraphs = read_body(Children(root), place)
        elif kind == "html":
            paragraphs = markup.paragraphs(first(root, "body"), markup.XHTML)
        if paragraphs:
            return body_head, paragraphs
    if not roots:
        text = container.text or ""
        if markup.holds_markup(text):
            return body_head, markup.html_paragraphs(text)
        return body_head, markup.paragraphs(container, markup.XHTML)
    # A fragment of XHTML (a <div>, a <table>, bare <p>s); other vocabularies (SportsML) are not
    # read as text.
    if any(xml.name(root.tag) in markup.XHTML.blocks for root in roots):
        return body_head, markup.paragraphs(container, markup.XHTML)
    return body_head, []


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


def lede_dateline(paragraphs: list[str], place: str | None, near: dt.date) -> Dateline | None:
    """The dateline the lede opens with, for copy that has no dateline of its own; `place`, where
    the metadata says the story happened, names its place."""
    dateline = read_dateline(paragraphs[0], near) if paragraphs else None
    return dataclasses.replace(dateline, place=place) if dateline and place else dateline


def attribute(element: etree._Element | None, name: str) -> str | None:
    value = element.get(name) if element is not None else None
    return value.strip() or None if value else None


def urgency(value: str | None) -> int | None:
    return whole_number(value, 9) or None


# A URI as RFC 3986 writes it: a scheme, then only characters a URI may hold (brackets, which
# only an IPv6 host may use, are left to urn_part to encode).
# Possessive: a run of URI characters is taken whole, not one alternation per character.
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:(?:[A-Za-z0-9\-._~:/?#@!$&'()*+,;=]++|%[0-9A-Fa-f]{2})++$")


def is_uri(value: str | None) -> TypeGuard[str]:
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
    name = (
        attribute(element, "tobject.subject.detail")
        or attribute(element, "tobject.subject.matter")
        or attribute(element, "tobject.subject.type")
        or refnum
    )
    if not name:
        return None
    ipr = attribute(element, "tobject.subject.ipr") or "IPTC"
    if refnum and ipr.upper() == "IPTC" and _SUBJECT_CODE.fullmatch(refnum):
        return Subject(name=name, uri=SUBJECT_CODES + refnum)
    return Subject(name=name, literal=f"{ipr}:{refnum}" if refnum else None)


def _anpa_keyword(head: Children) -> str | None:
    return next(
        (
            clean(m.get("content"))
            for m in head.every("meta")
            if m.get("name") == "anpa-keyword" and clean(m.get("content"))
        ),
        None,
    )


NAME = "nitf"


def score(data: bytes, head: Head) -> float:
    """1 for XML whose root is <nitf>, in any namespace or none."""
    return 1.0 if head.root == "nitf" else 0.0
