"""Read costs at scale: every page of the site rendered afresh, and search, on a loaded database.

Issue 15's target: from 10k to 1M stories, on SQLite and on PostgreSQL, every page rendered
afresh within 1.5x of its 10k time and under 50 ms, and search p95 under 100 ms for common and
rare words. This bench times one database as it is: load one (the data folder's SQLite, or
DATABASE_URL's PostgreSQL) with `bench/corpus.py` or the pipeline, then

    python bench/scale_read.py --data DIR [--runs 9] [--search-runs 21] [--common W --rare W] [--json]

and compare the tables of two sizes side by side. Each page is asked through Django's whole
stack (middleware, URL routing, templates) with the kept pages emptied before every request, so
each time is a page rendered afresh; the first request of each page is a warm-up and is not
counted. Every page must answer 200 (or the bench stops and says which did not).

Which section, source, topic, place, day and article are asked is read from the database: the
newest visible story's, so that every listing is a full one (and the oldest story's article);
search asks bench/corpus.py's common and rare words, or those named with --common and --rare.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path


def _setup(data: str | None) -> None:
    if data:
        os.environ["WIREDESK_DATA"] = str(Path(data).resolve())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wiredesk.config.settings")
    import django

    django.setup()


def pages() -> list[tuple[str, str]]:
    """(label, URL) of every page the target names, chosen from what the database holds."""
    from django.utils import timezone

    from wiredesk.models import Story, StoryTopic
    from wiredesk.publish import queries

    newest = queries.live_stories().select_related("current").first()
    if newest is None:
        sys.exit("no visible story: load the database first")
    topic = StoryTopic.objects.filter(story=newest, kind="topic").values_list("slug", flat=True).first()
    place = StoryTopic.objects.filter(story=newest, kind="place").values_list("slug", flat=True).first()
    day = timezone.localtime(newest.published_at)
    oldest = Story.objects.visible().order_by("published_at", "pk").first()
    listed = [
        ("home", "/"),
        ("section front", f"/section/{newest.section}/"),
        ("source front", f"/source/{newest.source.slug}/"),
        ("latest, page 2", "/latest/?page=2"),
        ("latest, last page", "/latest/?page=100000"),
        ("section, last page", f"/section/{newest.section}/?page=100000"),
        ("archive", "/archive/"),
        ("archive, last page", "/archive/?page=100000"),
        ("archive day", f"/archive/{day:%Y/%m/%d}/"),
        ("article, newest", newest.get_absolute_url()),
        ("article, oldest", oldest.get_absolute_url()),
        ("feed, RSS", "/feeds/rss.xml"),
        ("feed, section Atom", f"/section/{newest.section}/atom.xml"),
        ("feed, source JSON", f"/source/{newest.source.slug}/feed.json"),
        ("sitemap index", "/sitemap.xml"),
        ("sitemap, fronts", "/sitemaps/fronts.xml"),
        ("sitemap, articles first page", "/sitemaps/articles.xml"),
        ("sitemap, articles last page", "/sitemaps/articles.xml?p=LAST"),
        ("news sitemap", "/sitemaps/news.xml"),
    ]
    if topic:
        listed[4:4] = [("topic front", f"/topic/{topic}/"), ("feed, topic RSS", f"/topic/{topic}/rss.xml")]
    if place:
        listed[4:4] = [("place front", f"/place/{place}/")]
    return listed


def search_words(common: str | None, rare: str | None) -> list[tuple[str, str]]:
    """Searches for a common and a rare word: those given, else bench/corpus.py's (a word in
    nearly every story, and one in one story in 5,000)."""
    if not (common and rare):
        sys.path.insert(0, str(Path(__file__).parent))
        import corpus

        common, rare = common or corpus.COMMON_WORD, rare or corpus.RARE_WORD
    return [("search, common word", f"/search/?q={common}"), ("search, rare word", f"/search/?q={rare}")]


def _last_sitemap_page(client, host: str) -> int:
    import re

    index = client.get("/sitemap.xml", HTTP_HOST=host).content.decode()
    numbers = [int(n) for n in re.findall(r"articles\.xml\?p=(\d+)", index)]
    return max(numbers, default=1)


def time_pages(cases, runs: int) -> list[dict]:
    from django.core.cache import caches
    from django.test import Client

    client = Client()
    host = "localhost"
    rows = []
    for label, url in cases:
        if "p=LAST" in url:
            url = url.replace("LAST", str(_last_sitemap_page(client, host)))
        times = []
        for run in range(runs + 1):
            caches["pages"].clear()
            start = time.perf_counter()
            response = client.get(url, HTTP_HOST=host)
            elapsed = time.perf_counter() - start
            if response.status_code != 200:
                sys.exit(f"{label}: {url} answered {response.status_code}")
            if run:  # the first is a warm-up
                times.append(elapsed * 1000)
        times.sort()
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        rows.append({"page": label, "url": url, "median_ms": statistics.median(times), "p95_ms": p95, "runs": runs})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="the data folder (default: $WIREDESK_DATA); PostgreSQL: set DATABASE_URL")
    parser.add_argument("--runs", type=int, default=9, help="timed runs per page")
    parser.add_argument("--search-runs", type=int, default=21, help="timed runs per search")
    parser.add_argument("--common", help="a word most stories hold (default: corpus.py's)")
    parser.add_argument("--rare", help="a word few stories hold (default: corpus.py's)")
    parser.add_argument("--json", action="store_true", help="one JSON object per page instead of a table")
    args = parser.parse_args()
    _setup(args.data)
    from django.db import connection

    from wiredesk.models import Story

    rows = time_pages(pages(), args.runs) + time_pages(search_words(args.common, args.rare), args.search_runs)
    stories = Story.objects.visible().count()
    if args.json:
        for row in rows:
            print(json.dumps({**row, "visible_stories": stories, "database": connection.vendor}))
        return
    print(f"{connection.vendor}, {stories:,} visible stories; each page rendered afresh")
    print(f"{'page':32} {'median ms':>10} {'p95 ms':>8}  url")
    for row in rows:
        print(f"{row['page']:32} {row['median_ms']:10.1f} {row['p95_ms']:8.1f}  {row['url']}")


if __name__ == "__main__":
    main()
