"""Publish latency: from a file landing in the inbox, or a push being accepted, to its article
answering 200 on the site.

Starts `wiredesk run` on a fresh data folder (the embedded default: SQLite, SqliteHuey, two web
processes), then for each way in and each rate sends fictional stories at that steady rate:
files renamed into the inbox (as transfer tools deliver them), or signed POSTs to /push/hp,
timed from the rename or from the 202, until the story's article answers 200 (its address is
read from the desk's database as soon as the story is stored there). Prints p50/p95/p99/max in milliseconds, and
whether issue 6's target holds: p50 under 100 ms and p99 under 500 ms at 20 deliveries a second.

    python bench/publish_latency.py [--stories 200] [--rates 2,20]
"""

import argparse
import hashlib
import hmac
import os
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

WIREDESK = str(Path(sys.executable).parent / "wiredesk")
SECRET = "benchmark-push-secret-0123456789"
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def story(n: int) -> bytes:
    # Words of its own, or the desk takes it for a copy of the one before.
    words = " ".join(f"w{n}x{i}" for i in range(12))
    return (
        f"Benchmark story number {n} about the harbour\n\n"
        f"PORT SALVIN (HP) - Harbour officials counted {n} ships on Monday: {words}.\n"
    ).encode()


class Desk:
    def __init__(self):
        self.data = Path(tempfile.mkdtemp(prefix="wiredesk-bench-"))
        (self.data / "sources.toml").write_text('[sources.hp]\npush_secret_env = "BENCH_PUSH_SECRET"\n')
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "WIREDESK_DATA")}
        env.update(WIREDESK_LOG_LEVEL="WARNING", BENCH_PUSH_SECRET=SECRET)
        self.process = subprocess.Popen(
            [WIREDESK, "run", "--data", str(self.data), "--port", "0", *os.environ.get("BENCH_ARGS", "").split()],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for line in self.process.stdout:
            if m := re.search(r"site:\s+(http://\S+?)/$", line.rstrip()):
                self.base = m.group(1)
            if line.startswith("Press Ctrl-C"):
                break
        threading.Thread(target=self.process.stdout.read, daemon=True).start()
        (self.data / "inbox" / "hp").mkdir(parents=True, exist_ok=True)
        # Measured once the renderer has made its first tree, as on a desk that has been running.
        state = self.data / "site.state" / "state.json"
        while not (state.exists() and "caught_up" in state.read_text()):
            time.sleep(0.1)

    def drop(self, n: int) -> float:
        folder = self.data / "inbox" / "hp"
        temporary = folder / f".story-{n}.tmp"  # a temporary name the watcher ignores
        temporary.write_bytes(story(n))
        sent = time.perf_counter()
        os.rename(temporary, folder / f"story-{n}.txt")  # renamed into place, as transfer tools do
        return sent

    def push(self, n: int) -> float:
        body, stamp = story(n), str(int(time.time()))
        request = urllib.request.Request(
            f"{self.base}/push/hp",
            data=body,
            method="POST",
            headers={
                "Content-Type": "text/plain",
                "X-Wiredesk-Timestamp": stamp,
                # As an agency signs (see src/wiredesk/transports/push.py).
                "X-Wiredesk-Signature": "sha256="
                + hmac.new(SECRET.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest(),
            },
        )
        with OPENER.open(request, timeout=10) as answer:
            assert answer.status == 202
        return time.perf_counter()

    def stop(self):
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=30)
        shutil.rmtree(self.data, ignore_errors=True)


def measure(desk: Desk, way: str, first: int, count: int, rate: float) -> list[float]:
    sent: dict[int, float] = {}
    latencies: list[float] = []
    asked_ids: set[int] = set()
    done = threading.Event()

    def check(n: int, url: str) -> None:
        while True:
            try:
                OPENER.open(url, timeout=5).close()
            except urllib.error.HTTPError:
                time.sleep(0.002)
                continue
            latencies.append(time.perf_counter() - sent[n])
            return

    def watch():
        # The desk's database says where each story will be (its id) once it is stored; the site
        # says when it is there. Each article is asked by a thread of a pool, so that a slow
        # answer delays no other story's clock.
        asked: set[int] = set()
        database = sqlite3.connect(f"file:{desk.data / 'wiredesk.sqlite3'}?mode=ro", uri=True, timeout=10)
        deadline = None
        with ThreadPoolExecutor(max_workers=8) as pool:
            while len(asked) < count and (deadline is None or time.perf_counter() < deadline):
                for pk, slug, headline in database.execute(
                    "SELECT id, slug, headline FROM wiredesk_story WHERE headline LIKE 'Benchmark story number %' "
                    "AND id > ?",
                    [max(asked_ids, default=0)],
                ).fetchall():
                    n = int(headline.split()[3])
                    asked_ids.add(pk)
                    if n in sent and n not in asked:
                        asked.add(n)
                        pool.submit(check, n, f"{desk.base}/story/{pk}/{slug}/")
                time.sleep(0.002)
                if done.is_set() and deadline is None:
                    deadline = time.perf_counter() + 30
        database.close()

    watcher = threading.Thread(target=watch)
    watcher.start()
    send = desk.drop if way == "inbox" else desk.push
    start = time.perf_counter()
    for i in range(count):
        time.sleep(max(0.0, start + i / rate - time.perf_counter()))
        sent[first + i] = send(first + i)
    done.set()
    watcher.join()
    return sorted(x * 1000 for x in latencies)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stories", type=int, default=200, help="stories per way and rate")
    parser.add_argument("--rates", default="2,20", help="deliveries per second, comma-separated")
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",")]

    desk = Desk()
    rows, next_number, verdicts = [], 0, []
    try:
        for way in ("inbox", "push"):
            for rate in rates:
                ms = measure(desk, way, next_number, args.stories, rate)
                next_number += args.stories
                q = statistics.quantiles(ms, n=100)
                rows.append(
                    f"| {way} | {rate:g}/s ({len(ms)} of {args.stories}) | {q[49]:.0f} ms | {q[94]:.0f} ms "
                    f"| {q[98]:.0f} ms | {ms[-1]:.0f} ms |"
                )
                if rate >= 20:
                    verdicts.append(
                        f"{way} at {rate:g}/s: p50 {q[49]:.0f} ms "
                        f"{'<' if q[49] < 100 else '>='} 100 ms, p99 {q[98]:.0f} ms "
                        f"{'<' if q[98] < 500 else '>='} 500 ms: "
                        f"{'met' if q[49] < 100 and q[98] < 500 and len(ms) == args.stories else 'missed'}"
                    )
    finally:
        desk.stop()
    print(
        f"publish latency to the article answering 200 (embedded default, {os.cpu_count()} cores shared by "
        f"the desk, its web processes and this client):\n"
    )
    print("| way in | rate | p50 | p95 | p99 | max |\n|---|---|---|---|---|---|")
    print("\n".join(rows))
    print("\ntarget (issue 6):", "; ".join(verdicts))


if __name__ == "__main__":
    main()
