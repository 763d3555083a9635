"""Soak: minutes of deliveries by every transport and of page requests while the desk is killed
outright (SIGKILL) at random moments and started again; then what was lost or stored twice.

One `wiredesk run` (embedded SQLite, a temporary data folder, one port throughout) has five
fictional sources, each fed by a sender thread of this bench, one per transport:

    push   tidewire  ninjs, signed POSTs to /push/tidewire           sent once answered 202
    http   gullpost  an Atom feed this bench serves, polled every 5 s  sent once in the feed
    ftp    kestrel   NewsML-G2 files on this bench's pyftpdlib server   sent once on the server
    smtp   brandt    plain copy mailed to the desk's SMTP listener      sent once answered 250
    inbox  oldmere   plain copy renamed into DATA/inbox/oldmere/        sent once renamed there

Each step, every 0.5-3 s, is a new story (drawn at random: no two are near-duplicates), an update
of an earlier one (a ninjs or G2 version number, a later Atom <updated>, plain copy's "UPDATE n-")
or a re-send of bytes already sent (for http, an older snapshot of the feed served once more).
What is not acknowledged is sent again until it is, as agencies do. Three reader threads ask for
the home page, /latest/, articles and searches. Every 15-40 s (a seeded draw) the desk and every
process it started (granian and its workers, the renderer: each in a process group of its own)
get SIGKILL at once, and the desk is started again. At the end it is killed and started once
more, and given up to --drain seconds to take what is waiting and empty its queue.

Reading the table, per transport: items (stories) and versions sent; re-sends; payloads, the
distinct bytes acknowledged (for http, the feed snapshots the desk fetched); stored, those found
as a delivery of the source (for http fewer is no loss: a snapshot fetched just before a kill is
gone by the next poll if the feed moved on, its entries with it into the next snapshot);
published, items whose one story is live at the latest version sent, in the database and on its
article page. LOST: acknowledged bytes that are no delivery, or an item not published at its
latest version. DUPLICATED: an item stored as two stories or more, bytes stored as two
deliveries or more, or one version stored twice in a story. Both must be 0, or the bench exits 1,
keeps the data folder and the desk's log (stdout and stderr, with each kill and start marked)
and prints the log's lines about each. Pages: p50/p99 of the answers while the desk was up;
"refused" (connection refused) and "cut" (cut short or failed by a kill) are requests that met a
down desk, not errors; errors are failures, or answers other than 2xx/3xx, while it was up.

    python bench/soak.py [--seconds 180] [--seed 7] [--kill-every 15,40] [--drain 60] [--keep]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import email.message
import email.utils
import ftplib
import hashlib
import hmac
import html
import http.client
import http.server
import io
import json
import logging
import os
import random
import re
import shutil
import signal
import smtplib
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, OrderedDict, deque
from pathlib import Path

from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import FTPServer

WIREDESK = str(Path(sys.executable).parent / "wiredesk")
PUSH_SECRET, FTP_PASSWORD = "soak-push-secret-7f3a9c21d4e8", "soak-ftp-password"
# Plain copy's uri holds its date: one for the whole run, or an update after midnight is a new story.
TODAY = dt.datetime.now(dt.UTC).date().isoformat()
FEED_WINDOW = 60  # entries the feed keeps: minutes of them, far longer than the desk is ever down

PLACES = ["Oldmere", "Kestrel Bay", "Brandt Falls", "Skerra Point", "Lowmoor", "Arden", "Nordhaven", "Port Salvin"]
ORGS = ["council", "shipyard", "ferry line", "clinic", "observatory", "estuary trust", "rowing club", "tram company"]
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
    "Ada Pellinor",
    "Rune Castell",
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
    "grain silo",
    "tide gauge",
    "boathouse",
    "signal tower",
]
NOUNS = ["lorries", "volunteers", "crates", "permits", "visitors", "complaints", "tonnes of gravel", "apprentices"]
VERBS = ["weighs", "delays", "backs", "reviews", "reopens", "questions", "funds", "inspects"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def sentence(rng: random.Random) -> str:
    # A number or a name in nearly every five words: no two stories share enough to be one.
    return (
        f"{rng.choice(PEOPLE)} said {rng.randint(2, 9999)} {rng.choice(NOUNS)} would reach the "
        f"{rng.choice(THINGS)} by {rng.choice(DAYS)}, against {rng.randint(2, 999)} a year earlier "
        f"and {rng.randint(2, 99)} in the {rng.choice(PLACES)} survey."
    )


class Item:
    """One story. Its code opens its headline: the desk keys copy without ids on the headline's
    first words, and the bench finds the story by it whatever uri the desk made."""

    def __init__(self, rng: random.Random, code: str, agency: str):
        place = rng.choice(PLACES)
        self.code, self.uri, self.first = code, f"urn:soak:{code.lower()}", dt.datetime.now(dt.UTC)
        self.headline = f"File {code}: {place} {rng.choice(ORGS)} {rng.choice(VERBS)} {rng.choice(THINGS)} work"
        self.paragraphs = [f"{place.upper()} ({agency}) - {sentence(rng)} {sentence(rng)}"]
        self.version, self.acked_at = 0, 0.0  # the latest version acknowledged, and when

    def next_version(self, rng: random.Random) -> int:
        number = self.marker(self.version + 1)  # in this version's text only: the page shows which it is
        self.paragraphs.append(f"{sentence(rng)} Officials gave the inquiry file number {number}.")
        return self.version + 1

    def marker(self, n: int) -> str:
        return f"{self.code}v{n}"


def stamp(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def ninjs(item: Item, n: int) -> bytes:
    return json.dumps(
        {
            "uri": item.uri,
            "type": "text",
            "version": str(n),
            "language": "en",
            "firstcreated": stamp(item.first),
            "versioncreated": stamp(dt.datetime.now(dt.UTC)),
            "headlines": [{"role": "main", "value": item.headline}],
            "bodies": [{"role": "main", "contenttype": "text/plain", "value": "\n\n".join(item.paragraphs[: n + 1])}],
        },
        indent=1,
    ).encode()


def xhtml(item: Item, n: int) -> str:
    return "".join(f"<p>{html.escape(p)}</p>" for p in item.paragraphs[: n + 1])


def newsml_g2(item: Item, n: int) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<newsItem xmlns="http://iptc.org/std/nar/2006-10-01/" '
        f'guid="{item.uri}" version="{n}" standard="NewsML-G2" standardversion="2.32" xml:lang="en">'
        f'<itemMeta><itemClass qcode="ninat:text"/><versionCreated>{stamp(dt.datetime.now(dt.UTC))}'
        f'</versionCreated><pubStatus qcode="stat:usable"/></itemMeta>'
        f"<contentMeta><headline>{html.escape(item.headline)}</headline></contentMeta>"
        f'<contentSet><inlineXML contenttype="application/xhtml+xml"><html xmlns="http://www.w3.org/1999/xhtml">'
        f"<body>{xhtml(item, n)}</body></html></inlineXML></contentSet>"
        f"</newsItem>\n"
    ).encode()


def atom_entry(item: Item, n: int) -> bytes:
    return (
        f"<entry><id>tag:gullpost.example,2026:{item.code}</id><title>{html.escape(item.headline)}</title>"
        f"<published>{stamp(item.first)}</published><updated>{stamp(dt.datetime.now(dt.UTC))}</updated>"
        f'<content type="html">{html.escape(xhtml(item, n))}</content></entry>'
    ).encode()


def plain_copy(item: Item, n: int) -> bytes:
    prefix = f"UPDATE {n - 1}-" if n > 1 else ""  # how wire copy without ids numbers its updates
    return (f"date {TODAY}\n{prefix}{item.headline}\n\n" + "\n\n".join(item.paragraphs[: n + 1]) + "\n").encode()


def request(port: int, method: str, path: str, body: bytes | None = None, headers=None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Desk:
    """`wiredesk run`, killed and started again on the same folder and port."""

    def __init__(self, data: Path, port: int, env: dict, log: Path):
        self.data, self.port, self.env, self.log = data, port, env, open(log, "ab", buffering=0)
        self.process: subprocess.Popen | None = None
        self.up, self.generation, self.starts, self.restarts = threading.Event(), 0, 0, []

    def note(self, text: str) -> None:
        self.log.write(f"=== soak {time.strftime('%H:%M:%S')}: {text}\n".encode())

    def start(self) -> None:
        self.starts += 1
        self.note(f"start {self.starts}")
        process = subprocess.Popen(
            [WIREDESK, "run", "--data", str(self.data), "--port", str(self.port)],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=self.log,
            start_new_session=True,
        )
        watchdog = threading.Timer(90, process.kill)  # a start that hangs is a failed start
        watchdog.start()
        for line in process.stdout:
            self.log.write(line)
            if line.startswith(b"Press Ctrl-C"):
                break
        watchdog.cancel()
        if process.poll() is not None:
            raise RuntimeError(f"the desk did not start (exit {process.wait()}); see {self.log.name}")
        threading.Thread(target=lambda: [self.log.write(line) for line in process.stdout], daemon=True).start()
        self.process = process
        self.up.set()

    def offspring(self) -> list[int]:
        # What the desk started carries its pid in its environment, even once orphaned by the kill.
        marker, found = f"WIREDESK_DESK_PID={self.process.pid}".encode(), []
        for name in filter(str.isdigit, os.listdir("/proc")):
            try:
                if marker in Path(f"/proc/{name}/environ").read_bytes().split(b"\0"):
                    found.append(int(name))
            except OSError:
                continue
        return found

    def kill(self) -> None:
        """The desk's process group and the group of each process it started, all at once: a
        machine losing power, not a stop. Returns once none of them is left."""
        self.up.clear()
        self.generation += 1
        self.note("SIGKILL")
        groups, deadline = {self.process.pid}, time.monotonic() + 15  # its own session: its group is its pid
        while True:
            for pid in self.offspring():
                with contextlib.suppress(ProcessLookupError):
                    groups.add(os.getpgid(pid))
            for group in groups:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(group, signal.SIGKILL)
            self.process.wait()
            if not (left := self.offspring()):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"processes of the desk outlived SIGKILL: {left}")
            groups = set()
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # Ctrl-C: the desk stops what it started, in order
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.kill()


class Feed(http.server.ThreadingHTTPServer):
    """gullpost's Atom feed, served: its latest FEED_WINDOW entries, newest first."""

    def __init__(self):
        self.lock, self.entries, self.replay, self.resends = threading.Lock(), OrderedDict(), None, 0
        self.served: dict[str, bytes] = {}  # every snapshot the desk was given, by sha256
        self.put(None, b"")
        feed = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = feed.snapshot()
                self.send_response(200)
                self.send_header("Content-Type", "application/atom+xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def put(self, code: str | None, entry: bytes) -> None:
        with self.lock:
            if code:
                self.entries.pop(code, None)
                self.entries[code] = entry
            while len(self.entries) > FEED_WINDOW:
                self.entries.popitem(last=False)
            self.body = (
                f'<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" '
                f'xml:lang="en"><title>Gull Post wire</title><id>tag:gullpost.example,2026:wire</id>'
                f"<updated>{stamp(dt.datetime.now(dt.UTC))}</updated>"
            ).encode()
            self.body += b"".join(reversed(self.entries.values())) + b"</feed>\n"

    def snapshot(self) -> bytes:
        with self.lock:
            body, self.replay = self.replay or self.body, None
            self.resends += body is not self.body
            self.served[hashlib.sha256(body).hexdigest()] = body
            return body


class Sender(threading.Thread):
    """One agency's sender: a new story, an update or a re-send, each until acknowledged."""

    transport = source = prefix = agency = ""

    def __init__(self, soak: Soak, seed: int):
        super().__init__(name=self.transport, daemon=True)
        self.soak, self.rng = soak, random.Random(seed)
        self.items: dict[str, Item] = {}
        self.acked: dict[str, tuple[str, int, bytes]] = {}  # by sha256: (item code, version, the bytes)
        self.resends, self.attempts = 0, 0

    def run(self) -> None:
        while not self.soak.ending.is_set():
            self.step()
            self.soak.ending.wait(self.rng.uniform(0.5, 3.0))

    def step(self) -> None:
        roll = self.rng.random()
        if roll < 0.1 and self.acked:
            self.resends += self.send(self.rng.choice(list(self.acked.values()))[2], f"resend-{self.resends}")
            return
        # An update comes a while after what it updates, as news does.
        ready = [i for i in self.items.values() if i.version < 4 and time.monotonic() - i.acked_at > 3]
        if roll < 0.35 and ready:
            item = self.rng.choice(ready)
        else:
            item = Item(self.rng, f"{self.prefix}{len(self.items) + 1}", self.agency)
            self.items[item.code] = item
        n = item.next_version(self.rng)
        body = self.encode(item, n)
        if self.send(body, f"{item.code.lower()}-v{n}"):
            item.version, item.acked_at = n, time.monotonic()
            self.acked[hashlib.sha256(body).hexdigest()] = (item.code, n, body)

    def send(self, body: bytes, name: str) -> bool:
        """True once acknowledged; False only if the soak stopped waiting."""
        pause = 0.5
        while not self.soak.abandon.is_set():
            self.attempts += 1
            try:
                if self.deliver(body, f"{name}-{self.attempts}"):  # a new name each time, as a re-send has
                    return True
            except (OSError, http.client.HTTPException, smtplib.SMTPException, ftplib.Error):
                pass
            self.soak.abandon.wait(pause)
            pause = min(pause * 2, 4.0)
        return False


class Push(Sender):
    transport, source, prefix, agency, encode = "push", "tidewire", "TW", "TW", staticmethod(ninjs)

    def deliver(self, body: bytes, name: str) -> bool:
        moment = str(int(time.time()))
        signature = hmac.new(PUSH_SECRET.encode(), moment.encode() + b"." + body, hashlib.sha256).hexdigest()
        status, _ = request(
            self.soak.desk.port,
            "POST",
            f"/push/{self.source}",
            body,
            {
                "Content-Type": "application/json",
                "X-Wiredesk-Timestamp": moment,
                "X-Wiredesk-Signature": f"sha256={signature}",
                "X-Wiredesk-Filename": f"{name}.json",
            },
        )
        return status == 202


class Poll(Sender):
    transport, source, prefix, agency, encode = "http", "gullpost", "GP", "GP", staticmethod(atom_entry)

    def step(self) -> None:
        feed = self.soak.feed
        if self.rng.random() < 0.1 and len(feed.served) > 1:
            with feed.lock:  # an older snapshot served once more, to the byte
                feed.replay = self.rng.choice(list(feed.served.values()))
        else:
            super().step()

    def deliver(self, body: bytes, name: str) -> bool:
        self.soak.feed.put(name.split("-")[0].upper(), body)
        return True


class Ftp(Sender):
    transport, source, prefix, agency, encode = "ftp", "kestrel", "KB", "KB", staticmethod(newsml_g2)

    def deliver(self, body: bytes, name: str) -> bool:
        with ftplib.FTP() as ftp:
            ftp.connect("127.0.0.1", self.soak.ftp.address[1], timeout=10)
            ftp.login("kestrel", FTP_PASSWORD)
            ftp.cwd("out")
            ftp.storbinary(f"STOR .{name}.xml", io.BytesIO(body))  # a name the desk skips, until renamed
            ftp.rename(f".{name}.xml", f"{name}.xml")
        return True


class Mail(Sender):
    transport, source, prefix, agency, encode = "smtp", "brandt", "BF", "BFB", staticmethod(plain_copy)

    def deliver(self, body: bytes, name: str) -> bool:
        message = email.message.EmailMessage()
        message["From"], message["To"], message["Subject"] = "desk@brandt.example", "wire@brandt.example", name
        message["Message-ID"] = email.utils.make_msgid(domain="brandt.example")
        message.set_content(body.decode(), cte="base64")  # decoded, the very bytes: found by their sha256
        with smtplib.SMTP("127.0.0.1", self.soak.smtp_port, timeout=15) as smtp:
            smtp.send_message(message)  # raises unless every reply, DATA's included, is 250
        return True


class Inbox(Sender):
    transport, source, prefix, agency, encode = "inbox", "oldmere", "OM", "OC", staticmethod(plain_copy)

    def deliver(self, body: bytes, name: str) -> bool:
        folder = self.soak.data / "inbox" / self.source
        (folder / f".{name}.tmp").write_bytes(body)
        os.rename(folder / f".{name}.tmp", folder / f"{name}.txt")
        return True


class Reader(threading.Thread):
    """A reader: the home page, /latest/, articles and searches, one after the other."""

    def __init__(self, soak: Soak, seed: int, articles: deque):
        super().__init__(daemon=True)
        self.soak, self.rng, self.articles = soak, random.Random(seed), articles
        self.latencies, self.counts = [], Counter()

    def run(self) -> None:
        desk = self.soak.desk
        while not self.soak.ending.is_set():
            roll, failure = self.rng.random(), None
            path = (
                "/"
                if roll < 0.25
                else "/latest/"
                if roll < 0.45
                else self.rng.choice(self.articles)
                if roll < 0.8 and self.articles
                else f"/search/?q={self.rng.choice(THINGS).split()[0]}"
            )
            generation, was_up, began = desk.generation, desk.up.is_set(), time.perf_counter()
            try:
                status, body = request(desk.port, "GET", path)
            except (OSError, http.client.HTTPException) as exc:
                status, body, failure = 0, b"", exc
            spent = time.perf_counter() - began
            down = not was_up or generation != desk.generation or not desk.up.is_set()
            kind = (
                "ok"
                if not failure and status < 400
                else "error"
                if not down
                else "refused"
                if isinstance(failure, ConnectionRefusedError)
                else "cut"
            )
            self.counts[kind] += 1
            if kind == "ok" and not down:
                self.latencies.append(spent * 1000)
                self.articles.extend({p.decode() for p in re.findall(rb'href="(/story/\d+/[\w-]+/)"', body)})
            elif kind == "error":
                desk.note(f"page error: {path}: {failure or status}")
            self.soak.ending.wait(self.rng.uniform(0.05, 0.25))


class Soak:
    """The desk, the agencies' servers, and the flags that end the run."""

    def __init__(self):
        self.root = Path(tempfile.mkdtemp(prefix="wiredesk-soak-"))
        self.data, self.log = self.root / "data", self.root / "desk.log"
        (self.data / "inbox" / "oldmere").mkdir(parents=True)
        self.feed, self.smtp_port, self.ftp_folder = Feed(), free_port(), self.root / "ftp" / "out"
        self.ftp_folder.mkdir(parents=True)
        users = DummyAuthorizer()
        users.add_user("kestrel", FTP_PASSWORD, str(self.ftp_folder.parent), perm="elradfmwMT")
        quiet = logging.getLogger("pyftpdlib")  # given a handler, pyftpdlib sets up no logging of its own
        quiet.addHandler(logging.NullHandler())
        quiet.setLevel(logging.ERROR)
        self.ftp = FTPServer(("127.0.0.1", 0), type("Handler", (FTPHandler,), {"authorizer": users}))
        # Its loop turns until the bench exits; it is not thread-safe, so nothing else touches it.
        threading.Thread(target=self.ftp.serve_forever, kwargs={"handle_exit": False}, daemon=True).start()
        (self.data / "sources.toml").write_text(
            '[sources.tidewire]\nname = "Tidewire"\npush_secret_env = "SOAK_PUSH_SECRET"\n\n'
            f'[sources.gullpost]\nname = "Gull Post"\ninterval = 5\n'
            f'url = "http://127.0.0.1:{self.feed.server_address[1]}/wire.atom"\n\n'
            f'[sources.kestrel]\nname = "Kestrel Bay Wire"\ninterval = 5\n'
            f'ftp = "ftp://kestrel@127.0.0.1:{self.ftp.address[1]}/out"\nftp_password_env = "SOAK_FTP_PASSWORD"\n\n'
            '[sources.brandt]\nname = "Brandt Falls Bulletin"\nemail = "wire@brandt.example"\n\n'
            '[sources.oldmere]\nname = "Oldmere Courier"\n'
        )
        # The embedded default, whatever database and settings the calling shell names.
        env = {
            k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "WIREDESK_DATA", "DJANGO_SETTINGS_MODULE")
        }
        # INFO: a line for each delivery stored and each outcome, the evidence if anything goes missing.
        env.update(
            WIREDESK_LOG_LEVEL="INFO",
            SOAK_PUSH_SECRET=PUSH_SECRET,
            SOAK_FTP_PASSWORD=FTP_PASSWORD,
            WIREDESK_SMTP=f"127.0.0.1:{self.smtp_port}",
        )
        self.desk = Desk(self.data, free_port(), env, self.log)
        self.ending, self.abandon = threading.Event(), threading.Event()

    def crash(self, rng: random.Random) -> None:
        began = time.monotonic()
        self.desk.kill()
        time.sleep(rng.uniform(0.5, 3.0))  # a supervisor's pause before it starts the desk again
        self.desk.start()
        self.desk.restarts.append(time.monotonic() - began)

    def database(self) -> sqlite3.Connection:
        return sqlite3.connect(f"file:{self.data / 'wiredesk.sqlite3'}?mode=ro", uri=True, timeout=30)

    def close(self) -> None:
        self.desk.stop()
        self.feed.shutdown()


def account(soak: Soak, senders: list[Sender], pages: bool) -> tuple[list[dict], list[str]]:
    """Each transport's figures, and a line for each thing lost or duplicated."""
    with soak.database() as db:
        db.row_factory = sqlite3.Row
        deliveries: dict[tuple[str, str], list[int]] = {}
        for row in db.execute(
            "SELECT s.slug, d.sha256, d.id FROM wiredesk_delivery d "
            "JOIN wiredesk_source s ON s.id = d.source_id ORDER BY d.id"
        ):
            deliveries.setdefault((row["slug"], row["sha256"]), []).append(row["id"])
        stories: dict[str, list[sqlite3.Row]] = {}
        for row in db.execute(
            "SELECT st.id, st.uri, st.slug, st.state, st.reason, st.headline, v.version, v.content "
            "FROM wiredesk_story st LEFT JOIN wiredesk_storyversion v ON v.id = st.current_id"
        ):
            if code := re.match(r"File ([A-Z]{2}\d+):", row["headline"]):
                stories.setdefault(code.group(1), []).append(row)
        twice = {
            row[0]
            for row in db.execute(
                "SELECT story_id FROM wiredesk_storyversion GROUP BY story_id "
                "HAVING count(*) > count(DISTINCT fingerprint)"
            )
        }
    rows, problems = [], []
    for sender in senders:
        lost, duplicated, published, http = [], [], 0, sender.transport == "http"
        shas = soak.feed.served if http else sender.acked
        stored = sum((sender.source, sha) in deliveries for sha in shas)
        if not http:  # the feed's snapshots are not acknowledged: only its entries are promised
            lost += [
                f"{code} v{n}: its acknowledged bytes ({sha[:16]}) are no delivery of {sender.source}"
                for sha, (code, n, _) in sender.acked.items()
                if (sender.source, sha) not in deliveries
            ]
        duplicated += [
            f"bytes {sha[:16]} are deliveries {found}"
            for (slug, sha), found in deliveries.items()
            if slug == sender.source and len(found) > 1
        ]
        for code, item in sender.items.items():
            if not item.version:
                continue  # never acknowledged, so never sent
            found, marker = stories.get(code, []), item.marker(item.version)
            ids = [
                pk
                for sha, (of, *_) in sender.acked.items()
                if of == code
                for pk in deliveries.get((sender.source, sha), [])
            ]
            if len(found) > 1:
                duplicated.append(
                    f"{code} is {len(found)} stories: "
                    + ", ".join(f"{s['id']} {s['uri']} ({s['state']})" for s in found)
                )
            duplicated += [f"{code}: story {s['id']} has a version stored twice" for s in found if s["id"] in twice]
            story = next((s for s in found if s["state"] == "live"), None)
            if not found:
                lost.append(f"{code} v{item.version}: no story; its deliveries {ids}")
            elif story is None:
                lost.append(
                    f"{code}: story {found[0]['id']} {found[0]['uri']} is {found[0]['state']} "
                    f"({found[0]['reason']}); deliveries {ids}"
                )
            elif marker not in (story["content"] or ""):
                lost.append(
                    f"{code}: story {story['id']} shows its version {story['version']}, not the "
                    f"v{item.version} sent; deliveries {ids}"
                )
            elif pages:
                address = f"/story/{story['id']}/{story['slug']}/"
                status, body = request(soak.desk.port, "GET", address)
                if status == 200 and marker.encode() in body:
                    published += 1
                else:
                    lost.append(f"{code}: {address} answers {status}, without v{item.version}; deliveries {ids}")
            else:
                published += 1
        problems += [f"LOST {sender.transport} {line}" for line in lost]
        problems += [f"DUPLICATED {sender.transport} {line}" for line in duplicated]
        rows.append(
            {
                "transport": sender.transport,
                "source": sender.source,
                "items": sum(1 for i in sender.items.values() if i.version),
                "versions": sum(i.version for i in sender.items.values()),
                "re-sends": soak.feed.resends if http else sender.resends,
                "payloads": len(shas),
                "stored": stored,
                "published": published,
                "LOST": len(lost),
                "DUPLICATED": len(duplicated),
            }
        )
    return rows, problems


def drain(soak: Soak, senders: list[Sender], seconds: float) -> float:
    """Wait until the desk has taken and processed everything, or `seconds` have passed."""
    began = time.monotonic()
    while time.monotonic() - began < seconds:
        with soak.database() as db:
            queued = db.execute("SELECT count(*) FROM wiredesk_delivery WHERE status = 'received'").fetchone()[0]
        folders = (soak.data / "inbox" / "oldmere", soak.ftp_folder)
        waiting = [p for folder in folders for p in folder.iterdir() if not p.name.startswith(".")]
        if not queued and not waiting and not account(soak, senders, pages=False)[1]:
            break
        time.sleep(1)
    return time.monotonic() - began


def evidence(log: Path, problems: list[str]) -> list[str]:
    """Each problem, with the desk's log lines about the deliveries and the story it names."""
    text, lines = log.read_text(errors="replace").splitlines(), []
    for problem in problems[:30]:
        needles = {f"delivery {pk} " for pk in re.findall(r"\d+", problem.partition("deliveries")[2])}
        needles |= {
            n
            for code in re.findall(r"\b[A-Z]{2}\d+\b", problem)
            for n in (f"urn:soak:{code.lower()}", f"file-{code.lower()}-")
        }
        lines += [f"- {problem}"] + [f"    {line}" for line in text if any(n in line + " " for n in needles)][:15]
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=180, help="how long deliveries and pages go on (default 180)")
    parser.add_argument("--seed", type=int, default=7, help="for the kills, the stories and the readers (default 7)")
    parser.add_argument("--kill-every", default="15,40", help="seconds between kills, drawn in this range (15,40)")
    parser.add_argument("--drain", type=float, default=60, help="the most seconds left to catch up at the end (60)")
    parser.add_argument("--keep", action="store_true", help="keep the data folder and the log even when all is well")
    args = parser.parse_args()
    low, high = map(float, args.kill_every.split(","))
    rng = random.Random(args.seed)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwinds through the clean-up below

    def note(text: str) -> None:
        print(f"soak: {text}", file=sys.stderr, flush=True)

    soak = Soak()
    try:
        soak.desk.start()
        note(f"the desk is up on port {soak.desk.port}; its log: {soak.log}")
        senders = [kind(soak, args.seed * 10 + n) for n, kind in enumerate((Push, Poll, Ftp, Mail, Inbox))]
        articles: deque[str] = deque(maxlen=300)
        readers = [Reader(soak, args.seed * 100 + n, articles) for n in range(3)]
        for thread in senders + readers:
            thread.start()
        end = time.monotonic() + args.seconds
        while (wait := rng.uniform(low, high)) < end - time.monotonic():
            time.sleep(wait)
            note(f"kill {len(soak.desk.restarts) + 1}")
            soak.crash(rng)
        time.sleep(max(0.0, end - time.monotonic()))
        soak.ending.set()
        for reader in readers:
            reader.join()
        note("the last kill; then the senders finish what is unacknowledged and the desk catches up")
        soak.crash(rng)
        for sender in senders:
            sender.join(timeout=max(1.0, end + 60 - time.monotonic()))
        soak.abandon.set()
        for sender in senders:
            sender.join()
        with soak.feed.lock:
            soak.feed.replay = None
        note(f"caught up in {drain(soak, senders, args.drain):.0f} s; checking the database and every article")
        rows, problems = account(soak, senders, pages=True)
    finally:
        soak.close()

    rows.append({"transport": "all", "source": "", **{k: sum(r[k] for r in rows) for k in list(rows[0])[2:]}})
    latencies = sorted(x for reader in readers for x in reader.latencies)
    counts = sum((reader.counts for reader in readers), Counter())
    p50, p99 = (statistics.quantiles(latencies, n=100)[i] for i in (49, 98)) if len(latencies) > 1 else (0, 0)
    restarts, log = soak.desk.restarts, soak.log.read_text(errors="replace")
    print(
        f"\n## Soak: {args.seconds:g} s; SIGKILL to the desk and all it started {len(restarts) - 1} times during it "
        f"and once at the end; seed {args.seed}; {os.cpu_count()} cores shared with the bench\n"
    )
    print("| " + " | ".join(rows[0]) + " |\n|---|---|" + "---:|" * (len(rows[0]) - 2))
    print("\n".join("| " + " | ".join(str(v) for v in row.values()) + " |" for row in rows))
    print("\n| page requests | 2xx/3xx | errors (desk up) | refused (desk down) | cut by a kill | p50 ms | p99 ms |")
    print(
        f"|---:|---:|---:|---:|---:|---:|---:|\n| {sum(counts.values())} | {counts['ok']} | {counts['error']} "
        f"| {counts['refused']} | {counts['cut']} | {p50:.0f} | {p99:.0f} |"
    )
    print(
        f"\nfrom a kill to the desk's banner again: p50 {statistics.median(restarts):.1f} s, "
        f"max {max(restarts):.1f} s; "
        f"its log holds {len(re.findall(r' (ERROR|CRITICAL) ', log))} errors and {log.count('Traceback')} tracebacks"
    )
    if problems:
        print("\nLost or duplicated, with the desk's log lines about each:\n" + "\n".join(evidence(soak.log, problems)))
    if problems or args.keep:
        print(f"\nkept: {soak.root} (data/ is the desk's folder, desk.log its output)")
    else:
        shutil.rmtree(soak.root, ignore_errors=True)
    return 1 if rows[-1]["LOST"] or rows[-1]["DUPLICATED"] else 0


if __name__ == "__main__":
    sys.exit(main())
