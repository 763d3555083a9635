"""Pages kept by each web process under the site version (wiredesk.publish.pagecache): served
without rendering while nothing changed, never once anything readers see has."""

import datetime as dt
import gzip
import json

import time_machine
from conftest import NOW
from django.db import connection
from django.test.utils import CaptureQueriesContext

from wiredesk.desk import actions
from wiredesk.models import SiteVersion, Story
from wiredesk.publish import pagecache


def item(uri, headline, text, **fields) -> bytes:
    return json.dumps(
        {
            "uri": uri,
            "headline": headline,
            "body_text": f"PORT SALVIN (HP) - {text}",
            "firstcreated": "2026-11-25T09:00:00Z",
            **fields,
        }
    ).encode()


def queries(client, url, **headers) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, **headers)
    return len(captured), response


def test_a_page_is_rendered_once_then_served_with_one_query_until_the_site_changes(client, ingest):
    with time_machine.travel(NOW, tick=False):
        ingest(item("urn:hp:cranes", "Cranes back", "The cranes worked again on Monday."), source="hp")
        url = Story.objects.get().get_absolute_url()
        rendered, first = queries(client, url)
        kept, second = queries(client, url)
        assert rendered > 1 and kept == 1  # only the site version is asked
        assert second.content == first.content and second["ETag"] == first["ETag"]
        ingest(
            item("urn:hp:cranes", "Cranes back", "The cranes worked again on Monday, all six.", version=2), source="hp"
        )
        rendered, third = queries(client, url)
        assert rendered > 1 and b"all six" in third.content


def test_a_kill_takes_the_story_off_every_kept_page_at_once(client, ingest):
    with time_machine.travel(NOW, tick=False):
        ingest(item("urn:hp:cranes", "Cranes back", "The cranes worked again on Monday."), source="hp")
        ingest(item("urn:hp:ferry", "Ferry late", "The ferry ran two hours late on Monday."), source="hp")
        story = Story.objects.get(uri="urn:hp:cranes")
        pages = ["/", "/latest/", "/feeds/rss.xml", "/sitemaps/news.xml", story.get_absolute_url()]
        for url in pages * 2:
            assert b"Cranes back" in client.get(url).content
        actions.kill(story, "legal")
        assert client.get(story.get_absolute_url()).status_code == 410
        for url in pages[:-1]:
            response = client.get(url)
            assert b"Cranes back" not in response.content and b"Ferry late" in response.content, url


def test_an_embargo_lifts_on_time_though_pages_are_kept_and_the_sweep_resumes_keeping(client, ingest):
    with time_machine.travel(NOW, tick=False):
        ingest(
            item(
                "urn:hp:later",
                "Shipyard results",
                "The shipyard doubled its orders.",
                embargoed=(NOW + dt.timedelta(minutes=10)).isoformat(),
            ),
            source="hp",
        )
        ingest(item("urn:hp:now", "Ferry late", "The ferry ran two hours late on Monday."), source="hp")
        for _ in range(2):
            assert b"Shipyard results" not in client.get("/").content
        assert queries(client, "/")[0] == 1
    with time_machine.travel(NOW + dt.timedelta(minutes=10), tick=False):
        # The clock changed the site: rendered afresh, kept nowhere, until the sweep's step.
        for _ in range(2):
            rendered, response = queries(client, "/")
            assert b"Shipyard results" in response.content and rendered > 1
        assert pagecache.catch_up() is True
        assert pagecache.catch_up() is False  # nothing more is due
        client.get("/")
        assert queries(client, "/")[0] == 1


def test_the_next_change_by_the_clock_is_the_nearest_embargo_or_news_sitemap_exit(db, ingest):
    with time_machine.travel(NOW, tick=False):
        ingest(
            item(
                "urn:hp:old",
                "Old story",
                "Filed two days ago.",
                firstcreated=(NOW - dt.timedelta(hours=47)).isoformat(),
            ),
            source="hp",
        )
        assert SiteVersion.objects.get().next_change == (NOW + dt.timedelta(hours=1)).timestamp()
        ingest(
            item(
                "urn:hp:later", "Later story", "Under embargo.", embargoed=(NOW + dt.timedelta(minutes=5)).isoformat()
            ),
            source="hp",
        )
        assert SiteVersion.objects.get().next_change == (NOW + dt.timedelta(minutes=5)).timestamp()


def test_gzip_and_plain_clients_each_get_their_own_kept_answer_and_a_304_when_they_have_it(client, ingest):
    with time_machine.travel(NOW, tick=False):
        ingest(item("urn:hp:cranes", "Cranes back", "The cranes worked again on Monday. " * 20), source="hp")
        for _ in range(2):
            packed = client.get("/", HTTP_ACCEPT_ENCODING="gzip")
            plain = client.get("/")
        assert packed["Content-Encoding"] == "gzip" and gzip.decompress(packed.content) == plain.content
        assert "Content-Encoding" not in plain
        count, again = queries(client, "/", HTTP_IF_NONE_MATCH=plain["ETag"])
        assert again.status_code == 304 and count == 1
        assert client.get("/", HTTP_ACCEPT_ENCODING="gzip", HTTP_IF_NONE_MATCH=packed["ETag"]).status_code == 304


def test_search_and_answers_other_than_200_are_never_kept(client, ingest):
    with time_machine.travel(NOW, tick=False):
        ingest(item("urn:hp:cranes", "Cranes back", "The cranes worked again on Monday."), source="hp")
        client.get("/search/?q=cranes")
        assert queries(client, "/search/?q=cranes")[0] > 1
        client.get("/story/999/nothing/")
        assert queries(client, "/story/999/nothing/")[0] > 1


def test_query_parameters_no_page_reads_are_no_reason_to_render_again(client, ingest):
    with time_machine.travel(NOW, tick=False):
        ingest(item("urn:hp:cranes", "Cranes back", "The cranes worked again on Monday."), source="hp")
        url = Story.objects.get().get_absolute_url()
        client.get(url)
        assert queries(client, f"{url}?utm_source=wire&x=1")[0] == 1
        client.get("/?page=2")
        assert queries(client, "/?page=2&x=1")[0] == 1
        assert queries(client, "/latest/?page=1")[0] > 1  # a page of its own
