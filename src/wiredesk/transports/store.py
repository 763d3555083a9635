"""The ways copy comes in, and the one step every one of them ends with: `store`.

Whatever a transport took (a file, a push body, a fetched page, a mail's part), it hands the
bytes to `store`, which
- keeps the size limit, the same for every way in (MAX_BYTES): what is larger is recorded as a
  quarantined delivery that names its size, its bytes unread;
- stores the bytes once: the same bytes from the same source again, by any transport or by two at
  the same moment, are the delivery they were stored as (a unique constraint decides, not a race);
- queues the delivery's processing once it is committed; a queue that fails is logged, and the
  sweep processes what it missed;
- logs one line naming the transport, what came, and what became of it.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction

from wiredesk.desk import pipeline, tasks
from wiredesk.models import Delivery

log = logging.getLogger(__name__)

# Copy is kilobytes; the largest NewsML package seen, a few MB. Reading more than this whole could
# take the desk's memory.
MAX_BYTES = 16 * 1024 * 1024
# What a transport names what came by (a URL, a path on a server, a mail's part) is cut to this.
FILENAME_LENGTH = Delivery._meta.get_field("filename").max_length


@dataclass(frozen=True)
class Stored:
    delivery: Delivery
    again: bool  # the bytes were stored before, as `delivery`: nothing new was stored

    @property
    def pk(self) -> int:
        return self.delivery.pk


def too_large(size: int) -> str:
    return (
        f"{size:,} bytes, more than the {MAX_BYTES:,} a delivery may hold: no agency copy is that large, "
        f"so it was not read"
    )


def store(
    data: bytes,
    *,
    source: str | None,
    transport: str,
    label: str = "",
    problem: str | None = None,
    size: int | None = None,
    unread: bool = False,
    keep: Callable[[Stored], object] | None = None,
    queue: bool = True,
) -> Stored:
    """Store what a transport took, once, and queue it (unless `queue` is false: the caller
    processes it itself). `label` names what came (a file name, a URL) in the delivery and the
    log. With a `problem` (the transport could tell it holds no copy), the delivery is stored
    quarantined; so it is, `unread`, when the transport refused to read what came, or when
    `size` is over MAX_BYTES (`data` then empty: the bytes were not read). `keep` is what the
    transport does with what it took once it is stored (the inbox archives its file): done before
    processing is queued, so that processing finds it there."""
    arrival = _limited(pipeline.Arrival(data, source, label, problem, size, unread))
    stored = _stored(pipeline.receive_arrival(arrival, transport=transport), transport, arrival)
    if keep is not None:
        keep(stored)
    if queue:
        _queue_once_committed(stored)
    return stored


def store_many(arrivals: list[pipeline.Arrival], *, transport: str, queue: bool = True) -> list[Stored]:
    """`store` for many arrivals at once (an archive's files, `filename` their labels), stored
    together (pipeline.receive_many)."""
    arrivals = [_limited(arrival) for arrival in arrivals]
    done = [
        _stored(delivery, transport, arrival)
        for delivery, arrival in zip(pipeline.receive_many(arrivals, transport=transport), arrivals)
    ]
    if queue:
        for stored in done:
            _queue_once_committed(stored)
    return done


def _limited(arrival: pipeline.Arrival) -> pipeline.Arrival:
    """The arrival with its size, and refused unread when over MAX_BYTES."""
    size = len(arrival.data) if arrival.size is None else arrival.size
    if size > MAX_BYTES:
        return dataclasses.replace(
            arrival, data=b"", problem=arrival.problem or too_large(size), size=size, unread=True
        )
    return dataclasses.replace(arrival, size=size)


def _stored(delivery: Delivery, transport: str, arrival: pipeline.Arrival) -> Stored:
    stored = Stored(delivery, again=delivery.again)
    what = f"{transport}: {arrival.filename or f'{arrival.size:,} bytes'} from {delivery.source.slug}"
    if stored.again:
        log.info("%s is delivery %s again (%s); not stored twice", what, delivery.pk, delivery.status)
    elif delivery.status == Delivery.Status.QUARANTINED:
        log.warning("%s stored as delivery %s, quarantined: %s", what, delivery.pk, delivery.error)
    else:
        log.info("%s stored as delivery %s", what, delivery.pk)
    return stored


def _queue_once_committed(stored: Stored) -> None:
    if not stored.again and stored.delivery.status == Delivery.Status.RECEIVED:
        transaction.on_commit(lambda: _queue(stored.pk))


def _queue(pk: int) -> None:
    try:
        tasks.process_delivery.enqueue(pk)
    except Exception:
        # Stored is what matters; the sweep processes what the queue missed.
        log.exception("delivery %s could not be queued; the sweep will process it", pk)
