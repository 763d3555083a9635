"""The static tree: the busiest pages as files, for nginx (deploy/nginx.conf) to serve without
asking Django, which answers whatever the tree does not hold.

    index.html                              the home page
    latest/index.html                       the latest stories (first page)
    story/<id>/<slug>/index.html            articles
    section/<slug>/index.html, rss.xml, atom.xml, feed.json
    source/<slug>/index.html, rss.xml, atom.xml, feed.json
    feeds/rss.xml, atom.xml, feed.json
    sitemap.xml, sitemaps/{fronts,articles,news}.xml, robots.txt

Each file is Django's own answer at that address, rendered through its handler for the host of
WIREDESK_BASE_URL, so nginx serves exactly Django's bytes. An address Django does not answer
with 200 has no file: nginx passes it on, and Django says 404, 410 or where it moved. Only the
first page of a listing is kept (nginx passes any query string on). A gzip copy stands beside
each file for nginx's gzip_static. Files are replaced whole (a temporary file renamed over the
old one), so nginx never reads half a page. The feeds a pass changes are announced to the
WebSub hub, if there is one (publish/websub.py).

An article also lists the five newest other stories of its section and every page lists the
sections, so one story changes many pages. After each change the tree is brought back to
Django's answers: the story's page, the six newest pages of every section whose newest stories
changed, the fronts and feeds of its section and source, the home page, the site's feeds and
the sitemaps are rendered again, and the older pages of such a section, which list its five
newest, are taken out of the tree (for Django to serve) rather than rendered: that keeps each
change's cost bounded. A killed story therefore leaves every page of the tree. When the list
of sections changes, every front is rendered again, and when a section goes, every older article
page leaves the tree. The state beside the tree records which stories each front in it lists, so
a story an update moves to another section leaves its old section's front too.

When: `changed` is called inside the transaction that changes a story. It leaves a mark in the
work folder beside the tree before the commit, and once the transaction commits the pages are
written: by the renderer process if one follows the tree (`follow`, under `wiredesk run`, which
takes every mark there is in one pass and holds the follower lock in the work folder for as long
as it follows; an article readers may no longer see leaves the tree at the commit all the same),
else at once, by the process that committed. A crash between the commit and the writing leaves
the mark, which the sweep (`catch_up`) finds. The sweep also renders stories whose publication
time (an embargo) has come since its last run, and the news sitemap when stories age out of it,
since nothing else happens at those times. And it rebuilds the whole tree when what every page
is made of besides the stories has changed: wiredesk's code and templates (an upgrade), the
site's settings, or the sources and sections files (a source's seo setting, a section's name),
which are read without a restart.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import functools
import gzip
import hashlib
import io
import json
import logging
import os
import shutil
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import unquote_to_bytes, urlsplit

from django.conf import settings
from django.core.handlers.base import BaseHandler
from django.core.handlers.wsgi import WSGIRequest
from django.db import close_old_connections, transaction
from django.http import HttpResponseBase
from django.urls import reverse
from django.utils import timezone

import wiredesk
from wiredesk import filing
from wiredesk.config import sources
from wiredesk.lifecycle import State
from wiredesk.models import Source, Story
from wiredesk.publish import feeds, queries, websub
from wiredesk.publish.sitemaps import SITEMAPS, NewsSitemap

log = logging.getLogger(__name__)

# How often the follower looks for marks when it has nothing to do.
FOLLOW_SECONDS = 0.05
# Passes start at most this often: under a burst, one pass takes many changes at once, and
# rendering leaves the processors room to publish. (Articles taken down go at once: `changed`.)
PASS_SECONDS = 0.5

# As Django's GZipMiddleware: below this, compressing gains nothing.
GZIP_MIN = 200
# A mark whose transaction never reported its commit (a crash, or a rollback) is rendered by
# the sweep after this long; transactions are short, so a live one is never this old.
STALE_MARK = 60.0
# What each article lists under "More in <section>": its section's newest stories but itself.
LISTED = queries.RELATED


class RenderError(RuntimeError):
    pass


def tree() -> Path:
    return settings.WIREDESK["STATIC_TREE"]


def _work() -> Path:
    # Beside the tree, not in it, so nginx cannot serve it.
    folder = tree().with_name(tree().name + ".state")
    (folder / "pending").mkdir(parents=True, exist_ok=True)
    return folder


@contextlib.contextmanager
def _locked():
    """One writer at a time, across threads and processes (`wiredesk render` beside a running
    desk): each renders after taking the lock, so the last writer writes the newest state."""
    with open(_work() / "lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _try_lock(handle, kind: int) -> bool:
    try:
        fcntl.flock(handle, kind | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def followed() -> bool:
    """Whether a renderer process follows the marks (`follow`), which it shows by holding the
    follower lock for as long as it does. Committers ask with a shared lock, so that two asking
    at once never take each other for a follower."""
    with open(_work() / "follower", "a") as handle:
        return not _try_lock(handle, fcntl.LOCK_SH)


def _read_state() -> dict:
    try:
        return json.loads((_work() / "state.json").read_text())
    except FileNotFoundError:
        return {}


def _save_state(state: dict) -> None:
    _replace(_work() / "state.json", json.dumps(state).encode(), time.time())


def changed(*story_ids: int) -> None:
    """Call inside the transaction that changes these stories; their pages follow its commit.
    Called through publish.changes, which also empties the kept pages."""
    token = uuid.uuid4().hex
    try:
        marks = [_work() / "pending" / f"{pk}-{token}.pre" for pk in story_ids]
        for mark in marks:
            mark.touch()
    except OSError:
        # A tree that cannot be written must not stop the desk: Django serves every page.
        log.exception("static tree: cannot mark stories %s as changed", story_ids)
        return

    def committed():
        for mark in marks:
            mark.rename(mark.with_suffix(""))
        if followed():
            # The renderer rewrites the pages listing them in its next pass; an article readers
            # may no longer see leaves the tree now, so nginx sends its address to Django at once.
            hidden = set(story_ids) - set(Story.objects.visible().filter(pk__in=story_ids).values_list("pk", flat=True))
            for pk in hidden:
                _remove_story(pk)
        else:
            render_pending()

    # robust: the stories are committed whatever happens to their pages; a failure is logged
    # and its marks stay for the sweep.
    transaction.on_commit(committed, robust=True)


def render_pending() -> int:
    """Write the pages of every story marked as changed. One pass takes every mark there is, so a
    burst of changes is rendered once, not once a change. Returns how many marks it took."""
    with _locked():
        marks = [mark for mark in (_work() / "pending").iterdir() if mark.suffix != ".pre"]
        if marks:
            _Pass().run({int(mark.name.split("-")[0]) for mark in marks})
            for mark in marks:
                mark.unlink(missing_ok=True)
    return len(marks)


def write(story_ids) -> None:
    """Bring the pages of these stories, and every page they appear on, in step with the database."""
    with _locked():
        _Pass().run(set(story_ids))


def rebuild() -> int:
    """Render the whole tree again and remove every file Django would not serve. Returns the number
    of files in the tree."""
    with _locked():
        made_of = _made_of()  # before rendering: a change meanwhile brings another rebuild
        run = _Pass(fresh=True)
        run.run(set(Story.objects.visible().values_list("pk", flat=True)))
        for file in [f for f in tree().rglob("*") if f.is_file()]:
            if file not in run.kept and not (file.suffix == ".gz" and file.with_suffix("") in run.kept):
                file.unlink()
        for folder in sorted((d for d in tree().rglob("*") if d.is_dir()), reverse=True):
            with contextlib.suppress(OSError):
                folder.rmdir()  # only if empty
        state = _read_state()
        state.setdefault("caught_up", timezone.now().isoformat())
        state["made_of"] = made_of
        _save_state(state)
        return len(run.kept)


def _made_of() -> str:
    """A digest of what pages are made of besides the stories."""
    digest = hashlib.sha256(_code().encode())
    site = {name: str(settings.WIREDESK[name]) for name in ("SITE_NAME", "DISCLAIMER", "BASE_URL", "WEBSUB_HUB")}
    digest.update(json.dumps([site, settings.TIME_ZONE, settings.LANGUAGE_CODE]).encode())
    for file in (sources.path(), filing.path()):
        try:
            digest.update(file.read_bytes())
        except FileNotFoundError:
            digest.update(b"-")
    return digest.hexdigest()


@functools.cache
def _code() -> str:
    # Read once a process: the code a process runs does not change under it.
    package = Path(wiredesk.__file__).parent
    digest = hashlib.sha256()
    for file in sorted(package.rglob("*")):
        if file.is_file() and "__pycache__" not in file.parts:
            digest.update(file.relative_to(package).as_posix().encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()


def catch_up(now=None) -> None:
    """The sweep's step: pages that change with time alone, and marks a crash left behind."""
    now = now or timezone.now()
    work = _work()
    with _locked():
        state = _read_state()
        last = state.get("caught_up")
        state["caught_up"] = now.isoformat()
        _save_state(state)
    if last is None or state.get("made_of") != _made_of():
        # A tree never swept (made before this desk first ran, or its folder is new), or one
        # whose pages were made of other code, settings or files.
        rebuild()
        return
    last = dt.datetime.fromisoformat(last)
    live, window = Story.objects.filter(state=State.LIVE).only("pk", "slug"), NewsSitemap.window
    # Stories whose time came since the last sweep, unless already written (most were, when
    # they arrived); and stories that left the news sitemap's window meanwhile.
    lifted = [
        story
        for story in live.filter(published_at__gt=last, published_at__lte=now)
        if not _file(story.get_absolute_url()).exists()
    ]
    aged = live.filter(published_at__gt=last - window, published_at__lte=now - window)
    token = uuid.uuid4().hex
    for story in [*lifted, *aged]:
        (work / "pending" / f"{story.pk}-{token}").touch()
    for mark in (work / "pending").glob("*.pre"):
        with contextlib.suppress(FileNotFoundError):
            if mark.stat().st_mtime < time.time() - STALE_MARK:
                mark.rename(mark.with_suffix(""))
    render_pending()


def follow(stop: threading.Event, sweep_seconds: float) -> None:
    """Keep the tree in step until `stop`: render what is marked as soon as it is, and sweep
    (`catch_up`) every `sweep_seconds`. `wiredesk run` runs this in a process of its own, so that
    rendering, which is the heaviest work a change brings, never holds up publishing."""
    with open(_work() / "follower", "a") as follower:
        # Held until this process stops following: meanwhile commits leave their marks to it.
        # A second desk on the same folder waits for the first to stop.
        while not _try_lock(follower, fcntl.LOCK_EX):
            if stop.wait(FOLLOW_SECONDS):
                return
        next_sweep = 0.0
        while not stop.is_set():
            try:
                started = time.monotonic()
                if started >= next_sweep:
                    next_sweep = started + sweep_seconds
                    catch_up()
                elif render_pending():
                    stop.wait(max(0.0, started + PASS_SECONDS - time.monotonic()))
                else:
                    stop.wait(FOLLOW_SECONDS)
            except Exception:
                # A page that fails to render leaves its marks for the next turn; the loop lives on.
                log.exception("static tree: rendering failed; trying again in %ss", sweep_seconds)
                stop.wait(sweep_seconds)
            finally:
                close_old_connections()


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


class _Pass:
    """One writing of the tree, under the lock."""

    def __init__(self, fresh: bool = False):
        self.site = _Site()
        # A fresh pass knows nothing of what the tree held, so it renders every section's pages.
        self.state = {} if fresh else _read_state()
        self.kept: set[Path] = set()  # the files this pass wrote or found right
        self.rendered: set[int] = set()  # the stories whose page this pass rendered
        self.present: set[int] | None = None  # the stories with a folder in the tree, once looked at
        self.feeds: set[str] = set()  # the feeds this pass rendered
        self.changed: set[str] = set()  # the addresses whose file this pass wrote anew

    def run(self, story_ids: set[int]) -> None:
        stories = list(Story.objects.filter(pk__in=story_ids).select_related("source"))
        sections = [slug for slug, _ in queries.sections()]
        known = self.state.get("sections")
        listings = {slug: self._listing(slug) for slug in sections}
        before = self.state.get("listings", {})
        # Every page shows the list of sections: when it changes, all of them change.
        every = known != sections
        for story in stories:
            self.article(story)
        # A story's fronts: its section's now, and any whose page in the tree lists it (an update
        # may have moved it); and fronts of sections that went.
        listed = self.state.get("fronts", {})
        fronts = (
            {story.section for story in stories}
            | (set(before) - set(sections))
            | {slug for slug, pks in listed.items() if any(story.pk in pks for story in stories)}
        )
        for slug in sections:
            if every or listings[slug] != before.get(slug):
                fronts.add(slug)
                for story in queries.live_stories().filter(section=slug)[: LISTED + 1]:
                    self.article(story)
            if every or listings[slug][:LISTED] != before.get(slug, [])[:LISTED]:
                self._retire(Story.objects.filter(section=slug))
        if every and set(known or ()) - set(sections):
            # A section went, and older pages still link to it.
            self._retire(Story.objects.all())
        sources = (
            Source.objects.all() if every else Source.objects.filter(pk__in={story.source_id for story in stories})
        )
        for path in [
            reverse("robots-txt"),
            reverse("sitemap-index"),
            *(reverse("sitemap", args=[name]) for name in SITEMAPS),
        ]:
            self.page(path)
        self.scope(
            reverse("home"),
            [reverse(f"home-feed-{kind}") for kind in feeds.FORMATS],
            empty=not Story.objects.visible().exists(),
        )
        self.page(reverse("latest"))
        for slug in sorted(fronts):
            self.scope(
                reverse("section", args=[slug]),
                [reverse(f"section-feed-{kind}", args=[slug]) for kind in feeds.FORMATS],
            )
            listed[slug] = list(
                queries.live_stories().filter(section=slug).values_list("pk", flat=True)[: queries.PAGE_SIZE]
            )
        for source in sources:
            self.scope(
                reverse("source", args=[source.slug]),
                [reverse(f"source-feed-{kind}", args=[source.slug]) for kind in feeds.FORMATS],
            )
        fronts_held = {slug: pks for slug, pks in listed.items() if pks and slug in sections}
        _save_state({**_read_state(), "sections": sections, "listings": listings, "fronts": fronts_held})
        websub.notify([self.site.origin + path for path in sorted(self.feeds & self.changed)])

    def _listing(self, section: str) -> list:
        """What the six newest stories of a section show on other pages: an article lists the
        first five of them, or the other five when it is one of them."""
        return [
            [story.pk, story.current_id, story.published_at.isoformat(), story.source.name]
            for story in queries.live_stories().filter(section=section)[: LISTED + 1]
        ]

    def _retire(self, stories) -> None:
        """Take out of the tree the pages of these stories not rendered in this pass."""
        if self.present is None:
            folder = tree() / "story"
            self.present = {int(e.name) for e in os.scandir(folder) if e.name.isdigit()} if folder.is_dir() else set()
        for pk in (self.present & set(stories.values_list("pk", flat=True))) - self.rendered:
            _remove_story(pk)

    def article(self, story: Story) -> None:
        if story.pk in self.rendered:
            return
        self.rendered.add(story.pk)
        if not self.page(story.get_absolute_url()):
            _remove_story(story.pk)

    def scope(self, front: str, feed_paths: list[str], empty: bool = False) -> None:
        """A front page and its feeds. A feed that lists nothing is dated by the clock (Django's
        feeds say "updated now" when no item gives a time), so only Django can answer it."""
        listed = self.page(front) and not empty
        for path in feed_paths:
            if listed:
                self.page(path)
                self.feeds.add(path)
            else:
                _drop(_file(path))

    def page(self, path: str) -> bool:
        """Render one address into the tree; True if Django answers it with a page."""
        response = self.site.get(path)
        file = _file(path)
        if response.status_code == 200:
            if _put(file, response.content):
                self.changed.add(path)
            self.kept.add(file)
            return True
        if response.status_code in (301, 404, 410):
            _drop(file)
            return False
        # A refusal (a Host Django does not accept) or an error: never mistake it for a page gone.
        raise RenderError(f"{path}: Django answered {response.status_code}")


def _remove_story(pk: int) -> None:
    folder = tree() / "story" / str(pk)
    for file in folder.rglob("index.html"):
        _drop(file)  # each page before its folder, so nginx never finds half of one
    shutil.rmtree(folder, ignore_errors=True)


def _file(path: str) -> Path:
    return tree() / (path.lstrip("/") + ("index.html" if path.endswith("/") else ""))


def _put(file: Path, data: bytes) -> bool:
    """Write the page unless the file holds it already; returns whether it wrote."""
    try:
        if file.read_bytes() == data:
            return False  # the same bytes keep their ETag, so caches holding them need not fetch again
    except FileNotFoundError:
        pass
    file.parent.mkdir(parents=True, exist_ok=True)
    packed = file.with_name(file.name + ".gz")
    # Without a time in its header, the same page always packs to the same bytes.
    versions = [(packed, gzip.compress(data, mtime=0) if len(data) >= GZIP_MIN else None), (file, data)]
    stamp = time.time()
    for path, new in versions:
        with contextlib.suppress(FileNotFoundError):
            old = path.stat()
            # nginx's ETag is the size and the mtime in whole seconds: a new version of the same
            # size within the same second would pass for the old one, so its time moves a second on.
            if new is not None and old.st_size == len(new) and int(old.st_mtime) >= int(stamp):
                stamp = int(old.st_mtime) + 1
    for path, new in versions:  # the gzip copy first, so nginx never pairs a new one with an old page
        if new is None:
            path.unlink(missing_ok=True)
        else:
            _replace(path, new, stamp)
    return True


def _drop(file: Path) -> None:
    file.unlink(missing_ok=True)  # first: nginx only serves the gzip copy of a page it finds
    file.with_name(file.name + ".gz").unlink(missing_ok=True)


def _replace(file: Path, data: bytes, stamp: float) -> None:
    handle, temporary = tempfile.mkstemp(dir=file.parent, prefix=f".{file.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temporary, 0o644)  # mkstemp's 0600 would keep nginx's workers out
        os.utime(temporary, (stamp, stamp))
        os.replace(temporary, file)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
