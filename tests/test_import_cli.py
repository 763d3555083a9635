"""`wiredesk import PATH...` as an operator types it: folders, tar and zip files, hostile archives,
a kill mid-run, and the same result as the inbox for the same files."""

import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

import pytest
from conftest import desk_env, migrated

from wiredesk.transports import archive, store

pytestmark = pytest.mark.embedded

WIREDESK = str(Path(sys.executable).parent / "wiredesk")


def item(number: int, version: int = 1, *, text: str = "", pubstatus: str = "usable") -> bytes:
    """A fictional ninjs story of source `hp`, numbered so that no two share their text."""
    words = " ".join(f"w{number}x{k}" for k in range(40))
    return json.dumps(
        {
            "uri": f"urn:hp:story-{number}",
            "version": str(version),
            "pubstatus": pubstatus,
            "headline": f"Harbour report {number}",
            "body_text": f"PORT SALVIN (HP) - Story {number} says {text or 'the cranes worked'}. {words}.",
            "firstcreated": "2026-11-25T09:00:00Z",
            "versioncreated": f"2026-11-25T{9 + version:02d}:00:00Z",
            "language": "en",
        }
    ).encode()


def wire(folder: Path, stories: int = 6) -> Path:
    """A source's folder of copy: stories, an update and a kill filed after their originals, the
    same bytes twice, and a file no format reads."""
    hp = folder / "hp"
    hp.mkdir(parents=True)
    for number in range(stories):
        (hp / f"{number:04d}-a.json").write_bytes(item(number))
    (hp / "0001-b.json").write_bytes(item(1, 2, text="the cranes stopped again"))
    (hp / "0002-b.json").write_bytes(item(2, 2, pubstatus="canceled"))
    (hp / "0003-b.json").write_bytes(item(3))  # the same bytes again
    (hp / "0004-b.json").write_bytes(b"\x00\x01 not copy")
    return folder


def run_import(data: Path, *args: str) -> subprocess.CompletedProcess:
    ready(data)
    return subprocess.run(
        [WIREDESK, "import", "--data", str(data), *args], env=desk_env(), capture_output=True, text=True
    )


def ready(data: Path) -> None:
    migrated(data)
    (data / "sources.toml").write_text("accept_unknown_sources = true\n")


def snapshot(data: Path) -> list[tuple]:
    """What readers and the desk know of every story, by source and uri."""
    with sqlite3.connect(data / "wiredesk.sqlite3") as db:
        return db.execute(
            """SELECT so.slug, s.uri, s.state, s.headline, s.section, v.version,
                      (SELECT COUNT(*) FROM wiredesk_storyversion WHERE story_id = s.id),
                      (SELECT COUNT(*) FROM wiredesk_searchentry WHERE story_id = s.id)
               FROM wiredesk_story s JOIN wiredesk_source so ON so.id = s.source_id
               LEFT JOIN wiredesk_storyversion v ON v.id = s.current_id ORDER BY so.slug, s.uri"""
        ).fetchall()


def deliveries(data: Path) -> list[tuple]:
    with sqlite3.connect(data / "wiredesk.sqlite3") as db:
        return db.execute(
            "SELECT transport, status, filename, sha256 FROM wiredesk_delivery ORDER BY filename"
        ).fetchall()


def test_a_folder_is_imported_file_by_file_in_name_order(tmp_path):
    source = wire(tmp_path / "wire")
    result = run_import(tmp_path / "data", "--source-folders", "--json", str(source))
    assert result.returncode == 1, result.stderr  # the unreadable file
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    outcomes = {(Path(line["file"]).name, line["outcome"]) for line in lines}
    assert ("0001-b.json", "updated") in outcomes
    assert ("0002-b.json", "killed") in outcomes
    assert ("0004-b.json", "quarantined") in outcomes
    assert sum(line["outcome"] == "published" for line in lines) == 6
    assert "imported 10 files (9 new)" in result.stderr
    stories = snapshot(tmp_path / "data")
    assert [(uri, state, versions) for _, uri, state, _, _, _, versions, _ in stories] == [
        ("urn:hp:story-0", "live", 1),
        ("urn:hp:story-1", "live", 2),
        ("urn:hp:story-2", "killed", 2),
        ("urn:hp:story-3", "live", 1),
        ("urn:hp:story-4", "live", 1),
        ("urn:hp:story-5", "live", 1),
    ]
    assert {slug for slug, *_ in stories} == {"hp"}
    assert {(transport, status) for transport, status, _, _ in deliveries(tmp_path / "data")} == {
        ("import", "processed"),
        ("import", "quarantined"),
    }
    # The static tree, rendered once at the end: the live stories' articles, not the killed one's.
    articles = {p.parent.parent.name for p in (tmp_path / "data" / "site" / "story").glob("*/*/index.html")}
    assert len(articles) == 5


def test_run_again_it_stores_and_publishes_nothing_twice(tmp_path):
    source = wire(tmp_path / "wire")
    run_import(tmp_path / "data", "--source-folders", str(source))
    before = snapshot(tmp_path / "data"), deliveries(tmp_path / "data")
    again = run_import(tmp_path / "data", "--source-folders", str(source))
    assert "imported 10 files (0 new)" in again.stdout, again.stdout + again.stderr
    assert (snapshot(tmp_path / "data"), deliveries(tmp_path / "data")) == before


def packed(folder: Path, target: Path) -> Path:
    """The folder's files as a tar or zip archive, members in an order other than by name."""
    files = sorted((p for p in folder.rglob("*") if p.is_file()), reverse=True)
    if target.suffix == ".zip":
        with zipfile.ZipFile(target, "w") as z:
            for file in files:
                z.write(file, file.relative_to(folder).as_posix())
    else:
        with tarfile.open(target, "w:gz" if target.name.endswith(".gz") else "w") as t:
            for file in files:
                t.add(file, file.relative_to(folder).as_posix())
    return target


@pytest.mark.parametrize("name", ["wire.tar.gz", "wire.zip"])
def test_an_archive_gives_what_its_folder_gives(tmp_path, name):
    source = wire(tmp_path / "wire")
    run_import(tmp_path / "from-folder", "--source-folders", str(source))
    run_import(tmp_path / "from-archive", "--source-folders", str(packed(source, tmp_path / name)))
    assert snapshot(tmp_path / "from-archive") == snapshot(tmp_path / "from-folder")


def test_archives_and_folders_inside_archives_are_read(tmp_path):
    inner = tmp_path / "inner"
    (inner / "hp" / "day").mkdir(parents=True)
    (inner / "hp" / "day" / "1.json").write_bytes(item(1))
    zipped = packed(inner, tmp_path / "inner.zip")
    with tarfile.open(tmp_path / "outer.tar", "w") as t:
        t.add(zipped, "nested/inner.zip")
        info = tarfile.TarInfo("hp/2.json")
        info.size = len(item(2))
        t.addfile(info, io.BytesIO(item(2)))
    found = list(archive.entries([tmp_path / "outer.tar"]))
    assert [(Path(e.name).name, e.folders, e.problem) for e in found] == [
        ("2.json", ("hp",), None),
        ("1.json", ("nested", "hp", "day"), None),
    ]
    assert found[1].name == f"{tmp_path / 'outer.tar'}!/nested/inner.zip!/hp/day/1.json"
    result = run_import(tmp_path / "data", "--source", "hp", str(tmp_path / "outer.tar"))
    assert result.returncode == 0, result.stderr
    assert [uri for _, uri, *_ in snapshot(tmp_path / "data")] == ["urn:hp:story-1", "urn:hp:story-2"]


def test_hostile_members_are_refused_with_their_reason_and_never_stop_the_run(tmp_path, monkeypatch):
    monkeypatch.setattr(store, "MAX_BYTES", 1000)
    hostile = tmp_path / "hostile.tar"
    with tarfile.open(hostile, "w") as t:
        for name, data in [("/etc/cron.d/job", item(1)), ("../../outside.json", item(2)), ("ok.json", item(3))]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
        for name, kind in [("link.json", tarfile.SYMTYPE), ("hard.json", tarfile.LNKTYPE), ("fifo", tarfile.FIFOTYPE)]:
            info = tarfile.TarInfo(name)
            info.type, info.linkname = kind, "/etc/passwd"
            t.addfile(info)
        big = b"x" * 5000
        info = tarfile.TarInfo("huge.json")
        info.size = len(big)
        t.addfile(info, io.BytesIO(big))
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "a-link.json").symlink_to("/etc/passwd")
    (folder / "b.json").write_bytes(item(4))
    found = {Path(e.name.rsplit("!/", 1)[-1]).name: e for e in archive.entries([hostile, folder])}
    reasons = {name: entry.problem for name, entry in found.items()}
    assert "absolute path" in reasons["job"]
    assert "'..'" in reasons["outside.json"]
    assert "link" in reasons["link.json"] and "link" in reasons["hard.json"] and "link" in reasons["a-link.json"]
    assert "not a regular file" in reasons["fifo"]
    assert "more than the 1,000" in reasons["huge.json"] and found["huge.json"].size == 5000
    assert reasons["ok.json"] is None and found["ok.json"].data == item(3)
    assert reasons["b.json"] is None
    assert all(not entry.data for entry in found.values() if entry.problem)


def test_a_broken_archive_is_quarantined_after_what_it_held_and_the_run_goes_on(tmp_path):
    broken = tmp_path / "a-broken.tar.gz"
    good = tmp_path / "b-good.json"
    good.write_bytes(item(7))
    broken.write_bytes(b"\x1f\x8b\x08\x00 truncated gzip")
    result = run_import(tmp_path / "data", "--source", "hp", "--json", str(broken), str(good))
    assert result.returncode == 1
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["outcome"] for line in lines] == ["quarantined", "published"]
    assert "the archive cannot be read" in lines[0]["error"]


def many(folder: Path, count: int) -> Path:
    hp = folder / "hp"
    hp.mkdir(parents=True)
    for number in range(count):
        (hp / f"{number:05d}-a.json").write_bytes(item(number))
        if number % 10 == 3:
            (hp / f"{number:05d}-b.json").write_bytes(item(number, 2, text="the port closed"))
    return folder


def processed(data: Path) -> int:
    try:
        with sqlite3.connect(data / "wiredesk.sqlite3", timeout=0.2) as db:
            return db.execute("SELECT COUNT(*) FROM wiredesk_delivery WHERE status = 'processed'").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def children(pid: int) -> set[int]:
    """The processes `pid` started that still run (Linux's /proc)."""
    found = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found |= {int(n) for n in (task / "children").read_text().split()}
    return found


def test_killed_mid_run_and_run_again_it_gives_what_one_run_gives(tmp_path):
    source = many(tmp_path / "wire", 700)
    ready(tmp_path / "killed")
    child = subprocess.Popen(
        [WIREDESK, "import", "--data", str(tmp_path / "killed"), "--source-folders", str(source)],
        env=desk_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while processed(tmp_path / "killed") == 0 and child.poll() is None:
            time.sleep(0.02)
        readers = children(child.pid)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait()
    assert 0 < processed(tmp_path / "killed") < 770  # killed mid-run: processed some, not all
    # Its readers end with it, rather than wait for work for ever.
    deadline = time.monotonic() + 10
    while readers and time.monotonic() < deadline:
        readers = {pid for pid in readers if Path(f"/proc/{pid}").exists()}
        time.sleep(0.05)
    assert not readers
    again = run_import(tmp_path / "killed", "--source-folders", str(source))
    assert again.returncode == 0, again.stderr
    run_import(tmp_path / "once", "--source-folders", str(source))
    assert snapshot(tmp_path / "killed") == snapshot(tmp_path / "once")
    assert [d[1:] for d in deliveries(tmp_path / "killed")] == [d[1:] for d in deliveries(tmp_path / "once")]


INBOX = """
import os, sys, datetime as dt
os.environ["DJANGO_SETTINGS_MODULE"] = "wiredesk.config.settings"
import django
django.setup()
from django.conf import settings
from wiredesk.desk import pipeline
from wiredesk.transports.inbox import Inbox
Inbox(settings.INBOX_DIR, settings.ARCHIVE_DIR, settings.ERROR_DIR).scan(settle=0)
while pipeline.sweep(grace=dt.timedelta(0)):
    pass
"""


def test_the_same_files_give_what_the_inbox_gives(tmp_path):
    source = wire(tmp_path / "wire", stories=12)
    run_import(tmp_path / "imported", "--source-folders", str(source))
    ready(tmp_path / "inboxed")
    (tmp_path / "inboxed" / "inbox").mkdir(exist_ok=True)
    os.rename(source / "hp", tmp_path / "inboxed" / "inbox" / "hp")
    result = subprocess.run(
        [sys.executable, "-c", INBOX],
        env={**desk_env(), "WIREDESK_DATA": str(tmp_path / "inboxed")},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert snapshot(tmp_path / "inboxed") == snapshot(tmp_path / "imported")
