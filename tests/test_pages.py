"""The reader's pages beyond the fronts: article metadata for search engines and social sites,
related stories, and the source, topic, place and archive pages."""

import ast
import datetime as dt
import json
import re
import subprocess
import sys

import lxml.etree
import lxml.html
import pytest
import time_machine
from conftest import NOW, desk_env, story_copy
from django.test import override_settings
from django.utils import timezone
from lxml import etree

from wiredesk.config import sources
from wiredesk.models import Story
from wiredesk.publish import queries

LD_PROPERTIES = {
    "@context",
    "@type",
    "headline",
    "description",
    "datePublished",
    "dateModified",
    "author",
    "sourceOrganization",
    "publisher",
    "mainEntityOfPage",
    "inLanguage",
    "articleSection",
}


def ninjs(uri, headline, *paragraphs, category="News", topics=(), keywords=(), minutes_ago=60, **fields) -> bytes:
    subjects = [
        {"name": category, "literal": f"category:{category}"},
        *({"name": t} for t in topics),
        *({"name": k, "literal": f"keyword:{k}"} for k in keywords),
    ]
    created = timezone.now() - dt.timedelta(minutes=minutes_ago)
    # Every story its own words, or the desk takes it for a copy of another.
    paragraphs = paragraphs or [f"OSLO (HP) - Report {uri} one, {uri} two, {uri} three, {uri} four."]
    return json.dumps(
        {
            "uri": uri,
            "headline": headline,
            "body_text": "\n\n".join(paragraphs),
            "subject": subjects,
            "firstcreated": created.isoformat(),
            **fields,
        }
    ).encode()


def kill(uri) -> bytes:
    return json.dumps({"uri": uri, "version": 9, "pubstatus": "canceled", "headline": "KILL"}).encode()


def page(client, url) -> lxml.html.HtmlElement:
    response = client.get(url)
    assert response.status_code == 200, url
    return lxml.html.fromstring(response.content)


def headlines(client, url) -> list[str]:
    return page(client, url).xpath("//ul[@class='stories']//h2/a/text()")


def linked_data(doc) -> dict:
    [script] = doc.xpath("//script[@type='application/ld+json']")
    return json.loads(script.text)


def metas(doc) -> dict[str, str]:
    return {m.get("property") or m.get("name"): m.get("content") for m in doc.xpath("//head/meta[@content]")}


def story(uri) -> Story:
    return Story.objects.get(uri=uri)


@pytest.fixture
def wire(ingest):
    """Four live stories from two agencies, in two sections, from two places."""
    ingest(
        ninjs(
            "urn:t:rowers",
            "Rowers win gold in Oslo",
            "OSLO (HP) - The home crew won the final by a length.",
            "Thousands watched from the fjord.",
            category="Sport",
            topics=["Rowing"],
            keywords=["Olympics"],
            minutes_ago=180,
            language="en-GB",
            by="Kari Nordmann",
        ),
        source="hp",
    )
    ingest(
        ninjs(
            "urn:t:shares",
            "Shares rise on port results",
            "PORT SALVIN (HP) - Shares in the port rose 4 percent.",
            category="Business",
            topics=["Markets"],
            minutes_ago=120,
        ),
        source="hp",
    )
    ingest(
        ninjs(
            "urn:t:relay",
            "Relay team sets a record",
            "DELHI (IANS) - The relay team ran the fastest time yet.",
            category="Sport",
            keywords=["Olympics"],
            minutes_ago=60,
        ),
        source="ians",
    )
    ingest(
        ninjs(
            "urn:t:skiers",
            "Skiers open the season",
            "OSLO (HP) - The first race ran on artificial snow.",
            category="Sport",
            minutes_ago=30,
        ),
        source="hp",
    )


# --- the article's metadata -----------------------------------------------------------------------


def test_json_ld_is_a_news_article_with_exactly_the_documented_properties(client, wire, settings):
    settings.WIREDESK = {**settings.WIREDESK, "SITE_NAME": "Harbour Daily"}
    rowers = story("urn:t:rowers")
    data = linked_data(page(client, rowers.get_absolute_url()))
    assert set(data) == LD_PROPERTIES
    agency = {"@type": "Organization", "name": "HP"}
    assert data == {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": "Rowers win gold in Oslo",
        "description": "The home crew won the final by a length.",
        "datePublished": data["datePublished"],
        "dateModified": data["dateModified"],
        "author": {"@type": "Person", "name": "Kari Nordmann"},
        "sourceOrganization": agency,
        "publisher": {"@type": "Organization", "name": "Harbour Daily"},
        "mainEntityOfPage": f"http://testserver{rowers.get_absolute_url()}",
        "inLanguage": "en-GB",
        "articleSection": "Sport",
    }
    assert dt.datetime.fromisoformat(data["datePublished"]) == rowers.published_at
    assert dt.datetime.fromisoformat(data["dateModified"]) == rowers.updated_at


def test_the_description_is_the_lede_without_its_dateline_cut_at_forty_words(client, ingest):
    words = " ".join(f"w{n}" for n in range(60))
    ingest(ninjs("urn:t:long", "A long lede", f"OSLO (HP) - {words}"))
    doc = page(client, story("urn:t:long").get_absolute_url())
    expected = " ".join(f"w{n}" for n in range(40)) + "…"
    assert linked_data(doc)["description"] == metas(doc)["description"] == metas(doc)["og:description"] == expected


@pytest.mark.parametrize("headline", ["Breaking </script><script>alert(1)</script>", "<!-- <script> & </SCRIPT >"])
def test_agency_text_cannot_close_the_json_ld_script(client, ingest, headline):
    ingest(ninjs("urn:t:break", headline, "OSLO (HP) - A line with </script> in it & more."))
    html = client.get(story("urn:t:break").get_absolute_url()).content.decode()
    [script] = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S | re.I)
    assert not re.search(r"[<>&]", script)
    assert json.loads(script)["headline"] == headline
    # Only the one script element the page has: nothing of the headline became markup.
    assert len(re.findall(r"<script", html, re.I)) == 1
    assert len(re.findall(r"</script", html, re.I)) == 1


def test_opengraph_and_twitter_card_describe_the_article(client, wire, settings):
    settings.WIREDESK = {**settings.WIREDESK, "SITE_NAME": "Harbour Daily"}
    rowers = story("urn:t:rowers")
    tags = metas(page(client, rowers.get_absolute_url()))
    url = f"http://testserver{rowers.get_absolute_url()}"
    assert {key: tags[key] for key in tags if key.startswith(("og:", "twitter:"))} == {
        "og:type": "article",
        "og:title": "Rowers win gold in Oslo",
        "og:url": url,
        "og:site_name": "Harbour Daily",
        "og:description": "The home crew won the final by a length.",
        "twitter:card": "summary",
        "twitter:title": "Rowers win gold in Oslo",
        "twitter:description": "The home crew won the final by a length.",
    }
    assert dt.datetime.fromisoformat(tags["article:published_time"]) == rowers.published_at
    assert dt.datetime.fromisoformat(tags["article:modified_time"]) == rowers.updated_at
    assert tags["article:section"] == "Sport"


def test_the_article_shows_its_byline_and_links_agency_day_place_and_topics(client, wire):
    doc = page(client, story("urn:t:rowers").get_absolute_url())
    meta = doc.xpath("string(//article//p[@class='meta'])")
    assert meta.startswith("Kari Nordmann · HP")
    assert doc.xpath("//a[span[@class='agency']]/@href") == ["/source/hp/"]
    day = timezone.localtime(story("urn:t:rowers").published_at)
    assert doc.xpath("//p[@class='meta']/a[time]/@href") == [f"/archive/{day:%Y/%m/%d}/"]
    filed = doc.xpath("//div[@class='filed']")[0]
    assert filed.xpath(".//a[text()='OSLO']/@href") == ["/place/oslo/"]
    assert filed.xpath(".//a/@href")[1:] == ["/topic/sport/", "/topic/rowing/", "/topic/olympics/"]
    # All of it outside the agency's text.
    assert not doc.xpath("//div[@class='story-body']//a")


def test_related_stories_are_the_newest_of_the_section_without_itself_or_killed_ones(client, ingest):
    for n in range(8):
        ingest(ninjs(f"urn:t:s{n}", f"Sport story {n}", category="Sport", minutes_ago=100 - n))
    ingest(ninjs("urn:t:money", "Business story", category="Business", minutes_ago=1))
    ingest(kill("urn:t:s7"))
    doc = page(client, story("urn:t:s3").get_absolute_url())
    [aside] = doc.xpath("//aside[@class='related']")
    assert aside.xpath(".//li/a/text()") == [f"Sport story {n}" for n in (6, 5, 4, 2, 1)]
    assert aside.xpath(".//li/a/@href")[0] == story("urn:t:s6").get_absolute_url()


# --- per-source seo settings ----------------------------------------------------------------------


@pytest.fixture
def seo(settings, tmp_path):
    """Sets sources' seo modes in the data folder's sources.toml."""
    settings.DATA_DIR = tmp_path

    def seo(**modes):
        text = "".join(f'[sources.{slug}]\nseo = "{mode}"\n' for slug, mode in modes.items())
        (tmp_path / "sources.toml").write_text(text, encoding="utf-8")

    return seo


def robots_and_canonical(client, uri):
    doc = page(client, story(uri).get_absolute_url())
    return doc.xpath("//meta[@name='robots']/@content"), doc.xpath("//link[@rel='canonical']/@href")


def test_by_default_articles_are_indexed_under_their_own_url(client, ingest, seo):
    ingest(ninjs("https://hp.example/2026/rowers", "Rowers win"), source="hp")
    own = f"http://testserver{story('https://hp.example/2026/rowers').get_absolute_url()}"
    assert robots_and_canonical(client, "https://hp.example/2026/rowers") == ([], [own])
    seo(hp="index")
    assert robots_and_canonical(client, "https://hp.example/2026/rowers") == ([], [own])


def test_a_noindex_source_keeps_its_articles_out_of_search_engines(client, ingest, seo):
    ingest(ninjs("urn:t:rowers", "Rowers win"), source="hp")
    ingest(ninjs("urn:t:relay", "Relay record"), source="ians")
    seo(hp="noindex")
    assert robots_and_canonical(client, "urn:t:rowers")[0] == ["noindex"]
    assert robots_and_canonical(client, "urn:t:relay")[0] == []


def test_a_canonical_source_names_the_agency_page_when_the_story_has_one(client, ingest, seo):
    ingest(ninjs("https://hp.example/2026/rowers", "Rowers win"), source="hp")
    ingest(ninjs("urn:hp:relay", "Relay record"), source="hp")
    seo(hp="canonical")
    assert robots_and_canonical(client, "https://hp.example/2026/rowers") == ([], ["https://hp.example/2026/rowers"])
    own = f"http://testserver{story('urn:hp:relay').get_absolute_url()}"
    assert robots_and_canonical(client, "urn:hp:relay") == ([], [own])
    # The page still describes itself: only the canonical link points away.
    doc = page(client, story("https://hp.example/2026/rowers").get_absolute_url())
    own = f"http://testserver{story('https://hp.example/2026/rowers').get_absolute_url()}"
    assert metas(doc)["og:url"] == linked_data(doc)["mainEntityOfPage"] == own


def test_behind_a_tls_proxy_pages_name_their_https_address(client, ingest, tmp_path):
    env = {**desk_env(), "WIREDESK_BEHIND_PROXY": "1", "WIREDESK_DATA": str(tmp_path)}
    shown = subprocess.run(
        [sys.executable, "-c", "from wiredesk.config import settings; print(settings.SECURE_PROXY_SSL_HEADER)"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    with override_settings(SECURE_PROXY_SSL_HEADER=ast.literal_eval(shown), ALLOWED_HOSTS=["news.example"]):
        ingest(ninjs("urn:t:rowers", "Rowers win"), source="hp")
        url = story("urn:t:rowers").get_absolute_url()
        for proto, scheme in (("https", "https"), (None, "http")):
            headers = {"HTTP_X_FORWARDED_PROTO": proto} if proto else {}
            doc = lxml.html.fromstring(client.get(url, HTTP_HOST="news.example", **headers).content)
            assert doc.xpath("//link[@rel='canonical']/@href") == [f"{scheme}://news.example{url}"]


def test_sitemaps_list_only_pages_search_engines_are_asked_to_index_here(client, ingest, seo):
    ingest(ninjs("https://hp.example/2026/rowers", "Rowers win", minutes_ago=5), source="hp")
    ingest(ninjs("urn:hp:relay", "Relay record", minutes_ago=5), source="hp")
    ingest(ninjs("urn:ians:ferry", "Ferry sails", minutes_ago=5), source="ians")

    def listed():
        return {
            url.rsplit("/", 2)[-2]
            for name in ("articles", "news")
            for url in lxml.etree.fromstring(client.get(f"/sitemaps/{name}.xml").content).xpath(
                "//*[local-name()='loc']/text()"
            )
            if "/story/" in url
        }

    assert listed() == {"rowers-win", "relay-record", "ferry-sails"}
    seo(hp="canonical")  # the agency's own page is the one to index, where the story has one
    assert listed() == {"relay-record", "ferry-sails"}
    seo(hp="noindex")
    assert listed() == {"ferry-sails"}


def test_a_changed_seo_setting_applies_without_a_restart(client, ingest, seo):
    ingest(ninjs("urn:t:rowers", "Rowers win"), source="hp")
    seo(hp="noindex")
    assert robots_and_canonical(client, "urn:t:rowers")[0] == ["noindex"]
    seo(hp="index")
    assert robots_and_canonical(client, "urn:t:rowers")[0] == []


def test_the_seo_setting_is_checked_and_kept_out_of_the_database(db, tmp_path):
    file = tmp_path / "sources.toml"
    file.write_text('[sources.hp]\nseo = "hide"\n', encoding="utf-8")
    with pytest.raises(sources.ConfigError, match="seo must be one of index, noindex, canonical"):
        sources.read(file)
    file.write_text('[sources.hp]\nname = "Harbour Press"\nseo = "noindex"\n', encoding="utf-8")
    assert sources.apply(file) == 1


def test_a_broken_sources_file_leaves_articles_indexed(client, ingest, seo, settings):
    ingest(ninjs("urn:t:rowers", "Rowers win"), source="hp")
    (settings.DATA_DIR / "sources.toml").write_text('[sources.hp]\nseo = "nothing"\n', encoding="utf-8")
    assert robots_and_canonical(client, "urn:t:rowers")[0] == []


# --- source, topic, place and archive pages -------------------------------------------------------


@pytest.mark.parametrize(
    "url, expected, title",
    [
        ("/source/hp/", ["Skiers open the season", "Shares rise on port results", "Rowers win gold in Oslo"], "HP"),
        ("/source/ians/", ["Relay team sets a record"], "IANS"),
        ("/topic/olympics/", ["Relay team sets a record", "Rowers win gold in Oslo"], "Olympics"),
        ("/topic/markets/", ["Shares rise on port results"], "Markets"),
        ("/topic/sport/", ["Skiers open the season", "Relay team sets a record", "Rowers win gold in Oslo"], "Sport"),
        ("/place/oslo/", ["Skiers open the season", "Rowers win gold in Oslo"], "OSLO"),
        ("/place/port-salvin/", ["Shares rise on port results"], "PORT SALVIN"),
    ],
)
def test_each_page_lists_its_stories_newest_first(client, wire, url, expected, title):
    doc = page(client, url)
    assert doc.xpath("//ul[@class='stories']//h2/a/text()") == expected
    assert doc.xpath("string(//h1)") == title


@pytest.mark.parametrize(
    "url",
    [
        "/source/nobody/",
        "/topic/no-such-topic/",
        "/place/atlantis/",
        "/archive/2020/01/01/",
        "/archive/2026/02/30/",
        "/archive/2026/2/3/",
    ],
)
def test_an_unknown_or_empty_page_is_404(client, wire, url):
    assert client.get(url).status_code == 404


def test_a_source_with_no_visible_story_has_no_page(client, ingest):
    ingest(ninjs("urn:t:gone", "Soon killed"), source="hp")
    ingest(kill("urn:t:gone"), source="hp")
    assert client.get("/source/hp/").status_code == 404
    assert client.get("/archive/").status_code == 404


def test_topic_and_place_pages_follow_the_current_version(client, ingest):
    ingest(ninjs("urn:t:cranes", "Cranes back", "OSLO (HP) - Cranes worked.", topics=["Ports"]), source="hp")
    assert headlines(client, "/topic/ports/") == headlines(client, "/place/oslo/") == ["Cranes back"]
    ingest(
        ninjs("urn:t:cranes", "Cranes back", "BERGEN (HP) - Cranes worked again.", topics=["Shipping"], version=2),
        source="hp",
    )
    assert client.get("/topic/ports/").status_code == client.get("/place/oslo/").status_code == 404
    assert headlines(client, "/topic/shipping/") == headlines(client, "/place/bergen/") == ["Cranes back"]
    assert client.get("/topic/ports/rss.xml").status_code == 404


def test_the_topic_and_source_feeds_link_to_their_pages(client, wire):
    for url, link in [("/source/hp/rss.xml", "/source/hp/"), ("/topic/olympics/rss.xml", "/topic/olympics/")]:
        assert etree.fromstring(client.get(url).content).findtext("channel/link") == f"http://testserver{link}"
    assert (
        page(client, "/topic/olympics/").xpath("//link[@type='application/rss+xml']/@href")[0]
        == "/topic/olympics/rss.xml"
    )
    assert page(client, "/source/hp/").xpath("//link[@type='application/atom+xml']/@href")[0] == "/source/hp/atom.xml"


def at(day, hour, minute=0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=dt.UTC)


def test_the_archive_goes_by_the_sites_time_zone(client, ingest, settings):
    settings.TIME_ZONE = "America/New_York"  # UTC-5 in November
    for uri, when in [("late", at(24, 3)), ("evening", at(25, 3)), ("morning", at(25, 6)), ("next", at(26, 12))]:
        with time_machine.travel(when, tick=False):
            ingest(ninjs(f"urn:t:{uri}", f"The {uri} story", minutes_ago=0))
    with time_machine.travel(at(26, 13), tick=False):
        assert headlines(client, "/archive/2026/11/24/") == ["The evening story"]
        assert headlines(client, "/archive/2026/11/25/") == ["The morning story"]
        assert headlines(client, "/archive/2026/11/23/") == ["The late story"]
        doc = page(client, "/archive/")
        assert doc.xpath("//ul[@class='days']/li/a/@href") == [
            "/archive/2026/11/26/",
            "/archive/2026/11/25/",
            "/archive/2026/11/24/",
            "/archive/2026/11/23/",
        ]
        assert doc.xpath("//ul[@class='days']/li/a/text()")[0] == "Thursday 26 November 2026"
        assert page(client, "/archive/2026/11/24/").xpath("string(//h1)") == "Tuesday 24 November 2026"


def test_every_page_leaves_out_killed_and_embargoed_stories_until_the_embargo_ends(client, ingest):
    with time_machine.travel(NOW, tick=False):
        ingest(ninjs("urn:t:live", "Live story", "OSLO (HP) - Live.", topics=["Ports"], minutes_ago=0), source="hp")
        ingest(
            ninjs("urn:t:killed", "Killed story", "OSLO (HP) - Killed.", topics=["Ports"], minutes_ago=0), source="hp"
        )
        ingest(kill("urn:t:killed"), source="hp")
        ingest(
            ninjs(
                "urn:t:embargoed",
                "Embargoed story",
                "OSLO (HP) - Later.",
                topics=["Ports"],
                minutes_ago=0,
                embargoed=(NOW + dt.timedelta(hours=1)).isoformat(),
            ),
            source="hp",
        )
    urls = ["/source/hp/", "/topic/ports/", "/place/oslo/", f"/archive/{NOW:%Y/%m/%d}/"]
    with time_machine.travel(NOW + dt.timedelta(minutes=59), tick=False):
        for url in urls:
            assert headlines(client, url) == ["Live story"], url
        assert page(client, "/archive/").xpath("//ul[@class='days']/li/span/text()") == ["1 story"]
        assert not page(client, story("urn:t:live").get_absolute_url()).xpath("//aside[@class='related']")
    with time_machine.travel(NOW + dt.timedelta(hours=1), tick=False):
        for url in urls:
            assert headlines(client, url) == ["Embargoed story", "Live story"], url


@pytest.mark.parametrize(
    "url", ["/source/hp/", "/topic/ports/", "/place/oslo/", f"/archive/{NOW:%Y/%m/%d}/", "/archive/"]
)
def test_listings_paginate_with_stable_page_urls(client, ingest, monkeypatch, url):
    monkeypatch.setattr(queries, "PAGE_SIZE", 2)
    with time_machine.travel(NOW, tick=False):
        for n in range(5):
            ingest(
                ninjs(
                    f"urn:t:{n}", f"Story {n}", topics=["Ports"], minutes_ago=n * 60 * 24 if url == "/archive/" else n
                ),
                source="hp",
            )
        first, third = page(client, url), page(client, f"{url}?page=3")
    assert first.xpath("//a[@rel='next']/@href") == ["?page=2"]
    assert third.xpath("//a[@rel='prev']/@href") == ["?page=2"] and not third.xpath("//a[@rel='next']")
    assert "Page 3 of 3" in third.text_content()
    if url != "/archive/":
        assert third.xpath("//ul[@class='stories']//h2/a/text()") == ["Story 4"]
    else:
        assert len(third.xpath("//ul[@class='days']/li")) == 1


# --- error pages ------------------------------------------------------------------------------------


def test_the_404_page_is_in_the_sites_design(client, wire, settings):
    settings.WIREDESK = {**settings.WIREDESK, "SITE_NAME": "Harbour Daily"}
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    doc = lxml.html.fromstring(response.content)
    assert doc.xpath("string(//header[@class='masthead']/a[@class='brand'])") == "Harbour Daily"
    assert doc.xpath("//nav[@aria-label='Sections']//a/@href") == ["/", "/section/business/", "/section/sport/"]
    assert doc.xpath("string(//main//h1)") == "Page not found"
    assert doc.xpath("//meta[@name='robots']/@content") == ["noindex"]
    assert doc.xpath("//style")


def test_the_410_page_is_in_the_sites_design_and_tells_nothing_of_the_story(client, ingest):
    ingest(ninjs("urn:t:gone", "Withdrawn headline"), source="hp")
    url = story("urn:t:gone").get_absolute_url()
    ingest(kill("urn:t:gone"), source="hp")
    response = client.get(url)
    assert response.status_code == 410
    doc = lxml.html.fromstring(response.content)
    assert doc.xpath("//header[@class='masthead']/a[@class='brand']") and doc.xpath("//style")
    assert doc.xpath("string(//main//h1)") == "This story has been withdrawn"
    assert "Withdrawn headline" not in response.content.decode()


def test_the_navigation_marks_latest_as_current_on_the_home_page_only(client, ingest):
    ingest(story_copy())
    latest = '<a href="/" aria-current="page">Latest</a>'
    assert latest in client.get("/").text
    assert latest not in client.get("/search/?q=cranes").text
    assert latest not in client.get("/archive/").text
