"""The desk's pipeline, one plain step at a time:

    receive (store the bytes, commit)  ->  parse (formats)  ->  decide (lifecycle)  ->  publish

`receive` commits before anything reads the bytes, so a crash at any later point loses nothing:
the delivery stays `received` and `sweep` finds it again. `process` is idempotent: running it
twice on the same delivery gives the same stories once.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import hashlib
import logging
import threading
import time
from dataclasses import dataclass

from django.db import DatabaseError, IntegrityError, connection, transaction
from django.dispatch import Signal
from django.utils import timezone
from django.utils.text import slugify

from wiredesk import formats, lifecycle
from wiredesk.config import sources
from wiredesk.db import writing
from wiredesk.filing import section_for
from wiredesk.formats.shared import ID_LESS_FORMATS
from wiredesk.lifecycle import Outcome, State, duplicates
from wiredesk.models import NO_BYTES_SHA256, Delivery, Source, Story, StoryKey, StoryVersion, TextBand
from wiredesk.publish import changes
from wiredesk.story import WireStory

log = logging.getLogger(__name__)

# Stories applied in one transaction. At about 20 ms a story on SQLite, a batch keeps the one
# writer there may be for two seconds at most; between two, the writers waiting go first (db.py),
# and on SQLite those of other processes get BATCH_GAP seconds to find the database free.
BATCH = 100
BATCH_GAP = 0.15

# Sent once a delivery's quarantine is committed, with `delivery`: a transport that keeps a copy
# of what it took (the inbox's archived file) sets it aside with the reason.
quarantined = Signal()
# Sent once a quarantined delivery that ran again is published, with `delivery`: the transport
# takes its copy back from where it was set aside.
recovered = Signal()


@dataclass(frozen=True)
class Result:
    """What one story in a delivery came to: one line of `wiredesk ingest`."""

    delivery: int
    outcome: Outcome
    uri: str | None = None
    version: int | None = None
    url: str | None = None  # where readers see it, when they can now
    error: str | None = None
    reason: str | None = None  # why it is not (or not yet) shown, when it is not

    def as_dict(self) -> dict:
        return {
            "delivery": self.delivery,
            "uri": self.uri,
            "version": self.version,
            "outcome": str(self.outcome),
            "url": self.url,
            **({"reason": self.reason} if self.reason else {}),
            **({"error": self.error} if self.error else {}),
        }


def source_for(slug: str | None) -> Source:
    slug = sources.slug_for(slug)
    source, _ = Source.objects.get_or_create(slug=slug, defaults={"name": sources.default_name(slug)})
    return source


@dataclass(frozen=True)
class Arrival:
    """What a transport took, as `receive` stores it (see there)."""

    data: bytes
    source: str | None = None
    filename: str = ""
    problem: str | None = None
    size: int | None = None
    unread: bool = False


def receive(
    data: bytes,
    *,
    source: str | None = None,
    transport: str,
    filename: str = "",
    received_at: dt.datetime | None = None,
    problem: str | None = None,
    size: int | None = None,
    unread: bool = False,
) -> Delivery:
    """Store the bytes exactly as received, committed before this returns (or with the caller's
    transaction), once: when this source's same bytes were stored before, by any transport, that
    delivery is returned instead, with `again` set. With a `problem` (the transport could tell at
    once that they hold no copy), the delivery is stored quarantined with it as the reason; and
    when it was refused `unread` (`data` empty), never processed, `size` saying how large what
    came was. Transports call this through `transports.store`."""
    return receive_arrival(
        Arrival(data, source, filename, problem, size, unread), transport=transport, received_at=received_at
    )


def receive_arrival(arrival: Arrival, *, transport: str, received_at: dt.datetime | None = None) -> Delivery:
    """`receive`, of what a transport took held as an Arrival."""
    _check(transport)
    with writing():
        delivery = _delivery(source_for(arrival.source), transport, arrival, received_at or timezone.now())
        try:
            with transaction.atomic():
                delivery.save(force_insert=True)
            delivery.again = False
        except IntegrityError:
            # Stored meanwhile by another transport or worker: the constraint, not a lookup first,
            # decides, so two at once cannot both store.
            delivery = Delivery.objects.select_related("source").get(
                source=delivery.source, sha256=delivery.sha256, repeat=False
            )
            delivery.again = True
    return delivery


def receive_many(arrivals: list[Arrival], *, transport: str) -> list[Delivery]:
    """`receive` for each of many arrivals (an archive's files), committed together: the bytes
    stored before found in one query, the others inserted in one statement. The deliveries come
    in the arrivals' order, each with `again` set as `receive` sets it."""
    _check(transport)
    now = timezone.now()
    with writing():
        sources = {slug: source_for(slug) for slug in {a.source for a in arrivals}}
        rows = [_delivery(sources[a.source], transport, a, now) for a in arrivals]
        # The bytes stored before, and those met twice in the arrivals, by their source and hash.
        stored = _stored_before(rows)
        order: list[tuple[Delivery, bool]] = []  # each arrival's delivery, and whether stored before
        new = []
        for row in rows:
            key = (row.source_id, row.sha256)
            if row.sha256 != NO_BYTES_SHA256 and key in stored:
                order.append((stored[key], True))
                continue
            order.append((row, False))
            new.append(row)
            if row.sha256 != NO_BYTES_SHA256:
                stored[key] = row
        try:
            with transaction.atomic():
                Delivery.objects.bulk_create(new)
        except IntegrityError:
            # Some stored meanwhile by another transport: each as `receive` stores it.
            return [receive_arrival(arrival, transport=transport) for arrival in arrivals]
    deliveries = []
    for delivery, again in order:
        # The same bytes twice in the arrivals: the first is new, the others are not.
        deliveries.append(copy.copy(delivery) if again else delivery)
        deliveries[-1].again = again
    return deliveries


def _stored_before(rows: list[Delivery]) -> dict[tuple[int, str], Delivery]:
    stored = {}
    for first in range(0, len(rows), _PARAMETERS):
        hashes = {row.sha256 for row in rows[first : first + _PARAMETERS]}
        for delivery in Delivery.objects.select_related("source").filter(sha256__in=hashes, repeat=False):
            stored[delivery.source_id, delivery.sha256] = delivery
    return stored


def _check(transport: str) -> None:
    if transport not in Delivery.Transport.values:
        # A way in the desk does not know of is a mistake in the code that calls this, not copy
        # to quarantine: refused before anything is stored.
        raise ValueError(f"{transport!r} is not a transport: {', '.join(Delivery.Transport.values)}")


def _delivery(source: Source, transport: str, arrival: Arrival, received_at: dt.datetime) -> Delivery:
    """The delivery an arrival is stored as, not yet saved."""
    data, problem = arrival.data, arrival.problem
    return Delivery(
        source=source,
        transport=transport,
        filename=arrival.filename,
        data=data,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data) if arrival.size is None else arrival.size,
        received_at=received_at,
        unread=arrival.unread,
        **(
            {"status": Delivery.Status.QUARANTINED, "error": problem, "processed_at": timezone.now()} if problem else {}
        ),
    )


def process(delivery_id: int, *, again: bool = False) -> list[Result]:
    """Parse a stored delivery and apply the lifecycle rules to each story in it.

    A delivery already processed is left alone unless `again` (an operator re-running it).
    """
    return process_many([delivery_id], again=again)[delivery_id]


def process_waiting(delivery_id: int) -> list[Result]:
    """Process a delivery and, in the same transactions, the deliveries stored after it that still
    wait (a backlog: a folder left for a weekend, a feed that sent a day at once), up to BACKLOG
    of them; their own tasks then find them done. Returns the named delivery's results."""
    with _claimed_waiting(delivery_id) as taken:
        return process_many(taken)[delivery_id]


def process_many(delivery_ids: list[int], *, again: bool = False, read=map) -> dict[int, list[Result]]:
    """Process deliveries in the order given, as `process` does each, with their results by id.

    Reading the copy is most of the work and needs no lock: all of it is done first (through
    `read`, a map: an import passes a process pool's), so that the transactions (on SQLite, the
    one writer there may be at a time) hold only the writing. Small deliveries then share a
    transaction, up to BATCH stories, each in a savepoint of its own: one a bug meets is rolled
    back and quarantined alone, and each delivery's status and stories_done are its own. Those
    that hold only new stories (most of a backlog or an archive) are written together, a table
    at a time (_add_new), to the same rows."""
    # The source's time zone and policy as sources.toml says now, in a running desk too.
    sources.apply_changes()
    found = Delivery.objects.select_related("source").in_bulk(delivery_ids)
    results: dict[int, list[Result]] = {pk: [] for pk in delivery_ids}
    waiting = [found[pk] for pk in dict.fromkeys(delivery_ids) if pk in found]
    waiting = [d for d in waiting if again or d.status == Delivery.Status.RECEIVED]
    for delivery in waiting:
        if delivery.unread:
            # Its bytes were never read (see receive): there is nothing to run again.
            results[delivery.pk] = [Result(delivery=delivery.pk, outcome=Outcome.QUARANTINED, error=delivery.error)]
    readable = [d for d in waiting if not d.unread]
    readings = read(_read, [(bytes(d.data), d.source.slug, d.received_at, d.source.time_zone) for d in readable])
    together: list[tuple[Delivery, list[_Copy] | str]] = []
    size = 0
    for delivery, reading in zip(readable, readings):
        stories = len(reading) if isinstance(reading, list) else 1
        if together and size + stories > BATCH:
            results.update(_apply_together(together, again=again))
            together, size = [], 0
        if stories > BATCH:
            # A large delivery goes alone, a batch per transaction, counting its stories done.
            results[delivery.pk] = _apply_in_batches(delivery, reading, again=again)
        else:
            together.append((delivery, reading))
            size += stories
    if together:
        results.update(_apply_together(together, again=again))
    return results


def _read(args: tuple[bytes, str, dt.datetime, str]) -> list[_Copy] | str:
    """The copies in a delivery's bytes, or why none can be read. A plain function of plain data,
    so that a process pool can run it."""
    data, source, received, zone = args
    try:
        return [_Copy.of(story) for story in formats.parse(data, formats.Context(source, received, zone))]
    except formats.FormatError as exc:
        return str(exc)
    except Exception as exc:
        # A bug met by this delivery must not stop the desk: keep it aside with the reason.
        log.exception("reading a delivery of %s failed", source)
        return _internal(exc)


def _internal(exc: Exception) -> str:
    return f"internal error: {type(exc).__name__}: {exc}"


def _apply_together(readings: list[tuple[Delivery, list[_Copy] | str]], *, again: bool) -> dict[int, list[Result]]:
    results: dict[int, list[Result]] = {}
    with writing(), changes.batch():
        locked = _locked_deliveries([d.pk for d, _ in readings])
        known = _Known.of(
            [(d.source_id, wire) for d, reading in readings if isinstance(reading, list) for wire in reading]
        )
        # Deliveries of new stories only, written together (_add_new) once a delivery that needs
        # the database as the ones before it left it comes, or at the end.
        new: list[tuple[Delivery, list[_Copy]]] = []
        for read, reading in readings:
            delivery = locked.get(read.pk)
            if delivery is None or (delivery.status != Delivery.Status.RECEIVED and not again):
                results[read.pk] = []  # another worker took it meanwhile
                continue
            if (
                not again
                and delivery.stories_done == 0
                and isinstance(reading, list)
                and _all_new(delivery, reading, known)
            ):
                new.append((delivery, reading))
                continue
            results.update(_add_new(new, known))
            new = []
            results[read.pk] = _apply_delivery(delivery, reading, known, again=again, was=read.status)
        results.update(_add_new(new, known))
    return results


def _apply_delivery(
    delivery: Delivery, reading: list[_Copy] | str, known: _Known, *, again: bool, was: str
) -> list[Result]:
    """Apply one locked delivery's copies (or quarantine it with why none can be read), in a
    savepoint of its own, counting its stories done."""
    try:
        with transaction.atomic():
            if isinstance(reading, str):
                return [_quarantine(delivery, reading)]
            begin = 0 if again else delivery.stories_done
            results = [_apply(delivery, wire, known) for wire in reading[begin:]]
            _done(delivery, len(reading), was=was)
            return results
    except DatabaseError:
        # Not the delivery's fault: it stays `received` and the sweep tries again.
        log.exception("delivery %s: the database failed; the sweep tries again", delivery.pk)
        return []
    except Exception as exc:
        log.exception("delivery %s failed", delivery.pk)
        delivery.refresh_from_db()
        return [_quarantine(delivery, _internal(exc))]


def _all_new(delivery: Delivery, copies: list[_Copy], known: _Known) -> bool:
    """Whether every copy in the delivery is plainly a new story, with nothing to look up one by
    one: not a story already (by its uri), not a notice naming one or a kill, sharing no
    signature band with any story filed (so neither a duplicate nor an update by its text). Those
    that are are added to `known`, for the copies after them. (A kill that came before its story
    is looked for when the story is written, as `_apply` does.)"""
    for wire in copies:
        incoming = wire.story
        if (
            (delivery.source_id, incoming.uri) in known.uris
            or incoming.pubstatus == "canceled"
            or _names_a_story(incoming)
            or not known.bands.isdisjoint(wire.bands)
            or (wire.bands and incoming.format in ID_LESS_FORMATS and lifecycle.continues_a_story(incoming))
        ):
            return False
        known.uris.add((delivery.source_id, incoming.uri))
        known.bands.update(wire.bands)
    return True


def _add_new(new: list[tuple[Delivery, list[_Copy]]], known: _Known) -> dict[int, list[Result]]:
    """Apply deliveries of new stories only (_all_new) together: each table's rows for all of
    them in a statement or two, where _apply takes a dozen for each story. The rows are those
    _apply would write; should writing them fail, each delivery is applied alone instead."""
    if not new:
        return {}
    try:
        with transaction.atomic():
            return _write_new(new, known)
    except Exception:
        log.exception("%s deliveries of new stories, written together, failed: each is applied alone", len(new))
        return {d.pk: _apply_delivery(d, copies, known, again=False, was=d.status) for d, copies in new}


def _write_new(new: list[tuple[Delivery, list[_Copy]]], known: _Known) -> dict[int, list[Result]]:
    now = timezone.now()
    copies = [(delivery, wire) for delivery, wires in new for wire in wires]
    killed_by = _pending_kills([(d.source_id, wire.story) for d, wire in copies], now, known.kill_targets)
    decided: list[tuple[Delivery, _Copy, lifecycle.Decision, Story | None]] = []
    for (delivery, wire), kill in zip(copies, killed_by):
        decision = lifecycle.decide(None, wire.story, now=now, policy=delivery.source.policy, killed_by=kill)
        story = None
        if decision.stored:
            story = _new_story(delivery.source, wire)
            _decide_row(story, wire.story, decision, now, None)
        decided.append((delivery, wire, decision, story))
    stored = [(d, wire, decision, story) for d, wire, decision, story in decided if story is not None]
    stories = Story.objects.bulk_create([story for *_, story in stored])
    versions = StoryVersion.objects.bulk_create(
        [_version(story, d, w.story, decision, w) for d, w, decision, story in stored]
    )
    for story, version in zip(stories, versions):
        story.show(version)
    with connection.cursor() as cursor:
        cursor.executemany(_SHOW, [(story.current_id, story.headline, story.pk) for story in stories])
    StoryKey.objects.bulk_create(
        [key for _, wire, _, story in stored for key in _names(story, wire.story, now)], ignore_conflicts=True
    )
    changes.stories_changed(stories, new=True)
    _file_bands(
        [
            (story.pk, band)
            for _, wire, _, story in stored
            if wire.story.paragraphs and story.state in (State.LIVE, State.HELD)
            for band in wire.bands
        ]
    )
    for count, pks in _by_count(new).items():
        Delivery.objects.filter(pk__in=pks).update(
            stories_done=count, status=Delivery.Status.PROCESSED, error="", processed_at=now
        )
    results: dict[int, list[Result]] = {delivery.pk: [] for delivery, _ in new}
    for delivery, wire, decision, story in decided:
        results[delivery.pk].append(_result(delivery, decision, story, wire.story, now))
    return results


def _by_count(new: list[tuple[Delivery, list[_Copy]]]) -> dict[int, list[int]]:
    """The deliveries' ids by how many stories each holds."""
    counts: dict[int, list[int]] = {}
    for delivery, wires in new:
        counts.setdefault(len(wires), []).append(delivery.pk)
    return counts


def _apply_in_batches(read: Delivery, copies: list[_Copy] | str, *, again: bool) -> list[Result]:
    """Apply the copies BATCH at a time, a transaction each, so that a delivery of thousands of
    stories never keeps other sources' deliveries (or a push waiting to be stored) out for long.
    The delivery counts the stories done: one interrupted (a crash, a restart) is taken up where
    it stopped by the sweep, and a second worker that finds it further on than it thought leaves
    it to the first. An operator's `again` starts from the first story."""
    results: list[Result] = []
    begin = None
    try:
        while True:
            with writing(), changes.batch():
                delivery = _locked_deliveries([read.pk])[read.pk]
                if begin is None:
                    if delivery.status != Delivery.Status.RECEIVED and not again:
                        return results  # another worker took it meanwhile
                    begin = 0 if again else delivery.stories_done
                elif delivery.stories_done != begin:
                    return results
                end = min(begin + BATCH, len(copies))
                known = _Known.of([(delivery.source_id, wire) for wire in copies[begin:end]])
                results += [_apply(delivery, wire, known) for wire in copies[begin:end]]
                if end == len(copies):
                    _done(delivery, end, was=read.status)
                else:
                    delivery.stories_done = end
                    delivery.save(update_fields=["stories_done"])
            if end == len(copies):
                return results
            begin = end
            if connection.vendor == "sqlite":
                # Writers in other processes (a push, taken by the web server) wait in SQLite's busy
                # handler, which looks again only every 100 ms: a gap shorter than that, they miss.
                time.sleep(BATCH_GAP)
    except DatabaseError:
        raise
    except Exception as exc:
        log.exception("delivery %s failed", read.pk)
        with writing():
            return [_quarantine(Delivery.objects.get(pk=read.pk), _internal(exc))]


def _done(delivery: Delivery, stories: int, *, was: str) -> None:
    if was == Delivery.Status.QUARANTINED:
        transaction.on_commit(lambda: recovered.send(sender=Delivery, delivery=delivery), robust=True)
    delivery.stories_done = stories
    delivery.status, delivery.error, delivery.processed_at = Delivery.Status.PROCESSED, "", timezone.now()
    delivery.save(update_fields=["stories_done", "status", "error", "processed_at"])


def _locked_deliveries(delivery_ids: list[int]) -> dict[int, Delivery]:
    # In id order, so that two workers locking overlapping sets (PostgreSQL) never deadlock.
    locked = Delivery.objects.select_for_update().select_related("source").filter(pk__in=delivery_ids)
    return {d.pk: d for d in locked.order_by("pk")}


# Deliveries one task takes into its transactions, its own and those waiting after it.
BACKLOG = 50
_claims_lock = threading.Lock()
_claims: set[int] = set()


@contextlib.contextmanager
def _claimed_waiting(delivery_id: int):
    """The delivery and those stored after it still waiting, that no other worker of this process
    has taken meanwhile: theirs is already under way. Workers of other processes may take the
    same; the lock each takes on its deliveries, and their status, decide who does them."""
    later = (
        Delivery.objects.filter(status=Delivery.Status.RECEIVED, pk__gt=delivery_id)
        .order_by("pk")
        .values_list("pk", flat=True)[: BACKLOG * 2]
    )
    with _claims_lock:
        taken = [delivery_id] + [pk for pk in later if pk not in _claims][: BACKLOG - 1]
        _claims.update(taken)
    try:
        yield taken
    finally:
        with _claims_lock:
            _claims.difference_update(taken)


@dataclass(frozen=True)
class _Copy:
    """A story as read from a delivery, with what the duplicate rules compare of its text and its
    signature bands: made before the transaction, which then only writes."""

    story: WireStory
    text: duplicates.Text
    bands: list[str]
    # What a version and a new story's row keep of it.
    content: dict
    fingerprint: str
    slug: str
    section: str

    @classmethod
    def of(cls, story: WireStory) -> _Copy:
        text = duplicates.Text.of(story.headline, story.paragraphs)
        return cls(
            story,
            text,
            duplicates.bands(text.shingles) if text.shingles else [],
            content=story.to_dict(),
            fingerprint=story.fingerprint(),
            slug=_slug(story.headline),
            section=section_for(story),
        )


def _context(delivery: Delivery) -> formats.Context:
    """What the formats need to know of a delivery besides its bytes. Raises FormatError for a
    source configured with an unknown time zone."""
    return formats.Context(source=delivery.source.slug, received=delivery.received_at, zone=delivery.source.time_zone)


def _quarantine(delivery: Delivery, reason: str) -> Result:
    delivery.status = Delivery.Status.QUARANTINED
    delivery.error = reason
    delivery.processed_at = timezone.now()
    delivery.save(update_fields=["status", "error", "processed_at"])
    log.warning("delivery %s quarantined: %s", delivery.pk, reason)
    transaction.on_commit(lambda: quarantined.send(sender=Delivery, delivery=delivery), robust=True)
    return Result(delivery=delivery.pk, outcome=Outcome.QUARANTINED, error=reason)


def _apply(delivery: Delivery, wire: _Copy, known: _Known) -> Result:
    """Apply one copy; `known` is what its transaction read ahead for all of its copies."""
    incoming, source, now = wire.story, delivery.source, timezone.now()
    story, original = _story_for(source, wire, now, known)
    if story is not None and story.current:
        incoming = lifecycle.join_take(story.current.canonical, incoming)
    decision = lifecycle.decide(
        story.known() if story else None,
        incoming,
        now=now,
        policy=source.policy,
        duplicate_of=original and original.uri,
        killed_by=None if story else _pending_kill(source, incoming, now, known.kill_targets),
    )
    if decision.stored:
        created = story is None
        if created:
            story = _new_story(source, wire)
            known.uris.add((source.pk, incoming.uri))
        if decision.state is not None:
            _decide_row(story, incoming, decision, now, original)
        version = _store(story, delivery, incoming, decision, wire)
        _file_keys(story, incoming, now, created=created, targets=known.kill_targets)
        if decision.state is not None:
            _show(story, version, created=created)
            if incoming.paragraphs and decision.state in (State.LIVE, State.HELD):
                bands = (
                    wire.bands if incoming is wire.story else duplicates.bands(duplicates.shingles(incoming.paragraphs))
                )
                _file_text(story, created, bands)
                known.bands.update(bands)
    return _result(delivery, decision, story, incoming, now)


def _result(delivery: Delivery, decision, story: Story | None, incoming: WireStory, now: dt.datetime) -> Result:
    result = Result(
        delivery=delivery.pk,
        outcome=decision.outcome,
        uri=story.uri if story else incoming.uri,
        version=decision.version,
        url=story.get_absolute_url() if story and story.is_visible(now) else None,
        reason=decision.reason or None,
    )
    log.info(
        "delivery %s: %s %s v%s%s%s",
        delivery.pk,
        result.outcome,
        result.uri,
        result.version,
        f" at {result.url}" if result.url else "",
        f": {result.reason}" if result.reason else "",
    )
    return result


def _story_for(source: Source, wire: _Copy, now: dt.datetime, known: _Known) -> tuple[Story | None, Story | None]:
    """The story the copy belongs to, locked; and, when it belongs to none, the story already on
    the site that it repeats (which makes it a duplicate)."""
    incoming = wire.story
    if story := (
        (source.pk, incoming.uri) in known.uris and _locked(Story.objects.filter(source=source, uri=incoming.uri))
    ) or _named_story(source, incoming, now):
        return story, None
    if not wire.bands:
        return None, None
    updates = lifecycle.continues_a_story(incoming)
    original = _original_of(wire, updating=source.pk if updates else None)
    if original is None:
        # Copy without an id that says it updates may have rewritten all it shares with its story.
        return (_updated_story(source, wire, now) if updates and incoming.format in ID_LESS_FORMATS else None), None
    if original.source_id == source.pk and (updates or duplicates.carries_more(wire.text, _text_of(original))):
        return _locked(Story.objects.filter(pk=original.pk)), None
    return None, original


def _locked(stories) -> Story | None:
    return stories.select_for_update().first()


# How far back a kill or notice without an id looks for the story it names, and a kill that came
# first waits for it: agencies kill within hours, and refer to the day's copy.
NOTICE_WINDOW = dt.timedelta(days=3)
# The names a notice can give its story, the most precise first: a topic list filed over many
# stories ("Partei/Deutschland/Grüne/") comes last.
_KEY_ORDER = ("number:", "headline:", "keyword:", "serial:", "topics:")


def _named_story(source: Source, incoming: WireStory, now: dt.datetime) -> Story | None:
    """For a kill, correction, update, later take or advisory that is not under its story's id: the story it
    names, by the reference number it cites, the headline it quotes, the keyword it is filed under."""
    if not _names_a_story(incoming):
        return None
    keys = StoryKey.objects.filter(source=source, role=StoryKey.Role.NAME, created_at__gte=now - NOTICE_WINDOW)
    for kind in _KEY_ORDER:
        wanted = [key for key in incoming.targets if key.startswith(kind)]
        if wanted and (
            found := keys.filter(key__in=wanted).order_by("-story_id").values_list("story_id", flat=True).first()
        ):
            return _locked(Story.objects.filter(pk=found))
    return None


def _names_a_story(incoming: WireStory) -> bool:
    return bool(incoming.targets) and (
        incoming.pubstatus == "canceled"
        or not incoming.paragraphs
        or (incoming.take or 1) > 1
        or bool({"kill", "update", "correction"} & set(incoming.signals))
    )


def _updated_story(source: Source, wire: _Copy, now: dt.datetime) -> Story | None:
    """For copy that says it updates a story but rewrote its lede and headline ("(LEAD) …"): the
    source's recent story it fits best, if any fits."""
    recent = (
        StoryKey.objects.filter(
            source=source,
            role=StoryKey.Role.NAME,
            created_at__gte=now - UPDATE_WINDOW,
            story__state__in=(State.LIVE, State.HELD),
        )
        .order_by("-story_id")
        .values_list("story_id", flat=True)
        .distinct()[:UPDATE_CANDIDATES]
    )
    scored = [
        (duplicates.update_score(wire.text, _text_of(c)), c.pk)
        for c in Story.objects.filter(pk__in=list(recent)).select_related("current")
        if c.current
    ]
    score, found = max(scored, default=(0.0, None))
    return _locked(Story.objects.filter(pk=found)) if score else None


# An update refers to the day's copy; the source's latest stories are enough to look through.
UPDATE_WINDOW, UPDATE_CANDIDATES = dt.timedelta(days=1), 50


@dataclass
class _Known:
    """What one transaction reads ahead, once, for all of its copies: most are new stories, for
    which a query each would find nothing. Copies that find a name here are looked up as before;
    those the transaction files are added as it goes. (On SQLite a transaction is the one writer;
    on PostgreSQL a story another worker commits meanwhile meets the uniqueness of its uri, and
    its delivery is left to the sweep, as when two insert it at once.)"""

    # (source id, uri) of the copies that are already stories.
    uris: set[tuple[int, str]]
    # (source id, name) that kills received before their story gave (StoryKey TARGET rows). None
    # on PostgreSQL: there another worker may commit such a kill while this transaction runs, and
    # read once at its start it would be missed for as long as the transaction lasts (up to
    # BATCH stories), so each new story asks at its own turn.
    kill_targets: set[tuple[int, str]] | None
    # The copies' signature bands that some story is filed under (TextBand), and those this
    # transaction filed since: a copy sharing none is no story's duplicate or update by its text.
    bands: set[str]

    @classmethod
    def of(cls, copies: list[tuple[int, _Copy]]) -> _Known:
        sources, uris = {source for source, _ in copies}, {wire.story.uri for _, wire in copies}
        return cls(
            uris=set(Story.objects.filter(source_id__in=sources, uri__in=uris).values_list("source_id", "uri")),
            kill_targets=set(
                StoryKey.objects.filter(
                    source_id__in=sources, role=StoryKey.Role.TARGET, created_at__gte=timezone.now() - NOTICE_WINDOW
                ).values_list("source_id", "key")
            )
            if connection.vendor == "sqlite"
            else None,
            bands=_filed_bands({band for _, wire in copies for band in wire.bands}),
        )


def _filed_bands(bands: set[str]) -> set[str]:
    wanted, filed = list(bands), set()
    for first in range(0, len(wanted), _PARAMETERS):
        part = wanted[first : first + _PARAMETERS]
        filed.update(TextBand.objects.filter(band__in=part).values_list("band", flat=True).distinct())
    return filed


# Values in one statement's IN list: under SQLite's older limit of 999 parameters.
_PARAMETERS = 900


def _pending_kill(
    source: Source, incoming: WireStory, now: dt.datetime, targets: set[tuple[int, str]] | None
) -> str | None:
    """A kill received before the story it names: its uri, when it names this story. `targets`,
    when known, are the names such kills gave (see _Known)."""
    return _pending_kills([(source.pk, incoming)], now, targets)[0]


def _pending_kills(
    copies: list[tuple[int, WireStory]], now: dt.datetime, targets: set[tuple[int, str]] | None
) -> list[str | None]:
    """_pending_kill for each (source id, copy), in one query."""
    names = [_kill_names(source, incoming, targets) for source, incoming in copies]
    if not any(names):
        return [None] * len(copies)
    # The uri alone: making its two rows models cost more than the query.
    found: dict[tuple[int, str], tuple[int, str]] = {}
    for source, key, story, uri in StoryKey.objects.filter(
        source_id__in={source for source, _ in copies},
        role=StoryKey.Role.TARGET,
        key__in={key for keys in names for key in keys},
        created_at__gte=now - NOTICE_WINDOW,
        story__state=State.KILLED,
    ).values_list("source_id", "key", "story_id", "story__uri"):
        found[source, key] = max(found.get((source, key), (story, uri)), (story, uri))
    return [
        max((found[source, key] for key in keys if (source, key) in found), default=(None, None))[1]
        for (source, _), keys in zip(copies, names)
    ]


def _kill_names(source: int, incoming: WireStory, targets: set[tuple[int, str]] | None) -> list[str]:
    """The names under which a kill received first may wait for this copy: none when `targets`,
    the names such kills gave (where known), holds none of them."""
    if incoming.pubstatus == "canceled":
        return []
    keys = [key for key in incoming.keys if not key.startswith("topics:")]
    return keys if targets is None or any((source, key) in targets for key in keys) else []


def _file_keys(
    story: Story, incoming: WireStory, now: dt.datetime, *, created: bool, targets: set[tuple[int, str]] | None
) -> None:
    """File the names the story goes by; a kill that found no story (it `created` one) files the
    names it gave, so the story is killed when it comes (and adds them to the `targets` known)."""
    rows = _names(story, incoming, now)
    if incoming.pubstatus == "canceled" and created:
        rows += [_key(story, StoryKey.Role.TARGET, key, now) for key in incoming.targets]
        if targets is not None:
            targets.update((story.source_id, key[:200]) for key in incoming.targets)
    StoryKey.objects.bulk_create(rows, ignore_conflicts=True)


def _names(story: Story, incoming: WireStory, now: dt.datetime) -> list[StoryKey]:
    """The names copy gives its story. A notice's (an advisory's "Eds-Advisory", its own number)
    are not its story's: filed under them, the story would be found by the next notice slugged
    alike, whatever that one names."""
    if not incoming.paragraphs:
        return []
    return [_key(story, StoryKey.Role.NAME, key, now) for key in incoming.keys]


def _key(story: Story, role: str, key: str, now: dt.datetime) -> StoryKey:
    return StoryKey(story=story, source_id=story.source_id, role=role, key=key[:200], created_at=now)


def _text_of(story: Story) -> duplicates.Text:
    current = story.current.canonical
    return duplicates.Text.of(current.headline, current.paragraphs)


def _store(story: Story, delivery: Delivery, incoming: WireStory, decision, wire: _Copy) -> StoryVersion:
    if story.pk is None:
        # Inserted once, as decided (_decide_row): only the version it shows is left to set.
        story.state = decision.state or State.HELD
        story.save()
    version = _version(story, delivery, incoming, decision, wire)
    version.save(force_insert=True)
    return version


def _new_story(source: Source, wire: _Copy) -> Story:
    return Story(source=source, uri=wire.story.uri, slug=wire.slug, section=wire.section)


def _version(story: Story, delivery: Delivery, incoming: WireStory, decision, wire: _Copy) -> StoryVersion:
    """The version `incoming` is stored as: the copy as read (`wire`), or what it made of the story."""
    read = incoming is wire.story
    return StoryVersion(
        story=story,
        version=decision.version,
        delivery=delivery,
        content=wire.content if read else incoming.to_dict(),
        fingerprint=wire.fingerprint if read else incoming.fingerprint(),
        agency_version=incoming.version,
        versioncreated=incoming.versioncreated,
    )


def _decide_row(story: Story, incoming: WireStory, decision, now: dt.datetime, original: Story | None) -> None:
    """Carry the decision out on the story row, before it is stored: its state and its times."""
    story.state, story.reason = decision.state, decision.reason
    if decision.outcome == Outcome.DUPLICATE:
        story.duplicate_of = story.duplicate_of or original
    if decision.state == State.LIVE:
        if story.pk is not None:  # a new story's was read with its copy
            story.section = section_for(incoming)
        if decision.outcome == Outcome.EMBARGOED:
            story.published_at = story.updated_at = decision.publish_at
        elif story.published_at is None or story.published_at > now:
            # First seen now, or a newer version lifting an embargo. An agency clock running
            # ahead must not hide a story: never later than now.
            story.published_at = story.updated_at = min(incoming.firstcreated or now, now)
        else:
            story.updated_at = max(min(incoming.versioncreated or now, now), story.published_at)


def _show(story: Story, version: StoryVersion, *, created: bool) -> None:
    """Make the stored version the one readers see, and send the change out. A story `created`
    just now was inserted with the rest of its row: the version needed its id first."""
    story.show(version)
    story.save(update_fields=["current", "headline"] if created else None)
    changes.story_changed(story, new=created)


def _original_of(wire: _Copy, *, updating: int | None = None) -> Story | None:
    """A story already on the site (or held for it) that is the same story as the copy. Copy that
    says it updates a story of its source (`updating`, the source's id) may open with a new lede under a new headline:
    then overlapping text is enough."""
    # Through the band index first: joining from the stories would read every story's bands. Most
    # copy shares no band with any story, and then the stories' query is not even built.
    filed = list(TextBand.objects.filter(band__in=wire.bands).values_list("story_id", flat=True))
    if not filed:
        return None
    candidates = (
        Story.objects.filter(pk__in=filed, state__in=(State.LIVE, State.HELD)).select_related("current").order_by("pk")
    )
    return next(
        (
            c
            for c in candidates
            if c.current
            and (
                duplicates.same_story(wire.text, _text_of(c))
                or (c.source_id == updating and duplicates.is_duplicate(wire.text.shingles, _text_of(c).shingles))
            )
        ),
        None,
    )


def _file_text(story: Story, created: bool, bands: list[str]) -> None:
    """File the text readers see under its bands, so a later copy of it is recognised."""
    if not created:  # a story made just now has none to replace
        TextBand.objects.filter(story=story).delete()
    _file_bands([(story.pk, band) for band in bands])


def _file_bands(rows: list[tuple[int, str]]) -> None:
    # One plain statement for all the rows: bulk_create made a model and prepared each value of
    # each row first, four times the cost of the insert itself, and sent back ids nothing reads.
    filed_at = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.executemany(_FILE_BANDS, [(story, band, filed_at) for story, band in rows])


def _statement(template: str, model, *columns: str) -> str:
    return template.format(*map(connection.ops.quote_name, (model._meta.db_table, *columns)))


_FILE_BANDS = _statement("INSERT INTO {} ({}, {}, {}) VALUES (%s, %s, %s)", TextBand, "story_id", "band", "filed_at")
_SHOW = _statement("UPDATE {} SET {} = %s, {} = %s WHERE {} = %s", Story, "current_id", "headline", "id")


def _slug(headline: str) -> str:
    slug = slugify(headline)
    if len(slug) > 60:
        # Cut at a word boundary so the URL never ends in half a word.
        slug = slug[:60].rsplit("-", 1)[0] if "-" in slug[:60] else slug[:60]
    return slug or "story"


def sweep(grace: dt.timedelta = dt.timedelta(seconds=2)) -> int:
    """Process deliveries that were stored but never processed: the queue lost them, or a worker
    died. Returns how many it found. Several hosts sweep one database: each delivery is taken by
    one of them (`_taken`), and the others pass it by."""
    stale = list(
        Delivery.objects.filter(status=Delivery.Status.RECEIVED, received_at__lt=timezone.now() - grace)
        .order_by("received_at")
        .values_list("pk", flat=True)[:500]
    )
    for first in range(0, len(stale), BACKLOG):
        with contextlib.ExitStack() as held:
            mine = [pk for pk in stale[first : first + BACKLOG] if held.enter_context(_taken(pk))]
            process_many(mine)
    return len(stale)


# The sweep's advisory locks on PostgreSQL are this plus the delivery's id: "wd" in ASCII in the
# top bits of the 64-bit key, so as not to meet another program's locks.
SWEEP_LOCKS = 0x7764 << 48


@contextlib.contextmanager
def _taken(pk: int):
    """Whether this host's sweep has the delivery to itself, held until the block ends.

    On PostgreSQL, a session's advisory lock on the delivery, tried without waiting: a delivery
    another host is sweeping is passed by, and one it swept meanwhile is found processed by
    `process` at a single read. Not `SELECT ... FOR UPDATE SKIP LOCKED`: a row lock lasts one
    transaction, and `process` applies a large delivery in many (its batches), each of which
    moves the site's version on; held in one, the batches would keep every host's writers
    waiting for the whole delivery. The lock goes with the connection if the host dies.
    On SQLite one writer at a time already keeps two sweeps from applying a story twice.
    """
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [SWEEP_LOCKS + pk])
        mine = cursor.fetchone()[0]
    try:
        yield mine
    finally:
        if mine:
            with contextlib.suppress(DatabaseError), connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [SWEEP_LOCKS + pk])


def reprocess(delivery_ids: list[int] | None = None) -> list[Result]:
    """Run quarantined deliveries (or the ones named) through the pipeline again, after a fix.
    Stories they already gave are recognised, so nothing is published twice."""
    ids = delivery_ids or list(
        Delivery.objects.filter(status=Delivery.Status.QUARANTINED).order_by("received_at").values_list("pk", flat=True)
    )
    return [result for pk in ids for result in process(pk, again=True)]


@dataclass(frozen=True)
class Difference:
    story: int
    uri: str
    field: str
    published: object
    agency: object

    def __str__(self):
        return f"story {self.story} ({self.uri}): {self.field} as published differs from the agency's"


AUDITED_FIELDS = ("headline", "paragraphs", "dateline", "by", "correction")


def audit() -> tuple[int, list[Difference]]:
    """Read every live story's delivery again and compare what is published with what the agency
    sent. Returns how many stories were read, and every difference."""
    differences, count = [], 0
    for story in Story.objects.filter(state=State.LIVE).select_related("current__delivery__source").iterator():
        count += 1
        delivery, published = story.current.delivery, story.current.canonical
        try:
            agency = next(
                (s for s in formats.parse(bytes(delivery.data), _context(delivery)) if s.uri == published.uri), None
            )
        except formats.FormatError as exc:
            differences.append(Difference(story.pk, story.uri, "delivery", "readable", str(exc)))
            continue
        if agency is None:
            differences.append(Difference(story.pk, story.uri, "story", story.uri, "not in its delivery"))
            continue
        differences += [
            Difference(story.pk, story.uri, name, getattr(published, name), getattr(agency, name))
            for name in AUDITED_FIELDS
            if getattr(published, name) != getattr(agency, name)
        ]
    return count, differences
