"""What keeps the database the same size and speed as it grows: run on the sweep's schedule.

- Near-duplicate bands are let go once older than their window (lifecycle.duplicates.WINDOW_DAYS),
  a few thousand rows a transaction, so that the one writer is never held for long.
- The query planner's statistics are brought up to date (db.optimize).
Every host of a shared database runs it: both steps may run twice, and neither minds.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from wiredesk import db
from wiredesk.db import writing
from wiredesk.lifecycle import duplicates
from wiredesk.models import TextBand

# Bands age by the day and statistics drift slowly: hourly is ample.
EVERY_SECONDS = 3600.0
# Rows let go in one transaction: a few milliseconds of the one writer on SQLite.
CHUNK = 5_000


def prune_bands(now: dt.datetime | None = None) -> int:
    """Let go of the bands filed before the window; returns how many."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=duplicates.WINDOW_DAYS)
    pruned = 0
    while True:
        with writing():
            ids = list(TextBand.objects.filter(filed_at__lt=cutoff).values_list("pk", flat=True)[:CHUNK])
            TextBand.objects.filter(pk__in=ids).delete()
        pruned += len(ids)
        if len(ids) < CHUNK:
            return pruned


def run() -> None:
    prune_bands()
    db.optimize()
