"""RSS 2.0, RSS 0.9x/1.0 (RDF) and Atom 1.0 feeds: each entry is a story.

feedparser reads the feed, but only after `formats.xml.load` has accepted the bytes: feedparser
falls back to a forgiving parser on broken XML and would publish whatever it salvaged from a
truncated download, and it is not the place to refuse entity-expansion documents. A feed that is
not well-formed is refused whole, with the line and column, and the next poll brings it complete.

feedparser is given a file object, never the bytes themselves: bytes that happen to name a file
would be read from disk, and a string that looks like a URL would be fetched. It neither resolves
relative links nor sanitises: the text is taken from the markup here, and nothing is ever fetched.

Feeds carry no version numbers. An entry whose `updated` moves is a new version only if what
readers see changed; the desk numbers versions itself from the content fingerprint, which
leaves `updated` out.
"""

from __future__ import annotations

import codecs
import datetime as dt
import html
import io
import logging
import re
from urllib.parse import quote

import feedparser
import lxml.html
from lxml import etree

from wiredesk.formats import xml
from wiredesk.formats.shared import derive_headline, slug, split_dateline
from wiredesk.formats.errors import FormatError
from wiredesk.formats.times import parse_time
from wiredesk.story import Story, Subject

log = logging.getLogger(__name__)

ATOM_NS = ("http://www.w3.org/2005/Atom", "http://purl.org/atom/ns#")
RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RSS_RDF_NS = ("http://purl.org/rss/1.0/", "http://my.netscape.com/rdf/simple/0.9/")

# Enough for an XML declaration, a comment or two and the root's namespace declarations.
SNIFF_BYTES = 2048
_PROLOG = re.compile(
    r"(?:\s+|<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^\[>]*(?:\[.*?\])?\s*>)*"
    r"<(?:[A-Za-z_][\w.\-]*:)?(?P<name>[A-Za-z_][\w.\-]*)(?P<attributes>[^>]*)",
    re.S,
)

# Characters RFC 3986 allows in a URI outside the authority's IP literals. A guid that is not a
# URI in this sense ("item 42") is wrapped in a URN: ninjs requires `uri` to be one.
_URI_CHAR = r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})"
_URI = re.compile(rf"[A-Za-z][A-Za-z0-9+.\-]*:{_URI_CHAR}+(?:#{_URI_CHAR}*)?")

# Only entities with their semicolon: html.unescape alone would read "Salt&nothing" as "Salt¬hing".
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_EMAIL = re.compile(r"<?[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+>?")
_EMPTY_BRACKETS = re.compile(r"\(\s*\)")
_BARE_AMPERSAND = re.compile(r"&(?!#[0-9]+;|#[xX][0-9a-fA-F]+;|[A-Za-z][A-Za-z0-9]*;)")
_TAG = re.compile(r"<(?:[A-Za-z][\w:\-]*|/[A-Za-z][\w:\-]*)(?:\s[^<>]*)?/?>")

# Elements whose text is one paragraph, unless they hold paragraphs themselves.
_PARAGRAPHS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "hl1", "hl2", "li", "dt", "dd", "blockquote",
               "pre", "tr", "address", "caption"}
# Elements that only group paragraphs; text loose inside them is a paragraph of its own.
# `block`, `bq` and `body.content` are NITF's.
_CONTAINERS = {"html", "body", "div", "section", "article", "aside", "header", "footer", "main", "nav",
               "ul", "ol", "dl", "table", "thead", "tbody", "tfoot", "center", "details", "fieldset",
               "form", "hr", "nitf", "block", "bq", "body.content"}
_BLOCKS = _PARAGRAPHS | _CONTAINERS
# Never text for readers: code, styling, embedded media, forms, and NITF's head and end matter.
_DROPPED = {"script", "style", "noscript", "template", "head", "title", "iframe", "object", "embed", "svg",
            "math", "canvas", "video", "audio", "figure", "button", "select", "textarea", "media",
            "body.head", "body.end"}
_CELLS = {"td", "th"}
CELL_SEPARATOR = " | "
# Stands for <br> until paragraphs are cut: XML text can never contain NUL.
_BREAK = "\x00"
_BREAKS = re.compile(rf"{_BREAK}[ \t\r\n]*{_BREAK}")
_NEWLINE_RUN = re.compile(r"[ \t]*[\r\n][ \t\r\n]*")
_LINE_BREAK = re.compile(rf"[ \t]*{_BREAK}[ \t]*")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")


def sniff(data: bytes) -> bool:
    """True for an RSS, RDF (RSS 0.90/1.0) or Atom document, judged from its first bytes."""
    root = root_tag(data)
    if root is None:
        return False
    name, attributes = root
    if name == "rss":
        return True
    if name == "feed":
        return any(ns in attributes for ns in ATOM_NS)
    if name == "RDF":
        return any(ns in attributes for ns in RSS_RDF_NS)
    return False


def root_tag(data: bytes) -> tuple[str, str] | None:
    """The root element's local name and the raw text of its attributes, from the first bytes
    alone: telling formats apart must not cost a parse."""
    head = data[:SNIFF_BYTES]
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                          (codecs.BOM_UTF16_BE, "utf-16-be")):
        if head.startswith(bom):
            text = head[len(bom):].decode(encoding, "ignore")
            break
    else:
        # Markup is ASCII in every encoding a declaration can name, bar UTF-16 (which has a BOM).
        text = head.decode("latin-1")
    m = _PROLOG.match(text)
    return (m.group("name"), m.group("attributes")) if m else None


def parse(data: bytes, context) -> list[Story]:
    root = xml.load(data)
    if not _is_feed(root):
        raise FormatError(f"the XML root is <{xml.local(root.tag)}>, not an RSS, RDF or Atom feed")
    parsed = feedparser.parse(io.BytesIO(data), resolve_relative_uris=False, sanitize_html=False)
    # RSS says nothing of whether a title is markup, and feeds do put entities and tags in them.
    html_titles = not parsed.get("version", "").startswith("atom")
    stories, problems = [], []
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
    stories.sort(key=lambda story: story.versioncreated)
    return stories


def _is_feed(root: etree._Element) -> bool:
    name, namespace = xml.local(root.tag), etree.QName(root).namespace
    if name == "rss":
        return True
    if name == "feed":
        return namespace in ATOM_NS
    return name == "RDF" and namespace == RDF_NS and any(ns in RSS_RDF_NS for ns in root.nsmap.values())


def _story(entry, feed, context, html_titles: bool) -> Story:
    uri = _uri(entry, context)
    paragraphs, body_language = _body(entry)
    published, updated = _time(entry, "published", context.zone), _time(entry, "updated", context.zone)
    firstcreated = published or updated or context.received
    versioncreated = updated or published or context.received

    dateline, lede = split_dateline(paragraphs[0], firstcreated.date()) if paragraphs else (None, "")

    headline = _headline(entry.get("title_detail"), html_titles)
    derived = headline is None
    if derived:
        text = next((p for p in [lede, *paragraphs[1:]] if p.strip()), None)
        if text is None:
            raise FormatError("the entry has neither a title nor text")
        headline = derive_headline(text)

    return Story(
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


def identifier_uri(identifier: str, source: str) -> str:
    """The identifier itself when it is a URI; otherwise a URN that keeps it recognisable and
    tells two different identifiers apart."""
    if _URI.fullmatch(identifier):
        return identifier
    return f"urn:wiredesk:{slug(source)}:id:{quote(identifier, safe='')}"


def _uri(entry, context) -> str:
    for key in ("id", "link"):
        value = (entry.get(key) or "").strip()
        if value:
            return identifier_uri(value, context.source)
    raise FormatError("the entry has no id, guid or link to tell it apart from others")


def _body(entry) -> tuple[list[str], str | None]:
    """The paragraphs of the fullest text the entry offers, and that text's language."""
    candidates = [*entry.get("content", []), *([entry["summary_detail"]] if entry.get("summary_detail") else [])]
    best, language = [], None
    for candidate in candidates:
        paragraphs = _paragraphs(candidate.get("value") or "", candidate.get("type") or "text/html")
        if sum(map(len, paragraphs)) > sum(map(len, best)):
            best, language = paragraphs, candidate.get("language")
    return best, language


def _paragraphs(value: str, content_type: str) -> list[str]:
    if "html" in content_type:
        return html_paragraphs(value)
    blocks = (_unescape(block).strip() for block in _BLANK_LINE.split(value.replace("\r\n", "\n")))
    return [block for block in blocks if block]


def html_paragraphs(value: str) -> list[str]:
    """Paragraph texts of an HTML fragment, entities decoded, even when escaped twice."""
    if not value.strip():
        return []
    root = _html(value)
    if len(root) == 0 and _TAG.search(root.text or ""):
        # Markup escaped twice: after one round of decoding it is still markup.
        root = _html(root.text)
    return [_unescape(p) for p in markup_paragraphs(root)]


def _html(value: str) -> etree._Element:
    # HTML reads "&not" in "Salt&nothing" as "¬": an ampersand that does not open a complete
    # entity is a plain ampersand, the one thing feeds mean by it.
    return lxml.html.fragment_fromstring(_BARE_AMPERSAND.sub("&amp;", value), create_parent="div")


def markup_paragraphs(root: etree._Element) -> list[str]:
    """One paragraph per p, heading, list item, quote or table row under `root` (HTML, XHTML or
    NITF, with or without namespaces). Text is kept as written, except that a run of white space
    holding a line break is the source's layout and becomes one space, and <br><br> ends a
    paragraph. Without any block element, blank lines are the writer's only paragraph breaks."""
    out: list[str] = []
    if not _holds_blocks(root):
        for chunk in _BLANK_LINE.split(_inline(root)):
            _emit(chunk, out)
        return out
    _collect(root, out)
    return out


def _collect(element: etree._Element, out: list[str]) -> None:
    run = [element.text or ""]
    for child in element:
        name = _name(child)
        if name in _BLOCKS:
            _emit("".join(run), out)
            run = []
            if name in _PARAGRAPHS and not _holds_blocks(child):
                _emit(_inline(child), out)
            else:
                _collect(child, out)
        else:
            run.append(_inline_child(child, name, run))
        run.append(child.tail or "")
    _emit("".join(run), out)


def _inline(element: etree._Element) -> str:
    parts = [element.text or ""]
    for child in element:
        parts.append(_inline_child(child, _name(child), parts))
        parts.append(child.tail or "")
    return "".join(parts)


def inline_text(element: etree._Element | None) -> str | None:
    """All the text of an element on one line, entity references read, or None."""
    value = " ".join(_inline(element).replace(_BREAK, " ").split()) if element is not None else ""
    return value or None


def _inline_child(child: etree._Element, name: str, before: list[str]) -> str:
    if isinstance(child, etree._Entity):
        # Only a document with a DTD can hold an undeclared entity (xml.load refuses
        # declarations), and the DTDs of news formats take their names from HTML's.
        return html.unescape(child.text)
    if not name or name in _DROPPED:
        return ""
    if name == "br":
        return _BREAK
    text = _inline(child)
    # Cells run together in the source; the separator NITF uses keeps "Oslo" and "3" apart.
    return CELL_SEPARATOR + text if name in _CELLS and "".join(before).strip() else text


def _emit(text: str, out: list[str]) -> None:
    for chunk in _BREAKS.split(text):
        # Most chunks are one line without breaks, and the patterns are slow to search long lines.
        if "\n" in chunk or "\r" in chunk:
            chunk = _NEWLINE_RUN.sub(" ", chunk)
        if _BREAK in chunk:
            chunk = _LINE_BREAK.sub("\n", chunk)
        if chunk := chunk.strip():
            out.append(chunk)


def _holds_blocks(element: etree._Element) -> bool:
    return len(element) > 0 and any(_name(d) in _BLOCKS for d in element.iterdescendants())


def _name(element: etree._Element) -> str:
    # Comments and processing instructions have no name: they are never text.
    return xml.local(element.tag)


def _unescape(text: str) -> str:
    return _ENTITY.sub(lambda m: html.unescape(m.group()), text)


def _plain(value: str | None) -> str | None:
    value = " ".join(_unescape(value).split()) if value else ""
    return value or None


def _headline(detail, html_titles: bool) -> str | None:
    if not detail or not (detail.get("value") or "").strip():
        return None
    value = detail["value"]
    if "html" in (detail.get("type") or "") or html_titles:
        return _plain(" ".join(html_paragraphs(value)))
    return _plain(value)


def _time(entry, key: str, zone: str) -> dt.datetime | None:
    # dict.get: feedparser's own get() answers `updated` with `published` (and a warning).
    value = parse_time(dict.get(entry, key), zone)
    if value is None and (parsed := dict.get(entry, f"{key}_parsed")):
        # A date only feedparser can read; it gives it in UTC.
        value = dt.datetime(*parsed[:6], tzinfo=dt.UTC)
    return value


def _by(entry) -> str | None:
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


def _subjects(entry) -> list[Subject]:
    subjects: list[Subject] = []
    for tag in entry.get("tags", []):
        term = _plain(tag.get("term"))
        if not term:
            continue
        subject = Subject(name=_plain(tag.get("label")) or term, literal=f"category:{term}")
        if subject not in subjects:
            subjects.append(subject)
    return subjects
