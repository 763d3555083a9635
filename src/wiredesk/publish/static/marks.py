"""The marks a change leaves in the work folder, and who turns them into pages when: the
committer, the renderer process that follows them, or the sweep."""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import logging
import threading
import time
import uuid

from django.db import close_old_connections, transaction
from django.utils import timezone

from wiredesk.lifecycle import State
from wiredesk.models import Story
from wiredesk.publish.sitemaps import NewsSitemap
from wiredesk.publish.static import files, fingerprint, plan

log = logging.getLogger(__name__)

# How often the follower looks for marks when it has nothing to do.
FOLLOW_SECONDS = 0.05
# Passes start at most this often: under a burst, one pass takes many changes at once, and
# rendering leaves the processors room to publish. (Articles taken down go at once: `changed`.)
PASS_SECONDS = 0.5
# A mark whose transaction never reported its commit (a crash, or a rollback) is rendered by
# the sweep after this long; transactions are short, so a live one is never this old.
STALE_MARK = 60.0


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
    with open(files.work() / "follower", "a") as handle:
        return not _try_lock(handle, fcntl.LOCK_SH)


def changed(*story_ids: int) -> None:
    """Call inside the transaction that changes these stories; their pages follow its commit.
    Called through publish.changes, which also empties the kept pages."""
    token = uuid.uuid4().hex
    try:
        marks = [files.work() / "pending" / f"{pk}-{token}.pre" for pk in story_ids]
        for mark in marks:
            mark.touch()
    except OSError:
        # A tree that cannot be written must not stop the desk: Django serves every page.
        log.exception("static tree: cannot mark stories %s as changed", story_ids)
        return

    def committed():
        for mark in marks:
            mark.rename(mark.with_suffix(""))
        if followed() or _deferring:
            # The renderer rewrites the pages listing them in its next pass; an article readers
            # may no longer see leaves the tree now, so nginx sends its address to Django at once.
            hidden = set(story_ids) - set(Story.objects.visible().filter(pk__in=story_ids).values_list("pk", flat=True))
            for pk in hidden:
                files.remove_story(pk)
        else:
            render_pending()

    # robust: the stories are committed whatever happens to their pages; a failure is logged
    # and its marks stay for the sweep.
    transaction.on_commit(committed, robust=True)


# Set while a command leaves its changes' pages to one pass at its end (`deferred`).
_deferring = False


@contextlib.contextmanager
def deferred():
    """For a command that commits many changes one after another (`wiredesk ingest`): meanwhile
    they are left marked, as for a follower, and the pages are written in one pass at the end
    (by the follower, if one runs). Marks a failure leaves behind are taken by the next pass."""
    global _deferring
    _deferring = True
    try:
        yield
    finally:
        _deferring = False
    if not followed():
        render_pending()


def render_pending() -> int:
    """Write the pages of every story marked as changed. One pass takes every mark there is, so a
    burst of changes is rendered once, not once a change. Returns how many marks it took."""
    with files.locked():
        marks = [mark for mark in (files.work() / "pending").iterdir() if mark.suffix != ".pre"]
        if marks:
            plan.Pass().run({int(mark.name.split("-")[0]) for mark in marks})
            for mark in marks:
                mark.unlink(missing_ok=True)
    return len(marks)


def catch_up(now=None) -> None:
    """The sweep's step: pages that change with time alone, and marks a crash left behind."""
    now = now or timezone.now()
    work = files.work()
    with files.locked():
        state = files.read_state()
        last = state.get("caught_up")
        state["caught_up"] = now.isoformat()
        files.save_state(state)
    if last is None or state.get("made_of") != fingerprint.made_of():
        # A tree never swept (made before this desk first ran, or its folder is new), or one
        # whose pages were made of other code, settings or files.
        plan.rebuild()
        return
    last = dt.datetime.fromisoformat(last)
    live, window = Story.objects.filter(state=State.LIVE).only("pk", "slug"), NewsSitemap.window
    # Stories whose time came since the last sweep, unless already written (most were, when
    # they arrived); and stories that left the news sitemap's window meanwhile.
    lifted = [
        story
        for story in live.filter(published_at__gt=last, published_at__lte=now)
        if not files.at(story.get_absolute_url()).exists()
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
    with open(files.work() / "follower", "a") as follower:
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
