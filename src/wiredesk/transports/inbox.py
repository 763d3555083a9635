"""The inbox folder: files dropped into DATA/inbox (or DATA/inbox/<source>/) become deliveries.

A file is taken when its writer closes it or when it is renamed into place, so half-written files
are never read; names that editors and transfer tools use for temporary files are ignored. Once
the delivery is committed the file moves to DATA/archive/<date>/: the database holds the bytes.
If processing then quarantines the delivery, its file moves on to DATA/error/<date>/, beside a
`<name>.reason.txt` that says why, for whoever watches the folders rather than the desk; once a
fix and `wiredesk reprocess` publish it, it moves back to the archive and its reason goes.

A file over MAX_BYTES (a video, a disk image dropped in the wrong folder) is no agency copy, and
reading it whole could take the desk's memory: it goes straight to the error folder, unread,
and the desk records a quarantined delivery that names it and its size.

The watcher reads the kernel's own events (inotify, on Linux): a close after writing, or a rename
into the folder, is taken the moment it happens, with no guessing by time. A file that arrives
without either (a hard link, a copy made while the desk was down, a system without inotify) is
taken by the scan once it has been left alone for SETTLE_SECONDS.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from pathlib import Path

from django.conf import settings
from django.dispatch import receiver
from inotify_simple import INotify, flags

from wiredesk import pipeline, tasks
from wiredesk.db import thread_connections
from wiredesk.models import Delivery

log = logging.getLogger(__name__)

TEMPORARY_SUFFIXES = (".tmp", ".part", ".partial", ".filepart", ".crdownload", ".swp", "~")
# A file nobody announced (copied in while we were down, or by a tool whose close we missed)
# is taken by the scan once it has been left alone this long.
SETTLE_SECONDS = 1.0
REASON_SUFFIX = ".reason.txt"
# As push, HTTP polling and FTP take: copy is kilobytes; the largest NewsML package seen, a few MB.
MAX_BYTES = 16 * 1024 * 1024


def is_temporary(path: Path) -> bool:
    return path.name.startswith((".", "~")) or path.name.lower().endswith(TEMPORARY_SUFFIXES)


class Inbox:
    def __init__(self, inbox: Path, archive: Path, error: Path):
        self.inbox = inbox
        self.archive = archive
        self.error = error
        self._lock = threading.Lock()

    def source_of(self, path: Path) -> str | None:
        relative = path.relative_to(self.inbox)
        return relative.parts[0] if len(relative.parts) > 1 else None

    def take(self, path: Path) -> int | None:
        """Store the file as a delivery, archive it, queue its processing. Returns the delivery id."""
        with self._lock:
            if is_temporary(path) or not path.is_file():
                return None
            source, filename, size = self.source_of(path), str(path.relative_to(self.inbox)), path.stat().st_size
            if size > MAX_BYTES:
                delivery = pipeline.receive(b"", source=source, transport="inbox", filename=filename, size=size, problem=(
                    f"a file of {size:,} bytes, more than the inbox takes ({MAX_BYTES:,}): no agency copy is "
                    f"that large, so it was not read; it is kept in the error folder"))
                _write_reason(_move(path, self.error / delivery.received_at.strftime("%Y-%m-%d")), delivery)
                return delivery.pk
            delivery = pipeline.receive(path.read_bytes(), source=source, transport="inbox", filename=filename)
            _move(path, self.archive / delivery.received_at.strftime("%Y-%m-%d"))
        tasks.process_delivery.enqueue(delivery.pk)
        log.info("inbox: %s stored as delivery %s", path.name, delivery.pk)
        return delivery.pk

    def set_aside(self, delivery: Delivery) -> Path:
        """Move a quarantined delivery's file from the archive to the error folder, and write the
        reason beside it. Returns where the file now is."""
        day = delivery.received_at.strftime("%Y-%m-%d")
        folder = self.error / day
        archived = _copy_in(self.archive / day, delivery)
        if archived is not None:
            kept = _move(archived, folder)
        else:
            # Not in the archive (cleared since, or taken before a change of day): the database
            # holds the bytes.
            folder.mkdir(parents=True, exist_ok=True)
            kept = _free(folder / Path(delivery.filename).name)
            kept.write_bytes(bytes(delivery.data))
        _write_reason(kept, delivery)
        log.info("inbox: %s set aside in %s", delivery.filename, kept)
        return kept

    def take_back(self, delivery: Delivery) -> Path | None:
        """Move a delivery's file set aside in the error folder back to the archive, and remove its
        reason. Returns where the file now is; None if it was not there."""
        day = delivery.received_at.strftime("%Y-%m-%d")
        kept = _copy_in(self.error / day, delivery)
        if kept is None:
            return None
        kept.with_name(kept.name + REASON_SUFFIX).unlink(missing_ok=True)
        archived = _move(kept, self.archive / day)
        log.info("inbox: %s published after all; back in %s", delivery.filename, archived)
        return archived

    def scan(self, settle: float = SETTLE_SECONDS) -> int:
        taken = 0
        cutoff = time.time() - settle
        for path in sorted(self.inbox.rglob("*")):
            try:
                if path.is_file() and not is_temporary(path) and path.stat().st_mtime <= cutoff:
                    taken += self.take(path) is not None
            except FileNotFoundError:
                continue  # taken by the watcher meanwhile
        return taken


def _write_reason(kept: Path, delivery: Delivery) -> None:
    kept.with_name(kept.name + REASON_SUFFIX).write_text(
        f"{delivery.filename}: delivery {delivery.pk}, received {delivery.received_at.isoformat(timespec='seconds')}, "
        f"could not be published.\n{delivery.error}\n"
        f"After a fix, `wiredesk reprocess {delivery.pk}` runs it again.\n", encoding="utf-8")


def _free(target: Path) -> Path:
    """`target`, or the first of name.1.ext, name.2.ext... not taken."""
    n = 1
    free = target
    while free.exists():
        free = target.with_name(f"{target.stem}.{n}{target.suffix}")
        n += 1
    return free


def _copy_in(folder: Path, delivery: Delivery) -> Path | None:
    """The delivery's file in `folder` (under its name, or a name `_free` made of it), if there."""
    return next((f for f in _copies(folder, Path(delivery.filename).name) if f.read_bytes() == bytes(delivery.data)),
                None)


def _copies(folder: Path, name: str) -> list[Path]:
    """The files in `folder` that `_free` could have named after `name`."""
    stem, suffix = Path(name).stem, Path(name).suffix
    return [f for f in folder.glob(f"{stem}*{suffix}") if f.name == name
            or (f.name.startswith(f"{stem}.") and f.name.removesuffix(suffix)[len(stem) + 1:].isdigit())]


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
    MASK = FILE_DONE | flags.CREATE | flags.ONLYDIR

    def __init__(self, inbox: Inbox):
        self.inbox = inbox
        self.inotify = INotify()
        self.folders: dict[int, Path] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="inbox-watch", daemon=True)
        for folder in [inbox.inbox, *(p for p in inbox.inbox.rglob("*") if p.is_dir())]:
            self._watch(folder)

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
                    self._watch(path)
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
