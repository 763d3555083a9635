"""NewsML-G2 2.x: a newsItem, or a newsMessage carrying items in its itemSet.

Each text newsItem is one Story. Packages, concepts, knowledge, planning and catalog items, and
news items of another class (pictures, video, audio) are not stories: they are passed over, and a
document holding nothing else is refused with what was in it. Elements are matched by local name
(agencies send G2 without its namespace too) and the schema is not checked: real agency files
are often invalid, and validity is not what makes a story readable.

Where the fields come from (the corpus's FIELDS.md has the full table):

    uri, version   @guid (used as is when it is a URI), @version
    times          itemMeta/versionCreated; itemMeta/firstCreated, else contentMeta/contentCreated
    pubstatus      itemMeta/pubStatus (stat:usable, stat:withheld, stat:canceled; canceled copy
                   also signals "kill"); itemMeta/embargoed
    signals        itemMeta/signal: sig:update, sig:correction, and Reuters' edStat:U (update)
    ednote         the public, plain-text itemMeta/edNotes, one a line; correction, the edNote
                   whose role is a correction (dpa: correctionshort, the line for readers)
    headline       contentMeta/headline without a role or with the main role, lowest rank first;
                   a headline with a sub role is the subheadline; else inline NITF's hl1 and hl2,
                   else derived from the lede
    by             contentMeta/by, else the inline NITF byline, else the creators' names
    dateline       contentMeta/dateline, its place from contentMeta/located/name; else inline
                   NITF's dateline
    subjects       contentMeta/subject and genre; a qcode becomes a uri when its scheme is known
                   (IPTC's, with an IPTC catalogRef, or the item's own catalog), else the literal
    rights         rightsInfo/copyrightNotice, rightsInfo/usageTerms

The body is the first rendition in contentSet that holds text: NITF in inlineXML (read as the
nitf module reads body.content), XHTML or HTML in inlineXML (see nitf.XHTML_BODY: paragraphs,
crossheads, list items, quotes and table rows, not the header that repeats the headline), or
plain text in inlineData (paragraphs split at blank lines). Remote content is not fetched: such
an item, like an advisory, is a Story without paragraphs, and the lifecycle holds it.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections import Counter

from lxml import etree

from wiredesk.formats import nitf, text, xml
from wiredesk.formats.errors import FormatError
from wiredesk.formats.nitf import attribute, clean, every, first, inline_text, is_uri, urn_part
from wiredesk.formats.shared import derive_headline
from wiredesk.formats.times import parse_time
from wiredesk.formats.xml import Children, local
from wiredesk.story import Story, Subject

FORMAT = "newsml-g2"

_NOT_STORIES = {
    "packageItem": "a packageItem, not a text story: packages are not published",
    "conceptItem": "a conceptItem, not a text story: concepts describe vocabularies, they are not news",
    "knowledgeItem": "a knowledgeItem, not a text story: knowledge items carry concepts, they are not news",
    "planningItem": "a planningItem, not a text story: coverage plans are not published",
    "catalogItem": "a catalogItem, not a text story: catalogs describe vocabularies",
    "catalog": "a catalog, not a text story: catalogs describe vocabularies",
}
# The IPTC aliases a subject or genre qcode may use when the item refers to IPTC's catalog.
_IPTC_SCHEMES = {
    "medtop": "http://cv.iptc.org/newscodes/mediatopic/",
    "subj": "http://cv.iptc.org/newscodes/subjectcode/",
    "genre": "http://cv.iptc.org/newscodes/genre/",
}
_XHTML = "http://www.w3.org/1999/xhtml"
_SIGNAL_SCHEME = "http://cv.iptc.org/newscodes/signal/"
_SIGNALS = {"update", "correction"}
_STATUSES = {"usable", "withheld", "canceled"}
_PLAIN_PARAGRAPH = re.compile(r"\n[ \t]*\n")


def parse(data: bytes, context) -> list[Story]:
    root = xml.load(data)
    kind = local(root.tag)
    if kind == "newsMessage":
        items = [item for item_set in every(root, "itemSet") for item in item_set if isinstance(item.tag, str)]
        if not items:
            raise FormatError("the newsMessage carries no items")
    elif kind == "newsItem" or kind in _NOT_STORIES:
        items = [root]
    elif kind == "NewsML":
        raise FormatError("this is NewsML 1.x, the predecessor of NewsML-G2, not NewsML-G2")
    else:
        raise FormatError(f"this is not NewsML-G2: the root element is <{kind}>, not a newsItem or newsMessage")

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


def _story(item: etree._Element, context) -> Story:
    kind = local(item.tag)
    if kind in _NOT_STORIES:
        raise FormatError(_NOT_STORIES[kind])
    if kind != "newsItem":
        raise FormatError(f"a <{kind}>, which is not a NewsML-G2 item")
    guid = attribute(item, "guid")
    parts = Children(item)
    item_meta = Children(parts.first("itemMeta"))
    # itemClass is required; an item without one is read for what it holds.
    item_class = attribute(item_meta.first("itemClass"), "qcode") or attribute(item_meta.first("itemClass"), "uri")
    if item_class and _code(item_class) != "text":
        raise FormatError(f"a newsItem of class {item_class}, not a text story: only text is published")
    content_meta = Children(parts.first("contentMeta"))

    language = attribute(content_meta.first("language"), "tag") or attribute(item, nitf.XML_LANG)
    located = _name(content_meta.first("located"), language)
    paragraphs, inline = _body(parts.first("contentSet"), located)
    headlines = content_meta.every("headline")
    headline = _main_headline(headlines) or inline.headline
    derived = headline is None
    if derived:
        if not paragraphs:
            raise FormatError(f"the newsItem {guid or '(without guid)'} has neither a headline nor body text")
        headline = derive_headline(paragraphs[0])

    dateline = nitf.make_dateline(inline_text(content_meta.first("dateline")), located) or inline.dateline

    pubstatus = _code(attribute(item_meta.first("pubStatus"), "qcode")
                      or attribute(item_meta.first("pubStatus"), "uri") or "stat:usable")
    # A status outside G2's three is no licence to publish.
    pubstatus = pubstatus if pubstatus in _STATUSES else "withheld"
    embargo = item_meta.first("embargoed")
    embargoed = parse_time(inline_text(embargo), context.zone)
    if embargo is not None and embargoed is None and pubstatus == "usable":
        pubstatus = "withheld"  # embargoed without a time: held until the agency says otherwise

    signals = _signals(item_meta.every("signal"))
    if pubstatus == "canceled":
        signals.append("kill")
    notes = _public_notes(item_meta.every("edNote"))
    correction = next((note for role in ("correctionshort", "correction") for r, note in notes if r == role), None)

    aliases = _aliases(parts)
    version = attribute(item, "version")
    rights = parts.first("rightsInfo")
    return Story(
        uri=_uri(guid, headline, context.source),
        version=int(version) if version and version.isdigit() else None,
        headline=headline,
        headline_derived=derived,
        subheadline=_sub_headline(headlines) or inline.subheadline,
        paragraphs=paragraphs,
        dateline=dateline,
        language=language,
        firstcreated=(parse_time(inline_text(item_meta.first("firstCreated")), context.zone)
                      or parse_time(inline_text(content_meta.first("contentCreated")), context.zone)),
        versioncreated=parse_time(inline_text(item_meta.first("versionCreated")), context.zone),
        pubstatus=pubstatus,
        urgency=nitf.urgency(clean(inline_text(content_meta.first("urgency")))),
        by=(clean(inline_text(content_meta.first("by"))) or inline.by
            or ", ".join(n for c in content_meta.every("creator") if (n := _name(c, language))) or None),
        slugline=clean(inline_text(content_meta.first("slugline"))),
        subjects=[s for el in content_meta.every("subject") if (s := _concept(el, aliases, language))],
        ednote="\n".join(note for _, note in notes) or None,
        copyrightnotice=clean(inline_text(first(rights, "copyrightNotice"))),
        usageterms=clean(inline_text(first(rights, "usageTerms"))),
        embargoed=embargoed,
        signals=signals,
        correction=correction,
        genres=[g for el in content_meta.every("genre") if (g := _concept(el, aliases, language))],
        keywords=[k for el in content_meta.every("keyword") if (k := clean(inline_text(el)))],
        format=FORMAT,
    )


def _uri(guid: str | None, headline: str, source: str) -> str:
    if is_uri(guid):
        return guid
    # A guid that is no URI is unique only within its provider, and the source is ours.
    return f"urn:wiredesk:{urn_part(source)}:newsml-g2:{urn_part(guid) if guid else nitf.slug(headline)}"


def _code(qcode_or_uri: str) -> str:
    """The code of a qcode ("stat:usable") or of a NewsCodes uri (".../pubstatusg2/usable")."""
    value = qcode_or_uri.rstrip("/")
    return value[max(value.rfind(":"), value.rfind("/")) + 1:]


# --- body -----------------------------------------------------------------------------------

_NO_HEAD = nitf.BodyHead(headline=None, subheadline=None, by=None, dateline=None)


def _body(content_set: etree._Element | None, located: str | None) -> tuple[list[str], nitf.BodyHead]:
    """The paragraphs of the first rendition that has any, and inline NITF's body.head."""
    body_head = _NO_HEAD
    for rendition in content_set if content_set is not None else ():
        paragraphs: list[str] = []
        if local(rendition.tag) == "inlineXML":
            for root in (el for el in rendition if isinstance(el.tag, str)):
                if local(root.tag) == "nitf":
                    body_head, paragraphs = nitf.read_body(first(root, "body"), place=located)
                elif local(root.tag) == "html":
                    paragraphs = nitf.body_paragraphs(first(root, "body"), nitf.XHTML_BODY)
                elif etree.QName(root).namespace == _XHTML:  # a fragment: <div>, <section>
                    paragraphs = nitf.body_paragraphs(root, nitf.XHTML_BODY)
                if paragraphs:
                    break
        elif local(rendition.tag) == "inlineData" and _is_plain(rendition.get("contenttype")):
            paragraphs = _plain_paragraphs(rendition)
        if paragraphs:
            return paragraphs, body_head
    return [], body_head


def _is_plain(contenttype: str | None) -> bool:
    return not contenttype or contenttype.split(";")[0].strip().lower() == "text/plain"


def _plain_paragraphs(inline_data: etree._Element) -> list[str]:
    content = "".join(inline_data.itertext())
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
    rank = attribute(element, "rank")
    return int(rank) if rank and rank.isdigit() else 0


def _main_headline(headlines: list[etree._Element]) -> str | None:
    # dpa ranks its headlines: 1 is the headline, 3 the kicker over it. Without roles or ranks,
    # the first one written is the headline.
    main = [h for h in headlines if _role(h) in ("", "main", "headline")] or headlines
    return next((t for h in sorted(main, key=_rank) if (t := clean(inline_text(h)))), None)


def _sub_headline(headlines: list[etree._Element]) -> str | None:
    return next((t for h in headlines if "sub" in _role(h) and (t := clean(inline_text(h)))), None)


def _name(concept: etree._Element | None, language: str | None) -> str | None:
    """A concept's name, in the item's language when it has several."""
    wanted = (language or "").lower().split("-")[0]
    fallback = None
    for element in every(concept, "name"):
        if name := clean(inline_text(element)):
            if wanted and (element.get(nitf.XML_LANG) or "").lower().split("-")[0] == wanted:
                return name
            fallback = fallback or name
    return fallback


def _aliases(item: Children) -> dict[str, str]:
    aliases = {}
    if any("iptc.org/std/catalog/" in (ref.get("href") or "").lower() for ref in item.every("catalogRef")):
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
    signals = []
    for element in elements:
        qcode, uri = (attribute(element, "qcode") or "").lower(), attribute(element, "uri") or ""
        if qcode.startswith("sig:"):
            signal = qcode.removeprefix("sig:")
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
        if note := clean(inline_text(element)):
            notes.append((_role(element), note))
    return notes


def _holds_foreign_markup(element: etree._Element) -> bool:
    if not len(element):  # most notes: text only
        return False
    namespace = etree.QName(element).namespace
    return any(etree.QName(d).namespace != namespace for d in element.iterdescendants(etree.Element))
