"""Is this text already on the site under another id?

Agencies refile stories under new ids and the same copy arrives through two feeds, each time
with small differences (a fixed typo, a changed time element, a paragraph added). Comparing word
shingles tolerates that; exact comparison would not. Finding candidates must not mean reading
every story, so each text gets a MinHash signature cut into bands (locality-sensitive hashing):
stories that share a band are candidates, and the exact shingle overlap decides.

THRESHOLD comes from `bench/duplicates.py`, which measures the overlap of refiled copy and of
different stories on the same subject (see the README).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from datasketch import MinHash

SHINGLE_WORDS = 5
# Measured (bench/duplicates.py, 49 distinct corpus and demo texts): refiled copy with a word
# corrected, a time element changed or a paragraph added overlaps 0.56-1.00 (median 0.94-0.96);
# a new top paragraph 0.82 at the median; dpa's JSON against its 7901 and G2 renderings 1.00.
# Different stories never passed 0.20, and two agencies writing up one event scored 0.00. 0.5
# sits well clear of both.
THRESHOLD = 0.5
# 42 bands of 3 rows: texts overlapping 0.5 share a band with probability 1 - (1 - 0.5**3)**42
# = 0.996; at 0.1 only 4 pairs in 100 become candidates, and the exact overlap rules those out.
BANDS, ROWS = 42, 3
# How long a text stays filed under its bands. Refiled copy and a second feed's copy of a story
# come within hours or days of the first; keeping every story's 42 bands for ever would make the
# band table the largest in the database (42 rows a story: 42 million at a million stories).
# Copy repeated after longer is published again, unless its id (or a name it goes by) finds it.
WINDOW_DAYS = 30
# One text holding this much of another's shingles holds all of it, give or take a corrected word:
# the later is the earlier with more added.
CONTAINED = 0.9

_WORD = re.compile(r"\w+")
# Drawn from the seed each time a MinHash is made unless given: the same every time, so drawn once.
_TEMPLATE = MinHash(num_perm=BANDS * ROWS, seed=1)


def shingles(paragraphs: Iterable[str]) -> frozenset[str]:
    """Overlapping runs of words, case and punctuation ignored."""
    words = _WORD.findall(" ".join(paragraphs).casefold())
    if len(words) <= SHINGLE_WORDS:
        return frozenset([" ".join(words)]) if words else frozenset()
    return frozenset(" ".join(words[i : i + SHINGLE_WORDS]) for i in range(len(words) - SHINGLE_WORDS + 1))


def bands(text: frozenset[str]) -> list[str]:
    """The keys under which a text is filed; texts sharing one are candidates."""
    minhash = MinHash(num_perm=BANDS * ROWS, seed=1, permutations=_TEMPLATE.permutations, scheme=_TEMPLATE.scheme)
    minhash.update_batch([s.encode() for s in text])
    values = minhash.hashvalues
    return [
        f"{band}:{hashlib.blake2b(values[band * ROWS : (band + 1) * ROWS].tobytes(), digest_size=8).hexdigest()}"
        for band in range(BANDS)
    ]


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Jaccard overlap of two shingle sets: 1.0 is the same text."""
    return len(a & b) / len(a | b) if a and b else 0.0


def containment(part: frozenset[str], whole: frozenset[str]) -> float:
    """How much of `part` is in `whole`: 1.0 when all of it is."""
    return len(part & whole) / len(part) if part and whole else 0.0


def is_duplicate(a: frozenset[str], b: frozenset[str]) -> bool:
    return similarity(a, b) >= THRESHOLD


def same_story(a: Text, b: Text) -> bool:
    """Whether two texts are one story: they overlap enough, and they open alike (the same
    headline or lede). Agencies reuse background paragraphs every day: two stories that share them
    but open differently are two stories."""
    return is_duplicate(a.shingles, b.shingles) and (
        a.headline == b.headline or similarity(a.lede, b.lede) >= THRESHOLD
    )


def carries_more(later: Text, earlier: Text) -> bool:
    """The later text holds all of the earlier one, and more."""
    return len(later.shingles) > len(earlier.shingles) and containment(earlier.shingles, later.shingles) >= CONTAINED


# Copy that says it updates a story may rewrite its lede and headline: it still shares some text,
# or most of the headline's words, with the story it updates.
UPDATE_OVERLAP, UPDATE_HEADLINE = 0.2, 0.6


def update_score(later: Text, earlier: Text) -> float:
    """How well copy that says it is an update fits an earlier story; 0 when it does not."""
    text = similarity(later.shingles, earlier.shingles)
    words = [set(_WORD.findall(t.headline)) for t in (later, earlier)]
    headline = len(words[0] & words[1]) / min(len(words[0]), len(words[1])) if all(words) else 0.0
    return text + headline if text >= UPDATE_OVERLAP or (headline >= UPDATE_HEADLINE and text > 0) else 0.0


@dataclass(frozen=True)
class Text:
    """What the duplicate rules compare of a story."""

    shingles: frozenset[str]
    lede: frozenset[str]
    headline: str

    @classmethod
    def of(cls, headline: str, paragraphs: list[str]) -> Text:
        return cls(shingles(paragraphs), shingles(paragraphs[:1]), " ".join(headline.casefold().split()))
