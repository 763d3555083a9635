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
"""

from __future__ import annotations

from wiredesk.models import Story
from wiredesk.publish import pagecache, search, static


def story_changed(story: Story) -> None:
    """Call inside the transaction that changed `story`; readers see the change once it commits."""
    story.file_topics()
    search.index(story)
    pagecache.changed()
    static.changed(story.pk)
