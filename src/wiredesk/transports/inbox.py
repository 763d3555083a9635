"""The inbox folder: files dropped into DATA/inbox (or DATA/inbox/<source>/) become deliveries.

A file is taken when its writer closes it or renames it into place, so half-written files are
never read; names that editors and transfer tools use for temporary files are ignored. Once the
delivery is committed the file moves to DATA/archive/<date>/: the database holds the bytes.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from pathlib import Path

from django.utils import timezone
from watchdog.events import FileSystemEventHandler
from watchdog.observers import Observer

from wiredesk import pipeline, tasks

log = logging.getLogger(__name__)

TEMPORARY_SUFFIXES = (".tmp", ".part", ".partial", ".filepart", ".crdownload", ".swp", "~")
# A file nobody announced (copied in while we were down, or by a tool whose close we missed)
# is taken by the scan once it has been left alone this long.
SETTLE_SECONDS = 1.0


def is_temporary(path: Path) -> bool:
    return path.name.startswith((".", "~")) or path.name.lower().endswith(TEMPORARY_SUFFIXES)


class Inbox:
    def __init__(self, inbox: Path, archive: Path):
        self.inbox = inbox
        self.archive = archive
        self._lock = threading.Lock()

    def source_of(self, path: Path) -> str | None:
        relative = path.relative_to(self.inbox)
        return relative.parts[0] if len(relative.parts) > 1 else None

    def take(self, path: Path) -> int | None:
        """Store the file as a delivery, archive it, queue its processing. Returns the delivery id."""
        with self._lock:
            if is_temporary(path) or not path.is_file():
                return None
            data = path.read_bytes()
            delivery = pipeline.receive(data, source=self.source_of(path), transport="inbox",
                                        filename=str(path.relative_to(self.inbox)))
            self._archive(path)
        tasks.process_delivery.enqueue(delivery.pk)
        log.info("inbox: %s stored as delivery %s", path.name, delivery.pk)
        return delivery.pk

    def _archive(self, path: Path) -> None:
        folder = self.archive / timezone.now().strftime("%Y-%m-%d")
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / path.name
        n = 1
        while target.exists():
            target = folder / f"{path.stem}.{n}{path.suffix}"
            n += 1
        shutil.move(path, target)

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


# A file renamed in from outside the inbox arrives as a bare "created" event with no writes
# after it; one being written gets "modified" events and then "closed". Wait this long to tell.
MOVED_IN_SECONDS = 0.2


class _Handler(FileSystemEventHandler):
    def __init__(self, inbox: Inbox):
        self.inbox = inbox
        self._being_written: set[str] = set()

    def _take(self, path: str) -> None:
        try:
            self.inbox.take(Path(path))
        except Exception:
            # The scan retries the file; the watcher thread must live on.
            log.exception("inbox: could not take %s", path)

    def on_created(self, event):
        if not event.is_directory:
            timer = threading.Timer(MOVED_IN_SECONDS, self._take_if_untouched, [event.src_path])
            timer.daemon = True
            timer.start()

    def on_modified(self, event):
        if not event.is_directory:
            self._being_written.add(event.src_path)

    def _take_if_untouched(self, path: str) -> None:
        if path not in self._being_written and Path(path).exists() and Path(path).stat().st_size:
            self._take(path)

    def on_closed(self, event):  # the writer closed the file: it is complete
        if not event.is_directory:
            self._being_written.discard(event.src_path)
            self._take(event.src_path)

    def on_moved(self, event):  # renamed into place: complete by convention
        if not event.is_directory and Path(event.dest_path).is_relative_to(self.inbox.inbox):
            self._take(event.dest_path)


def watch(inbox: Inbox) -> Observer:
    inbox.inbox.mkdir(parents=True, exist_ok=True)
    observer = Observer()
    observer.schedule(_Handler(inbox), str(inbox.inbox), recursive=True)
    observer.daemon = True
    observer.start()
    return observer
