"""What every format reads the same way: datelines, derived headlines, slugs and the uris of copy
that has no id of its own. Formats import these from here, never from one another."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from urllib.parse import quote

from wiredesk.formats.times import YEARS
from wiredesk.story import Dateline

HEADLINE_MAX = 110

_MONTHS = {
    name: number
    for number, names in enumerate(
        # English, then the German, French, Spanish and Italian names and abbreviations the wires use.
        [
            ("jan", "january", "januar", "janv", "janvier", "ene", "enero", "gen", "gennaio"),
            ("feb", "february", "februar", "févr", "fevr", "février", "febrero", "febbraio"),
            ("mar", "march", "mär", "märz", "mrz", "mars", "marzo"),
            ("apr", "april", "avr", "avril", "abr", "abril", "aprile"),
            ("may", "mai", "mayo", "mag", "maggio"),
            ("jun", "june", "juni", "juin", "junio", "giu", "giugno"),
            ("jul", "july", "juli", "juil", "juillet", "julio", "lug", "luglio"),
            ("aug", "august", "août", "aout", "ago", "agosto"),
            ("sep", "sept", "september", "septembre", "septiembre", "set", "settembre"),
            ("oct", "october", "okt", "oktober", "octobre", "octubre", "ott", "ottobre"),
            ("nov", "november", "novembre", "noviembre"),
            ("dec", "december", "dez", "dezember", "déc", "décembre", "dic", "diciembre", "dicembre"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))

# A place is one to five capitalised words ("NEW DELHI", "Rio de Janeiro", "St. John's"),
# optionally followed by a region ("WOODSIDE, Calif."). Lower-case joiners are allowed inside.
_WORD = r"[A-Z\u00C0-\u024F][\w.'’\-]*"
_PLACE = rf"{_WORD}(?:[ ](?:(?:de|da|do|del|di|du|des|es|el|al|la|le|les|of|upon|am|an|im|sur|van|von|der|den|y|e)[ ])?{_WORD}){{0,4}}"  # noqa: E501 (one alternation reads best whole)
_REGION = rf"(?:,[ ]{_WORD}(?:[ ]{_WORD})?|[ ]\([^()\n]{{2,30}}\))?"
_DATE = (
    rf"(?:(?P<month>(?i:{_MONTH}))\.?[ ](?P<day>\d{{1,2}})|(?P<day2>\d{{1,2}})[ ](?P<month2>(?i:{_MONTH}))\.?)"
    r"(?:,?[ ](?P<year>\d{4}))?"
)
_AGENCY = r"\([A-Z][A-Za-z0-9&.\- ]{0,30}\)"
# Kyodo and some others name themselves without brackets: "TOKYO, Nov. 25 Kyodo - ".
_BARE_AGENCY = r"[A-Z][A-Za-z]{2,15}(?=\s*(?:--|[-–—])\s)"
# "-", "--", "–", ":", and EFE's ".-" after the bracket.
_DASH = r"\s*\.?\s*(?:--|[-–—:])\s*"
# Text starts after the separator; a dateline with nothing after it still matches, so the
# parser can say so. Without a dash, the text must start like a sentence: "On Monday, Mar 2 the
# ferry..." is a lede, not a dateline. A place and an agency alone need the dash: "The Rowing
# Club (HLRC) opened..." is a lede too.
_TEXT = r"(?=[^\s\-–—:]|\s*\Z)"
DATELINE = re.compile(
    rf"(?P<dateline>(?P<place>{_PLACE}){_REGION}"
    rf"(?:,[ ]{_DATE}(?:[ ](?P<agency>{_AGENCY}|{_BARE_AGENCY}))?(?:{_DASH}{_TEXT}|\s+(?=[\"“‘(]?[A-Z0-9])|\s*\Z)"
    rf"|[ ](?P<agency2>{_AGENCY}){_DASH}{_TEXT}))"
)
# ANSA puts the agency first: "(ANSA) - PORTOVERDE, 25 NOV - ".
_AGENCY_FIRST = re.compile(rf"(?P<dateline>(?P<agency>{_AGENCY}){_DASH}(?P<place>{_PLACE}),[ ]{_DATE}){_DASH}{_TEXT}")
# "Berlin (dpa) - ", "Tel Aviv/Beirut (dpa) - ", "GROSSETO, Italy (AP) -- ": a place, what follows
# it, the agency in brackets and a dash. DATELINE, tried first, knows dated datelines but wants an
# agency that starts in upper case.
_WIRE_DATELINE = re.compile(
    r"(?P<place>[A-ZÀ-Þ][^\s(),]*(?:[ /][^\s(),]+){0,4}?)(?:,[ ][^()\n]{1,40}?)?"
    r"[ ]\((?P<agency>[^()\n]{1,40})\)[ \t]*(?:--|[-–—_:])[ \t]+(?=\S)"
)


def split_dateline(first: str, near: dt.date, *, date: dt.date | None = None) -> tuple[Dateline | None, str]:
    """The dateline that opens a first paragraph, and the text after it. The year of a dateline
    that gives none is the one that puts it nearest `date` (the copy's own date), else `near`
    (the day of receipt). Without a dateline: None and the paragraph."""
    m = DATELINE.match(first) or _AGENCY_FIRST.match(first)
    if not m:
        # A place has no bracket, so the agency's is the first, after a space: the regex, slow to
        # fail on a lede without a dateline, is tried only then.
        bracket = first.find("(")
        if bracket > 0 and first[bracket - 1] == " " and (w := _WIRE_DATELINE.match(first)):
            return (
                Dateline(text=w.group().rstrip(" \t-–—_:"), place=w.group("place"), agency=w.group("agency")),
                first[w.end() :],
            )
        return None, first
    found = None
    month = m.group("month") or m.group("month2")
    if month:
        day = int(m.group("day") or m.group("day2"))
        if m.group("year"):
            found = _date_or_none(int(m.group("year")), _MONTHS[month.lower()], day)
        else:
            found = date_in_year(_MONTHS[month.lower()], day, date or near)
    # EFE closes the bracket with a stop before its dash: "(EFE).- ".
    text = m.group("dateline").rstrip(" \t\n-–—:")
    if text.endswith(")."):
        text = text[:-1]
    agency = m.group("agency") or (m.group("agency2") if m.re is DATELINE else None)
    dateline = Dateline(
        text=text, place=m.group("place").strip(), date=found, agency=(agency or "").strip("()") or None
    )
    return dateline, first[m.end() :]


def read_dateline(paragraph: str, near: dt.date) -> Dateline | None:
    return split_dateline(paragraph, near)[0]


def lede_without_dateline(paragraph: str, dateline: Dateline | None) -> str:
    if dateline and paragraph.startswith(dateline.text):
        return paragraph[len(dateline.text) :].lstrip(" \t-–—_:") or paragraph
    return paragraph


_HALF_YEAR = dt.timedelta(days=182)


def date_in_year(month: int, day: int, near: dt.date) -> dt.date | None:
    """The year that puts a month and day nearest `near`. A Dec 31 dateline on copy received on
    Jan 2 is last year's; a Jan 1 dateline under a Dec 31 date field (a UTC filing date) is next
    year's."""
    # Within half a year of `near`, the date in its own year is the nearest: the others are
    # further away. Most dates are, and need no more.
    same_year = _date_or_none(near.year, month, day)
    if same_year and abs(same_year - near) <= _HALF_YEAR:
        return same_year
    candidates = [d for year in (near.year - 1, near.year, near.year + 1) if (d := _date_or_none(year, month, day))]
    return min(candidates, key=lambda d: abs(d - near), default=None)


# The highest version number the desk can store (a PostgreSQL integer); agencies count far below it.
VERSION_MAX = 2**31 - 1


def whole_number(value: str | None, high: int) -> int | None:
    """The number `value` writes in ASCII digits, when it is at most `high`; else None. Not
    str.isdigit() alone: it says yes to "²", which int() refuses, as it refuses thousands of digits."""
    if value and value.isascii() and value.isdigit() and len(value) <= len(str(high)):
        return number if (number := int(value)) <= high else None
    return None


def _date_or_none(year: int, month: int, day: int) -> dt.date | None:
    if year not in YEARS:
        return None
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


# Sentence ends, unless the word before the stop is an abbreviation or an initial.
_ABBREVIATIONS = {
    "mr",
    "mrs",
    "ms",
    "dr",
    "prof",
    "gen",
    "col",
    "lt",
    "sgt",
    "st",
    "sen",
    "rep",
    "gov",
    "jr",
    "sr",
    "inc",
    "ltd",
    "co",
    "corp",
    "vs",
    "approx",
    "est",
    "dept",
    "univ",
}
_SENTENCE_END = re.compile(r"([.!?])([\"'”’)]*)\s+(?=[\"“‘(]?[A-Z0-9])")
# Where a sentence too long for a headline may end: after a comma, semicolon, colon or dash, or
# before a word that opens a clause; failing those, before a preposition that opens a phrase. A
# headline shorter than CLAUSE_MIN (PHRASE_MIN) says too little.
_CLAUSE = re.compile(
    r"[,;:](?=\s)|\s[–—-]\s|\s(?=(?:after|as|while|but|and|when|because|despite|amid|following"
    r"|before|since|which|who|where|though|although)\s)"
)
_PHRASE = re.compile(
    r"\s(?=(?:during|over|in|for|on|at|with|from|by|near|into|against|under|between|across|about"
    r"|around|through|without|within|ahead|toward|towards)\s)"
)
CLAUSE_MIN, PHRASE_MIN = 40, 60


def derive_headline(lede: str) -> str:
    """The lede's first sentence; when that is longer than HEADLINE_MAX, its longest opening that
    ends at a clause boundary, else at a phrase boundary, else cut at a word and marked with "…"."""
    # Only the first words can make the headline: HEADLINE_MAX + 1 of them already run past its
    # length, and a sentence end among them is still read with the word after it. So a lede that
    # runs for pages (a table, a list) costs no more than a short one.
    sentence = " ".join(lede.split(None, HEADLINE_MAX + 1)[: HEADLINE_MAX + 1])
    for m in _SENTENCE_END.finditer(sentence):
        before = sentence[: m.start(1)].rsplit(None, 1)[-1] if sentence[: m.start(1)].strip() else ""
        word = before.lower().strip('"“‘(')
        if m.group(1) == "." and (word in _ABBREVIATIONS or len(word) == 1 or "." in word):
            continue
        if m.group(1) == "." and word == "no" and sentence[m.end() : m.end() + 1].isdigit():
            continue  # "No. 10", not the end of "voters said no."
        sentence = sentence[: m.start(1) + 1] + m.group(2)
        break
    # A lede of nothing but a stop keeps it: a headline is never empty.
    if sentence.endswith(".") and not sentence.endswith("..") and len(sentence) > 1:
        sentence = sentence[:-1]
    if len(sentence) <= HEADLINE_MAX:
        return sentence
    for boundary, shortest in ((_CLAUSE, CLAUSE_MIN), (_PHRASE, PHRASE_MIN)):
        # The boundary nearest the limit keeps the most.
        ends = [m.start() for m in boundary.finditer(sentence) if shortest <= m.start() <= HEADLINE_MAX]
        # An opening of nothing but punctuation is no headline.
        if ends and (headline := sentence[: ends[-1]].rstrip(",;:-–— ")):
            return headline
    return sentence[:HEADLINE_MAX].rsplit(" ", 1)[0].rstrip(",;:-–— ") + "…"


_SLUG_PART = re.compile(r"[a-z0-9]+")


def slug(value: str, words: int | None = None) -> str:
    """Lower-case ASCII words joined by hyphens: the part of a uri or URL a value gives."""
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode().lower()
    parts = _SLUG_PART.findall(ascii_text)
    return "-".join(parts[:words] if words else parts) or "story"


# Characters RFC 3986 allows in a URI outside the authority's IP literals. An id that is not a URI
# in this sense ("item 42") is wrapped in a URN: ninjs requires `uri` to be one.
_URI_CHAR = r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})"
_URI = re.compile(rf"[A-Za-z][A-Za-z0-9+.\-]*:{_URI_CHAR}*(?:#{_URI_CHAR}*)?")


def id_uri(identifier: str, source: str, kind: str) -> str:
    """The agency's id when it is an absolute URI; else a URN made of it, the same every time,
    that keeps it recognisable and tells two different ids apart."""
    return (
        identifier if _URI.fullmatch(identifier) else f"urn:wiredesk:{slug(source)}:{kind}:{quote(identifier, safe='')}"
    )


# The formats whose copy has no id of its own: its uri is made by copy_uri.
ID_LESS_FORMATS = frozenset({"agency-copy", "iptc7901", "anpa1312"})


def copy_uri(source: str, kind: str | None, key: str, date: dt.date) -> str:
    """The uri of copy that has no id: the source, the format, what names the story (its keyword,
    else its headline) and its date, so the same copy gives the same uri. Plain copy (`kind`
    None) has kept the layout it was first published under: source, date, headline."""
    if kind is None:
        return f"urn:wiredesk:{slug(source)}:{date.isoformat()}:{slug(key, words=8)}"
    return f"urn:wiredesk:{slug(source)}:{kind}:{slug(key, words=8)}:{date.isoformat()}"
