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
from typing import TYPE_CHECKING, TypedDict
from zoneinfo import ZoneInfo

from wiredesk.formats import text
from wiredesk.formats.context import Context
from wiredesk.formats.conventions import Routing, reference_keys, split_notes, strip_routing
from wiredesk.formats.errors import FormatError
from wiredesk.formats.shared import DATELINE, copy_uri, derive_headline, split_dateline
from wiredesk.formats.times import YEARS
from wiredesk.story import Subject, WireStory

if TYPE_CHECKING:  # the package, which imports this module, defines Head
    from wiredesk.formats import Head

# Field names are lower case, as feeds write them: "Category 4 storm..." is a headline.
_DATE_FIELD = re.compile(r"\A[ \t]*date[ \t]*:?[ \t]+(\d{4}-\d{2}-\d{2})\b[ \t]*\n?")
_CATEGORY_FIELD = re.compile(r"\A[ \t]*category[ \t]*:?[ \t]+([^\n]+?)[ \t]*(?:\n|\Z)")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")


def parse(data: bytes, context: Context) -> list[WireStory]:
    body = text.unix_newlines(text.decode(data))
    fields, body = _read_fields(body)
    blocks = [b.strip("\n") for b in _BLANK_LINE.split(body)]
    blocks = [b for b in blocks if b.strip()]
    if not blocks:
        raise FormatError("there is no story text")
    blocks, notes = split_notes(blocks)
    notes = [note.strip() for note in notes]
    if not blocks:
        return [_advisory_only(notes, fields, context)]

    codes, blocks[0] = _code_lines(blocks[0])
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
    # Prefixes come off before the uri is made of the headline: "REFILE-" copy is the same story.
    headline, routing = (derive_headline(lede), Routing()) if headline is None else strip_routing(headline)
    subjects = (
        [Subject(name=fields["category"], literal=f"category:{fields['category']}")] if "category" in fields else []
    )
    return [
        WireStory(
            uri=copy_uri(context.source, None, headline, story_date),
            headline=headline,
            headline_derived=derived,
            paragraphs=paragraphs,
            dateline=dateline,
            version=routing.version,
            urgency=routing.urgency,
            signals=routing.signals,
            firstcreated=_first_created(fields.get("date"), context),
            versioncreated=context.received,
            subjects=subjects,
            ednote="\n\n".join(notes) or None,
            format="agency-copy",
            slugline=" ".join(line for line in codes if not reference_keys(line)) or None,
            keys=[key for line in codes for key in reference_keys(line)],
        )
    ]


# Lines that file copy before its headline, as PTI's do: a story number ("DEL15") and a slug in
# capitals ("RAIL-LD CRASH"). Never text for readers.
_CODE_LINE = re.compile(r"^[A-Z0-9][A-Z0-9 .,&/+\-]{0,40}$")


def _code_lines(block: str) -> tuple[list[str], str]:
    """The code lines that open the first block, and the rest of it."""
    lines = block.strip("\n").split("\n")
    codes = []
    # Code lines file copy: what follows them must hold some (a form feed is no text).
    while len(lines) > 1 and _CODE_LINE.match(lines[0].strip()) and "".join(lines[1:]).strip():
        codes.append(lines.pop(0).strip())
    return codes, "\n".join(lines)


def _first_created(day: dt.date | None, context: Context) -> dt.datetime:
    """The date field says which day the agency filed the copy: when that is before the day it was
    received (in the source's zone), the story was published then, not on receipt."""
    zone = ZoneInfo(context.zone)
    if day is not None and day < context.received.astimezone(zone).date():
        return dt.datetime.combine(day, dt.time(), zone)
    return context.received


def _advisory_only(notes: list[str], fields: _Fields, context: Context) -> WireStory:
    """Copy that only talks to editors: kept as a story with no text, which is never an article."""
    story_date = fields.get("date") or context.received.date()
    headline = derive_headline(notes[0])
    return WireStory(
        uri=copy_uri(context.source, None, headline, story_date),
        headline=headline,
        headline_derived=True,
        paragraphs=[],
        ednote="\n\n".join(notes),
        firstcreated=context.received,
        versioncreated=context.received,
        format="agency-copy",
    )


class _Fields(TypedDict, total=False):
    """The fields copy may open with, each at most once."""

    date: dt.date
    category: str


def _read_fields(body: str) -> tuple[_Fields, str]:
    fields: _Fields = {}
    while True:
        if "date" not in fields and (m := _DATE_FIELD.match(body)):
            try:
                fields["date"] = dt.date.fromisoformat(m.group(1))
            except ValueError:
                raise FormatError(f"the date field {m.group(1)!r} is not a real date") from None
            if fields["date"].year not in YEARS:
                raise FormatError(
                    f"the date field {m.group(1)!r} is not the date of news copy "
                    f"(years {YEARS.start} to {YEARS.stop - 1})"
                )
        elif "category" not in fields and (m := _CATEGORY_FIELD.match(body)):
            fields["category"] = m.group(1)
        else:
            return fields, body
        body = body[m.end() :]


def _looks_like_headline(first: str, second: str) -> bool:
    if "\n" in first.strip():
        return False
    if DATELINE.match(first.strip()):
        return False
    if DATELINE.match(second.strip()):
        return True
    # Without a dateline to go by: a short line that does not end like a sentence.
    ending = first.rstrip()
    if ending.endswith(('"', "”", "’", "'", ")")):
        ending = ending.rstrip("\"”’')")
        if ending.endswith(("!", "?")):
            return False
    return len(first.strip()) <= 150 and not ending.endswith((".", ",", ";", ":"))


NAME = "agency-copy"


def score(data: bytes, head: Head) -> float:
    """A little for any text that is not markup, JSON or an e-mail: plain copy has no mark of its
    own, so every format that finds its own in the bytes comes first."""
    return 0.1 if head.kind == "text" else 0.0
