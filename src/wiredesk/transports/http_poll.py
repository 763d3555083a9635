"""HTTP(S) polling: each source with a `url` in sources.toml is fetched every `interval` seconds.

    [sources.hp]
    url = "https://hp.example/wire.atom"   # RSS, Atom, NewsML-G2 or ninjs: the bytes say which
    interval = 30                          # seconds; 60 unless set, never less than 5

Each poll is a conditional GET (If-None-Match, If-Modified-Since). A page with new bytes becomes
a delivery exactly as an inbox file does (stored, then queued for processing); a 304, or a body
whose sha256 is the one last stored for that URL, stores nothing, so a feed that does not
change costs the desk no work. Feeds that page (RFC 5005 `<link rel="next">`) are walked a few
pages deep, each page a delivery of its own.

The schedule (a thread per source, the interval with jitter, backoff after a failure, sources
added, removed or re-pointed in sources.toml followed while running) is transports/polling.py's,
shared with the FTP poller. What a poll needs to remember (validators, digests, errors, when to
poll next) lives in the database beside the source's lease (polling.py), so it follows the source
to whichever host polls it: losing it costs one redundant fetch per URL, stored as the delivery
it already is.
"""

from __future__ import annotations

import copy
import hashlib
import http.client
import logging
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from wiredesk import __version__, formats
from wiredesk.config.sources import SourceConfig
from wiredesk.formats import xml
from wiredesk.transports import polling
from wiredesk.transports.polling import CHUNK, Limits, PollResult
from wiredesk.transports.store import FILENAME_LENGTH, store

log = logging.getLogger(__name__)

TRANSPORT = "http"
LIMITS = Limits()

# urllib rather than httpx: one GET with a timeout, a byte count and a redirect counter is all a
# poll needs, and the standard library does it without a new dependency to pin and audit.
# Redirects are followed here rather than by urllib, so that they are counted and kept to http(s).
_REDIRECTS = (301, 302, 303, 307, 308)


class FetchError(Exception):
    """Why a fetch gave no usable response, in words for the log and the poll state."""


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


def fetch(url: str, *, etag: str | None = None, last_modified: str | None = None, limits: Limits = LIMITS) -> Fetched:
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
        while chunk := response.read(CHUNK):
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
        return limits.timed_out()
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


def poll(config: SourceConfig, state: dict, *, limits: Limits = LIMITS) -> PollResult:
    """Poll one source once: its URL, then the next pages while they bring new bytes."""
    state = copy.deepcopy(state)
    urls = state.setdefault("urls", {})
    result = PollResult(status="error", state=state)
    url, visited = config.url, set()
    while url and url not in visited and len(visited) < limits.max_pages:
        visited.add(url)
        # Popped and put back, so the dict keeps the most recently polled URLs last.
        known = urls.pop(url, {})
        try:
            fetched = fetch(url, etag=known.get("etag"), last_modified=known.get("last_modified"), limits=limits)
        except FetchError as exc:
            urls[url] = known
            result.error = f"{url}: {exc}"
            log.warning("http: %s: %s", config.slug, result.error)
            break
        digest = hashlib.sha256(fetched.body).hexdigest() if fetched.status == 200 else known.get("sha256")
        seen = {"etag": fetched.etag, "last_modified": fetched.last_modified, "sha256": digest}
        if fetched.status == 304 or digest == known.get("sha256"):
            urls[url] = seen
            if result.status == "error":
                result.status = "not-modified" if fetched.status == 304 else "unchanged"
            # The pages behind an unchanged page were walked when it last changed.
            break
        stored = store(fetched.body, source=config.slug, transport=TRANSPORT, label=url[:FILENAME_LENGTH])
        # Remembered only once stored: a failed store is fetched and stored again next time.
        urls[url] = seen
        if not stored.again:
            result.status = "new"
            result.deliveries.append(stored.pk)
        url = next_page(fetched.body, fetched.url)
    while len(urls) > 4 * limits.max_pages:
        urls.pop(next(iter(urls)))
    return result.counted()


class Poller(polling.Poller):
    """Polls each source with a `url`, each in a thread of its own, until `stop` (polling.Poller:
    the schedule, the state, health), by this module's `poll`.

    `configs`: the sources to poll; None for those of sources.toml, followed as it changes.
    """

    def __init__(self, configs: list[SourceConfig] | None = None, *, limits: Limits = LIMITS, **kwargs):
        super().__init__(Http(limits), configs, **kwargs)

    @classmethod
    def from_config(cls, **kwargs) -> Poller:
        return cls(**kwargs)


@dataclass(frozen=True)
class Http:
    """HTTP(S) polling, as polling.Poller asks a transport (polling.Transport)."""

    limits: Limits
    name = TRANSPORT

    def settings(self, config: SourceConfig) -> tuple | None:
        return (config.url, config.interval) if config.url else None

    def poll(self, config: SourceConfig, state: dict, stop: threading.Event) -> PollResult:
        return poll(config, state, limits=self.limits)

    def health_name(self, config: SourceConfig) -> str:
        return TRANSPORT

    def health_error(self, result: PollResult) -> str | None:
        # A later page that failed after new bytes is no failure.
        return result.error if result.status == "error" else None
