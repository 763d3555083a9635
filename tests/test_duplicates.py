"""Near-duplicates against the real database: refiled copy is published once and linked to the
original; two agencies covering one event are two stories."""

from pathlib import Path

import pytest
from conftest import CORPUS, story_copy

from wiredesk.models import Story

DUPLICATES = Path(__file__).parent / "fixtures" / "duplicates"
DPA = CORPUS / "agency-samples" / "dpa-digitalwires-to-iptc7901"
PARAGRAPHS = (
    "The harbour's cranes worked again on Monday after a week of repairs, the port authority said.",
    "Dock workers said queues of lorries had cleared by noon and ships were loading on schedule.",
    "The authority expects traffic to return to normal levels by the end of the week.",
)


def test_the_same_text_refiled_under_a_new_headline_is_published_once_and_linked(client, ingest):
    [original] = ingest(story_copy(paragraphs=PARAGRAPHS), source="hp")
    refiled = (*PARAGRAPHS[:2], "The authority expects traffic to be back to normal by the end of the week.")
    [copy] = ingest(story_copy("Port cranes back at work", paragraphs=refiled), source="hp")
    assert (original.outcome, copy.outcome, copy.url) == ("published", "duplicate", None)
    assert original.uri in copy.reason
    duplicate = Story.objects.get(uri=copy.uri)
    assert duplicate.duplicate_of.uri == original.uri
    assert client.get("/").text.count("<h2>") == 1
    assert client.get(duplicate.get_absolute_url()).url == original.url


def test_the_same_copy_from_a_second_feed_is_one_story(ingest):
    ingest(story_copy(paragraphs=PARAGRAPHS), source="hp")
    [again] = ingest(story_copy(paragraphs=PARAGRAPHS), source="hp-reseller")
    assert again.outcome == "duplicate"
    assert Story.objects.visible().count() == 1


@pytest.mark.parametrize("event", ["ferry", "budget", "quake"])
def test_two_agencies_covering_one_event_are_two_stories(ingest, event):
    first, second = sorted(DUPLICATES.glob(f"same-event-{event}-*.txt"))
    results = [
        *ingest(first.read_bytes(), source=first.stem.rsplit("-", 1)[1]),
        *ingest(second.read_bytes(), source=second.stem.rsplit("-", 1)[1]),
    ]
    assert [r.outcome for r in results] == ["published", "published"]


def test_dpa_json_and_its_7901_rendering_are_one_story(ingest):
    [json_story] = ingest((DPA / "input" / "eil.json").read_bytes(), source="dpa")
    [wire_story] = ingest((DPA / "output" / "eil.iptc").read_bytes(), source="dpa")
    assert (json_story.outcome, wire_story.outcome) == ("published", "duplicate")


def test_an_update_of_a_story_is_not_a_duplicate_of_itself(ingest):
    ingest(story_copy(paragraphs=PARAGRAPHS))
    [update] = ingest(story_copy(paragraphs=(*PARAGRAPHS, "Shipping lines welcomed the news.")))
    assert update.outcome == "updated"


def test_a_killed_story_is_not_an_original(ingest, monkeypatch):
    ingest(story_copy(paragraphs=PARAGRAPHS))
    Story.objects.update(state="killed")
    [again] = ingest(story_copy("Cranes return", paragraphs=PARAGRAPHS))
    assert again.outcome == "published"


BACKGROUND = (
    "The line carries about 1.2 million passengers a year between Havenby and the Skerry Islands, "
    "and has been run by the same operator since 1998.",
    "A strike by its crews in the spring cancelled 140 sailings over three weeks and cost the "
    "islands' hotels an estimated 4 million in lost bookings.",
)


def test_two_stories_that_share_background_paragraphs_are_two_stories(ingest, client):
    [first] = ingest(
        story_copy(
            "Ferry line to add night sailings",
            dateline="HAVENBY (HP) - ",
            paragraphs=(
                "The Havenby ferry line will add two night sailings from March, its operator said.",
                *BACKGROUND,
            ),
        ),
        source="hp",
    )
    [second] = ingest(
        story_copy(
            "Mayor calls for second ferry operator",
            dateline="SKERRY (HP) - ",
            paragraphs=(
                "The mayor of the Skerry Islands called for a second operator on the Havenby route.",
                *BACKGROUND,
            ),
        ),
        source="hp",
    )
    assert (first.outcome, second.outcome) == ("published", "published")
    assert client.get(first.url).status_code == client.get(second.url).status_code == 200


def test_a_later_copy_holding_a_storys_text_and_more_from_its_source_is_its_next_version(ingest, client):
    [first] = ingest(story_copy(paragraphs=PARAGRAPHS), source="hp")
    more = (*PARAGRAPHS, "Two more cranes will be added next spring, the authority said.")
    [later] = ingest(story_copy("Cranes back, two more to come", paragraphs=more), source="hp")
    assert (later.outcome, later.uri, later.url) == ("updated", first.uri, first.url)
    assert "Two more cranes" in client.get(first.url).text


def test_the_same_text_and_more_from_another_source_is_still_a_duplicate(ingest):
    ingest(story_copy(paragraphs=PARAGRAPHS), source="hp")
    more = (*PARAGRAPHS, "Two more cranes will be added next spring, the authority said.")
    [other] = ingest(story_copy("Cranes back, two more to come", paragraphs=more), source="nw")
    assert other.outcome == "duplicate"
