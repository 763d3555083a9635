"""IPTC ninjs (News in JSON) 1.x, 2.x and 3.x, read leniently.

Agencies' ninjs is rarely valid against its schema, so nothing is validated: a field is read when
it is there with a usable type, and ignored otherwise. Only `uri` is required. 3.x spells fields
in camelCase (pubStatus, versionCreated, embargoedUntil); keys are read case-blind, so one path
reads all three versions.

    uri (Superdesk: guid)       uri; one that is not an absolute URI is wrapped in a urn
    headlines[] (1.x headline)  headline (role main first), subheadline (role sub)
    bodies[] (1.x body_*)       paragraphs: text/plain preferred, else HTML, one per p/h2-h6/li
    pubstatus                   canceled is a kill; an unknown status is held as withheld
    descriptions[]              the dateline and correction roles (what to_ninjs writes)
    located                     the dateline, when the text opens with none

A JSON object is one item; an array of objects, or an object with an "items" or "data" array,
several. `load_json` is shared with the dpa digitalwires format.
"""

from __future__ import annotations

import json
import re
import sys
from typing import TYPE_CHECKING, Any

from wiredesk.formats.context import Context
from wiredesk.formats.errors import FormatError
from wiredesk.formats.markup import html_paragraphs
from wiredesk.formats.shared import VERSION_MAX, derive_headline, id_uri, read_dateline
from wiredesk.formats.text import repair_mojibake, without
from wiredesk.formats.times import parse_time
from wiredesk.formats.xml import MAX_DEPTH
from wiredesk.story import Dateline, Subject, WireStory

if TYPE_CHECKING:  # the package, which imports this module, defines Head
    from wiredesk.formats import Head

# RFC 3986 absolute URI: a scheme, then only characters a URI may hold.
_CHAR = r"(?:[A-Za-z0-9\-._~:/?@!$&'()*+,;=]|%[0-9A-Fa-f]{2})"
_URI = re.compile(rf"[A-Za-z][A-Za-z0-9+.\-]*:{_CHAR}*(?:#{_CHAR}*)?")
_SUB_ROLES = {"sub", "subheadline", "subhead", "subtitle"}
_PUBSTATUS = {"usable": "usable", "withheld": "withheld", "canceled": "canceled", "cancelled": "canceled"}


NAME = "ninjs"
# Names of fields a ninjs item has besides its uri, lower-cased as items are read: Superdesk's
# guid, the headlines and bodies of every version, and what 2.x and 3.x put first.
_FIELDS = {"guid", "headline", "headlines", "bodies", "versioncreated", "pubstatus", "standard", "$standard"}


def score(data: bytes, head: Head) -> float:
    """1 for JSON whose (first) item has a uri, the one field ninjs requires; 0.5 when it has
    only other ninjs fields, as Superdesk's items do, and as dpa's JSON does in part."""
    doc = _unwrapped(head.json)
    item = next((item for item in doc if isinstance(item, dict)), None) if isinstance(doc, list) else doc
    if not isinstance(item, dict):
        return 0.0
    keys = {str(key).lower() for key in item}
    if "uri" in keys:
        return 1.0
    return 0.5 if any(key in _FIELDS or key.startswith(("body_", "headline_")) for key in keys) else 0.0


def parse(data: bytes, context: Context) -> list[WireStory]:
    doc = _unwrapped(load_json(data))
    if isinstance(doc, dict):
        return [_story(doc, context, "the item")]
    if not isinstance(doc, list):
        raise FormatError("this JSON is neither a ninjs object nor a list of them")
    if not doc:
        raise FormatError("the JSON list holds no items")
    return [_story(item, context, f"item {number}") for number, item in enumerate(doc, start=1)]


def _unwrapped(doc: object) -> object:
    """The item, or the list of items, a document holds: an "items" or "data" list wraps several."""
    if isinstance(doc, dict) and "uri" not in doc:
        return next((doc[key] for key in ("items", "data") if isinstance(doc.get(key), list)), doc)
    return doc


def _story(raw: object, context: Context, where: str) -> WireStory:
    if not isinstance(raw, dict):
        raise FormatError(f"{where} is not a JSON object")
    item: dict[str, Any] = _lower(raw)
    # Superdesk's ninjs puts its item id (a tag: or urn:) in guid, as it has no web address yet.
    uri = _string(item.get("uri")) or _string(item.get("guid"))
    if not uri:
        raise FormatError(f"{where} has no uri (nor a Superdesk guid), which ninjs requires")
    headline, derived, subheadline = _headlines(item)
    paragraphs = _body(item)
    if not headline and not paragraphs:
        raise FormatError(f"{where} has neither a headline nor any text")

    versioncreated = parse_time(item.get("versioncreated"), context.zone)
    descriptions = {_role(d): _string(d.get("value")) for d in _dicts(item.get("descriptions"))}
    located = _string(item.get("located"))
    near = (versioncreated or context.received).date()
    dateline: Dateline | None
    if dateline_text := descriptions.get("dateline"):
        originator = next(
            (_string(s.get("name")) for s in _dicts(item.get("infosources")) if _role(s) == "originator"), None
        )
        dateline = Dateline(text=dateline_text, place=located, agency=originator)
    else:
        dateline = (read_dateline(paragraphs[0], near) if paragraphs else None) or (
            Dateline(text=located, place=located) if located else None
        )

    if not headline:
        lede = paragraphs[0]
        if dateline and lede.startswith(dateline.text):
            lede = lede[len(dateline.text) :].lstrip(" \t-–—_:") or lede
        headline, derived = derive_headline(lede), True

    subjects = _concepts(item.get("subjects", item.get("subject")))
    # Absent is usable, as ninjs says; a status that cannot be read is held, like an unknown one.
    status = item.get("pubstatus")
    pubstatus = (
        "usable"
        if status is None
        else (_PUBSTATUS.get(status.strip().lower(), "withheld") if isinstance(status, str) else "withheld")
    )
    embargo = item.get("embargoed", item.get("embargoeduntil"))
    embargoed = parse_time(embargo, context.zone)
    if embargoed is None and embargo not in (None, "") and pubstatus == "usable":
        pubstatus = "withheld"  # an embargo that cannot be read is no licence to publish
    correction = descriptions.get("correction")
    return WireStory(
        uri=id_uri(uri, context.source, "ninjs"),
        headline=headline,
        headline_derived=derived,
        subheadline=subheadline,
        paragraphs=paragraphs,
        version=_number(item.get("version"), 1, VERSION_MAX),
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
        embargoed=embargoed,
        signals=(["kill"] if pubstatus == "canceled" else []) + (["correction"] if correction else []),
        correction=correction,
        format="ninjs",
    )


def _headlines(item: dict[str, Any]) -> tuple[str | None, bool, str | None]:
    """The headline, whether the desk derived it (our own ninjs says so by role), the subheadline."""
    entries = [h for h in _dicts(item.get("headlines")) if _string(h.get("value"))]
    main = next(
        (h for role in ("main", None, "derived") for h in entries if _role(h) == role),
        next((h for h in entries if _role(h) not in _SUB_ROLES), None),
    )
    sub = next((h for h in entries if _role(h) in _SUB_ROLES), None)
    subheadline = _headline_text(sub) if sub else None
    if main:
        return _headline_text(main), _role(main) == "derived", subheadline
    # 1.x: "headline", or any "headline_*" property.
    for key, value in item.items():
        if (key == "headline" or key.startswith("headline_")) and _string(value):
            return " ".join(value.split()), False, subheadline
    return None, False, subheadline


def _headline_text(entry: dict[str, Any]) -> str:
    value = entry["value"]
    if _is_markup(str(entry.get("contenttype") or ""), value):
        value = " ".join(" ".join(html_paragraphs(value, keep_titles=True)).split()) or value
    return " ".join(value.split())


def _body(item: dict[str, Any]) -> list[str]:
    """Paragraphs of the first plain-text body, else of the first body with markup."""
    bodies = [
        (str(b.get("contenttype") or "").lower(), b["value"])
        for b in _dicts(item.get("bodies"))
        if _string(b.get("value"))
    ]
    bodies += [
        ("text/plain" if key == "body_text" else "", value)
        for key, value in item.items()
        if key.startswith("body_") and _string(value)
    ]
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


def _concepts(values: object) -> list[Subject]:
    """Subjects or genres: 2.x name/uri/literal, 1.x name/scheme/code."""
    concepts: list[Subject] = []
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


def _lower(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(key).lower(): _lower(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_lower(item) for item in value]
    return value


def _role(entry: dict[str, Any]) -> str | None:
    return entry.get("role") if isinstance(entry.get("role"), str) else None


def _dicts(value: object) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _string(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _number(value: object, low: int, high: int) -> int | None:
    """An integer from a number or a numeric string, when within bounds."""
    if isinstance(value, str) and re.fullmatch(r"[0-9]{1,9}", value.strip()):
        value = int(value)
    elif isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    return value if low <= value <= high else None


# --- shared with dpa_digitalwires ---------------------------------------------------------------

_C1 = re.compile(rb"[\x80-\x9f]")
# Half of a UTF-16 pair on its own: JSON can write one ("\ud800"), and no text can hold it.
_SURROGATE = re.compile("[\ud800-\udfff]")
_TOO_DEEP = f"the JSON is nested deeper than {MAX_DEPTH} levels, which no news item is"


class _Unpaired(Exception):
    """A string holds an unpaired surrogate: load_json finds where, for its reason."""


def load_json(data: bytes) -> Any:
    """The JSON document, its strings repaired where UTF-8 went through CP1252 on the way. UTF-8
    (with or without a byte-order mark), UTF-16 and UTF-32 as JSON allows; undeclared CP1252 or
    Latin-1, which some agencies send, read as such. NUL is taken out of strings. FormatError for
    a document nested deeper than XML may be (xml.MAX_DEPTH), for a number of more digits than
    Python reads, and for a string holding an unpaired surrogate, which I-JSON (RFC 7493) forbids:
    no text can be made of it."""
    try:
        try:
            doc = json.loads(data)
        except UnicodeDecodeError:
            doc = json.loads(data.decode("cp1252", errors="replace") if _C1.search(data) else data.decode("latin-1"))
    except json.JSONDecodeError as exc:
        raise FormatError(f"malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise FormatError(_TOO_DEEP) from None
    except ValueError:  # not JSONDecodeError, caught above: Python's bound on the digits of an integer
        raise FormatError(
            f"the JSON holds a number of more than {sys.get_int_max_str_digits()} digits, which no news item needs"
        ) from None
    try:
        return _repaired(doc, 0)
    except _Unpaired:
        raise FormatError(
            f"the JSON string at {_unpaired_at(doc, '') or 'the top level'} holds an unpaired "
            "surrogate, half of a UTF-16 pair, which is no character"
        ) from None


def _repaired(value: Any, depth: int) -> Any:
    if isinstance(value, str):
        # A surrogate is not ASCII, and most strings are, which Python knows without looking.
        if not value.isascii() and _SURROGATE.search(value):
            raise _Unpaired
        # JSON can write NUL ("\u0000"), which is never text and which PostgreSQL's text refuses.
        return repair_mojibake(without(value, "\x00"))
    if isinstance(value, dict):
        if depth == MAX_DEPTH:
            raise FormatError(_TOO_DEEP)
        return {key: _repaired(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list):
        if depth == MAX_DEPTH:
            raise FormatError(_TOO_DEEP)
        return [_repaired(item, depth + 1) for item in value]
    return value


def _unpaired_at(value: object, path: str) -> str | None:
    """Where the first string holding an unpaired surrogate is, as "headlines[0].value"."""
    if isinstance(value, str):
        return path if _SURROGATE.search(value) else None
    entries = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in entries:
        where = f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key}" if path else key
        if (found := _unpaired_at(item, where)) is not None:
            return found
    return None


def text_paragraphs(text: str) -> list[str]:
    """Paragraphs of plain text: between blank lines, or one a line when there are none."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    blocks = re.split(r"\n[ \t]*\n", text.strip())
    if len(blocks) == 1:
        blocks = blocks[0].split("\n")
    return [block.strip() for block in blocks if block.strip()]
