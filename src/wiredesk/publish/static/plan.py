"""Which pages of the tree a change reaches (the rules are the package's docstring), each
rendered through Django's own handler and written into the tree."""

from __future__ import annotations

import contextlib
import io
import os
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
from wiredesk.publish.sitemaps import SITEMAPS
from wiredesk.publish.static import files, fingerprint

# What each article lists under "More in <section>": its section's newest stories but itself.
LISTED = queries.RELATED


class RenderError(RuntimeError):
    pass


def write(story_ids) -> None:
    """Bring the pages of these stories, and every page they appear on, in step with the database."""
    with files.locked():
        Pass().run(set(story_ids))


def rebuild() -> int:
    """Render the whole tree again and remove every file Django would not serve. Returns the number
    of files in the tree."""
    with files.locked():
        made_of = fingerprint.made_of()  # before rendering: a change meanwhile brings another rebuild
        run = Pass(fresh=True)
        run.run(set(Story.objects.visible().values_list("pk", flat=True)))
        for file in [f for f in files.tree().rglob("*") if f.is_file()]:
            if file not in run.kept and not (file.suffix == ".gz" and file.with_suffix("") in run.kept):
                file.unlink()
        for folder in sorted((d for d in files.tree().rglob("*") if d.is_dir()), reverse=True):
            with contextlib.suppress(OSError):
                folder.rmdir()  # only if empty
        state = files.read_state()
        state.setdefault("caught_up", timezone.now().isoformat())
        state["made_of"] = made_of
        files.save_state(state)
        return len(run.kept)


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
    """One writing of the tree, under the lock."""

    def __init__(self, fresh: bool = False):
        self.site = _Site()
        # A fresh pass knows nothing of what the tree held, so it renders every section's pages.
        self.state = {} if fresh else files.read_state()
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
        files.save_state({**files.read_state(), "sections": sections, "listings": listings, "fronts": fronts_held})
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
            folder = files.tree() / "story"
            self.present = {int(e.name) for e in os.scandir(folder) if e.name.isdigit()} if folder.is_dir() else set()
        for pk in (self.present & set(stories.values_list("pk", flat=True))) - self.rendered:
            files.remove_story(pk)

    def article(self, story: Story) -> None:
        if story.pk in self.rendered:
            return
        self.rendered.add(story.pk)
        if not self.page(story.get_absolute_url()):
            files.remove_story(story.pk)

    def scope(self, front: str, feed_paths: list[str], empty: bool = False) -> None:
        """A front page and its feeds. A feed that lists nothing is dated by the clock (Django's
        feeds say "updated now" when no item gives a time), so only Django can answer it."""
        listed = self.page(front) and not empty
        for path in feed_paths:
            if listed:
                self.page(path)
                self.feeds.add(path)
            else:
                files.drop(files.at(path))

    def page(self, path: str) -> bool:
        """Render one address into the tree; True if Django answers it with a page."""
        response = self.site.get(path)
        file = files.at(path)
        if response.status_code == 200:
            if files.put(file, response.content):
                self.changed.add(path)
            self.kept.add(file)
            return True
        if response.status_code in (301, 404, 410):
            files.drop(file)
            return False
        # A refusal (a Host Django does not accept) or an error: never mistake it for a page gone.
        raise RenderError(f"{path}: Django answered {response.status_code}")
