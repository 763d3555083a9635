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
import unicodedata

from wiredesk.formats import text
from wiredesk.formats.errors import FormatError
from wiredesk.story import Dateline, Story, Subject

HEADLINE_MAX = 110

_MONTHS = {
    name: number
    for number, names in enumerate(
        [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",),
         ("jun", "june"), ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"),
         ("oct", "october"), ("nov", "november"), ("dec", "december")],
        start=1)
    for name in names
}
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))

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

# A place is one to five capitalised words ("NEW DELHI", "Rio de Janeiro", "St. John's"),
# optionally followed by a region ("WOODSIDE, Calif."). Lower-case joiners are allowed inside.
_WORD = r"[A-Z\u00C0-\u024F][\w.'’\-]*"
_PLACE = rf"{_WORD}(?:[ ](?:(?:de|da|do|del|di|du|des|es|el|al|la|le|les|of|upon|am|an|im|sur|van|von|der|den|y|e)[ ])?{_WORD}){{0,4}}"
_REGION = rf"(?:,[ ]{_WORD}(?:[ ]{_WORD})?)?"
_DATE = (rf"(?:(?P<month>(?i:{_MONTH}))\.?[ ](?P<day>\d{{1,2}})|(?P<day2>\d{{1,2}})[ ](?P<month2>(?i:{_MONTH}))\.?)"
         r"(?:,?[ ](?P<year>\d{4}))?")
_AGENCY = r"\([A-Z][A-Za-z0-9&.\- ]{0,30}\)"
_DASH = r"\s*[-–—:]\s*"
# Text starts after the separator; a dateline with nothing after it still matches, so the
# parser can say so. Without a dash, the text must start like a sentence: "On Monday, Mar 2 the
# ferry..." is a lede, not a dateline. A place and an agency alone need the dash: "The Rowing
# Club (HLRC) opened..." is a lede too.
_TEXT = r"(?=[^\s\-–—:]|\s*\Z)"
_DATELINE = re.compile(
    rf"(?P<dateline>(?P<place>{_PLACE}){_REGION}"
    rf"(?:,[ ]{_DATE}(?:[ ](?P<agency>{_AGENCY}))?(?:{_DASH}{_TEXT}|\s+(?=[\"“‘(]?[A-Z0-9])|\s*\Z)"
    rf"|[ ](?P<agency2>{_AGENCY}){_DASH}{_TEXT}))"
)
# Sentence ends, unless the word before the stop is an abbreviation or an initial.
_ABBREVIATIONS = {"mr", "mrs", "ms", "dr", "prof", "gen", "col", "lt", "sgt", "st", "sen", "rep", "gov",
                  "jr", "sr", "inc", "ltd", "co", "corp", "vs", "approx", "est", "dept", "univ"}
_SENTENCE_END = re.compile(r"([.!?])([\"'”’)]*)\s+(?=[\"“‘(]?[A-Z0-9])")


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
    dateline, lede = _read_dateline(paragraphs[0], fields.get("date"), context.received.date())
    if dateline and dateline.date and "date" not in fields:
        story_date = dateline.date
    if not lede:
        raise FormatError("the first paragraph holds a dateline but no text")

    derived = headline is None
    if derived:
        headline = derive_headline(lede)
    subjects = [Subject(name=fields["category"], literal=f"category:{fields['category']}")] if "category" in fields else []
    return [Story(
        uri=f"urn:wiredesk:{_slug(context.source)}:{story_date.isoformat()}:{_slug(headline, words=8)}",
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
    return Story(uri=f"urn:wiredesk:{_slug(context.source)}:{story_date.isoformat()}:{_slug(headline, words=8)}",
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
    if _DATELINE.match(first.strip()):
        return False
    if _DATELINE.match(second.strip()):
        return True
    # Without a dateline to go by: a short line that does not end like a sentence.
    ending = first.rstrip()
    if ending.endswith(("\"", "”", "’", "'", ")")):
        ending = ending.rstrip("\"”’')")
        if ending.endswith(("!", "?")):
            return False
    return len(first.strip()) <= 150 and not ending.endswith((".", ",", ";", ":"))


def _read_dateline(first: str, field_date: dt.date | None, received: dt.date) -> tuple[Dateline | None, str]:
    m = _DATELINE.match(first)
    if not m:
        return None, first
    date = None
    month = m.group("month") or m.group("month2")
    if month:
        day = int(m.group("day") or m.group("day2"))
        if m.group("year"):
            date = _date_or_none(int(m.group("year")), _MONTHS[month.lower()], day)
        else:
            date = _date_in_year(_MONTHS[month.lower()], day, field_date or received)
    place = m.group("place").strip()
    dateline = Dateline(text=m.group("dateline").rstrip(" \t\n-–—:"), place=place, date=date, agency=(m.group("agency") or m.group("agency2") or "").strip("()") or None)
    return dateline, first[m.end():]


def _date_in_year(month: int, day: int, near: dt.date) -> dt.date | None:
    """The dateline gives month and day; the year is the one that puts the date nearest `near`
    (the date field, else the day of receipt). A Dec 31 dateline on copy received on Jan 2 is last
    year's; a Jan 1 dateline under a Dec 31 date field (a UTC filing date) is next year's."""
    candidates = [d for year in (near.year - 1, near.year, near.year + 1) if (d := _date_or_none(year, month, day))]
    return min(candidates, key=lambda d: abs(d - near), default=None)


def _date_or_none(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def derive_headline(lede: str) -> str:
    """The lede's first sentence, cut at a word boundary to at most HEADLINE_MAX characters."""
    # Only the first words can make the headline: HEADLINE_MAX + 1 of them already run past its
    # length, and a sentence end among them is still read with the word after it. So a lede that
    # runs for pages (a table, a list) costs no more than a short one.
    sentence = " ".join(lede.split(None, HEADLINE_MAX + 1)[:HEADLINE_MAX + 1])
    for m in _SENTENCE_END.finditer(sentence):
        before = sentence[: m.start(1)].rsplit(None, 1)[-1] if sentence[: m.start(1)].strip() else ""
        word = before.lower().strip("\"“‘(")
        if m.group(1) == "." and (word in _ABBREVIATIONS or len(word) == 1 or "." in word):
            continue
        if m.group(1) == "." and word == "no" and sentence[m.end():m.end() + 1].isdigit():
            continue  # "No. 10", not the end of "voters said no."
        sentence = sentence[: m.start(1) + 1] + m.group(2)
        break
    if sentence.endswith(".") and not sentence.endswith(".."):
        sentence = sentence[:-1]
    if len(sentence) <= HEADLINE_MAX:
        return sentence
    cut = sentence[: HEADLINE_MAX].rsplit(" ", 1)[0].rstrip(",;:-–— ")
    return cut + "…"


_SLUG_PART = re.compile(r"[a-z0-9]+")


def _slug(value: str, words: int | None = None) -> str:
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode().lower()
    parts = _SLUG_PART.findall(ascii_text)
    return "-".join(parts[:words] if words else parts) or "story"
