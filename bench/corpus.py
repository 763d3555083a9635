"""A fictional wire corpus of any size, for measuring wiredesk as a site grows.

Every story is made up: its words are drawn from invented languages, its places and people are
invented names. The same arguments always give the same files, byte for byte, so a figure
measured at N stories can be measured again.

What it is like, on purpose:
- spread over `days` (two years by default) ending at `end`, in order of first filing;
- a dozen sources, each in one format (ninjs 2.2 JSON or NITF), language and time zone, with the
  length of text its kind of agency files (briefs of a paragraph, reports, long features);
- filed under every section by IPTC Media Topics, with places, so that section, source, topic
  and place pages all fill;
- words of Zipf-like frequency: a few words are in nearly every story (a common-word search),
  most in a handful (a rare-word search: see `COMMON_WORD`, `RARE_WORD`);
- a share of stories sent again as a later version (an update) and a few killed, each after its
  original, as agencies do.
No two stories share enough text to be taken for duplicates.

    python bench/corpus.py 10000 /tmp/wire            # files under /tmp/wire/<source>/<day>/
    python bench/corpus.py 10000 /tmp/wire.tar --tar  # the same, as one tar archive
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import random
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

# (slug, format, language, time zone, paragraphs: fewest and most)
SOURCES = [
    ("northwire", "ninjs", "en", "UTC", (3, 12)),
    ("capital-press", "ninjs", "en", "America/New_York", (4, 20)),
    ("harbour-news", "nitf", "en", "Europe/London", (2, 8)),
    ("nordpress", "ninjs", "de", "Europe/Berlin", (3, 14)),
    ("agence-lumiere", "nitf", "fr", "Europe/Paris", (3, 12)),
    ("prensa-sur", "ninjs", "es", "America/Bogota", (3, 10)),
    ("island-wire", "nitf", "en", "Pacific/Auckland", (1, 4)),
    ("delta-feed", "ninjs", "en", "Asia/Kolkata", (1, 3)),
    ("mountain-post", "ninjs", "de", "Europe/Vienna", (6, 30)),
    ("bay-bulletin", "nitf", "en", "America/Los_Angeles", (2, 6)),
    ("sol-agencia", "ninjs", "es", "Europe/Madrid", (4, 16)),
    ("eastern-desk", "ninjs", "en", "Asia/Tokyo", (2, 9)),
]
# The sections' top-level Media Topics (see src/wiredesk/sections.toml), with each's share.
TOPICS = [
    ("11000000", "politics", 14),
    ("04000000", "economy, business and finance", 14),
    ("15000000", "sport", 16),
    ("01000000", "arts, culture, entertainment and media", 8),
    ("13000000", "science and technology", 5),
    ("07000000", "health", 5),
    ("06000000", "environment", 5),
    ("02000000", "crime, law and justice", 8),
    ("16000000", "conflict, war and peace", 6),
    ("03000000", "disaster, accident and emergency incident", 4),
    ("14000000", "society", 6),
    ("10000000", "lifestyle and leisure", 4),
    ("20000756", "technology and engineering", 4),
]
SYLLABLES = {
    "en": "ba be bo bri ca co da de dri el en fa fo ga gri ha in ka lo ma mo na no pa po ra ri sa so ta to va wo".split(),
    "de": "ach be ber dor ein fel gen hau ber kel lin mar nau rei sch sta tel ung wal zen ber fri gro hei".split(),
    "fr": "ai bon cou dé eau fon gui jou lai mai neu oir pré que rai sou tré van vie ché lle ron".split(),
    "es": "al bar cas dos es fue gar hor la men nue or pla que ra sol tie ver za llo ñu bri".split(),
}
# A word in nearly every story, and one in a few: what bench/scale_read.py searches for.
COMMON_WORD = "wirestory"
RARE_WORD_EVERY = 5_000  # one story in this many carries the rare word
RARE_WORD = "quillotrax"
VOCABULARY = 20_000
UPDATE_SHARE = 0.05
KILL_SHARE = 0.002


@dataclass(frozen=True)
class File:
    path: str  # relative, as it would sit in an agency's folder or archive
    data: bytes


def _words(language: str, rng: random.Random) -> list[str]:
    """An invented vocabulary, most frequent first."""
    syllables, seen, words = SYLLABLES[language], set(), []
    while len(words) < VOCABULARY:
        word = "".join(rng.choice(syllables) for _ in range(rng.choice((1, 2, 2, 3, 3, 4))))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


class _Writer:
    """Sentences for one language, words picked by a Zipf-like law over its vocabulary."""

    def __init__(self, language: str, seed: int):
        rng = random.Random(f"{seed}-{language}")
        self.words = _words(language, rng)
        # Weights 1/rank: cumulative, for random.choices' cum_weights.
        total, self.cumulative = 0.0, []
        for rank in range(1, VOCABULARY + 1):
            total += 1 / rank
            self.cumulative.append(total)

    def sentence(self, rng: random.Random, length: int) -> str:
        words = rng.choices(self.words, cum_weights=self.cumulative, k=length)
        return " ".join(words).capitalize() + "."


def _name(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES["en"]) for _ in range(rng.randint(2, 3))).capitalize()


def _ninjs(story: dict) -> bytes:
    item = {
        "uri": story["uri"],
        "type": "text",
        "version": str(story["version"]),
        "firstcreated": story["firstcreated"],
        "versioncreated": story["versioncreated"],
        "pubstatus": "canceled" if story["killed"] else "usable",
        "language": story["language"],
        "headline": story["headline"],
        "byline": story["byline"],
        "located": story["place"],
        "subject": [
            {"name": story["topic_name"], "uri": f"http://cv.iptc.org/newscodes/mediatopic/{story['topic']}"},
        ],
        "keywords": [story["theme"]],
        "body_html": "".join(f"<p>{escape(p)}</p>" for p in story["paragraphs"]),
    }
    return json.dumps(item, ensure_ascii=False, indent=1).encode()


def _nitf(story: dict) -> bytes:
    status = ' management-status="canceled"' if story["killed"] else ""
    paragraphs = "".join(f"<p>{escape(p)}</p>" for p in story["paragraphs"])
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<nitf><head><title>{escape(story['headline'])}</title>"
        f'<tobject><tobject.subject tobject.subject.refnum="{story["topic"]}"/></tobject>'
        f"<docdata{status}><key-list><keyword key={quoteattr(story['theme'])}/></key-list><doc-id id-string={quoteattr(story['uri'])}/>"
        f'<du-key version="{story["version"]}" key={quoteattr(story["uri"])}/>'
        f'<date.issue norm="{story["versioncreated"]}"/></docdata></head>'
        f"<body><body.head><hedline><hl1>{escape(story['headline'])}</hl1></hedline>"
        f"<byline>{escape(story['byline'])}</byline>"
        f"<dateline><location><city>{escape(story['place'])}</city></location></dateline></body.head>"
        f"<body.content>{paragraphs}</body.content></body></nitf>\n"
    ).encode()


def stories(n: int, *, seed: int = 15, end: dt.datetime | None = None, days: int = 730) -> Iterator[File]:
    """`n` files of fictional copy, in the order an agency would send them."""
    end = end or dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    rng = random.Random(seed)
    writers = {language: _Writer(language, seed) for language in SYLLABLES}
    places = [_name(rng) for _ in range(400)]
    themes = [f"{_name(rng)} {_name(rng)}" for _ in range(300)]
    topic_weights = [weight for _, _, weight in TOPICS]
    span = dt.timedelta(days=days).total_seconds()
    start = end - dt.timedelta(seconds=span)
    # Originals spread evenly over the span; the updates and kills among the n files follow them.
    expected = max(1.0, n / (1 + UPDATE_SHARE + KILL_SHARE))
    # First filings in time order; an update or kill follows its original within hours, so it
    # waits in `later` until the clock of the stream passes it.
    later: list[tuple[float, int, dict]] = []
    originals = 0
    made = 0
    while made < n:
        at = span * originals / expected
        while later and later[0][0] <= at and made < n:
            _, _, story = later.pop(0)
            yield _file(story)
            made += 1
        if made >= n:
            break
        story = _original(originals, at, rng, writers, places, themes, topic_weights, start)
        originals += 1
        yield _file(story)
        made += 1
        roll = rng.random()
        if roll < UPDATE_SHARE + KILL_SHARE:
            delay = rng.uniform(600, 6 * 3600)
            follow = dict(story, version=2, killed=roll < KILL_SHARE)
            follow["versioncreated"] = _stamp(
                dt.datetime.fromisoformat(story["firstcreated"]) + dt.timedelta(seconds=delay)
            )
            if not follow["killed"]:
                follow["paragraphs"] = story["paragraphs"] + [writers[story["language"]].sentence(rng, 18)]
            later.append((at + delay, originals, follow))
            later.sort(key=lambda entry: entry[:2])


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _original(number, at, rng, writers, places, themes, topic_weights, start) -> dict:
    slug, kind, language, _zone, (fewest, most) = SOURCES[
        number % len(SOURCES) if rng.random() < 0.5 else rng.randrange(len(SOURCES))
    ]
    writer = writers[language]
    topic, topic_name, _ = rng.choices(TOPICS, weights=topic_weights)[0]
    place = rng.choice(places)
    paragraphs = [writer.sentence(rng, rng.randint(14, 32)) for _ in range(rng.randint(fewest, most))]
    # Distinct by construction: the story's number, spelt in its own words, opens its text.
    paragraphs[0] = f"{place.upper()} - {COMMON_WORD} {number} {paragraphs[0]}"
    if number % RARE_WORD_EVERY == 0:
        paragraphs[-1] += f" {RARE_WORD}."
    moment = start + dt.timedelta(seconds=at)
    return {
        "source": slug,
        "kind": kind,
        "uri": f"urn:wiredesk-bench:{slug}:{number}",
        "version": 1,
        "killed": False,
        "language": language,
        "headline": f"{place} {writer.sentence(rng, rng.randint(5, 10))[:-1]} ({number})",
        "byline": f"{_name(rng)} {_name(rng)}",
        "place": place,
        "topic": topic,
        "topic_name": topic_name,
        "theme": rng.choice(themes),
        "firstcreated": _stamp(moment),
        "versioncreated": _stamp(moment),
        "paragraphs": paragraphs,
    }


def _file(story: dict) -> File:
    day = story["firstcreated"][:10].replace("-", "/")
    number = story["uri"].rsplit(":", 1)[1]
    if story["kind"] == "ninjs":
        data, suffix = _ninjs(story), "json"
    else:
        data, suffix = _nitf(story), "xml"
    return File(f"{story['source']}/{day}/{number}-v{story['version']}.{suffix}", data)


def write(files: Iterator[File], target: Path, *, tar: bool = False) -> int:
    """Write the files under a folder, or into one tar archive; returns how many."""
    count = 0
    if tar:
        with tarfile.open(target, "w") as archive:
            for file in files:
                info = tarfile.TarInfo(file.path)
                info.size, info.mtime = len(file.data), 0
                archive.addfile(info, io.BytesIO(file.data))
                count += 1
        return count
    for file in files:
        path = target / file.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(file.data)
        count += 1
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", type=int, help="how many files (stories, updates and kills)")
    parser.add_argument("target", type=Path, help="a folder, or with --tar an archive to write")
    parser.add_argument("--tar", action="store_true")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--days", type=int, default=730)
    args = parser.parse_args()
    count = write(stories(args.n, seed=args.seed, days=args.days), args.target, tar=args.tar)
    print(f"{count} files in {args.target}")


if __name__ == "__main__":
    main()
