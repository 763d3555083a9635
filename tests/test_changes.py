"""The one fan-out (wiredesk.publish.changes): a new way of changing a story that calls only
`story_changed` reaches every kept page, the search index, topic pages and the static tree."""

import json

import pytest
import time_machine
from conftest import NOW
from django.test import Client

from wiredesk.db import writing
from wiredesk.lifecycle import State
from wiredesk.models import Story
from wiredesk.publish import changes


def item(uri, headline, text) -> bytes:
    return json.dumps(
        {
            "uri": uri,
            "headline": headline,
            "body_text": f"PORT SALVIN (HP) - {text}",
            "firstcreated": "2026-11-25T09:00:00Z",
            "language": "en",
            "subject": [{"name": "Harbours", "uri": "http://cv.iptc.org/newscodes/mediatopic/20000349"}],
        }
    ).encode()


def a_new_kind_of_kill(story: Story) -> None:
    """What a future action (a web desk's button, an API call) does: change the story, then tell
    the one fan-out, and nothing else."""
    with writing():
        story = Story.objects.select_for_update().get(pk=story.pk)
        story.state, story.reason = State.KILLED, "killed by a new kind of action"
        story.save(update_fields=["state", "reason"])
        changes.story_changed(story)


@pytest.fixture
def tree(tmp_path, settings):
    settings.WIREDESK = {**settings.WIREDESK, "STATIC_TREE": tmp_path / "site"}
    return tmp_path / "site"


def test_an_action_that_calls_only_the_fan_out_takes_a_kill_everywhere(
    db, client, ingest, tree, django_capture_on_commit_callbacks
):
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        ingest(item("urn:hp:cranes", "Cranes back", "The cranes worked again on Monday."), source="hp")
        ingest(item("urn:hp:ferry", "Ferry late", "The ferry ran two hours late on Monday."), source="hp")
    story = Story.objects.get(uri="urn:hp:cranes")
    article = story.get_absolute_url()
    topic = next(
        url for url in ("/topic/harbours/", "/topic/medtop-20000349/") if b"Cranes back" in client.get(url).content
    )
    pages = ["/", "/latest/", "/feeds/rss.xml", "/sitemaps/news.xml", "/source/hp/", topic, article]
    with time_machine.travel(NOW, tick=False):
        for url in pages * 2:  # the second time from the kept pages
            assert b"Cranes back" in client.get(url).content, url
        assert b"Cranes back" in client.get("/search/?q=cranes").content
        assert any(b"Cranes back" in f.read_bytes() for f in tree.rglob("*.html"))
        with django_capture_on_commit_callbacks(execute=True):
            a_new_kind_of_kill(story)
        assert client.get(article).status_code == 410
        for url in pages[:-1]:
            response = client.get(url)
            assert b"Cranes back" not in response.content and b"Ferry late" in response.content, url
        assert b"Cranes back" not in client.get("/search/?q=cranes").content
    assert not any(b"Cranes back" in f.read_bytes() for f in tree.rglob("*") if f.is_file() and f.suffix != ".gz")
    # The tree is asked as nginx would: by the base URL's host.
    assert Client().get(article).status_code == 410


def test_a_batch_moves_the_site_on_once_at_its_end_for_every_story_changed(db, ingest, tree):
    from wiredesk.models import ChangeMark, SiteVersion

    ingest(item("urn:hp:cranes", "Cranes back", "The cranes worked again on Monday."), source="hp")
    ingest(item("urn:hp:ferry", "Ferry late", "The ferry ran two hours late on Monday."), source="hp")
    stories = list(Story.objects.order_by("pk"))
    before = SiteVersion.objects.get().number
    earlier = ChangeMark.objects.count()  # the ingests' own
    with writing(), changes.batch():
        for story in stories * 2:
            changes.story_changed(story)
        assert SiteVersion.objects.get().number == before  # not yet: at the batch's end
        assert ChangeMark.objects.count() == earlier
    assert SiteVersion.objects.get().number == before + 1
    marks = ChangeMark.objects.order_by("pk")[earlier:]
    assert sorted(mark.story_id for mark in marks) == [s.pk for s in stories]


def test_a_batch_left_by_an_error_moves_nothing_on(db, ingest, tree):
    from wiredesk.models import SiteVersion

    ingest(item("urn:hp:cranes", "Cranes back", "The cranes worked again on Monday."), source="hp")
    before = SiteVersion.objects.get().number
    with pytest.raises(RuntimeError), writing(), changes.batch():
        changes.story_changed(Story.objects.get())
        raise RuntimeError("a bug")
    assert SiteVersion.objects.get().number == before
