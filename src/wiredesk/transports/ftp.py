"""FTP, FTPS and SFTP pull: each source with `ftp` in sources.toml has its folder emptied every
`interval`. This module holds the poll, whatever the protocol, and FTP's side of it; sftp.py
holds SFTP's (an sftp:// URL, with a key or a password, the server's host key checked).

    [sources.hp]
    ftp = "ftps://wire@ftp.hp.example/out"  # ftp:// plain, ftps:// explicit TLS (AUTH TLS, PROT P)
    ftp_password_env = "HP_FTP_PASSWORD"    # the variable holding the password; anonymous if unset
    ftp_after = "move"                      # delete (default), or move into ftp_move_to
    ftp_move_to = "done"                    # a folder on the server, relative to the path
    interval = 30                           # seconds; 60 unless set, never less than 5

The URL's path is relative to the folder the login lands in, as RFC 1738 (and curl) read it;
"%2F" at its start makes it absolute. A password in the URL is refused: secrets live only in
the environment.

A poll connects, logs in, lists the folder (MLSD when the server offers it, else NLST with SIZE
and MDTM per name), and takes each regular file, oldest first, that is not named as a
temporary (the inbox's rule). Taking a file is: RETR into memory, `transports.store` (which
commits and queues its processing), and only then delete it or move it (RNFR/RNTO). So a crash at
any point loses no delivery: what was not stored is still on the server.

What is remembered, and where:

- A file stored but not yet deleted or moved (the delete was refused, the connection dropped)
  is kept in DATA/ftp-state.json by name, size and modify time. While the listing shows it
  unchanged, later polls only retry the delete or move: no second fetch, no second delivery.
- The state file is written after the poll, so a kill between `receive` and that write forgets
  the file. The database does not: bytes this source already delivered are not stored again
  (`transports.store`), only deleted or moved.

An agency may still be uploading a file when it is listed. Such a file is left for the next
poll when the transfer brings more bytes than the listing said, or fewer, or when SIZE after
the transfer says it has grown. Agencies that upload under a temporary name and rename are
never caught half way; for the others this narrows the window to a writer that pauses for
longer than a fetch takes.

A file over the size limit is refused and left on the server; like a fetch refused by the
server, a transfer past its deadline or a delete that fails, it is an error of that file only:
the others are taken (after a transfer cut short, on a new connection), and the poll's error,
which health records, names each. Only a poll that failed as a whole (no
connection, no login, no listing, a connection lost) backs off, with the same jittered, capped
backoff and the same thread per source as the HTTP poller, whose `Poller` this one extends.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import ftplib
import logging
import os
import posixpath
import ssl
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from wiredesk.config import sources
from wiredesk.transports import http_poll
from wiredesk.transports.inbox import is_temporary
from wiredesk.transports.store import MAX_BYTES, store

log = logging.getLogger(__name__)

TRANSPORT = "ftp"
_CHUNK = 65536
# Replies meaning the server does not know the command, as opposed to refusing it for this name.
_UNKNOWN_COMMAND = ("500", "502", "504")


@dataclass(frozen=True)
class Limits:
    timeout: float = 10.0  # seconds to connect, and for each reply or read
    deadline: float = 60.0  # seconds for one file's transfer: a server dripping bytes is cut off
    max_bytes: int = MAX_BYTES
    max_files: int = 100  # files taken per poll: a backlog is worked off over several polls


@dataclass(frozen=True)
class Site:
    slug: str
    url: str
    password_env: str | None = None
    after: str = "delete"  # or "move"
    move_to: str = "done"
    interval: float = http_poll.DEFAULT_INTERVAL
    key_env: str | None = None  # SFTP: the variable holding a private key

    @property
    def transport(self) -> str:
        """What its deliveries and its health name the way they came: "ftp" (FTPS too) or "sftp"."""
        return "sftp" if urlsplit(self.url).scheme.lower() == "sftp" else TRANSPORT

    @property
    def folder(self) -> str:
        return unquote(urlsplit(self.url).path[1:])

    def path_of(self, name: str) -> str:
        """The file's path on the server, as deliveries record it."""
        return posixpath.join(self.folder, name)[: http_poll.FILENAME_LENGTH]


def sites(file: Path | None = None) -> list[Site]:
    """The sources in sources.toml that have `ftp`, as they are configured now (sources.read
    checks the URLs)."""
    file = file or sources.path()
    if not file.exists():
        return []
    found = []
    for slug, values in sources.read(file).items():
        if "ftp" not in values:
            continue
        interval = values.get("interval", http_poll.DEFAULT_INTERVAL)
        if interval < http_poll.MIN_INTERVAL:
            log.warning(
                "ftp: %s asks for a poll every %ss; polled every %ss, the least allowed",
                slug,
                interval,
                http_poll.MIN_INTERVAL,
            )
        found.append(
            Site(
                slug=slug,
                url=values["ftp"],
                password_env=values.get("ftp_password_env"),
                after=values.get("ftp_after", "delete"),
                move_to=values.get("ftp_move_to", "done"),
                interval=max(float(interval), http_poll.MIN_INTERVAL),
                key_env=values.get("ftp_key_env"),
            )
        )
    return found


@dataclass(frozen=True)
class Entry:
    name: str
    size: int | None  # None: the server would not say
    modify: str | None  # the server's YYYYMMDDHHMMSS[.sss], compared as given, never parsed


@dataclass
class PollResult:
    status: str  # new (deliveries stored), nothing (nothing new), error (the poll failed as a whole)
    deliveries: list[int] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)  # paths left for the next poll: still being written
    error: str | None = None  # every error of the poll, the files' included, in words
    state: dict = field(default_factory=dict)  # the source's state after this poll, to be kept


class SessionError(Exception):
    """The poll cannot go on: no connection, no login, no listing."""


class FileError(Exception):
    """This file cannot be taken now; the others can."""


class Cut(FileError):
    """This file's transfer was cut short. Servers answer that (226, 426, or nothing until they
    notice) as they please, and an ABOR races their answer: only a new connection is sure to be
    in step."""


class StillWriting(Exception):
    """The file changed while it was read: someone is still writing it."""


def poll(
    site: Site,
    state: dict,
    *,
    limits: Limits = Limits(),
    context: ssl.SSLContext | None = None,
    stop: threading.Event | None = None,
) -> PollResult:
    """Poll one source once: take every file in its folder, up to the limit, or until `stop` is set.
    `context` is as for `connect`."""
    state = copy.deepcopy(state)
    pending = state.setdefault("pending", {})
    result = PollResult(status="nothing", state=state)
    errors = []
    folder = None
    try:
        folder = open_folder(site, limits, context)
        entries = folder.listing()
        listed = {entry.name for entry in entries}
        # Gone from the server (taken by hand, or a move that did happen before a crash).
        for name in [name for name in pending if name not in listed]:
            del pending[name]
        for entry in [entry for entry in entries if not is_temporary(PurePosixPath(entry.name))][: limits.max_files]:
            if stop is not None and stop.is_set():
                break
            path = site.path_of(entry.name)
            try:
                _take(folder, site, entry, pending, result)
            except StillWriting as exc:
                log.info("ftp: %s: %s; left for the next poll", path, exc)
                result.waiting.append(path)
            except Cut as exc:
                errors.append(f"{path}: {exc}")
                folder.close(clean=False)
                folder = None
                folder = open_folder(site, limits, context)  # the other files go on, on a new connection
            except FileError as exc:
                errors.append(f"{path}: {exc}")
            except SessionError as exc:
                raise SessionError(f"{path}: {exc}") from None
    except SessionError as exc:
        result.status = "error"
        errors.append(str(exc))
    finally:
        if folder is not None:
            folder.close(clean=result.status != "error")
    if result.deliveries and result.status != "error":
        result.status = "new"
    for error in errors:
        log.warning("ftp: %s: %s", site.slug, error)
    result.error = "; ".join(errors) or None
    state["last_poll"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    state["last_error"] = result.error or ""
    state["errors"] = state.get("errors", 0) + 1 if result.status == "error" else 0
    return result


class Folder:
    """The source's folder on its server, over one logged-in connection. Each method raises
    FileError (or Cut, or StillWriting) for a failure of that file only, and SessionError when
    the connection can do no more."""

    def listing(self) -> list[Entry]:
        """The regular files in the folder, oldest first."""
        raise NotImplementedError

    def fetch(self, entry: Entry) -> bytes:
        raise NotImplementedError

    def delete(self, name: str) -> None:
        raise NotImplementedError

    def move(self, name: str, folder: str) -> None:
        """Into `folder`, relative to the source's, made if it is not there."""
        raise NotImplementedError

    def close(self, clean: bool) -> None:
        """End the connection: saying goodbye if `clean`, else just dropping it."""
        raise NotImplementedError


def open_folder(site: Site, limits: Limits = Limits(), context: ssl.SSLContext | None = None) -> Folder:
    """The source's folder, logged in, by its URL's scheme; SessionError saying which step failed."""
    if site.transport == "sftp":
        from wiredesk.transports import sftp  # SSH is loaded only for the sources that use it

        return sftp.SftpFolder(site, limits)
    return FtpFolder(connect(site, limits, context), limits)


class _FTP_TLS(ftplib.FTP_TLS):
    """FTP_TLS whose data connections resume the control connection's TLS session, which vsftpd
    and ProFTPD demand by default (so that only the client logged in can open one)."""

    def ntransfercmd(self, cmd, rest=None):
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        if self._prot_p:
            conn = self.context.wrap_socket(conn, server_hostname=self.host, session=self.sock.session)
        return conn, size


def connect(site: Site, limits: Limits = Limits(), context: ssl.SSLContext | None = None) -> ftplib.FTP:
    """A logged-in connection in the source's folder, or a SessionError saying which step failed.

    For ftps://, the control and data connections are both TLS (AUTH TLS, PROT P), checked with
    `context`: by default the system's CAs, with the server's name.
    """
    parts = urlsplit(site.url)
    user = unquote(parts.username or "") or "anonymous"
    password = ""  # ftplib sends "anonymous@" for the anonymous user
    if site.password_env:
        password = os.environ.get(site.password_env)
        if password is None:
            raise SessionError(f"the environment variable {site.password_env} (ftp_password_env) is not set")
    if parts.scheme.lower() == "ftps":
        # FTP_TLS checks no certificate unless given a context that does.
        ftp = _FTP_TLS(context=context or ssl.create_default_context(), timeout=limits.timeout)
    else:
        ftp = ftplib.FTP(timeout=limits.timeout)
    doing = f"connecting to {parts.hostname}:{parts.port or 21}"
    try:
        ftp.connect(parts.hostname, parts.port or 21)
        if isinstance(ftp, ftplib.FTP_TLS):
            doing = "securing the connection (AUTH TLS)"
            ftp.auth()
        doing = f"logging in as {user}"
        ftp.login(user, password)
        if isinstance(ftp, ftplib.FTP_TLS):
            doing = "protecting the data channel (PROT P)"
            ftp.prot_p()
        if site.folder:
            doing = f"changing to the folder {site.folder}"
            ftp.cwd(site.folder)
    except (*ftplib.all_errors, UnicodeError) as exc:
        ftp.close()
        raise SessionError(f"{doing}: {_reason(exc, limits)}") from None
    return ftp


class FtpFolder(Folder):
    def __init__(self, ftp: ftplib.FTP, limits: Limits):
        self.ftp, self.limits = ftp, limits

    def listing(self) -> list[Entry]:
        try:
            return _listing(self.ftp)
        except (*ftplib.all_errors, UnicodeError) as exc:
            raise SessionError(f"listing the folder: {_reason(exc, self.limits)}") from None

    def fetch(self, entry: Entry) -> bytes:
        with self._per_file():
            return _fetch(self.ftp, entry, self.limits)

    def delete(self, name: str) -> None:
        with self._per_file():
            self.ftp.delete(name)

    def move(self, name: str, folder: str) -> None:
        with self._per_file():
            try:
                self.ftp.mkd(folder)
            except ftplib.error_perm:
                pass  # there already, most likely; if not, the rename says why
            self.ftp.rename(name, posixpath.join(folder, name))

    @contextlib.contextmanager
    def _per_file(self):
        try:
            yield
        except (ftplib.error_perm, ftplib.error_temp) as exc:
            raise FileError(str(exc)) from None  # refused for this name: the others go on
        except (*ftplib.all_errors, UnicodeError) as exc:
            # The connection broke, or fell out of step: nothing more can be asked of it.
            raise SessionError(_reason(exc, self.limits)) from None

    def close(self, clean: bool) -> None:
        if clean:
            try:
                self.ftp.quit()
            except (*ftplib.all_errors, UnicodeError):
                pass  # the work is done: a server that fumbles the goodbye changes nothing
        self.ftp.close()


def _reason(exc: BaseException, limits: Limits) -> str:
    if isinstance(exc, TimeoutError):
        return f"timed out: no answer within {limits.timeout}s"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"the server's TLS certificate was refused: {exc.verify_message}"
    if isinstance(exc, ftplib.Error):
        return str(exc)
    if isinstance(exc, EOFError):
        return "the server closed the connection"
    return f"{type(exc).__name__}: {exc}"


def _listing(ftp: ftplib.FTP) -> list[Entry]:
    """The regular files in the current folder, oldest first."""
    if _offers_mlsd(ftp):
        entries = [
            Entry(name, int(facts["size"]) if facts.get("size", "").isdigit() else None, facts.get("modify"))
            for name, facts in ftp.mlsd()
            if facts.get("type", "").lower() == "file"
        ]
    else:
        entries = []
        names = [posixpath.basename(name) for name in ftp.nlst()]  # some servers answer with paths
        # NLST leaves the connection in ASCII mode, where servers refuse SIZE or count other bytes.
        ftp.voidcmd("TYPE I")
        for name in names:
            try:
                size = _size(ftp, name)
            except ftplib.error_perm:
                continue  # a folder: only regular files have a size
            entries.append(Entry(name, size, _modified(ftp, name)))
    return sorted(entries, key=lambda entry: (entry.modify or "", entry.name))


def _offers_mlsd(ftp: ftplib.FTP) -> bool:
    try:
        features = ftp.sendcmd("FEAT")
    except ftplib.error_perm:
        return False
    return any(line.strip().upper().startswith("MLST") for line in features.splitlines()[1:])


def _size(ftp: ftplib.FTP, name: str) -> int | None:
    """The file's size by SIZE; None if the server lacks the command. Raises error_perm for a
    name that is not a regular file."""
    try:
        return ftp.size(name)
    except ftplib.error_perm as exc:
        if str(exc).startswith(_UNKNOWN_COMMAND):
            return None
        raise


def _modified(ftp: ftplib.FTP, name: str) -> str | None:
    try:
        return ftp.sendcmd(f"MDTM {name}")[4:].strip() or None
    except ftplib.error_perm:
        return None


def _take(folder: Folder, site: Site, entry: Entry, pending: dict, result: PollResult) -> None:
    """Store the file unless it is stored already, then delete or move it."""
    path = site.path_of(entry.name)
    known = pending.get(entry.name)
    if not (known and entry.modify and (known["size"], known["modify"]) == (entry.size, entry.modify)):
        stored = store(folder.fetch(entry), source=site.slug, transport=site.transport, label=path)
        if not stored.again:
            result.deliveries.append(stored.pk)
        known = pending[entry.name] = {"size": entry.size, "modify": entry.modify, "delivery": stored.pk}
    try:
        if site.after == "move":
            folder.move(entry.name, site.move_to)
        else:
            folder.delete(entry.name)
    except FileError as exc:
        done = f"moved to {site.move_to}/" if site.after == "move" else "deleted"
        raise FileError(
            f"stored as delivery {known['delivery']} but not {done} ({exc}); "
            f"it is not stored again while it stays as it is"
        ) from None
    del pending[entry.name]


class Transfer:
    """One file's bytes as they come, over any protocol, held to the limits: FileError past the
    size limit or the deadline, StillWriting when the bytes do not match the listing."""

    def __init__(self, entry: Entry, limits: Limits):
        if entry.size is not None and entry.size > limits.max_bytes:
            raise FileError(f"{entry.size} bytes, more than the limit of {limits.max_bytes}; left on the server")
        if entry.size == 0:
            raise StillWriting("it is empty")
        self.entry, self.limits = entry, limits
        self.chunks, self.received, self.started = [], 0, time.monotonic()

    def add(self, chunk: bytes) -> None:
        self.received += len(chunk)
        # The listed size was within the limit; the bytes may not be (a server that would not
        # say, or a file still growing).
        if self.received > self.limits.max_bytes:
            raise FileError(f"more than the limit of {self.limits.max_bytes} bytes; left on the server")
        if time.monotonic() - self.started > self.limits.deadline:
            raise FileError(f"the transfer took more than {self.limits.deadline}s; tried again next poll")
        self.chunks.append(chunk)

    def data(self, size_now: int | None) -> bytes:
        """The file's bytes, once the transfer has ended and the server says it is `size_now`
        bytes long (None: it would not say)."""
        if self.entry.size is not None and self.received != self.entry.size:
            raise StillWriting(f"{self.received} bytes came of the {self.entry.size} listed")
        if size_now is not None and size_now != self.received:
            raise StillWriting(f"it grew to {size_now} bytes while it was fetched")
        return b"".join(self.chunks)


def _fetch(ftp: ftplib.FTP, entry: Entry, limits: Limits) -> bytes:
    transfer = Transfer(entry, limits)
    try:
        ftp.retrbinary(f"RETR {entry.name}", transfer.add, blocksize=_CHUNK)
    except FileError as exc:
        raise Cut(str(exc)) from None
    return transfer.data(_size(ftp, entry.name))


class Poller(http_poll.Poller):
    """Polls each FTP source in a thread of its own, until `stop`: the HTTP poller's schedule
    (interval with jitter, backoff, a schedule that outlives a restart), with this module's poll.

    `context`: the TLS context for ftps:// sources, for a private CA; the system's by default.
    """

    transport = TRANSPORT
    state_file = "ftp-state.json"
    Result = PollResult

    def __init__(
        self, sites: list[Site], *, context: ssl.SSLContext | None = None, limits: Limits = Limits(), **kwargs
    ):
        super().__init__(sites, limits=limits, **kwargs)
        self.context = context

    @classmethod
    def from_config(cls, **kwargs) -> Poller:
        return cls(sites(), **kwargs)

    def poll_once(self, site: Site, state: dict) -> PollResult:
        return poll(site, state, limits=self.limits, context=self.context, stop=self._stop)

    def transport_of(self, site: Site) -> str:
        return site.transport

    def health_error(self, result: PollResult) -> str | None:
        # A file refused as too big, or deletes that keep failing, need someone as much as a
        # server that is down.
        return result.error
