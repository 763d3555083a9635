"""Publish latency: from a file landing in the inbox to its article answering 200.

Starts `wiredesk run` on a fresh data folder (the embedded default: SQLite, SqliteHuey), drops
fictional stories into the inbox at a steady rate, and polls each article's expected place on
the home page. Prints p50/p95/p99/max in milliseconds.

    python bench/publish_latency.py [--stories 200] [--rate 20]
"""

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

WIREDESK = str(Path(sys.executable).parent / "wiredesk")


def story(n: int) -> bytes:
    return (f"Benchmark story number {n} about the harbour\n\n"
            f"PORT SALVIN (HP) - Harbour officials counted {n} ships on Monday, a record for the season.\n\n"
            f"The count was taken at dawn, officials said.\n").encode()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stories", type=int, default=200)
    parser.add_argument("--rate", type=float, default=20.0, help="deliveries per second")
    args = parser.parse_args()

    data = Path(tempfile.mkdtemp(prefix="wiredesk-bench-"))
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "WIREDESK_DATA")}
    env["WIREDESK_LOG_LEVEL"] = "WARNING"
    desk = subprocess.Popen([WIREDESK, "run", "--data", str(data), "--port", "0"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = None
    for line in desk.stdout:
        if m := re.search(r"site:\s+(http://\S+?)/$", line.rstrip()):
            base = m.group(1)
        if line.startswith("Press Ctrl-C"):
            break
    threading.Thread(target=desk.stdout.read, daemon=True).start()

    latencies: list[float] = []
    dropped: dict[int, float] = {}
    done = threading.Event()

    def watch():
        seen: set[int] = set()
        while not done.is_set() or len(seen) < len(dropped):
            html = urllib.request.urlopen(base + "/?page=1", timeout=5).read().decode()
            now = time.perf_counter()
            for n in map(int, re.findall(r"Benchmark story number (\d+) ", html)):
                if n not in seen and n in dropped:
                    seen.add(n)
                    latencies.append(now - dropped[n])
            if done.is_set() and time.perf_counter() - last_drop > 30:
                break
            time.sleep(0.005)

    last_drop = time.perf_counter()
    inbox = data / "inbox"
    watcher = threading.Thread(target=watch)
    watcher.start()
    interval = 1.0 / args.rate
    start = time.perf_counter()
    for n in range(args.stories):
        time.sleep(max(0.0, start + n * interval - time.perf_counter()))
        tmp = inbox / f".story-{n}.tmp"  # a temporary name the watcher ignores
        tmp.write_bytes(story(n))
        dropped[n] = time.perf_counter()
        os.rename(tmp, inbox / f"story-{n}.txt")  # renamed into place, as transfer tools do
        last_drop = time.perf_counter()
    done.set()
    watcher.join()
    desk.send_signal(signal.SIGINT)
    desk.wait(timeout=30)

    ms = sorted(x * 1000 for x in latencies)
    q = statistics.quantiles(ms, n=100)
    print(f"publish latency, inbox to home page, {len(ms)}/{args.stories} stories at {args.rate:g}/s "
          f"(embedded default, {os.cpu_count()} cores): p50 {q[49]:.0f} ms, p95 {q[94]:.0f} ms, "
          f"p99 {q[98]:.0f} ms, max {ms[-1]:.0f} ms")


if __name__ == "__main__":
    main()
