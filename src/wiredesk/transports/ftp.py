"""FTP, FTPS and SFTP pull: each source with `ftp` in sources.toml has its folder emptied every
`interval`. This module holds the poll, whatever the protocol (over folder.py's `Folder`), and
FTP's side of it; sftp.py holds SFTP's (an sftp:// URL, with a key or a password, the server's
host key checked).

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
  is kept in the source's poll state (in the database, beside its lease: polling.py) by name,
  size and modify time. While the listing shows it unchanged, later polls, by whichever host
  holds the source, only retry the delete or move: no second fetch, no second delivery.
- The state is written after the poll, so a kill between `receive` and that write forgets
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
backoff and the same thread per source as the HTTP poller: the schedule of transports/polling.py,
which follows sources.toml as it changes.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import ftplib
import logging
import os
import posixpath
import ssl
import threading
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from wiredesk.config.sources import SourceConfig
from wiredesk.transports import folder, polling
from wiredesk.transports.folder import Cut, Entry, FileError, Folder, SessionError, StillWriting, Transfer
from wiredesk.transports.inbox import is_temporary
from wiredesk.transports.polling import CHUNK, Limits, PollResult
from wiredesk.transports.store import store

log = logging.getLogger(__name__)

TRANSPORT = "ftp"
# One file's transfer may take twice as long as an HTTP response: FTP files are whole packages.
LIMITS = Limits(deadline=60.0)
# Replies meaning the server does not know the command, as opposed to refusing it for this name.
_UNKNOWN_COMMAND = ("500", "502", "504")


def poll(
    config: SourceConfig,
    state: dict,
    *,
    limits: Limits = LIMITS,
    context: ssl.SSLContext | None = None,
    stop: threading.Event | None = None,
) -> PollResult:
    """Poll one source once: take every file in its folder, up to the limit, or until `stop` is set.
    `context` is as for `connect`."""
    state = copy.deepcopy(state)
    pending = state.setdefault("pending", {})
    result = PollResult(status="nothing", state=state)
    errors = []
    remote = None
    try:
        remote = open_folder(config, limits, context)
        entries = remote.listing()
        listed = {entry.name for entry in entries}
        # Gone from the server (taken by hand, or a move that did happen before a crash).
        for name in [name for name in pending if name not in listed]:
            del pending[name]
        for entry in [entry for entry in entries if not is_temporary(PurePosixPath(entry.name))][: limits.max_files]:
            if stop is not None and stop.is_set():
                break
            path = folder.path_of(config, entry.name)
            try:
                _take(remote, config, entry, pending, result)
            except StillWriting as exc:
                log.info("ftp: %s: %s; left for the next poll", path, exc)
                result.waiting.append(path)
            except Cut as exc:
                errors.append(f"{path}: {exc}")
                remote.close(clean=False)
                remote = None
                remote = open_folder(config, limits, context)  # the other files go on, on a new connection
            except FileError as exc:
                errors.append(f"{path}: {exc}")
            except SessionError as exc:
                raise SessionError(f"{path}: {exc}") from None
    except SessionError as exc:
        result.status = "error"
        errors.append(str(exc))
    finally:
        if remote is not None:
            remote.close(clean=result.status != "error")
    if result.deliveries and result.status != "error":
        result.status = "new"
    for error in errors:
        log.warning("ftp: %s: %s", config.slug, error)
    result.error = "; ".join(errors) or None
    return result.counted()


def open_folder(config: SourceConfig, limits: Limits = LIMITS, context: ssl.SSLContext | None = None) -> Folder:
    """The source's folder, logged in, by its URL's scheme; SessionError saying which step failed."""
    if folder.kind(config) == "sftp":
        from wiredesk.transports import sftp  # SSH is loaded only for the sources that use it

        return sftp.SftpFolder(config, limits)
    return FtpFolder(connect(config, limits, context), limits)


class _FTP_TLS(ftplib.FTP_TLS):
    """FTP_TLS whose data connections resume the control connection's TLS session, which vsftpd
    and ProFTPD demand by default (so that only the client logged in can open one)."""

    def ntransfercmd(self, cmd, rest=None):
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        if self._prot_p:
            conn = self.context.wrap_socket(conn, server_hostname=self.host, session=self.sock.session)
        return conn, size


def connect(config: SourceConfig, limits: Limits = LIMITS, context: ssl.SSLContext | None = None) -> ftplib.FTP:
    """A logged-in connection in the source's folder, or a SessionError saying which step failed.

    For ftps://, the control and data connections are both TLS (AUTH TLS, PROT P), checked with
    `context`: by default the system's CAs, with the server's name.
    """
    parts = urlsplit(config.ftp)
    user = unquote(parts.username or "") or "anonymous"
    password = ""  # ftplib sends "anonymous@" for the anonymous user
    if config.ftp_password_env:
        password = os.environ.get(config.ftp_password_env)
        if password is None:
            raise SessionError(f"the environment variable {config.ftp_password_env} (ftp_password_env) is not set")
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
        if path := folder.path(config):
            doing = f"changing to the folder {path}"
            ftp.cwd(path)
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
        return limits.timed_out()
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
    return folder.oldest_first(entries)


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


def _take(remote: Folder, config: SourceConfig, entry: Entry, pending: dict, result: PollResult) -> None:
    """Store the file unless it is stored already, then delete or move it."""
    path = folder.path_of(config, entry.name)
    known = pending.get(entry.name)
    if not (known and entry.modify and (known["size"], known["modify"]) == (entry.size, entry.modify)):
        stored = store(remote.fetch(entry), source=config.slug, transport=folder.kind(config), label=path)
        if not stored.again:
            result.deliveries.append(stored.pk)
        known = pending[entry.name] = {"size": entry.size, "modify": entry.modify, "delivery": stored.pk}
    try:
        if config.ftp_after == "move":
            remote.move(entry.name, config.ftp_move_to)
        else:
            remote.delete(entry.name)
    except FileError as exc:
        done = f"moved to {config.ftp_move_to}/" if config.ftp_after == "move" else "deleted"
        raise FileError(
            f"stored as delivery {known['delivery']} but not {done} ({exc}); "
            f"it is not stored again while it stays as it is"
        ) from None
    del pending[entry.name]


def _fetch(ftp: ftplib.FTP, entry: Entry, limits: Limits) -> bytes:
    transfer = Transfer(entry, limits)
    try:
        ftp.retrbinary(f"RETR {entry.name}", transfer.add, blocksize=CHUNK)
    except FileError as exc:
        raise Cut(str(exc)) from None
    return transfer.data(_size(ftp, entry.name))


class Poller(polling.Poller):
    """Polls each source with `ftp`, each in a thread of its own, until `stop` (polling.Poller:
    the schedule, the state, health), by this module's `poll`.

    `configs`: the sources to poll; None for those of sources.toml, followed as it changes.
    `context`: the TLS context for ftps:// sources, for a private CA; the system's by default.
    """

    def __init__(
        self,
        configs: list[SourceConfig] | None = None,
        *,
        context: ssl.SSLContext | None = None,
        limits: Limits = LIMITS,
        **kwargs,
    ):
        super().__init__(Ftp(limits, context), configs, **kwargs)

    @classmethod
    def from_config(cls, **kwargs) -> Poller:
        return cls(**kwargs)


@dataclasses.dataclass(frozen=True)
class Ftp:
    """FTP, FTPS and SFTP pull, as polling.Poller asks a transport (polling.Transport)."""

    limits: Limits
    context: ssl.SSLContext | None
    name = TRANSPORT

    def settings(self, config: SourceConfig) -> tuple | None:
        if not config.ftp:
            return None
        return (
            config.ftp,
            config.ftp_password_env,
            config.ftp_key_env,
            config.ftp_after,
            config.ftp_move_to,
            config.interval,
        )

    def poll(self, config: SourceConfig, state: dict, stop: threading.Event) -> PollResult:
        return poll(config, state, limits=self.limits, context=self.context, stop=stop)

    def health_name(self, config: SourceConfig) -> str:
        return folder.kind(config)

    def health_error(self, result: PollResult) -> str | None:
        # A file refused as too big, or deletes that keep failing, need someone as much as a
        # server that is down.
        return result.error
