"""The tree's files, and the work folder beside it that only wiredesk reads."""

from __future__ import annotations

import contextlib
import fcntl
import gzip
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from django.conf import settings

# As Django's GZipMiddleware: below this, compressing gains nothing.
GZIP_MIN = 200


def tree() -> Path:
    return settings.WIREDESK["STATIC_TREE"]


def work() -> Path:
    # Beside the tree, not in it, so nginx cannot serve it.
    folder = tree().with_name(tree().name + ".state")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@contextlib.contextmanager
def locked():
    """One writer at a time, across threads and processes (`wiredesk render` beside a running
    desk): each renders after taking the lock, so the last writer writes the newest state."""
    with open(work() / "lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def read_state() -> dict:
    try:
        return json.loads((work() / "state.json").read_text())
    except FileNotFoundError:
        return {}


def save_state(state: dict) -> None:
    replace(work() / "state.json", json.dumps(state).encode(), time.time())


def at(path: str) -> Path:
    """The file that holds the page at this address."""
    return tree() / (path.lstrip("/") + ("index.html" if path.endswith("/") else ""))


def put(file: Path, data: bytes) -> bool:
    """Write the page unless the file holds it already; returns whether it wrote."""
    try:
        if file.read_bytes() == data:
            return False  # the same bytes keep their ETag, so caches holding them need not fetch again
    except FileNotFoundError:
        pass
    file.parent.mkdir(parents=True, exist_ok=True)
    packed = file.with_name(file.name + ".gz")
    # Without a time in its header, the same page always packs to the same bytes.
    versions = [(packed, gzip.compress(data, mtime=0) if len(data) >= GZIP_MIN else None), (file, data)]
    stamp = time.time()
    for path, new in versions:
        with contextlib.suppress(FileNotFoundError):
            old = path.stat()
            # nginx's ETag is the size and the mtime in whole seconds: a new version of the same
            # size within the same second would pass for the old one, so its time moves a second on.
            if new is not None and old.st_size == len(new) and int(old.st_mtime) >= int(stamp):
                stamp = int(old.st_mtime) + 1
    for path, new in versions:  # the gzip copy first, so nginx never pairs a new one with an old page
        if new is None:
            path.unlink(missing_ok=True)
        else:
            replace(path, new, stamp)
    return True


def drop(file: Path) -> None:
    file.unlink(missing_ok=True)  # first: nginx only serves the gzip copy of a page it finds
    file.with_name(file.name + ".gz").unlink(missing_ok=True)


def replace(file: Path, data: bytes, stamp: float) -> None:
    handle, temporary = tempfile.mkstemp(dir=file.parent, prefix=f".{file.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temporary, 0o644)  # mkstemp's 0600 would keep nginx's workers out
        os.utime(temporary, (stamp, stamp))
        os.replace(temporary, file)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def remove_story(pk: int) -> None:
    remove(tree() / "story" / str(pk))


def remove(path: Path) -> None:
    """A file or a folder of the tree, gone."""
    if path.is_dir() and not path.is_symlink():
        for file in path.rglob("index.html"):
            drop(file)  # each page before its folder, so nginx never finds half of one
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
