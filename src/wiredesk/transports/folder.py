"""A source's folder on a remote server, as the folder poll (transports/ftp.py) takes files from
it: the protocol every server kind implements (`Folder`: FTP and FTPS in ftp.py, SFTP in
sftp.py), what a listing gives (`Entry`), the errors that tell a failed file from a failed
session, and one file's transfer held to the limits (`Transfer`).
"""

from __future__ import annotations

import posixpath
import time
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from wiredesk.config.sources import SourceConfig
from wiredesk.transports.polling import Limits
from wiredesk.transports.store import FILENAME_LENGTH


def kind(config: SourceConfig) -> str:
    """What the source's deliveries and its health name the way they came: "ftp" (FTPS too) or "sftp"."""
    return "sftp" if urlsplit(config.ftp).scheme.lower() == "sftp" else "ftp"


def path(config: SourceConfig) -> str:
    """The folder's path on the server, from the `ftp` URL: relative to the login folder, as
    RFC 1738 (and curl) read it; "%2F" at its start makes it absolute."""
    return unquote(urlsplit(config.ftp).path[1:])


def path_of(config: SourceConfig, name: str) -> str:
    """A file's path on the server, as deliveries record it."""
    return posixpath.join(path(config), name)[:FILENAME_LENGTH]


@dataclass(frozen=True)
class Entry:
    name: str
    size: int | None  # None: the server would not say
    modify: str | None  # the server's YYYYMMDDHHMMSS[.sss], compared as given, never parsed


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


def oldest_first(entries: list[Entry]) -> list[Entry]:
    return sorted(entries, key=lambda entry: (entry.modify or "", entry.name))


class Transfer:
    """One file's bytes as they come, over any protocol, held to the limits: FileError past the
    size limit or the deadline, StillWriting when the bytes do not match the listing."""

    def __init__(self, entry: Entry, limits: Limits):
        if entry.size is not None and entry.size > limits.max_bytes:
            raise FileError(f"{entry.size} bytes, more than the limit of {limits.max_bytes}; left on the server")
        if entry.size == 0:
            raise StillWriting("it is empty")
        self.entry, self.limits = entry, limits
        self.chunks: list[bytes] = []
        self.received, self.started = 0, time.monotonic()

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
