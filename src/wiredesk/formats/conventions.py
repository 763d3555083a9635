"""The agencies' conventions that every format shares, recognised here once: notes to editors,
advisories, kills, corrections and routing prefixes. `apply` runs on every story any format reads.

What it guarantees, whatever the format:
- a paragraph addressed to editors ("EDITOR'S NOTE: …", "Eds: …", "ATTENTION EDITORS", dpa's
  "Notizblock" and everything after it, "(EDITORS' NOTE: …)") is moved to the story's ednote,
  which no page, feed or API shows;
- an advisory (its headline, slug or genre says so, or it says it is not for publication) keeps
  no paragraphs: it is never an article, only a note for the desk;
- a kill in any agency's wording (KILL, MANDATORY KILL, LEGAL KILL, ELIMINATION, WITHDRAWN,
  "Editors are asked not to use", Reuters' "KILL/WITHDRAWN-", dpa's "zurückgezogen", AFP's
  "ANNULATION", EFE's "ANULACIÓN", ANSA's "ANNULLARE", AAP's "must be killed") cancels the item,
  with `targets` naming the story it speaks of: by the headline it quotes, the reference number
  it cites, the keyword it is filed under;
- a routing prefix ("UPDATE 1-", "REFILE-", "CORRECTED-", "(LEAD)", "(2nd LD)") leaves the
  headline and becomes a signal;
- a correction signal carries the agency's note for readers.

Stories name themselves through `keys` (headline, keyword, message numbers), in the same terms
as `targets`, so the desk can match a notice to its story without the format's help.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections import Counter

from wiredesk.formats.shared import ID_LESS_FORMATS, derive_headline, lede_without_dateline, read_dateline, slug
from wiredesk.story import Subject, WireStory

# --- notes to editors -------------------------------------------------------------------------

# The markers that open a note to editors, in the wires' languages. The look-ahead for the first
# letters lets most paragraphs fail at once.
_NOTE_INITIALS = "aehnrdpàé"
NOTE = re.compile(
    rf"^\W*+(?=[{_NOTE_INITIALS}])(?:attention\s+(?:news\s+)?(?:editors?|desks?)|attn\b|editor'?s'?\s+note|editors?\s+please\s+note"
    r"|note\s+to\s+editors|eds?\s*:|editors\s*:|advisory\b|not\s+(?:intended\s+)?for\s+publication"
    r"|achtung\s+redaktion(?:en)?|redaktioneller\s+hinweis|redaktionshinweis|hinweis\s+(?:an|für)\s+die\s+redaktion"
    r"|nicht\s+zur\s+veröffentlichung|atenci[oó]n\s+redacci(?:ones|[oó]n)|aviso\s+a\s+(?:los\s+)?editores"
    r"|attenzione\s+redazion[ei]|avviso\s+alle\s+redazioni|nota\s+(?:per\s+le\s+redazioni|a\s+los\s+editores)"
    r"|note\s+aux\s+r[ée]dactions|à\s+l'attention\s+des\s+r[ée]dactions|avis\s+aux\s+r[ée]dactions"
    r"|please\s+note\b|pls\s+note\b|desk\s+note)",
    re.I,
)
# A note that begins a section only editors read: it and everything after it are notes.
_NOTES_SECTION = re.compile(
    r"^\W*(?:#+\s*)?(?:notizblock\b|(?:the\s+following\s+(?:information|details?)\s+(?:is|are)\s+)?not\s+(?:intended\s+)?"
    r"for\s+publication|(?:die\s+folgenden\s+(?:informationen|angaben)\s+sind\s+)?nicht\s+zur\s+veröffentlichung)",
    re.I,
)
# A paragraph in brackets telling editors what a version changed: "(Adds analyst comment in
# paragraph 4)", "(Corrects spelling of name)", "(ATTN: UPDATES with toll)", Reuters' and Yonhap's way.
_BRACKETED_NOTE = re.compile(
    r"^\(\s*(?:adds|updates?|fixes|corrects|recasts|changes|refiles?|repeats?|removes|inserts|rewrites|writes\s+through"
    r"|writethru|clarifies|deletes|restores|moves|previously|tops|new\s+lede|re-?ledes?|releads?|advances|subs|withdraws"
    r"|berichtigt|ergänzt|aktualisiert|neu:|corrige|ajoute|actualiza|a[ñn]ade|corregge|aggiunge)\b.*\)$",
    re.I | re.S,
)
# What closes wire copy, never text for readers: end marks ("(END)", "ENDS", "+++"), and sign-offs
# of the agency and the desk ("PTI ABC DEF", "--IANS", "bur-vlc/ab", "gr/bp", "dpa ab yydd n1").
_SIGN_OFF = re.compile(
    r"^(?:(?i:\((?:end|ends|more|fin|fim|más|mas|mehr)\)|-+\s*(?:end|ends|fin)\s*-+|ends?|fin|\+{3,}|#{3,}|={3,}|xxx+)"
    r"|(?!.*\b(?:KILL|WITHDRAWN|ELIMINATION|ANNULATION|ADVISORY|URGENT|FLASH|BULLETIN)\b)"
    r"(?:-{1,2}\s*[A-Z]{2,6}(?:[ ]+[A-Z0-9]{2,6}){0,5}|[A-Z]{2,6}(?:[ ]+[A-Z0-9]{2,6}){1,5})"
    r"|[a-zäöü]{2,6}(?:-[a-z]{2,6})*/[a-z]{1,6}(?:/[a-z0-9]{1,6})*(?:[ ][a-z0-9/.-]{1,10}){0,4}"
    r"|[a-zäöü]{2,8}(?:[ ][a-zäöüß0-9/.-]{1,12}){1,8})$"
)
# Words a lower-case sign-off ("dpa ab yydd n1") is made of: no vowels to speak of, or an agency's name.
_SENTENCE_LIKE = re.compile(r"\b(?:the|and|der|die|und|les|des|los|las|del|che|was|ist|are|is)\b", re.I)


def is_note(paragraph: str) -> bool:
    """A paragraph addressed to editors. In running text "Advisory panels said…" is copy, so a
    marker counts only in capitals, before a colon or dash, in brackets, or saying it is not for
    publication."""
    # Most paragraphs open with a letter no marker starts with (the same test as NOTE's
    # look-ahead, which needs no more than lower() for these letters): neither a marker nor a
    # bracket then, and no regex need be tried.
    if paragraph[:1].isalpha() and paragraph[0].lower() not in _NOTE_INITIALS:
        return False
    text = paragraph.lstrip()
    bracketed = text.startswith("(") and text.rstrip().endswith(")")
    if bracketed:
        text = text[1:].lstrip()
    if bracketed and _BRACKETED_NOTE.match(paragraph.strip()):
        return True
    m = NOTE.match(text)
    if not m:
        return False
    marker, after = m.group(0), text[m.end() :].lstrip()[:1]
    return (
        bracketed
        or marker.isupper()
        or marker.rstrip().endswith(":")
        or after in (":", "-", "–", "—")
        or "publication" in marker.lower()
        or "veröffentlichung" in marker.lower()
    )


def is_sign_off(line: str) -> bool:
    line = line.strip()
    return bool(line) and len(line) <= 60 and bool(_SIGN_OFF.match(line)) and not _SENTENCE_LIKE.search(line)


def split_notes(paragraphs: list[str]) -> tuple[list[str], list[str]]:
    """The paragraphs for readers, and the notes to editors among them, sign-offs included."""
    kept: list[str] = []
    notes: list[str] = []
    for number, paragraph in enumerate(paragraphs):
        if _NOTES_SECTION.match(paragraph):
            notes.extend(paragraphs[number:])
            break
        (notes if is_note(paragraph) else kept).append(paragraph)
    # What closes the copy: whole paragraphs, or the last lines of the last one ("…they said.\n(END)").
    closing: list[str] = []
    while kept:
        *lines, last = kept[-1].rstrip().split("\n")
        if not is_sign_off(last):
            break
        closing.insert(0, last.strip())
        kept[-1:] = ["\n".join(lines).rstrip()] if any(line.strip() for line in lines) else []
    return kept, notes + closing


# --- routing prefixes on headlines ------------------------------------------------------------

# Reuters and others flag the headline itself: "UPDATE 2-Storm hits coast", "REFILE-…",
# "CORRECTED-UPDATE 1-…"; Yonhap in brackets: "(LEAD) …", "(2nd LD) …", "(URGENT) …".
_PREFIX = re.compile(
    r"^\s*(?:(?P<word>UPDATE\s*(?P<update>\d{1,2})|CORRECTED|CORRECTION|REFILE|REPEAT|RPT|URGENT|FLASH|BULLETIN"
    r"|EXTRA|EIL|BLITZ|WRITETHRU|KILL/WITHDRAWN|WITHDRAWN|KILL|MANDATORY\s+KILL|LEGAL\s+KILL)\s*(?:[-:–—]|\s-\s)\s*"
    r"|\((?P<bracket>LEAD|URGENT|FLASH|CORRECTED|REFILE|UPDATE|(?P<ld>\d{1,2})(?:st|nd|rd|th)\s+LD)(?:\s*,[^)]{0,40})?\)\s+)"
)
_PREFIX_SIGNALS = {
    "CORRECTED": "correction",
    "CORRECTION": "correction",
    "REFILE": "repeat",
    "REPEAT": "repeat",
    "RPT": "repeat",
    "WRITETHRU": "update",
    "LEAD": "update",
    "UPDATE": "update",
    "KILL/WITHDRAWN": "kill",
    "WITHDRAWN": "kill",
    "KILL": "kill",
    "MANDATORY KILL": "kill",
    "LEGAL KILL": "kill",
}
_PREFIX_URGENCY = {"URGENT": 2, "FLASH": 1, "BULLETIN": 2, "EXTRA": 2, "EIL": 2, "BLITZ": 1}


@dataclasses.dataclass
class Routing:
    """What a headline's prefixes say."""

    signals: list[str] = dataclasses.field(default_factory=list)
    version: int | None = None
    urgency: int | None = None


def strip_routing(headline: str) -> tuple[str, Routing]:
    """The headline readers see, and what its routing prefixes said."""
    routing = Routing()
    while m := _PREFIX.match(headline):
        rest = headline[m.end() :]
        if not rest.strip():
            break  # the prefix is all there is: a bare "KILL" headline is read as a kill below
        word = " ".join((m.group("word") or m.group("bracket")).split()).upper()
        if m.group("update"):
            word, routing.version = "UPDATE", max(routing.version or 1, int(m.group("update")) + 1)
        elif m.group("ld"):
            word, routing.version = "LEAD", max(routing.version or 1, int(m.group("ld")) + 1)
        elif word == "LEAD":
            routing.version = max(routing.version or 1, 2)
        if (signal := _PREFIX_SIGNALS.get(word)) and signal not in routing.signals:
            routing.signals.append(signal)
        routing.urgency = routing.urgency or _PREFIX_URGENCY.get(word)
        headline = rest
    return headline, routing


# --- kills ------------------------------------------------------------------------------------

# A headline that is a kill: "KILL - KILL - KILL", "MANDATORY KILL", "ELIMINATION", "STORY
# WITHDRAWN", "ANNULATION", "ANULACIÓN", "ANNULLARE". In title case "Withdrawal of troops…" is a
# headline, so the word counts only in capitals or standing alone before a dash or colon.
_KILL_HEADLINE = re.compile(
    r"^\W*(?P<word>(?:mandatory|legal)\s*kill|kill(?:\W+kill)*|elimination|eliminar(?:\W+eliminar)*|eliminaci[oó]n"
    r"|annulation|annul+ata?|annul+are|anulaci[oó]n|anulad[oa]|аннулирование|withdrawal|withdrawn|story\s+withdrawn"
    r"|meldung\s+zurückgezogen|zurückgezogen|kill\s*/\s*withdrawn)(?P<after>\s*(?:[-:–—/!.]|$))?",
    re.I,
)
# An instruction not to use a story: strong enough to read in a short item's own text.
_KILL_INSTRUCTION = re.compile(
    r"\b(?:(?:mandatory|legal)\s+kill|(?:please|pls|plse|kindly)\s+(?:kill|withdraw|eliminate|delete|remove)"
    r"|(?:are|is)\s+(?:asked|requested|advised)\s+not\s+to\s+(?:use|publish)"
    r"|(?:please\s+)?do\s+not\s+(?:use|publish)\s+(?:the|this|that|our)\s+(?:story|item|report|dispatch|copy|article)"
    r"|(?:story|item|report|dispatch|article|copy)\s+(?:\S+\s+){0,8}?(?:is|has\s+been|must\s+be|should\s+be|will\s+be)\s+(?:killed|withdrawn|eliminated)"
    r"|(?:must|should)\s+be\s+killed|kill\s+(?:the|this)\s+(?:story|item|report|dispatch)"
    r"|withdraws?\s+(?:the|this|its|our)\s+(?:story|item|report|dispatch)"
    r"|meldung\s+(?:\S+\s+){0,8}?(?:wird|ist|wurde)\s+zurückgezogen|zieht\s+(?:die|ihre|seine)\s+meldung\s+(?:\S+\s+){0,8}?zurück"
    r"|bitte\s+nicht\s+(?:verwenden|veröffentlichen)|ne\s+(?:pas|plus)\s+(?:utiliser|publier)|merci\s+de\s+ne\s+pas"
    r"|annule\s+(?:la|cette)\s+d[ée]p[eê]che|no\s+(?:utilizar|usar|publicar)|anular\s+(?:la|esta)\s+(?:noticia|informaci[oó]n)"
    r"|non\s+(?:utilizzare|pubblicare)|da\s+annullare)",
    re.I,
)
# In a note to editors an upper-case KILL is an instruction too; in copy it could be a headline word.
_KILL_WORD = re.compile(
    r"\b(?:(?:MANDATORY|LEGAL)\s+)?KILL(?:ED)?\b|\bELIMINATION\b|\bANNULATION\b|\bANULACI[OÓ]N\b"
    r"|\bANNULLARE\b|\bWITHDRAWN\b"
)
# A kill notice is short; a story that quotes someone saying "do not use" is not.
_NOTICE_MAX = 800


def kill_headline(headline: str) -> bool:
    # The word must stand alone, before a separator or at the end: "KILL BILL 3 OPENS" is a headline.
    m = _KILL_HEADLINE.match(headline)
    return m is not None and m.group("after") is not None


def says_kill(text: str) -> bool:
    """Whether a note to editors asks for a story to be killed."""
    return bool(_KILL_INSTRUCTION.search(text) or _KILL_WORD.search(text) or kill_headline(text))


# --- corrections ------------------------------------------------------------------------------

# "CORRECTION: Fixes spelling…" labels the note; "Corrects spelling of…" is the note.
_CORRECTION = re.compile(
    r"^\W*(?:(?:eds?|editors?)\s*:\s*)?(?:(?P<label>berichtigung|korrektur|correction|corrected|correctif|rectificatif"
    r"|versión\s+corregida|corrección|correzione|rettifica)\s*[:\-–—]\s*|(?=(?:corrects?|fixes|berichtigt|corrige|rectifica)\b))"
    r"(?P<note>\S.*)",
    re.I | re.S,
)


def correction_note(text: str) -> str | None:
    """The agency's correction note a note to editors carries, without its label."""
    m = _CORRECTION.match(text)
    return " ".join(m.group("note").split()).strip("() ") if m else None


# --- advisories -------------------------------------------------------------------------------

_ADVISORY_HEADLINE = re.compile(
    r"^\W*(?:advisory|(?:news|media|service|editorial)\s+advisory|attention\s+(?:news\s+)?editors?|editor'?s'?\s+note"
    r"|note\s+to\s+editors|editors?\s+please\s+note|eds?\s*:|service\s+alert|achtung\s+redaktion(?:en)?"
    r"|redaktionshinweis|hinweis\s+(?:an|für)\s+die\s+redaktion|atenci[oó]n\s+redacci(?:ones|[oó]n)|aviso\s+a\s+(?:los\s+)?editores"
    r"|attenzione\s+redazion[ei]|avviso\s+alle\s+redazioni|avis\s+aux\s+r[ée]dactions|note\s+aux\s+r[ée]dactions)\b",
    re.I,
)
_ADVISORY_SLUG = re.compile(r"(?:^|[-_/,\s])(?:advisory|advisories|eds|digest|hinweis|avis|aviso)(?:$|[-_/,\s])", re.I)
# A note that is nothing but the word: the item declares itself an advisory ("^ADVISORY<").
_ADVISORY_NOTE = re.compile(r"\W*(?:news\s+|media\s+|service\s+)?advisory\W*", re.I)
_NOT_FOR_PUBLICATION = re.compile(
    r"\b(?:this|the\s+(?:above|following))\s+(?:advisory|message|item|note|information|notice)\s+is\s+not\s+for\s+publication"
    r"|\bnot\s+for\s+publication\s*\.?\s*$|\bnicht\s+zur\s+veröffentlichung\s+bestimmt|\bno\s+(?:es\s+)?para\s+publicaci[oó]n"
    r"|\bnon\s+destinat[oa]\s+alla\s+pubblicazione|\bne\s+pas\s+publier\b",
    re.I,
)


def is_advisory(
    headline: str, derived: bool, slugline: str | None, genres: list[Subject], ednote: str, paragraphs: list[str]
) -> bool:
    """Whether an item is an advisory, by its headline, slug, genre, notes or own words."""
    if _ADVISORY_HEADLINE.match(headline) and not derived:
        return True
    if slugline and _ADVISORY_SLUG.search(slugline):
        return True
    if any("advisory" in (g.name or g.uri or g.literal or "").lower() for g in genres):
        return True
    if ednote and any(_ADVISORY_NOTE.fullmatch(part) for part in ednote.split("\n\n")):
        return True
    # The regex is slow to fail at every position of every paragraph, so the paragraphs are first
    # looked through, once, for the word each of its phrases ends with. lower() gives those words
    # wherever re.I would match them, except where the "i" is a dotless ı or a dotted İ (i and U+0307).
    # An item says so at its start or its end; a long story is not looked through whole.
    ends = paragraphs if len(paragraphs) <= 6 else paragraphs[:2] + paragraphs[-2:]
    lower = "\n".join(ends).lower()
    if not any(word in lower for word in ("publica", "publier", "pubblica", "veröffentlichung", "ı", "\u0307")):
        return False
    return any(_NOT_FOR_PUBLICATION.search(p) for p in ends)


# --- the names stories go by, and the ones notices cite -----------------------------------------

# A quoted headline: "…", “…”, ‘…’, „…“, «…», at least three words.
_QUOTED = re.compile(r"[\"“”„«‘']([^\"“”„«»‘’\n]{8,200}?)[\"“”»’']")
# A reference number as agencies cite them: "kpw0412", "abc 0412", "DEL15", "No. 0412".
# Letters never give back one of theirs to a digit: the possessive run spares the regex, tried at
# every word of a long text, backtracking through them.
_NUMBER = re.compile(r"\b([A-Za-z]{1,5}+)\s?(\d{2,6})\b|\b(?:no\.?|number|nr\.?|n[º°])\s*(\d{2,6})\b", re.I)
_MONTH_WORDS = {
    "jan",
    "feb",
    "mar",
    "apr",
    "may",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
    "gmt",
    "utc",
    "est",
    "edt",
    "cet",
    "cest",
    "ist",
    "bst",
    "at",
    "on",
    "in",
    "by",
    "of",
    "to",
    "the",
    "page",
    "para",
    "paragraph",
    "par",
    "pars",
    "graf",
    "grafs",
    "covid",
    "g",
    "no",
    "nr",
}


def reference_keys(text: str) -> list[str]:
    """The reference numbers `text` cites, as keys: the service's letters with the number, and the
    bare number (a serial, which the service reuses, so the weaker of the two)."""
    keys = []
    for m in _NUMBER.finditer(text):
        letters, digits = (m.group(1) or "").lower(), m.group(2) or m.group(3)
        if letters in _MONTH_WORDS or not int(digits):
            continue
        number = str(int(digits))
        for key in ((f"number:{letters}{number}" if letters else None), f"serial:{number}"):
            if key and key not in keys:
                keys.append(key)
    return keys


def headline_key(headline: str) -> str:
    return f"headline:{slug(headline, words=12)}"


def keyword_key(keyword: str) -> str:
    # dpa's keyword line is a list of topics ("Partei/Deutschland/Grüne/", "Hafen/"), filed over
    # many stories: a weaker name than a slug that names one story.
    return f"{'topics' if '/' in keyword else 'keyword'}:{slug(keyword)}"


def _cited(text: str) -> list[str]:
    """The stories a notice's text names: the headlines it quotes and the numbers it cites."""
    quoted = [headline_key(q) for q in _QUOTED.findall(text) if len(q.split()) >= 3]
    return quoted + reference_keys(text)


_LETTERS = re.compile(r"[^\W\d_]{2}")
_INITIALS = re.compile(r"^[a-z]{1,5}(?:[/-][a-z]{1,5})+$")


# --- all of it, on one story ------------------------------------------------------------------


def apply(story: WireStory) -> WireStory:
    headline, routing = (story.headline, Routing()) if story.headline_derived else strip_routing(story.headline)
    paragraphs, notes = split_notes(story.paragraphs)
    derived_from_a_note = story.headline_derived and bool(notes) and paragraphs[:1] != story.paragraphs[:1]
    by = story.by
    if by and _INITIALS.match(by):
        notes.append(by)  # desk initials in the byline ("gr/bp") are a sign-off, not a name
        by = None
    ednote = "\n\n".join(n for n in (story.ednote, *notes) if n)
    signals = _unique([*story.signals, *routing.signals])

    advisory = is_advisory(headline, story.headline_derived, story.slugline, story.genres, ednote, paragraphs)
    own_text = "\n".join([headline, *paragraphs])
    kill = (
        story.pubstatus == "canceled"
        or "kill" in signals
        or kill_headline(headline)
        or ((advisory or not paragraphs) and says_kill("\n".join([own_text, ednote])))
        or (len(own_text) <= _NOTICE_MAX and _may_ask_to_kill(own_text) and bool(_KILL_INSTRUCTION.search(own_text)))
    )
    correction = story.correction
    if kill:
        signals, correction = _unique([*signals, "kill"]), None
    elif correction is None:
        # Read in the notes the story will carry: an advisory's own text becomes one of them below,
        # so that applying the conventions again finds nothing more.
        carried = "\n\n".join(filter(None, (ednote, *paragraphs))) if advisory else ednote
        correction = next((note for part in carried.split("\n\n") if (note := correction_note(part))), None)
        if correction:
            signals = _unique([*signals, "correction"])

    # Copy with ids names its story by id; only a kill or an advisory may name another. Copy
    # without one names its story by what it cites, whatever it does to it.
    targets = list(story.targets)
    if kill or advisory or (story.format in ID_LESS_FORMATS and (signals or (story.take or 1) > 1)):
        # A notice's own text is its instruction; a story's is copy, where numbers are facts.
        targets += _cited("\n".join([own_text if kill or advisory else headline, ednote]))
        if story.slugline:
            targets.append(keyword_key(story.slugline))
        if kill and headline and not kill_headline(headline):
            targets.append(headline_key(headline))  # "KILL - <the story's headline>"
    keys = [*story.keys, headline_key(headline), *([keyword_key(story.slugline)] if story.slugline else [])]

    dateline = story.dateline
    if kill or advisory:
        # A notice's text is an instruction to editors, never copy for readers.
        ednote = "\n\n".join(filter(None, (ednote, *paragraphs)))
        paragraphs, dateline = [], None
    elif paragraphs:
        if dateline and not _LETTERS.search(dateline.text):
            dateline = None  # a dateline element holding only a time ("20261125T0910+0000") names no place
        near = story.versioncreated or story.firstcreated
        dateline = dateline or read_dateline(paragraphs[0], near.date() if near else dt.date.today())
        if derived_from_a_note:
            headline = derive_headline(lede_without_dateline(paragraphs[0], dateline))
    return dataclasses.replace(
        story,
        headline=headline,
        paragraphs=paragraphs,
        dateline=dateline,
        ednote=ednote or None,
        by=by,
        version=story.version if story.version is not None else routing.version,
        urgency=story.urgency if story.urgency is not None else routing.urgency,
        signals=signals,
        language=story.language or guess_language(paragraphs),
        correction=correction,
        pubstatus="canceled" if kill else story.pubstatus,
        keys=_unique(keys),
        targets=_unique(targets),
    )


# Words one of which every kill instruction holds, looked for before the slow regex.
_KILL_HINTS = (
    "kill",
    "withdraw",
    "not to ",
    "do not",
    "eliminat",
    "zurück",
    "nicht",
    "ne pas",
    "ne plus",
    "annul",
    "anul",
    "no utiliz",
    "no usar",
    "no publicar",
    "non utiliz",
    "non pubblic",
)


def _may_ask_to_kill(text: str) -> bool:
    lower = text.lower()
    return any(hint in lower for hint in _KILL_HINTS) or "ı" in lower or "\u0307" in lower


# The commonest short words of the wires' languages. Copy in a format with no language field (7901,
# ANPA, plain copy) gets the language whose words it uses most, when that is clear.
_COMMON_WORDS = {
    "en": "the of and to in is that for on was with said by at from it as has have will",
    "de": "der die und das den ist nicht von mit sich des auf für dem ein eine im sagte wird zu",
    "fr": "le la les des et est une dans pour que qui sur du au par pas a été ont",
    "es": "el la los las del que en y por con para una es se su al fue ha según",
    "it": "il di che la le gli della del per con una è sono ha alla nel dei al da",
    "pt": "o a os as do da dos das que em para com uma é não no na foi pelo",
    "nl": "de het een van en in is dat op te met voor niet zijn door werd",
}
_WORDS_OF = {lang: set(words.split()) for lang, words in _COMMON_WORDS.items()}


def guess_language(paragraphs: list[str]) -> str | None:
    # The opening words are enough to tell, and cost the same for a story of any length.
    words = Counter(_LOWER_WORD.findall(" ".join(paragraphs[:3])[:_LANGUAGE_CHARS].lower()))
    (best, lang), (second, _) = sorted(
        ((sum(map(words.__getitem__, common & words.keys())), lang) for lang, common in _WORDS_OF.items()), reverse=True
    )[:2]
    return lang if best >= 5 and best >= 2 * second else None


_LANGUAGE_CHARS = 600
_LOWER_WORD = re.compile(r"[^\W\d_]+")


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))
