"""Deliveries processed together (a backlog the workers drain, `wiredesk import`) come to what
they come to one at a time: the pipeline writes the new stories among them a table at a time
(pipeline._write_new), and everything else story by story, and the two must never differ."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import time_machine
from conftest import NOW, story_copy
from django.core.management import call_command
from test_pipeline import KILL_FIRST, KILLED_STORY, VOTE, VOTE_ADVISORY

from wiredesk.desk import pipeline
from wiredesk.models import Delivery, SearchEntry, Story, StoryKey, StoryTopic, TextBand

FIXTURES = sorted(path for path in (Path(__file__).parent / "fixtures").rglob("*") if path.is_file())

FERRY = (
    "Ferries to the outer islands will leave an hour earlier from Monday, the operator said.",
    "The change follows complaints about late arrivals at the island schools.",
)
FERRY_MORE = (*FERRY, "A later evening crossing is to be added in the spring.")


def ninjs(uri: str, version: int, headline: str, text: str, **more) -> bytes:
    return json.dumps(
        {"uri": uri, "version": str(version), "headline": headline, "body_text": text, "language": "en", **more}
    ).encode()


# Copies that meet one another in one backlog: every way a copy can depend on one before it.
MEETING = [
    (story_copy("Ferries leave earlier", paragraphs=FERRY), "hp"),
    (ninjs("urn:test:budget", 1, "Council sets its budget", "The council set its budget on Monday night."), "hp"),
    (story_copy("Ferries leave earlier", paragraphs=FERRY_MORE), "hp"),  # the same story, more of it
    (story_copy("Ferries leave an hour earlier", paragraphs=FERRY), "nw"),  # another source's copy
    (ninjs("urn:test:budget", 2, "Council sets its budget", "The council set its budget late on Monday."), "hp"),
    (VOTE, "wire"),
    (VOTE_ADVISORY, "wire"),
    (KILL_FIRST, "wire"),
    (KILLED_STORY, "wire"),
    (ninjs("urn:test:budget", 3, "Council budget withdrawn", "Withdrawn.", pubstatus="canceled"), "hp"),
    (ninjs("urn:test:late", 1, "A story after the kills", "Nothing waits for this one."), "hp"),
    (story_copy("Ferries leave earlier", paragraphs=FERRY), "hp"),  # the first bytes again
]


def arrivals() -> list[tuple[bytes, str]]:
    # Every fixture (stories, kills, corrections, hostile files), then a third of them again from
    # a second source (duplicates by their text), then the copies above.
    every = [(path.read_bytes(), "hp") for path in FIXTURES]
    return every + [(data, "nw") for data, _ in every[::3]] + MEETING


def snapshot() -> dict:
    """What the site holds, by what does not depend on the order rows were numbered in."""

    def of(story: Story) -> tuple:
        return (
            story.state,
            story.reason,
            story.section,
            story.slug,
            story.headline,
            story.published_at,
            story.updated_at,
            story.duplicate_of and story.duplicate_of.uri,
            story.current and (story.current.version, story.current.fingerprint),
            sorted(story.versions.values_list("version", "fingerprint", "delivery__filename", "delivery__sha256")),
            sorted(StoryKey.objects.filter(story=story).values_list("role", "key")),
            sorted(StoryTopic.objects.filter(story=story).values_list("kind", "slug", "name", "published_at")),
            list(SearchEntry.objects.filter(story=story).values_list("headline", "body")),
            sorted(TextBand.objects.filter(story=story).values_list("band", flat=True)),
        )

    return {
        "stories": {
            (story.source.slug, story.uri): of(story)
            for story in Story.objects.select_related("source", "current", "duplicate_of")
        },
        "deliveries": list(
            Delivery.objects.order_by("pk").values_list("source__slug", "sha256", "status", "error", "stories_done")
        ),
    }


def load(together: bool) -> tuple[dict, list]:
    with time_machine.travel(NOW, tick=False):
        ids = [
            pipeline.receive(data, source=source, transport="cli", filename=f"{n}").pk
            for n, (data, source) in enumerate(arrivals())
        ]
        ids = list(dict.fromkeys(ids))  # the same bytes twice are one delivery
        if together:
            results = pipeline.process_many(ids)
        else:
            results = {pk: pipeline.process(pk) for pk in ids}
        outcomes = [(r.outcome, r.uri, r.version, r.reason, r.error) for pk in ids for r in results[pk]]
    return snapshot(), outcomes


@pytest.mark.django_db(transaction=True)
def test_deliveries_processed_together_come_to_what_they_come_to_one_at_a_time(monkeypatch):
    # One at a time and story by story: no copy taken for a new story to write with others.
    with monkeypatch.context() as story_by_story:
        story_by_story.setattr(pipeline, "_all_new", lambda *args: False)
        alone, alone_outcomes = load(together=False)
    call_command("flush", interactive=False, verbosity=0)
    together, together_outcomes = load(together=True)

    assert together_outcomes == alone_outcomes
    assert together["deliveries"] == alone["deliveries"]
    assert together["stories"].keys() == alone["stories"].keys()
    for key, story in alone["stories"].items():
        assert together["stories"][key] == story, key
    # What the comparison rests on: the backlog held every kind of copy, and most went together.
    outcomes = {outcome for outcome, *_ in alone_outcomes}
    assert {"published", "updated", "duplicate", "killed", "quarantined"} <= outcomes


def test_most_of_a_backlog_of_new_stories_is_written_a_table_at_a_time(db, monkeypatch):
    written = []
    write_new = pipeline._write_new

    def counting(new, known):
        written.append(sum(len(copies) for _, copies in new))
        return write_new(new, known)

    monkeypatch.setattr(pipeline, "_write_new", counting)
    ids = [pipeline.receive(data, source=source, transport="cli").pk for data, source in MEETING[:-1]]
    results = pipeline.process_many(ids)
    # The ferry story and the budget; the vote story (its advisory needs it in the database); the
    # tolls story, killed as it is written by the kill that came before it; the late story. Each
    # of the others needed the one before it.
    assert written == [2, 1, 1, 1]
    [tolls] = results[ids[MEETING.index((KILLED_STORY, "wire"))]]
    assert (tolls.outcome, tolls.url) == ("killed", None)
