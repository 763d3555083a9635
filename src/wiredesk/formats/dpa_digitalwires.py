"""dpa digitalwires: dpa's own JSON for its wire API (not ninjs, though some names match).

    {"format": "digitalwires@0.9.1", "urn": "urn:newsml:dpa.com:...", "version": 2,
     "pubstatus": "usable", "signal": "sig:correction", "urgency": 3, "language": "de",
     "headline": "...", "teaser": "...", "byline": "Von ..., dpa", "dateline": "Berlin (dpa) - ",
     "article_html": "<section class=\"main\"><p>...</p></section>",
     "ednotes": [{"role": "dpaednoterole:correctionshort", "ednote": "..."}],
     "categories": [{"type": "dnltype:dpasubject", "name": "Partei", "qcode": "medtop:20000651"}], ...}

The story reads as dpa's own renderings do (its NewsML-G2 and IPTC 7901): the teaser is the first
paragraph, the dateline opens the first paragraph of the article, and the infobox (a fact box, shown
to readers in dpa's HTML; its 7901 leaves it out) follows the article. The linkbox, a list of links
whose addresses plain paragraphs cannot carry, is left out as both renderings do. The slugline is built the way
dpa builds its 7901 keyword line, so both formats give the same one. dpa's priority markers ("EXTRA",
"(Eil)", "Blitz:", "Vorrang:") before the headline, or as a line of their own before the text, are
its urgency, never text. A document is one entry, a list of entries, or an object with an "entries"
list (the API's answer).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from wiredesk.formats.context import Context
from wiredesk.formats.errors import FormatError
from wiredesk.formats.markup import html_paragraphs
from wiredesk.formats.ninjs import load_json
from wiredesk.formats.shared import VERSION_MAX, id_uri, read_dateline
from wiredesk.formats.times import parse_time
from wiredesk.story import Subject, WireStory

if TYPE_CHECKING:  # the package, which imports this module, defines Head
    from wiredesk.formats import Head

NAME = "dpa-digitalwires"
_SIGNALS = {"sig:update": "update", "sig:correction": "correction"}
# dpa's priority markers: Blitz and Eil are its priorities 1 and 2, Vorrang its 3, and an EXTRA goes
# out as an Eil does. In brackets, before a colon or dash, or alone on its line a marker is one in
# any case; otherwise only in capitals, so that "Blitz trifft Kirchturm" keeps its lightning.
_PRIORITIES = {"blitz": 1, "eil": 2, "extra": 2, "vorrang": 3}
_MARKER = re.compile(
    r"\s*(?:\((?P<bracketed>(?i:blitz|eil|extra|vorrang))\b[^)\n]*\)"
    r"|(?P<word>(?i:blitz|eil|extra|vorrang))(?:\s*[:–—]|\s+-(?=\s)|[ \t]*(?:\n|$))"
    r"|(?P<upper>BLITZ|EIL|EXTRA|VORRANG)(?=\s))\s*"
)
# The notes editors act on; contacts and the closing line stay with dpa.
_EDNOTE_ROLES = ("dpaednoterole:editorialnote", "dpaednoterole:picture", "dpaednoterole:embargo")


def score(data: bytes, head: Head) -> float:
    """1 for JSON whose (first) entry names the digitalwires format or has dpa's article_html;
    the other field names it shares with ninjs say nothing."""
    entries = _entries(head.json)
    entry = head.json if entries is None else next((e for e in entries if isinstance(e, dict)), None)
    if not isinstance(entry, dict):
        return 0.0
    declared = entry.get("format")
    return (
        1.0 if (isinstance(declared, str) and declared.startswith("digitalwires@")) or "article_html" in entry else 0.0
    )


def parse(data: bytes, context: Context) -> list[WireStory]:
    doc = load_json(data)
    entries = _entries(doc)
    if entries is None:
        return [_story(doc, context, "the entry")]
    if not entries:
        raise FormatError("the digitalwires document holds no entries")
    return [_story(entry, context, f"entry {number}") for number, entry in enumerate(entries, start=1)]


def _entries(doc: object) -> list[Any] | None:
    """The entries of a document that lists them, alone or as the API's "entries"; None when the
    document is one entry."""
    if isinstance(doc, dict) and isinstance(entries := doc.get("entries"), list):
        return entries
    return doc if isinstance(doc, list) else None


def _story(entry: object, context: Context, where: str) -> WireStory:
    if not isinstance(entry, dict):
        raise FormatError(f"{where} is not a JSON object")
    uri = _string(entry.get("urn"))
    if not uri:
        raise FormatError(f"{where} has no urn, dpa's id for the story")
    headline = _string(entry.get("headline"))
    if not headline:
        raise FormatError(f"{where} has no headline")
    priorities: list[int] = []
    # A headline that is nothing but a marker is still the only headline there is.
    headline = _unmarked(headline, priorities) or headline

    article = html_paragraphs(entry["article_html"]) if _string(entry.get("article_html")) else []
    article = _unmarked_start(article, priorities)
    dateline_text = _string(entry.get("dateline"))
    if article and dateline_text and not article[0].startswith(dateline_text.rstrip(" -–")):
        article[0] = f"{dateline_text.rstrip()} {article[0]}"
    teaser = _unmarked_start([teaser] if (teaser := _string(entry.get("teaser"))) else [], priorities)
    infobox = html_paragraphs(entry["infobox_html"]) if _string(entry.get("infobox_html")) else []
    paragraphs = teaser + article + infobox

    version_created = parse_time(entry.get("version_created"), context.zone)
    categories = [c for c in _list(entry.get("categories")) if isinstance(c, dict) and _string(c.get("name"))]
    notes = [n for n in _list(entry.get("ednotes")) if isinstance(n, dict) and _string(n.get("ednote"))]
    # dpa's results services send no status; one that cannot be read is held.
    pubstatus = entry.get("pubstatus") or "usable"
    pubstatus = pubstatus if pubstatus in ("usable", "withheld", "canceled") else "withheld"
    embargoed = parse_time(entry.get("embargoed"), context.zone)
    if embargoed is None and entry.get("embargoed") not in (None, "") and pubstatus == "usable":
        pubstatus = "withheld"  # an embargo that cannot be read is no licence to publish
    version = _int(entry.get("version"))
    version = version if version and 0 < version <= VERSION_MAX else None  # versions count from 1
    urgency = _int(entry.get("urgency"))
    urgency = urgency if urgency in range(1, 10) else min(priorities, default=None)
    signals = ["kill"] if pubstatus == "canceled" else []
    if signal := _SIGNALS.get(_string(entry.get("signal")) or ""):
        signals.append(signal)
    return WireStory(
        uri=id_uri(uri, context.source, "dpa-digitalwires"),
        headline=" ".join(headline.split()),
        paragraphs=paragraphs,
        version=version,
        subheadline=_string(entry.get("subhead")),
        dateline=read_dateline(article[0], (version_created or context.received).date())
        if article and dateline_text
        else None,
        language=_string(entry.get("language")),
        firstcreated=version_created if version == 1 else None,
        versioncreated=version_created,
        pubstatus=pubstatus,
        urgency=urgency,
        by=_string(entry.get("byline")),
        slugline=_slugline(entry),
        subjects=[_concept(c) for c in categories if c.get("type") in ("dnltype:dpasubject", "dnltype:geosubject")]
        + [
            Subject(name=c["name"], literal=f"category:{c['name']}")
            for c in categories
            if c.get("type") == "dnltype:desk"
        ],
        genres=[_concept(c) for c in categories if c.get("type") == "dnltype:genre"],
        keywords=[c["name"] for c in categories if c.get("type") == "dnltype:keyword"],
        ednote="\n".join(n["ednote"] for n in notes if n.get("role") in _EDNOTE_ROLES) or None,
        copyrightnotice=_string(entry.get("copyrightnotice")),
        usageterms=_string(entry.get("usageterms")),
        embargoed=embargoed,
        signals=signals,
        correction=next((n["ednote"] for n in notes if n.get("role") == "dpaednoterole:correctionshort"), None),
        format="dpa-digitalwires",
    )


def _unmarked(text: str, priorities: list[int]) -> str:
    """`text` after the priority markers it opens with, whose priorities are added to `priorities`."""
    while m := _MARKER.match(text):
        priorities.append(_PRIORITIES[next(filter(None, m.group("bracketed", "word", "upper"))).lower()])
        text = text[m.end() :]
    return text


def _unmarked_start(paragraphs: list[str], priorities: list[int]) -> list[str]:
    """The paragraphs after the priority markers they open with: a paragraph of nothing else, a
    marker line, is dropped."""
    for number, paragraph in enumerate(paragraphs):
        if text := _unmarked(paragraph, priorities):
            return [text, *paragraphs[number + 1 :]]
    return []


def _slugline(entry: dict[str, Any]) -> str | None:
    """dpa's 7901 keyword line: subjects and places (places first outside German), then keywords,
    joined by "/" for as long as the line stays under 69 characters."""
    names = [_list(entry.get(key)) for key in ("dpasubject_names", "geosubject_names", "keyword_names")]
    subjects, places, keywords = ([n for n in group if isinstance(n, str) and n.strip()] for group in names)
    slugline = ""
    for name in [*(subjects + places if entry.get("language") == "de" else places + subjects), *keywords]:
        if len(slugline) + len(name) < 69:
            slugline += ("/" if slugline else "") + name
    return slugline or None


def _concept(category: dict[str, Any]) -> Subject:
    # dpa's qcodes ("medtop:20000651") are QCodes, not URIs: kept as the literal.
    return Subject(name=category["name"], literal=_string(category.get("qcode")))


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _string(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None
