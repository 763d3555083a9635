"""Sitemaps and robots.txt, checked against the sitemaps.org schemas and the news tags Google
documents (tests/schemas, all local)."""

import datetime as dt
import json
import urllib.robotparser
from pathlib import Path

import pytest
import time_machine
from conftest import NOW
from lxml import etree

from wiredesk.desk import actions
from wiredesk.models import Story
from wiredesk.publish.sitemaps import ArticleSitemap, NewsSitemap, publication_language

SCHEMAS = Path(__file__).parent / "schemas"
URLSET = etree.XMLSchema(etree.parse(SCHEMAS / "sitemap.xsd"))
INDEX = etree.XMLSchema(etree.parse(SCHEMAS / "siteindex.xsd"))
NEWS = etree.XMLSchema(etree.parse(SCHEMAS / "news-sitemap.xsd"))
NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9", "news": "http://www.google.com/schemas/sitemap-news/0.9"}
SITE = "http://testserver"


def publish(ingest, at, uri, headline, **fields):
    """A ninjs story delivered at `at`; its body is made from the headline, so no two are alike."""
    item = {"uri": uri, "headline": headline, "body_text": f"{headline}, the agency reported.", **fields}
    with time_machine.travel(at, tick=False):
        [result] = ingest(json.dumps(item).encode(), source="hp")
    return result


def fetch(client, url, schema):
    response = client.get(url.removeprefix(SITE))
    assert response.status_code == 200, url
    assert response["Content-Type"] == "application/xml"
    assert "Last-Modified" not in response
    document = etree.fromstring(response.content)
    schema.assertValid(document)
    return document


def locs(document):
    return document.xpath("//sm:loc/text()", namespaces=NS)


def article_urls(client):
    return locs(fetch(client, "/sitemaps/articles.xml", URLSET))


def news_urls(client):
    return locs(fetch(client, "/sitemaps/news.xml", NEWS))


def url_of(uri):
    return SITE + Story.objects.get(uri=uri).get_absolute_url()


def test_the_index_lists_the_fronts_the_articles_and_the_news_and_each_of_them_validates(client, ingest):
    publish(ingest, NOW, "urn:hp:ferry", "Ferry sails again")
    with time_machine.travel(NOW, tick=False):
        [held] = ingest(b"date 2026-11-25\ncategory Sport\nRowers win gold\n\nOSLO (HP) - The rowers won.\n")
    actions.hold(Story.objects.get(uri=held.uri))
    with time_machine.travel(NOW, tick=False):
        index = fetch(client, "/sitemap.xml", INDEX)
        assert locs(index) == [
            f"{SITE}/sitemaps/fronts.xml",
            f"{SITE}/sitemaps/articles.xml",
            f"{SITE}/sitemaps/news.xml",
        ]
        assert not index.xpath("//sm:lastmod", namespaces=NS)
        for loc in locs(index):
            schema = NEWS if loc.endswith("news.xml") else URLSET
            assert locs(fetch(client, loc, schema))
        assert locs(fetch(client, "/sitemaps/fronts.xml", URLSET)) == [f"{SITE}/", f"{SITE}/section/news/"]
        assert client.get("/sitemaps/nothing.xml").status_code == 404


def test_the_article_sitemap_gives_each_live_article_with_the_time_it_was_last_updated(client, ingest):
    publish(ingest, NOW, "urn:hp:bridge", "Bridge opens to traffic", version=1)
    publish(
        ingest,
        NOW + dt.timedelta(hours=3),
        "urn:hp:bridge",
        "Bridge opens to traffic",
        version=2,
        body_text="The bridge opened to traffic on Tuesday, a day late.",
    )
    with time_machine.travel(NOW + dt.timedelta(hours=4), tick=False):
        document = fetch(client, "/sitemaps/articles.xml", URLSET)
    story = Story.objects.get()
    assert story.updated_at == NOW + dt.timedelta(hours=3)
    assert locs(document) == [url_of("urn:hp:bridge")]
    assert document.xpath("//sm:lastmod/text()", namespaces=NS) == [story.updated_at.isoformat()]


def test_the_articles_are_paged_and_the_index_lists_every_page(client, ingest, monkeypatch):
    assert ArticleSitemap.limit == 10_000
    monkeypatch.setattr(ArticleSitemap, "limit", 2)
    for n in range(5):
        publish(ingest, NOW + dt.timedelta(minutes=n), f"urn:hp:story-{n}", f"Story number {n} of five")
    with time_machine.travel(NOW + dt.timedelta(hours=1), tick=False):
        pages = [loc for loc in locs(fetch(client, "/sitemap.xml", INDEX)) if "/articles.xml" in loc]
        assert pages == [
            f"{SITE}/sitemaps/articles.xml",
            f"{SITE}/sitemaps/articles.xml?p=2",
            f"{SITE}/sitemaps/articles.xml?p=3",
        ]
        listed = [locs(fetch(client, page, URLSET)) for page in pages]
        assert client.get("/sitemaps/articles.xml?p=4").status_code == 404
    assert [len(page) for page in listed] == [2, 2, 1]
    assert sum(listed, []) == [url_of(f"urn:hp:story-{n}") for n in range(5)]


def test_only_stories_readers_may_see_are_listed_and_a_kill_leaves_at_once(client, ingest):
    publish(ingest, NOW, "urn:hp:live", "Council passes budget")
    publish(ingest, NOW, "urn:hp:killed", "Minister quoted on rates")
    publish(ingest, NOW, "urn:hp:killed", "Minister quoted on rates", version=2, pubstatus="canceled")
    publish(ingest, NOW, "urn:hp:withheld", "Poll shows tie")
    publish(ingest, NOW, "urn:hp:withheld", "Poll shows tie", version=2, pubstatus="withheld")
    publish(ingest, NOW, "urn:hp:held", "Mayor resigns")
    actions.hold(Story.objects.get(uri="urn:hp:held"))
    text = "The harbour reopened on Tuesday after storm damage was repaired, the port authority said. Ships queued outside overnight."
    publish(ingest, NOW, "urn:hp:orig", "Harbour reopens after storm", body_text=text)
    assert (
        publish(ingest, NOW, "urn:hp:refile", "REFILE-Harbour reopens after storm", body_text=text).outcome
        == "duplicate"
    )
    publish(ingest, NOW, "urn:hp:operator-kill", "Dam report published")
    live = [url_of("urn:hp:live"), url_of("urn:hp:orig"), url_of("urn:hp:operator-kill")]
    with time_machine.travel(NOW + dt.timedelta(minutes=5), tick=False):
        assert article_urls(client) == live
        assert sorted(news_urls(client)) == sorted(live)
        actions.kill(Story.objects.get(uri="urn:hp:operator-kill"), "legal")
        assert article_urls(client) == live[:2]
        assert sorted(news_urls(client)) == sorted(live[:2])


def test_an_embargoed_story_is_listed_nowhere_before_its_time_and_from_it_on(client, ingest):
    publish(ingest, NOW, "urn:hp:results", "Company doubles profit", embargoed="2026-11-25T12:00:00Z")
    embargo = dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC)
    with time_machine.travel(embargo - dt.timedelta(seconds=1), tick=False):
        assert client.get("/sitemaps/articles.xml").content.count(b"<url>") == 0
        assert client.get("/sitemaps/news.xml").content.count(b"<url>") == 0
    with time_machine.travel(embargo, tick=False):
        assert article_urls(client) == [url_of("urn:hp:results")]
        news = fetch(client, "/sitemaps/news.xml", NEWS)
    assert news.xpath("//news:publication_date/text()", namespaces=NS) == [embargo.isoformat()]


def test_the_news_sitemap_holds_the_last_48_hours_newest_first(client, ingest):
    publish(ingest, NOW - dt.timedelta(hours=49), "urn:hp:old", "Old news from the docks")
    publish(ingest, NOW - dt.timedelta(hours=47), "urn:hp:recent", "Recent news from the market")
    publish(ingest, NOW, "urn:hp:new", "New news from the harbour")
    with time_machine.travel(NOW, tick=False):
        assert news_urls(client) == [url_of("urn:hp:new"), url_of("urn:hp:recent")]
        assert len(article_urls(client)) == 3
    with time_machine.travel(NOW + dt.timedelta(hours=47, minutes=1), tick=False):
        assert news_urls(client) == [url_of("urn:hp:new")]


def test_the_news_sitemap_gives_the_original_publication_date_even_after_an_update(client, ingest):
    publish(ingest, NOW, "urn:hp:storm", "Storm nears coast", version=1)
    publish(
        ingest,
        NOW + dt.timedelta(hours=2),
        "urn:hp:storm",
        "Storm nears coast",
        version=2,
        body_text="The storm reached the coast on Wednesday night.",
    )
    with time_machine.travel(NOW + dt.timedelta(hours=3), tick=False):
        news = fetch(client, "/sitemaps/news.xml", NEWS)
    assert news.xpath("//news:publication_date/text()", namespaces=NS) == [NOW.isoformat()]
    assert news.xpath("//sm:lastmod/text()", namespaces=NS) == [(NOW + dt.timedelta(hours=2)).isoformat()]


def test_the_news_sitemap_names_the_publication_the_language_and_the_headline(client, ingest, settings):
    settings.WIREDESK = {**settings.WIREDESK, "SITE_NAME": "Harbour & Coast Wire"}
    settings.LANGUAGE_CODE = "de"
    publish(ingest, NOW, "urn:hp:english", "Tags <b>in</b> a headline & more", language="en-GB")
    publish(ingest, NOW - dt.timedelta(minutes=1), "urn:hp:unsaid", "Fähre fährt wieder")
    with time_machine.travel(NOW, tick=False):
        response = client.get("/sitemaps/news.xml")
        news = fetch(client, "/sitemaps/news.xml", NEWS)
    assert b"Tags &lt;b&gt;in&lt;/b&gt; a headline &amp; more" in response.content
    assert news.xpath("//news:name/text()", namespaces=NS) == ["Harbour & Coast Wire"] * 2
    assert news.xpath("//news:language/text()", namespaces=NS) == ["en", "de"]
    assert news.xpath("//news:title/text()", namespaces=NS) == [
        "Tags <b>in</b> a headline & more",
        "Fähre fährt wieder",
    ]


def test_news_sitemaps_hold_at_most_1000_articles_and_the_index_lists_the_rest(client, ingest, monkeypatch):
    assert NewsSitemap.limit == 1_000
    monkeypatch.setattr(NewsSitemap, "limit", 2)
    for n in range(3):
        publish(ingest, NOW + dt.timedelta(minutes=n), f"urn:hp:flash-{n}", f"Flash number {n} of three")
    with time_machine.travel(NOW + dt.timedelta(hours=1), tick=False):
        pages = [loc for loc in locs(fetch(client, "/sitemap.xml", INDEX)) if "/news.xml" in loc]
        assert pages == [f"{SITE}/sitemaps/news.xml", f"{SITE}/sitemaps/news.xml?p=2"]
        listed = [locs(fetch(client, page, NEWS)) for page in pages]
    assert listed == [[url_of("urn:hp:flash-2"), url_of("urn:hp:flash-1")], [url_of("urn:hp:flash-0")]]


def test_a_news_sitemap_with_nothing_fresh_is_an_empty_urlset(client, ingest):
    # Google takes an empty news sitemap as intended; sitemap.xsd alone wants at least one <url>.
    publish(ingest, NOW - dt.timedelta(days=3), "urn:hp:stale", "Stale news")
    with time_machine.travel(NOW, tick=False):
        response = client.get("/sitemaps/news.xml")
    assert response.status_code == 200
    assert etree.fromstring(response.content).tag == f"{{{NS['sm']}}}urlset"
    assert b"<url>" not in response.content


@pytest.mark.parametrize(
    ("tag", "language"),
    [
        ("en", "en"),
        ("en-GB", "en"),
        ("EN_us", "en"),
        ("nb-NO", "nb"),
        ("ja-JP", "ja"),
        ("haw", "haw"),
        ("zh", "zh-cn"),
        ("zh-CN", "zh-cn"),
        ("zh-Hans-CN", "zh-cn"),
        ("zh-TW", "zh-tw"),
        ("zh-Hant-HK", "zh-tw"),
    ],
)
def test_languages_are_named_as_google_news_takes_them(tag, language):
    assert publication_language(tag) == language


def test_the_news_schema_really_checks_the_news_tags(client, ingest):
    publish(ingest, NOW, "urn:hp:ferry", "Ferry sails again")
    with time_machine.travel(NOW, tick=False):
        valid = client.get("/sitemaps/news.xml").content.decode()
    NEWS.assertValid(etree.fromstring(valid.encode()))

    def broken(old, new):
        assert old in valid
        return not NEWS.validate(etree.fromstring(valid.replace(old, new, 1).encode()))

    assert broken("<news:title>Ferry sails again</news:title>", "")
    assert broken("<news:name>wiredesk</news:name>", "")
    assert broken("<news:name>wiredesk</news:name>", "<news:name> </news:name>")
    assert broken("<news:language>en</news:language>", "<news:language>en-GB</news:language>")
    assert broken("+00:00</news:publication_date>", "</news:publication_date>")
    assert broken("</news:title>", "</news:title><news:keywords>ferry</news:keywords>")
    assert broken("</news:news>", '</news:news><x:extra xmlns:x="urn:undeclared">?</x:extra>')


def test_robots_txt_names_the_sitemap_index_by_its_absolute_url_and_allows_everything(client, db):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode().splitlines() == ["User-agent: *", "Allow: /", "", f"Sitemap: {SITE}/sitemap.xml"]
    robots = urllib.robotparser.RobotFileParser()
    robots.parse(response.content.decode().splitlines())
    assert robots.site_maps() == [f"{SITE}/sitemap.xml"]
    assert robots.can_fetch("Googlebot", "/story/1/anything/") and robots.can_fetch("*", "/sitemaps/news.xml")
    assert "Sitemap: https://testserver/sitemap.xml" in client.get("/robots.txt", secure=True).content.decode()


def test_control_characters_in_a_headline_do_not_break_the_news_sitemap(client, ingest, monkeypatch):
    from wiredesk.desk import pipeline
    from wiredesk.story import WireStory

    # Straight from a reader, past whatever the formats make of such bytes.
    copy = WireStory(uri="urn:hp:controls", headline="Form\u000cfeed \u001bheadline", paragraphs=["Odd bytes."])
    monkeypatch.setattr(pipeline.formats, "parse", lambda *a, **k: [copy])
    with time_machine.travel(NOW, tick=False):
        ingest(b"<nitf/>")
        news = fetch(client, "/sitemaps/news.xml", NEWS)
    assert news.xpath("//news:title/text()", namespaces=NS) == ["Formfeed headline"]


def test_an_article_sitemap_page_keeps_its_stories_when_one_before_it_is_killed(client, ingest, monkeypatch):
    monkeypatch.setattr(ArticleSitemap, "limit", 2)
    for n in range(5):
        publish(ingest, NOW + dt.timedelta(minutes=n), f"urn:hp:story-{n}", f"Story number {n} of five")
    with time_machine.travel(NOW + dt.timedelta(hours=1), tick=False):
        second = locs(fetch(client, "/sitemaps/articles.xml?p=2", URLSET))
        actions.kill(Story.objects.get(uri="urn:hp:story-0"), reason="legal")
        assert locs(fetch(client, "/sitemaps/articles.xml", URLSET)) == [url_of("urn:hp:story-1")]
        assert locs(fetch(client, "/sitemaps/articles.xml?p=2", URLSET)) == second
        assert client.get("/sitemaps/articles.xml?p=x").status_code == 404


def test_the_article_sitemap_of_a_site_with_no_story_is_one_empty_page(client, db):
    # As on any site before its first story: a page, with nothing to list.
    response = client.get("/sitemaps/articles.xml")
    assert response.status_code == 200 and response.content.count(b"<url>") == 0
    assert client.get("/sitemaps/articles.xml?p=2").status_code == 404
