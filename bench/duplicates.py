"""Where to draw the near-duplicate line: shingle overlap of copy that should count as the same
story, next to copy that must not.

Same story: every story text in the corpus and the demo wire, changed the ways agencies refile
(a corrected word, a changed time element, an added paragraph, a new top paragraph), and dpa's
stories in their three formats. Not the same: every pair of different corpus stories, fictional
pairs of two agencies covering one event (tests/fixtures/duplicates), and pairs of different
stories that share background paragraphs, as agencies reuse them every day (each a lede of its
own, or three paragraphs of its own, then the same two or three paragraphs of a third story).

Two columns judge each kind of pair: the overlap alone (">= thr."), and the desk's whole rule
(`duplicates.same_story`: the overlap, and the same opening or one text holding the other). Refiled
copy is judged under a new headline, the hardest case for the rule.

    python bench/duplicates.py
"""

import itertools
import os
import random
import re
import statistics
from pathlib import Path

from wiredesk import formats
from wiredesk.lifecycle import duplicates

REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("WIREDESK_CORPUS") or REPO.parent / "shared" / "corpus")
NEW_PARAGRAPH = "The agency will update this story as more information becomes available from officials at the scene."


def texts() -> list[list[str]]:
    found, seen = [], set()
    for path in sorted([*CORPUS.rglob("*"), *(REPO / "src" / "wiredesk" / "demo" / "wire").glob("*")]):
        if not path.is_file() or "duplicates" in path.parts:
            continue
        try:
            stories = formats.parse(path.read_bytes())
        except (formats.FormatError, OSError):
            continue
        for story in stories:
            key = duplicates.shingles(story.paragraphs)
            if len(key) >= 10 and key not in seen:
                seen.add(key)
                found.append(story.paragraphs)
    return found


def refiles(paragraphs: list[str], rng: random.Random) -> dict[str, list[str]]:
    words = " ".join(paragraphs).split()
    changed = list(paragraphs)
    i = rng.randrange(len(changed))
    fixed = changed[i].split()
    fixed[rng.randrange(len(fixed))] = "corrected"
    changed[i] = " ".join(fixed)
    return {
        "one word corrected": changed,
        "time element changed": [
            re.sub(
                r"\b(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|"
                r"Montag|Dienstag|Mittwoch|Donnerstag|Freitag|Samstag|Sonntag)\b",
                "today",
                p,
            )
            for p in paragraphs
        ]
        if any(re.search(r"day\b|tag\b", p) for p in paragraphs)
        else changed,
        "paragraph added": [*paragraphs, NEW_PARAGRAPH],
        "new lede, no update signal": [NEW_PARAGRAPH, *paragraphs[1:]]
        if len(words) > 120
        else [NEW_PARAGRAPH, *paragraphs],
    }


def dpa_renderings() -> list[tuple[duplicates.Text, duplicates.Text]]:
    pairs = []
    for pair in ("dpa-digitalwires-to-iptc7901", "dpa-digitalwires-to-newsmlg2"):
        folder = CORPUS / "agency-samples" / pair
        for source in sorted((folder / "input").glob("*.json")):
            [rendered] = [p for p in (folder / "output").glob(source.stem + ".*")] or [None]
            try:
                a = formats.parse(source.read_bytes())[0]
                b = formats.parse(rendered.read_bytes())[0]
            except (formats.FormatError, AttributeError, IndexError):
                continue
            pairs.append((text(a.paragraphs, a.headline), text(b.paragraphs, b.headline)))
    return pairs


def same_event_pairs() -> list[tuple[duplicates.Text, duplicates.Text]]:
    folder = REPO / "tests" / "fixtures" / "duplicates"
    events = {}
    for path in sorted(folder.glob("same-event-*.txt")):
        story = formats.parse(path.read_bytes())[0]
        events.setdefault(path.stem.rsplit("-", 1)[0], []).append(text(story.paragraphs, story.headline))
    return [tuple(pair) for pair in events.values()]


def shared_background(stories: list[list[str]], rng: random.Random, own: int, shared: int):
    """Pairs of different stories, each with `own` paragraphs of its own, then the same `shared`
    paragraphs of a third."""
    long = [s for s in stories if len(s) >= max(own, shared) + 1]
    pairs = []
    for _ in range(300):
        a, b, c = rng.sample(long, 3)
        background = c[1 : 1 + shared]
        pairs.append((text([*a[:own], *background], "a"), text([*b[:own], *background], "b")))
    return pairs


def text(paragraphs: list[str], headline: str) -> duplicates.Text:
    return duplicates.Text.of(headline, paragraphs)


def line(name: str, pairs: list[tuple[duplicates.Text, duplicates.Text]]) -> None:
    scores = [duplicates.similarity(a.shingles, b.shingles) for a, b in pairs]
    same = sum(duplicates.same_story(a, b) for a, b in pairs)
    print(
        f"{name:<40}{len(scores):>7}{min(scores):>8.2f}{statistics.median(scores):>8.2f}{max(scores):>8.2f}"
        f"{sum(s >= duplicates.THRESHOLD for s in scores) / len(scores):>10.1%}{same / len(pairs):>12.1%}"
    )


def main() -> None:
    rng = random.Random(1)
    stories = texts()
    print(
        f"shingles of {duplicates.SHINGLE_WORDS} words; threshold {duplicates.THRESHOLD}; {len(stories)} distinct texts\n"
    )
    print(f"{'pairs':<40}{'count':>7}{'min':>8}{'median':>8}{'max':>8}{'>= thr.':>10}{'same story':>12}")
    variants: dict[str, list] = {}
    for paragraphs in stories:
        original = text(paragraphs, "the first headline")
        for kind, changed in refiles(paragraphs, rng).items():
            variants.setdefault(kind, []).append((original, text(changed, "a new headline")))
    for kind, pairs in variants.items():
        line(f"same story, {kind}", pairs)
    line("same story, dpa JSON vs 7901/G2", dpa_renderings())
    line("same event, two agencies", same_event_pairs())
    line("different, own lede + 2 shared", shared_background(stories, rng, 1, 2))
    line("different, own lede + 3 shared", shared_background(stories, rng, 1, 3))
    line("different, 3 own + 2 shared", shared_background(stories, rng, 3, 2))
    # The corpus holds a few stories twice (one AP story in two samples, the seed in two files):
    # pairs whose first 60 characters agree are the same story, not two.
    same, different = [], []
    for a, b in itertools.combinations(stories, 2):
        (same if a[0][:60] == b[0][:60] else different).append((text(a, "a"), text(b, "b")))
    line("same story, twice in the corpus", same)
    line("different stories (every pair)", different)


if __name__ == "__main__":
    main()
