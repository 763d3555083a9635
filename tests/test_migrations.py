"""Migrations carry the logic they ran: what they compute is frozen inside them, so that changing
the desk's code never changes what an old database becomes (issue 14)."""

import ast
import importlib
from pathlib import Path

import pytest
from django.apps import apps

from wiredesk import demo, filing
from wiredesk.models import SearchEntry, Story, StoryTopic, StoryVersion, file_topics
from wiredesk.publish import search
from wiredesk.publish.search import searchable
from wiredesk.story import Dateline, Subject, WireStory

MIGRATIONS = Path(__file__).resolve().parents[1] / "src" / "wiredesk" / "migrations"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
search_migration = importlib.import_module("wiredesk.migrations.0005_search")
topics_migration = importlib.import_module("wiredesk.migrations.0006_topics_headlines_health")
live_topics_migration = importlib.import_module("wiredesk.migrations.0015_topics_of_live_stories")

# Subjects of every kind the desk names: an agency category, Media Topics and old subject codes
# as bare codes, uris and literals (named by IPTC's label), names of their own, one code IPTC does
# not know, and names that slug alike or to nothing.
TRICKY = WireStory(
    uri="urn:test:tricky",
    headline="Docks \x02reopen\x03 after the strike",
    paragraphs=["PORT SALVIN - Cranes \x02worked\x03 again.", "Queues cleared by noon."],
    dateline=Dateline("PORT SALVIN, Nov 24 (HP)", place="PORT SALVIN"),
    subjects=[
        Subject("Business", literal="category:Business"),
        Subject("medtop:04000000", literal="medtop:04000000"),
        Subject("20000523", uri="http://cv.iptc.org/newscodes/mediatopic/20000523"),
        Subject("subj:15000000", literal="subj:15000000"),
        Subject("04006000", uri="http://cv.iptc.org/newscodes/subjectcode/04006000"),
        Subject("medtop:99999999", literal="medtop:99999999"),
        Subject("Harbour strikes", uri="http://cv.iptc.org/newscodes/mediatopic/09000000"),
        Subject("  Olympics "),
    ],
    keywords=["olympics", "Ports", "!!!", ""],
)


def test_no_migration_imports_the_desks_code():
    for path in sorted(MIGRATIONS.glob("0*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            assert not [name for name in names if name.split(".")[0] == "wiredesk"], path.name


@pytest.fixture
def stories(ingest):
    """A database with stories of every format, the demo wire among them, and one with subjects
    of every kind."""
    demo.load()
    for path in sorted(FIXTURES.glob("*/*")):
        if path.is_file():
            ingest(path.read_bytes(), source="hp")
    ingest(
        b'{"uri": "urn:test:tricky", "headline": "x", "body_text": "PORT SALVIN - Cranes worked again."}', source="hp"
    )
    # Its version given those subjects, then filed again as the desk files a version it shows.
    story = Story.objects.select_related("current").get(uri="urn:test:tricky")
    story.current.content = TRICKY.to_dict()
    story.current.save(update_fields=["content"])
    story.show(StoryVersion.objects.get(pk=story.current.pk))
    story.save()
    file_topics([story])
    search.index([story])
    return Story.objects.filter(current__isnull=False).select_related("current")


def test_the_frozen_functions_give_what_todays_give(stories):
    assert stories.count() > 100
    for story in stories:
        content, wire = story.current.content, story.current.canonical
        assert search_migration._searchable(content) == searchable(wire), story.uri
        assert topics_migration._topic_rows(content) == filing.topic_rows(wire), story.uri
    rows = topics_migration._topic_rows(TRICKY.to_dict())
    assert {kind for kind, _, _ in rows} == {"topic", "place"}
    assert ("topic", "economy-business-and-finance", "economy, business and finance") in rows


def test_the_migrations_fill_the_rows_the_desk_keeps(stories):
    """Run over the same stories, migrations 0005, 0006 and 0015 fill the rows the desk kept itself."""

    def kept():
        return (
            sorted(SearchEntry.objects.values_list("story_id", "headline", "body")),
            sorted(StoryTopic.objects.values_list("story_id", "kind", "slug", "name")),
            sorted(stories.values_list("pk", "headline")),
        )

    desk = kept()
    assert all(desk) and len(desk[0]) > 50
    SearchEntry.objects.all().delete()
    StoryTopic.objects.all().delete()
    stories.update(headline="")
    search_migration.index_live_stories(apps, None)
    topics_migration.fill_existing_stories(apps, None)
    live_topics_migration.drop_rows_of_stories_not_live(apps, None)
    assert kept() == desk
