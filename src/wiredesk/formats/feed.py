"""RSS 2.0, RSS 0.9x/1.0 (RDF) and Atom 1.0 feeds: each entry is a story.

feedparser reads the feed, but only after `formats.xml.load` has accepted the bytes: feedparser
falls back to a forgiving parser on broken XML and would publish whatever it salvaged from a
truncated download, and it is not the place to refuse entity-expansion documents. A feed that is
not well-formed is refused whole, with the line and column, and the next poll brings it complete.

feedparser is given a file object, never the bytes themselves: bytes that happen to name a file
would be read from disk, and a string that looks like a URL would be fetched. It neither resolves
relative links nor sanitises: the text is taken from the markup by the markup module's walker
(its HTML vocabulary), and nothing is ever fetched.

Feeds carry no version numbers. An entry whose `updated` moves is a new version only if what
readers see changed; the desk numbers versions itself from the content fingerprint, which
leaves `updated` out.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
from typing import TYPE_CHECKING, Any

import feedparser
from lxml import etree

from wiredesk.formats import markup, xml
from wiredesk.formats.context import Context
from wiredesk.formats.errors import FormatError
from wiredesk.formats.shared import derive_headline, id_uri, split_dateline
from wiredesk.formats.times import impossible_offset, in_range, parse_time
from wiredesk.story import Subject, WireStory

if TYPE_CHECKING:  # the package, which imports this module, defines Head
    from wiredesk.formats import Head

log = logging.getLogger(__name__)
# What feedparser gives for the feed, an entry and its parts: FeedParserDict, a dict (feedparser is untyped).
_Entry = dict[str, Any]

ATOM_NS = ("http://www.w3.org/2005/Atom", "http://purl.org/atom/ns#")
RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RSS_RDF_NS = ("http://purl.org/rss/1.0/", "http://my.netscape.com/rdf/simple/0.9/")

_EMAIL = re.compile(r"<?[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+>?")
_EMPTY_BRACKETS = re.compile(r"\(\s*\)")
# Plain-text content: blank lines part paragraphs.
_BLANK_LINE = re.compile(r"\n[ \t]*\n")


def parse(data: bytes, context: Context) -> list[WireStory]:
    root = xml.load(data)
    if not _is_feed(root):
        raise FormatError(f"the XML root is <{xml.local(root.tag)}>, not an RSS, RDF or Atom feed")
    parsed = feedparser.parse(io.BytesIO(data), resolve_relative_uris=False, sanitize_html=False)
    # RSS says nothing of whether a title is markup, and feeds do put entities and tags in them.
    html_titles = not parsed.get("version", "").startswith("atom")
    stories: list[WireStory] = []
    problems: list[str] = []
    for number, entry in enumerate(parsed.entries, start=1):
        try:
            stories.append(_story(entry, parsed.feed, context, html_titles))
        except FormatError as exc:
            problems.append(f"entry {number}: {exc}")
            log.warning("feed entry %s skipped: %s", number, exc)
    if not stories:
        raise FormatError("; ".join(problems) if problems else "the feed has no entries")
    # Feeds list the newest first, and Atom may carry several versions of one entry: the desk
    # numbers versions in the order it meets them, so the oldest must come first.
    stories.sort(key=_versioncreated)
    return stories


def _versioncreated(story: WireStory) -> dt.datetime:
    assert story.versioncreated is not None  # _story always gives one
    return story.versioncreated


def _is_feed(root: etree._Element) -> bool:
    name, namespace = xml.local(root.tag), etree.QName(root).namespace
    if name == "rss":
        return True
    if name == "feed":
        return namespace in ATOM_NS
    return name == "RDF" and namespace == RDF_NS and any(ns in RSS_RDF_NS for ns in root.nsmap.values())


def _story(entry: _Entry, feed: _Entry, context: Context, html_titles: bool) -> WireStory:
    uri = _uri(entry, context)
    paragraphs, body_language = _body(entry)
    published, updated = _time(entry, "published", context.zone), _time(entry, "updated", context.zone)
    firstcreated = published or updated or context.received
    versioncreated = updated or published or context.received

    dateline, lede = split_dateline(paragraphs[0], firstcreated.date()) if paragraphs else (None, "")

    headline = _headline(entry.get("title_detail"), html_titles)
    derived = headline is None
    if headline is None:
        text = next((p for p in [lede, *paragraphs[1:]] if p.strip()), None)
        if text is None:
            raise FormatError("the entry has neither a title nor text")
        headline = derive_headline(text)

    return WireStory(
        uri=uri,
        headline=headline,
        headline_derived=derived,
        paragraphs=paragraphs,
        dateline=dateline,
        language=body_language or (entry.get("title_detail") or {}).get("language") or feed.get("language") or None,
        firstcreated=firstcreated,
        versioncreated=versioncreated,
        by=_by(entry),
        subjects=_subjects(entry),
        copyrightnotice=_plain(entry.get("rights") or feed.get("rights")),
        format="feed",
    )


def _uri(entry: _Entry, context: Context) -> str:
    for key in ("id", "link"):
        value = (entry.get(key) or "").strip()
        if value:
            return id_uri(value, context.source, "id")
    raise FormatError("the entry has no id, guid or link to tell it apart from others")


def _body(entry: _Entry) -> tuple[list[str], str | None]:
    """The paragraphs of the fullest text the entry offers, and that text's language."""
    candidates = [*entry.get("content", []), *([entry["summary_detail"]] if entry.get("summary_detail") else [])]
    best: list[str] = []
    language: str | None = None
    for candidate in candidates:
        paragraphs = _paragraphs(candidate.get("value") or "", candidate.get("type") or "text/html")
        if sum(map(len, paragraphs)) > sum(map(len, best)):
            best, language = paragraphs, candidate.get("language")
    return best, language


def _paragraphs(value: str, content_type: str) -> list[str]:
    if "html" in content_type:
        return markup.html_paragraphs(value)
    blocks = (markup.unescape(block).strip() for block in _BLANK_LINE.split(value.replace("\r\n", "\n")))
    return [block for block in blocks if block]


def _plain(value: str | None) -> str | None:
    value = " ".join(markup.unescape(value).split()) if value else ""
    return value or None


def _headline(detail: _Entry | None, html_titles: bool) -> str | None:
    if not detail or not (detail.get("value") or "").strip():
        return None
    value = detail["value"]
    if "html" in (detail.get("type") or "") or html_titles:
        return _plain(" ".join(markup.html_paragraphs(value, keep_titles=True)))
    return _plain(value)


def _time(entry: _Entry, key: str, zone: str) -> dt.datetime | None:
    # dict.get: feedparser's own get() answers `updated` with `published` (and a warning).
    raw = dict.get(entry, key)
    value = parse_time(raw, zone)
    # A date only feedparser can read; it gives it in UTC. It also reads a time whose offset no
    # clock has, moved by that many hours, and a date of twenty digits as some year: no time.
    if value is None and (parsed := dict.get(entry, f"{key}_parsed")) and not impossible_offset(raw):
        year, month, day, hour, minute, second = parsed[:6]
        try:
            value = in_range(dt.datetime(year, month, day, hour, minute, second, tzinfo=dt.UTC))
        except ValueError:  # a leap second
            return None
    return value


def _by(entry: _Entry) -> str | None:
    authors = entry.get("authors") or []
    if len(authors) > 1:
        names: list[str] = []
        for author in authors:
            name = _plain(author.get("name") or author.get("email"))
            if name and name not in names:
                names.append(name)
        return ", ".join(names) or None
    # One author: read the string as written. feedparser splits "desk@post.example (Name)" on an
    # e-mail pattern that stops at four-letter top-level domains, leaving "ple (Name" as the name.
    raw = entry.get("author")
    if not raw:
        return None
    name = _EMPTY_BRACKETS.sub("", _EMAIL.sub("", raw)).strip()
    if name.startswith("(") and name.endswith(")"):
        name = name[1:-1]
    return _plain(name) or _plain(raw)


def _subjects(entry: _Entry) -> list[Subject]:
    subjects: list[Subject] = []
    for tag in entry.get("tags", []):
        term = _plain(tag.get("term"))
        if not term:
            continue
        subject = Subject(name=_plain(tag.get("label")) or term, literal=f"category:{term}")
        if subject not in subjects:
            subjects.append(subject)
    return subjects


NAME = "feed"


def score(data: bytes, head: Head) -> float:
    """1 for XML whose root is an RSS 2.0 <rss>, an RSS 1.0 <RDF> or an Atom <feed>."""
    return 1.0 if head.root in ("rss", "RDF", "feed") else 0.0
