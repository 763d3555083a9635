"""What an operator can do by hand: kill, hold or release a story; dismiss a quarantined delivery.

The automatic rules (wiredesk.lifecycle) respect these: a story an operator holds stays held
through new versions, and a kill is final until an operator releases the story again. A
dismissed delivery no longer waits for a fix, and a bare `wiredesk reprocess` leaves it alone.
"""

from __future__ import annotations

import logging

from django.utils import timezone

from wiredesk.db import writing
from wiredesk.lifecycle import State
from wiredesk.models import Delivery, Story
from wiredesk.publish import changes

log = logging.getLogger(__name__)


class NotFound(LookupError):
    pass


class Refused(PermissionError):
    """The action does not apply as things stand: it would undo what the agency decided and the
    operator did not say to override it, or it is not given what it takes (a delivery not in
    quarantine, a blank reason)."""


def _number(ref: str) -> bool:
    # Not str.isdigit alone: it holds "²", which int() refuses.
    return ref.isascii() and ref.isdigit()


def find(ref: str) -> Story:
    """A story by its number (as in its URL) or by its uri."""
    stories = Story.objects.filter(pk=int(ref)) if _number(ref) else Story.objects.filter(uri=ref)
    found = list(stories[:2])
    if len(found) != 1:
        raise NotFound(
            f"no story {ref!r}" if not found else f"{ref!r} names stories from several sources: use the number"
        )
    return found[0]


def delivery(ref: str) -> Delivery:
    """A delivery by its number."""
    if not _number(ref):
        raise NotFound(f"{ref!r} is not a delivery number")
    found = Delivery.objects.select_related("source").filter(pk=int(ref)).first()
    if found is None:
        raise NotFound(f"no delivery {ref}")
    return found


def quarantined():
    """The deliveries waiting in quarantine for a fix, oldest first, without their bytes."""
    return (
        Delivery.objects.filter(status=Delivery.Status.QUARANTINED)
        .select_related("source")
        .defer("data")
        .order_by("received_at", "pk")
    )


def dismiss(deliveries: list[Delivery], reason: str) -> list[Delivery]:
    """Set quarantined deliveries aside for good, the reason recorded under the quarantine's.
    All or none: one that is not in quarantine refuses them all."""
    reason = reason.strip()
    if not reason:
        raise Refused("a dismissal needs a reason (--reason), for the record")
    with writing():
        locked = [Delivery.objects.select_for_update().get(pk=d.pk) for d in deliveries]
        for d in locked:
            if d.status != Delivery.Status.QUARANTINED:
                raise Refused(f"delivery {d.pk} is {d.status}, not in quarantine: nothing was dismissed")
        now = timezone.now()
        for d in locked:
            d.status = Delivery.Status.DISMISSED
            d.error = f"{d.error}\ndismissed by an operator at {now:%Y-%m-%d %H:%M:%S} UTC: {reason}"
            d.save(update_fields=["status", "error"])
    for d in locked:
        log.warning("delivery %s dismissed by an operator: %s", d.pk, reason)
    return locked


def kill(story: Story, reason: str) -> Story:
    with writing():
        story = Story.objects.select_for_update().get(pk=story.pk)
        story.state, story.reason, story.desk_hold = State.KILLED, f"killed by an operator: {reason}", False
        story.save(update_fields=["state", "reason", "desk_hold"])
        changes.story_changed(story)
    return story


def hold(story: Story, reason: str = "") -> Story:
    with writing():
        story = Story.objects.select_for_update().get(pk=story.pk)
        story.state, story.desk_hold = State.HELD, True
        story.reason = f"held by an operator: {reason}" if reason else "held by an operator"
        story.save(update_fields=["state", "reason", "desk_hold"])
        changes.story_changed(story)
    return story


def release(story: Story, *, override_agency_kill: str = "") -> Story:
    """Publish the story's newest version with text, now, or at its embargo if that is later.

    A kill by the agency is final: the story is released over it only with `override_agency_kill`,
    the operator's reason, which is recorded as the story's reason and in the log."""
    with writing():
        story = Story.objects.select_for_update().get(pk=story.pk)
        agency_kill = story.state == State.KILLED and any(
            v.canonical.pubstatus == "canceled" for v in story.versions.all()
        )
        if agency_kill and not override_agency_kill.strip():
            raise Refused(
                f"story {story.pk} was killed by the agency ({story.reason}): a release needs "
                f"--override-agency-kill with the reason, which is recorded"
            )
        publishable = [
            v
            for v in story.versions.order_by("-version")
            if v.canonical.paragraphs and v.canonical.pubstatus != "canceled"
        ]
        if not publishable:
            raise NotFound(f"story {story.pk} has no version with story text to publish")
        newest, now = publishable[0], timezone.now()
        embargo = newest.canonical.embargoed
        story.state, story.desk_hold = State.LIVE, False
        story.reason = (
            f"released by an operator over the agency's kill: {override_agency_kill.strip()}"
            if agency_kill
            else "released by an operator"
        )
        if agency_kill:
            log.warning("story %s released over the agency's kill: %s", story.pk, override_agency_kill.strip())
        story.show(newest)
        if story.published_at is None:
            story.published_at = story.updated_at = max(now, embargo) if embargo else now
        else:
            story.updated_at = max(now, story.published_at)
        story.save(update_fields=["state", "reason", "desk_hold", "current", "headline", "published_at", "updated_at"])
        changes.story_changed(story)
    return story
