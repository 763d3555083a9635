"""Serving: requests per second and p99 latency of the busiest pages, from Django and from nginx.

Builds a site in a temporary data folder (the demo wire, then fictional Harbour Press stories
generated here so that fronts and searches list as many stories as a working site's do, then the
static tree written whole), starts `wiredesk run` (granian, --web-workers processes) and one
nginx with two server blocks: deploy/nginx.conf as shipped, in front of the desk, and a bare
block that serves plain files. wrk then asks, one case after the other in one run:

    the article (the demo's largest), plain and with Accept-Encoding: gzip
    the home page and the fullest section front
    a search (/search/?q=WORD), which is never kept and so always rendered
    the article with Django's page cache defeated
    the article from Django while push bodies trickle in, a byte a second, on three times as many
    connections as the web server has threads (issue 13's clients; their deadline, 20 s, is
    longer than a case)

each from Django directly, from nginx with the tree config (the tree's file, or Django behind it
for the search), and from nginx's bare block serving a plain file of the same bytes. The plain
file isolates what the tree config (try_files, the maps and headers, the query and method
checks) costs nginx: its ratio to the plain file is the number to watch, since machines differ
and ratios much less. The issue's targets: the tree at 0.9 of the plain file or better, and a
Django-rendered article at 1,000 requests per second or more on two cores.

Django's numbers are with warm caches: each case runs a warm-up first, which fills every web
process's kept pages (wiredesk.publish.pagecache). The cache-defeated row asks the article with
a new `?page=` value each time (a wrk script): the page cache keys on that parameter, which
listings read, and the article view does not, so the answer is the article's bytes, rendered
and then kept as any miss is: the cost of a page no process has kept yet.

The demo's one embargoed story is held first: it would otherwise lift a minute after loading and
move the site's version (emptying every kept page) in the middle of the run. The generated
stories are all younger than the news sitemap's 48 hours, so no page changes by the clock either.

wrk and the servers share the machine's cores, so every number here is a lower bound for a
server with cores of its own; the CPU column says where the time went during each case, in
cores: wrk, nginx, the processes the desk started (its web server's), and the desk's own. The
embedded default database (SQLite) is used, whatever DATABASE_URL says. Every process and folder
started here is stopped and removed at the end, on Ctrl-C and on errors too.

    python bench/serving.py [--seconds 5] [--connections 32] [--web-workers 2] [--stories 160]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import getpass
import html
import http.client
import os
import random
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from email.utils import format_datetime
from pathlib import Path

from wiredesk.app.processes import THREADS

REPO = Path(__file__).resolve().parents[1]
WIREDESK = str(Path(sys.executable).parent / "wiredesk")
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
WRK = shutil.which("wrk")
TICKS = os.sysconf("SC_CLK_TCK")
# The demo's story under embargo (see the module docstring); held so that it never lifts.
EMBARGOED = "urn:demo:hp:nordhaven-shipyard-results"
ARTICLE_TARGET = 1000.0
TREE_TARGET = 0.9
# The source the slow bodies are pushed to: one that takes pushes, so that the push view reads
# them (it refuses an unknown source before reading a byte).
SLOW_SOURCE, SLOW_SECRET_ENV = "hp", "WIREDESK_BENCH_PUSH"

# Each request a new address; `id` is set per thread in setup, so two threads never share one.
UNCACHED_LUA = """
local threads = 0
function setup(thread)
    threads = threads + 1
    thread:set("id", threads)
end
function init(args)
    n = 0
end
function request()
    n = n + 1
    return wrk.format(nil, wrk.path .. "?page=" .. id .. "." .. n)
end
"""


# The generated stories ----------------------------------------------------------------------

PLACES = ["PORT SALVIN", "NORDHAVEN", "ARDEN", "SKERRA POINT", "KESTREL BAY", "OLDMERE", "BRANDT FALLS", "LOWMOOR"]
# The agency category of each section the generated stories fill, and who they are about there.
BEATS = {
    "World": "council",
    "Business": "shipyard",
    "Sport": "harbour club",
    "Science": "observatory",
    "Health": "clinic",
    "Environment": "estuary trust",
    "Technology": "start-up",
    "Culture": "theatre",
}
PEOPLE = [
    "Mira Ostrand",
    "Tobias Quell",
    "Ines Varga",
    "Corin Blackwood",
    "Hanna Lisle",
    "Petr Navrin",
    "Odile Fenwick",
    "Samir Haddou",
    "Greta Solvang",
    "Lucas Emberly",
]
WHO = [
    "the {org}",
    "officials at the {org}",
    "{person}",
    "a spokeswoman for the {org}",
    "residents near the {org}",
    "the board of the {org}",
    "two members of the {org}",
    "inspectors",
    "the harbour authority",
]
SAID = [
    "said on {day} that",
    "told Harbour Press that",
    "confirmed that",
    "warned that",
    "announced that",
    "argued that",
    "reported that",
    "estimated that",
]
WHAT = [
    "{n} ships would dock before the end of the month",
    "the plan would cost {n} million crowns",
    "work on the {thing} would begin in {month}",
    "about {n} people had signed the petition",
    "the {thing} had been closed for {n} days",
    "figures for {month} were {n} percent higher than a year earlier",
    "a vote on the {thing} was expected within {n} weeks",
    "the {thing} needed repairs worth {n} thousand crowns",
    "the {thing} would reopen once {n} inspectors had approved it",
    "{n} new jobs depended on the {thing}",
]
THINGS = [
    "pier",
    "ferry terminal",
    "sea wall",
    "tram depot",
    "fish market",
    "lighthouse",
    "dry dock",
    "bridge",
    "library",
    "water plant",
    "stadium",
    "railway siding",
    "grain silo",
    "tide gauge",
]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October"]


def _sentence(rng: random.Random, org: str) -> str:
    def fill(pattern: str) -> str:
        return pattern.format(
            org=org,
            person=rng.choice(PEOPLE),
            day=rng.choice(DAYS),
            n=rng.randint(2, 980),
            thing=rng.choice(THINGS),
            month=rng.choice(MONTHS),
        )

    text = f"{fill(rng.choice(WHO))} {fill(rng.choice(SAID))} {fill(rng.choice(WHAT))}"
    return text[0].upper() + text[1:] + "."


def feed(count: int, now: dt.datetime, seed: int = 7) -> bytes:
    """An RSS feed of `count` fictional stories across eight sections, one every quarter of an hour
    back from `now`: one delivery, so the desk renders the tree once rather than once a story.
    Random, but the same for the same seed, and different enough that none is a duplicate."""
    rng = random.Random(seed)
    items = []
    for n in range(count):
        category = list(BEATS)[n % len(BEATS)]
        org = f"{rng.choice(PLACES).title()} {BEATS[category]}"
        paragraphs = [
            " ".join(_sentence(rng, org) for _ in range(rng.randint(2, 4))) for _ in range(rng.randint(4, 10))
        ]
        paragraphs[0] = f"{rng.choice(PLACES)} (HP) - {paragraphs[0]}"
        headline = (
            f"{org} {rng.choice(['plans', 'weighs', 'delays', 'backs', 'opens', 'reviews'])} "
            f"{rng.choice(THINGS)} work, {rng.choice(PEOPLE)} says"
        )
        body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
        published = now - dt.timedelta(minutes=15 * n + 5)
        items.append(
            f'<item><guid isPermaLink="false">urn:bench:hp:{n}</guid><title>{html.escape(headline)}</title>'
            f"<category>{category}</category><pubDate>{format_datetime(published)}</pubDate>"
            f"<description>{html.escape(body)}</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Harbour Press</title>'
        "<link>https://harbour-press.example/</link><description>Harbour Press wire</description>"
        f"{''.join(items)}</channel></rss>"
    ).encode()


# Processes ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not start") from None
            time.sleep(0.05)


def stop(process: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 20.0) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class SlowBodies:
    """`count` pushes whose bodies come a byte a second, until closed. Signed with a fresh
    timestamp and a wrong signature: the push view reads a body before it can check it."""

    def __init__(self, address: str, count: int):
        host, _, port = address.rpartition(":")
        head = (
            f"POST /push/{SLOW_SOURCE} HTTP/1.1\r\nHost: {address}\r\nContent-Type: text/plain\r\n"
            f"Content-Length: 100000\r\nX-Wiredesk-Timestamp: {int(time.time())}\r\n"
            f"X-Wiredesk-Signature: sha256={'0' * 64}\r\n\r\n"
        ).encode()
        self.sockets = []
        for _ in range(count):
            self.sockets.append(socket.create_connection((host, int(port)), timeout=10))
            self.sockets[-1].sendall(head)
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._trickle, daemon=True)
        self.thread.start()

    def _trickle(self) -> None:
        while not self.stopped.wait(1.0):
            for sock in self.sockets:
                with contextlib.suppress(OSError):  # answered and closed: wrk's figures tell the rest
                    sock.send(b"x")

    def close(self) -> None:
        self.stopped.set()
        self.thread.join()
        for sock in self.sockets:
            sock.close()


class Desk:
    """`wiredesk run` on the bench's data folder; its own session, so that a Ctrl-C reaches the
    bench alone, which stops the desk (and the desk its web server) in order."""

    def __init__(self, env: dict, data: Path, web_workers: int):
        self.process = subprocess.Popen(
            [WIREDESK, "run", "--data", str(data), "--port", "0", "--web-workers", str(web_workers)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.output: list[str] = []
        self.address = None
        self._ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        # To the end, so that the desk never blocks on a full pipe.
        for line in self.process.stdout:
            self.output.append(line)
            if m := re.search(r"site:\s+http://(\S+?)/$", line.rstrip()):
                self.address = m.group(1)
            if line.startswith("Press Ctrl-C"):
                self._ready.set()
        self._ready.set()

    def wait_ready(self) -> None:
        if not self._ready.wait(60) or self.address is None or self.process.poll() is not None:
            raise RuntimeError("wiredesk run did not start:\n" + "".join(self.output))

    def stop(self) -> None:
        stop(self.process, signal.SIGINT)


class Nginx:
    """nginx with deploy/nginx.conf as shipped, and a bare server block serving root/plain."""

    def __init__(self, root: Path, tree: Path, upstream: str):
        self.root = root
        self.site, self.plain = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
        conf = (REPO / "deploy" / "nginx.conf").read_text()
        (root / "wiredesk.conf").write_text(
            conf.replace("@LISTEN@", self.site).replace("@TREE@", str(tree)).replace("@UPSTREAM@", upstream)
        )
        temp_paths = "\n".join(
            f"{kind}_temp_path {root / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        # Debian's nginx.conf around both: as many workers as cores, sendfile. As root, the
        # workers read the (private) temporary folder as its owner.
        (root / "nginx.conf").write_text(f"""
daemon off;
worker_processes auto;
{f"user {getpass.getuser()};" if os.geteuid() == 0 else ""}
pid {root / "nginx.pid"};
error_log {root / "error.log"};
events {{ worker_connections 1024; }}
http {{
access_log off;
sendfile on;
tcp_nopush on;
{temp_paths}
include {root / "wiredesk.conf"};
server {{
    listen {self.plain};
    root {root / "plain"};
    types {{ text/html html; }}
    gzip_static on;
}}
}}
""")
        self.process = subprocess.Popen(
            [NGINX, "-p", str(root), "-c", str(root / "nginx.conf"), "-e", str(root / "error.log")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def wait_ready(self) -> None:
        try:
            for address in (self.site, self.plain):
                wait_for_port(int(address.rpartition(":")[2]), self.process, "nginx", timeout=10)
        except RuntimeError:
            raise RuntimeError("nginx did not start:\n" + (self.root / "error.log").read_text()) from None

    def stop(self) -> None:
        stop(self.process)


def cpu_seconds(desk: int, nginx: int) -> dict[str, float]:
    """User and system time so far of nginx (master and workers), of the desk's web processes
    (everything under the desk) and of the desk's own process, from one reading of /proc."""
    parents, times = {}, {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        fields = stat[stat.rindex(")") + 2 :].split()
        pid = int(entry.name)
        parents[pid], times[pid] = int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS

    def under(root: int) -> set[int]:
        found, todo = set(), [root]
        while todo:
            pid = todo.pop()
            found.add(pid)
            todo += [child for child, parent in parents.items() if parent == pid]
        return found

    return {
        "nginx": sum(times.get(pid, 0.0) for pid in under(nginx)),
        "web": sum(times.get(pid, 0.0) for pid in under(desk) - {desk}),
        "desk": times.get(desk, 0.0),
    }


# Cases ----------------------------------------------------------------------------------------


@dataclass
class Case:
    page: str
    server: str
    address: str  # host:port
    path: str
    headers: dict = field(default_factory=dict)
    script: Path | None = None
    slow_bodies: int = 0  # connections trickling push bodies while the case runs
    plain_of: Case | None = None  # for a tree or proxied row: the plain file's row
    result: dict = field(default_factory=dict)


def fetch(address: str, path: str, headers: dict) -> tuple[int, bytes]:
    """One GET with exactly these headers."""
    host, _, port = address.rpartition(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.request("GET", path, headers={"Host": address, **headers})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def wrk(case: Case, seconds: float, args) -> dict:
    command = [WRK, f"-t{args.threads}", f"-c{args.connections}", f"-d{seconds:g}s", "--latency", "--timeout", "10s"]
    for name, value in case.headers.items():
        command += ["-H", f"{name}: {value}"]
    if case.script:
        command += ["-s", str(case.script)]
    command.append(f"http://{case.address}{case.path}")
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    p99 = re.search(r"^\s*99%\s+([\d.]+)(us|ms|s|m|h)\s*$", out, re.MULTILINE)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "p99": float(p99.group(1)) * _UNITS[p99.group(2)] if p99 else None,
        "errors": sum(map(int, sockets.groups())) if sockets else 0,
        "timeouts": int(sockets.group(4)) if sockets else 0,
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
    }


def measure(case: Case, args, desk: Desk, nginx: Nginx) -> None:
    slow = SlowBodies(case.address, case.slow_bodies)
    try:
        wrk(case, args.warmup, args)
        before = cpu_seconds(desk.process.pid, nginx.process.pid)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        case.result.update(wrk(case, args.seconds, args))
        wall = time.perf_counter() - start
        after, waited = cpu_seconds(desk.process.pid, nginx.process.pid), resource.getrusage(resource.RUSAGE_CHILDREN)
    finally:
        slow.close()
    cores = {name: (after[name] - before[name]) / wall for name in after}
    # wrk is the only child waited for meanwhile.
    cores["wrk"] = (waited.ru_utime + waited.ru_stime - children.ru_utime - children.ru_stime) / wall
    case.result["cpu"] = cores


# The run --------------------------------------------------------------------------------------


def cli(env: dict, *args: str) -> str:
    done = subprocess.run([WIREDESK, *args], env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"wiredesk {' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return done.stdout


def build_site(env: dict, data: Path, stories: int, note) -> list[str]:
    """The demo wire, its embargoed story held, `stories` more, and the tree written whole.
    Returns the demo's article addresses."""
    note("loading the demo wire")
    cli(env, "demo", "--data", str(data))
    cli(
        env, "story", "hold", EMBARGOED, "--reason", "benchmark: no page may change during the run", "--data", str(data)
    )
    cli(env, "render", "--data", str(data))  # for its sitemap, which names every article
    demo_articles = sorted(
        set(
            re.findall(
                r"https?://[^/<]+(/story/\d+/[^<]+/)</loc>", (data / "site" / "sitemaps" / "articles.xml").read_text()
            )
        )
    )
    note(f"ingesting {stories} generated stories in one feed")
    copy = data / "bench-feed.xml"
    copy.write_bytes(feed(stories, dt.datetime.now(dt.UTC)))
    published = cli(env, "ingest", "--data", str(data), "--source", "hp", str(copy)).count('"outcome": "published"')
    if published != stories:
        raise RuntimeError(f"only {published} of the {stories} generated stories were published")
    note("writing the static tree")
    cli(env, "render", "--data", str(data))
    return demo_articles


def cases_for(
    root: Path, tree: Path, demo_articles: list[str], django: str, site: str, plain: str, word: str, slow_bodies: int
) -> list[Case]:
    """Each page from Django, from nginx with the tree config, and as a plain file of the same
    bytes from the bare block (its file written here)."""
    plain_root = root / "plain"
    plain_root.mkdir()

    def file_of(path: str) -> Path:
        return tree / path.lstrip("/") / "index.html"

    article = max((p for p in demo_articles if file_of(p).exists()), key=lambda p: file_of(p).stat().st_size)
    fronts = [folder for folder in (tree / "section").iterdir() if (folder / "index.html").exists()]
    front = "/section/" + max(fronts, key=lambda folder: (folder / "index.html").stat().st_size).name + "/"
    search = f"/search/?q={word}"
    status, searched = fetch(django, search, {})
    if status != 200:
        raise RuntimeError(f"{search} answered {status}")
    (plain_root / "search.html").write_bytes(searched)
    gzip = {"Accept-Encoding": "gzip"}

    cases = []
    for name, path, headers, stored in (
        ("article", article, {}, "article"),
        ("article, gzip", article, gzip, "article"),
        ("home", "/", {}, "home"),
        (f"front {front}", front, {}, "front"),
    ):
        shutil.copyfile(file_of(path), plain_root / f"{stored}.html")
        shutil.copyfile(file_of(path).with_name("index.html.gz"), plain_root / f"{stored}.html.gz")
        reference = Case(name, "nginx, plain file", plain, f"/{stored}.html", headers)
        cases += [
            Case(name, "Django", django, path, headers),
            Case(name, "nginx, tree", site, path, headers, plain_of=reference),
            reference,
        ]
    reference = Case(f"search ?q={word}", "nginx, plain file", plain, "/search.html")
    cases += [
        Case(reference.page, "Django", django, search),
        Case(reference.page, "nginx → Django", site, search, plain_of=reference),
        reference,
    ]
    lua = root / "uncached.lua"
    lua.write_text(UNCACHED_LUA)
    cases.append(Case("article, cache defeated", "Django", django, article, script=lua))
    cases.append(Case("article, cache defeated", "nginx → Django", site, article, script=lua))
    cases.append(
        Case(f"article, {slow_bodies} slow bodies coming in", "Django", django, article, slow_bodies=slow_bodies)
    )
    return cases


def check(cases: list[Case]) -> None:
    """Every case answers 200; a tree's page has its plain file's size, and the cache-defeated
    article is the article."""
    for case in cases:
        path = case.path + ("?page=check" if case.script else "")
        status, body = fetch(case.address, path, case.headers)
        if status != 200:
            raise RuntimeError(f"{case.page}, {case.server}: {path} answered {status}")
        case.result["bytes"] = len(body)
    for case in cases:
        if case.server == "nginx, tree" and case.result["bytes"] != case.plain_of.result["bytes"]:
            raise RuntimeError(f"{case.page}: the plain file is not the size of the tree's page")
        twin = next(c for c in cases if c.page == "article" and c.server == "Django") if case.script else case
        if case.result["bytes"] != twin.result["bytes"]:
            raise RuntimeError(f"{case.page}, {case.server}: not the article's bytes")


def report(cases: list[Case], args, load_before: float, nginx_version: str) -> None:
    print(
        f"\n## Serving: wiredesk ({args.web_workers} granian processes) and {nginx_version}, "
        f"wrk -t{args.threads} -c{args.connections}, {args.seconds:g} s a case after a {args.warmup:g} s warm-up, "
        f"on {os.cpu_count()} cores shared by wrk and the servers (load average {load_before:.2f} at the start)\n"
    )
    print(
        "Django's rows are with warm page caches but the search and the cache-defeated rows, which render "
        "every request. CPU is in cores over the case: wrk / nginx / the processes the desk started (the web "
        "server's) / the desk's own process.\n"
    )
    print("| page | server | bytes | req/s | p99 ms | ratio to plain file | CPU wrk / nginx / web / desk |")
    print("|---|---|---:|---:|---:|---:|---|")
    notes = []
    for case in cases:
        r = case.result
        ratio = ""
        if case.plain_of:
            x = r["rps"] / case.plain_of.result["rps"]
            ratio = f"{x:.2f}" if x >= 0.1 else f"{x:.3f}"
        p99 = f"{r['p99']:.1f}" if r["p99"] is not None else "-"
        cpu = " / ".join(f"{r['cpu'][k]:.2f}" for k in ("wrk", "nginx", "web", "desk"))
        print(f"| {case.page} | {case.server} | {r['bytes']:,} | {r['rps']:,.0f} | {p99} | {ratio} | {cpu} |")
        if r["errors"] or r["non_2xx"]:
            notes.append(
                f"{case.page}, {case.server}: {r['requests']} requests, {r['non_2xx']} not 2xx/3xx, "
                f"{r['errors']} socket errors ({r['timeouts']} timeouts over 10 s)"
            )
    for line in notes:
        print(f"\n- {line}")

    article = next(c for c in cases if c.page == "article" and c.server == "Django")
    tree_rows = [c for c in cases if c.server == "nginx, tree"]
    lowest = min(tree_rows, key=lambda c: c.result["rps"] / c.plain_of.result["rps"])
    ratio = lowest.result["rps"] / lowest.plain_of.result["rps"]
    print("\nTargets:")
    print(
        f"- the static tree at {TREE_TARGET} of the plain file or better: "
        f"{'met' if ratio >= TREE_TARGET else 'MISSED'} (lowest {ratio:.2f}, {lowest.page})"
    )
    print(
        f"- a Django-rendered article at {ARTICLE_TARGET:,.0f} req/s or more: "
        f"{'met' if article.result['rps'] >= ARTICLE_TARGET else 'MISSED'} ({article.result['rps']:,.0f} req/s, "
        f"warm cache, on cores shared with wrk)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="wrk's run for each case (default 5)")
    parser.add_argument("--warmup", type=float, default=1.0, help="an unmeasured run before each case (default 1)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    parser.add_argument("--web-workers", type=int, default=2, help="wiredesk run --web-workers (default 2)")
    parser.add_argument("--stories", type=int, default=160, help="generated stories beside the demo (default 160)")
    parser.add_argument("--word", default="ferry", help="what the search case looks for (default ferry)")
    args = parser.parse_args()
    if not WRK:
        print("serving bench: wrk is not installed; scripts/ensure-wrk installs it", file=sys.stderr)
        return 2
    if not os.path.exists(NGINX):
        print("serving bench: nginx is not installed; scripts/ensure-nginx installs it", file=sys.stderr)
        return 2
    nginx_version = subprocess.run([NGINX, "-v"], capture_output=True, text=True, check=False).stderr
    nginx_version = nginx_version.strip().replace("nginx version: ", "")

    def note(text: str) -> None:
        print(f"serving bench: {text}", file=sys.stderr, flush=True)

    # Ctrl-C (even where a shell's background job would ignore it), SIGTERM and SIGHUP unwind
    # through the clean-up below.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda signum, frame: sys.exit(128 + signum))
    load_before = os.getloadavg()[0]  # the machine's other work; the bench's own comes on top
    with contextlib.ExitStack() as running:  # stopped and removed last started first
        root = Path(tempfile.mkdtemp(prefix="wiredesk-serving-"))
        running.callback(shutil.rmtree, root, ignore_errors=True)
        data = root / "data"
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "WIREDESK_DATA")}
        env["WIREDESK_LOG_LEVEL"] = "WARNING"
        env[SLOW_SECRET_ENV] = "bench-push-secret-" + "0" * 16
        data.mkdir()
        (data / "sources.toml").write_text(f'[sources.{SLOW_SOURCE}]\npush_secret_env = "{SLOW_SECRET_ENV}"\n')
        demo_articles = build_site(env, data, args.stories, note)
        note(f"starting wiredesk run ({args.web_workers} web processes) and nginx")
        desk = Desk(env, data, args.web_workers)
        running.callback(desk.stop)
        desk.wait_ready()
        nginx = Nginx(root, data / "site", desk.address)
        running.callback(nginx.stop)
        nginx.wait_ready()
        cases = cases_for(
            root,
            data / "site",
            demo_articles,
            desk.address,
            nginx.site,
            nginx.plain,
            args.word,
            slow_bodies=3 * THREADS * args.web_workers,
        )
        check(cases)
        for n, case in enumerate(cases, start=1):
            note(f"{n}/{len(cases)} {case.page}: {case.server}")
            measure(case, args, desk, nginx)
        report(cases, args, load_before, nginx_version)
    return 0


if __name__ == "__main__":
    sys.exit(main())
