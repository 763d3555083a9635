"""The inbox folder: files dropped into DATA/inbox (or DATA/inbox/<source>/) become deliveries.

A file is taken when its writer closes it or when it is renamed into place, so half-written files
are never read; names that editors and transfer tools use for temporary files are ignored. Once
the delivery is committed the file moves to DATA/archive/<date>/: the database holds the bytes.
If processing then quarantines the delivery, its file moves on to DATA/error/<date>/, beside a
`<name>.reason.txt` that says why, for whoever watches the folders rather than the desk; once a
fix and `wiredesk reprocess` publish it, it moves back to the archive and its reason goes.

Only regular files placed in the inbox are read. Whatever else is found there is refused unread
and moved to the error folder beside its reason, and recorded as a quarantined delivery:
- a symbolic link, wherever it points (a link to /etc/passwd or to the desk's own secret key
  must never become an article), and anything reached through a linked folder;
- a device, a FIFO or a socket (reading one could block for ever or change a device's state);
- a file the desk may not or cannot read (permissions, an I/O error): it is set aside, so it can
  neither stall the files after it nor stop the desk from starting;
- a file over store.MAX_BYTES (a video, a disk image dropped in the wrong folder), so that
  reading it whole cannot take the desk's memory.
A folder named after a source that sources.toml does not know is refused too (see sources.py):
its files are moved aside with the reason, and no source is made for it.

The checks are made on what is opened, not on a name looked up before: every folder on the way
and the file itself are opened without following links, and the file is checked once open, so a
link swapped in between a check and a read is not followed either.

The watcher reads the kernel's own events (inotify, on Linux): a close after writing, or a rename
into the folder, is taken the moment it happens, with no guessing by time. A file that arrives
without either (a hard link, a copy made while the desk was down, a system without inotify) is
taken by the scan once its size and modification time have held still for SETTLE_SECONDS: a
writer that pauses for longer than that with the file open, and does not close it in between, is
the one case in which a file can be taken before it is whole; write under a temporary name (see
TEMPORARY_SUFFIXES) and rename, as transfer tools do, and it cannot happen.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import stat
import threading
import time
from pathlib import Path

from django.conf import settings
from django.dispatch import receiver
from django.utils import timezone
from inotify_simple import INotify, flags

from wiredesk.config import sources
from wiredesk.db import thread_connections
from wiredesk.desk import pipeline
from wiredesk.models import Delivery
from wiredesk.transports import store

log = logging.getLogger(__name__)

TEMPORARY_SUFFIXES = (".tmp", ".part", ".partial", ".filepart", ".crdownload", ".swp", "~")
# A file nobody announced is taken once its size and modification time have held still this
# long. The scan runs every second, so such a file is taken within SETTLE_SECONDS + 1.
SETTLE_SECONDS = 5.0
REASON_SUFFIX = ".reason.txt"
_KINDS = {
    stat.S_IFLNK: "a symbolic link",
    stat.S_IFDIR: "a folder",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
}
_OPEN = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC


def is_temporary(path: Path) -> bool:
    return path.name.startswith((".", "~")) or path.name.lower().endswith(TEMPORARY_SUFFIXES)


class Refused(Exception):
    """What was found in the inbox is not a file the desk may read; the message says why, and
    `entry` is what to move aside: the file, or the link met on the way to it."""

    def __init__(self, message: str, entry: Path | None = None):
        super().__init__(message)
        self.entry = entry


class Inbox:
    def __init__(self, inbox: Path, archive: Path, error: Path):
        self.inbox = inbox
        self.archive = archive
        self.error = error
        self._lock = threading.Lock()
        # What the scan saw of each file not yet taken: (size, mtime) and since when it held.
        self._seen: dict[Path, tuple[tuple[int, int], float]] = {}
        # What could be neither taken nor moved aside, as it was then: not tried again unchanged.
        self._stuck: dict[Path, tuple[int, int] | None] = {}
        self._config_error = ""

    def source_of(self, path: Path) -> str | None:
        relative = path.relative_to(self.inbox)
        return relative.parts[0] if len(relative.parts) > 1 else None

    def take(self, path: Path) -> int | None:
        """Store the file as a delivery, archive it, queue its processing; or refuse it, moving it
        aside with the reason. Returns the delivery id (None when there was nothing to take)."""
        with self._lock:
            if is_temporary(path) or not os.path.lexists(path):
                return None
            self._seen.pop(path, None)
            filename, source = str(path.relative_to(self.inbox)), self.source_of(path)
            try:
                if source is not None:
                    sources.check(source)
                data, size = self._read(path)
            except sources.UnknownSource as exc:
                self._refuse(path, f"{filename}: {exc}", record=False)
                return None
            except sources.ConfigError as exc:
                # sources.toml is broken: whether the folder is a source cannot be told, so its
                # files wait in the inbox until the file is fixed (said once, not every second).
                if str(exc) != self._config_error:
                    log.error("inbox: files in source folders wait until sources.toml is fixed: %s", exc)
                self._config_error = str(exc)
                return None
            except Refused as exc:
                delivery = self._refuse(exc.entry or path, f"{filename}: {exc}", source=source)
                return delivery and delivery.pk
            if data is None:
                return store.store(
                    b"",
                    source=source,
                    transport="inbox",
                    label=filename,
                    size=size,
                    keep=lambda stored: self._set_aside_unread(path, stored.delivery),
                ).pk
            return store.store(
                data, source=source, transport="inbox", label=filename, keep=lambda stored: self._keep(path, stored)
            ).pk

    def _keep(self, path: Path, stored: store.Stored) -> None:
        """Archive a file taken. Bytes stored before go where that delivery's file is: with the
        archive's copy, or beside its reason when that delivery waits in quarantine."""
        waiting = stored.again and stored.delivery.status != Delivery.Status.PROCESSED
        _move(path, (self.error if waiting else self.archive) / _day(stored.delivery))

    def _set_aside_unread(self, path: Path, delivery: Delivery) -> None:
        _write_reason(_move(path, self.error / _day(delivery)), delivery)

    def _read(self, path: Path) -> tuple[bytes | None, int]:
        """The file's bytes (None when it is over the limit) and its size, opened without following
        a link at any step. Raises Refused."""
        parts = path.relative_to(self.inbox).parts
        folder = os.open(self.inbox, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            for depth, part in enumerate(parts[:-1], 1):
                try:
                    inner = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=folder)
                except OSError as exc:
                    if exc.errno in (errno.ENOTDIR, errno.ELOOP):  # O_DIRECTORY meets a link first
                        exc = OSError(errno.ELOOP, exc.strerror) if _is_link(part, folder) else exc
                    raise Refused(_why(exc, f"its folder {part}"), self.inbox.joinpath(*parts[:depth])) from None
                os.close(folder)
                folder = inner
            kind = _kind(os.lstat(parts[-1], dir_fd=folder).st_mode)
            if kind:
                raise Refused(f"{kind}, not a file: the inbox reads only files placed in it")
            try:
                fd = os.open(parts[-1], _OPEN, dir_fd=folder)
            except OSError as exc:
                raise Refused(_why(exc, "it")) from None
        finally:
            os.close(folder)
        try:
            info = os.fstat(fd)
            if kind := _kind(info.st_mode):  # swapped in since the look above
                raise Refused(f"{kind}, not a file: the inbox reads only files placed in it")
            if info.st_size > store.MAX_BYTES:
                return None, info.st_size
            chunks, size = [], 0
            while chunk := os.read(fd, 1 << 20):
                chunks.append(chunk)
                size += len(chunk)
                if size > store.MAX_BYTES:  # grew since
                    return None, size
            return b"".join(chunks), size
        except OSError as exc:
            raise Refused(_why(exc, "it")) from None
        finally:
            os.close(fd)

    def _refuse(self, path: Path, reason: str, *, source: str | None = None, record: bool = True) -> Delivery | None:
        """Move what cannot be taken aside, unread, with the reason beside it; and, when `record`,
        record it as a quarantined delivery of `source` (not for a folder of no known source,
        which must not become one)."""
        delivery = None
        if not record:
            log.warning("inbox: %s", reason)  # else the store step's line says it
        else:
            delivery = store.store(
                b"",
                source=source,
                transport="inbox",
                label=str(path.relative_to(self.inbox)),
                problem=reason,
                unread=True,
            ).delivery
        try:
            kept = _move(path, self.error / timezone.now().strftime("%Y-%m-%d"))
        except OSError as exc:
            # Not even movable (its folder is not ours to write): left where it is, and not
            # looked at again until it changes.
            log.error("inbox: %s cannot be moved aside either (%s); it is left where it is", path, exc)
            self._stuck[path] = _signature(path)
            return delivery
        kept.with_name(kept.name + REASON_SUFFIX).write_text(
            f"{reason}\nThe desk did not read it."
            + (f" Recorded as delivery {delivery.pk}." if delivery else "")
            + "\n",
            encoding="utf-8",
        )
        return delivery

    def set_aside(self, delivery: Delivery) -> Path:
        """Move a quarantined delivery's file from the archive to the error folder, and write the
        reason beside it. Returns where the file now is. A file already there (a reprocess that
        failed again) stays the one copy, its reason brought up to date."""
        day = _day(delivery)
        folder = self.error / day
        kept = _copy_in(folder, delivery)
        if kept is None:
            archived = _copy_in(self.archive / day, delivery)
            if archived is not None:
                kept = _move(archived, folder)
            else:
                # Not in the archive (cleared since, or taken before a change of day): the
                # database holds the bytes.
                folder.mkdir(parents=True, exist_ok=True)
                kept = _free(folder / Path(delivery.filename).name)
                kept.write_bytes(bytes(delivery.data))
            log.info("inbox: %s set aside in %s", delivery.filename, kept)
        _write_reason(kept, delivery)
        return kept

    def take_back(self, delivery: Delivery) -> Path | None:
        """Move a delivery's file set aside in the error folder back to the archive, and remove its
        reason. Returns where the file now is; None if it was not there."""
        day = _day(delivery)
        kept = _copy_in(self.error / day, delivery)
        if kept is None:
            return None
        kept.with_name(kept.name + REASON_SUFFIX).unlink(missing_ok=True)
        archived = _move(kept, self.archive / day)
        log.info("inbox: %s published after all; back in %s", delivery.filename, archived)
        return archived

    def scan(self, settle: float = SETTLE_SECONDS) -> int:
        """Take every file whose size and modification time have held still for `settle` seconds
        (0: every file now), and refuse whatever is not a file. Never raises for one entry: a
        failure is logged and the scan goes on to the next."""
        taken, now, present = 0, time.monotonic(), set()
        for path, entry_stat in self._entries():
            present.add(path)
            held = entry_stat and (entry_stat.st_size, entry_stat.st_mtime_ns)
            if path in self._stuck and self._stuck[path] == held:
                continue
            try:
                if entry_stat is None or not stat.S_ISREG(entry_stat.st_mode) or settle <= 0:
                    taken += self.take(path) is not None
                    continue
                seen = self._seen.get(path)
                if seen is None or seen[0] != held:
                    self._seen[path] = (held, now)
                elif now - seen[1] >= settle:
                    taken += self.take(path) is not None
            except Exception:
                log.exception("inbox: could not take %s; the scan goes on", path)
        for known in (self._seen, self._stuck):
            for gone in known.keys() - present:
                del known[gone]
        return taken

    def _entries(self):
        """Each entry under the inbox that is not a folder, with its own (not a link's target's)
        status, None where it cannot be read; folders are walked into, never through a link."""
        folders = [self.inbox]
        while folders:
            folder = folders.pop()
            try:
                entries = sorted(os.scandir(folder), key=lambda e: e.name)
            except OSError as exc:
                log.warning("inbox: cannot list %s: %s", folder, exc)
                continue
            for entry in entries:
                path = Path(entry.path)
                if is_temporary(path):
                    continue
                try:
                    entry_stat = entry.stat(follow_symlinks=False)
                except OSError:
                    entry_stat = None
                if entry_stat is not None and stat.S_ISDIR(entry_stat.st_mode):
                    folders.append(path)
                else:
                    yield path, entry_stat


def _is_link(name: str, folder: int) -> bool:
    try:
        return stat.S_ISLNK(os.lstat(name, dir_fd=folder).st_mode)
    except OSError:
        return False


def _signature(path: Path) -> tuple[int, int] | None:
    try:
        found = os.lstat(path)
    except OSError:
        return None
    return found.st_size, found.st_mtime_ns


def _kind(mode: int) -> str | None:
    """What a file's mode says it is, when that is not a regular file."""
    return None if stat.S_ISREG(mode) else _KINDS.get(stat.S_IFMT(mode), "not a regular file")


def _why(exc: OSError, what: str) -> str:
    if exc.errno == errno.ELOOP:
        return f"{what} is a symbolic link: the inbox never follows one"
    if exc.errno == errno.ENOTDIR:
        return f"{what} is not a folder"
    return f"{what} could not be read: {exc.strerror or exc}"


def _day(delivery: Delivery) -> str:
    return delivery.received_at.strftime("%Y-%m-%d")


def _write_reason(kept: Path, delivery: Delivery) -> None:
    kept.with_name(kept.name + REASON_SUFFIX).write_text(
        f"{delivery.filename}: delivery {delivery.pk}, received {delivery.received_at.isoformat(timespec='seconds')}, "
        f"could not be published.\n{delivery.error}\n"
        f"After a fix, `wiredesk reprocess {delivery.pk}` runs it again.\n",
        encoding="utf-8",
    )


def _free(target: Path) -> Path:
    """`target`, or the first of name.1.ext, name.2.ext... not taken."""
    n = 1
    free = target
    while os.path.lexists(free):
        free = target.with_name(f"{target.stem}.{n}{target.suffix}")
        n += 1
    return free


def _copy_in(folder: Path, delivery: Delivery) -> Path | None:
    """The delivery's file in `folder` (under its name, or a name `_free` made of it), if there."""
    return next(
        (f for f in _copies(folder, Path(delivery.filename).name) if f.read_bytes() == bytes(delivery.data)), None
    )


def _copies(folder: Path, name: str) -> list[Path]:
    """The files in `folder` that `_free` could have named after `name`: regular files only, as
    refused links and devices are kept there too, never to be read."""
    stem, suffix = Path(name).stem, Path(name).suffix
    return [
        f
        for f in folder.glob(f"{stem}*{suffix}")
        if (
            f.name == name or (f.name.startswith(f"{stem}.") and f.name.removesuffix(suffix)[len(stem) + 1 :].isdigit())
        )
        and stat.S_ISREG(os.lstat(f).st_mode)
    ]


def _move(path: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = _free(folder / path.name)
    shutil.move(path, target)
    return target


@receiver(pipeline.quarantined)
def _quarantined(sender, delivery: Delivery, **kwargs) -> None:
    if delivery.transport == "inbox":
        Inbox(settings.INBOX_DIR, settings.ARCHIVE_DIR, settings.ERROR_DIR).set_aside(delivery)


@receiver(pipeline.recovered)
def _recovered(sender, delivery: Delivery, **kwargs) -> None:
    if delivery.transport == "inbox":
        Inbox(settings.INBOX_DIR, settings.ARCHIVE_DIR, settings.ERROR_DIR).take_back(delivery)


class Watcher:
    """The inbox's inotify watch (Linux), in a thread of its own: a file closed after writing, or
    renamed into a watched folder, is taken the moment the kernel says so. Every folder of the
    inbox is watched, and a source folder made later is watched from when it appears (the scan
    takes what landed in it before)."""

    FILE_DONE = flags.CLOSE_WRITE | flags.MOVED_TO
    MASK = FILE_DONE | flags.CREATE | flags.ONLYDIR | flags.DONT_FOLLOW

    def __init__(self, inbox: Inbox):
        self.inbox = inbox
        self.inotify = INotify()
        self.folders: dict[int, Path] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="inbox-watch", daemon=True)
        for folder, _, _ in os.walk(inbox.inbox):  # never into a linked folder
            self._watch(Path(folder))

    def _watch(self, folder: Path) -> None:
        try:
            self.folders[self.inotify.add_watch(folder, self.MASK)] = folder
        except OSError:
            log.exception("inbox: cannot watch %s; the scan takes its files", folder)

    def start(self) -> Watcher:
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)
        self.inotify.close()

    def _run(self) -> None:
        with thread_connections():
            while not self._stop.is_set():
                self._turn()

    def _turn(self) -> None:
        for event in self.inotify.read(timeout=200):
            folder = self.folders.get(event.wd)
            if folder is None or not event.name:
                continue
            path = folder / event.name
            if event.mask & flags.ISDIR:
                if event.mask & (flags.CREATE | flags.MOVED_TO):
                    self._watch(path)  # a link to a folder is no folder here: the scan refuses it
            elif event.mask & self.FILE_DONE:
                try:
                    self.inbox.take(path)
                except Exception:
                    # The scan retries the file; the watcher must live on.
                    log.exception("inbox: could not take %s", path)


def watch(inbox: Inbox) -> Watcher | None:
    """Watch the inbox where the system tells of files (Linux); elsewhere the scan alone takes them."""
    inbox.inbox.mkdir(parents=True, exist_ok=True)
    try:
        return Watcher(inbox).start()
    except OSError:
        log.warning("inbox: no inotify here; files are taken by the scan, within %ss", SETTLE_SECONDS + 1)
        return None
