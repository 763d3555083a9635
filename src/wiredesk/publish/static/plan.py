"""Which pages of the tree a change reaches (the rules are the package's docstring), each
rendered through Django's own handler and written into the tree; and the whole tree rebuilt."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import itertools
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import unquote_to_bytes, urlsplit

from django.conf import settings
from django.core.handlers.base import BaseHandler
from django.core.handlers.wsgi import WSGIRequest
from django.http import HttpResponseBase
from django.urls import reverse
from django.utils import timezone

from wiredesk.models import Source, Story
from wiredesk.publish import feeds, queries, websub
from wiredesk.publish.sitemaps import SITEMAPS, ArticleSitemap, NewsSitemap
from wiredesk.publish.static import files, fingerprint

# What each article lists under "More in <section>": its section's newest stories but itself.
LISTED = queries.RELATED
# How many of a listing's newest stories the tree's copy of it can show: its first page, or its feeds.
SHOWN = max(queries.PAGE_SIZE, feeds.LIMIT)
# How many of a section's newest stories the home page can show: those of its block, after the newest.
HOME_BLOCK = queries.HOME_LATEST + queries.HOME_PER_SECTION
# Stories taken at a time: a rebuild renders this many articles under the lock, then records how
# far it went; a pass reads its stories this many at a time (SQLite takes a bounded number of
# variables in one query).
CHUNK = 500


class RenderError(RuntimeError):
    pass


def write(story_ids) -> None:
    """Bring the pages of these stories, and every page they appear on, in step with the database."""
    with files.locked():
        Pass().run(set(story_ids))


def rebuild(progress: Callable[[int, int], None] | None = None) -> int:
    """Render the whole tree again and remove every file Django would not serve. Returns the number
    of pages in the tree; `progress` is told, after each chunk, the articles done and how many
    there are.

    The articles go in chunks by id, each under the lock, so that passes for changes meanwhile
    wait for one chunk, not for the whole tree. After each, the state records the last id done: a
    rebuild stopped (killed) carries on from there, and two at once share the chunks, unless what
    pages are made of has changed since, when it starts over."""
    made_of = fingerprint.made_of()  # before rendering: a change meanwhile brings another rebuild
    site = _Site()
    done = {"made_of": made_of, "after": 0, "articles": 0}
    visible = Story.objects.visible()
    total = visible.count()
    while True:
        with files.locked():
            # Where a rebuild stopped, or where another (the sweep's, beside `wiredesk render`)
            # has got to: they share the work.
            recorded = files.read_state().get("rebuilding")
            if recorded and recorded["made_of"] == made_of and recorded["after"] > done["after"]:
                done = recorded
            chunk = list(visible.filter(pk__gt=done["after"]).order_by("pk").only("pk", "slug", "section")[:CHUNK])
            run = Pass(fresh=True, site=site)
            for story in chunk:
                run.article(story)
            if chunk:
                done = {**done, "after": chunk[-1].pk, "articles": done["articles"] + len(chunk)}
            # The tree now holds older articles than any pass knows of: the next pass that retires
            # a section's older pages looks for them all (`held`).
            files.save_state({**files.read_state(), "rebuilding": done, "held": {}})
        if not chunk:
            break
        if progress:
            progress(min(done["articles"], total), total)
    with files.locked():
        run = Pass(fresh=True, site=site)
        run.run(set())
        count = _clear(run.kept)
        state = files.read_state()
        state.pop("rebuilding", None)
        state.setdefault("caught_up", timezone.now().isoformat())
        state["made_of"] = made_of
        files.save_state(state)
        return count


def _clear(kept: set[Path]) -> int:
    """Remove from the tree every file Django would not serve: the articles of stories readers
    cannot see (or under another slug), and any other file the last pass did not write or find
    right. The articles are read from their folder as they come, a chunk of them a query, never
    all at once. Returns the number of pages left."""
    root, count = files.tree(), 0
    articles = root / "story"
    if articles.is_dir():
        # Removing an entry already read never makes the reading skip or repeat another.
        with os.scandir(articles) as entries:
            for names in itertools.batched((entry.name for entry in entries), CHUNK):
                count += _clear_articles(articles, names)
    folders = [articles]
    for folder, subfolders, names in os.walk(root):
        here = Path(folder)
        if here == root:
            subfolders[:] = [name for name in subfolders if name != articles.name]
        else:
            folders.append(here)
        for name in names:
            file = here / name
            if file in kept:
                count += 1
            elif not (file.suffix == ".gz" and file.with_suffix("") in kept):
                file.unlink()
    for folder in sorted(folders, reverse=True):  # each folder before the one holding it
        with contextlib.suppress(OSError):
            folder.rmdir()  # only if empty
    return count


def _clear_articles(articles: Path, names: Iterable[str]) -> int:
    """What `_clear` does to these entries of the articles' folder; the number of pages kept."""
    slugs = dict(
        Story.objects.visible().filter(pk__in=[int(n) for n in names if n.isdigit()]).values_list("pk", "slug")
    )
    count = 0
    for name in names:
        slug = slugs.get(int(name)) if name.isdigit() else None
        if slug is None or not (articles / name).is_dir():
            files.remove(articles / name)
            continue
        page = files.at(reverse("article", args=[int(name), slug]))
        for folder, wanted in ((articles / name, {slug}), (page.parent, {page.name, page.name + ".gz"})):
            with contextlib.suppress(FileNotFoundError, NotADirectoryError), os.scandir(folder) as entries:
                for entry in [entry for entry in entries if entry.name not in wanted]:
                    files.remove(Path(entry.path))
        count += page.is_file()
    return count


class _Site:
    """Django's own request handler, middleware and all, asked as readers of WIREDESK_BASE_URL ask."""

    def __init__(self):
        base = urlsplit(settings.WIREDESK["BASE_URL"])
        self.origin = f"{base.scheme}://{base.netloc}"
        self.handler = BaseHandler()
        self.handler.load_middleware()
        self.environ = {
            "REQUEST_METHOD": "GET",
            "HTTP_HOST": base.netloc,
            "SERVER_NAME": base.hostname,
            "SERVER_PORT": str(base.port or (443 if base.scheme == "https" else 80)),
            "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.url_scheme": base.scheme,
        }

    def get(self, path: str) -> HttpResponseBase:
        # The path as a WSGI server passes it on: percent-decoded, its bytes read as Latin-1.
        environ = {**self.environ, "PATH_INFO": unquote_to_bytes(path).decode("iso-8859-1"), "wsgi.input": io.BytesIO()}
        # Never closed, unlike a server's answers: closing sends request_finished, on which Django
        # closes a database connection that is in a transaction or past CONN_MAX_AGE, and the
        # rendering goes on using it.
        return self.handler.get_response(WSGIRequest(environ))


class Pass:
    """One writing of the tree, under the lock.

    What it renders is bounded by the pages the change reaches, whatever the number of stories.
    The state beside the tree records, for each listing in it (home, latest, each front), the
    newest stories its copy can show and its number of pages, so that a listing is rendered only
    when one of those changed; for each section, the articles of it the tree holds (`held`), so
    that its older pages leave without looking through every article; and when the news sitemap
    was written, so that it is rendered only for a story that could be in it."""

    def __init__(self, fresh: bool = False, site: _Site | None = None):
        self.site = site or _Site()
        # A fresh pass knows nothing of what the tree held, so it renders every listing and sitemap.
        self.fresh = fresh
        self.state = {} if fresh else files.read_state()
        self.kept: set[Path] = set()  # the files this pass wrote or found right (but articles)
        # The stories whose page this pass rendered: the section it shows them in, or None if gone.
        self.rendered: dict[int, str | None] = {}
        self.present: set[int] | None = None  # the stories with a folder in the tree, once looked at
        self.feeds: set[str] = set()  # the feeds this pass rendered
        self.changed: set[str] = set()  # the addresses whose file this pass wrote anew
        # A section missing here is one whose articles in the tree nobody counted since a rebuild.
        self.held = {slug: set(pks) for slug, pks in self.state.get("held", {}).items()}

    def run(self, story_ids: set[int]) -> None:
        started = timezone.now()
        stories = [
            story
            for ids in itertools.batched(sorted(story_ids), CHUNK)
            for story in Story.objects.filter(pk__in=ids).select_related("source")
        ]
        sections = [slug for slug, _ in queries.sections()]
        known = self.state.get("sections")
        # Every page shows the list of sections: when it changes, all of them change.
        every = known != sections
        newest = {slug: list(queries.live_stories().filter(section=slug)[:HOME_BLOCK]) for slug in sections}
        listings = {slug: _listing(newest[slug]) for slug in sections}
        before = self.state.get("listings", {})
        for story in stories:
            self.article(story)
        for slug in sections:
            if every or listings[slug] != before.get(slug):
                for story in newest[slug][: LISTED + 1]:
                    self.article(story)
            if not self.fresh and (every or listings[slug][:LISTED] != before.get(slug, [])[:LISTED]):
                self._retire(slug, sections)
        if every and set(known or ()) - set(sections):
            # A section went, and older pages still link to it.
            self._retire(None, sections)
        self._sitemaps(stories, every, started)
        shown = self._listings(stories, sections, newest, every)
        self.held = {slug: pks for slug, pks in self.held.items() if slug in sections}
        files.save_state(
            {
                **{key: value for key, value in files.read_state().items() if key != "fronts"},
                "sections": sections,
                "listings": listings,
                **shown,
                "held": {} if self.fresh else {slug: sorted(pks) for slug, pks in self.held.items()},
                **({"news_at": self.state["news_at"]} if "news_at" in self.state else {}),
            }
        )
        websub.notify([self.site.origin + path for path in sorted(self.feeds & self.changed)])

    def _sitemaps(self, stories: list[Story], every: bool, started) -> None:
        """The sitemaps a change can reach. The tree holds the first page of each: the article
        sitemap's lists the first block of ids stored, the news sitemap's the stories of its
        window; the index counts every sitemap's pages, which any change may move."""
        first = ArticleSitemap().paginator.first
        news_at = self.state.get("news_at")
        # A story published before the news sitemap was last written, less its window, was out
        # of it then and is now.
        since = news_at and dt.datetime.fromisoformat(news_at) - NewsSitemap.window
        reached = {
            "fronts": every,
            "articles": every or first is None or any(story.pk < first + ArticleSitemap.limit for story in stories),
            "news": every or not since or any((story.published_at or since) >= since for story in stories),
        }
        if every:
            self.page(reverse("robots-txt"))
        self.page(reverse("sitemap-index"))
        for name in SITEMAPS:
            if reached.get(name, True):
                self.page(reverse("sitemap", args=[name]))
        if reached["news"]:
            self.state["news_at"] = started.isoformat()

    def _listings(self, stories: list[Story], sections: list[str], newest: dict, every: bool) -> dict:
        """Render the listings whose copy in the tree changes: those a changed story is or was
        among the newest of, or whose number of pages moved. Returns what the state keeps of them."""
        changed = {story.pk for story in stories}
        shown, pages = dict(self.state.get("shown", {})), dict(self.state.get("pages", {}))
        keys = {
            "home",
            "latest",
            *(f"section:{story.section}" for story in stories),
            *(f"source:{story.source.slug}" for story in stories),
            *(key for key, pks in shown.items() if changed & set(pks)),
        }
        if every:
            keys |= {f"section:{slug}" for slug in {*sections, *self.state.get("sections", [])}}
            keys |= {f"source:{slug}" for slug in Source.objects.values_list("slug", flat=True)}
        for key in sorted(keys):
            kind, _, slug = key.partition(":")
            after, count = _shows(kind, slug, newest)
            if not (every or after != shown.get(key) or changed & set(after) or count != pages.get(key)):
                continue
            args = [slug] if slug else []
            feed_paths = [reverse(f"{kind}-feed-{name}", args=args) for name in feeds.FORMATS if kind != "latest"]
            if self.scope(reverse(kind, args=args), feed_paths, empty=not after):
                shown[key], pages[key] = after, count
            else:
                shown.pop(key, None)
                pages.pop(key, None)
        return {"shown": shown, "pages": pages}

    def _retire(self, section: str | None, sections: list[str]) -> None:
        """Take out of the tree the pages of this section (of every section, for None) not
        rendered in this pass: they list its newest stories as they were."""
        if section in self.held:
            pks = set(self.held[section])
        else:
            if self.present is None:
                folder = files.tree() / "story"
                with contextlib.suppress(FileNotFoundError), os.scandir(folder) as entries:
                    self.present = {int(entry.name) for entry in entries if entry.name.isdigit()}
                self.present = self.present or set()
            pks = self.present
            if section is not None:
                pks = pks & set(Story.objects.filter(section=section).values_list("pk", flat=True))
        for pk in pks - self.rendered.keys():
            files.remove_story(pk)
        for slug in [section] if section is not None else sections:
            self.held[slug] = {pk for pk, rendered_in in self.rendered.items() if rendered_in == slug}

    def article(self, story: Story) -> None:
        if story.pk in self.rendered:
            return
        shown = self.page(story.get_absolute_url(), keep=False)
        self.rendered[story.pk] = story.section if shown else None
        for pks in self.held.values():
            pks.discard(story.pk)
        if not shown:
            files.remove_story(story.pk)
        elif story.section in self.held:
            self.held[story.section].add(story.pk)

    def scope(self, front: str, feed_paths: list[str], empty: bool = False) -> bool:
        """A front page and its feeds; True if Django answers the front. A feed that lists nothing
        is dated by the clock (Django's feeds say "updated now" when no item gives a time), so
        only Django can answer it."""
        answered = self.page(front)
        for path in feed_paths:
            if answered and not empty:
                self.page(path)
                self.feeds.add(path)
            else:
                files.drop(files.at(path))
        return answered

    def page(self, path: str, keep: bool = True) -> bool:
        """Render one address into the tree; True if Django answers it with a page. The file is
        `kept` (a rebuild keeps it) unless it is an article, which a rebuild looks at apart."""
        response = self.site.get(path)
        file = files.at(path)
        if response.status_code == 200:
            if files.put(file, response.content):
                self.changed.add(path)
            if keep:
                self.kept.add(file)
            return True
        if response.status_code in (301, 404, 410):
            files.drop(file)
            return False
        # A refusal (a Host Django does not accept) or an error: never mistake it for a page gone.
        raise RenderError(f"{path}: Django answered {response.status_code}")


def _listing(stories: list[Story]) -> list:
    """What the six newest stories of a section show on other pages: an article lists the first
    five of them, or the other five when it is one of them."""
    return [
        [story.pk, story.current_id, story.published_at.isoformat(), story.source.name]
        for story in stories[: LISTED + 1]
    ]


def _shows(kind: str, slug: str, newest: dict[str, list[Story]]) -> tuple[list[int], int | None]:
    """The newest stories the copy of a listing in the tree can show, and its number of pages
    (the home page has none). The home page's: the newest, and each section's newest (`newest`)."""
    live = queries.live_stories()
    if kind == "home":
        blocks = (story.pk for stories in newest.values() for story in stories)
        return list(dict.fromkeys([*live.values_list("pk", flat=True)[:SHOWN], *blocks])), None
    listed = live.filter(**{"section": {"section": slug}, "source": {"source__slug": slug}}.get(kind, {}))
    # Counted as the views count (their first page says "Page 1 of N").
    return list(listed.values_list("pk", flat=True)[:SHOWN]), queries.Listing(listed).num_pages
