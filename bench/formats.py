"""Stories per second per format, next to the time the bare parser takes on the same bytes.

For every corpus and fixture file a format reads, parse it many times with wiredesk and with
the bare parser alone (lxml for XML, json for JSON, a bytes decode for wire text), in one run,
side by side. The ratio is what matters: machines differ, ratios much less.

    python bench/formats.py [--seconds 1.0] [--only nitf]
"""

import argparse
import json
import logging
import os
import time
from collections import defaultdict
from pathlib import Path

from lxml import etree

from wiredesk import formats

REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("WIREDESK_CORPUS") or REPO.parent / "shared" / "corpus")
RAW = {
    "xml": lambda data: etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True)),
    "json": lambda data: json.loads(data.decode("utf-8-sig", "replace")),
    "text": lambda data: data.decode("latin-1"),
}


def raw_kind(data: bytes) -> str:
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    return "xml" if head == b"<" else "json" if head in (b"{", b"[") else "text"


def timed(fn, seconds: float) -> float:
    """Calls per second of fn over at least `seconds`."""
    n, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(20):
            fn()
        n += 20
    return n / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=0.3, help="time per file and parser")
    parser.add_argument("--only", metavar="FORMAT", action="append", help="measure only this format (repeatable)")
    args = parser.parse_args()
    # Edge-case fixtures warn by design (an entry with no id); once per parse would bury the table.
    logging.disable(logging.WARNING)

    samples = defaultdict(list)
    for path in sorted([*CORPUS.rglob("*"), *(REPO / "tests" / "fixtures").rglob("*")]):
        # Hostile inputs (tests/fixtures/hostile) are there to be refused, not to be timed.
        if not path.is_file() or path.stat().st_size > 2_000_000 or "hostile" in path.parts:
            continue
        data = path.read_bytes()
        try:
            name = formats.detect(data)
            stories = formats.parse(data)
        except formats.FormatError:
            continue
        if stories and (not args.only or name in args.only):
            samples[name].append((data, len(stories)))

    print(f"{'format':<14}{'files':>6}{'stories/s':>12}{'bare parse/s':>14}{'ratio':>8}")
    for name, files in sorted(samples.items()):
        ours = bare = 0.0
        for data, count in files:
            # Per file: seconds per story with wiredesk, seconds per same bytes with the bare parser.
            ours += 1 / (timed(lambda: formats.parse(data, format=name), args.seconds) * count)
            bare += 1 / (timed(lambda: RAW[raw_kind(data)](data), args.seconds) * count)
        stories = len(files) / ours if ours else 0
        print(f"{name:<14}{len(files):>6}{stories:>12,.0f}{len(files) / bare:>14,.0f}{bare / ours:>8.0%}")


if __name__ == "__main__":
    main()
