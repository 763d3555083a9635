"""Full-text search: one contract for both databases (the suite runs on SQLite and on PostgreSQL),
through `wiredesk.publish.search.search` and the /search/ page."""

import datetime as dt
import json
import re

import lxml.html
import pytest
import time_machine
from conftest import NOW
from django.utils.safestring import SafeString

from wiredesk.desk import actions
from wiredesk.models import SearchEntry, Source, Story
from wiredesk.publish import search as search_module
from wiredesk.publish.search import search


def item(uri, headline, *paragraphs, category="News", **fields) -> bytes:
    """A ninjs item; every story gets words of its own, or the desk takes it for a copy of another."""
    paragraphs = paragraphs or [f"OSLO (HP) - Report {uri} one, {uri} two, {uri} three."]
    return json.dumps(
        {
            "uri": uri,
            "headline": headline,
            "body_text": "\n\n".join(paragraphs),
            "subject": [{"name": category, "literal": f"category:{category}"}],
            "firstcreated": NOW.isoformat(),
            **fields,
        }
    ).encode()


@pytest.fixture
def publish(ingest):
    """Ingest at NOW, so that every story is published then."""

    def publish(data, source="hp", at=NOW):
        with time_machine.travel(at, tick=False):
            return ingest(data, source=source)

    return publish


def search_hits(query, **filters):
    """The first page of hits, searched a minute after NOW."""
    with time_machine.travel(NOW + dt.timedelta(minutes=1), tick=False):
        return search(query, **filters).hits


def found(query, **filters) -> list[str]:
    return [hit.story.uri for hit in search_hits(query, **filters)]


def test_words_are_found_by_their_stem(publish):
    publish(item("urn:t:ferry", "Ferry sails again", "OSLO (HP) - The ferry sailed at noon after repairs."))
    publish(item("urn:t:other", "Council meets", "OSLO (HP) - The council met on Monday."))
    assert found("ferries") == ["urn:t:ferry"]
    assert found("sailing ferry") == ["urn:t:ferry"]
    assert found("FERRY") == ["urn:t:ferry"]
    assert found("ferry council") == []  # every word must be in the story


def test_quoted_words_are_a_phrase(publish):
    publish(item("urn:t:phrase", "Harbour news", "OSLO (HP) - The night ferry was late."))
    assert found('"night ferry"') == ["urn:t:phrase"]
    assert found('"ferry night"') == []


def test_a_match_in_the_headline_ranks_above_one_in_the_text(publish):
    # Filed first, so that the order is the ranking's and not the newest-first of equal ranks.
    publish(item("urn:t:headline", "Lighthouse reopens", "OSLO (HP) - The keeper opened the doors on Monday."))
    publish(
        item(
            "urn:t:body",
            "Council meets on budget",
            "OSLO (HP) - Councillors met on Monday to discuss the lighthouse budget and harbour dues.",
        )
    )
    hits = search_hits("lighthouse")
    assert [hit.story.uri for hit in hits] == ["urn:t:headline", "urn:t:body"]
    assert hits[0].rank > hits[1].rank


def test_the_snippet_marks_the_matches_and_escapes_the_agencys_text(publish):
    publish(
        item(
            "urn:t:markup",
            "Harbour report",
            'OSLO (HP) - Crews said "<b>ferries</b> & <script>alert(1)</script> tugs" ran \x02late\x03 on Monday.',
        )
    )
    assert "\x02late\x03" in Story.objects.get().current.canonical.body_text
    [hit] = search_hits("ferries")
    assert isinstance(hit.snippet, SafeString)
    assert "<mark>ferries</mark>" in hit.snippet
    assert set(re.findall(r"<[^>]*>", hit.snippet)) == {"<mark>", "</mark>"}
    assert "&amp;" in hit.snippet and "&quot;" in hit.snippet and "late  on Monday" in hit.snippet


def test_filters_by_section_source_and_day(publish):
    publish(item("urn:t:sport", "Rowers win on the fjord", category="Sport"), source="hp")
    publish(item("urn:t:business", "Fjord shipping rates rise", category="Business"), source="nw")
    publish(item("urn:t:old", "Fjord ferry timetable", category="Sport"), source="nw", at=NOW - dt.timedelta(days=4))
    assert sorted(found("fjord")) == ["urn:t:business", "urn:t:old", "urn:t:sport"]
    assert sorted(found("fjord", section="sport")) == ["urn:t:old", "urn:t:sport"]
    assert sorted(found("fjord", source="nw")) == ["urn:t:business", "urn:t:old"]
    assert found("fjord", section="sport", source="nw") == ["urn:t:old"]
    today, before = NOW.date(), NOW.date() - dt.timedelta(days=4)
    assert found("fjord", since=before, until=before) == ["urn:t:old"]
    assert sorted(found("fjord", since=before + dt.timedelta(days=1))) == ["urn:t:business", "urn:t:sport"]
    assert found("fjord", until=today - dt.timedelta(days=1)) == ["urn:t:old"]
    assert found("fjord", section="no-such-section") == []


def test_results_are_paged_in_one_stable_order(publish, monkeypatch):
    monkeypatch.setattr(search_module, "PAGE_SIZE", 2)
    for n in range(5):
        publish(item(f"urn:t:{n}", f"Tide report {n}"))
    with time_machine.travel(NOW + dt.timedelta(minutes=1), tick=False):
        pages = [search("tide", page=n) for n in (1, 2, 3)]
        assert [results.count for results in pages] == [5, 5, 5]
        uris = [hit.story.uri for results in pages for hit in results.hits]
        assert sorted(uris) == [f"urn:t:{n}" for n in range(5)]
        assert [hit.story.uri for hit in search("tide", page=99).hits] == uris[4:]  # the last page
        assert [hit.story.uri for hit in search("tide", page="x").hits] == uris[:2]
        assert [hit.story.uri for hit in search("tide", page=2).hits] == uris[2:4]


def test_only_what_readers_may_see_is_found(publish):
    Source.objects.create(slug="desk", name="Desk only", auto_publish=False)
    text = "OSLO (HP) - The {} quarry story, with words of its own: {} {} {}."
    publish(item("urn:t:live", "Quarry live", text.format("live", "alpha", "beta", "gamma")))
    publish(item("urn:t:killed", "Quarry killed", text.format("killed", "delta", "epsilon", "zeta")))
    publish(json.dumps({"uri": "urn:t:killed", "version": 9, "pubstatus": "canceled", "headline": "KILL"}).encode())
    publish(item("urn:t:withheld", "Quarry withheld", text.format("withheld", "eta", "theta", "iota")))
    publish(
        item(
            "urn:t:withheld",
            "Quarry withheld",
            text.format("withheld", "eta", "theta", "iota"),
            version=2,
            pubstatus="withheld",
        )
    )
    publish(item("urn:t:held", "Quarry held", text.format("held", "kappa", "lambda", "mu")), source="desk")
    publish(item("urn:t:copy", "Quarry copy", text.format("live", "alpha", "beta", "gamma")), source="nw")
    publish(
        item(
            "urn:t:embargoed",
            "Quarry embargoed",
            text.format("embargoed", "nu", "xi", "omicron"),
            embargoed=(NOW + dt.timedelta(hours=1)).isoformat(),
        )
    )
    states = dict(Story.objects.values_list("uri", "state"))
    assert states == {
        "urn:t:live": "live",
        "urn:t:killed": "killed",
        "urn:t:withheld": "withheld",
        "urn:t:held": "held",
        "urn:t:copy": "duplicate",
        "urn:t:embargoed": "live",
    }
    assert found("quarry") == ["urn:t:live"]
    for word in ("killed", "kill", "withheld", "held", "copy", "embargoed"):
        assert found(word) == [], word
    with time_machine.travel(NOW + dt.timedelta(hours=1), tick=False):
        assert sorted(hit.story.uri for hit in search("quarry").hits) == ["urn:t:embargoed", "urn:t:live"]


def test_a_lagging_index_still_finds_nothing_readers_may_not_see(publish):
    publish(item("urn:t:gone", "Quarry collapse report"))
    story = Story.objects.get()
    actions.kill(story, "legal")
    SearchEntry.objects.create(story=story, headline="Quarry collapse report", body="")
    assert found("quarry") == []


def test_the_desks_hold_release_and_kill_reach_search(publish):
    publish(item("urn:t:desk", "Quarry blast heard"))
    story = Story.objects.get()
    actions.hold(story)
    assert found("quarry") == []
    with time_machine.travel(NOW, tick=False):
        actions.release(story)
    assert found("quarry") == ["urn:t:desk"]
    actions.kill(story, "legal")
    assert found("quarry") == []


def test_an_update_is_searched_in_its_new_words_only(publish):
    publish(item("urn:t:cranes", "Harbour works", "OSLO (HP) - The cranes worked again after repairs."))
    publish(item("urn:t:cranes", "Harbour works", "OSLO (HP) - The tugboats returned to the quay.", version=2))
    assert found("tugboats") == ["urn:t:cranes"]
    assert found("cranes") == []


def test_the_editors_note_is_never_searched(publish):
    publish(item("urn:t:note", "Harbour works", ednote="Desk: the zeppelin angle is embargoed"))
    assert found("zeppelin") == []
    assert found("harbour") == ["urn:t:note"]


HOSTILE = [
    '"',
    '""',
    '"unterminated',
    "'",
    "\\",
    "*",
    "**",
    "-",
    "+",
    "^",
    ":",
    "(",
    ")",
    "()",
    "{}",
    "[",
    "!",
    "&",
    "|",
    "<->",
    "!ferry & | :*",
    "AND",
    "OR",
    "NOT",
    "NEAR",
    "ferry AND",
    "OR ferry",
    "NOT ferry",
    "NEAR(ferry harbour)",
    "ferry NEAR/3 harbour",
    "ferr*",
    "headline:ferry",
    "{headline body}: ferry",
    "ferry:*",
    "'ferry'",
    "%",
    "%s",
    "%(q)s",
    "_",
    "?",
    "$1",
    ";",
    "--",
    "Robert'); DROP TABLE wiredesk_story;--",
    "",
    " ",
    "\t\n ",
    "\x00",
    "ferry\x00harbour",
    "\x02\x03",
    "x" * 5000,
    "ferry " * 5000,
    "Tromsø",
    "Nóva Ålesund",
    "北京 港口",
    "🚢⚓",
    "ﬁ",
    "İstanbul",
    "ß",
    "\u200b",
    "\u0301",
    "e\u0301",
]


@pytest.mark.parametrize("query", HOSTILE)
def test_no_query_breaks_the_search(publish, client, query):
    publish(
        item("urn:t:ferry", "Ferry to Tromsø", "OSLO (HP) - The ferry left the harbour for Tromsø and Nóva Ålesund.")
    )
    hits = search_hits(query)
    assert {hit.story.uri for hit in hits} <= {"urn:t:ferry"}
    with time_machine.travel(NOW + dt.timedelta(minutes=1), tick=False):
        assert client.get("/search/", {"q": query, "page": query}).status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        '"ferry',
        'ferry"',
        "(ferry)",
        "-ferry",
        "+ferry",
        "^ferry",
        "ferry!",
        "*ferry*",
        "ferry:",
        "FERRY",
        "ferry " * 5000,
        "Tromsø",
        "nóva",
        "Ålesund",
    ],
)
def test_syntax_around_a_word_is_only_punctuation(publish, query):
    publish(
        item("urn:t:ferry", "Ferry to Tromsø", "OSLO (HP) - The ferry left the harbour for Tromsø and Nóva Ålesund.")
    )
    assert found(query) == ["urn:t:ferry"]


def test_an_empty_query_finds_nothing(publish):
    publish(item("urn:t:ferry", "Ferry sails"))
    for query in ("", "   ", '""', "*"):
        results = search(query)
        assert (results.count, results.hits) == (0, [])


# --- the page -------------------------------------------------------------------------------------


def page(client, url, **params):
    with time_machine.travel(NOW + dt.timedelta(minutes=1), tick=False):
        response = client.get(url, params)
    assert response.status_code == 200
    return lxml.html.fromstring(response.content)


def test_the_search_page_shows_the_results(publish, client):
    publish(item("urn:t:ferry", "Ferry <i>sails</i> again", 'OSLO (HP) - The ferries sailed "<b>at noon</b>".'))
    story = Story.objects.get()
    doc = page(client, "/search/", q="ferry")
    assert doc.xpath("//meta[@name='robots']/@content") == ["noindex"]
    assert doc.xpath("string(//p[@class='count'])") == "1 result for “ferry”"
    [result] = doc.xpath("//ol[@class='results']/li")
    [link] = result.xpath(".//h2/a")
    assert (link.get("href"), link.text) == (story.get_absolute_url(), "Ferry <i>sails</i> again")
    assert [(a.get("href"), a.text) for a in result.xpath(".//p[@class='meta']/a")] == [("/source/hp/", "HP")]
    assert result.xpath(".//time/@datetime") == [f"{story.published_at:%Y-%m-%dT%H:%M:%S%z}"]
    [snippet] = result.xpath(".//p[@class='snippet']")
    assert [mark.text for mark in snippet.xpath("mark")] == ["ferries"]
    assert not snippet.xpath("*[not(self::mark)]")


def test_the_search_form_works_without_javascript(publish, client):
    publish(item("urn:t:ferry", "Ferry sails", category="Sport"))
    doc = page(client, "/search/", q="ferry", section="sport", source="hp", **{"from": "2026-11-25", "to": "garbage"})
    [form] = doc.xpath("//main//form[@role='search']")
    assert (form.get("method"), form.get("action")) == ("get", "/search/")
    for name in ("q", "section", "source", "from", "to"):
        [field] = form.xpath(f".//*[@name='{name}']")
        assert form.xpath(f".//label[@for='{field.get('id')}']"), name
    assert form.xpath(".//input[@name='q']/@value") == ["ferry"]
    assert form.xpath(".//select[@name='section']/option[@selected]/@value") == ["sport"]
    assert form.xpath(".//select[@name='source']/option[@selected]/@value") == ["hp"]
    assert form.xpath(".//input[@name='from']/@value") == ["2026-11-25"]
    assert form.xpath(".//input[@name='to']/@value") == [""]  # not a day: no filter
    assert len(doc.xpath("//ol[@class='results']/li")) == 1
    assert not page(client, "/search/", q="ferry", section="business").xpath("//ol[@class='results']/li")
    assert not page(client, "/search/", q="ferry", **{"to": "2026-11-24"}).xpath("//ol[@class='results']/li")


def test_every_page_has_a_search_form_in_its_masthead(client, db):
    doc = page(client, "/")
    [form] = doc.xpath("//header[@class='masthead']//form[@role='search']")
    assert (form.get("method"), form.get("action")) == ("get", "/search/")
    [field] = form.xpath(".//input[@name='q']")
    assert form.xpath(f".//label[@for='{field.get('id')}']/text()") == ["Search stories"]


def test_an_empty_search_page_shows_only_the_form(client, db):
    doc = page(client, "/search/")
    assert doc.xpath("//meta[@name='robots']/@content") == ["noindex"]
    assert doc.xpath("//main//input[@name='q']")
    assert not doc.xpath("//p[@class='count']") and not doc.xpath("//ol[@class='results']")


def test_the_result_pages_have_stable_urls(publish, client, monkeypatch):
    monkeypatch.setattr(search_module, "PAGE_SIZE", 2)
    for n in range(5):
        publish(item(f"urn:t:{n}", f"Tide report {n}"))
    first = page(client, "/search/", page="1", to="2026-11-25", q="tide", section="news")
    assert first.xpath("//a[@rel='next']/@href") == ["?q=tide&section=news&to=2026-11-25&page=2"]
    third = page(client, "/search/", q="tide", section="news", to="2026-11-25", page="3")
    assert third.xpath("//a[@rel='prev']/@href") == ["?q=tide&section=news&to=2026-11-25&page=2"]
    assert not third.xpath("//a[@rel='next']")
    assert "Page 3 of 3" in third.text_content()
    assert third.xpath("//ol[@class='results']/@start") == ["5"]


def test_a_word_most_stories_hold_is_ranked_among_its_newest_matches_and_counted_that_far(publish, client, monkeypatch):
    monkeypatch.setattr(search_module, "CANDIDATES", 3)
    # The oldest stored holds the word in its headline, and would rank first among all five.
    publish(item("urn:t:0", "Tide tide tide", "OSLO (HP) - The tide, the tide and the tide again."))
    for n in range(1, 5):
        publish(item(f"urn:t:{n}", f"Report {n}", f"OSLO (HP) - Report {n} mentions the tide once."))
    with time_machine.travel(NOW + dt.timedelta(minutes=1), tick=False):
        results = search("tide")
        assert (results.count, results.more) == (3, True)
        assert sorted(hit.story.uri for hit in results.hits) == ["urn:t:2", "urn:t:3", "urn:t:4"]
        assert (search("tide report 1").count, search("tide report 1").more) == (1, False)
    doc = page(client, "/search/", q="tide")
    assert doc.xpath("string(//p[@class='count'])") == "More than 3 results for “tide”, the newest first found"


def test_days_at_either_end_of_the_calendar_bound_nothing(publish, settings):
    settings.TIME_ZONE = "Asia/Tokyo"  # 0001-01-01 starts before the year 1 in UTC
    publish(item("urn:t:fjord", "Fjord ferry timetable"))
    assert found("fjord", since=dt.date(1, 1, 1), until=dt.date(9999, 12, 31)) == ["urn:t:fjord"]
    assert found("fjord", since=dt.date(9999, 12, 31)) == found("fjord", until=dt.date(1, 1, 1)) == []
