"""Where to draw the near-duplicate line: shingle overlap of copy that should count as the same
story, next to copy that must not.

Same story: every story text in the corpus and the demo wire, changed the ways agencies refile
(a corrected word, a changed time element, an added paragraph, a new top paragraph), and dpa's
stories in their three formats. Not the same: every pair of different corpus stories, and
fictional pairs of two agencies covering one event (tests/fixtures/duplicates).

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
        "time element changed": [re.sub(r"\b(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|"
                                         r"Montag|Dienstag|Mittwoch|Donnerstag|Freitag|Samstag|Sonntag)\b",
                                         "today", p) for p in paragraphs] if any(
            re.search(r"day\b|tag\b", p) for p in paragraphs) else changed,
        "paragraph added": [*paragraphs, NEW_PARAGRAPH],
        "new top paragraph": [NEW_PARAGRAPH, *paragraphs[1:]] if len(words) > 120 else [NEW_PARAGRAPH, *paragraphs],
    }


def dpa_renderings() -> list[float]:
    scores = []
    for pair in ("dpa-digitalwires-to-iptc7901", "dpa-digitalwires-to-newsmlg2"):
        folder = CORPUS / "agency-samples" / pair
        for source in sorted((folder / "input").glob("*.json")):
            [rendered] = [p for p in (folder / "output").glob(source.stem + ".*")] or [None]
            try:
                a = formats.parse(source.read_bytes())[0].paragraphs
                b = formats.parse(rendered.read_bytes())[0].paragraphs
            except (formats.FormatError, AttributeError, IndexError):
                continue
            scores.append(duplicates.similarity(duplicates.shingles(a), duplicates.shingles(b)))
    return scores


def same_event_pairs() -> list[float]:
    folder = REPO / "tests" / "fixtures" / "duplicates"
    events = {}
    for path in sorted(folder.glob("same-event-*.txt")):
        events.setdefault(path.stem.rsplit("-", 1)[0], []).append(formats.parse(path.read_bytes())[0].paragraphs)
    return [duplicates.similarity(duplicates.shingles(a), duplicates.shingles(b)) for a, b in events.values()]


def line(name: str, scores: list[float]) -> None:
    print(f"{name:<34}{len(scores):>7}{min(scores):>8.2f}{statistics.median(scores):>8.2f}{max(scores):>8.2f}"
          f"{sum(s >= duplicates.THRESHOLD for s in scores) / len(scores):>10.1%}")


def main() -> None:
    rng = random.Random(1)
    stories = texts()
    print(f"shingles of {duplicates.SHINGLE_WORDS} words; threshold {duplicates.THRESHOLD}; {len(stories)} distinct texts\n")
    print(f"{'pairs':<34}{'count':>7}{'min':>8}{'median':>8}{'max':>8}{'>= thr.':>10}")
    variants: dict[str, list[float]] = {}
    for paragraphs in stories:
        original = duplicates.shingles(paragraphs)
        for kind, changed in refiles(paragraphs, rng).items():
            variants.setdefault(kind, []).append(duplicates.similarity(original, duplicates.shingles(changed)))
    for kind, scores in variants.items():
        line(f"same story, {kind}", scores)
    line("same story, dpa JSON vs 7901/G2", dpa_renderings())
    line("same event, two agencies", same_event_pairs())
    # The corpus holds a few stories twice (one AP story in two samples, the seed in two files):
    # pairs whose first 60 characters agree are the same story, not two.
    same, different = [], []
    for a, b in itertools.combinations(stories, 2):
        score = duplicates.similarity(duplicates.shingles(a), duplicates.shingles(b))
        (same if a[0][:60] == b[0][:60] else different).append(score)
    line("same story, twice in the corpus", same)
    line("different stories (every pair)", different)


if __name__ == "__main__":
    main()
