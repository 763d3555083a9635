"""The one store step every transport ends with, and the batches a large delivery is applied in."""

import json
import random
import threading
import time

import pytest
from conftest import story_copy
from django.db import DatabaseError

from wiredesk.db import thread_connections
from wiredesk.desk import pipeline
from wiredesk.models import Delivery, Story
from wiredesk.transports.store import MAX_BYTES, store, store_many

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("immediate_tasks")]

WORDS = (
    "harbour crane ferry council budget tram library flood wind grain terminal road landslip union "
    "strike mayor treasurer petition report engineers weather timetable contract penalty school "
    "hospital bridge tunnel airport museum stadium election vote court river forest farm market"
).split()


def many_stories(count: int, seed: int = 7) -> bytes:
    """A ninjs array of `count` distinct stories (different enough never to be duplicates)."""
    rng = random.Random(seed)
    items = []
    for n in range(count):
        sentences = [" ".join(rng.choice(WORDS) for _ in range(14)).capitalize() + "." for _ in range(4)]
        items.append(
            {
                "uri": f"urn:example-wire:2026:batch-{n}",
                "headline": f"Story number {n} of the batch",
                "body_text": "\n\n".join(sentences),
                "versioncreated": "2026-11-24T10:00:00Z",
            }
        )
    return json.dumps(items).encode()


def test_the_same_bytes_by_two_transports_are_one_delivery():
    first = store(story_copy(), source="hp", transport="push", label="a")
    second = store(story_copy(), source="hp", transport="inbox", label="b")
    assert (first.again, second.again, second.pk) == (False, True, first.pk)
    assert Delivery.objects.count() == 1 and Story.objects.count() == 1


def test_the_same_bytes_from_another_source_are_its_own_delivery():
    store(story_copy(), source="hp", transport="push")
    assert not store(story_copy(), source="ians", transport="push").again
    assert Delivery.objects.count() == 2


def test_identical_stores_at_once_store_one_delivery():
    start, stored = threading.Barrier(6), []

    def store_once():
        with thread_connections():
            start.wait()
            stored.append(store(story_copy(), source="hp", transport="push"))

    threads = [threading.Thread(target=store_once) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(stored) == 6 and len({s.pk for s in stored}) == 1
    assert sorted(s.again for s in stored) == [False] + [True] * 5
    assert Delivery.objects.count() == 1 and Story.objects.count() == 1


def test_a_store_by_a_transport_the_desk_does_not_know_is_refused_and_stores_nothing():
    with pytest.raises(ValueError, match="'carrier-pigeon' is not a transport: inbox, http, ftp, sftp, push, smtp"):
        store(story_copy(), source="hp", transport="carrier-pigeon")
    assert not Delivery.objects.exists()
    # Every transport's own value is one.
    for number, transport in enumerate(Delivery.Transport.values):
        assert not store(story_copy(f"Story {number}"), source="hp", transport=transport).again
    assert sorted(Delivery.objects.values_list("transport", flat=True)) == sorted(Delivery.Transport.values)


def test_deliveries_too_large_to_read_are_each_their_own():
    for size in (MAX_BYTES + 1, MAX_BYTES + 2):
        stored = store(b"", source="hp", transport="ftp", size=size)
        assert not stored.again and stored.delivery.unread
    assert Delivery.objects.filter(status=Delivery.Status.QUARANTINED).count() == 2


def test_many_stored_at_once_are_stored_as_one_at_a_time_would_store_them():
    before = store(story_copy("Stored before"), source="hp", transport="push")
    arrivals = [
        pipeline.Arrival(story_copy("New"), source="hp", filename="new.txt"),
        pipeline.Arrival(story_copy("Stored before"), source="hp", filename="before-again.txt"),
        pipeline.Arrival(story_copy("New"), source="hp", filename="new-again.txt"),
        pipeline.Arrival(story_copy("New"), source="ians", filename="new-other-source.txt"),
        pipeline.Arrival(b"x" * 10, source="hp", size=MAX_BYTES + 1, filename="huge.bin"),
        pipeline.Arrival(b"", source="hp", problem="refused unread", size=3, unread=True, filename="refused.bin"),
        pipeline.Arrival(b"", source="hp", problem="refused unread", size=3, unread=True, filename="refused-2.bin"),
    ]
    new, again, twice, other, huge, refused, refused_too = store_many(arrivals, transport="import", queue=False)
    assert (new.again, again.again, twice.again, other.again) == (False, True, True, False)
    assert (again.pk, twice.pk) == (before.pk, new.pk) and len({new.pk, other.pk, before.pk}) == 3
    assert (huge.delivery.unread, huge.delivery.size, huge.delivery.status) == (True, MAX_BYTES + 1, "quarantined")
    assert bytes(huge.delivery.data) == b""
    # Refused files hold no bytes, so no two are the same: each is its own delivery.
    assert not refused.again and not refused_too.again and refused.pk != refused_too.pk
    assert Delivery.objects.count() == 6
    assert Delivery.objects.get(pk=new.pk).filename == "new.txt"


def test_many_stored_at_once_while_another_transport_stores_the_same_bytes(monkeypatch):
    # The bytes another transport stored between the lookup and the insert meet the constraint:
    # then each is stored alone, as `store` stores it.
    pushed = store(story_copy("Pushed meanwhile"), source="hp", transport="push")
    monkeypatch.setattr(pipeline, "_stored_before", lambda rows: {})
    arrivals = [pipeline.Arrival(story_copy(text), source="hp") for text in ("First", "Pushed meanwhile", "Last")]
    first, meanwhile, last = store_many(arrivals, transport="import", queue=False)
    assert (first.again, meanwhile.again, last.again) == (False, True, False)
    assert meanwhile.pk == pushed.pk and Delivery.objects.count() == 3


def test_a_store_logs_one_line_naming_the_transport_and_the_delivery(caplog):
    caplog.set_level("INFO", logger="wiredesk.transports.store")
    stored = store(story_copy(), source="hp", transport="push", label="cranes.txt")
    store(story_copy(), source="hp", transport="inbox", label="cranes-again.txt")
    lines = [r.getMessage() for r in caplog.records if r.name == "wiredesk.transports.store"]
    assert lines == [
        f"push: cranes.txt from hp stored as delivery {stored.pk}",
        f"inbox: cranes-again.txt from hp is delivery {stored.pk} again (processed); not stored twice",
    ]


def test_a_large_delivery_is_applied_in_batches_and_resumes_where_it_stopped(monkeypatch):
    monkeypatch.setattr(pipeline, "BATCH", 10)
    delivery = pipeline.receive(many_stories(35), source="hp", transport="cli")
    applied, real_apply = [], pipeline._apply

    def failing_apply(delivery, copy, known):
        if len(applied) == 15:
            applied.append("crash")
            raise DatabaseError("the disk went away")
        applied.append(copy.story.uri)
        return real_apply(delivery, copy, known)

    monkeypatch.setattr(pipeline, "_apply", failing_apply)
    with pytest.raises(DatabaseError):
        pipeline.process(delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.stories_done) == (Delivery.Status.RECEIVED, 10)
    assert Story.objects.count() == 10  # the first batch is committed, the second rolled back
    pipeline.process(delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.stories_done) == (Delivery.Status.PROCESSED, 35)
    assert Story.objects.count() == 35
    # Taken up at the eleventh story: the first ten were not applied twice.
    assert applied.count("urn:example-wire:2026:batch-0") == 1


def test_a_push_is_stored_between_the_batches_of_a_large_delivery(monkeypatch):
    monkeypatch.setattr(pipeline, "BATCH", 5)
    real_apply = pipeline._apply
    monkeypatch.setattr(pipeline, "_apply", lambda d, c, t: (time.sleep(0.02), real_apply(d, c, t))[1])
    big = pipeline.receive(many_stories(60), source="hp", transport="cli")

    def process():
        with thread_connections():
            pipeline.process(big.pk)

    worker = threading.Thread(target=process)
    worker.start()
    try:
        deadline = time.monotonic() + 30
        while Delivery.objects.get(pk=big.pk).stories_done < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
        stored = store(story_copy(), source="ians", transport="push", queue=False)
        done_when_stored = Delivery.objects.get(pk=big.pk).stories_done
    finally:
        worker.join(60)
    assert not stored.again and 5 <= done_when_stored < 60
    assert Delivery.objects.get(pk=big.pk).status == Delivery.Status.PROCESSED


def test_writers_go_in_the_order_they_came_even_when_one_asks_again_at_once():
    from wiredesk.db import _one_writer

    order, holding, waiting = [], threading.Event(), threading.Event()

    def greedy():
        with _one_writer:
            holding.set()
            waiting.wait(5)
            time.sleep(0.05)  # the other is queued by now
        with _one_writer:  # asks again the moment it lets go, as a next batch does
            order.append("greedy again")

    def patient():
        holding.wait(5)
        waiting.set()
        with _one_writer:
            order.append("patient")

    threads = [threading.Thread(target=greedy), threading.Thread(target=patient)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert order == ["patient", "greedy again"]


def test_the_writers_lock_is_reentrant():
    from wiredesk.db import _one_writer

    with _one_writer, _one_writer:
        pass
    done = []
    thread = threading.Thread(target=lambda: _one_writer.__enter__() or done.append(1) or _one_writer.__exit__())
    thread.start()
    thread.join(5)
    assert done == [1]
