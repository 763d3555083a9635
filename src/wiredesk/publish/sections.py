"""Where a story belongs on the site: its section, its topics and its dateline's place."""

from django.utils.text import slugify

from wiredesk.story import Story

DEFAULT_SECTION = "news"


def section_for(story: Story) -> str:
    """The agency's category, when it gives one; otherwise the default section."""
    for subject in story.subjects:
        if subject.literal and subject.literal.startswith("category:"):
            return slugify(subject.name) or DEFAULT_SECTION
    return DEFAULT_SECTION


def section_name(slug: str) -> str:
    return slug.replace("-", " ").title()


def topics(copy: Story) -> dict[str, str]:
    """A story's topics, slug to name: its subjects and keywords."""
    found = {}
    for name in [*(s.name for s in copy.subjects), *copy.keywords]:
        # Of two names with one slug ("Olympics", "olympics"), the first is kept.
        found.setdefault(slugify(name), name)
    found.pop("", None)
    return found


def place_slug(copy: Story) -> str:
    """The slug of the dateline's place ("PORT SALVIN" is port-salvin); empty without one."""
    return slugify(copy.located or "")
