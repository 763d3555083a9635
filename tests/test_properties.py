"""Any order of arrival of a story's deliveries ends in the same visible state."""

import datetime as dt
import json

import time_machine
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wiredesk.desk import pipeline
from wiredesk.models import Story

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
EMBARGO = NOW + dt.timedelta(hours=1)
STATUS = st.sampled_from(["usable", "usable", "usable", "canceled", "withheld"])
EXAMPLES = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def item(number: int, status: str, *, numbered: bool, embargoed: bool) -> bytes:
    """Version `number` of one story: numbered as NewsML-G2 and ninjs do, or only timed as feeds are."""
    value = {
        "uri": "urn:test:story",
        "headline": f"Headline {number}",
        "body_text": f"Text of version {number}.",
        "pubstatus": status,
        "versioncreated": (NOW - dt.timedelta(minutes=10 - number)).isoformat(),
    }
    if numbered:
        value["version"] = number
    if embargoed:
        value["embargoed"] = EMBARGO.isoformat()
    return json.dumps(value).encode()


def seen_after(deliveries: list[bytes]) -> tuple:
    """What a reader sees, now and after the embargo, once every delivery has arrived."""
    with transaction.atomic():
        with time_machine.travel(NOW, tick=False):
            for data in deliveries:
                pipeline.process(pipeline.receive(data, source="hp", transport="cli").pk)
        story = Story.objects.select_related("current").get()
        seen = tuple(
            (story.is_visible(when), story.current.canonical.paragraphs if story.is_visible(when) else None)
            for when in (NOW, EMBARGO)
        )
        transaction.set_rollback(True)
    return story.state, seen


@EXAMPLES
@given(
    statuses=st.lists(STATUS, min_size=1, max_size=4), numbered=st.booleans(), embargoed=st.booleans(), data=st.data()
)
def test_any_order_of_arrival_ends_in_the_same_visible_state(db, statuses, numbered, embargoed, data):
    # An embargo, when there is one, covers every version: agencies lift it, they do not add it.
    versions = [item(n, status, numbered=numbered, embargoed=embargoed) for n, status in enumerate(statuses, 1)]
    order = data.draw(st.permutations(versions))
    assert seen_after(order) == seen_after(versions)


@EXAMPLES
@given(statuses=st.lists(STATUS, min_size=1, max_size=4), data=st.data())
def test_deliveries_arriving_twice_change_nothing(db, statuses, data):
    versions = [item(n, status, numbered=True, embargoed=False) for n, status in enumerate(statuses, 1)]
    repeated = data.draw(st.permutations(versions + data.draw(st.lists(st.sampled_from(versions), max_size=4))))
    assert seen_after(repeated) == seen_after(versions)
