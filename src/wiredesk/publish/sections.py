"""Which section of the site a story belongs in."""

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
