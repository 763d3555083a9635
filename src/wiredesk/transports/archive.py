"""The files of an archive an operator hands the desk (`wiredesk import PATH...`): folders, tar
files (plain, .gz, .bz2, .xz) and zip files, and archives and folders inside them, each file
one delivery.

The order is fixed, so that a story's update is applied after the story whatever the archive
(an archive's modification times are unreliable): the paths in the order given, a folder's
entries and an archive's members sorted by name, an archive inside another where it comes.

Nothing is ever written to disk, and nothing is followed or trusted:
- a symbolic or hard link, in a folder or an archive, is refused, wherever it points: a link to
  /etc/passwd must never become an article;
- a member named with an absolute path or a `..` step is refused: such names are how archives
  reach outside the folder they are unpacked into, and no agency's archive needs one;
- a device, a FIFO or a socket is refused (reading one could block for ever);
- a file or member over store.MAX_BYTES is refused unread (its size is what it declares, or
  what reading it found), so that a decompression bomb takes no more memory than that.
A file refused is recorded as a quarantined delivery naming the reason (`Entry.problem`), as the
inbox does, and the run goes on; an archive that cannot be read at all (corrupt, truncated) is
one such entry, after the members read before the fault.
"""

from __future__ import annotations

import os
import stat
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from wiredesk.transports import store

TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")
ZIP_SUFFIXES = (".zip",)
# An archive inside an archive is opened from its bytes: it may be larger than a delivery, not
# without bound.
MAX_NESTED_BYTES = 16 * store.MAX_BYTES
# Where an archive's member names start: "week.tar.gz!/2024/story.txt".
INSIDE = "!/"


@dataclass(frozen=True)
class Entry:
    """One file found: its name (the path, and the member's inside an archive), the folders on
    the way to it from the path given (inside an archive too: an archive is no folder), its bytes,
    and, when it is refused, why (its bytes then empty) and how large it said it was."""

    name: str
    folders: tuple[str, ...] = ()
    data: bytes = b""
    problem: str | None = None
    size: int = 0


def entries(paths: list[Path]) -> Iterator[Entry]:
    """Every file under `paths`, in the fixed order."""
    for path in paths:
        yield from _path(path, str(path), (), top=True)


def _is_archive(name: str) -> bool:
    return name.lower().endswith(TAR_SUFFIXES + ZIP_SUFFIXES)


def _path(path: Path, name: str, folders: tuple[str, ...], top: bool = False) -> Iterator[Entry]:
    try:
        info = os.lstat(path)
    except OSError as exc:
        yield Entry(name, folders, problem=f"cannot be read: {exc.strerror or exc}")
        return
    if stat.S_ISDIR(info.st_mode):
        try:
            children = sorted(os.listdir(path))
        except OSError as exc:
            yield Entry(name, folders, problem=f"the folder cannot be listed: {exc.strerror or exc}")
            return
        for child in children:
            yield from _path(path / child, f"{name}/{child}", folders if top else (*folders, path.name))
    elif stat.S_ISLNK(info.st_mode):
        yield Entry(name, folders, problem="a symbolic link: an import never follows one")
    elif not stat.S_ISREG(info.st_mode):
        yield Entry(
            name, folders, problem="not a regular file (a device, a FIFO or a socket): an import reads only files"
        )
    elif _is_archive(name):
        try:
            # Opened without following a link swapped in since the look above.
            with open(os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC), "rb") as handle:
                yield from _archive(handle, name, folders)
        except OSError as exc:
            yield Entry(name, folders, problem=f"cannot be read: {exc.strerror or exc}")
    elif info.st_size > store.MAX_BYTES:
        yield Entry(name, folders, problem=store.too_large(info.st_size), size=info.st_size)
    else:
        try:
            with open(os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC), "rb") as handle:
                yield _bounded(name, folders, handle)
        except OSError as exc:
            yield Entry(name, folders, problem=f"cannot be read: {exc.strerror or exc}")


def _bounded(name: str, folders: tuple[str, ...], handle: IO[bytes]) -> Entry:
    """The file's bytes, read no further than the limit."""
    data = handle.read(store.MAX_BYTES + 1)
    if len(data) > store.MAX_BYTES:
        return Entry(name, folders, problem=store.too_large(len(data)), size=len(data))
    return Entry(name, folders, data=data, size=len(data))


def _archive(handle: IO[bytes], name: str, folders: tuple[str, ...]) -> Iterator[Entry]:
    try:
        if name.lower().endswith(ZIP_SUFFIXES):
            yield from _zip(handle, name, folders)
        else:
            yield from _tar(handle, name, folders)
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
        # zlib, lzma and bz2 raise their own errors (OSError, EOFError, ValueError) on a broken stream.
        yield Entry(name, folders, problem=f"the archive cannot be read: {type(exc).__name__}: {exc}")


def _unsafe(member: str) -> str | None:
    """Why an archive's member name is refused, if it is."""
    path = PurePosixPath(member.replace("\\", "/"))
    if path.is_absolute() or member[1:3] in (":/", ":\\"):
        return "an absolute path inside an archive: refused, as an unpacker would write it anywhere"
    if ".." in path.parts:
        return "a '..' step inside an archive: refused, as an unpacker would write it outside its folder"
    return None


def _member(name: str, member: str, folders: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """A member's name as shown, and the folders on the way to it (none taken from a name refused)."""
    inside = () if _unsafe(member) else PurePosixPath(member).parts[:-1]
    return f"{name}{INSIDE}{member}", (*folders, *inside)


def _tar(handle: IO[bytes], name: str, folders: tuple[str, ...]) -> Iterator[Entry]:
    with tarfile.open(fileobj=handle, mode="r:*") as archive:
        members = archive.getmembers()
        # Read in the archive's own order (a compressed tar read out of order would be
        # decompressed again from its start for every member), given out by name: a member that
        # comes early waits, so an archive made in name order holds almost nothing back.
        rank = {id(member): at for at, member in enumerate(sorted(members, key=lambda m: m.name))}
        waiting: dict[int, list[Entry]] = {}
        given = 0
        for member in members:
            waiting[rank[id(member)]] = list(_tar_member(archive, member, *_member(name, member.name, folders)))
            while given in waiting:
                yield from waiting.pop(given)
                given += 1


def _tar_member(
    archive: tarfile.TarFile, member: tarfile.TarInfo, inner: str, folders: tuple[str, ...]
) -> Iterator[Entry]:
    nested = _is_archive(member.name)
    if member.isdir():
        return
    if why := _unsafe(member.name):
        yield Entry(inner, folders, problem=why)
    elif member.issym() or member.islnk():
        yield Entry(inner, folders, problem="a link inside an archive: an import never follows one")
    elif not member.isreg():
        yield Entry(inner, folders, problem="not a regular file (a device or a FIFO): an import reads only files")
    elif nested and member.size > MAX_NESTED_BYTES:
        yield Entry(inner, folders, problem=f"an archive of {member.size:,} bytes inside an archive: too large")
    elif not nested and member.size > store.MAX_BYTES:
        yield Entry(inner, folders, problem=store.too_large(member.size), size=member.size)
    else:
        extracted = archive.extractfile(member)
        assert extracted is not None  # a regular member always has its file
        yield from _archive(extracted, inner, folders) if nested else [_bounded(inner, folders, extracted)]


def _zip(handle: IO[bytes], name: str, folders: tuple[str, ...]) -> Iterator[Entry]:
    with zipfile.ZipFile(handle) as archive:
        for member in sorted(archive.infolist(), key=lambda m: m.filename):
            inner, on_the_way = _member(name, member.filename, folders)
            kind = stat.S_IFMT(member.external_attr >> 16)
            nested = _is_archive(member.filename)
            if member.is_dir():
                continue
            if why := _unsafe(member.filename):
                yield Entry(inner, folders, problem=why)
            elif kind == stat.S_IFLNK:
                yield Entry(inner, on_the_way, problem="a link inside an archive: an import never follows one")
            elif kind not in (0, stat.S_IFREG):
                yield Entry(
                    inner, on_the_way, problem="not a regular file (a device or a FIFO): an import reads only files"
                )
            elif nested and member.file_size > MAX_NESTED_BYTES:
                yield Entry(
                    inner, on_the_way, problem=f"an archive of {member.file_size:,} bytes inside an archive: too large"
                )
            elif not nested and member.file_size > store.MAX_BYTES:
                yield Entry(inner, on_the_way, problem=store.too_large(member.file_size), size=member.file_size)
            else:
                with archive.open(member) as extracted:
                    if nested:
                        yield from _archive(extracted, inner, on_the_way)
                    else:
                        # The size a zip declares may lie: what is read is bounded all the same.
                        yield _bounded(inner, on_the_way, extracted)
