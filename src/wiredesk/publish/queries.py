"""What the site's pages are built from: the stories readers may see and how many of them each
page shows. The views, feeds, search and the static tree all read these, so that a page, its
feed and the tree's copy of it list the same stories."""

from wiredesk import filing
from wiredesk.models import Story, StoryTopic

PAGE_SIZE = 30
# What each article lists under "More in <section>": its section's newest stories but itself.
RELATED = 5
# The home page: the newest stories, then this many of each section's others.
HOME_LATEST = 12
HOME_PER_SECTION = 4


def live_stories():
    """What readers may see now, newest first. Listings read the story row alone (its headline
    is kept there); whatever needs the copy itself selects `current` too."""
    return Story.objects.visible().select_related("source").order_by("-published_at", "-pk")


def sections():
    """The sections with something to show, in the order of the section rules."""
    rules = filing.rules()
    slugs = Story.objects.visible().values_list("section", flat=True).distinct().order_by()
    return [(slug, rules.name(slug)) for slug in sorted(slugs, key=rules.order)]


def filed_under(kind: str, slug: str):
    """The visible stories filed under a topic or place, newest first, and its name."""
    stories = live_stories().filter(topics__kind=kind, topics__slug=slug)
    name = StoryTopic.objects.filter(kind=kind, slug=slug, story__in=stories).values_list("name", flat=True).first()
    return stories, name
