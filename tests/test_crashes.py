"""A worker killed at each step of processing: after a restart nothing is lost and nothing is
published twice. Processing one delivery is one transaction, so a death anywhere inside it
leaves the delivery `received` for the sweep, and the site as it was."""

import datetime as dt

import pytest
from conftest import story_copy

from wiredesk.desk import pipeline
from wiredesk.models import Delivery, Story, StoryVersion

FIRST = story_copy(paragraphs=("The harbour's cranes worked again on Monday.", "Queues cleared by noon."))
UPDATE = story_copy(
    paragraphs=(
        "The harbour's cranes worked again on Monday.",
        "Queues cleared by noon.",
        "Ships were loading on schedule by the evening.",
    )
)


class WorkerKilled(BaseException):
    """Like SIGKILL, nothing in the pipeline may catch it: not an error to quarantine."""


def die(*args, **kwargs):
    raise WorkerKilled


def die_marking_processed(self, *args, **kwargs):
    if self.status == Delivery.Status.PROCESSED:
        raise WorkerKilled
    return ORIGINAL_SAVE(self, *args, **kwargs)


ORIGINAL_SAVE = Delivery.save
# A new story is written with the other new stories of its transaction (pipeline._write_new),
# a table at a time; an update, a statement at a time (pipeline._apply).
NEW_STORY_STEPS = {
    "while parsing": (pipeline.formats, "parse", die),
    "while looking for duplicates": (pipeline, "_filed_bands", die),
    "after the story rows, before their versions": (StoryVersion.objects, "bulk_create", die),
    "after the versions, before the stories show them": (Story, "show", die),
    "after the stories show them, before their text is filed": (pipeline, "_file_bands", die),
    "before the deliveries are marked processed": (pipeline, "_by_count", die),
}
UPDATE_STEPS = {
    "while parsing": (pipeline.formats, "parse", die),
    "after the story row, before its version": (StoryVersion, "save", die),
    "after the version, before the story shows it": (pipeline, "_show", die),
    "after the story shows it, before its text is filed": (pipeline, "_file_text", die),
    "before the delivery is marked processed": (Delivery, "save", die_marking_processed),
}


def restart_and_sweep() -> int:
    return pipeline.sweep(grace=dt.timedelta(0))


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("step", NEW_STORY_STEPS)
def test_a_worker_killed_publishing_a_new_story_loses_nothing_and_publishes_once(step, monkeypatch):
    delivery = pipeline.receive(FIRST, source="hp", transport="cli")
    monkeypatch.setattr(*NEW_STORY_STEPS[step])
    with pytest.raises(WorkerKilled):
        pipeline.process(delivery.pk)
    monkeypatch.undo()

    delivery.refresh_from_db()
    assert delivery.status == "received"
    assert not Story.objects.exists()

    assert restart_and_sweep() == 1
    assert restart_and_sweep() == 0
    assert Story.objects.visible().count() == 1
    assert StoryVersion.objects.count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("step", UPDATE_STEPS)
def test_a_worker_killed_during_an_update_leaves_the_published_text_until_the_sweep(step, monkeypatch):
    pipeline.process(pipeline.receive(FIRST, source="hp", transport="cli").pk)
    update = pipeline.receive(UPDATE, source="hp", transport="cli")
    monkeypatch.setattr(*UPDATE_STEPS[step])
    with pytest.raises(WorkerKilled):
        pipeline.process(update.pk)
    monkeypatch.undo()

    story = Story.objects.get()
    assert story.is_visible() and story.current.version == 1

    assert restart_and_sweep() == 1
    story.refresh_from_db()
    assert story.current.version == 2
    assert list(story.versions.values_list("version", flat=True).order_by("version")) == [1, 2]
