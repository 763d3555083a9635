"""The static tree at scale: one pass for one change, and the whole tree, on a loaded data folder.

Issue 15's targets: a tree pass for one change bounded by the pages that change, not by the
number of stories; the whole-tree rebuild (`wiredesk render`) linear in it. Load a data folder
with N stories (bench/corpus.py through the pipeline, or a bulk path), then

    python bench/scale_tree.py --data DIR [--runs 5] [--render-sample 2000] [--json]

It works on a copy of the folder's SQLite database (with DATABASE_URL, on that database itself,
which it changes: use a throwaway one) and a tree of its own, both removed at the end. First the whole tree is rendered, all of it or its first `--render-sample` articles
(a rebuild stopped there, as a kill stops one: its rate is what matters, the rest of the tree is
not needed for the passes). Then each change is made as the desk makes it, with no renderer
following, so the committing process runs the pass, which is timed: a new story (through the
pipeline, published at once), a kill of an old story (on no listing's first page, out of the
news sitemap's window), and a kill of the newest story. The first new story after the rebuild is
reported apart: its pass looks through the articles of its section once, which later passes
know from the tree's state (and after a stopped rebuild, which never reached the listings, it
renders every listing too).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path


class _Enough(Exception):
    pass


def _setup(data: str, work: Path) -> None:
    os.environ["WIREDESK_STATIC_TREE"] = str(work / "site")
    if not os.environ.get("DATABASE_URL"):
        copy = work / "data"
        copy.mkdir()
        for name in ("wiredesk.sqlite3", "secret_key", "sources.toml", "sections.toml"):
            if (Path(data) / name).exists():
                shutil.copy2(Path(data) / name, copy / name)
        data = str(copy)
    os.environ["WIREDESK_DATA"] = str(Path(data).resolve())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wiredesk.config.settings")
    os.environ.setdefault("WIREDESK_LOG_LEVEL", "WARNING")
    import django

    django.setup()


def render(sample: int | None) -> dict:
    """`wiredesk render`'s rebuild, whole or stopped after `sample` articles: articles a second."""
    from wiredesk.models import Story
    from wiredesk.publish import static

    total = Story.objects.visible().count()
    done = 0

    def progress(articles: int, _total: int) -> None:
        nonlocal done
        done = articles
        if sample and articles >= sample:
            raise _Enough

    start, cpu = time.perf_counter(), time.process_time()
    try:
        static.rebuild(progress)
        whole = True
    except _Enough:
        whole = False
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {
        "stories": total,
        "articles": done,
        "whole": whole,
        "seconds": seconds,
        "per_second": done / seconds,
        "per_cpu_second": done / cpu,
    }


def passes(runs: int) -> list[dict]:
    """Each change made `runs` times, its pass timed: seconds, pages rendered, files written."""
    import datetime as dt

    from django.utils import timezone

    from wiredesk.desk import actions, pipeline
    from wiredesk.models import Story
    from wiredesk.publish.static import plan

    timed: list[tuple[float, float, int, int]] = []
    real_run, real_get = plan.Pass.run, plan._Site.get
    asked = 0

    def run(self, story_ids):
        nonlocal asked
        asked, start, cpu = 0, time.perf_counter(), time.process_time()
        real_run(self, story_ids)
        timed.append((time.perf_counter() - start, time.process_time() - cpu, asked, len(self.changed)))

    def get(self, path):
        nonlocal asked
        asked += 1
        return real_get(self, path)

    plan.Pass.run, plan._Site.get = run, get
    serial = iter(range(10**9))

    def new_story():
        n = next(serial)
        # Words of its own, or the desk takes it for a copy of the one before.
        words = " ".join(hashlib.sha1(f"scale-tree {n} {k}".encode()).hexdigest()[:10] for k in range(40))
        data = json.dumps(
            {
                "uri": f"urn:bench:scale-tree:{time.time_ns()}",
                "headline": f"Harbour board meets for the {n}th time",
                "body_text": f"PORT SALVIN (HP) - The board met again. {words}.",
                "language": "en",
                "subject": [{"name": "News", "literal": "category:News"}],
            }
        ).encode()
        delivery = pipeline.receive(data, source="hp", transport="cli")
        pipeline.process(delivery.pk, again=delivery.again)

    def old_kill():
        old = timezone.now() - dt.timedelta(days=30)
        story = Story.objects.visible().filter(published_at__lt=old).order_by("-pk").first()
        actions.kill(story, "scale_tree bench")

    def newest_kill():
        actions.kill(Story.objects.visible().order_by("-published_at", "-pk").first(), "scale_tree bench")

    rows = []
    for label, change, times in (
        # Once: the first pass after a rebuild looks through the articles of the story's section.
        ("new story, first after the rebuild", new_story, 1),
        ("new story", new_story, runs),
        ("kill, old story", old_kill, runs),
        ("kill, newest story", newest_kill, runs),
    ):
        timed.clear()
        for _ in range(times):
            change()
        rows.append(
            {
                "change": label,
                "median_ms": statistics.median(t for t, _, _, _ in timed) * 1000,
                "max_ms": max(t for t, _, _, _ in timed) * 1000,
                "median_cpu_ms": statistics.median(c for _, c, _, _ in timed) * 1000,
                "rendered": statistics.median(r for _, _, r, _ in timed),
                "written": statistics.median(w for _, _, _, w in timed),
                "passes": len(timed),
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="the loaded data folder")
    parser.add_argument("--runs", type=int, default=5, help="passes timed for each change")
    parser.add_argument(
        "--render-sample", type=int, help="stop the whole-tree render after this many articles (0: no render)"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="scale-tree-"))
    try:
        _setup(args.data, work)
        from wiredesk.models import Story

        stories = Story.objects.count()
        rendered = render(args.render_sample) if args.render_sample != 0 else None
        rows = passes(args.runs)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps({"stories": stories, "render": rendered, "passes": rows}))
        return
    database = "PostgreSQL" if os.environ.get("DATABASE_URL") else "SQLite"
    print(f"stories: {stories:,} ({database}, {os.cpu_count()} cores)")
    if rendered:
        print(
            f"wiredesk render: {rendered['articles']:,} of {rendered['stories']:,} articles in "
            f"{rendered['seconds']:.1f} s, {rendered['per_second']:.0f} a second, "
            f"{rendered['per_cpu_second']:.0f} a CPU second ({'whole tree' if rendered['whole'] else 'stopped there'})"
        )
    print(
        f"{'one change, its pass':<34} {'median ms':>10} {'max ms':>8} {'CPU ms':>8} "
        f"{'pages rendered':>15} {'files written':>14}"
    )
    for row in rows:
        print(
            f"{row['change']:<34} {row['median_ms']:>10.0f} {row['max_ms']:>8.0f} {row['median_cpu_ms']:>8.0f} "
            f"{row['rendered']:>15.0f} {row['written']:>14.0f}"
        )


if __name__ == "__main__":
    sys.exit(main())
