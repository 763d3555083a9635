"""The one way a change readers can see goes out to everything that shows it.

A delivery that publishes, updates or kills a story, and an operator's kill, hold or release,
each end with `story_changed`, inside the transaction that made the change. From there:
- the story's topics are filed again (its topic pages list it, or no longer);
- the search index takes its text as it now is (or drops it);
- every web process's kept pages are emptied, at the commit, by moving the site's version on
  (pagecache): a killed story is never served from a cache;
- the static tree's pages that show it are marked, and rewritten or removed once it commits.
A new way of changing a story (a web desk's action, an API call) calls this and nothing else, so
caches, search and the static tree can never disagree.

A transaction that changes many stories (a delivery's batch, a backlog, an import) wraps them in
`with changes.batch():`. Topics and search are still filed story by story, as each needs the
story as it then is; the site's version and the static tree's marks, which are about the site as
a whole, are moved on once for all of them at the end of the block, still inside the transaction:
the same guarantees at the commit, without two aggregates and a file per story.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

from wiredesk.models import Story, file_topics
from wiredesk.publish import pagecache, search, static

# The stories changed so far in the batch under way in this thread; None outside one.
_batched: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar("batched", default=None)


def story_changed(story: Story, *, new: bool = False) -> None:
    """Call inside the transaction that changed `story`; readers see the change once it commits.
    A story inserted in this transaction is `new`: nothing is filed under it yet to replace."""
    stories_changed([story], new=new)


def stories_changed(stories: list[Story], *, new: bool = False) -> None:
    """story_changed for many stories at once (a bulk load's new stories), their topics and
    search entries filed in a statement each rather than a story at a time."""
    file_topics(stories, new=new)
    search.index(stories, new=new)
    batched = _batched.get()
    if batched is None:
        _site_changed([story.pk for story in stories])
    else:
        batched.extend(story.pk for story in stories)


@contextlib.contextmanager
def batch() -> Iterator[None]:
    """Call inside the transaction: every `story_changed` in the block reaches the kept pages and
    the static tree at its end, once. A block inside another is part of the outer one. Left by an
    exception, nothing is sent: the transaction it is in does not commit either."""
    if _batched.get() is not None:
        yield
        return
    changed: list[int] = []
    token = _batched.set(changed)
    try:
        yield
    finally:
        _batched.reset(token)
    if changed:
        _site_changed(list(dict.fromkeys(changed)))


def _site_changed(story_ids: list[int]) -> None:
    pagecache.changed()
    static.changed(*story_ids)
