"""The static tree (wiredesk.publish.static) and nginx serving it with deploy/nginx.conf.

The first tests check the tree alone: after any change, every file in it is Django's answer at
its address. The rest start a real nginx (once a session) in front of Django's live server and
read the site through it, as readers would.
"""

import datetime as dt
import gzip
import hashlib
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import nginx as nginx_server
import pytest
import time_machine
from conftest import REPO, SEED, Hub, desk_env, migrated, story_copy
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone

from wiredesk.desk import actions
from wiredesk.models import ChangeMark, Story
from wiredesk.publish import caching, static, websub
from wiredesk.publish.sitemaps import ArticleSitemap, NewsSitemap
from wiredesk.publish.static import files, fingerprint, marks, plan

CONF = REPO / "deploy" / "nginx.conf"


@pytest.fixture
def tree(tmp_path, settings):
    settings.WIREDESK = {**settings.WIREDESK, "STATIC_TREE": tmp_path / "site"}
    return tmp_path / "site"


def django(path: str):
    """Django's answer at `path`, asked as the tree asks it."""
    return Client(HTTP_HOST=django_settings.WIREDESK["BASE_URL"].split("://", 1)[1]).get(path)


def address(file: Path, root: Path) -> str:
    relative = file.relative_to(root).as_posix()
    return "/" + relative.removesuffix("index.html")


def assert_tree_is_djangos(root: Path) -> set[str]:
    """Every file in the tree is Django's answer at its address now, and its gzip copy packs the
    same bytes. Returns the addresses the tree holds."""
    held = set()
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        if file.suffix == ".gz":
            assert gzip.decompress(file.read_bytes()) == file.with_suffix("").read_bytes(), file
            continue
        path = address(file, root)
        response = django(path)
        assert response.status_code == 200, path
        assert response.content == file.read_bytes(), path
        held.add(path)
    return held


def ninjs(uri, headline, text, *, category="News", **fields) -> bytes:
    return json.dumps(
        {
            "uri": uri,
            "headline": headline,
            "body_text": text,
            "language": "en",
            "subject": [{"name": category, "literal": f"category:{category}"}],
            **fields,
        }
    ).encode()


def publish(n: int, category="News", *, ingest, hours_ago=0):
    """`n` stories in one section, a minute apart, the newest last."""
    results = []
    for i in range(n):
        # Words of their own, or the desk would take them for copies of one another.
        words = " ".join(hashlib.sha1(f"{category}{i}{k}".encode()).hexdigest()[:8] for k in range(12))
        first = timezone.now() - dt.timedelta(hours=hours_ago, minutes=n - i)
        results += ingest(
            ninjs(
                f"urn:t:{category}:{i}",
                f"{category} story number {i}",
                f"PORT SALVIN (HP) - {words}.",
                category=category,
                firstcreated=first.isoformat(),
            ),
            source="hp",
        )
    return results


# The tree alone -----------------------------------------------------------------------------


def test_a_published_story_is_written_with_its_fronts_feeds_and_sitemaps(
    db, tree, ingest, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        [result] = ingest(story_copy())
    held = assert_tree_is_djangos(tree)
    assert {
        result.url,
        "/",
        "/section/news/",
        "/source/ians/",
        "/robots.txt",
        "/sitemap.xml",
        "/sitemaps/articles.xml",
        "/sitemaps/news.xml",
        "/sitemaps/fronts.xml",
    } <= held
    for scope in ("/feeds/", "/section/news/", "/source/ians/"):
        assert {scope + name for name in ("rss.xml", "atom.xml", "feed.json")} <= held
    assert (tree / "index.html.gz").exists() and not (tree / "robots.txt.gz").exists()  # too small to pack
    assert files.read_state()["mark"] == ChangeMark.objects.latest("pk").pk  # every mark rendered


def test_a_kill_takes_the_story_off_every_page_of_the_tree(db, tree, ingest, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        publish(9, ingest=ingest)
        [killed] = ingest(
            ninjs("urn:t:dam", "Cracks found in the dam", "NORDHAVEN (HP) - Inspectors found cracks."), source="hp"
        )
    assert killed.url in assert_tree_is_djangos(tree)
    with django_capture_on_commit_callbacks(execute=True):
        actions.kill(Story.objects.get(uri="urn:t:dam"), "legal")
    held = assert_tree_is_djangos(tree)
    assert killed.url not in held
    assert not any(
        b"Cracks found" in file.read_bytes() or b"urn:t:dam" in file.read_bytes()
        for file in tree.rglob("*")
        if file.is_file() and file.suffix != ".gz"
    )
    # The six newest pages of the section (which list each other) stay in the tree.
    newest = Story.objects.visible().filter(section="news").order_by("-published_at")[:6]
    assert {story.get_absolute_url() for story in newest} <= held


def test_older_pages_of_a_section_leave_the_tree_when_its_newest_stories_change(
    db, tree, ingest, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        publish(9, ingest=ingest, hours_ago=1)
        publish(2, "Sport", ingest=ingest, hours_ago=1)
    static.rebuild()
    assert len([p for p in assert_tree_is_djangos(tree) if p.startswith("/story/")]) == 11
    with django_capture_on_commit_callbacks(execute=True):
        [new] = ingest(ninjs("urn:t:new", "Brand new story", "PORT SALVIN (HP) - New."), source="hp")
    held = assert_tree_is_djangos(tree)
    articles = {p for p in held if p.startswith("/story/")}
    # News: the six newest, which list one another; Sport's pages never changed.
    assert len(articles) == 6 + 2 and new.url in articles


def test_an_update_that_moves_a_story_to_another_section_takes_it_off_its_old_front(
    db, tree, ingest, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        publish(9, ingest=ingest, hours_ago=1)
        publish(2, "Sport", ingest=ingest, hours_ago=1)
    static.rebuild()
    oldest = Story.objects.get(uri="urn:t:News:0")  # on the News front, not among its six newest
    with django_capture_on_commit_callbacks(execute=True):
        ingest(
            ninjs(
                "urn:t:News:0",
                "News story number 0, now a sports story",
                "PORT SALVIN (HP) - Moved.",
                category="Sport",
                version=2,
            ),
            source="hp",
        )
    oldest.refresh_from_db()
    assert oldest.section == "sport"
    assert {"/section/news/", "/section/sport/"} <= assert_tree_is_djangos(tree)
    assert b"now a sports story" not in (tree / "section/news/index.html").read_bytes()
    assert b"now a sports story" in (tree / "section/sport/index.html").read_bytes()


def test_a_withheld_or_held_story_leaves_the_tree_and_a_release_brings_it_back(
    db, tree, ingest, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        [result] = ingest(story_copy())
        actions.hold(Story.objects.get(), "check the figures")
    assert result.url not in assert_tree_is_djangos(tree)
    with django_capture_on_commit_callbacks(execute=True):
        actions.release(Story.objects.get())
    assert result.url in assert_tree_is_djangos(tree)


def test_an_embargo_reaches_the_tree_at_the_sweep_after_its_time(db, tree, ingest, django_capture_on_commit_callbacks):
    static.rebuild()
    at = timezone.now() + dt.timedelta(minutes=5)
    with django_capture_on_commit_callbacks(execute=True):
        [result] = ingest(
            ninjs("urn:t:results", "Shipyard results", "NORDHAVEN (HP) - Orders doubled.", embargoed=at.isoformat()),
            source="hp",
        )
    assert result.outcome == "embargoed"
    assert "Shipyard results" not in (tree / "index.html").read_text()
    static.catch_up(now=at - dt.timedelta(seconds=1))
    static.render_pending()
    assert not (tree / "story").exists()
    with time_machine.travel(at + dt.timedelta(seconds=1), tick=False):
        static.catch_up()
        held = assert_tree_is_djangos(tree)
    story = Story.objects.get()
    assert story.get_absolute_url() in held
    assert "Shipyard results" in (tree / "index.html").read_text()


def test_a_kill_whose_worker_died_before_writing_is_caught_up_by_the_sweep(db, tree, ingest):
    [result] = ingest(story_copy())
    static.rebuild()
    actions.kill(Story.objects.get(), "legal")  # its commit is never reported: the worker died
    page = tree / result.url.lstrip("/") / "index.html"
    assert page.exists()
    static.catch_up()
    assert not page.exists() and result.url not in assert_tree_is_djangos(tree)
    assert files.read_state()["mark"] == ChangeMark.objects.latest("pk").pk


def test_a_mark_whose_transaction_commits_after_a_newer_ones_is_rendered_all_the_same(db, tree, ingest):
    publish(2, ingest=ingest, hours_ago=1)
    late = publish(8, "Sport", ingest=ingest, hours_ago=1)[0]  # older than the six its section's pages list
    [early] = ingest(ninjs("urn:t:dam", "Cracks found in the dam", "NORDHAVEN (HP) - Cracks."), source="hp")
    static.rebuild()
    actions.kill(Story.objects.get(uri=late.uri), "legal")
    actions.kill(Story.objects.get(uri=early.uri), "legal")
    first = ChangeMark.objects.order_by("-pk")[1]
    # PostgreSQL numbered the first kill's mark before the second's, which committed first.
    ChangeMark.objects.filter(pk=first.pk).delete()
    assert static.render_pending() == 1
    assert not (tree / early.url.lstrip("/")).exists() and (tree / late.url.lstrip("/")).exists()
    ChangeMark.objects.create(pk=first.pk, story_id=first.story_id, created_at=first.created_at)  # it commits
    assert static.render_pending() == 1
    assert late.url not in assert_tree_is_djangos(tree)
    assert files.read_state()["gaps"] == {}


def test_a_kill_through_one_host_leaves_every_hosts_tree(db, ingest, settings, tmp_path):
    [result] = ingest(story_copy())
    trees = [tmp_path / host / "site" for host in ("a", "b", "c")]
    for tree in trees:
        settings.WIREDESK = {**settings.WIREDESK, "STATIC_TREE": tree}
        static.rebuild()
        assert result.url in assert_tree_is_djangos(tree)
    actions.kill(Story.objects.get(), "legal")  # through host a, whose commit its own tree heard of
    for tree in trees:
        settings.WIREDESK = {**settings.WIREDESK, "STATIC_TREE": tree}
        static.render_pending()  # each host's follower, at its next look
        assert result.url not in assert_tree_is_djangos(tree)


def test_marks_older_than_any_follower_lags_are_pruned_and_a_tree_that_slept_longer_is_rebuilt(
    db, tree, ingest, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        [result] = ingest(story_copy())
    static.catch_up()
    assert ChangeMark.objects.exists()
    (tree / "stray.html").write_text("left by a tree that slept")
    static.catch_up(now=timezone.now() + marks.MARK_AGE + dt.timedelta(minutes=1))
    assert not ChangeMark.objects.exists()
    assert not (tree / "stray.html").exists() and result.url in assert_tree_is_djangos(tree)


# A stand-in for the renderer process (`static.follow`): it holds the follower lock until its stdin closes.
FOLLOWER = (
    "import fcntl, sys; held = open(sys.argv[1], 'a'); fcntl.flock(held, fcntl.LOCK_EX); print(flush=True); "
    "sys.stdin.read()"
)


def test_while_a_renderer_follows_commits_leave_it_their_marks_and_take_only_hidden_articles_down(
    db, tree, ingest, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        [killed] = ingest(story_copy())
    assert not static.followed() and killed.url in assert_tree_is_djangos(tree)  # no follower: rendered at once
    lock = tree.parent / "site.state" / "follower"
    with subprocess.Popen(
        [sys.executable, "-c", FOLLOWER, lock], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    ) as renderer:
        renderer.stdout.readline()
        assert static.followed()
        with django_capture_on_commit_callbacks(execute=True):
            [new] = ingest(ninjs("urn:t:new", "Brand new story", "PORT SALVIN (HP) - New."), source="hp")
            actions.kill(Story.objects.get(uri=killed.uri), "legal")
        assert ChangeMark.objects.filter(pk__gt=files.read_state()["mark"]).count() == 2  # left for the renderer
        assert not (tree / killed.url.lstrip("/")).exists()  # hidden: taken down at once
        assert not (tree / new.url.lstrip("/")).exists()
        renderer.stdin.close()
    assert not static.followed()
    assert static.render_pending() == 2
    assert new.url in assert_tree_is_djangos(tree)


def test_the_sweep_rebuilds_the_tree_when_a_sources_seo_setting_changes(db, tree, ingest, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    [result] = ingest(story_copy())
    static.catch_up()
    page = tree / result.url.lstrip("/") / "index.html"
    assert b"noindex" not in page.read_bytes()
    static.catch_up()
    assert_tree_is_djangos(tree)
    (tmp_path / "sources.toml").write_text('[sources.ians]\nseo = "noindex"\n')
    static.catch_up()
    assert b"noindex" in page.read_bytes()
    assert_tree_is_djangos(tree)


def test_a_rebuild_removes_what_django_would_not_serve(db, tree, ingest):
    [result] = ingest(story_copy())
    for stray in ("story/999/gone/index.html", "section/old/index.html", "leftover.txt", "feeds/.rss.xml.x1"):
        (tree / stray).parent.mkdir(parents=True, exist_ok=True)
        (tree / stray).write_text("stale")
    static.rebuild()
    held = assert_tree_is_djangos(tree)
    assert result.url in held and not (tree / "story" / "999").exists() and not (tree / "section" / "old").exists()


@pytest.fixture
def hub(settings, monkeypatch):
    """A WebSub hub on localhost, named in the settings: yields (notices it took, each a dict of
    the form's fields; the lists of feed URLs the desk told it of, one per pass)."""
    server, told = Hub(), []
    settings.WIREDESK = {**settings.WIREDESK, "WEBSUB_HUB": server.url}
    real = websub.notify

    def notify(urls):
        told.append(urls)
        thread = real(urls)
        if thread:
            thread.join(10)
        return thread

    monkeypatch.setattr(websub, "notify", notify)
    yield server.notices, told
    server.close()


def test_the_websub_hub_is_told_of_the_feeds_a_change_changed_and_of_no_others(
    db, tree, ingest, hub, django_capture_on_commit_callbacks
):
    notices, told = hub
    with django_capture_on_commit_callbacks(execute=True):
        [result] = ingest(story_copy())
    notice = notices.get(timeout=10)
    base = django_settings.WIREDESK["BASE_URL"].rstrip("/")
    assert notice["hub.mode"] == ["publish"]
    assert sorted(notice["hub.url"]) == sorted(
        f"{base}{scope}{name}"
        for scope in ("/feeds/", "/section/news/", "/source/ians/")
        for name in ("rss.xml", "atom.xml", "feed.json")
    )
    static.write([Story.objects.get().pk])  # the same pages again: no feed changed
    assert told[-1] == [] and notices.empty()


def test_a_hub_that_is_down_costs_a_line_in_the_log_and_nothing_else(
    db, tree, ingest, hub, settings, caplog, django_capture_on_commit_callbacks
):
    settings.WIREDESK = {**settings.WIREDESK, "WEBSUB_HUB": "http://127.0.0.1:9/"}  # discard: nobody listens
    with django_capture_on_commit_callbacks(execute=True):
        [result] = ingest(story_copy())
    assert result.url in assert_tree_is_djangos(tree)
    assert "websub: http://127.0.0.1:9/ could not be told of 9 changed feeds" in caplog.text


def test_a_page_changed_within_the_same_second_still_changes_its_etag_for_nginx(tmp_path):
    page, packed = tmp_path / "index.html", tmp_path / "index.html.gz"

    def etags():  # as nginx makes them: the mtime in whole seconds and the size
        return [(int(file.stat().st_mtime), file.stat().st_size) for file in (page, packed)]

    first = b"x" * files.GZIP_MIN
    files.put(page, first)
    before = etags()
    files.put(page, first.replace(b"x", b"y"))  # the same sizes, plain and packed, at once
    after = etags()
    assert after[0] != before[0] and after[1] != before[1]
    written = page.stat().st_mtime_ns
    files.put(page, first.replace(b"x", b"y"))
    assert page.stat().st_mtime_ns == written  # the same bytes keep their ETag


def test_a_refused_host_is_an_error_not_a_page_gone(db, tree, ingest, settings):
    [result] = ingest(story_copy())
    static.rebuild()
    settings.WIREDESK = {**settings.WIREDESK, "BASE_URL": "https://elsewhere.example"}
    with pytest.raises(static.RenderError):
        static.write([Story.objects.get().pk])
    assert (tree / result.url.lstrip("/") / "index.html").exists()


# What a pass renders: the pages a change reaches, whatever the number of stories ---------------


@pytest.fixture
def rendered(monkeypatch):
    """The addresses the tree's passes ask Django for, as they ask."""
    asked = []
    real = plan._Site.get

    def get(site, path):
        asked.append(path)
        return real(site, path)

    monkeypatch.setattr(plan._Site, "get", get)
    return asked


def test_a_kill_far_down_the_listings_renders_a_listing_only_when_its_number_of_pages_moves(
    db, tree, ingest, rendered, django_capture_on_commit_callbacks
):
    # 61 stories: three pages of 30; the oldest are on no listing's first page nor in any feed.
    publish(61, ingest=ingest, hours_ago=72)
    static.rebuild()
    oldest = list(Story.objects.order_by("published_at")[:2])
    rendered.clear()
    with django_capture_on_commit_callbacks(execute=True):
        actions.kill(oldest[0], "legal")  # 60 left: two pages
    assert_tree_is_djangos(tree)
    fronts = {"/latest/", "/section/news/", "/source/hp/"}
    assert fronts <= set(rendered) and "/" not in rendered and "/feeds/rss.xml" not in rendered
    assert "/sitemaps/news.xml" not in rendered  # three days old: out of the news sitemap's window
    rendered.clear()
    with django_capture_on_commit_callbacks(execute=True):
        actions.kill(oldest[1], "legal")  # 59: still two pages
    assert_tree_is_djangos(tree)
    assert set(rendered) == {oldest[1].get_absolute_url(), "/sitemap.xml", "/sitemaps/articles.xml"}


def test_a_new_story_renders_its_own_section_and_source_but_no_other(
    db, tree, ingest, rendered, django_capture_on_commit_callbacks
):
    publish(3, ingest=ingest, hours_ago=1)
    publish(2, "Sport", ingest=ingest, hours_ago=1)
    static.rebuild()
    rendered.clear()
    with django_capture_on_commit_callbacks(execute=True):
        [new] = ingest(ninjs("urn:t:new", "Brand new story", "PORT SALVIN (HP) - New."), source="hp")
    held = assert_tree_is_djangos(tree)
    assert {new.url, "/", "/latest/", "/section/news/", "/source/hp/", "/sitemaps/news.xml"} <= set(rendered)
    assert not any(path.startswith("/section/sport/") for path in rendered)
    assert "/robots.txt" not in rendered and "/sitemaps/fronts.xml" not in rendered
    assert "/section/sport/" in held


def test_the_article_sitemap_is_rendered_only_for_a_story_on_its_first_page(
    db, tree, ingest, rendered, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(ArticleSitemap, "limit", 4)  # Django's pages and the tree's alike
    publish(9, ingest=ingest, hours_ago=72)
    static.rebuild()
    stories = list(Story.objects.order_by("pk"))
    rendered.clear()
    with django_capture_on_commit_callbacks(execute=True):
        actions.kill(stories[6], "legal")  # on the second page, which only Django serves
    assert "/sitemaps/articles.xml" not in rendered and "/sitemap.xml" in rendered
    assert_tree_is_djangos(tree)
    with django_capture_on_commit_callbacks(execute=True):
        actions.kill(stories[1], "legal")
    assert "/sitemaps/articles.xml" in rendered
    assert stories[1].get_absolute_url().encode() not in (tree / "sitemaps/articles.xml").read_bytes()
    assert_tree_is_djangos(tree)


def test_the_news_sitemap_is_rendered_for_a_story_that_leaves_its_window(db, tree, ingest, rendered):
    [story] = publish(1, ingest=ingest)
    static.rebuild()
    assert story.url.encode() in (tree / "sitemaps/news.xml").read_bytes()
    later = timezone.now() + NewsSitemap.window + dt.timedelta(minutes=5)
    with time_machine.travel(later, tick=False):
        static.catch_up()
        assert story.url.encode() not in (tree / "sitemaps/news.xml").read_bytes()
        assert_tree_is_djangos(tree)


def test_after_a_section_is_cleared_its_older_pages_are_known_without_reading_the_tree(
    db, tree, ingest, monkeypatch, django_capture_on_commit_callbacks
):
    publish(9, ingest=ingest, hours_ago=1)
    static.rebuild()  # every article in the tree
    with django_capture_on_commit_callbacks(execute=True):
        [first] = ingest(ninjs("urn:t:first", "First new story", "PORT SALVIN (HP) - New."), source="hp")
    newest = Story.objects.visible().filter(section="news").order_by("-published_at", "-pk")[:6]
    assert sorted(files.read_state()["held"]["news"]) == sorted(story.pk for story in newest)
    real = os.scandir

    def scandir(path="."):
        assert isinstance(path, int) or Path(path) != tree / "story", "a pass read through every article"
        return real(path)

    monkeypatch.setattr(plan.os, "scandir", scandir)
    with django_capture_on_commit_callbacks(execute=True):
        [second] = ingest(ninjs("urn:t:second", "Second new story", "PORT SALVIN (HP) - Newer."), source="hp")
    articles = {p for p in assert_tree_is_djangos(tree) if p.startswith("/story/")}
    assert second.url in articles and len(articles) == 6


# The whole tree again ----------------------------------------------------------------------------


def test_a_rebuild_stopped_midway_carries_on_where_it_stopped(db, tree, ingest, rendered, monkeypatch):
    publish(7, ingest=ingest, hours_ago=1)
    monkeypatch.setattr(plan, "CHUNK", 3)
    told = []

    def stop_after_two_chunks(done, total):
        told.append((done, total))
        if len(told) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        static.rebuild(stop_after_two_chunks)
    assert told == [(3, 7), (6, 7)]
    stories = list(Story.objects.order_by("pk"))
    assert files.read_state()["rebuilding"]["after"] == stories[5].pk
    rendered.clear()
    assert static.rebuild(lambda done, total: told.append((done, total))) > 7
    assert told[2:] == [(7, 7)]
    articles = [path for path in rendered if path.startswith("/story/")]
    # The last story, then the section's six newest for its front: none of the first six again but those.
    assert articles[0] == stories[6].get_absolute_url()
    held = assert_tree_is_djangos(tree)
    assert {story.get_absolute_url() for story in stories} <= held
    assert "rebuilding" not in files.read_state()


def test_two_rebuilds_at_once_share_the_articles(db, tree, ingest, rendered, monkeypatch):
    publish(9, ingest=ingest, hours_ago=1)
    monkeypatch.setattr(plan, "CHUNK", 3)
    stories = list(Story.objects.order_by("pk"))

    def stop(done, total):
        raise KeyboardInterrupt

    def meanwhile(done, total):
        if done == 3:  # the sweep's rebuild starts beside this one, and is stopped after a chunk
            with pytest.raises(KeyboardInterrupt):
                static.rebuild(stop)
            rendered.clear()

    static.rebuild(meanwhile)
    articles = [path for path in rendered if path.startswith("/story/")]
    # The last chunk, then the section's six newest for its front: the second chunk is not done again.
    assert articles[:3] == [story.get_absolute_url() for story in stories[6:]]
    assert {story.get_absolute_url() for story in stories} <= assert_tree_is_djangos(tree)


def test_a_rebuild_stopped_then_made_of_other_things_starts_over(db, tree, ingest, rendered, monkeypatch):
    publish(4, ingest=ingest, hours_ago=1)
    monkeypatch.setattr(plan, "CHUNK", 3)

    def stop(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        static.rebuild(stop)
    monkeypatch.setattr(fingerprint, "made_of", lambda: "other templates")
    rendered.clear()
    static.rebuild()
    first = Story.objects.order_by("pk").first()
    assert rendered[0] == first.get_absolute_url()
    assert files.read_state()["made_of"] == "other templates"


def test_a_rebuild_clears_articles_readers_cannot_see_and_addresses_that_moved(
    db, tree, ingest, monkeypatch, django_capture_on_commit_callbacks
):
    publish(3, ingest=ingest, hours_ago=1)
    static.rebuild()
    killed, kept, _ = Story.objects.order_by("pk")
    with django_capture_on_commit_callbacks(execute=True):
        actions.kill(killed, "legal")
    stale = {
        tree / "story" / str(kept.pk + 100),  # a file, where a story's folder would be
        tree / killed.get_absolute_url().lstrip("/") / "index.html",
        tree / "story" / str(kept.pk) / "old-slug" / "index.html",
        tree / kept.get_absolute_url().lstrip("/") / ".index.html.x1",
    }
    for file in stale:
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text("stale")
    monkeypatch.setattr(plan, "CHUNK", 1)  # the folder read a story at a time
    static.rebuild()
    assert not any(file.exists() for file in stale) and not (tree / "story" / str(killed.pk)).exists()
    assert kept.get_absolute_url() in assert_tree_is_djangos(tree) and tree.is_dir()


@pytest.mark.embedded
def test_wiredesk_render_says_how_far_it_got(tmp_path):
    migrated(tmp_path)
    wiredesk = Path(sys.executable).parent / "wiredesk"
    env = desk_env()
    subprocess.run([wiredesk, "ingest", "--data", str(tmp_path), str(SEED)], env=env, check=True, capture_output=True)
    result = subprocess.run([wiredesk, "render", "--data", str(tmp_path)], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[-1] == "static tree: 1 of 1 articles"
    assert result.stdout.startswith("static tree: ") and (tmp_path / "site" / "index.html").exists()


# Many changes, one pass ----------------------------------------------------------------------


def test_deferred_changes_are_written_in_one_pass_at_the_end_and_a_kill_leaves_at_its_commit(
    db, tree, ingest, rendered, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        [killed] = ingest(story_copy())
    with static.deferred():
        with django_capture_on_commit_callbacks(execute=True):
            news = publish(3, ingest=ingest)
            actions.kill(Story.objects.get(uri=killed.uri), "legal")
        assert not (tree / killed.url.lstrip("/")).exists()  # at its commit
        assert not any((tree / result.url.lstrip("/")).exists() for result in news)
        rendered.clear()
    assert rendered.count("/") == 1  # one pass
    held = assert_tree_is_djangos(tree)
    assert {result.url for result in news} <= held and killed.url not in held
    assert files.read_state()["mark"] == ChangeMark.objects.latest("pk").pk  # every mark rendered


# nginx in front --------------------------------------------------------------------------------


def request(netloc: str, path: str, host: str, **headers) -> tuple[int, dict, bytes]:
    """One GET with exactly these headers (no client's own Accept-Encoding): status, headers, body."""
    server, _, port = netloc.rpartition(":")
    connection = http.client.HTTPConnection(server, int(port), timeout=10)
    try:
        connection.request("GET", path, headers={"Host": host, **headers})
        response = connection.getresponse()
        return response.status, {name.lower(): value for name, value in response.getheaders()}, response.read()
    finally:
        connection.close()


@dataclass(frozen=True)
class Site:
    """nginx, the address readers use, and Django's live server behind it."""

    nginx: str
    django: str
    tree: Path

    def through_nginx(self, path: str, **headers):
        return request(self.nginx, path, self.nginx, **headers)

    def from_django(self, path: str, **headers):
        """Django's own answer, asked for the same host."""
        return request(self.django, path, self.nginx, **headers)


@pytest.fixture(scope="session")
def nginx(live_server, tmp_path_factory):
    """A real nginx with deploy/nginx.conf as shipped, in front of Django's live server."""
    root = tmp_path_factory.mktemp("nginx")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    site = Site(
        nginx=f"127.0.0.1:{port}",
        tree=root / "site",
        django=live_server.url.split("://", 1)[1].replace("localhost", "127.0.0.1"),
    )
    conf = (
        CONF.read_text()
        .replace("@LISTEN@", site.nginx)
        .replace("@TREE@", str(site.tree))
        .replace("@UPSTREAM@", site.django)
    )
    with nginx_server.running(root, conf, port):
        yield site


@pytest.fixture
def site(nginx, settings, transactional_db):
    """The site through nginx, its tree as a desk's first writing leaves it."""
    settings.WIREDESK = {**settings.WIREDESK, "STATIC_TREE": nginx.tree, "BASE_URL": f"http://{nginx.nginx}"}
    for folder in (nginx.tree, nginx.tree.with_name("site.state")):
        shutil.rmtree(folder, ignore_errors=True)
    nginx.tree.mkdir()
    static.rebuild()
    return nginx


# Headers nginx sends with a file from the tree exactly as Django sends them with the page.
SAME = [
    "content-type",
    "cache-control",
    "x-content-type-options",
    "x-frame-options",
    "referrer-policy",
    "cross-origin-opener-policy",
    "x-robots-tag",
]


def test_nginx_serves_the_trees_files_with_djangos_bytes_and_headers(site, ingest):
    news = publish(2, ingest=ingest)
    [sport] = ingest(
        ninjs("urn:t:match", "Harbour club wins the cup", "PORT SALVIN (HP) - The club won.", category="Sport"),
        source="hp",
    )
    paths = [
        news[0].url,
        sport.url,
        "/",
        "/section/news/",
        "/section/sport/",
        "/source/hp/",
        "/robots.txt",
        "/sitemap.xml",
        "/sitemaps/articles.xml",
        "/sitemaps/news.xml",
        "/sitemaps/fronts.xml",
        *(scope + name for scope in ("/feeds/", "/section/sport/") for name in ("rss.xml", "atom.xml", "feed.json")),
    ]
    for path in paths:
        status, headers, body = site.through_nginx(path)
        d_status, d_headers, d_body = site.from_django(path)
        assert status == d_status == 200, path
        assert "last-modified" in headers and "last-modified" not in d_headers, f"{path} is not from the tree"
        assert body == d_body, path
        assert {h: headers.get(h) for h in SAME} == {h: d_headers.get(h) for h in SAME}, path
        assert headers["cache-control"] == caching.PAGE

        # Compressed by both (robots.txt is too short to gain), decoding to the same bytes.
        for server in (site.through_nginx, site.from_django):
            _, packed_headers, packed = server(path, **{"Accept-Encoding": "gzip"})
            if len(body) >= files.GZIP_MIN:
                assert packed_headers["content-encoding"] == "gzip" and gzip.decompress(packed) == body, path
                assert "Accept-Encoding" in packed_headers["vary"]
            else:
                assert packed == body

        # Asked again with what it was told, nginx says nothing changed.
        assert site.through_nginx(path, **{"If-None-Match": headers["etag"]})[0] == 304
        # If-Modified-Since is not enough alone (see deploy/nginx.conf): the page again.
        assert site.through_nginx(path, **{"If-Modified-Since": headers["last-modified"]})[0] == 200
        assert site.through_nginx(path, **{"If-None-Match": '"other"'})[0] == 200


def test_what_the_tree_does_not_hold_nginx_asks_django_for(site, ingest):
    [result] = ingest(story_copy(), source="hp")
    cases = {
        "/search/?q=cranes": (200, caching.SEARCH),
        "/?page=1": (200, caching.PAGE),
        "/topic/nothing/": (404, caching.NOT_FOUND),
        result.url + "index.html": (404, caching.NOT_FOUND),
        "/feeds/rss.xml.gz": (404, caching.NOT_FOUND),
        result.url.rstrip("/"): (301, caching.PAGE),
        "/archive/": (200, caching.PAGE),
    }
    for path, (expected, cache_control) in cases.items():
        status, headers, body = site.through_nginx(path)
        assert (status, headers["cache-control"]) == (expected, cache_control), path
        assert "last-modified" not in headers
        assert body == site.from_django(path)[2], path
        if status == 200:
            # Django's ETag through nginx: a 304 from Django.
            assert site.through_nginx(path, **{"If-None-Match": headers["etag"]})[0] == 304, path
            _, packed_headers, packed = site.through_nginx(path, **{"Accept-Encoding": "gzip"})
            assert packed_headers["content-encoding"] == "gzip" and gzip.decompress(packed) == body


def test_a_killed_story_is_410_through_nginx_with_djangos_gone_page(site, ingest):
    [result] = ingest(
        ninjs("urn:t:dam", "Cracks found in the dam", "NORDHAVEN (HP) - Inspectors found cracks."), source="hp"
    )
    status, headers, _ = site.through_nginx(result.url)
    assert status == 200 and "last-modified" in headers
    actions.kill(Story.objects.get(), "legal")
    killed = time.monotonic()
    assert site.from_django(result.url)[0] == 410  # Django at once
    # nginx looks at the files it keeps open again each second (open_file_cache_valid).
    status, headers, body = within(1.5, lambda: site.through_nginx(result.url), lambda answer: answer[0] != 200)
    assert status == 410 and headers["cache-control"] == caching.GONE
    assert body == site.from_django(result.url)[2] and b"Cracks found" not in body
    for path in ("/", "/feeds/rss.xml", "/sitemaps/news.xml"):
        assert b"Cracks found" not in site.through_nginx(path)[2], path
    assert time.monotonic() - killed < 1.5


def within(seconds, ask, done):
    """Ask until `done` says yes, for `seconds` at most; the last answer."""
    deadline = time.monotonic() + seconds
    while not done(answer := ask()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return answer


def test_an_embargoed_story_is_404_through_nginx_until_its_time_then_served(site, ingest):
    at = timezone.now() + dt.timedelta(seconds=1.5)
    [result] = ingest(
        ninjs("urn:t:results", "Shipyard results", "NORDHAVEN (HP) - Orders doubled.", embargoed=at.isoformat()),
        source="hp",
    )
    assert result.outcome == "embargoed"
    url = Story.objects.get().get_absolute_url()
    status, headers, _ = site.through_nginx(url)
    assert status == 404 and headers["cache-control"] == caching.NOT_FOUND
    assert b"Shipyard results" not in site.through_nginx("/")[2]
    time.sleep(max(0.0, (at - timezone.now()).total_seconds()) + 0.05)
    # At its time Django serves it, before the sweep has written it to the tree.
    status, headers, body = site.through_nginx(url)
    assert status == 200 and "last-modified" not in headers and b"Shipyard results" in body
    static.catch_up()
    status, headers, from_tree = site.through_nginx(url)
    assert status == 200 and "last-modified" in headers and from_tree == site.from_django(url)[2]
    assert b"Shipyard results" in site.through_nginx("/")[2]
