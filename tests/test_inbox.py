"""The inbox folder: what is taken and when, where taken files go, and where failures go."""

import os
import time

import pytest
from conftest import story_copy

from wiredesk.desk import pipeline
from wiredesk.models import Delivery, Source, Story
from wiredesk.transports import store
from wiredesk.transports.inbox import watch

pytestmark = [
    # The watcher's thread uses a connection of its own, which sees only committed rows.
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("immediate_tasks"),
]

GARBAGE = b"\x00\xff\x00\xfe not a story"


def files(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def today():
    return Delivery.objects.latest("pk").received_at.strftime("%Y-%m-%d")


def test_a_taken_file_is_stored_published_and_archived_by_day(inbox):
    (inbox.inbox / "hp").mkdir()
    (inbox.inbox / "hp" / "cranes.txt").write_bytes(story_copy())
    assert inbox.scan(settle=0) == 1
    delivery = Delivery.objects.get()
    assert (delivery.source.slug, delivery.filename, bytes(delivery.data)) == ("hp", "hp/cranes.txt", story_copy())
    assert Story.objects.get().headline == "Harbour cranes return to service"
    assert files(inbox.inbox) == [] and files(inbox.archive) == [f"{today()}/cranes.txt"]


def test_temporary_names_are_left_alone(inbox):
    for name in ("cranes.txt.part", ".cranes.txt", "cranes.txt.tmp", "~cranes.txt", "cranes.txt~"):
        (inbox.inbox / name).write_bytes(story_copy())
    assert inbox.scan(settle=0) == 0 and not Delivery.objects.exists()


def test_a_file_that_cannot_be_published_moves_to_the_error_folder_with_its_reason(inbox):
    (inbox.inbox / "garbage.bin").write_bytes(GARBAGE)
    inbox.scan(settle=0)
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.QUARANTINED
    assert files(inbox.archive) == [] and files(inbox.error) == [
        f"{today()}/garbage.bin",
        f"{today()}/garbage.bin.reason.txt",
    ]
    assert (inbox.error / today() / "garbage.bin").read_bytes() == GARBAGE
    reason = (inbox.error / today() / "garbage.bin.reason.txt").read_text()
    assert reason.startswith(f"garbage.bin: delivery {delivery.pk}, received ")
    assert delivery.error in reason and f"wiredesk reprocess {delivery.pk}" in reason


def test_of_two_files_of_one_name_the_one_that_failed_is_set_aside(inbox):
    for data in (story_copy(), GARBAGE):
        (inbox.inbox / "wire.txt").write_bytes(data)
        inbox.scan(settle=0)
    assert files(inbox.archive) == [f"{today()}/wire.txt"]
    assert (inbox.archive / today() / "wire.txt").read_bytes() == story_copy()
    assert (inbox.error / today() / "wire.1.txt").read_bytes() == GARBAGE


def test_a_failed_file_no_longer_archived_is_written_to_the_error_folder_from_the_database(inbox):
    delivery = pipeline.receive(GARBAGE, source="hp", transport="inbox", filename="hp/garbage.bin")
    pipeline.process(delivery.pk)
    assert (inbox.error / today() / "garbage.bin").read_bytes() == GARBAGE


def test_a_file_that_a_reprocess_publishes_after_a_fix_goes_back_to_the_archive(inbox):
    (inbox.inbox / "hp").mkdir()
    Source.objects.create(slug="hp", name="HP", time_zone="Europe/Nowhere")  # a mistake in sources.toml
    (inbox.inbox / "hp" / "cranes.txt").write_bytes(story_copy())
    inbox.scan(settle=0)
    assert files(inbox.error) == [f"{today()}/cranes.txt", f"{today()}/cranes.txt.reason.txt"]
    Source.objects.filter(slug="hp").update(time_zone="Europe/Oslo")
    [result] = pipeline.reprocess()
    assert result.outcome == "published"
    assert files(inbox.error) == [] and files(inbox.archive) == [f"{today()}/cranes.txt"]


def test_a_file_over_the_limit_is_set_aside_unread_and_recorded(inbox, monkeypatch):
    monkeypatch.setattr(store, "MAX_BYTES", 1000)
    (inbox.inbox / "hp").mkdir()
    (inbox.inbox / "hp" / "clip.mp4").write_bytes(b"\x00" * 1001)
    assert inbox.scan(settle=0) == 1
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.source.slug, delivery.filename, bytes(delivery.data), delivery.unread) == (
        Delivery.Status.QUARANTINED,
        "hp",
        "hp/clip.mp4",
        b"",
        True,
    )
    assert "1,001 bytes, more than the 1,000 a delivery may hold" in delivery.error
    assert files(inbox.inbox) == [] and files(inbox.error) == [f"{today()}/clip.mp4", f"{today()}/clip.mp4.reason.txt"]
    assert (inbox.error / today() / "clip.mp4").read_bytes() == b"\x00" * 1001
    assert delivery.error in (inbox.error / today() / "clip.mp4.reason.txt").read_text()
    # Nothing to run again: it stays as it is, and so do the folders.
    assert [result.outcome for result in pipeline.reprocess([delivery.pk])] == ["quarantined"]
    assert Delivery.objects.get().error == delivery.error and delivery.size == 1001
    assert files(inbox.error) == [f"{today()}/clip.mp4", f"{today()}/clip.mp4.reason.txt"]


def test_a_file_over_the_limit_is_never_read_whole(inbox, monkeypatch):
    monkeypatch.setattr(store, "MAX_BYTES", 1000)
    (inbox.inbox / "clip.mp4").write_bytes(b"\x00" * 5000)
    real_read, read = os.read, []
    monkeypatch.setattr(os, "read", lambda fd, n: read.append(n) or real_read(fd, n))
    inbox.scan(settle=0)
    assert read == [] and Delivery.objects.get().unread


def test_failures_of_other_transports_leave_the_folders_alone(inbox):
    pipeline.process(pipeline.receive(GARBAGE, source="hp", transport="push").pk)
    assert files(inbox.error) == []


# --- the watcher ----------------------------------------------------------------------------------


@pytest.fixture
def watched(inbox):
    watcher = watch(inbox)
    yield inbox
    watcher.stop()


def taken_within(seconds: float, count: int = 1) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if Delivery.objects.count() >= count:
            return True
        time.sleep(0.01)
    return False


def test_a_file_is_taken_when_its_writer_closes_it_and_not_before(watched):
    with open(watched.inbox / "cranes.txt", "wb") as out:
        out.write(story_copy()[:20])
        out.flush()
        assert not taken_within(0.5)  # still being written, however long the writer takes
        out.write(story_copy()[20:])
    assert taken_within(5)
    assert bytes(Delivery.objects.get().data) == story_copy()


def test_a_file_renamed_in_is_taken_at_once_and_only_once(watched, tmp_path):
    outside = tmp_path / "cranes.txt"
    outside.write_bytes(story_copy())
    os.rename(outside, watched.inbox / "cranes.txt")
    assert taken_within(5)
    (watched.inbox / "ferry.txt.part").write_bytes(story_copy("Ferry strike ends"))
    os.rename(watched.inbox / "ferry.txt.part", watched.inbox / "ferry.txt")
    assert taken_within(5, count=2)
    time.sleep(0.3)
    assert Delivery.objects.count() == 2 and files(watched.archive) == [f"{today()}/cranes.txt", f"{today()}/ferry.txt"]


def test_a_file_in_a_source_folder_made_while_watching_is_taken(watched):
    (watched.inbox / "ians").mkdir()
    time.sleep(0.1)  # the new folder's watch is added as its creation is seen
    (watched.inbox / "ians" / "story.txt").write_bytes(story_copy())
    assert taken_within(5)
    assert Delivery.objects.get().source.slug == "ians"
