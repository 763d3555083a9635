"""Ingest at scale: `wiredesk import` loading N stories, then the live pipeline on top of them.

For each N, on the database this runs against (a data folder of SQLite in /tmp; PostgreSQL when
DATABASE_URL names one, e.g. under `python scripts/with_postgres.py -- python bench/scale_ingest.py`):
1. `wiredesk import --source-folders` of the first N files of bench/corpus.py's fictional wire
   (ninjs and NITF of a dozen sources, updates and kills after their originals), in a process of
   its own: its own summary's rate (storing and processing; the static tree is left to a
   renderer, which this bench stands in for by holding the follower lock, as `wiredesk run`'s does).
2. The live pipeline, with the N stories in the database, on M further files of the same wire:
   - backlog: the M files dropped into the inbox at once, taken (stored) and drained by the
     workers' task (pipeline.process_waiting), the way a desk empties a folder left for a weekend;
   - trickle: M more, each stored and processed before the next arrives (no backlog to share a
     transaction with).
Prints stories/s (wall clock) and CPU milliseconds a story (this process's, or the import's
children's), since the machines these run on are shared: the CPU figure is the steadier one.

    python bench/scale_ingest.py [--sizes 1000,10000] [--live 300] [--keep]
"""

from __future__ import annotations

import argparse
import datetime as dt
import fcntl
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import corpus  # noqa: E402

WIREDESK = str(Path(sys.executable).parent / "wiredesk")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(n: int, live: int, root: Path) -> dict:
    data, wire = root / f"data-{n}", root / f"wire-{n}"
    files = list(corpus.stories(n + 2 * live))
    corpus.write(iter(files[:n]), wire)
    _django(data)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)  # PostgreSQL: the run before's stories
    (data / "sources.toml").write_text("accept_unknown_sources = true\n")
    work = data / "site.state"
    work.mkdir(parents=True, exist_ok=True)
    with open(work / "follower", "a") as follower:
        # The renderer's lock: commits leave their marks for it, as under `wiredesk run`.
        fcntl.flock(follower, fcntl.LOCK_EX)
        cpu, started = children_cpu(), time.monotonic()
        done = subprocess.run(
            [WIREDESK, "import", "--data", str(data), "--source-folders", str(wire)],
            capture_output=True,
            text=True,
        )
        seconds, cpu = time.monotonic() - started, children_cpu() - cpu
        if done.returncode not in (0, 1):
            raise SystemExit(f"import failed: {done.stderr[-2000:]}")
        summary = done.stdout.strip()
        stories = sum(
            int(k.replace(",", "")) for k in re.findall(r"([\d,]+) (?:published|updated|killed|dupl)", summary)
        )
        figures = {
            "import /s": stories / float(re.search(r"in ([\d.]+) s", summary).group(1)),
            "import cpu ms": 1000 * cpu / max(stories, 1),
            "import wall s": seconds,
        }
        figures.update(live_pipeline(data, files[n : n + live], files[n + live :]))
    return figures


def live_pipeline(data: Path, backlog: list, trickle: list) -> dict:
    """In this process, as the desk's inbox and workers run."""
    import logging

    from django.conf import settings

    logging.getLogger("wiredesk").setLevel(logging.WARNING)
    from wiredesk.config import sources
    from wiredesk.desk import pipeline
    from wiredesk.models import Delivery
    from wiredesk.transports.inbox import Inbox

    sources.apply()
    inbox = Inbox(Path(settings.INBOX_DIR), Path(settings.ARCHIVE_DIR), Path(settings.ERROR_DIR))
    for file in backlog:
        path = Path(settings.INBOX_DIR) / file.path.split("/", 1)[0] / file.path.rsplit("/", 1)[1]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(file.data)
    cpu, started = own_cpu(), time.monotonic()
    inbox.scan(settle=0)
    waiting = list(Delivery.objects.filter(status="received").order_by("pk").values_list("pk", flat=True))
    for pk in waiting:
        pipeline.process_waiting(pk)
    backlog_s, backlog_cpu = time.monotonic() - started, own_cpu() - cpu
    cpu, started = own_cpu(), time.monotonic()
    for file in trickle:
        source = file.path.split("/", 1)[0]
        delivery = pipeline.receive(file.data, source=source, transport="inbox", filename=file.path)
        pipeline.process_waiting(delivery.pk)
    trickle_s, trickle_cpu = time.monotonic() - started, own_cpu() - cpu
    left = Delivery.objects.filter(status="received").count()
    if left:
        raise SystemExit(f"{left} deliveries left unprocessed")
    return {
        "backlog /s": len(backlog) / backlog_s,
        "backlog cpu ms": 1000 * backlog_cpu / len(backlog),
        "trickle /s": len(trickle) / trickle_s,
        "trickle cpu ms": 1000 * trickle_cpu / len(trickle),
    }


def _django(data: Path) -> None:
    os.environ["WIREDESK_DATA"] = str(data)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wiredesk.config.settings")
    from wiredesk.config import data as folder

    folder.make(folder.folder())
    import django

    django.setup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000", help="N, comma-separated (default 1000)")
    parser.add_argument("--live", type=int, default=300, help="files for each live measure (default 300)")
    parser.add_argument("--root", type=Path, help="where data and corpus go (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the data folders")
    parser.add_argument("--only", type=int, help=argparse.SUPPRESS)  # one N, in a process of its own
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)  # with --only: bench/scale.py's
    args = parser.parse_args()
    if args.only:
        f = measure(args.only, args.live, args.root)
        if args.json:
            print(json.dumps(f))
            return
        print(
            f"{args.only:>8} {f['import /s']:>9.0f} {f['import cpu ms']:>7.1f} {f['backlog /s']:>10.0f} "
            f"{f['backlog cpu ms']:>7.1f} {f['trickle /s']:>10.0f} {f['trickle cpu ms']:>7.1f}",
            flush=True,
        )
        return
    database = "PostgreSQL" if os.environ.get("DATABASE_URL") else "SQLite"
    root = args.root or Path(tempfile.mkdtemp(prefix="scale-ingest-"))
    print(f"{database}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}, {dt.datetime.now():%Y-%m-%d %H:%M}")
    print(f"{'N':>8} {'import/s':>9} {'cpu ms':>7} {'backlog/s':>10} {'cpu ms':>7} {'trickle/s':>10} {'cpu ms':>7}")
    try:
        for n in args.sizes.split(","):
            # A process each: Django is set up once a process, on one data folder.
            one = [sys.executable, __file__, "--only", n, "--live", str(args.live), "--root", str(root)]
            subprocess.run(one, check=True)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
