"""HTTP(S) polling: each source with a `url` in sources.toml is fetched every `interval` seconds.

    [sources.hp]
    url = "https://hp.example/wire.atom"   # RSS, Atom, NewsML-G2 or ninjs: the bytes say which
    interval = 30                          # seconds; 60 unless set, never less than 5

Each poll is a conditional GET (If-None-Match, If-Modified-Since). A page with new bytes becomes
a delivery exactly as an inbox file does (stored, then queued for processing); a 304, or a body
whose sha256 is the one last stored for that URL, stores nothing, so a feed that does not
change costs the desk no work. Feeds that page (RFC 5005 `<link rel="next">`) are walked a few
pages deep, each page a delivery of its own.

Every source has a thread of its own, so one that is down, slow or sending garbage never delays
another; a source that fails is polled again after a jittered, growing, capped backoff. A healthy
source's polls start at most `interval` seconds apart (a little less, jittered), counted from
the start of the last poll, so a story the agency publishes is fetched within one interval. What a
poll needs to remember (validators, digests, errors, when to poll next) lives in
DATA/poll-state.json, rewritten atomically: losing it costs one redundant fetch per URL, which
the pipeline answers `unchanged`.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import http.client
import json
import logging
import os
import random
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from django.conf import settings
from django.db import close_old_connections

from wiredesk import __version__, formats
from wiredesk.config import sources
from wiredesk.db import thread_connections
from wiredesk.desk import health
from wiredesk.formats import xml
from wiredesk.transports.store import MAX_BYTES, store

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = 60.0
MIN_INTERVAL = 5.0
# Polls come up to this fraction of the interval early, so sources configured alike do not all
# hit the network (and the database) in the same instant; never late, which would break the
# promise of one interval.
JITTER = 0.1
# A source down for hours is still tried every quarter hour, not once a day.
BACKOFF_CAP = 900.0
# The Delivery.filename column's length.
FILENAME_LENGTH = 500
_CHUNK = 65536

# urllib rather than httpx: one GET with a timeout, a byte count and a redirect counter is all a
# poll needs, and the standard library does it without a new dependency to pin and audit.
# Redirects are followed here rather than by urllib, so that they are counted and kept to http(s).
_REDIRECTS = (301, 302, 303, 307, 308)


@dataclass(frozen=True)
class Limits:
    timeout: float = 10.0  # seconds to connect, and for each read
    deadline: float = 30.0  # seconds for the whole response: a server dripping bytes is cut off
    max_bytes: int = MAX_BYTES
    max_redirects: int = 5
    max_pages: int = 5  # next-page links followed per poll, the first page included


@dataclass(frozen=True)
class Feed:
    slug: str
    url: str
    interval: float = DEFAULT_INTERVAL


def feeds(file: Path | None = None) -> list[Feed]:
    """The sources in sources.toml that have a `url`, as they are configured now."""
    file = file or sources.path()
    if not file.exists():
        return []
    found = []
    for slug, values in sources.read(file).items():
        if "url" not in values:
            continue
        interval = values.get("interval", DEFAULT_INTERVAL)
        if interval < MIN_INTERVAL:
            log.warning(
                "http: %s asks for a poll every %ss; polled every %ss, the least allowed", slug, interval, MIN_INTERVAL
            )
        found.append(Feed(slug=slug, url=values["url"], interval=max(float(interval), MIN_INTERVAL)))
    return found


class FetchError(Exception):
    """Why a fetch gave no usable response, in words for the log and the state file."""


@dataclass(frozen=True)
class Fetched:
    status: int  # 200 (new bytes) or 304 (not modified)
    url: str  # where the bytes came from, after redirects
    body: bytes = b""
    etag: str | None = None
    last_modified: str | None = None


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # urllib raises the 3xx as an HTTPError, which `fetch` follows itself


_OPENER = urllib.request.build_opener(_NoRedirects)
_HEADERS = {
    "User-Agent": f"wiredesk/{__version__} (feed poller)",
    "Accept": "application/atom+xml, application/rss+xml, application/xml;q=0.9, application/json;q=0.9, */*;q=0.5",
}


def fetch(url: str, *, etag: str | None = None, last_modified: str | None = None, limits: Limits = Limits()) -> Fetched:
    """One conditional GET, redirects followed up to the limit. Raises FetchError."""
    started = time.monotonic()
    for _ in range(limits.max_redirects + 1):
        if urlsplit(url).scheme.lower() not in ("http", "https"):
            raise FetchError(f"{url!r} is not an http(s) URL")
        headers = dict(_HEADERS)
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        try:
            response = _OPENER.open(urllib.request.Request(url, headers=headers), timeout=limits.timeout)
        except urllib.error.HTTPError as exc:
            with exc:
                if exc.code == 304:
                    return Fetched(
                        304,
                        url,
                        etag=exc.headers.get("ETag") or etag,
                        last_modified=exc.headers.get("Last-Modified") or last_modified,
                    )
                if exc.code in _REDIRECTS and exc.headers.get("Location"):
                    url = urljoin(url, exc.headers["Location"].strip())
                    continue
                raise FetchError(f"HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            raise FetchError(_reason(exc, limits)) from None
        with response:
            body = _read(response, limits, started)
            return Fetched(
                200,
                response.url or url,
                body,
                etag=response.headers.get("ETag"),
                last_modified=response.headers.get("Last-Modified"),
            )
    raise FetchError(f"more than {limits.max_redirects} redirects")


def _read(response, limits: Limits, started: float) -> bytes:
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > limits.max_bytes:
        raise FetchError(f"the response is {declared} bytes, more than the limit of {limits.max_bytes}")
    chunks, size = [], 0
    try:
        while chunk := response.read(_CHUNK):
            size += len(chunk)
            if size > limits.max_bytes:
                raise FetchError(f"the response is more than the limit of {limits.max_bytes} bytes")
            if time.monotonic() - started > limits.deadline:
                raise FetchError(f"the response took more than {limits.deadline}s")
            chunks.append(chunk)
    except (OSError, http.client.HTTPException) as exc:
        raise FetchError(_reason(exc, limits)) from None
    if not size:
        raise FetchError("the response is empty")
    return b"".join(chunks)


def _reason(exc: Exception, limits: Limits) -> str:
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, TimeoutError):
        return f"timed out: no answer within {limits.timeout}s"
    return f"{type(reason).__name__}: {reason}" if isinstance(reason, Exception) else str(reason)


def next_page(data: bytes, base: str) -> str | None:
    """The feed's RFC 5005 next-page link, made absolute; None for anything but a feed."""
    try:
        if formats.detect(data) != "feed":
            return None
        root = xml.load(data)
    except formats.FormatError:
        return None
    # Atom puts the link in <feed>; RSS 2.0 puts atom:link in <channel>.
    for parent in (root, *(child for child in root if xml.local(child.tag) == "channel")):
        for child in parent:
            if xml.local(child.tag) == "link" and child.get("rel") == "next" and child.get("href", "").strip():
                return urljoin(base, child.get("href").strip())
    return None


@dataclass
class PollResult:
    status: str  # new (deliveries stored), not-modified (304), unchanged (same bytes), error
    deliveries: list[int] = field(default_factory=list)
    error: str | None = None  # set with `error`, and when a later page failed after a good first one
    state: dict = field(default_factory=dict)  # the source's state after this poll, to be kept


def poll(feed: Feed, state: dict, *, limits: Limits = Limits()) -> PollResult:
    """Poll one source once: its URL, then the next pages while they bring new bytes."""
    state = copy.deepcopy(state)
    urls = state.setdefault("urls", {})
    result = PollResult(status="error", state=state)
    url, visited = feed.url, set()
    while url and url not in visited and len(visited) < limits.max_pages:
        visited.add(url)
        # Popped and put back, so the dict keeps the most recently polled URLs last.
        known = urls.pop(url, {})
        try:
            fetched = fetch(url, etag=known.get("etag"), last_modified=known.get("last_modified"), limits=limits)
        except FetchError as exc:
            urls[url] = known
            result.error = f"{url}: {exc}"
            log.warning("http: %s: %s", feed.slug, result.error)
            break
        digest = hashlib.sha256(fetched.body).hexdigest() if fetched.status == 200 else known.get("sha256")
        seen = {"etag": fetched.etag, "last_modified": fetched.last_modified, "sha256": digest}
        if fetched.status == 304 or digest == known.get("sha256"):
            urls[url] = seen
            if result.status == "error":
                result.status = "not-modified" if fetched.status == 304 else "unchanged"
            # The pages behind an unchanged page were walked when it last changed.
            break
        stored = store(fetched.body, source=feed.slug, transport="http", label=url[:FILENAME_LENGTH])
        # Remembered only once stored: a failed store is fetched and stored again next time.
        urls[url] = seen
        if not stored.again:
            result.status = "new"
            result.deliveries.append(stored.pk)
        url = next_page(fetched.body, fetched.url)
    while len(urls) > 4 * limits.max_pages:
        urls.pop(next(iter(urls)))
    state["last_poll"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    state["last_error"] = result.error or ""
    state["errors"] = state.get("errors", 0) + 1 if result.status == "error" else 0
    return result


def backoff(errors: int, interval: float, rng: random.Random | None = None, cap: float = BACKOFF_CAP) -> float:
    """Seconds to wait after `errors` failures in a row: doubling from the interval up to the cap,
    drawn from the upper half so sources that failed together do not retry together."""
    ceiling = min(interval * 2 ** min(errors, 32), max(cap, interval))
    return (rng or random).uniform(ceiling / 2, ceiling)


def delay(feed: Feed, errors: int, rng: random.Random | None = None) -> float:
    if errors:
        return backoff(errors, feed.interval, rng)
    return feed.interval * (rng or random).uniform(1 - JITTER, 1)


class StateFile:
    """Every polled source's state, in one JSON file replaced whole on each change."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()
        try:
            self._states = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            self._states = {}
        except (OSError, ValueError) as exc:
            log.error("http: %s is unreadable (%s); polling starts afresh", path, exc)
            self._states = {}

    def get(self, slug: str) -> dict:
        with self._lock:
            return copy.deepcopy(self._states.get(slug, {}))

    def put(self, slug: str, state: dict) -> None:
        with self._lock:
            self._states[slug] = copy.deepcopy(state)
            text = json.dumps(self._states, indent=1, sort_keys=True)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(
                "w", encoding="utf-8", dir=self.path.parent, prefix=f".{self.path.name}.", delete=False
            ) as tmp:
                tmp.write(text)
                tmp.flush()
                os.fsync(tmp.fileno())
            os.replace(tmp.name, self.path)


class Poller:
    """Polls each feed in a thread of its own, until `stop`. Other pull transports (FTP) share its
    schedule by overriding `transport`, `state_file`, `poll_once` and `health_error`."""

    transport = "http"
    state_file = "poll-state.json"
    Result = PollResult

    def __init__(
        self,
        feeds: list[Feed],
        *,
        state: StateFile | None = None,
        limits: Limits = Limits(),
        clock=time.time,
        rng: random.Random | None = None,
    ):
        self.feeds = {feed.slug: feed for feed in feeds}
        # A file per transport: StateFile rewrites its file whole, so two pollers cannot share one.
        self.state = state or StateFile(Path(settings.DATA_DIR) / self.state_file)
        self.limits = limits
        self.clock = clock  # wall-clock seconds: the next poll's time outlives a restart
        self.rng = rng or random.Random()
        self._busy = {slug: threading.Lock() for slug in self.feeds}
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    @classmethod
    def from_config(cls, **kwargs) -> Poller:
        return cls(feeds(), **kwargs)

    def start(self) -> None:
        for feed in self.feeds.values():
            thread = threading.Thread(target=self._run, args=(feed,), name=f"{self.transport}-{feed.slug}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float | None = None) -> None:
        """Ask every thread to stop; a poll under way finishes within its own limits."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)

    def poll_once(self, feed, state: dict):
        return poll(feed, state, limits=self.limits)

    def transport_of(self, feed) -> str:
        """What health names the way this source's copy comes."""
        return self.transport

    def health_error(self, result) -> str | None:
        """What health records of a poll: a later page that failed after new bytes is no failure."""
        return result.error if result.status == "error" else None

    def poll(self, slug: str):
        """Poll the source now; None, at once, if a poll of it is already under way."""
        busy = self._busy[slug]
        if not busy.acquire(blocking=False):
            return None
        try:
            feed, state = self.feeds[slug], self.state.get(slug)
            started = self.clock()
            try:
                result = self.poll_once(feed, state)
            except Exception as exc:
                # A database outage or a bug must not end this source's thread: back off, try again.
                log.exception("%s: polling %s failed", self.transport, slug)
                error = f"internal error: {type(exc).__name__}: {exc}"
                result = self.Result(
                    status="error",
                    error=error,
                    state={**state, "errors": state.get("errors", 0) + 1, "last_error": error},
                )
            # From the start: a poll that took a while does not push the next one later.
            result.state["next_poll"] = started + delay(feed, result.state["errors"], self.rng)
            self.state.put(slug, result.state)
            try:
                health.attempted(slug, self.transport_of(feed), self.health_error(result))
            except Exception:
                # The database may be what failed; the poll state file still holds the error.
                log.exception("%s: the health of %s could not be recorded", self.transport, slug)
            return result
        finally:
            busy.release()
            close_old_connections()

    def _run(self, feed: Feed) -> None:
        with thread_connections():
            self._schedule(feed)

    def _schedule(self, feed: Feed) -> None:
        # After a restart the schedule (and any backoff) carries on; a first start spreads the
        # sources over a fraction of their interval.
        due = self.state.get(feed.slug).get("next_poll")
        longest = max(BACKOFF_CAP, feed.interval)  # a clock set back waits no longer
        wait = min(max(0.0, due - self.clock()), longest) if due else self.rng.uniform(0, JITTER * feed.interval)
        while not self._stop.wait(wait):
            try:
                result = self.poll(feed.slug)
            except OSError:
                # The state file could not be written (a full disk): the thread lives on.
                log.exception("%s: the poll state of %s could not be saved", self.transport, feed.slug)
                result = None
            wait = max(0.0, result.state["next_poll"] - self.clock()) if result else feed.interval
