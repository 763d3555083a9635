"""Leases on pulled sources: which host polls each source (over HTTP, FTP or SFTP) now, so that
several `wiredesk run` hosts on one database poll every source, each by exactly one of them.

A lease is a row per source and transport (models.PollLease): its holder, and when it expires.
A host takes it, or renews it, in one short UPDATE that succeeds only where the lease is free,
expired, or its own (`WHERE expires_at < now OR holder = me`: the same on SQLite and PostgreSQL,
where the row's lock makes two hosts asking at once take turns). The holder renews it every
RENEW of the source's interval, and it lasts TERM of it, so:

- a holder keeps its sources while it runs, through a long poll too (polling.Poller renews
  from a thread of its own while one is under way);
- when it dies, its lease expires at most TERM intervals after its last renewal, and every
  other host looks again every RENEW of one: another takes the source over within
  TERM + RENEW = two intervals;
- a host that stops cleanly gives its leases back (`release`), so another takes them at once.

The same row holds the source's poll state (validators, digests, FTP files stored but not yet
deleted, errors, the next poll's time), so it follows the source to whoever holds it: the host
that takes over neither fetches nor stores again what the last one did. It is written only by
the holder, or over an expired lease no one has taken: a host that lost its lease in the middle
of a poll cannot overwrite the state of the one that took it.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import uuid

from django.db.models import Q
from django.utils import timezone

from wiredesk.db import writing
from wiredesk.models import PollLease

# How long a lease lasts, and how often its holder renews it (others look as often), in
# intervals of the source: a dead host's sources are taken over within TERM + RENEW intervals.
TERM = 1.5
RENEW = 0.5

# This process, as the leases name it: a host's name says which machine holds a source, and the
# rest tells two processes of one machine (or a restarted desk) apart.
HOLDER = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Leases:
    """The leases of one transport's sources, as one holder sees them."""

    def __init__(self, transport: str, holder: str = HOLDER):
        self.transport, self.holder = transport, holder

    def _rows(self, slug: str):
        return PollLease.objects.filter(source=slug, transport=self.transport)

    def take(self, slug: str, interval: float, *, now: dt.datetime | None = None) -> bool:
        """Take the source's lease, or renew it, for TERM intervals; False while another holds it."""
        now = now or timezone.now()
        with writing():
            PollLease.objects.bulk_create([PollLease(source=slug, transport=self.transport)], ignore_conflicts=True)
            return bool(
                self._rows(slug)
                .filter(Q(holder=self.holder) | Q(expires_at__lt=now) | Q(expires_at=None))
                .update(holder=self.holder, expires_at=now + dt.timedelta(seconds=interval * TERM))
            )

    def get(self, slug: str) -> dict:
        """The source's poll state, whoever holds it; {} for a source never polled."""
        return self._rows(slug).values_list("state", flat=True).first() or {}

    def put(self, slug: str, state: dict) -> bool:
        """Keep the source's poll state, unless another host holds its lease now."""
        now = timezone.now()
        with writing():
            PollLease.objects.bulk_create([PollLease(source=slug, transport=self.transport)], ignore_conflicts=True)
            return bool(
                self._rows(slug)
                .filter(Q(holder=self.holder) | Q(expires_at__lt=now) | Q(expires_at=None))
                .update(state=state)
            )

    def release(self, slug: str) -> None:
        """Give the lease back, for another host to take at its next look."""
        with writing():
            self._rows(slug).filter(holder=self.holder).update(expires_at=None)
