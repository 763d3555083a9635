"""NewsML-G2 2.x: a newsItem, or a newsMessage carrying items in its itemSet.

Each text newsItem is one WireStory. Packages, concepts, knowledge, planning and catalog items, and
news items of another class (pictures, video, audio) are not stories: they are passed over, and a
document holding nothing else is refused with what was in it. Elements are matched by local name
in any case, and asked for in lower case (agencies send G2 without its namespace too, and with
names in their own case), and the schema is not checked: real agency files are often invalid, and
validity is not what makes a story readable.

Where the fields come from (the corpus's FIELDS.md has the full table):

    uri, version   @guid (used as is when it is a URI), @version
    times          itemMeta/versionCreated; itemMeta/firstCreated, else contentMeta/contentCreated
    pubstatus      itemMeta/pubStatus (stat:usable, stat:withheld, stat:canceled; canceled copy
                   also signals "kill"); itemMeta/embargoed (see _embargo)
    signals        itemMeta/signal: sig:update, sig:correction, and Reuters' edStat:U (update)
    ednote         the public, plain-text itemMeta/edNotes, one a line, and inline NITF's notes;
                   correction, the edNote whose role is a correction (dpa: correctionshort, the
                   line for readers), else, on a correction signal, the first public edNote
                   without its "CORRECTION:" label
    headline       contentMeta/headline without a role or with the main role, lowest rank first;
                   a headline with a sub role is the subheadline; else inline NITF's hl1 and hl2
                   (or its head's title), else derived from the lede
    by             contentMeta/by, else the inline NITF byline, else the creators' names
    dateline       contentMeta/dateline, its place from contentMeta/located/name; else inline
                   NITF's dateline; else the dateline the lede opens with
    subjects       contentMeta/subject and genre; a qcode becomes a uri when its scheme is known
                   (IPTC's, with an IPTC catalogRef, or the item's own catalog), else the literal
    rights         rightsInfo/copyrightNotice, rightsInfo/usageTerms

The body is the first rendition in contentSet that holds text: NITF, XHTML or HTML in inlineXML
(read by nitf.read_embedded, with the markup module's walker: paragraphs, crossheads, list items,
quotes and table rows, not the header that repeats the headline), or plain text in inlineData
(paragraphs split at blank lines). Remote content is not fetched: such an item, like an
advisory, is a WireStory without paragraphs, and the lifecycle holds it.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from collections import Counter
from typing import TYPE_CHECKING

from lxml import etree

from wiredesk.formats import nitf, text, xml
from wiredesk.formats.context import Context
from wiredesk.formats.errors import FormatError
from wiredesk.formats.markup import inline_text
from wiredesk.formats.nitf import attribute, is_uri, urn_part
from wiredesk.formats.shared import VERSION_MAX, derive_headline, whole_number
from wiredesk.formats.times import parse_time
from wiredesk.formats.xml import Children, every, first, local
from wiredesk.story import Subject, WireStory

if TYPE_CHECKING:  # the package, which imports this module, defines Head
    from wiredesk.formats import Head

FORMAT = "newsml-g2"

# By root name in lower case, as every element is matched (see xml.name).
_NOT_STORIES = {
    "packageitem": "a packageItem, not a text story: packages are not published",
    "conceptitem": "a conceptItem, not a text story: concepts describe vocabularies, they are not news",
    "knowledgeitem": "a knowledgeItem, not a text story: knowledge items carry concepts, they are not news",
    "planningitem": "a planningItem, not a text story: coverage plans are not published",
    "catalogitem": "a catalogItem, not a text story: catalogs describe vocabularies",
    "catalog": "a catalog, not a text story: catalogs describe vocabularies",
}
# The IPTC aliases a subject or genre qcode may use when the item refers to IPTC's catalog.
_IPTC_SCHEMES = {
    "medtop": "http://cv.iptc.org/newscodes/mediatopic/",
    "subj": "http://cv.iptc.org/newscodes/subjectcode/",
    "genre": "http://cv.iptc.org/newscodes/genre/",
}
_SIGNAL_SCHEME = "http://cv.iptc.org/newscodes/signal/"
_SIGNALS = {"update", "correction"}
_STATUSES = {"usable", "withheld", "canceled"}
_PLAIN_PARAGRAPH = re.compile(r"\n[ \t]*\n")
_CORRECTION_LABEL = re.compile(r"(?i)correct(?:ion|ed)\s*[:\-–—]\s*")


def parse(data: bytes, context: Context) -> list[WireStory]:
    root = xml.load(data)
    kind = xml.name(root.tag)
    if kind == "newsmessage":
        items = [item for item_set in every(root, "itemset") for item in item_set if isinstance(item.tag, str)]
        if not items:
            raise FormatError("the newsMessage carries no items")
    elif kind == "newsitem" or kind in _NOT_STORIES:
        items = [root]
    elif kind == "newsml":
        raise FormatError("this is NewsML 1.x, the predecessor of NewsML-G2, not NewsML-G2")
    else:
        raise FormatError(
            f"this is not NewsML-G2: the root element is <{local(root.tag)}>, not a newsItem or newsMessage"
        )

    stories, refused = [], []
    for item in items:
        try:
            stories.append(_story(item, context))
        except FormatError as exc:
            refused.append(str(exc))
    if stories:
        return stories
    if len(refused) == 1:
        raise FormatError(refused[0])
    counted = [f"{n} × {reason}" if n > 1 else reason for reason, n in Counter(refused).items()]
    raise FormatError("nothing to publish in the newsMessage: " + "; ".join(counted))


def _story(item: etree._Element, context: Context) -> WireStory:
    kind = xml.name(item.tag)
    if kind in _NOT_STORIES:
        raise FormatError(_NOT_STORIES[kind])
    if kind != "newsitem":
        raise FormatError(f"a <{local(item.tag)}>, which is not a NewsML-G2 item")
    guid = attribute(item, "guid")
    parts = Children(item)
    item_meta = Children(parts.first("itemmeta"))
    # itemClass is required; an item without one is read for what it holds.
    item_class = attribute(item_meta.first("itemclass"), "qcode") or attribute(item_meta.first("itemclass"), "uri")
    if item_class and _code(item_class) != "text":
        raise FormatError(f"a newsItem of class {item_class}, not a text story: only text is published")
    content_meta = Children(parts.first("contentmeta"))

    language = attribute(content_meta.first("language"), "tag") or attribute(item, nitf.XML_LANG)
    located = _name(content_meta.first("located"), language)
    inline, paragraphs = _body(parts.first("contentset"), located)
    headlines = content_meta.every("headline")
    headline = _main_headline(headlines) or inline.headline
    derived = headline is None
    if headline is None:
        if not paragraphs:
            raise FormatError(f"the newsItem {guid or '(without guid)'} has neither a headline nor body text")
        headline = derive_headline(paragraphs[0])

    versioncreated = parse_time(inline_text(item_meta.first("versioncreated")), context.zone)
    dateline = (
        nitf.make_dateline(inline_text(content_meta.first("dateline")), located)
        or inline.dateline
        or nitf.lede_dateline(paragraphs, located, (versioncreated or context.received).date())
    )

    pubstatus = _code(
        attribute(item_meta.first("pubstatus"), "qcode")
        or attribute(item_meta.first("pubstatus"), "uri")
        or "stat:usable"
    )
    # A status outside G2's three is no licence to publish.
    pubstatus = pubstatus if pubstatus in _STATUSES else "withheld"
    notes = _public_notes(item_meta.every("ednote"))
    embargoed, held = _embargo(item_meta.first("embargoed"), notes, context.zone)
    if held and pubstatus == "usable":
        pubstatus = "withheld"

    signals = _signals(item_meta.every("signal"))
    if pubstatus == "canceled":
        signals.append("kill")
    correction = _correction(notes, signals)

    aliases = _aliases(parts)
    version = attribute(item, "version")
    rights = parts.first("rightsinfo")
    return WireStory(
        uri=_uri(guid, headline, context.source),
        version=whole_number(version, VERSION_MAX),
        headline=headline,
        headline_derived=derived,
        subheadline=_sub_headline(headlines) or inline.subheadline,
        paragraphs=paragraphs,
        dateline=dateline,
        language=language,
        firstcreated=(
            parse_time(inline_text(item_meta.first("firstcreated")), context.zone)
            or parse_time(inline_text(content_meta.first("contentcreated")), context.zone)
        ),
        versioncreated=versioncreated,
        pubstatus=pubstatus,
        urgency=nitf.urgency(inline_text(content_meta.first("urgency"))),
        by=(
            inline_text(content_meta.first("by"))
            or inline.by
            or ", ".join(n for c in content_meta.every("creator") if (n := _name(c, language)))
            or None
        ),
        slugline=inline_text(content_meta.first("slugline")),
        subjects=[s for el in content_meta.every("subject") if (s := _concept(el, aliases, language))],
        ednote="\n".join([*(note for _, note in notes), *inline.notes]) or None,
        copyrightnotice=inline_text(first(rights, "copyrightnotice")),
        usageterms=inline_text(first(rights, "usageterms")),
        embargoed=embargoed,
        signals=signals,
        correction=correction,
        genres=[g for el in content_meta.every("genre") if (g := _concept(el, aliases, language))],
        keywords=[k for el in content_meta.every("keyword") if (k := inline_text(el))],
        format=FORMAT,
    )


def _uri(guid: str | None, headline: str, source: str) -> str:
    if is_uri(guid):
        return guid
    # A guid that is no URI is unique only within its provider, and the source is ours.
    return f"urn:wiredesk:{urn_part(source)}:newsml-g2:{urn_part(guid) if guid else nitf.slug(headline)}"


def _embargo(
    element: etree._Element | None, notes: list[tuple[str, str]], zone: str
) -> tuple[dt.datetime | None, bool]:
    """When the embargo lifts, and whether the copy is held for want of that time."""
    if element is None:
        return None, False
    value = inline_text(element)
    if value is None:
        # G2 allows the element empty ("a date and time, or nothing"), and agencies' systems write
        # it into every item: no embargo, unless the agency's note says the copy is embargoed
        # (until further notice), when it is held until the agency says otherwise.
        return None, any("embargo" in note.lower() for _, note in notes)
    embargoed = parse_time(value, zone)
    return embargoed, embargoed is None


def _correction(notes: list[tuple[str, str]], signals: list[str]) -> str | None:
    """The note for readers: the one whose role says so (dpa's correctionshort, the line for
    readers, first), else, on a correction signal, the one labelled CORRECTION, else the first."""
    if note := next((note for role in ("correctionshort", "correction") for r, note in notes if r == role), None):
        return note
    if "correction" not in signals or not notes:
        return None
    note = next((note for _, note in notes if _CORRECTION_LABEL.match(note)), notes[0][1])
    return note[m.end() :] if (m := _CORRECTION_LABEL.match(note)) and note[m.end() :] else note


def _code(qcode_or_uri: str) -> str:
    """The code of a qcode ("stat:usable") or of a NewsCodes uri (".../pubstatusg2/usable")."""
    value = qcode_or_uri.rstrip("/")
    return value[max(value.rfind(":"), value.rfind("/")) + 1 :]


# --- body -----------------------------------------------------------------------------------


def _body(content_set: etree._Element | None, located: str | None) -> tuple[nitf.BodyHead, list[str]]:
    """Inline NITF's body.head, and the paragraphs of the first rendition that has any."""
    body_head = nitf.NO_HEAD
    for rendition in content_set if content_set is not None else ():
        paragraphs: list[str] = []
        kind = xml.name(rendition.tag)
        if kind == "inlinexml":
            head, paragraphs = nitf.read_embedded(rendition, place=located)
            body_head = head if head is not nitf.NO_HEAD else body_head
        elif kind == "inlinedata" and _is_plain(rendition.get("contenttype")):
            paragraphs = _plain_paragraphs(rendition)
        if paragraphs:
            return body_head, paragraphs
    return body_head, []


def _is_plain(contenttype: str | None) -> bool:
    return not contenttype or contenttype.split(";")[0].strip().lower() == "text/plain"


def _plain_paragraphs(inline_data: etree._Element) -> list[str]:
    # Text of a parsed document is str; lxml-stubs 0.5.1 says str or bytes.
    content = "".join(inline_data.itertext())  # type: ignore[arg-type]
    if (inline_data.get("encoding") or "").lower() == "base64":
        try:
            content = text.decode(base64.b64decode(content))
        except (binascii.Error, ValueError):
            raise FormatError("the inlineData says base64, but it is not") from None
    content = content.replace("\r\n", "\n").replace("\r", "\n")
    # As in agency copy: blank lines part paragraphs, and the text inside one is kept as written.
    return [p.strip() for p in _PLAIN_PARAGRAPH.split(content) if p.strip()]


# --- metadata -------------------------------------------------------------------------------


def _role(element: etree._Element) -> str:
    return _code(element.get("role") or "").lower()


def _rank(element: etree._Element) -> int:
    return whole_number(attribute(element, "rank"), VERSION_MAX) or 0


def _main_headline(headlines: list[etree._Element]) -> str | None:
    # dpa ranks its headlines: 1 is the headline, 3 the kicker over it. Without roles or ranks,
    # the first one written is the headline.
    main = [h for h in headlines if _role(h) in ("", "main", "headline")] or headlines
    return next((t for h in sorted(main, key=_rank) if (t := inline_text(h))), None)


def _sub_headline(headlines: list[etree._Element]) -> str | None:
    return next((t for h in headlines if "sub" in _role(h) and (t := inline_text(h))), None)


def _name(concept: etree._Element | None, language: str | None) -> str | None:
    """A concept's name, in the item's language when it has several."""
    wanted = (language or "").lower().split("-")[0]
    fallback = None
    for element in every(concept, "name"):
        if name := inline_text(element):
            if wanted and (element.get(nitf.XML_LANG) or "").lower().split("-")[0] == wanted:
                return name
            fallback = fallback or name
    return fallback


def _aliases(item: Children) -> dict[str, str]:
    aliases = {}
    if any("iptc.org/std/catalog/" in (ref.get("href") or "").lower() for ref in item.every("catalogref")):
        aliases.update(_IPTC_SCHEMES)
    for scheme in every(item.first("catalog"), "scheme"):
        if (alias := attribute(scheme, "alias")) and is_uri(uri := attribute(scheme, "uri")):
            aliases[alias] = uri
    return aliases


def _concept(element: etree._Element, aliases: dict[str, str], language: str | None) -> Subject | None:
    qcode, uri, literal = attribute(element, "qcode"), attribute(element, "uri"), attribute(element, "literal")
    alias, colon, code = qcode.partition(":") if qcode else ("", "", "")
    if colon and (base := aliases.get(alias)):
        uri = base + code
    identifier = qcode or literal or uri
    name = _name(element, language) or identifier
    if not name:
        return None
    if is_uri(uri):
        return Subject(name=name, uri=uri)
    return Subject(name=name, literal=identifier)


def _signals(elements: list[etree._Element]) -> list[str]:
    signals: list[str] = []
    for element in elements:
        qcode, uri = (attribute(element, "qcode") or "").lower(), attribute(element, "uri") or ""
        if qcode.startswith("sig:"):
            signal: str | None = qcode.removeprefix("sig:")
        elif uri.startswith(_SIGNAL_SCHEME):
            signal = uri.removeprefix(_SIGNAL_SCHEME).strip("/").lower()
        else:
            # Reuters' editorial status: U is an update, N is new copy.
            signal = "update" if qcode == "edstat:u" else None
        if signal in _SIGNALS and signal not in signals:
            signals.append(signal)
    return signals


def _public_notes(elements: list[etree._Element]) -> list[tuple[str, str]]:
    """The edNotes meant to be passed on, with their roles.

    Left out: notes marked non-public (dpa's contacts: names and telephone numbers), and notes
    that hold markup of another vocabulary (dpa's notepad, an XHTML rendering of the others).
    """
    notes = []
    for element in elements:
        if "nonpublic" in (element.get("pubconstraint") or "").lower():
            continue
        if _holds_foreign_markup(element):
            continue
        if note := inline_text(element):
            notes.append((_role(element), note))
    return notes


def _holds_foreign_markup(element: etree._Element) -> bool:
    if not len(element):  # most notes: text only
        return False
    namespace = etree.QName(element).namespace
    return any(etree.QName(d).namespace != namespace for d in element.iterdescendants(etree.Element))


NAME = "newsml-g2"
# Every root a G2 document has: the items that are not text stories are claimed too, so that
# parse refuses them saying what they are.
_G2_ROOTS = {
    "newsItem",
    "newsMessage",
    "packageItem",
    "conceptItem",
    "knowledgeItem",
    "planningItem",
    "catalogItem",
    "catalog",
}


def score(data: bytes, head: Head) -> float:
    """1 for XML whose root is a NewsML-G2 item, a newsMessage or a catalog."""
    return 1.0 if head.root in _G2_ROOTS else 0.0
