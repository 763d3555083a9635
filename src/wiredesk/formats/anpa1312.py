"""ANPA-1312 (ANPA 84-2, 89-3): the wire format of AP and the North American agencies.

One message (control characters in angle brackets):

    <SYN><SYN><SOH>a0412<US>bcdef                      service letter, story number; selector codes
    r a<DC3><DC1> BC-Harbour-Cranes 1stLd-Writethru 11-24 0312
                                                       priority, category, format, keyword, version,
                                                       date (month-day), word count
    <STX>^BC-Harbour-Cranes, 1st Ld-Writethru,0312<    header lines start with "^" and end with "<":
    ^Harbour cranes return to service<                 the slug line again, the headline, then notes
    ^Eds: UPDATES with mayor's comment.<               ("Eds:", photo lines); bylines end with "="
    ^By JANE DOE=
    ^Associated Press Writer=
    <TAB>   PORT SALVIN (AP) _ The harbour's cranes    a paragraph starts with a tab
    <TAB>   AP-WF-11-24-26 0930GMT<                    sent at: month, day, year, time
    <ETX><EOT>

AP writes in 7-bit ASCII: `` and '' are its double quotes and " _ " its dash; they are read as the
characters they stand for. DC2 in the header marks tabular copy, kept one line per paragraph.
Keyword, versions, kills, notes, encodings and the uri follow the IPTC 7901 rules (iptc7901.py).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING

from wiredesk.formats.context import Context
from wiredesk.formats.conventions import is_note, reference_keys
from wiredesk.formats.iptc7901 import Heading, Marks, build_story, decode_wire, paragraphs_of, split_messages
from wiredesk.formats.shared import date_in_year
from wiredesk.formats.text import without
from wiredesk.formats.times import parse_time
from wiredesk.story import WireStory

if TYPE_CHECKING:  # the package, which imports this module, defines Head
    from wiredesk.formats import Head

_SNIFF = re.compile(
    rb"[\x00\x16\s]*\x01[ \t]*[A-Za-z]\d{4}[^\n]*\n"
    rb"[\x11-\x14 \t]*[A-Za-z][ \t]+[A-Za-z][\x11-\x14]*[ \t]+\S"
)
_FIELDS = re.compile(
    r"[ \t]*(?P<priority>[A-Za-z])[ \t]+(?P<category>[A-Za-z])[ \t]+(?P<keyword>\S+)(?P<version>.*?)"
    r"(?:[ \t]+(?P<month>\d{1,2})-(?P<day>\d{1,2}))?(?:[ \t]+(?P<words>\d{1,4}))?[ \t]*$"
)
_STAMP = re.compile(
    r"(?P<agency>[A-Z]{2,6})-(?P<desk>[A-Z]{1,6})-(?P<month>\d{2})-(?P<day>\d{2})-(?P<year>\d{2})"
    r"[ \t]+(?P<hour>\d{2})(?P<minute>\d{2})[ \t]*(?P<zone>GMT|UTC|[A-Z]{3})?<?$"
)
_CYCLE = re.compile(r"^(?:BC|AM|PM|AP)-", re.I)
_WORD_COUNT = re.compile(r",\s*\d{1,5}$")  # what ends the slug line: ", 0312"
_MEDIA_LINE = re.compile(r"^[A-Z]{2,6}\s+(?:Photos?|Video|Audio|Graphics?|Interactive|Explainer)\b")
# f(lash), b(ulletin), u(rgent), r(egular), d(eferred) onto ninjs 1 (most urgent) to 9.
_URGENCY = {"f": 1, "b": 2, "u": 3, "r": 5, "d": 6}
_DC2 = "\x12"
_OPEN_QUOTE, _CLOSE_QUOTE, _DASH = re.compile("``"), re.compile("''"), re.compile(" _ ")


def sniff(data: bytes) -> bool:
    """SOH, a service letter and a four-digit story number, then a line with a priority letter and
    a category letter. IPTC 7901's header has a priority digit instead."""
    return _SNIFF.match(data[:512]) is not None


def parse(data: bytes, context: Context) -> list[WireStory]:
    return [
        _story(header, text, trailer, context)
        for header, text, trailer in split_messages(decode_wire(data, keep=_DC2.encode()))
    ]


def _story(header: str, text: str, trailer: str, context: Context) -> WireStory:
    tabular = _DC2 in header
    lines = [line for line in header.replace(_DC2, "").split("\n") if line.strip()]
    fields = next((m for line in lines[1:] if (m := _FIELDS.match(line))), None)
    marks = Marks()
    keyword = ""
    if fields:
        marks.read_field(fields.group("version"))
        keyword = _CYCLE.sub("", fields.group("keyword"))

    header_lines: list[str] = []
    bylines: list[str] = []
    body: list[str] = []
    sent = _sent_at(trailer, context.zone)
    for line in without(text, _DC2).split("\n"):
        bare = line.strip()
        # A stamp has its dash within its first seven characters: other lines spare the regex.
        if "-" in bare[2:7] and (m := _STAMP.match(bare)):
            sent = sent or _time(m, context.zone)
        elif bare.startswith("^"):
            content = bare[1:].strip()
            if content.endswith("="):
                bylines.append(content.rstrip("= ").strip())
            else:
                header_lines.append(content.rstrip("< ").strip())
        elif tabular:
            body.append(f"\t{bare.rstrip('<')}" if bare else "")
        else:
            body.append(line.rstrip().removesuffix("<"))

    slugline, title = _read_header_lines(header_lines, marks)
    paragraphs = marks.take_notes([_ascii_typography(p) for p in paragraphs_of(body)])
    story_date = None
    if fields and fields.group("month"):
        story_date = date_in_year(
            int(fields.group("month")), int(fields.group("day")), (sent or context.received).date()
        )
    return build_story(
        fmt="anpa1312",
        context=context,
        marks=marks,
        heading=Heading(title, _ascii_typography(", ".join(bylines)) or None),
        paragraphs=paragraphs,
        keyword=keyword,
        story_date=story_date or (sent or context.received).date(),
        sent=sent,
        urgency=_URGENCY.get(fields.group("priority").lower()) if fields else None,
        category=fields.group("category").lower() if fields else None,
        slugline=slugline or keyword or None,
        # The story number a kill may cite ("a0412"), before the selector codes.
        keys=reference_keys(lines[0].split("\t")[0]) if lines else [],
    )


def _read_header_lines(lines: list[str], marks: Marks) -> tuple[str | None, str | None]:
    """The slug line (its first line, when it starts with a cycle: "BC-Storm, 1st Ld,0312"), then
    the headline; notes, markers and photo lines go to `marks`."""
    slugline = None
    if lines and _CYCLE.match(lines[0]):
        slug, *middle = _WORD_COUNT.sub("", lines.pop(0)).split(",")
        slugline = _CYCLE.sub("", slug).strip()
        marks.read_field(",".join(middle))
    title = None
    for line in lines:
        if not line or marks.read_marker(line.strip(" *-=:")):
            continue
        if title is None and not _MEDIA_LINE.match(line) and not is_note(line):
            title = _ascii_typography(line)
        else:
            marks.advise(line)
    return slugline, title


def _ascii_typography(text: str) -> str:
    # Finding one character is much cheaper than searching for two, and many paragraphs have no
    # quote; the regex engine finds and replaces faster than str.replace.
    if "`" in text:
        text = _OPEN_QUOTE.sub("“", text)
    if "'" in text:
        text = _CLOSE_QUOTE.sub("”", text)
    if "_" in text:
        text = _DASH.sub(" — ", text)
    return text


def _sent_at(trailer: str, zone: str) -> dt.datetime | None:
    for line in trailer.split("\n"):
        if m := _STAMP.match(line.strip()):
            return _time(m, zone)
    return None


def _time(m: re.Match[str], zone: str) -> dt.datetime | None:
    stamp = f"20{m.group('year')}-{m.group('month')}-{m.group('day')}T{m.group('hour')}:{m.group('minute')}"
    return parse_time(stamp + ("Z" if m.group("zone") in ("GMT", "UTC") else ""), zone)


NAME = "anpa1312"


def score(data: bytes, head: Head) -> float:
    """1 for SOH and an ANPA header (see sniff)."""
    return 1.0 if sniff(data) else 0.0
