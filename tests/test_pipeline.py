"""Receive, process, publish: the desk's guarantees, against the real database."""

import datetime as dt
import re

from conftest import SEED, story_copy

from wiredesk import formats
from wiredesk.desk import pipeline
from wiredesk.models import Delivery, Source, Story, StoryVersion


def test_the_seed_story_is_published_once(ingest):
    [result] = ingest(SEED.read_bytes())
    assert result.outcome == "published"
    assert result.version == 1
    story = Story.objects.get()
    assert result.url == story.get_absolute_url()
    assert story.source.name == "IANS"


def test_the_same_file_twice_publishes_one_story(ingest):
    first = ingest(SEED.read_bytes())[0]
    second = ingest(SEED.read_bytes())[0]
    assert (first.outcome, second.outcome) == ("published", "unchanged")
    assert second.url == first.url
    assert Story.objects.count() == 1
    assert StoryVersion.objects.count() == 1
    # The same bytes from the same source are the one delivery they were stored as.
    assert Delivery.objects.filter(status="processed").count() == 1


def test_new_copy_of_a_story_updates_it_at_the_same_url(ingest):
    first = ingest(story_copy())[0]
    second = ingest(
        story_copy(
            paragraphs=("The harbour's cranes worked again on Monday.", "Queues cleared by noon, the port said.")
        )
    )[0]
    assert (second.outcome, second.version, second.url) == ("updated", 2, first.url)
    story = Story.objects.get()
    assert story.current.version == 2
    assert story.current.canonical.paragraphs[1] == "Queues cleared by noon, the port said."
    assert list(story.versions.order_by("version").values_list("version", flat=True)) == [1, 2]


def test_the_same_copy_through_two_transports_is_one_story(db):
    data = story_copy()
    for transport in ("inbox", "cli"):
        delivery = pipeline.receive(data, source="hp", transport=transport)
        pipeline.process(delivery.pk)
    assert Story.objects.count() == 1


def test_unreadable_copy_is_kept_in_quarantine_with_its_reason(ingest):
    [result] = ingest(b"\x00\x01\x02garbage")
    assert result.outcome == "quarantined"
    delivery = Delivery.objects.get()
    assert delivery.status == "quarantined"
    assert "binary" in delivery.error
    assert bytes(delivery.data) == b"\x00\x01\x02garbage"
    assert not Story.objects.exists()


def test_a_bug_met_while_processing_quarantines_the_delivery_instead_of_crashing(db, monkeypatch):
    delivery = pipeline.receive(story_copy(), source="hp", transport="cli")

    def broken(*args, **kwargs):
        raise RuntimeError("parser exploded")

    monkeypatch.setattr(formats, "parse", broken)
    [result] = pipeline.process(delivery.pk)
    delivery.refresh_from_db()
    assert result.outcome == "quarantined"
    assert delivery.status == "quarantined"
    assert "RuntimeError: parser exploded" in delivery.error


def test_processing_a_delivery_again_changes_nothing(ingest):
    [first] = ingest(story_copy())
    assert pipeline.process(first.delivery) == []  # already processed: left alone
    [again] = pipeline.process(first.delivery, again=True)
    assert (again.outcome, again.url) == ("unchanged", first.url)
    assert StoryVersion.objects.count() == 1


def test_a_delivery_keeps_the_exact_bytes_and_their_digest(db):
    delivery = pipeline.receive(story_copy(), source="hp", transport="cli")
    stored = Delivery.objects.get(pk=delivery.pk)
    assert bytes(stored.data) == story_copy()
    assert stored.sha256 == pipeline.hashlib.sha256(story_copy()).hexdigest()
    assert stored.status == "received"


def test_a_killed_story_leaves_the_site_and_its_versions_are_kept(client, ingest, monkeypatch):
    [published] = ingest(story_copy())
    story = Story.objects.get()
    canceled = pipeline.formats.parse(story_copy(), pipeline.formats.Context(source="ians"))[0]
    canceled.pubstatus = "canceled"
    monkeypatch.setattr(pipeline.formats, "parse", lambda *a, **k: [canceled])
    [killed] = ingest(b"kill")
    assert (killed.outcome, killed.url) == ("killed", None)
    gone = client.get(published.url)
    assert gone.status_code == 410
    assert "withdrawn" in gone.text and "Harbour cranes" not in gone.text
    assert "Harbour cranes" not in client.get("/").text
    assert story.versions.count() == 2


def test_times_without_an_offset_are_read_in_the_source_time_zone(db):
    Source.objects.create(slug="pti", name="PTI", time_zone="Asia/Kolkata")
    item = b'{"uri": "urn:x:1", "headline": "Zone", "body_text": "Text.", "versioncreated": "2024-07-01T12:00:00"}'
    delivery = pipeline.receive(item, source="pti", transport="cli")
    [result] = pipeline.process(delivery.pk)
    assert result.outcome == "published"
    version = Story.objects.get().current
    assert version.canonical.versioncreated == dt.datetime(2024, 7, 1, 6, 30, tzinfo=dt.UTC)


def backlog(count: int) -> list[int]:
    return [
        pipeline.receive(
            story_copy(f"Harbour story {n}", paragraphs=(f"Story {n} of the harbour.",)), source="hp", transport="inbox"
        ).pk
        for n in range(count)
    ]


def test_a_task_takes_the_backlog_behind_its_delivery_in_one_transaction(db):
    from wiredesk.models import SiteVersion

    first, *others = backlog(4)
    [result] = pipeline.process_waiting(first)
    assert result.outcome == "published"
    assert set(Delivery.objects.values_list("status", "stories_done")) == {("processed", 1)}
    assert Story.objects.filter(state="live").count() == 4
    assert SiteVersion.objects.get().number == 1  # one fan-out for the four
    assert pipeline.process_waiting(others[0]) == []  # its own task finds it done


def test_a_delivery_a_bug_meets_in_a_backlog_is_quarantined_alone(db, monkeypatch):
    # Three new stories, written together until the bug is met; then each alone.
    ids = backlog(3)
    decide_row = pipeline._decide_row

    def buggy(story, incoming, *args):
        if "story 1" in incoming.headline:
            raise KeyError("a bug")
        return decide_row(story, incoming, *args)

    monkeypatch.setattr(pipeline, "_decide_row", buggy)
    results = pipeline.process_many(ids)
    assert [r.outcome for pk in ids for r in results[pk]] == ["published", "quarantined", "published"]
    assert "internal error: KeyError" in Delivery.objects.get(pk=ids[1]).error
    assert Story.objects.count() == 2


# A kill that cites the story's message number, sent before the story (which has another id).
KILL_FIRST = b"""\x01kpw0433 1 ec 20
Eds-Advisory
\x02ATTENTION EDITORS =

Editors are asked not to use kpw 0412. The toll decision has been
deferred. A new story will follow.

\x03251159 Nov 26
\x04"""
KILLED_STORY = b"""\x01kpw0412 4 ec 30
Tolls
\x02Tolls rise on the coast road =

BRANNOCK, Nov 25 (KPW) - Tolls on the coast road will rise by a
tenth from January.

\x03250959 Nov 26
\x04"""


# A story, and an advisory about it that cites its number (it has no id of its own to name it by).
VOTE = b"""\x01kpw0520 4 ec 30
Vote
\x02Council vote set for Thursday =

BRANNOCK, Nov 25 (KPW) - The council will vote on the harbour
plan on Thursday, its chairman said.

\x03251000 Nov 26
\x04"""
VOTE_ADVISORY = b"""\x01kpw0521 1 ec 20
Eds-Advisory
\x02ATTENTION EDITORS =

In kpw 0520, please note the vote is on Thursday evening. A new
version will follow.

\x03251100 Nov 26
\x04"""


def test_a_kill_slugged_like_an_earlier_advisory_waits_for_the_story_it_cites(db):
    # The advisory about kpw 0520 and the kill of kpw 0412 share their slug, "Eds-Advisory": the
    # advisory's names are not its story's, so the kill does not find the vote story by them.
    for data in (VOTE, VOTE_ADVISORY, KILL_FIRST, KILLED_STORY):
        pipeline.process(pipeline.receive(data, source="wire", transport="inbox").pk)
    states = dict(Story.objects.values_list("headline", "state"))
    assert (states["Council vote set for Thursday"], states["Tolls rise on the coast road"]) == ("live", "killed")


def test_a_kill_ahead_of_its_story_in_the_same_backlog_keeps_it_off(db):
    # One transaction for both: the names the kill gave are known to the story that follows it.
    ids = [pipeline.receive(data, source="wire", transport="inbox").pk for data in (KILL_FIRST, KILLED_STORY)]
    results = pipeline.process_many(ids)
    assert [r.outcome for pk in ids for r in results[pk]] == ["killed", "killed"]
    assert not Story.objects.visible().exists()


def test_a_kill_ahead_of_its_story_in_an_earlier_transaction_keeps_it_off(db):
    pipeline.process(pipeline.receive(KILL_FIRST, source="wire", transport="inbox").pk)
    [result] = pipeline.process(pipeline.receive(KILLED_STORY, source="wire", transport="inbox").pk)
    assert result.outcome == "killed"
    assert not Story.objects.visible().exists()


def test_a_new_story_is_written_once_and_nothing_is_taken_back_for_it(db):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from wiredesk.filing import topic_rows
    from wiredesk.models import SearchEntry, StoryTopic

    pk = pipeline.receive(story_copy(), source="hp", transport="inbox").pk
    with CaptureQueriesContext(connection) as queries:
        [result] = pipeline.process(pk)
    assert result.outcome == "published"
    # A statement run for many rows at once is captured as "N times: ..."
    sql = [re.sub(r"^\d+ times: ", "", query["sql"]) for query in queries.captured_queries]
    # Inserted with its final state, then given the version it shows (which needs its id).
    assert [s.split(" ", 3)[:3] for s in sql if '"wiredesk_story" ' in s and not s.startswith("SELECT")] == [
        ["INSERT", "INTO", '"wiredesk_story"'],
        ["UPDATE", '"wiredesk_story"', "SET"],
    ]
    assert not [s for s in sql if s.startswith("DELETE")]
    story = Story.objects.get()
    assert (story.state, story.headline, story.current.version) == ("live", "Harbour cranes return to service", 1)
    assert SearchEntry.objects.get(story=story).headline == "Harbour cranes return to service"
    assert set(StoryTopic.objects.filter(story=story).values_list("kind", "slug", "name")) == set(
        topic_rows(story.current.canonical)
    )
    assert StoryTopic.objects.filter(story=story).exists()  # a place at least: PORT SALVIN
