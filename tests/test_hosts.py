"""Several hosts on one database: what keeps them from doing one piece of work twice, and what
lets each host's static tree follow the others' changes (see also test_three_hosts.py)."""

import collections
import datetime as dt
import threading

import pytest
from conftest import story_copy
from django.db import connection
from django.utils import timezone

from wiredesk import formats
from wiredesk.db import thread_connections
from wiredesk.desk import pipeline
from wiredesk.models import Delivery, Story, StoryVersion

pytestmark = pytest.mark.django_db(transaction=True)  # the hosts' threads see committed rows only


def test_two_hosts_sweeping_at_once_process_each_stale_delivery_once(monkeypatch):
    long_ago = timezone.now() - dt.timedelta(minutes=5)
    for n in range(30):
        pipeline.receive(
            story_copy(f"Ferry timetable number {n} changes", paragraphs=(f"Sailing {n} leaves at noon on Monday.",)),
            source="hp",
            transport="inbox",
            received_at=long_ago,
        )
    parsed = collections.Counter()
    parse = formats.parse

    def counted(data, context):
        parsed[data] += 1
        return parse(data, context)

    monkeypatch.setattr(formats, "parse", counted)
    start = threading.Barrier(2)

    def host():
        with thread_connections():
            start.wait()
            pipeline.sweep()

    hosts = [threading.Thread(target=host) for _ in range(2)]
    for thread in hosts:
        thread.start()
    for thread in hosts:
        thread.join(60)
    assert set(Delivery.objects.values_list("status", flat=True)) == {"processed"}
    assert Story.objects.count() == StoryVersion.objects.count() == 30
    if connection.vendor == "postgresql":
        # Each delivery was taken by one host: the other passed it by, or found it done.
        assert sorted(parsed.values()) == [1] * 30
