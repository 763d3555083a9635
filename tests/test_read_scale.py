"""What keeps the site's pages flat as it grows (issue 15): every listing read newest first off an
index, listings paged to a bounded depth, and statistics kept. The times themselves live in
bench/scale_read.py; here, the plans and the behaviour that make them."""

import datetime as dt

import lxml.html
import pytest
import time_machine
from conftest import NOW
from django.db import connection
from django.db.models import Min
from test_pages import headlines, ninjs

from wiredesk import db
from wiredesk.lifecycle import State
from wiredesk.models import Source, Story, StoryTopic
from wiredesk.publish import queries


def plan(queryset) -> str:
    """How the database would run the query, when it may not read a whole table instead (the
    tables of a test are too small for an index to pay): whether an index serves it, in order."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            return "\n".join(row[-1] for row in cursor.fetchall())
        # Nor gather a few rows from any index and sort them, which costs as little at this size:
        # with those off, a plan without a sort is one an index gives in order.
        for method in ("seqscan", "bitmapscan", "sort"):
            cursor.execute(f"SET LOCAL enable_{method} = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def sorts(text: str) -> bool:
    return "TEMP B-TREE" in text or "Sort" in text


@pytest.fixture
def stories(ingest):
    with time_machine.travel(NOW, tick=False):
        for n in range(3):
            ingest(ninjs(f"urn:t:{n}", f"Story {n}", topics=["Ports"], minutes_ago=n), source="hp")
        # One in another section, from another source, under another topic: with every story in
        # one section, PostgreSQL's statistics say a section's index narrows nothing, and it reads
        # the newest of all instead. (A table this small tips either planner either way: the
        # figures at scale are bench/scale_read.py's.)
        ingest(ninjs("urn:t:3", "Story 3", category="Sport", topics=["Ferries"], minutes_ago=3), source="bw")
    # As the schedule keeps them: a planner without statistics may take any index.
    db.optimize()


@pytest.mark.parametrize(
    ("name", "index"),
    [
        ("latest", "story_visible_newest"),
        ("section", "story_section_newest"),
        ("source", "story_source_newest"),
        ("topic", "storytopic_newest"),
        ("day", "story_visible_newest"),
    ],
)
def test_each_listing_is_read_newest_first_off_an_index(stories, name, index):
    source = Source.objects.get(slug="hp")
    start, end = queries.day_bounds(NOW.date())
    listing = {
        "latest": queries.live_stories(),
        "section": queries.live_stories().filter(section="news"),
        "source": queries.live_stories().filter(source=source),
        "topic": queries.filed_under(StoryTopic.Kind.TOPIC, "ports")[0],
        "day": queries.live_stories().filter(published_at__gte=start, published_at__lt=end),
    }[name]
    # A page's story numbers, and the capped count the page numbers come from.
    for query in (listing.values("pk")[:30], listing[:3001].values("pk")):
        text = plan(query)
        assert index in text and not sorts(text), text


def test_the_next_change_by_the_clock_is_found_by_an_index_seek(stories):
    # pagecache.changed runs these on every change, inside the one-writer transaction.
    later = (
        Story.objects.filter(state=State.LIVE, published_at__gt=NOW).values("state").annotate(at=Min("published_at"))
    )
    text = plan(later)
    assert "story_visible_newest" in text, text


def test_the_topic_rows_carry_their_storys_publication_time(ingest):
    with time_machine.travel(NOW, tick=False):
        ingest(
            ninjs("urn:t:later", "Under embargo", topics=["Ports"], embargoed=(NOW + dt.timedelta(hours=2)).isoformat())
        )
        story = Story.objects.get(uri="urn:t:later")
        assert set(story.topics.values_list("published_at", flat=True)) == {NOW + dt.timedelta(hours=2)}
        # The embargo lifted early by the next version: the story, and its topic rows, are published now.
        ingest(ninjs("urn:t:later", "Under embargo", topics=["Ports"], version=2))
        story.refresh_from_db()
        assert story.published_at <= NOW
        assert set(story.topics.values_list("published_at", flat=True)) == {story.published_at}


def test_only_live_stories_are_filed_under_topics_so_a_topic_page_asks_nothing_of_the_stories(client, ingest):
    from wiredesk.desk import actions

    with time_machine.travel(NOW, tick=False):
        ingest(ninjs("urn:t:kept", "Harbour kept", topics=["Ports"]), source="hp")
        ingest(ninjs("urn:t:gone", "Harbour gone", topics=["Ports"]), source="hp")
        gone = Story.objects.get(uri="urn:t:gone")
        actions.kill(gone, "legal")
        assert not gone.topics.exists()
        assert headlines(client, "/topic/ports/") == ["Harbour kept"]
        actions.hold(Story.objects.get(uri="urn:t:kept"), "check")
        assert not StoryTopic.objects.exists()
        assert client.get("/topic/ports/").status_code == 404
        actions.release(Story.objects.get(uri="urn:t:kept"))
        assert headlines(client, "/topic/ports/") == ["Harbour kept"]
    # Read off the topic rows' index alone, the stories looked up by their number.
    text = plan(queries.filed_under(StoryTopic.Kind.TOPIC, "ports")[0].values("pk")[:30])
    assert "storytopic_newest" in text and not sorts(text), text


def test_listings_page_a_bounded_depth_and_send_readers_on_to_the_archive(client, ingest, monkeypatch):
    monkeypatch.setattr(queries, "PAGE_SIZE", 2)
    monkeypatch.setattr(queries, "MAX_PAGES", 2)
    with time_machine.travel(NOW, tick=False):
        for n in range(5):
            ingest(ninjs(f"urn:t:{n}", f"Story {n}", minutes_ago=n * 60 * 24), source="hp")
        for url in ("/latest/", "/source/hp/"):
            last = lxml.html.fromstring(client.get(f"{url}?page=9").content)
            assert "Page 2 of 2" in last.text_content()
            assert last.xpath("//ul[@class='stories']//h2/a/text()") == ["Story 2", "Story 3"]
            assert "Older stories are in the archive" in last.xpath("string(//p[@class='more'])")
            assert last.xpath("//p[@class='more']/a/@href") == ["/archive/"]
            first = lxml.html.fromstring(client.get(url).content)
            assert "Older stories" not in first.xpath("string(//p[@class='more'])")
        # The archive reaches every day, and each day its stories.
        archive = lxml.html.fromstring(client.get("/archive/?page=3").content)
        assert "Page 3 of 3" in archive.text_content()
        [oldest] = archive.xpath("//ul[@class='days']/li/a/@href")
        assert headlines(client, oldest) == ["Story 4"]


def test_a_listing_that_ends_within_its_depth_does_not_point_past_itself(client, ingest, monkeypatch):
    monkeypatch.setattr(queries, "PAGE_SIZE", 2)
    monkeypatch.setattr(queries, "MAX_PAGES", 3)
    with time_machine.travel(NOW, tick=False):
        for n in range(6):
            ingest(ninjs(f"urn:t:{n}", f"Story {n}", minutes_ago=n), source="hp")
        last = lxml.html.fromstring(client.get("/latest/?page=3").content)
    assert "Page 3 of 3" in last.text_content()
    assert "Older stories" not in last.xpath("string(//p[@class='more'])")


def test_the_archive_counts_each_day_in_the_sites_time_zone(client, ingest, settings):
    settings.TIME_ZONE = "Asia/Kolkata"  # UTC+5:30: days that start on the half hour
    for uri, when in [("a", "2026-11-24T18:20:00Z"), ("b", "2026-11-24T18:40:00Z"), ("c", "2026-11-25T02:00:00Z")]:
        moment = dt.datetime.fromisoformat(when)
        with time_machine.travel(moment, tick=False):
            ingest(ninjs(f"urn:t:{uri}", f"Story {uri}", minutes_ago=0), source="hp")
    with time_machine.travel(NOW + dt.timedelta(days=1), tick=False):
        doc = lxml.html.fromstring(client.get("/archive/").content)
    days = doc.xpath("//ul[@class='days']/li")
    assert [(d.xpath("string(a/@href)"), d.xpath("string(span)")) for d in days] == [
        ("/archive/2026/11/25/", "2 stories"),
        ("/archive/2026/11/24/", "1 story"),
    ]


def test_optimize_gathers_statistics_the_planner_reads(stories):
    db.optimize()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT stat FROM sqlite_stat1 WHERE idx = 'story_visible_newest'")
            [(stat,)] = cursor.fetchall()
            assert int(stat.split()[0]) == Story.objects.count()
        else:
            cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'wiredesk_story'")
            assert cursor.fetchone()[0] == Story.objects.count()


def test_sections_leave_out_one_with_only_embargoed_stories(ingest):
    with time_machine.travel(NOW, tick=False):
        ingest(ninjs("urn:t:news", "Live news", minutes_ago=0), source="hp")
        ingest(
            ninjs("urn:t:sport", "Later sport", category="Sport", embargoed=(NOW + dt.timedelta(hours=1)).isoformat())
        )
        assert [slug for slug, _ in queries.sections()] == ["news"]
    with time_machine.travel(NOW + dt.timedelta(hours=1), tick=False):
        assert [slug for slug, _ in queries.sections()] == ["sport", "news"]
