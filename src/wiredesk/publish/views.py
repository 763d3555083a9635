"""The reader's site, rendered by Django from the database."""

import datetime as dt
import json
import re
from urllib.parse import urlsplit

from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.safestring import mark_safe
from django.utils.text import Truncator

from wiredesk import filing
from wiredesk.config import sources
from wiredesk.filing import place_slug, topics
from wiredesk.lifecycle import State
from wiredesk.models import Source, Story, StoryTopic
from wiredesk.publish import queries
from wiredesk.publish.queries import Days, Listing, day_bounds, filed_under, live_stories, sections

# Inside <script>, agency text with "</script" or "<!--" would end or derail the element: as
# \u escapes, <, > and & mean the same to any JSON reader and nothing to the HTML parser.
_SCRIPT_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})
# What may follow a dateline's place in a lede that opens with a dateline of its own: a date
# ("Nov 3", "Nov. 3", "3. November"), the agency in brackets, then a dash or a colon.
_LEDE_DATE = r",\s*(?:[^\W\d_]{3,9}\.?\s+\d{1,2}|\d{1,2}\.?\s+[^\W\d_]{3,9}\.?)(?!\w)"
_LEDE_AGENCY = r"\s*\([^()\n]{1,40}\)"
_LEDE_SEPARATOR = re.compile(r"\s*(?:[-–—]+|:)(?=\s)")
# Bylines: "By Jane Doe and John Roe", "Von Anna Beispiel, dpa", "Par Claire Exemple".
_BYLINE_PREFIX = re.compile(r"^\s*(?:by|von|por|par)\b:?\s*", re.IGNORECASE)
# Not the Spanish "y" nor the Portuguese "e": "Ortega y Gasset" is one person.
_BYLINE_JOINS = re.compile(r"\s*[,;&]\s*|\s+(?:and|und|et)\s+", re.IGNORECASE)
# A reporter's title after the name ("By Jane Doe, Transport Correspondent"; NITF's byttl) is no person.
_BYLINE_ROLE = re.compile(
    r"\b(?:correspondents?|writers?|reporters?|editors?|staff|korrespondent(?:in)?|"
    r"redakteur(?:in)?|redaktion|correspondante?|envoyée? spéciale?|corresponsal|"
    r"enviad[oa] especial)\b",
    re.IGNORECASE,
)


def _listing(
    request, paginator, template="wiredesk/front.html", *, title=None, feeds=None, may_be_empty=False, **context
):
    """One page of a listing (`?page=N`; past the last, the last). Empty, it is a 404 unless it
    may be empty, so that a mistyped or emptied address does not pass for a page.

    `feeds` names the listing's feed scope and slug, as in ("section", "sport").
    """
    if not (paginator.count or may_be_empty):
        raise Http404("Nothing to list")
    if feeds:
        scope, slug = feeds
        context["feeds"] = [reverse(f"{scope}-feed-{kind}", args=[slug]) for kind in ("rss", "atom", "json")]
    return render(
        request,
        template,
        {"page": paginator.get_page(request.GET.get("page")), "title": title, "sections": sections(), **context},
    )


def home(request):
    """The newest stories, then each section's newest of the rest."""
    latest = list(live_stories()[: queries.HOME_LATEST])
    shown = {story.pk for story in latest}
    blocks = []
    for slug, name in sections():
        stories = [
            s for s in live_stories().filter(section=slug)[: queries.HOME_PER_SECTION + len(shown)] if s.pk not in shown
        ]
        if stories:
            blocks.append((slug, name, stories[: queries.HOME_PER_SECTION]))
    return render(
        request, "wiredesk/home.html", {"latest": latest, "blocks": blocks, "sections": sections(), "is_home": True}
    )


def latest(request):
    return _listing(request, Listing(live_stories()), title="Latest stories", may_be_empty=True)


def section(request, slug):
    return _listing(
        request,
        Listing(live_stories().filter(section=slug)),
        title=filing.section_name(slug),
        feeds=("section", slug),
        current_section=slug,
    )


def source(request, slug):
    agency = get_object_or_404(Source, slug=slug)
    return _listing(request, Listing(live_stories().filter(source=agency)), title=agency.name, feeds=("source", slug))


def topic(request, slug):
    stories, name = filed_under(StoryTopic.Kind.TOPIC, slug)
    return _listing(request, Listing(stories), title=name, feeds=("topic", slug))


def place(request, slug):
    stories, name = filed_under(StoryTopic.Kind.PLACE, slug)
    return _listing(request, Listing(stories), title=name)


def archive(request):
    # Days and times are the site's (settings.TIME_ZONE, the current zone), as on every page.
    return _listing(request, Paginator(Days(), queries.PAGE_SIZE), "wiredesk/archive.html", title="Archive")


def archive_day(request, year, month, day):
    try:
        date = dt.date(int(year), int(month), int(day))
        start, end = day_bounds(date)
    except (ValueError, OverflowError):
        raise Http404("No such day") from None
    stories = live_stories().filter(published_at__gte=start, published_at__lt=end)
    return _listing(request, Listing(stories), title=dateformat.format(date, "l j F Y"))


def not_found(request, exception):
    return render(request, "wiredesk/404.html", {"sections": sections()}, status=404)


def agency_url(uri: str) -> str | None:
    """The story's page at the agency, when its identifier is one (ninjs and feed ids often are)."""
    parts = urlsplit(uri)
    return uri if parts.scheme in ("http", "https") and parts.netloc else None


def authors(by: str | None, agencies: set[str]) -> list[str]:
    """The people a byline names ("By Jane Doe and John Roe"); `agencies` (in lower case) are not people."""
    names = (name.strip() for name in _BYLINE_JOINS.split(_BYLINE_PREFIX.sub("", by or "")))
    return [name for name in names if name and name.casefold() not in agencies and not _BYLINE_ROLE.search(name)]


def _linked_data(story, wire, url, description) -> str:
    """The article as schema.org NewsArticle, ready to stand inside its script element."""
    agency = {"@type": "Organization", "name": story.source.name}
    agencies = {
        story.source.name.casefold(),
        story.source.slug,
        (wire.dateline and wire.dateline.agency or "").casefold(),
    }
    people = [{"@type": "Person", "name": name} for name in authors(wire.by, agencies)]
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": wire.headline,
        "description": description,
        "datePublished": timezone.localtime(story.published_at).isoformat(),
        "dateModified": timezone.localtime(story.updated_at).isoformat(),
        # The text is the agency's, word for word: its reporters (else the agency) are its authors,
        # the agency its source, the site its publisher.
        "author": (people[0] if len(people) == 1 else people) or agency,
        "sourceOrganization": agency,
        "publisher": {"@type": "Organization", "name": settings.WIREDESK["SITE_NAME"]},
        "mainEntityOfPage": url,
        "inLanguage": wire.language or settings.LANGUAGE_CODE,
        "articleSection": filing.section_name(story.section),
    }
    return mark_safe(json.dumps(data, ensure_ascii=False).translate(_SCRIPT_SAFE))


def _loosely(text: str) -> str:
    """A pattern for `text` whatever its case and spacing (matched with re.IGNORECASE)."""
    pattern = r"\s*".join(re.escape(char) for char in text if not char.isspace())
    return pattern + r"(?!\w)" if text[-1:].isalnum() else pattern


def _opening(first: str, head: str, *, alone: bool) -> int | None:
    """Where the lede's own dateline ends, when the lede opens with `head` (a dateline, or its
    place) and, unless `alone` is enough, a date, the agency or a dash after it."""
    found = re.match(rf"\s*{_loosely(head)}(?P<date>{_LEDE_DATE})?(?P<agency>{_LEDE_AGENCY})?", first, re.IGNORECASE)
    if found and (alone or found["date"] or found["agency"] or _LEDE_SEPARATOR.match(first, found.end())):
        return found.end()
    return None


def split_dateline(dateline, first: str) -> tuple[str | None, str]:
    """The dateline to set apart at the head of the lede, and the rest of the lede after it.

    Some agencies run the dateline into the lede, some keep it apart, some do both (NITF's
    dateline element and a lede that opens with it): it is printed once either way, and when
    the lede has one of its own, that one, exactly as the agency wrote it.
    """
    if not dateline:
        return None, first
    text = dateline.text.rstrip(" -–—:")
    # A dateline of a name alone ("OSLO") is a dateline in the lede only if one follows on from
    # it: "Oslo's harbour" opens a sentence.
    end = (text and _opening(first, text, alone=re.search(r"[\d,()]", text) is not None)) or (
        dateline.place and _opening(first, dateline.place, alone=False)
    )
    if end:
        return first[:end], first[end:]
    # Kept apart: set before the lede the way wire copy reads, with one dash between them.
    return dateline.text.rstrip(), (" " if dateline.text.rstrip() != text else " — ") + first


def article(request, story_id, slug):
    story = get_object_or_404(Story.objects.select_related("current", "source", "duplicate_of"), pk=story_id)
    if story.state == State.KILLED:
        return render(request, "wiredesk/gone.html", {"story": story, "sections": sections()}, status=410)
    if story.state == State.DUPLICATE and story.duplicate_of and story.duplicate_of.is_visible():
        return redirect(story.duplicate_of, permanent=True)
    if not story.is_visible():
        # Held, withheld, or under embargo: nothing about it may show, not even that it exists.
        raise Http404("No such story")
    if slug != story.slug:
        return redirect(story, permanent=True)
    wire = story.current.canonical
    first, *rest = wire.paragraphs
    dateline, lede_rest = split_dateline(wire.dateline, first)
    description = Truncator(lede_rest.lstrip(" -–—:")).words(40)
    url = request.build_absolute_uri(story.get_absolute_url())
    seo = sources.seo(story.source.slug)
    return render(
        request,
        "wiredesk/article.html",
        {
            "story": story,
            "url": url,
            # Google's advice for syndicated copy: name the original, where there is one, as canonical.
            "canonical": (seo == "canonical" and agency_url(story.uri)) or url,
            "noindex": seo == "noindex",
            "linked_data": _linked_data(story, wire, url, description),
            "description": description,
            "copy": wire,
            "dateline": dateline,
            "lede_rest": lede_rest,
            "paragraphs": rest,
            "section_name": filing.section_name(story.section),
            "topics": topics(wire).items(),
            "place_slug": place_slug(wire),
            "related": live_stories().filter(section=story.section).exclude(pk=story.pk)[: queries.RELATED],
            "sections": sections(),
            "current_section": story.section,
            "disclaimer": settings.WIREDESK["DISCLAIMER"],
        },
    )
