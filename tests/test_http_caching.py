"""What Django tells browsers and caches: ETags and 304s, Cache-Control for each kind of answer,
compressed text. (nginx sending the same for the static tree: tests/test_static_tree.py.)"""

import gzip

import pytest
from conftest import story_copy

from wiredesk.desk import actions
from wiredesk.models import Story
from wiredesk.publish import caching

GZIP = {"Accept-Encoding": "gzip"}


@pytest.fixture
def site(ingest):
    """Two live stories in one section and a killed one; returns the URLs of each kind of answer.
    Filed today (no date field), so that the 48-hour news sitemap lists them."""
    [first] = ingest(story_copy(date=None))
    ingest(story_copy("Ferry timetable changes", paragraphs=("The ferry company changed its timetable.",), date=None))
    [gone] = ingest(story_copy("Dam inspection finds cracks", paragraphs=("Inspectors found cracks.",), date=None))
    actions.kill(Story.objects.get(slug="dam-inspection-finds-cracks"), "legal")
    return {
        "article": first.url,
        "home": "/",
        "section": "/section/news/",
        "source": "/source/ians/",
        "rss": "/feeds/rss.xml",
        "atom": "/section/news/atom.xml",
        "json": "/feeds/feed.json",
        "sitemap index": "/sitemap.xml",
        "articles sitemap": "/sitemaps/articles.xml",
        "news sitemap": "/sitemaps/news.xml",
        "robots": "/robots.txt",
        "killed": gone.url,
    }


PAGES = [
    "article",
    "home",
    "section",
    "source",
    "rss",
    "atom",
    "json",
    "sitemap index",
    "articles sitemap",
    "news sitemap",
]


@pytest.mark.parametrize("kind", PAGES)
def test_every_page_has_an_etag_over_its_bytes_and_no_date_that_could_lie(client, site, kind):
    response = client.get(site[kind])
    assert response.status_code == 200
    assert response["ETag"].startswith('"')
    assert "Last-Modified" not in response
    assert response["Cache-Control"] == caching.PAGE
    again = client.get(site[kind], headers={"If-None-Match": response["ETag"]})
    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == response["ETag"] and again["Cache-Control"] == caching.PAGE
    assert client.get(site[kind], headers={"If-None-Match": '"something-else"'}).status_code == 200


def test_a_kill_changes_the_etag_of_every_page_that_listed_the_story(client, ingest):
    ingest(story_copy())
    # Filed today (no date field): the news sitemap lists only the last 48 hours' stories.
    [result] = ingest(story_copy("Dam inspection finds cracks", paragraphs=("Inspectors found cracks.",), date=None))
    urls = ["/", "/section/news/", "/feeds/rss.xml", "/sitemaps/news.xml"]
    tags = {url: client.get(url)["ETag"] for url in urls}
    actions.kill(Story.objects.get(slug="dam-inspection-finds-cracks"), "legal")
    for url in urls:
        response = client.get(url, headers={"If-None-Match": tags[url]})
        assert response.status_code == 200 and b"Dam inspection" not in response.content, url
    assert client.get(result.url, headers={"If-None-Match": tags["/"]}).status_code == 410


def test_cache_control_suits_each_kind_of_answer(client, site):
    assert client.get(site["killed"])["Cache-Control"] == caching.GONE == "public, max-age=3600"
    assert client.get("/no/such/page/")["Cache-Control"] == caching.NOT_FOUND
    assert client.get("/story/999999/nothing/")["Cache-Control"] == caching.NOT_FOUND
    assert client.get("/search/?q=ferry")["Cache-Control"] == caching.SEARCH
    assert client.get("/robots.txt")["Cache-Control"] == caching.PAGE
    moved = client.get(site["article"].rstrip("/"))  # no trailing slash: Django's redirect
    assert moved.status_code == 301 and moved["Cache-Control"] == caching.PAGE
    # A refused Host must not be kept by any cache.
    assert client.get("/", headers={"Host": "elsewhere.example"})["Cache-Control"] == caching.OTHER


def test_a_kill_leaves_caches_within_ninety_seconds():
    fresh, stale = (int(part.split("=")[1]) for part in caching.PAGE.split(", ")[1:])
    assert fresh + stale <= 90


@pytest.mark.parametrize("kind", [*PAGES, "killed"])
def test_text_is_compressed_for_clients_that_ask_and_decodes_to_the_same_bytes(client, site, kind):
    plain = client.get(site[kind])
    packed = client.get(site[kind], headers=GZIP)
    assert packed["Content-Encoding"] == "gzip" and "Accept-Encoding" in packed["Vary"]
    assert "Content-Encoding" not in plain
    assert gzip.decompress(packed.content) == plain.content
    assert len(packed.content) < len(plain.content)
    if kind != "killed":
        # The compressed answer's (weak) ETag still matches the page: a 304, not the page again.
        assert packed["ETag"] == f"W/{plain['ETag']}"
        assert client.get(site[kind], headers={**GZIP, "If-None-Match": packed["ETag"]}).status_code == 304
