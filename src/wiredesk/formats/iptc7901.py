"""IPTC 7901, the agencies' wire text format (Recommendation 7901, revision 5, 1995).

One message, as dpa sends it (control characters in angle brackets):

    <SOH>bdt0412 2 pl 231  dpa 0412      header: service and number, priority, category, word count
    Partei/Deutschland/Grüne/             keyword (slug) line
    <STX>(Eil)                            heading: notes in brackets, the headline, the byline, "="
    Grünen-Spitze tritt ab =

    Berlin (dpa) - Die Grünen-Spitze      text wrapped at ~69 columns, paragraphs between blank lines
    zieht Konsequenzen.

    # Notizblock                          notes for editors, to the end of the text (dpa)
    dpa abc yydd n1 sku                   closing line: desk and initials
    <ETX>251037 Sep 24                    sent at: day, hour, minute, month, year
    <EOT>

A file may hold several messages. The format carries no id, so the uri is built from the content:
the keyword when it names the story ("Storm-Weather"), else the headline, and the date sent; the
same bytes again give the same uri. Take and version markers ("1st Ld", "UPDATE 2", "Berichtigung",
"KILL") say what a message does to the story. Notes for editors go to ednote, never into the text.

The helpers below the parser are shared with `anpa1312`, 7901's American ancestor.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from wiredesk.formats.context import Context
from wiredesk.formats.conventions import Routing, is_note, kill_headline, reference_keys, strip_routing
from wiredesk.formats.errors import FormatError
from wiredesk.formats.shared import copy_uri, derive_headline, read_dateline
from wiredesk.formats.text import repair_mojibake, unix_newlines, without
from wiredesk.formats.times import parse_time
from wiredesk.story import Subject, WireStory

if TYPE_CHECKING:  # the package, which imports this module, defines Head
    from wiredesk.formats import Head

_HEADER = re.compile(
    r"[ \t]*(?P<service>[A-Za-z][A-Za-z-]{0,9}?)(?P<number>\d{1,6})[ \t]+(?P<priority>\d)"
    r"[ \t]+(?P<category>\S{1,4})[ \t]+(?P<words>\d{1,6})\b(?P<rest>.*)"
)
_SNIFF = re.compile(rb"[\x00\x16\s]*\x01[ \t]*[A-Za-z][A-Za-z-]{0,9}?\d{1,6}[ \t]+\d[ \t]+\S{1,4}[ \t]+\d{1,6}\b")
# The date-time group after ETX: day, hour and minute ("251037", also "25 1037"; a military "Z"
# says UTC), month and year ("Sep 24", "SEPT 2024"). Agencies put other text first, on its line or
# the one before: the desk's closing line, a message number, whose digits must not start a group.
_TRAILER = re.compile(
    r"(?<!\d)(?P<day>\d{2})[ \t]?(?P<hour>\d{2})(?P<minute>\d{2})(?P<utc>[Zz])?"
    r"[ \t]+(?P<month>[^\W\d_]{3,4})\.?[ \t]+(?P<year>\d{4}|\d{2})\b"
)
_LEADING_BLANK_LINES = re.compile(r"\A(?:[ \t]*\n)+")
# English, German and Spanish, the languages of the 7901 services seen so far.
_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "ene"),
            ("feb",),
            ("mar", "mär", "mrz"),
            ("apr", "abr"),
            ("may", "mai"),
            ("jun",),
            ("jul",),
            ("aug", "ago"),
            ("sep",),
            ("oct", "okt"),
            ("nov",),
            ("dec", "dez", "dic"),
        ],
        start=1,
    )
    for name in names
}


def sniff(data: bytes) -> bool:
    """SOH, then a 7901 header: letters and a number, a priority digit, a category, a word count.
    ANPA's header has a priority letter instead, so the two never both match."""
    return _SNIFF.match(data[:512]) is not None


def parse(data: bytes, context: Context) -> list[WireStory]:
    return [_story(header, text, trailer, context) for header, text, trailer in split_messages(decode_wire(data))]


def _story(header: str, text: str, trailer: str, context: Context) -> WireStory:
    header_line, *keyword_lines = [line.strip() for line in header.split("\n") if line.strip()] or [""]
    fields = _HEADER.match(header_line)
    marks = Marks()
    if fields:
        marks.read_field(fields.group("rest"))
    keyword = marks.read_keyword(" ".join(keyword_lines))

    lines = _LEADING_BLANK_LINES.sub("", text).split("\n")
    heading_end = _heading_end(lines)
    heading = read_heading(lines[:heading_end], marks) if heading_end else Heading()
    body, editors = split_editors_section(lines[heading_end:])
    paragraphs = marks.take_notes(paragraphs_of(body))
    if editors.strip():
        marks.notes.append(editors.strip())
    if paragraphs and CLOSING_LINE.match(paragraphs[-1]):
        marks.notes.append(paragraphs.pop())

    sent = _sent_at(trailer, context.zone)
    story_date = sent.date() if sent else context.received.date()
    return build_story(
        fmt="iptc7901",
        context=context,
        marks=marks,
        heading=heading,
        paragraphs=paragraphs,
        keyword=keyword,
        story_date=story_date,
        sent=sent,
        urgency=int(fields.group("priority")) if fields and fields.group("priority") != "0" else None,
        category=fields.group("category") if fields else None,
        # The message numbers a kill or correction may cite: the service's and the agency's ("dpa 0412").
        keys=reference_keys(f"{fields.group('service')}{fields.group('number')} {fields.group('rest')}")
        if fields
        else [],
    )


def _heading_end(lines: list[str]) -> int:
    """The heading is the first lines up to one that ends with "="; it never spans a blank line.
    Without "=", a lone short line that does not end like a sentence, then a blank line, is one."""
    for number, line in enumerate(lines):
        if not line.strip():
            break
        if line.rstrip().endswith("="):
            return number + 1
    first = lines[0].strip()
    if (
        len(lines) > 2
        and first
        and not lines[1].strip()
        and len(first) <= 150
        and not first.endswith((".", ",", ";", ":", "!", "?", '"', "”", "»"))
    ):
        return 1
    return 0


def _sent_at(trailer: str, zone: str) -> dt.datetime | None:
    """The first date-time group in the trailer that is a real time: a message number can look
    like one that is not ("991530 Mar 24")."""
    for m in _TRAILER.finditer(trailer):
        month = _MONTHS.get(m.group("month").lower()[:3])
        year = int(m.group("year")) + (2000 if len(m.group("year")) == 2 else 0)
        sent = (
            parse_time(
                f"{year:04d}-{month:02d}-{m.group('day')}T{m.group('hour')}:{m.group('minute')}",
                "UTC" if m.group("utc") else zone,
            )
            if month
            else None
        )
        if sent:
            return sent
    return None


# --- shared with anpa1312 ---------------------------------------------------------------------


# Control codes that are transmission, not text. SOH, STX, ETX and EOT stay to split messages on,
# US (a field separator) becomes a tab.
_NOISE = bytes([0x00, *range(0x05, 0x09), 0x0B, 0x0C, *range(0x0E, 0x1F), 0x7F])
_C1 = re.compile(rb"[\x80-\x9f]")
_LONE_CR = re.compile(rb"\r(?!\n)")


@functools.cache
def _noise_without(keep: bytes) -> bytes:
    return bytes(b for b in _NOISE if b not in keep)


def decode_wire(data: bytes, keep: bytes = b"") -> str:
    """Wire bytes as text: control codes out, then UTF-8 if valid, else CP1252 when bytes 0x80-0x9F
    occur (they are never Latin-1 text), else Latin-1. `keep` names control bytes a caller reads."""
    noise = _noise_without(keep)
    # Wire lines mostly end in CRLF: unless a CR stands alone, the CRs go out with the control
    # codes, which costs nothing, where replacing CRLF in the text would cost most of the decoding.
    if b"\r" in data and not _LONE_CR.search(data):
        noise += b"\r"
    data = data.translate(None, noise).replace(b"\x1f", b"\t")
    data = data.removeprefix(b"\xef\xbb\xbf")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        # The five bytes CP1252 leaves undefined are dropped: they are never text either.
        text = data.decode("cp1252", errors="ignore") if _C1.search(data) else data.decode("latin-1")
    return repair_mojibake(unix_newlines(text))


def split_messages(text: str) -> list[tuple[str, str, str]]:
    """(header, text, trailer) of every message: SOH opens one, STX its text, ETX ends the text."""
    parts = text.split("\x01")
    if len(parts) > 1 and "\x02" not in parts[0]:
        parts = parts[1:]  # what precedes the first SOH is line noise
    messages = []
    for part in parts:
        header, stx, rest = part.partition("\x02")
        if not stx:
            if not part.strip("\x04 \t\n"):
                continue
            raise FormatError("a wire message has no text: its STX (start of text) is missing")
        body, _, trailer = rest.partition("\x03")
        messages.append((header, without(body, "\x04"), without(trailer, "\x04")))
    if not messages:
        raise FormatError("there is no wire message here: no SOH header and no STX text")
    return messages


@dataclass
class Heading:
    title: str | None = None
    byline: str | None = None


# "Berichtigung: note" labels the note; "Corrects spelling of..." is the note.
_CORRECTION = re.compile(
    r"^\W*(?:berichtigung|berichtigt|korrektur|correction|corrected|corrects|correctif"
    r"|rectificatif|versión corregida|corrección)\b(?P<label>\s*[:\-–])?\s*(?P<note>.*)",
    re.I | re.S,
)
_ORDINAL = re.compile(
    r"\b(?P<n>\d{1,2})(?:st|nd|rd|th|\.)?\s*-?\s*"
    r"(?P<kind>ld|lead|writethru|write-?through|add|take)\b",
    re.I,
)
_NUMBERED = re.compile(r"\b(?P<kind>update|take)\s*(?P<n>\d{1,2})\b", re.I)
_UPDATE_WORDS = {"update", "updates", "updated", "writethru", "sub", "substitute", "aktualisierung", "actualización"}
_REPEAT_WORDS = {"repeat", "refile", "rpt", "wiederholung", "répétition", "repetición"}
# dpa's EXTRA goes out as an Eil does; Vorrang is its priority 3.
_PRIORITY_WORDS = {
    "blitz": 1,
    "flash": 1,
    "eil": 2,
    "urgent": 2,
    "urgente": 2,
    "bulletin": 2,
    "dringend": 2,
    "extra": 2,
    "vorrang": 3,
}
_MARKER_WORDS = _UPDATE_WORDS | _REPEAT_WORDS | _PRIORITY_WORDS.keys()
_MARKER_STARTS = _MARKER_WORDS | {"take"}  # a marker may start with a count too: "take 2"
_WORD = re.compile(r"[^\W\d_]+")
# Both counts need a digit; searching for one is much cheaper than trying them at every position.
_DIGIT = re.compile(r"\d")
_FIELD_SEPARATOR = re.compile(r"[,;]")
_TRAILING_MARKER = re.compile(
    r"\s((?:take|add|update)\s*\d{1,2}|\d{1,2}(?:st|nd|rd|th|\.)?\s*-?\s*(?:ld|lead|add|take)(?:-writethru)?)\s*$", re.I
)
# The look-ahead for the phrases' first letters lets most paragraphs, asked in turn, fail at once.
# In a note to editors an upper-case KILL is an instruction; in copy it could be a headline word.
_UPPER_KILL = re.compile(r"\b(?:MANDATORY\s+)?KILL\b|\bELIMINATION\b")
_EDS_CORRECTS = re.compile(r"^\W*(?:eds?\s*:\s*)?(?P<note>corrects?\b.*)", re.I | re.S)
_BYLINE = re.compile(r"^(?:Von|By|Por|Par)\s+\S")


@dataclass
class Marks:
    """What a message's markers say: its version, take, signals, and the notes for editors."""

    signals: list[str] = field(default_factory=list)
    version: int | None = None
    take: int | None = None
    kill: bool = False
    correction: str | None = None
    urgency: int | None = None
    notes: list[str] = field(default_factory=list)

    def signal(self, name: str) -> None:
        if name not in self.signals:
            self.signals.append(name)

    def read_field(self, value: str) -> None:
        for part in _FIELD_SEPARATOR.split(value):
            self.read_marker(part)

    def read_keyword(self, value: str) -> str:
        """The keyword line without its markers: "Storm-Weather, 1st Ld" is "Storm-Weather"."""
        slug, *rest = value.split(",")
        for part in rest:
            if not self.read_marker(part):
                slug += "," + part
        # dpa writes a marker after the keyword without a comma: "Europe-Harbour/ take 2".
        if (m := _TRAILING_MARKER.search(slug)) and self.read_marker(m.group(1)):
            slug = slug[: m.start()]
        return slug.strip()

    def read_marker(self, text: str, *, note: bool = False) -> bool:
        """Record what `text` marks, if it is nothing but markers ("1st Ld-Writethru", "KILL KILL");
        False, and nothing recorded, otherwise. A `note` (in brackets) may also be a correction
        with its text: "Berichtigung: ...", "Corrects the name in paragraph 2"."""
        text = text.strip()
        if not text:
            return False
        if kill_headline(text):
            self.kill = True
            self.signal("kill")
            return True
        if (m := _CORRECTION.match(text)) and (note or not m.group("note").strip(" .:-")):
            self.signal("correction")
            said = " ".join((m.group("note") if m.group("label") else text).split())
            self.correction = self.correction or (said if m.group("note").strip(" .:-") else None)
            return True
        # Most texts asked about are headlines, bylines and the agency after a header's word count
        # ("dpa 0412"): their first word says no, unless a count ("1st Ld") can take it away.
        first = _WORD.search(text)
        if first and first.group().lower() not in _MARKER_STARTS and not _DIGIT.search(text, 0, first.start()):
            return False
        counts = [*_ORDINAL.finditer(text), *_NUMBERED.finditer(text)] if _DIGIT.search(text) else []
        words = [w.lower() for w in _WORD.findall(_NUMBERED.sub(" ", _ORDINAL.sub(" ", text)) if counts else text)]
        if not (counts or words) or not _MARKER_WORDS.issuperset(words):
            return False
        for m in counts:
            n, kind = int(m.group("n")), m.group("kind").lower()
            if kind == "add":
                self.take = max(self.take or 1, n + 1)  # the first add is the second take
            elif kind == "take":
                self.take = max(self.take or 1, n)
            else:
                self.version = max(self.version or 1, n + 1)  # the first lead is the second version
                self.signal("update")
        if _UPDATE_WORDS.intersection(words):
            self.signal("update")
        for word in words:
            self.urgency = self.urgency or _PRIORITY_WORDS.get(word)
        return True

    def read_routing(self, routing: Routing) -> None:
        for name in routing.signals:
            self.signal(name)
        self.kill = self.kill or "kill" in routing.signals
        if routing.version:
            self.version = max(self.version or 1, routing.version)
        self.urgency = self.urgency or routing.urgency

    def read_note(self, text: str) -> None:
        """A note in brackets: a marker, or a note for editors."""
        if not self.read_marker(text, note=True):
            self.advise(text)

    def advise(self, text: str) -> None:
        self.notes.append(text)
        if _UPPER_KILL.search(text):
            self.kill = True
            self.signal("kill")
        if m := _EDS_CORRECTS.match(text):
            self.signal("correction")
            self.correction = self.correction or m.group("note").strip()

    def take_notes(self, paragraphs: list[str]) -> list[str]:
        """The paragraphs for readers: advisories, and notes in brackets before the text, go to the notes."""
        kept: list[str] = []
        for paragraph in paragraphs:
            if not kept and _bracketed(paragraph):
                self.read_note(paragraph[1:-1].strip())
            elif is_note(paragraph):
                self.advise(paragraph)
            else:
                kept.append(paragraph)
        return kept

    @property
    def ednote(self) -> str | None:
        return "\n\n".join(self.notes) or None


def _depth(text: str) -> int:
    return text.count("(") - text.count(")")


_BRACKET = re.compile(r"[()]")


def _bracketed(text: str) -> bool:
    """All of `text` is one note in brackets: "(Corrects name)", not "(Un)fair play"."""
    if not text.startswith("("):
        return False
    depth = 0
    for bracket in _BRACKET.finditer(text):
        depth += 1 if bracket.group() == "(" else -1
        if depth == 0:
            return bracket.end() == len(text)
    return False


def read_heading(lines: list[str], marks: Marks) -> Heading:
    """Headline and byline from the heading lines (the last ends with "="); notes and markers go
    to `marks`. A note in brackets may run over several lines."""
    lines = [line.strip() for line in lines]
    lines[-1] = lines[-1].rstrip("=").rstrip()
    title: list[str] = []
    byline = None
    number = 0
    while number < len(lines):
        line = lines[number]
        number += 1
        if line.startswith("("):
            end = number
            while end < len(lines) and _depth(" ".join(lines[number - 1 : end])) > 0:
                end += 1
            note = " ".join(lines[number - 1 : end])
            if _bracketed(note):
                marks.read_note(note[1:-1].strip())
                number = end
                continue
        bare = line.strip(" *-=:#")
        if not bare or marks.read_marker(bare):
            continue
        if is_note(line):
            marks.advise(line)
        elif title and not byline and _BYLINE.match(line):
            byline = line
        elif byline:
            marks.advise(line)
        else:
            title.append(line)
    headline, routing = strip_routing(" ".join(" ".join(title).split()))
    marks.read_routing(routing)
    return Heading(headline or None, byline)


# dpa's notepad, and a "not for publication" line, begin what only editors read. A line is found by
# the newline before it (the text gets one put in front), so that the regex engine jumps from line
# to line instead of trying every character; the possessive quantifiers and the look-aheads for the
# phrases' first letters spare it retrying what cannot match (most lines fail at the first).
_EDITORS_SECTION = re.compile(
    r"\n(?=[#ntd\W])[ \t]*+(?:#+[ \t]*Notizblock\b|Notizblock[ \t]*$|\W*+(?=[tnd])"
    r"(?:(?:the\s+following\s+(?:information|details?)\s+(?:is|are)\s+)?not\s+(?:intended\s+)?for\s+publication"
    r"|(?:die\s+folgenden\s+(?:informationen|angaben)\s+sind\s+)?nicht\s+zur\s+veröffentlichung))",
    re.I | re.M,
)


def split_editors_section(lines: list[str]) -> tuple[list[str], str]:
    """The lines for readers, and the text for editors only."""
    text = "\n".join(lines)
    # m.start(), at the newline put in front, is where the line starts in `text`.
    m = _EDITORS_SECTION.search("\n" + text)
    return (lines[: text.count("\n", 0, m.start())], text[m.start() :]) if m else (lines, "")


# dpa's closing line: the agency, then editors' initials and desk codes, all lower case.
CLOSING_LINE = re.compile(r"^[a-zäöü]{2,8}(?:/[a-zäöü]+)?(?:[ ][a-zäöüß0-9/.-]{1,12}){1,8}$")
_BULLET = re.compile(r"^[ \t]*\*[ \t]+(?=\S)")
_TABLE_ROW = re.compile(r"^[ \t]*\|.*\|[ \t]*$")
_TABLE_RULE = re.compile(r"^[ \t|:-]*-{3}[ \t|:-]*$")


def paragraphs_of(lines: list[str]) -> list[str]:
    """The paragraphs of wrapped wire text, each on one line again. A paragraph ends at a blank line
    or where an indented line starts the next; a list item ("  * ") and a table row ("| a | b |")
    are paragraphs of their own, without the bullet and the frame."""
    paragraphs: list[str] = []
    current: list[str] = []
    in_item = False
    for line in lines:
        bare = line.strip()
        if not bare:
            # Only a blank line ends a paragraph; a line of other white space (a no-break space) is skipped.
            if current and not line.strip(" \t"):
                paragraphs.append(" ".join(current))
                current = []
                in_item = False
            continue
        # Most lines are plain text, which no bullet, frame or rule starts: the rules below for a
        # line that is neither an item nor a row, without a pattern to try.
        if bare[0] not in "*|:-":
            if not current or (line[0] in " \t") != in_item:
                if current:
                    paragraphs.append(" ".join(current))
                current, in_item = [], False
            current.append(bare)
            continue
        row = bullet = None
        # A pattern is tried only on a line that starts like its matches.
        if bare[0] == "*":
            bullet = _BULLET.match(line)
        elif bare[0] in "|:-":
            if _TABLE_RULE.match(line):
                continue
            row = _TABLE_ROW.match(line)
        # An indented line starts a paragraph, except inside a list item, which it continues.
        if row or bullet or not current or (line[0] in " \t") != in_item:
            if current:
                paragraphs.append(" ".join(current))
                current = []
            in_item = bool(bullet)
        if row:
            paragraphs.append(" | ".join([cell.strip() for cell in bare.strip("|").split("|")]).strip())
        else:
            current.append(line[bullet.end() :].strip() if bullet else bare)
    if current:
        paragraphs.append(" ".join(current))
    return [p for p in paragraphs if p]


def build_story(
    *,
    fmt: str,
    context: Context,
    marks: Marks,
    heading: Heading,
    paragraphs: list[str],
    keyword: str,
    story_date: dt.date,
    sent: dt.datetime | None,
    urgency: int | None,
    category: str | None,
    slugline: str | None = None,
    keys: list[str] | None = None,
) -> WireStory:
    """The WireStory of a wire message once its parts are read: the same rules for 7901 and ANPA."""
    if not paragraphs and not heading.title and not marks.kill:
        raise FormatError("the wire message has no headline and no text")
    slugline = slugline or keyword.rstrip("/").strip() or None
    # Only the first paragraph's: the article page sets the dateline before the first paragraph
    # unless that paragraph opens with it, so one opening a later paragraph would show twice.
    dateline = read_dateline(paragraphs[0], story_date) if paragraphs else None
    headline, derived = heading.title, not heading.title
    if not headline:
        lede = paragraphs[0] if paragraphs else ""
        if dateline:
            lede = lede[len(dateline.text) :].lstrip(" \t-–—_:")
        # Only a kill can come without any text; editors still need a line to know it by.
        headline = derive_headline(lede) if lede.strip() else slugline or "Kill"
    if marks.kill:
        # A kill's text is the instruction to editors, not copy for readers.
        marks.notes.extend(paragraphs)
        paragraphs, dateline = [], None
    # A keyword naming the story holds its versions together; a list of topics ("Partei/Grüne/")
    # is shared by many stories, so then the headline does.
    # A later take has the uri of its story: it continues the same text.
    key = keyword if keyword and "/" not in keyword else headline
    return WireStory(
        uri=copy_uri(context.source, fmt.removeprefix("iptc"), key, story_date),
        headline=headline,
        headline_derived=derived,
        paragraphs=paragraphs,
        version=marks.version,
        dateline=dateline,
        # A later version's sending time is not when the story was first created.
        firstcreated=sent if marks.version is None and not marks.signals else None,
        versioncreated=sent,
        pubstatus="canceled" if marks.kill else "usable",
        urgency=urgency if urgency is not None else marks.urgency,
        by=heading.byline,
        slugline=slugline,
        subjects=[Subject(name=category, literal=f"category:{category}")] if category else [],
        ednote=marks.ednote,
        signals=marks.signals,
        correction=marks.correction,
        format=fmt,
        keys=keys or [],
        take=marks.take,
    )


NAME = "iptc7901"


def score(data: bytes, head: Head) -> float:
    """1 for SOH and a 7901 header (see sniff)."""
    return 1.0 if sniff(data) else 0.0
