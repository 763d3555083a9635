"""The plain agency copy: what many agencies' text feeds look like once the markup is gone.

    date 2024-11-14                       optional field lines (date, category)
    Headline of the story                 optional: one line, then a blank line
                                          
    Washington, Nov 14 (IANS) - The lede  the dateline runs into the first paragraph
                                          
    Second paragraph...                   paragraphs are separated by blank lines

Field lines may also run into the text on one line (`date 2024-11-14 Washington, Nov 14 US...`),
as real feeds deliver them. Paragraph text is kept exactly as received.
"""

from __future__ import annotations

import datetime as dt
import re

from wiredesk.formats import text
from wiredesk.formats.errors import FormatError
from wiredesk.formats.shared import DATELINE, copy_uri, derive_headline, split_dateline
from wiredesk.story import Dateline, Story, Subject

# Field names are lower case, as feeds write them: "Category 4 storm..." is a headline.
_DATE_FIELD = re.compile(r"\A[ \t]*date[ \t]*:?[ \t]+(\d{4}-\d{2}-\d{2})\b[ \t]*\n?")
_CATEGORY_FIELD = re.compile(r"\A[ \t]*category[ \t]*:?[ \t]+([^\n]+?)[ \t]*(?:\n|\Z)")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")
# Notes to editors, in the languages of the wires seen so far. Never text for readers.
ADVISORY = re.compile(
    r"^\W*+(?=[aehnrà])(?:attention\s+(?:news\s+)?editors?|editor'?s'?\s+note|note\s+to\s+editors|eds?\s*:|editors\s*:"
    r"|advisory\b|not\s+(?:intended\s+)?for\s+publication|achtung\s+redaktion|redaktioneller\s+hinweis"
    r"|hinweis\s+(?:an|für)\s+die\s+redaktion|nicht\s+zur\s+veröffentlichung|atenci[oó]n\s+redacciones"
    r"|aviso\s+a\s+(?:los\s+)?editores|note\s+aux\s+r[ée]dactions|à\s+l'attention\s+des\s+r[ée]dactions)", re.I)

def parse(data: bytes, context) -> list[Story]:
    body = text.unix_newlines(text.decode(data))
    fields, body = _read_fields(body)
    blocks = [b.strip("\n") for b in _BLANK_LINE.split(body)]
    blocks = [b for b in blocks if b.strip()]
    if not blocks:
        raise FormatError("there is no story text")
    notes = [b.strip() for b in blocks if _is_advisory(b)]
    blocks = [b for b in blocks if not _is_advisory(b)]
    if not blocks:
        return [_advisory_only(notes, fields, context)]

    headline = None
    if len(blocks) > 1 and _looks_like_headline(blocks[0], blocks[1]):
        headline = blocks.pop(0).strip()
    # Leading white space is layout, not text: real feeds indent the first line.
    paragraphs = [b.strip() for b in blocks]

    story_date = fields.get("date") or context.received.date()
    dateline, lede = split_dateline(paragraphs[0], context.received.date(), date=fields.get("date"))
    if dateline and dateline.date and "date" not in fields:
        story_date = dateline.date
    if not lede:
        raise FormatError("the first paragraph holds a dateline but no text")

    derived = headline is None
    if derived:
        headline = derive_headline(lede)
    subjects = [Subject(name=fields["category"], literal=f"category:{fields['category']}")] if "category" in fields else []
    return [Story(
        uri=copy_uri(context.source, None, headline, story_date),
        headline=headline,
        headline_derived=derived,
        paragraphs=paragraphs,
        dateline=dateline,
        firstcreated=context.received,
        versioncreated=context.received,
        subjects=subjects,
        ednote="\n\n".join(notes) or None,
        format="agency-copy",
    )]


def _is_advisory(block: str) -> bool:
    """A paragraph addressed to editors. In running text "Advisory panels said..." is a story
    sentence, so a marker counts only in capitals, before a colon or dash, or saying it is not
    for publication."""
    m = ADVISORY.match(block.lstrip())
    if not m:
        return False
    marker, after = m.group(0), block.lstrip()[m.end():].lstrip()[:1]
    return marker.isupper() or marker.rstrip().endswith(":") or after in (":", "-", "–", "—") or "publication" in marker.lower()


def _advisory_only(notes: list[str], fields: dict, context) -> Story:
    """Copy that only talks to editors: kept as a story with no text, which is never an article."""
    story_date = fields.get("date") or context.received.date()
    headline = derive_headline(notes[0])
    return Story(uri=copy_uri(context.source, None, headline, story_date),
                 headline=headline, headline_derived=True, paragraphs=[], ednote="\n\n".join(notes),
                 firstcreated=context.received, versioncreated=context.received, format="agency-copy")


def _read_fields(body: str) -> tuple[dict, str]:
    fields: dict = {}
    while True:
        if "date" not in fields and (m := _DATE_FIELD.match(body)):
            try:
                fields["date"] = dt.date.fromisoformat(m.group(1))
            except ValueError:
                raise FormatError(f"the date field {m.group(1)!r} is not a real date") from None
        elif "category" not in fields and (m := _CATEGORY_FIELD.match(body)):
            fields["category"] = m.group(1)
        else:
            return fields, body
        body = body[m.end():]


def _looks_like_headline(first: str, second: str) -> bool:
    if "\n" in first.strip():
        return False
    if DATELINE.match(first.strip()):
        return False
    if DATELINE.match(second.strip()):
        return True
    # Without a dateline to go by: a short line that does not end like a sentence.
    ending = first.rstrip()
    if ending.endswith(("\"", "”", "’", "'", ")")):
        ending = ending.rstrip("\"”’')")
        if ending.endswith(("!", "?")):
            return False
    return len(first.strip()) <= 150 and not ending.endswith((".", ",", ";", ":"))


