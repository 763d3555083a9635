"""The database's upkeep: near-duplicate bands are let go after their window, and copy repeated
after it is published again, as the README says."""

import datetime as dt

from conftest import story_copy
from django.utils import timezone

from wiredesk.desk import upkeep
from wiredesk.lifecycle import duplicates
from wiredesk.models import Story, TextBand

PARAGRAPHS = (
    "The lighthouse on the northern cape was switched back on after a year of repairs.",
    "Fishing crews said the beam could be seen from the outer banks again on Tuesday night.",
    "The coast guard will keep the old radio beacon running until the spring.",
)
WINDOW = dt.timedelta(days=duplicates.WINDOW_DAYS)


def test_bands_older_than_the_window_are_let_go_and_younger_ones_kept(ingest):
    ingest(story_copy("Lighthouse shines again", paragraphs=PARAGRAPHS), source="cw")
    ingest(story_copy("Ferry timetable", paragraphs=("A second ferry will sail at dawn from the quay.",)), source="cw")
    old, young = Story.objects.order_by("pk")
    TextBand.objects.filter(story=old).update(filed_at=timezone.now() - WINDOW - dt.timedelta(minutes=1))
    kept = TextBand.objects.filter(story=young).count()

    assert upkeep.prune_bands() == duplicates.BANDS
    assert not TextBand.objects.filter(story=old).exists()
    assert TextBand.objects.filter(story=young).count() == kept > 0
    assert upkeep.prune_bands() == 0


def test_pruning_many_bands_goes_a_chunk_at_a_time_and_takes_them_all(ingest, monkeypatch):
    monkeypatch.setattr(upkeep, "CHUNK", 10)
    ingest(story_copy(paragraphs=PARAGRAPHS), source="cw")
    assert upkeep.prune_bands(now=timezone.now() + WINDOW + dt.timedelta(seconds=1)) == duplicates.BANDS
    assert not TextBand.objects.exists()


def test_copy_repeated_within_the_window_is_a_duplicate_and_after_it_a_story_again(ingest):
    ingest(story_copy("Lighthouse shines again", paragraphs=PARAGRAPHS), source="cw")
    [within] = ingest(story_copy("Cape light back on", paragraphs=PARAGRAPHS), source="cw-reseller")
    assert within.outcome == "duplicate"

    upkeep.prune_bands(now=timezone.now() + WINDOW + dt.timedelta(seconds=1))
    [after] = ingest(story_copy("Cape beam returns", paragraphs=PARAGRAPHS), source="cw-other")
    assert after.outcome == "published"


def test_an_update_files_its_text_anew_and_so_starts_its_window_again(ingest):
    ingest(story_copy(paragraphs=PARAGRAPHS), source="cw")
    TextBand.objects.update(filed_at=timezone.now() - WINDOW - dt.timedelta(minutes=1))
    [update] = ingest(story_copy(paragraphs=(*PARAGRAPHS, "Tourists are expected back in May.")), source="cw")
    assert update.outcome == "updated"
    assert upkeep.prune_bands() == 0
    assert TextBand.objects.count() == duplicates.BANDS
