"""The desk's pipeline, one plain step at a time:

    receive (store the bytes, commit)  ->  parse (formats)  ->  decide (lifecycle)  ->  publish

`receive` commits before anything reads the bytes, so a crash at any later point loses nothing:
the delivery stays `received` and `sweep` finds it again. `process` is idempotent: running it
twice on the same delivery gives the same stories once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone
from django.utils.text import slugify

from wiredesk import formats, lifecycle
from wiredesk.lifecycle import Outcome
from wiredesk.models import Delivery, Source, Story, StoryVersion
from wiredesk.publish.sections import section_for
from wiredesk.story import Story as CanonicalStory

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Result:
    """What one story in a delivery came to: one line of `wiredesk ingest`."""

    delivery: int
    outcome: Outcome
    uri: str | None = None
    version: int | None = None
    url: str | None = None
    error: str | None = None

    def as_dict(self) -> dict:
        return {"delivery": self.delivery, "uri": self.uri, "version": self.version,
                "outcome": str(self.outcome), "url": self.url,
                **({"error": self.error} if self.error else {})}


def source_for(slug: str | None) -> Source:
    slug = slugify(slug or settings.WIREDESK["DEFAULT_SOURCE"]) or "wire"
    # Short agency codes read best in capitals (IANS, AFP); longer slugs as words.
    name = slug.upper() if len(slug) <= 5 else slug.replace("-", " ").title()
    source, _ = Source.objects.get_or_create(slug=slug, defaults={"name": name})
    return source


def receive(data: bytes, *, source: str | None = None, transport: str, filename: str = "",
            received_at: dt.datetime | None = None) -> Delivery:
    """Store the bytes exactly as received, committed before this returns."""
    with transaction.atomic():
        return Delivery.objects.create(
            source=source_for(source),
            transport=transport,
            filename=filename,
            data=data,
            sha256=hashlib.sha256(data).hexdigest(),
            size=len(data),
            received_at=received_at or timezone.now(),
        )


def process(delivery_id: int, *, again: bool = False) -> list[Result]:
    """Parse a stored delivery and apply the lifecycle rules to each story in it.

    A delivery already processed is left alone unless `again` (an operator re-running it).
    """
    try:
        with transaction.atomic():
            delivery = Delivery.objects.select_for_update().select_related("source").get(pk=delivery_id)
            if delivery.status != Delivery.Status.RECEIVED and not again:
                return []
            try:
                context = formats.Context(source=delivery.source.slug, received=delivery.received_at,
                                          zone=delivery.source.time_zone)
                stories = formats.parse(bytes(delivery.data), context)
            except formats.FormatError as exc:
                return [_quarantine(delivery, str(exc))]
            results = [_apply(delivery, story) for story in stories]
            delivery.status = Delivery.Status.PROCESSED
            delivery.error = ""
            delivery.processed_at = timezone.now()
            delivery.save(update_fields=["status", "error", "processed_at"])
            return results
    except DatabaseError:
        # Not the delivery's fault: it stays `received` and the sweep tries again.
        raise
    except Exception as exc:
        # A bug met by this delivery must not stop the desk: keep it aside with the reason.
        log.exception("delivery %s failed", delivery_id)
        with transaction.atomic():
            delivery = Delivery.objects.get(pk=delivery_id)
            return [_quarantine(delivery, f"internal error: {type(exc).__name__}: {exc}")]


def _quarantine(delivery: Delivery, reason: str) -> Result:
    delivery.status = Delivery.Status.QUARANTINED
    delivery.error = reason
    delivery.processed_at = timezone.now()
    delivery.save(update_fields=["status", "error", "processed_at"])
    log.warning("delivery %s quarantined: %s", delivery.pk, reason)
    return Result(delivery=delivery.pk, outcome=Outcome.QUARANTINED, error=reason)


def _apply(delivery: Delivery, incoming: CanonicalStory) -> Result:
    story = Story.objects.select_for_update().filter(source=delivery.source, uri=incoming.uri).first()
    stored = [
        lifecycle.StoredVersion(version=v, fingerprint=f)
        for v, f in (story.versions.values_list("version", "fingerprint") if story else [])
    ]
    now = timezone.now()
    decision = lifecycle.decide(stored, incoming, live=bool(story and story.current_id), now=now)
    if decision.outcome == Outcome.UNCHANGED:
        return Result(delivery=delivery.pk, outcome=decision.outcome, uri=incoming.uri,
                      version=decision.version, url=story.get_absolute_url() if story.current_id else None)

    if story is None:
        story = Story.objects.create(source=delivery.source, uri=incoming.uri, slug=_slug(incoming.headline),
                                     section=section_for(incoming))
    version = StoryVersion.objects.create(
        story=story, version=decision.version, delivery=delivery,
        content=incoming.to_dict(), fingerprint=incoming.fingerprint(),
    )
    if decision.outcome in (Outcome.PUBLISHED, Outcome.UPDATED):
        if story.published_at is None:
            story.published_at = story.updated_at = incoming.firstcreated or now
        else:
            story.updated_at = incoming.versioncreated or now
        story.current = version
        story.section = section_for(incoming)
    else:
        # Held or killed: readers see nothing of it; the version is kept all the same.
        story.current = None
        log.info("%s %s v%s: %s", decision.outcome, incoming.uri, decision.version, decision.reason)
    story.save(update_fields=["current", "section", "published_at", "updated_at"])
    return Result(delivery=delivery.pk, outcome=decision.outcome, uri=incoming.uri, version=decision.version,
                  url=story.get_absolute_url() if story.current_id else None)


def _slug(headline: str) -> str:
    slug = slugify(headline)
    if len(slug) > 60:
        # Cut at a word boundary so the URL never ends in half a word.
        slug = slug[:60].rsplit("-", 1)[0] if "-" in slug[:60] else slug[:60]
    return slug or "story"


def sweep(grace: dt.timedelta = dt.timedelta(seconds=2)) -> int:
    """Process deliveries that were stored but never processed: the queue lost them, or a worker
    died. Returns how many it found."""
    stale = list(
        Delivery.objects.filter(status=Delivery.Status.RECEIVED, received_at__lt=timezone.now() - grace)
        .order_by("received_at").values_list("pk", flat=True)[:500]
    )
    for pk in stale:
        process(pk)
    return len(stale)
