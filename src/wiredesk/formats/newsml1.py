"""NewsML 1.2 (AFP and others): every NewsItem with text is a story.

    NewsML
      NewsItem                          one story each; photos-only items are not stories
        Identification/NewsIdentifier   ProviderId, DateId, NewsItemId, RevisionId (the version)
        NewsManagement                  Status, StatusWillChange (embargo), Urgency, times
        NewsComponent                   NewsLines, metadata, ContentItem(s), nested components
          ContentItem/DataContent       inline NITF (body/body.content), XHTML, or HTML escaped
                                      as text (read by nitf.read_embedded)

Components nest: the text may sit in the outer component or in an inner one beside photo
components, whose captions are text too. The metadata that applies is the nearest one found
going outwards from the component holding the text.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from typing import TYPE_CHECKING, cast

from lxml import etree

from wiredesk.formats import nitf, xml
from wiredesk.formats.context import Context
from wiredesk.formats.errors import FormatError
from wiredesk.formats.markup import inline_text
from wiredesk.formats.shared import VERSION_MAX, derive_headline, id_uri, split_dateline, whole_number
from wiredesk.formats.times import parse_time
from wiredesk.story import Dateline, Subject, WireStory

if TYPE_CHECKING:  # the package, which imports this module, defines Head
    from wiredesk.formats import Head

_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

# NewsML 1 Status names, and what ninjs calls them. An embargo without a time to lift it is
# copy nobody may run yet: withheld.
_STATUS = {
    "usable": "usable",
    "withheld": "withheld",
    "embargoed": "withheld",
    "canceled": "canceled",
    "cancelled": "canceled",
}
_MEDIA = {"photo", "graphic", "video", "audio", "animation"}
# A component in this role describes a picture beside it; its text is not a story.
_CAPTION_ROLES = {"caption"}
# IPTC Subject NewsCodes, top level: what readers can be shown for the codes agencies send most.
_SUBJECT_NAMES = {
    "01000000": "arts, culture and entertainment",
    "02000000": "crime, law and justice",
    "03000000": "disaster and accident",
    "04000000": "economy, business and finance",
    "05000000": "education",
    "06000000": "environmental issue",
    "07000000": "health",
    "08000000": "human interest",
    "09000000": "labour",
    "10000000": "lifestyle and leisure",
    "11000000": "politics",
    "12000000": "religion and belief",
    "13000000": "science and technology",
    "14000000": "social issue",
    "15000000": "sport",
    "16000000": "unrest, conflicts and war",
    "17000000": "weather",
}
_SUBJECT_URI = "http://cv.iptc.org/newscodes/subjectcode/"


def parse(data: bytes, context: Context) -> list[WireStory]:
    root = xml.load(data)
    if xml.local(root.tag) != "NewsML":
        raise FormatError(f"the XML root is <{xml.local(root.tag)}>, not <NewsML>")
    items = _findall(root, "NewsItem")
    if not items:
        raise FormatError("the NewsML document holds no NewsItem")
    stories, problems = [], []
    for number, item in enumerate(items, start=1):
        try:
            stories.append(_story(item, context))
        except FormatError as exc:
            problems.append(f"NewsItem {number}: {exc}")
    if not stories:
        raise FormatError("; ".join(problems))
    return stories


def _story(item: etree._Element, context: Context) -> WireStory:
    identifier = _find(item, "Identification/NewsIdentifier")
    if identifier is None:
        raise FormatError("no Identification/NewsIdentifier to tell the story apart")
    revision = inline_text(_find(identifier, "RevisionId"))
    version = whole_number(revision, VERSION_MAX)
    management = _find(item, "NewsManagement")
    if management is None:
        raise FormatError("no NewsManagement: whether the story may be used is unknown")
    pubstatus, embargoed = _status(management, context.zone)

    top = _find(item, "NewsComponent")
    if top is None:
        if _find(item, "Update") is not None:
            raise FormatError("a partial update (Update elements) of an earlier revision, which wiredesk cannot apply")
        raise FormatError("no NewsComponent: the item carries no story")
    content = _text_item(top)
    if content is None and pubstatus != "canceled":
        _refuse_textless(top)
    chain = list(content.iterancestors("NewsComponent")) if content is not None else [top]
    data_content = _find(content, "DataContent") if content is not None else None
    city = _city(chain)
    inline, paragraphs = (
        nitf.read_embedded(data_content, place=city) if data_content is not None else (nitf.NO_HEAD, [])
    )

    firstcreated = parse_time(inline_text(_find(management, "FirstCreated")), context.zone)
    versioncreated = parse_time(inline_text(_find(management, "ThisRevisionCreated")), context.zone)
    versioncreated = versioncreated or firstcreated or context.received
    firstcreated = firstcreated or versioncreated

    headline = _line(chain, "HeadLine") or inline.headline
    derived = headline is None
    if headline is None:
        if not paragraphs:
            raise FormatError("no HeadLine and no text to take one from")
        # A dateline run into the lede is not part of the sentence the headline is made from.
        _, lede = split_dateline(paragraphs[0], firstcreated.date())
        headline = derive_headline(lede if lede.strip() else paragraphs[0])

    return WireStory(
        uri=_uri(identifier, revision, context),
        version=version,
        headline=headline,
        headline_derived=derived,
        subheadline=_line(chain, "SubHeadLine") or inline.subheadline,
        paragraphs=paragraphs,
        dateline=(
            _dateline(chain, city, context.received)
            or inline.dateline
            or nitf.lede_dateline(paragraphs, city, versioncreated.date())
        ),
        language=_language(chain, item),
        firstcreated=firstcreated,
        versioncreated=versioncreated,
        pubstatus=pubstatus,
        urgency=_urgency(management),
        by=_line(chain, "ByLine") or inline.by or _creators(chain),
        slugline=_line(chain, "SlugLine") or inline_text(_find(item, "Identification/NameLabel")),
        subjects=_subjects(chain),
        ednote="\n".join(filter(None, [_advisory(chain), *inline.notes])) or None,
        copyrightnotice=_line(chain, "CopyrightLine"),
        usageterms=_line(chain, "RightsLine"),
        embargoed=embargoed,
        signals=(["update"] if version and version > 1 else []) + (["kill"] if pubstatus == "canceled" else []),
        genres=[
            Subject(name=name, literal=f"genre:{name}") for name in _formal_names(chain, "DescriptiveMetadata/Genre")
        ],
        keywords=_keywords(chain),
        format="newsml1",
    )


def _uri(identifier: etree._Element, revision: str | None, context: Context) -> str:
    public = inline_text(_find(identifier, "PublicIdentifier"))
    if public:
        # The public identifier ends with the revision (":2", or ":2A" for a partial update);
        # without it, every revision of the story shares the uri.
        if revision:
            public = re.sub(rf":{re.escape(revision)}[NAU]?$", "", public)
        return id_uri(public, context.source, "id")
    provider, date, item = (inline_text(_find(identifier, name)) for name in ("ProviderId", "DateId", "NewsItemId"))
    if not (provider and date and item):
        raise FormatError("the NewsIdentifier has neither a PublicIdentifier nor ProviderId, DateId and NewsItemId")
    return id_uri(f"urn:newsml:{provider}:{date}:{item}", context.source, "id")


def _status(management: etree._Element, zone: str) -> tuple[str, dt.datetime | None]:
    name = _formal_name(_find(management, "Status"))
    if name not in _STATUS:
        raise FormatError(f"the Status is {name or 'missing'!r}: expected Usable, Embargoed, Withheld or Canceled")
    change = _find(management, "StatusWillChange")
    if change is not None and _STATUS[name] == "withheld":
        when = parse_time(inline_text(_find(change, "DateAndTime")), zone)
        if _formal_name(_find(change, "FutureStatus")) == "usable" and when:
            # Held until a known time and usable after it: that is what ninjs calls an embargo.
            return "usable", when
    return _STATUS[name], None


def _text_item(top: etree._Element) -> etree._Element | None:
    """The first ContentItem holding the story's text inline, outside any photo component."""
    for content in top.iter("ContentItem"):
        if _media_type(content) not in ("", "text") or _find(content, "DataContent") is None:
            continue
        chain = list(content.iterancestors("NewsComponent"))
        if not _in_media_component(chain):
            return content
    return None


def _in_media_component(chain: list[etree._Element]) -> bool:
    for depth, component in enumerate(chain):
        if _formal_name(_find(component, "Role")) in _CAPTION_ROLES:
            return True
        # The outermost component packages text and photos together: only what it holds
        # directly says whether its own text belongs to a picture.
        outermost = depth == len(chain) - 1
        items = _findall(component, "ContentItem") if outermost else component.iter("ContentItem")
        if any(_media_type(item) in _MEDIA for item in items):
            return True
    return False


def _refuse_textless(top: etree._Element) -> None:
    """A NewsItem without inline text is not a story, unless it is only its NewsLines (an alert)."""
    referenced = [c.get("Href") for c in top.iter("ContentItem") if _media_type(c) in ("", "text") and c.get("Href")]
    if referenced:
        raise FormatError(f"the text is only referenced ({referenced[0]}), and wiredesk never fetches")
    media = sorted({_media_type(c) for c in top.iter("ContentItem")} & _MEDIA)
    if media:
        raise FormatError(f"the item holds only {', '.join(media)} components and no story text")


def _media_type(content: etree._Element) -> str:
    return _formal_name(_find(content, "MediaType"))


def _formal_name(element: etree._Element | None) -> str:
    return (element.get("FormalName") or "").strip().lower() if element is not None else ""


def _line(chain: list[etree._Element], name: str) -> str | None:
    for component in chain:
        if (value := inline_text(_find(component, f"NewsLines/{name}"))) is not None:
            return value
    return None


def _descriptive(chain: list[etree._Element], path: str) -> list[etree._Element]:
    """The elements at `path` in the nearest component that has any."""
    for component in chain:
        if found := _findall(component, path):
            return found
    return []


def _formal_names(chain: list[etree._Element], path: str) -> list[str]:
    names: list[str] = []
    for element in _descriptive(chain, path):
        name = (element.get("FormalName") or "").strip()
        if name and name not in names:
            names.append(name)
    return names


def _dateline(chain: list[etree._Element], city: str | None, received: dt.datetime) -> Dateline | None:
    text = _line(chain, "DateLine")
    if text is None:
        return None
    stamps = _descriptive(chain, "DescriptiveMetadata/DateLineDate")
    stamp = parse_time(inline_text(stamps[0])) if stamps else None
    date = stamp.date() if stamp else None
    read, _ = split_dateline(text, received.date(), date=date)
    if read is None:
        return nitf.make_dateline(text, city, date)
    return Dateline(
        text=text.rstrip(" \t\n-–—:"),
        place=city or read.place,
        date=date or read.date,
        agency=read.agency,
    )


def _city(chain: list[etree._Element]) -> str | None:
    locations = _descriptive(chain, "DescriptiveMetadata/Location")
    # The place the story was filed from comes first; places it is about after.
    locations.sort(key=lambda location: location.get("HowPresent") != "Origin")
    for location in locations:
        for prop in _findall(location, "Property"):
            if prop.get("FormalName") == "City" and (city := (prop.get("Value") or "").strip()):
                return city
    return None


def _language(chain: list[etree._Element], item: etree._Element) -> str | None:
    names = _formal_names(chain, "DescriptiveMetadata/Language")
    return names[0] if names else item.get(_XML_LANG)


def _urgency(management: etree._Element) -> int | None:
    return nitf.urgency(_formal_name(_find(management, "Urgency")))


def _creators(chain: list[etree._Element]) -> str | None:
    names = _formal_names(chain, "AdministrativeMetadata/Creator/Party")
    return ", ".join(names) or None


def _subjects(chain: list[etree._Element]) -> list[Subject]:
    subjects: list[Subject] = []
    for code in _descriptive(chain, "DescriptiveMetadata/SubjectCode"):
        for entry in code:
            number = (entry.get("FormalName") or "").strip()
            if not number or xml.local(entry.tag) == "SubjectQualifier":
                continue
            subject = Subject(
                name=_SUBJECT_NAMES.get(number, number), uri=_SUBJECT_URI + number, literal=f"subj:{number}"
            )
            if subject not in subjects:
                subjects.append(subject)
    return subjects


def _advisory(chain: list[etree._Element]) -> str | None:
    for component in chain:
        notes = [
            inline_text(_find(line, "NewsLineText"))
            for line in _findall(component, "NewsLines/NewsLine")
            if _formal_name(_find(line, "NewsLineType")) == "advisoryline"
        ]
        if notes := [note for note in notes if note]:
            return " ".join(notes)
    return None


def _keywords(chain: list[etree._Element]) -> list[str]:
    found = [inline_text(line) for line in _descriptive(chain, "NewsLines/KeywordLine")]
    # Keywords with a Role name what is in a picture, not what the story is about.
    found += [
        prop.get("Value")
        for prop in _descriptive(chain, "DescriptiveMetadata/Property")
        if prop.get("FormalName") == "Keyword" and not prop.get("Role")
    ]
    keywords: list[str] = []
    for keyword in found:
        keyword = " ".join((keyword or "").split())
        if keyword and keyword not in keywords:
            keywords.append(keyword)
    return keywords


def _find(element: etree._Element, path: str) -> etree._Element | None:
    """The first element down a path of child names ("NewsLines/HeadLine"), or None."""
    found = _findall(element, path)
    return found[0] if found else None


def _findall(element: etree._Element, path: str) -> list[etree._Element]:
    # A path of element names selects elements; the stubs type what any XPath expression may give.
    return cast("list[etree._Element]", _path(path)(element))


@functools.cache
def _path(path: str) -> etree.XPath:
    # A compiled XPath walks in C; find() and findall() run Python generators for every step.
    return etree.XPath(path)


NAME = "newsml1"


def score(data: bytes, head: Head) -> float:
    """1 for XML whose root is <NewsML>; NewsML-G2's roots are lower case and never match."""
    return 1.0 if head.root == "NewsML" else 0.0
