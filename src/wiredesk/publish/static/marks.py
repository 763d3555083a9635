"""The marks changes leave in the database, and who turns them into pages when: the committer,
the renderer process that follows them, or the sweep.

A change's marks (models.ChangeMark: an id that only grows, and the story) are written in the
transaction that makes it, so every host sees them once it commits, whichever host made it.
Each host's tree remembers, in its state file, the newest mark it rendered; a pass renders
every mark newer than that. PostgreSQL hands ids out as rows are inserted, not as their
transactions commit, so a pass may see mark 12 while mark 11's transaction is still running:
an id missing below the newest seen is looked for again in each pass (the state's `gaps`) until
it comes, or for STALE_MARK seconds, after which its transaction was rolled back.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import logging
import threading
import time

from django.db import close_old_connections, transaction
from django.db.models import Max, Q
from django.utils import timezone

from wiredesk.lifecycle import State
from wiredesk.models import ChangeMark, Story
from wiredesk.publish.sitemaps import NewsSitemap
from wiredesk.publish.static import files, fingerprint, plan

log = logging.getLogger(__name__)

# How often the follower looks for marks when it has nothing to do: one indexed query.
FOLLOW_SECONDS = 0.05
# Passes start at most this often: under a burst, one pass takes many changes at once, and
# rendering leaves the processors room to publish. (Articles taken down go at once: `changed`.)
PASS_SECONDS = 0.5
# How long a mark's id missing below the newest seen is waited for: transactions are short, so
# one still running is never this old.
STALE_MARK = 60.0
# Marks are kept this long, then pruned by the sweep: far longer than a follower lags, however
# busy. A tree last swept longer ago than this (its host was down) is rebuilt instead.
MARK_AGE = dt.timedelta(days=1)
# Marks one pass takes at most, so a tree far behind catches up over a few passes; and missing
# ids a tree waits for at most (more would take many transactions rolled back at once).
PASS_MARKS = 5000
MOST_GAPS = 1000


def _try_lock(handle, kind: int) -> bool:
    try:
        fcntl.flock(handle, kind | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def followed() -> bool:
    """Whether a renderer process follows the marks into this host's tree (`follow`), which it
    shows by holding the follower lock for as long as it does. Committers ask with a shared
    lock, so that two asking at once never take each other for a follower."""
    with open(files.work() / "follower", "a") as handle:
        return not _try_lock(handle, fcntl.LOCK_SH)


def changed(*story_ids: int) -> None:
    """Call inside the transaction that changes these stories; their pages follow its commit, in
    every host's tree. Called through publish.changes, which also empties the kept pages."""
    marks = ChangeMark.objects.bulk_create([ChangeMark(story_id=pk) for pk in story_ids])

    def committed():
        if _deferred is not None:
            _deferred.append(min(mark.pk for mark in marks))
        if followed() or _deferred is not None:
            # The renderer rewrites the pages listing them in its next pass; an article readers
            # may no longer see leaves the tree now, so nginx sends its address to Django at once.
            _take_down(set(story_ids))
        else:
            render_pending(first=min(mark.pk for mark in marks))

    # robust: the stories are committed whatever happens to their pages; a failure is logged
    # and the marks wait for the next pass or the sweep.
    transaction.on_commit(committed, robust=True)


# While a command leaves its changes' pages to one pass at its end (`deferred`): the first mark
# of each of its changes.
_deferred: list[int] | None = None


@contextlib.contextmanager
def deferred():
    """For a command that commits many changes one after another (`wiredesk ingest`): meanwhile
    they are left marked, as for a follower, and the pages are written in one pass at the end
    (by the follower, if one runs). Marks a failure leaves behind are taken by the next pass."""
    global _deferred
    _deferred = firsts = []
    try:
        yield
    finally:
        _deferred = None
    if firsts and not followed():
        while render_pending(first=min(firsts)) >= PASS_MARKS:
            pass  # a pass takes at most PASS_MARKS marks


def _take_down(story_ids: set[int]) -> None:
    """Remove the articles of these stories that readers may no longer see."""
    for pk in story_ids - set(Story.objects.visible().filter(pk__in=story_ids).values_list("pk", flat=True)):
        files.remove_story(pk)


def render_pending(*, first: int | None = None, also: set[int] | frozenset[int] = frozenset()) -> int:
    """Write the pages of every story marked since this tree's last pass, and of the stories
    `also` names. One pass takes every mark there is, so a burst of changes is rendered once,
    not once a change. A tree that never rendered a mark starts at `first`, the committer's, or
    at the oldest kept. Returns how many marks it took."""
    with files.locked():
        state = files.read_state()
        last = state.get("mark", None if first is None else first - 1)
        gaps = {int(pk): at for pk, at in state.get("gaps", {}).items() if at > time.time() - STALE_MARK}
        marks = ChangeMark.objects.all() if last is None else ChangeMark.objects.filter(Q(pk__gt=last) | Q(pk__in=gaps))
        taken = list(marks.order_by("pk").values_list("pk", "story_id")[:PASS_MARKS])
        stories = {story for _, story in taken} | set(also)
        if stories:
            # A kill through another host leaves this tree before the pass renders its fronts.
            _take_down(stories)
            plan.Pass().run(stories)
        if taken:
            seen = {pk for pk, _ in taken}
            newest = max(seen | {last or 0})
            gaps = _waiting(gaps, seen, last, newest)
            files.save_state({**files.read_state(), "mark": newest, "gaps": gaps})
        elif gaps != state.get("gaps", {}):
            files.save_state({**files.read_state(), "gaps": gaps})
    return len(taken)


def _waiting(gaps: dict, seen: set[int], last: int | None, newest: int) -> dict:
    """The ids still waited for once the marks `seen` are rendered, up to `newest`: a tree that
    never rendered a mark waits for none below those it saw."""
    now = time.time()
    waiting = {pk: at for pk, at in gaps.items() if pk not in seen}
    if last is not None:
        waiting.update((pk, now) for pk in range(max(last + 1, newest - MOST_GAPS), newest) if pk not in seen)
    return {str(pk): waiting[pk] for pk in sorted(waiting)[-MOST_GAPS:]}


def rebuild(progress=None) -> int:
    """Render the whole tree again (plan.rebuild, told of its `progress`), which then holds every
    mark committed before it began. Returns the number of files in the tree."""
    now = timezone.now()
    newest = ChangeMark.objects.aggregate(at=Max("pk"))["at"]
    settled = ChangeMark.objects.filter(created_at__lt=now - dt.timedelta(seconds=STALE_MARK)).aggregate(at=Max("pk"))[
        "at"
    ]
    recent = set(ChangeMark.objects.filter(pk__gt=settled or 0).values_list("pk", flat=True))
    count = plan.rebuild(progress)
    if newest is not None:
        with files.locked():
            state = files.read_state()
            if state.get("mark") is None or state["mark"] < newest:
                # Marks whose transactions were still running as it began are waited for.
                gaps = _waiting({}, recent, settled if settled is not None else min(recent) - 1, newest)
                files.save_state({**state, "mark": newest, "gaps": gaps})
    return count


def catch_up(now=None) -> None:
    """The sweep's step: pages that change with time alone, marks no pass took (a committer
    that died before rendering), and marks older than MARK_AGE pruned."""
    now = now or timezone.now()
    ChangeMark.objects.filter(created_at__lt=now - MARK_AGE).delete()
    with files.locked():
        state = files.read_state()
        last = state.get("caught_up")
        state["caught_up"] = now.isoformat()
        files.save_state(state)
    if (
        last is None
        or state.get("made_of") != fingerprint.made_of()
        or dt.datetime.fromisoformat(last) < now - MARK_AGE
    ):
        # A tree never swept (made before this desk first ran, or its folder is new), one
        # whose pages were made of other code, settings or files, or one whose marks were pruned
        # while its host was down.
        rebuild()
        return
    last = dt.datetime.fromisoformat(last)
    live, window = Story.objects.filter(state=State.LIVE).only("pk", "slug"), NewsSitemap.window
    # Stories whose time came since the last sweep, unless already written (most were, when
    # they arrived); and stories that left the news sitemap's window meanwhile.
    lifted = [
        story.pk
        for story in live.filter(published_at__gt=last, published_at__lte=now)
        if not files.at(story.get_absolute_url()).exists()
    ]
    aged = live.filter(published_at__gt=last - window, published_at__lte=now - window).values_list("pk", flat=True)
    render_pending(also={*lifted, *aged})


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
