"""wiredesk as a site grows: every figure of issue 15 at several sizes, side by side, in one run.

For each N (10,000 and 100,000 by default): a data folder loaded with N files of bench/corpus.py's
fictional wire through `wiredesk import`, and the live pipeline's rate on top of them
(bench/scale_ingest.py); every page rendered afresh and search (bench/scale_read.py); a static
tree pass for one change and the whole-tree render's rate (bench/scale_tree.py); the database's
size a story. Then one table, a column per N and the ratio of the largest to the smallest, which
is the figure that says whether a cost stays flat. On PostgreSQL, run under
`python scripts/with_postgres.py -- python bench/scale.py`: each size is loaded into the one
database (emptied first).

    python bench/scale.py [--sizes 10000,100000] [--root /tmp/scale] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).parent


def _run(script: str, *args: str) -> str:
    done = subprocess.run([sys.executable, str(BENCH / script), *args], capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{script} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    return done.stdout


def _database_bytes(data: Path) -> int:
    if not os.environ.get("DATABASE_URL"):
        return sum(f.stat().st_size for f in data.glob("wiredesk.sqlite3*"))
    import psycopg

    with psycopg.connect(os.environ["DATABASE_URL"]) as connection:
        return connection.execute("SELECT pg_database_size(current_database())").fetchone()[0]


def measure(n: int, root: Path, live: int, render_sample: int) -> dict[str, float]:
    figures: dict[str, float] = {}
    ingest = json.loads(_run("scale_ingest.py", "--only", str(n), "--live", str(live), "--root", str(root), "--json"))
    figures.update({f"ingest: {name}": value for name, value in ingest.items()})
    data = root / f"data-{n}"
    figures["database bytes a story"] = _database_bytes(data) / n
    for line in _run("scale_read.py", "--data", str(data), "--json").splitlines():
        row = json.loads(line)
        figures[f"page: {row['page']}, median ms"] = row["median_ms"]
        figures[f"page: {row['page']}, p95 ms"] = row["p95_ms"]
    tree = json.loads(_run("scale_tree.py", "--data", str(data), "--render-sample", str(render_sample), "--json"))
    if tree["render"]:
        figures["tree: wiredesk render, articles a second"] = tree["render"]["per_second"]
    for row in tree["passes"]:
        figures[f"tree: {row['change']}, median ms"] = row["median_ms"]
        figures[f"tree: {row['change']}, pages rendered"] = row["rendered"]
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="N, comma-separated")
    parser.add_argument("--live", type=int, default=300, help="files for each live pipeline measure")
    parser.add_argument("--render-sample", type=int, default=2000, help="articles the timed render writes")
    parser.add_argument("--root", type=Path, help="where data and corpus go (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the data folders")
    args = parser.parse_args()
    sizes = [int(n) for n in args.sizes.split(",")]
    root = args.root or Path(tempfile.mkdtemp(prefix="scale-"))
    database = "PostgreSQL" if os.environ.get("DATABASE_URL") else "SQLite"
    try:
        columns = {}
        for n in sizes:
            columns[n] = measure(n, root, args.live, args.render_sample)
            # A long run's columns as they come: a later size that fails loses no earlier one.
            print(json.dumps({n: columns[n]}), file=sys.stderr, flush=True)
            if not args.keep:
                shutil.rmtree(root / f"data-{n}", ignore_errors=True)
                shutil.rmtree(root / f"wire-{n}", ignore_errors=True)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    print(f"{database}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    names = list(dict.fromkeys(name for column in columns.values() for name in column))
    head = "".join(f"{n:>12,}" for n in sizes)
    print(f"{'':58}{head}{'ratio':>8}")
    for name in names:
        values = [columns[n].get(name) for n in sizes]
        cells = "".join(f"{v:>12,.1f}" if v is not None else f"{'-':>12}" for v in values)
        ratio = f"{values[-1] / values[0]:>8.2f}" if values[0] and values[-1] is not None else f"{'':>8}"
        print(f"{name[:57]:58}{cells}{ratio}")


if __name__ == "__main__":
    main()
