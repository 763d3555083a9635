"""What an operator can do to a story by hand: kill it, hold it, release it.

The automatic rules (wiredesk.lifecycle) respect these: a story an operator holds stays held
through new versions, and a kill is final until an operator releases the story again.
"""

from __future__ import annotations

import logging

from django.utils import timezone

from wiredesk.db import writing
from wiredesk.lifecycle import State
from wiredesk.models import Story
from wiredesk.publish import search, static

log = logging.getLogger(__name__)


class NotFound(LookupError):
    pass


class Refused(PermissionError):
    """The action would undo what the agency decided, and the operator did not say to override it."""


def find(ref: str) -> Story:
    """A story by its number (as in its URL) or by its uri."""
    stories = Story.objects.filter(pk=int(ref)) if ref.isdigit() else Story.objects.filter(uri=ref)
    found = list(stories[:2])
    if len(found) != 1:
        raise NotFound(f"no story {ref!r}" if not found else f"{ref!r} names stories from several sources: use the number")
    return found[0]


def kill(story: Story, reason: str) -> Story:
    with writing():
        story = Story.objects.select_for_update().get(pk=story.pk)
        story.state, story.reason, story.desk_hold = State.KILLED, f"killed by an operator: {reason}", False
        story.save(update_fields=["state", "reason", "desk_hold"])
        search.index(story)
        static.changed(story.pk)
    return story


def hold(story: Story, reason: str = "") -> Story:
    with writing():
        story = Story.objects.select_for_update().get(pk=story.pk)
        story.state, story.desk_hold = State.HELD, True
        story.reason = f"held by an operator: {reason}" if reason else "held by an operator"
        story.save(update_fields=["state", "reason", "desk_hold"])
        search.index(story)
        static.changed(story.pk)
    return story


def release(story: Story, *, override_agency_kill: str = "") -> Story:
    """Publish the story's newest version with text, now, or at its embargo if that is later.

    A kill by the agency is final: the story is released over it only with `override_agency_kill`,
    the operator's reason, which is recorded as the story's reason and in the log."""
    with writing():
        story = Story.objects.select_for_update().get(pk=story.pk)
        agency_kill = story.state == State.KILLED and any(
            v.canonical.pubstatus == "canceled" for v in story.versions.all())
        if agency_kill and not override_agency_kill.strip():
            raise Refused(f"story {story.pk} was killed by the agency ({story.reason}): a release needs "
                          f"--override-agency-kill with the reason, which is recorded")
        publishable = [v for v in story.versions.order_by("-version")
                       if v.canonical.paragraphs and v.canonical.pubstatus != "canceled"]
        if not publishable:
            raise NotFound(f"story {story.pk} has no version with story text to publish")
        newest, now = publishable[0], timezone.now()
        embargo = newest.canonical.embargoed
        story.state, story.desk_hold = State.LIVE, False
        story.reason = (f"released by an operator over the agency's kill: {override_agency_kill.strip()}"
                        if agency_kill else "released by an operator")
        if agency_kill:
            log.warning("story %s released over the agency's kill: %s", story.pk, override_agency_kill.strip())
        story.show(newest)
        if story.published_at is None:
            story.published_at = story.updated_at = max(now, embargo) if embargo else now
        else:
            story.updated_at = max(now, story.published_at)
        story.save(update_fields=["state", "reason", "desk_hold", "current", "headline", "published_at", "updated_at"])
        story.file_topics()
        search.index(story)
        static.changed(story.pk)
    return story
