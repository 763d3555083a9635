"""The inbox as an attacker or a careless operator meets it: links, linked folders, FIFOs and
sockets, files the desk cannot read, files still being written, the same file twice. Nothing
from outside the inbox is ever read, nothing stalls the scan, nothing is lost."""

import errno
import os
import socket
import threading
import time
from pathlib import Path

import pytest
from conftest import story_copy

from wiredesk.models import Delivery, Source, Story
from wiredesk.transports import inbox as inbox_module
from wiredesk.transports.inbox import watch

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("immediate_tasks")]

SECRET = b"Harbour cranes secret 7f3a9c: never to be published\n"


@pytest.fixture
def outside(tmp_path):
    """A folder beside the inbox holding what must never get in: a secret, and agency copy that
    is not the inbox's."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.txt").write_bytes(SECRET)
    (folder / "story.txt").write_bytes(story_copy("Lighthouse keeper retires after forty years"))
    return folder


def stored_bytes() -> bytes:
    return b"".join(bytes(d.data) for d in Delivery.objects.all())


def published_text() -> str:
    return " ".join(
        s.headline + " " + " ".join(s.current.canonical.paragraphs) for s in Story.objects.exclude(current=None)
    )


def reasons(inbox) -> str:
    return " ".join(p.read_text() for p in inbox.error.rglob("*.reason.txt"))


def test_a_link_to_a_file_outside_is_refused_unread_and_moved_aside(inbox, outside):
    (inbox.inbox / "x.txt").symlink_to(outside / "secret.txt")
    (inbox.inbox / "y.txt").symlink_to(outside / "story.txt")
    inbox.scan(settle=0)
    assert SECRET not in stored_bytes() and b"Lighthouse" not in stored_bytes()
    assert not Story.objects.exists()
    assert list(inbox.inbox.iterdir()) == []
    kept = sorted(p.name for p in inbox.error.rglob("*") if p.is_symlink())
    assert kept == ["x.txt", "y.txt"]  # the links themselves, never what they point to
    assert (outside / "secret.txt").read_bytes() == SECRET  # the target is left as it was
    refused = Delivery.objects.order_by("pk")
    assert [(d.status, d.unread, bytes(d.data)) for d in refused] == [(Delivery.Status.QUARANTINED, True, b"")] * 2
    assert "symbolic link" in refused[0].error and "symbolic link" in reasons(inbox)


def test_links_to_the_desks_own_secrets_and_to_proc_never_reach_a_delivery(inbox, tmp_path, monkeypatch):
    monkeypatch.setenv("HP_PUSH_SECRET", "push-secret-that-must-not-leak-0123")
    key = tmp_path / "secret_key"
    key.write_text("django-insecure-key-that-must-not-leak")
    (inbox.inbox / "key.txt").symlink_to(key)
    (inbox.inbox / "environ.txt").symlink_to("/proc/self/environ")
    (inbox.inbox / "passwd.txt").symlink_to("/etc/passwd")
    inbox.scan(settle=0)
    data = stored_bytes() + " ".join(d.error for d in Delivery.objects.all()).encode()
    for secret in (b"must-not-leak", b"root:", b"HP_PUSH_SECRET"):
        assert secret not in data
    for reason in inbox.error.rglob("*.reason.txt"):
        assert "must-not-leak" not in reason.read_text() and "root:" not in reason.read_text()
    assert not Story.objects.exists() and Delivery.objects.filter(unread=True).count() == 3


def test_a_linked_folder_is_never_walked_nor_watched(inbox, outside):
    (inbox.inbox / "hp").symlink_to(outside, target_is_directory=True)
    watcher = watch(inbox)
    try:
        (outside / "later.txt").write_bytes(story_copy("Ferry adds a dawn sailing"))
        time.sleep(0.5)  # long enough for the watcher to have taken it, had it watched the folder
        inbox.scan(settle=0)
    finally:
        watcher.stop()
    assert sorted(p.name for p in outside.iterdir()) == ["later.txt", "secret.txt", "story.txt"]
    assert not Story.objects.exists() and SECRET not in stored_bytes()
    assert not (inbox.inbox / "hp").exists()  # the link was moved aside
    assert "symbolic link" in reasons(inbox)


def test_a_link_swapped_in_for_a_folder_after_the_scan_looked_is_not_followed(inbox, outside):
    (inbox.inbox / "hp").mkdir()
    (inbox.inbox / "hp" / "secret.txt").write_bytes(story_copy())
    (inbox.inbox / "hp" / "secret.txt").unlink()
    (inbox.inbox / "hp").rmdir()
    (inbox.inbox / "hp").symlink_to(outside, target_is_directory=True)
    # What the watcher would do on an event for hp/secret.txt, seen before the swap.
    inbox.take(inbox.inbox / "hp" / "secret.txt")
    assert SECRET not in stored_bytes() and (outside / "secret.txt").read_bytes() == SECRET
    assert "symbolic link" in Delivery.objects.get().error
    assert not (inbox.inbox / "hp").exists()  # the link, not the file it led to, was moved aside


def test_a_fifo_and_a_socket_are_refused_without_blocking_the_scan(inbox):
    os.mkfifo(inbox.inbox / "a-fifo.txt")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(inbox.inbox / "b-socket.txt"))
    (inbox.inbox / "c-cranes.txt").write_bytes(story_copy())
    done = threading.Event()
    thread = threading.Thread(target=lambda: (inbox.scan(settle=0), done.set()), daemon=True)
    thread.start()
    try:
        assert done.wait(10), "the scan blocked on a FIFO or a socket"
    finally:
        server.close()
    assert Story.objects.get().headline == "Harbour cranes return to service"
    errors = " ".join(Delivery.objects.filter(unread=True).values_list("error", flat=True))
    assert "a FIFO, not a file" in errors and "a socket, not a file" in errors
    assert list(inbox.inbox.iterdir()) == []


def test_an_unreadable_file_is_set_aside_and_the_files_after_it_are_taken(inbox, monkeypatch):
    (inbox.inbox / "a-broken.txt").write_bytes(story_copy("Broken disk sector"))
    (inbox.inbox / "b-cranes.txt").write_bytes(story_copy())
    real_open = os.open

    def failing_open(path, flags, *args, **kwargs):
        if str(path).endswith("a-broken.txt"):
            raise OSError(errno.EIO, "Input/output error")
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", failing_open)
    inbox.scan(settle=0)
    assert Story.objects.get().headline == "Harbour cranes return to service"
    refused = Delivery.objects.get(unread=True)
    assert "could not be read: Input/output error" in refused.error
    assert [p.name for p in inbox.error.rglob("a-broken.txt")] == ["a-broken.txt"]
    assert list(inbox.inbox.iterdir()) == []


def test_a_file_that_can_be_neither_read_nor_moved_is_not_tried_again_every_second(inbox, monkeypatch, caplog):
    (inbox.inbox / "stuck.txt").write_bytes(story_copy())
    real_open = os.open

    def refusing_open(path, flags, *args, **kwargs):
        if str(path).endswith("stuck.txt"):
            raise PermissionError(errno.EACCES, "Permission denied")
        return real_open(path, flags, *args, **kwargs)

    def refusing_move(*args):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(os, "open", refusing_open)
    monkeypatch.setattr(inbox_module.shutil, "move", refusing_move)
    for _ in range(3):
        inbox.scan(settle=0)
    assert Delivery.objects.count() == 1  # refused and recorded once, not at every scan
    assert "could not be read: Permission denied" in Delivery.objects.get().error
    assert sum("cannot be moved aside" in r.message for r in caplog.records) == 1


def test_a_growing_file_is_taken_only_once_it_has_held_still(inbox, monkeypatch):
    whole = story_copy()
    path = inbox.inbox / "cranes.txt"
    with open(path, "wb") as out:
        for part in (whole[:15], whole[15:40], whole[40:70], whole[70:]):
            out.write(part)
            out.flush()
            inbox.scan(settle=1.0)
            time.sleep(0.25)  # a pause well short of the settle time, however busy the machine
            inbox.scan(settle=1.0)
            assert not Delivery.objects.exists()
    deadline = time.monotonic() + 10
    while not Delivery.objects.exists() and time.monotonic() < deadline:
        inbox.scan(settle=1.0)
        time.sleep(0.1)
    assert bytes(Delivery.objects.get().data) == whole


def test_a_file_with_an_old_modification_time_still_waits_its_settle_time(inbox):
    path = inbox.inbox / "cranes.txt"
    path.write_bytes(story_copy())
    os.utime(path, (time.time() - 3600, time.time() - 3600))  # `cp -p` of an old file
    inbox.scan(settle=0.3)
    assert not Delivery.objects.exists()
    time.sleep(0.35)
    inbox.scan(settle=0.3)
    assert Delivery.objects.count() == 1


def test_the_same_file_dropped_twice_is_one_delivery(inbox):
    for _ in range(2):
        (inbox.inbox / "cranes.txt").write_bytes(story_copy())
        inbox.scan(settle=0)
    assert Delivery.objects.count() == 1 and Story.objects.count() == 1
    assert len(list(inbox.archive.rglob("cranes*.txt"))) == 2  # both copies kept, as files


def test_an_unknown_source_folder_is_refused_and_makes_no_source(inbox, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    (tmp_path / "sources.toml").write_text('[sources.hp]\nname = "Harbour Press"\n')
    (inbox.inbox / "nosuchsource").mkdir()
    (inbox.inbox / "nosuchsource" / "cranes.txt").write_bytes(story_copy())
    inbox.scan(settle=0)
    assert not Source.objects.filter(slug="nosuchsource").exists() and not Delivery.objects.exists()
    reason = reasons(inbox)
    assert "nosuchsource" in reason and "hp" in reason
    assert [p.name for p in inbox.error.rglob("cranes.txt")] == ["cranes.txt"]


def test_a_file_set_aside_is_not_copied_again_when_a_reprocess_fails_again(inbox):
    from wiredesk.desk import pipeline

    (inbox.inbox / "garbage.bin").write_bytes(b"\x00\xff not a story")
    inbox.scan(settle=0)
    for _ in range(3):
        pipeline.reprocess()
    assert sorted(p.name for p in inbox.error.rglob("*") if p.is_file()) == ["garbage.bin", "garbage.bin.reason.txt"]


def test_a_refused_delivery_has_nothing_to_run_again(inbox, outside):
    from wiredesk.desk import pipeline

    (inbox.inbox / "x.txt").symlink_to(outside / "secret.txt")
    inbox.scan(settle=0)
    [result] = pipeline.reprocess()
    assert result.outcome == "quarantined" and "symbolic link" in result.error
    assert len(list(Path(inbox.error).rglob("x*"))) == 2  # the link and its reason, no copy made


def test_a_link_renamed_into_the_watched_inbox_is_refused_at_once(inbox, outside, tmp_path):
    watcher = watch(inbox)
    try:
        (tmp_path / "x.txt").symlink_to(outside / "secret.txt")
        os.rename(tmp_path / "x.txt", inbox.inbox / "x.txt")
        deadline = time.monotonic() + 5
        while not Delivery.objects.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        watcher.stop()
    assert Delivery.objects.get().unread and SECRET not in stored_bytes()
    assert not os.path.lexists(inbox.inbox / "x.txt")


def test_a_device_is_refused_unopened(inbox, monkeypatch):
    import stat

    os.mknod(inbox.inbox / "zero.txt", stat.S_IFCHR | 0o600, os.makedev(1, 5))  # /dev/zero: endless bytes
    real_open, opened = os.open, []
    monkeypatch.setattr(os, "open", lambda path, *a, **k: opened.append(str(path)) or real_open(path, *a, **k))
    inbox.scan(settle=0)
    assert not any(name.endswith("zero.txt") for name in opened)
    refused = Delivery.objects.get()
    assert refused.unread and "a character device, not a file" in refused.error
    assert not os.path.lexists(inbox.inbox / "zero.txt")
