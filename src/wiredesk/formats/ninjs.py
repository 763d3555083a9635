"""IPTC ninjs (News in JSON) 1.x, 2.x and 3.x, read leniently.

Agencies' ninjs is rarely valid against its schema, so nothing is validated: a field is read when
it is there with a usable type, and ignored otherwise. Only `uri` is required. 3.x spells fields
in camelCase (pubStatus, versionCreated, embargoedUntil); keys are read case-blind, so one path
reads all three versions.

    uri                         uri; one that is not an absolute URI is wrapped in a urn
    headlines[] (1.x headline)  headline (role main first), subheadline (role sub)
    bodies[] (1.x body_*)       paragraphs: text/plain preferred, else HTML, one per p/h2-h6/li
    pubstatus                   canceled is a kill; an unknown status is held as withheld
    descriptions[]              the dateline and correction roles (what to_ninjs writes)
    located                     the dateline, when the text opens with none

A JSON object is one item; an array of objects, or an object with an "items" or "data" array,
several. `load_json`, `html_paragraphs` and `as_uri` are shared with the dpa digitalwires format.
"""

from __future__ import annotations

import codecs
import json
import re
from urllib.parse import quote

import lxml.html
from lxml import etree

from wiredesk.formats.errors import FormatError
from wiredesk.formats.shared import derive_headline, read_dateline, slug
from wiredesk.formats.text import repair_mojibake
from wiredesk.formats.times import parse_time
from wiredesk.story import Dateline, Story, Subject

_SNIFF_KEY = re.compile(rb'"(?:uri|headlines?|bodies|body_\w+|versioncreated|versionCreated|pubstatus|pubStatus'
                        rb'|\$standard|standard)"\s*:')
# RFC 3986 absolute URI: a scheme, then only characters a URI may hold.
_CHAR = r"(?:[A-Za-z0-9\-._~:/?@!$&'()*+,;=]|%[0-9A-Fa-f]{2})"
_URI = re.compile(rf"[A-Za-z][A-Za-z0-9+.\-]*:{_CHAR}*(?:#{_CHAR}*)?")
_SUB_ROLES = {"sub", "subheadline", "subhead", "subtitle"}
_PUBSTATUS = {"usable": "usable", "withheld": "withheld", "canceled": "canceled", "cancelled": "canceled"}


def sniff(data: bytes) -> bool:
    """A JSON object or array with ninjs keys in its first kilobyte. dpa's digitalwires JSON has
    some of them too, so it must be tried first."""
    head = data[:1024]
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        head = head.decode("utf-16", errors="ignore").encode()
    head = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return head[:1] in (b"{", b"[") and _SNIFF_KEY.search(head) is not None


def parse(data: bytes, context) -> list[Story]:
    doc = load_json(data)
    if isinstance(doc, dict) and "uri" not in doc:
        doc = next((doc[key] for key in ("items", "data") if isinstance(doc.get(key), list)), doc)
    if isinstance(doc, dict):
        return [_story(doc, context, "the item")]
    if not isinstance(doc, list):
        raise FormatError("this JSON is neither a ninjs object nor a list of them")
    if not doc:
        raise FormatError("the JSON list holds no items")
    return [_story(item, context, f"item {number}") for number, item in enumerate(doc, start=1)]


def _story(item, context, where: str) -> Story:
    if not isinstance(item, dict):
        raise FormatError(f"{where} is not a JSON object")
    item = _lower(item)
    uri = _string(item.get("uri"))
    if not uri:
        raise FormatError(f"{where} has no uri, which ninjs requires")
    headline, derived, subheadline = _headlines(item)
    paragraphs = _body(item)
    if not headline and not paragraphs:
        raise FormatError(f"{where} has neither a headline nor any text")

    versioncreated = parse_time(item.get("versioncreated"), context.zone)
    descriptions = {_role(d): _string(d.get("value")) for d in _dicts(item.get("descriptions"))}
    located = _string(item.get("located"))
    near = (versioncreated or context.received).date()
    if descriptions.get("dateline"):
        originator = next((_string(s.get("name")) for s in _dicts(item.get("infosources"))
                           if _role(s) == "originator"), None)
        dateline = Dateline(text=descriptions["dateline"], place=located, agency=originator)
    else:
        dateline = (read_dateline(paragraphs[0], near) if paragraphs else None) or (
            Dateline(text=located, place=located) if located else None)

    if not headline:
        lede = paragraphs[0]
        if dateline and lede.startswith(dateline.text):
            lede = lede[len(dateline.text):].lstrip(" \t-–—_:") or lede
        headline, derived = derive_headline(lede), True

    subjects = _concepts(item.get("subjects", item.get("subject")))
    # Absent is usable, as ninjs says; a status that cannot be read is held, like an unknown one.
    status = item.get("pubstatus")
    pubstatus = "usable" if status is None else (
        _PUBSTATUS.get(status.strip().lower(), "withheld") if isinstance(status, str) else "withheld")
    correction = descriptions.get("correction")
    return Story(
        uri=as_uri(uri, context, "ninjs"),
        headline=headline,
        headline_derived=derived,
        subheadline=subheadline,
        paragraphs=paragraphs,
        version=_number(item.get("version"), 1, None),
        dateline=dateline,
        language=_string(item.get("language")),
        firstcreated=parse_time(item.get("firstcreated"), context.zone),
        versioncreated=versioncreated,
        pubstatus=pubstatus,
        urgency=_number(item.get("urgency"), 1, 9),
        by=_string(item.get("by")) or _string(item.get("byline")),
        slugline=_string(item.get("slugline")),
        # Our own ninjs writes keywords as subjects with a "keyword:" literal.
        subjects=[s for s in subjects if not (s.literal or "").startswith("keyword:")],
        keywords=[s.name for s in subjects if (s.literal or "").startswith("keyword:")],
        genres=_concepts(item.get("genres", item.get("genre"))),
        ednote=_string(item.get("ednote")),
        copyrightnotice=_string(item.get("copyrightnotice")),
        usageterms=_string(item.get("usageterms")),
        embargoed=parse_time(item.get("embargoed", item.get("embargoeduntil")), context.zone),
        signals=(["kill"] if pubstatus == "canceled" else []) + (["correction"] if correction else []),
        correction=correction,
        format="ninjs",
    )


def _headlines(item: dict) -> tuple[str | None, bool, str | None]:
    """The headline, whether the desk derived it (our own ninjs says so by role), the subheadline."""
    entries = [h for h in _dicts(item.get("headlines")) if _string(h.get("value"))]
    main = next((h for role in ("main", None, "derived") for h in entries if _role(h) == role),
                next((h for h in entries if _role(h) not in _SUB_ROLES), None))
    sub = next((h for h in entries if _role(h) in _SUB_ROLES), None)
    subheadline = _headline_text(sub) if sub else None
    if main:
        return _headline_text(main), _role(main) == "derived", subheadline
    # 1.x: "headline", or any "headline_*" property.
    for key, value in item.items():
        if (key == "headline" or key.startswith("headline_")) and _string(value):
            return " ".join(value.split()), False, subheadline
    return None, False, subheadline


def _headline_text(entry: dict) -> str:
    value = entry["value"]
    if _is_markup(str(entry.get("contenttype") or ""), value):
        value = " ".join(" ".join(html_paragraphs(value, keep_titles=True)).split()) or value
    return " ".join(value.split())


def _body(item: dict) -> list[str]:
    """Paragraphs of the first plain-text body, else of the first body with markup."""
    bodies = [(str(b.get("contenttype") or "").lower(), b["value"]) for b in _dicts(item.get("bodies"))
              if _string(b.get("value"))]
    bodies += [("text/plain" if key == "body_text" else "", value) for key, value in item.items()
               if key.startswith("body_") and _string(value)]
    bodies.sort(key=lambda body: _is_markup(*body))
    for contenttype, value in bodies:
        paragraphs = html_paragraphs(value) if _is_markup(contenttype, value) else text_paragraphs(value)
        if paragraphs:
            return paragraphs
    return []


def _is_markup(contenttype: str, value: str) -> bool:
    if contenttype:
        return any(kind in contenttype for kind in ("html", "xml", "nitf"))
    return re.search(r"<[A-Za-z!/?]", value) is not None


def _concepts(values) -> list[Subject]:
    """Subjects or genres: 2.x name/uri/literal, 1.x name/scheme/code."""
    concepts = []
    for value in _dicts(values):
        code = value.get("code")
        code = str(code) if isinstance(code, (str, int)) and not isinstance(code, bool) and str(code).strip() else None
        scheme = _string(value.get("scheme"))
        uri = _string(value.get("uri")) or (scheme + code if scheme and code else None)
        uri = uri if uri and _URI.fullmatch(uri) else None
        literal = _string(value.get("literal")) or code
        name = _string(value.get("name")) or literal or (uri.rstrip("/").rsplit("/", 1)[-1] if uri else None)
        if name:
            concepts.append(Subject(name=name, uri=uri, literal=literal))
    return concepts


def _lower(value):
    if isinstance(value, dict):
        return {str(key).lower(): _lower(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_lower(item) for item in value]
    return value


def _role(entry: dict) -> str | None:
    return entry.get("role") if isinstance(entry.get("role"), str) else None


def _dicts(value) -> list[dict]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _string(value) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _number(value, low: int, high: int | None) -> int | None:
    """An integer from a number or a numeric string, when within bounds."""
    if isinstance(value, str) and re.fullmatch(r"[0-9]{1,9}", value.strip()):
        value = int(value)
    elif isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    return value if value >= low and (high is None or value <= high) else None


# --- shared with dpa_digitalwires ---------------------------------------------------------------

_C1 = re.compile(rb"[\x80-\x9f]")


def as_uri(value: str, context, fmt: str) -> str:
    """The agency's id when it is an absolute URI, as ninjs output needs; else wrapped in one, the
    same every time."""
    return value if _URI.fullmatch(value) else f"urn:wiredesk:{slug(context.source)}:{fmt}:{quote(value, safe='')}"


def load_json(data: bytes):
    """The JSON document, its strings repaired where UTF-8 went through CP1252 on the way. UTF-8
    (with or without a byte-order mark), UTF-16 and UTF-32 as JSON allows; undeclared CP1252 or
    Latin-1, which some agencies send, read as such."""
    try:
        try:
            doc = json.loads(data)
        except UnicodeDecodeError:
            doc = json.loads(data.decode("cp1252", errors="replace") if _C1.search(data) else data.decode("latin-1"))
        return _repaired(doc)
    except json.JSONDecodeError as exc:
        raise FormatError(f"malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise FormatError("the JSON is nested too deeply to be a news item") from None


def _repaired(value):
    if isinstance(value, str):
        return repair_mojibake(value)
    if isinstance(value, dict):
        return {key: _repaired(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_repaired(item) for item in value]
    return value


def text_paragraphs(text: str) -> list[str]:
    """Paragraphs of plain text: between blank lines, or one a line when there are none."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    blocks = re.split(r"\n[ \t]*\n", text.strip())
    if len(blocks) == 1:
        blocks = blocks[0].split("\n")
    return [block.strip() for block in blocks if block.strip()]


# Inline elements flow into the paragraph around them; any other element ends one. Elements that
# hold no copy (the title an HTML body repeats, scripts) are dropped.
_INLINE = {"a", "abbr", "acronym", "b", "bdi", "bdo", "big", "cite", "code", "data", "del", "dfn", "em", "font",
           "i", "img", "ins", "kbd", "label", "mark", "nobr", "q", "rp", "rt", "ruby", "s", "samp", "small", "span",
           "strike", "strong", "sub", "sup", "time", "tt", "u", "var", "wbr"}
_DROPPED = {"head", "title", "h1", "script", "style", "noscript", "template", "iframe", "object", "embed", "svg"}
_BREAK = "\x00"  # <br> while white space is collapsed, a line break after


def html_paragraphs(markup: str, *, keep_titles: bool = False) -> list[str]:
    """The text of an HTML fragment, one paragraph per block (p, h2-h6, li, ...), without markup.
    A table row is one paragraph, its cells joined by " | ". White space is collapsed as a browser
    does; <br> is kept as a line break, and two of them end a paragraph. Nothing is fetched."""
    try:
        fragments = lxml.html.fragments_fromstring(markup)
    except (etree.ParserError, ValueError, AssertionError):
        # fragments_fromstring gives up on some broken documents ("too many bodies"); the
        # whole-document parser takes them.
        try:
            fragments = [lxml.html.document_fromstring(markup)]
        except (etree.ParserError, ValueError):
            return text_paragraphs(markup) if not re.search(r"<[A-Za-z!/?]", markup) else []
    dropped = _DROPPED - {"h1", "title"} if keep_titles else _DROPPED
    paragraphs: list[str] = []
    buffer: list[str] = []

    def flush() -> None:
        text = re.sub(r"[ \t\n\r\f]+", " ", "".join(buffer)).replace(_BREAK, "\n")
        buffer.clear()
        for paragraph in re.split(r"\n[ \n]*\n", re.sub(r" *\n *", "\n", text)):
            if paragraph.strip():
                paragraphs.append(paragraph.strip())

    def walk(element) -> None:
        tag = element.tag.lower() if isinstance(element.tag, str) else None
        if tag == "br":
            buffer.append(_BREAK)
        elif tag == "tr":
            flush()
            # Within a cell, a line break or a block separates words as a space does.
            for inner in element.iter():
                if inner is not element and inner.tag not in _INLINE and inner.tag not in ("td", "th"):
                    inner.text, inner.tail = f" {inner.text or ''}", f" {inner.tail or ''}"
            cells = [" ".join(cell.text_content().split()) for cell in element if cell.tag in ("td", "th")]
            if any(cells):
                paragraphs.append(" | ".join(cells))
        elif tag in _INLINE:
            buffer.append(element.text or "")
            for child in element:
                walk(child)
        elif tag is not None and tag not in dropped:
            flush()
            buffer.append(element.text or "")
            for child in element:
                walk(child)
            flush()
        buffer.append(element.tail or "")

    for fragment in fragments:
        if isinstance(fragment, str):
            buffer.append(fragment)
        else:
            walk(fragment)
    flush()
    return paragraphs
