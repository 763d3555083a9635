"""What every polling transport (HTTP(S), FTP, FTPS, SFTP) shares: the schedule that polls each
source in a thread of its own, the state a poll remembers, the backoff after a failure, the
limits of one fetch, and the health each attempt reports. A transport brings only its poll
(see `Transport`); `Poller` does the rest, with that transport composed in.

Each source has a thread of its own, so one that is down, slow or sending garbage never delays
another. A healthy source's polls start at most `interval` seconds apart (a little less,
jittered), counted from the start of the last poll; one that failed is polled again after a
jittered, growing, capped backoff. After a restart the schedule (and any backoff) carries on.

The sources are those of sources.toml as it is now (`sources.read`): the file is looked at every
RELOAD_EVERY seconds, and a source added starts its schedule, a source removed ends its own
(a poll under way finishes first), and a source whose polled settings changed (its `url`, its
`ftp` settings, its `interval`) starts afresh with them, polled within a tenth of its interval.
A broken file changes nothing until it is mended: the sources go on as they were.

Several hosts may run pollers on one database: each source is polled by the one holding its
lease (desk/leases.py), which every source's thread takes or renews every RENEW of an interval,
and what a poll needs to remember (validators, digests, files stored but not yet deleted,
errors, when to poll next) lives beside the lease, so it follows the source to the host that
takes it over. One host alone holds every lease, and polls as it always did.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Protocol

from django.db import DatabaseError, close_old_connections

from wiredesk.config import sources
from wiredesk.config.sources import SourceConfig
from wiredesk.db import thread_connections
from wiredesk.desk import health, leases
from wiredesk.desk.leases import Leases
from wiredesk.transports.store import MAX_BYTES

log = logging.getLogger(__name__)

# Polls come up to this fraction of the interval early, so sources configured alike do not all
# hit the network (and the database) in the same instant; never late, which would break the
# promise of one interval.
JITTER = 0.1
# A source down for hours is still tried every quarter hour, not once a day.
BACKOFF_CAP = 900.0
# Seconds between looks at sources.toml: a stat, and a parse only when it changed.
RELOAD_EVERY = 1.0
# Bytes read at a time, over any protocol.
CHUNK = 65536
# Seconds within which a poll under way hears that the poller stops.
STOP_LOOK = 0.1


@dataclass(frozen=True)
class Limits:
    """What one poll may cost, so that no server can hold a source's thread or the desk's memory."""

    timeout: float = 10.0  # seconds to connect, and for each reply or read
    # Seconds for one fetch, a server dripping bytes cut off: an HTTP response (the FTP
    # transport gives one file's transfer twice as long).
    deadline: float = 30.0
    max_bytes: int = MAX_BYTES
    max_redirects: int = 5  # HTTP
    max_pages: int = 5  # HTTP: next-page links followed per poll, the first page included
    max_files: int = 100  # FTP, SFTP: files taken per poll, so a backlog is worked off over several

    def timed_out(self) -> str:
        return f"timed out: no answer within {self.timeout}s"


@dataclass
class PollResult:
    # new (deliveries stored), error (the poll failed as a whole), or the transport's word for
    # nothing new: HTTP's not-modified (a 304) and unchanged (the same bytes), FTP's nothing.
    status: str
    deliveries: list[int] = field(default_factory=list)
    # Every error of the poll, in words; with HTTP, set too when a later page failed after a good
    # first one, with FTP when files failed and others were taken.
    error: str | None = None
    state: dict = field(default_factory=dict)  # the source's state after this poll, to be kept
    waiting: list[str] = field(default_factory=list)  # FTP, SFTP: files left for the next poll, still being written

    def counted(self) -> PollResult:
        """The result, its state noting the poll: when it ended, its error, the failures in a row."""
        self.state["last_poll"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        self.state["last_error"] = self.error or ""
        self.state["errors"] = self.state.get("errors", 0) + 1 if self.status == "error" else 0
        return self


class Transport(Protocol):
    """A way of polling a source, as `Poller` asks it."""

    name: str  # names the threads, the log and the sources' leases

    def settings(self, config: SourceConfig) -> tuple | None:
        """What of the source's config this transport polls by; None for a source it does not poll."""

    def poll(self, config: SourceConfig, state: dict, stop: threading.Event) -> PollResult:
        """Poll once, from the source's state; `stop` set asks a long poll to end early."""

    def health_name(self, config: SourceConfig) -> str:
        """What health names the way this source's copy comes."""

    def health_error(self, result: PollResult) -> str | None:
        """What health records of a poll: None for a success."""


def backoff(errors: int, interval: float, rng: random.Random | None = None, cap: float = BACKOFF_CAP) -> float:
    """Seconds to wait after `errors` failures in a row: doubling from the interval up to the cap,
    drawn from the upper half so sources that failed together do not retry together."""
    ceiling = min(interval * 2 ** min(errors, 32), max(cap, interval))
    return (rng or random).uniform(ceiling / 2, ceiling)


def delay(interval: float, errors: int, rng: random.Random | None = None) -> float:
    """Seconds from the start of a poll to the next one."""
    if errors:
        return backoff(errors, interval, rng)
    return interval * (rng or random).uniform(1 - JITTER, 1)


class Poller:
    """Polls each source the transport polls, in a thread of its own, until `stop`.

    `configs`: the sources to poll; None for those of sources.toml, followed as it changes (a
    ConfigError if it is broken when the poller is made). `leases`: the sources' leases and
    state, as this host holds them. `clock`: wall-clock seconds, as the next poll's time
    outlives a restart.
    """

    def __init__(
        self,
        transport: Transport,
        configs: list[SourceConfig] | None = None,
        *,
        leases: Leases | None = None,
        clock=time.time,
        rng: random.Random | None = None,
        reload_every: float = RELOAD_EVERY,
    ):
        self.transport = transport
        self.live = configs is None
        self.configs = self._configured() if configs is None else {c.slug: c for c in configs}
        self.leases = leases or Leases(transport.name)
        self.clock = clock
        self.rng = rng or random.Random()
        self.reload_every = reload_every
        self._busy: dict[str, threading.Lock] = {}
        self._stop = threading.Event()
        self._running: dict[str, threading.Event] = {}  # each scheduled source's own stop
        self._changing = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._config_error = ""

    @property
    def name(self) -> str:
        return self.transport.name

    def _configured(self) -> dict[str, SourceConfig]:
        return {
            slug: config
            for slug, config in sources.read().sources.items()
            if self.transport.settings(config) is not None
        }

    def start(self) -> None:
        with self._changing:
            for slug in self.configs:
                self._schedule(slug, fresh=False)
        if self.live:
            self._thread(self._follow, f"{self.name}-sources")

    def stop(self, timeout: float | None = None) -> None:
        """Ask every thread to stop; a poll under way finishes within its own limits."""
        self._stop.set()
        with self._changing:
            for stop in self._running.values():
                stop.set()
        for thread in self._threads:
            thread.join(timeout)

    def _thread(self, target, name: str, *args) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _schedule(self, slug: str, *, fresh: bool) -> None:
        stop = self._running[slug] = threading.Event()
        self._thread(self._run, f"{self.name}-{slug}", slug, stop, fresh)

    def _follow(self) -> None:
        while not self._stop.wait(self.reload_every):
            try:
                self.reload()
            except Exception:
                # A bug must not leave the sources unfollowed until a restart.
                log.exception("%s: following sources.toml failed; tried again in %ss", self.name, self.reload_every)

    def reload(self) -> None:
        """Bring the polled sources in line with sources.toml as it is now."""
        try:
            wanted = self._configured()
        except (ValueError, OSError) as exc:  # sources.ConfigError, or a file not UTF-8 or not readable
            if str(exc) != self._config_error:
                log.error("%s: sources.toml cannot be read; polling goes on as it was: %s", self.name, exc)
            self._config_error = str(exc)
            return
        self._config_error = ""
        settings_of = self.transport.settings
        with self._changing:
            if self._stop.is_set():
                return
            for slug in list(self._running):
                if slug not in wanted or settings_of(wanted[slug]) != settings_of(self.configs[slug]):
                    self._running.pop(slug).set()
                    if slug not in wanted:
                        log.info("%s: %s is polled no longer", self.name, slug)
            self.configs = wanted
            for slug in wanted.keys() - self._running.keys():
                log.info("%s: %s is polled from now on, as sources.toml says", self.name, slug)
                self._schedule(slug, fresh=True)

    def poll(self, slug: str) -> PollResult | None:
        """Poll the source now; None, at once, if a poll of it is already under way, if it is not
        polled (any longer), or if another host holds its lease."""
        config = self.configs.get(slug)
        if config is None or not self.leases.take(slug, config.interval):
            return None
        return self._poll(slug, config)

    def _poll(self, slug: str, config: SourceConfig) -> PollResult | None:
        """Poll the source, whose lease this host has just taken or renewed."""
        busy = self._busy.setdefault(slug, threading.Lock())
        if not busy.acquire(blocking=False):
            return None
        try:
            state = self.leases.get(slug)
            started = self.clock()
            with self._kept(slug, config.interval) as stop:
                try:
                    result = self.transport.poll(config, state, stop)
                except Exception as exc:
                    # A database outage or a bug must not end this source's thread: back off, try again.
                    log.exception("%s: polling %s failed", self.name, slug)
                    result = PollResult(
                        status="error", error=f"internal error: {type(exc).__name__}: {exc}", state=state
                    ).counted()
            # From the start: a poll that took a while does not push the next one later.
            result.state["next_poll"] = started + delay(config.interval, result.state["errors"], self.rng)
            if not self.leases.put(slug, result.state):
                # What it stored is stored once whoever stores it again (transports.store).
                log.warning("%s: %s was taken over by another host during a poll; its state is theirs", self.name, slug)
            try:
                health.attempted(slug, self.transport.health_name(config), self.transport.health_error(result))
            except Exception:
                log.exception("%s: the health of %s could not be recorded", self.name, slug)
            return result
        finally:
            busy.release()
            close_old_connections()

    @contextlib.contextmanager
    def _kept(self, slug: str, interval: float):
        """Keep the source's lease while a poll runs, however long it takes (an FTP backlog);
        yields the poll's stop, set when the poller stops or the lease is lost, so that a poll
        another host has taken over ends after the file under way."""
        done, stop = threading.Event(), threading.Event()

        def keep():
            with thread_connections():
                renewed = time.monotonic()
                while not done.wait(STOP_LOOK):
                    if self._stop.is_set():
                        stop.set()
                    if time.monotonic() - renewed < interval * leases.RENEW:
                        continue
                    renewed = time.monotonic()
                    try:
                        if not self.leases.take(slug, interval):
                            log.warning("%s: %s was taken over by another host; this poll ends", self.name, slug)
                            stop.set()
                    except DatabaseError:
                        log.exception("%s: the lease of %s could not be renewed", self.name, slug)

        keeper = threading.Thread(target=keep, name=f"{self.name}-{slug}-lease", daemon=True)
        keeper.start()
        try:
            yield stop
        finally:
            done.set()
            keeper.join()

    def _run(self, slug: str, stop: threading.Event, fresh: bool) -> None:
        with thread_connections():
            config = self.configs.get(slug)
            if config is None:
                return  # taken out of sources.toml as it was started
            # A first start, or a source added or changed, spreads the sources over a fraction of
            # their interval, and polls then; a restart carries on the schedule in the state.
            wait = self.rng.uniform(0, JITTER * config.interval) if fresh else 0.0
            try:
                while not stop.wait(wait):
                    config = self.configs.get(slug)
                    if config is None:
                        return  # taken out of sources.toml while it was polled
                    try:
                        wait, fresh = self._turn(slug, config, fresh)
                    except DatabaseError:
                        # The leases are in the database: while it is away, no host polls.
                        log.exception("%s: the lease of %s could not be taken", self.name, slug)
                        wait = config.interval * leases.RENEW
            finally:
                # Stopping, or the source is polled no longer (or afresh): another host, or
                # this one's new thread, takes it at its next look.
                with contextlib.suppress(DatabaseError):
                    self.leases.release(slug)

    def _turn(self, slug: str, config: SourceConfig, fresh: bool) -> tuple[float, bool]:
        """One look at the source: take or renew its lease, and poll it if it is due. Returns
        the seconds to the next look, and whether the source still waits for its fresh poll."""
        look = config.interval * leases.RENEW
        if not self.leases.take(slug, config.interval):
            return look, fresh  # another host polls it
        due = None if fresh else self.leases.get(slug).get("next_poll")
        ahead = due - self.clock() if due is not None else 0.0
        # A next poll further off than any schedule makes (a clock set back) is not waited for.
        if 0 < ahead <= max(BACKOFF_CAP, config.interval):
            return min(ahead, look), False
        result = self._poll(slug, config)
        if result is None:
            return look, fresh
        return min(max(0.0, result.state["next_poll"] - self.clock()), look), False
