"""The site's feeds: RSS 2.0, Atom 1.0 and JSON Feed 1.1, each for four scopes.

    /feeds/rss.xml              /feeds/atom.xml              /feeds/feed.json              every story
    /section/<slug>/rss.xml     /section/<slug>/atom.xml     /section/<slug>/feed.json     one section
    /source/<slug>/rss.xml      /source/<slug>/atom.xml      /source/<slug>/feed.json      one agency
    /topic/<slug>/rss.xml       /topic/<slug>/atom.xml       /topic/<slug>/feed.json       one subject or keyword

A topic's slug is its name slugified ("Climate change" is climate-change). Each feed holds the
scope's newest visible stories, built on every request: nothing is cached, so a kill leaves
every feed at once. An item's id is the article's URL, which is fixed when the story is first
seen and stays through every version.
"""

import json
from dataclasses import dataclass

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed, SyndicationFeed, rfc3339_date
from django.utils.html import escape, format_html, format_html_join

from wiredesk.filing import section_name, subject_name
from wiredesk.models import Source, StoryTopic
from wiredesk.publish import queries
from wiredesk.publish.xmlsafe import xml_safe

LIMIT = 50


class _XmlText:
    """Drops characters XML cannot carry: they print as nothing, and one of them would
    otherwise fail the whole feed."""

    def __init__(self, **feed):
        super().__init__(**{key: xml_safe(value) for key, value in feed.items()})

    def add_item(self, **item):
        super().add_item(**{key: xml_safe(value) for key, value in item.items()})


class RssFeed(_XmlText, Rss201rev2Feed):
    def rss_attributes(self):
        return {**super().rss_attributes(), "xmlns:content": "http://purl.org/rss/1.0/modules/content/"}

    def add_root_elements(self, handler):
        super().add_root_elements(handler)
        if self.feed["hub"]:
            handler.addQuickElement("atom:link", None, {"rel": "hub", "href": self.feed["hub"]})

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        handler.addQuickElement("content:encoded", item["content_html"])


class AtomFeed(_XmlText, Atom1Feed):
    def __init__(self, **feed):
        super().__init__(**feed)
        # Django takes the page's URL as the feed's id, but the RSS and JSON feeds share that
        # page: only the feed's own URL is unique to it.
        self.feed["id"] = self.feed["feed_url"]

    def add_root_elements(self, handler):
        super().add_root_elements(handler)
        if self.feed["hub"]:
            handler.addQuickElement("link", "", {"rel": "hub", "href": self.feed["hub"]})

    def item_attributes(self, item):
        return {"xml:lang": item["language"]} if item["language"] else {}

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        handler.addQuickElement("content", item["content_html"], {"type": "html"})


class JsonFeed(SyndicationFeed):
    content_type = "application/feed+json"

    def write(self, outfile, encoding):
        feed = {
            "version": "https://jsonfeed.org/version/1.1",
            "title": self.feed["title"],
            "home_page_url": self.feed["link"],
            "feed_url": self.feed["feed_url"],
            "description": self.feed["description"],
            **({"hubs": [{"type": "WebSub", "url": self.feed["hub"]}]} if self.feed["hub"] else {}),
            "items": [
                {
                    "id": item["unique_id"],
                    "url": item["link"],
                    "title": item["title"],
                    "summary": item["summary"],
                    "content_html": item["content_html"],
                    "content_text": item["content_text"],
                    "date_published": rfc3339_date(item["pubdate"]),
                    "date_modified": rfc3339_date(item["updateddate"]),
                    # 1.1 deprecates `author` for `authors` but still defines it, and 1.0 readers and
                    # validators know no other (nor `language`, left out for the same reason).
                    "author": {"name": item["author_name"]},
                    "tags": item["categories"],
                }
                for item in self.items
            ],
        }
        json.dump(feed, outfile, ensure_ascii=False, indent=1)


@dataclass(frozen=True)
class Scope:
    """The stories one feed covers, and the page it stands for."""

    name: str | None  # None for the whole site
    url: str
    stories: QuerySet


class StoryFeed(Feed):
    """The newest visible stories of one scope; each subclass reads its scope from the URL."""

    def __init__(self, feed_type):
        self.feed_type = feed_type

    def __call__(self, request, *args, **kwargs):
        response = super().__call__(request, *args, **kwargs)
        # Django sends the newest item's time as Last-Modified, but a kill takes an item out and
        # moves that time back: a cache asking "modified since?" would keep the killed story.
        del response["Last-Modified"]
        return response

    def title(self, scope):
        site = settings.WIREDESK["SITE_NAME"]
        return f"{scope.name} · {site}" if scope.name else site

    def link(self, scope):
        return scope.url

    def description(self, scope):
        news = f"{scope.name}: agency news" if scope.name else "Agency news"
        return f"{news}, published as it arrives."

    def items(self, scope):
        return scope.stories.select_related("current")[:LIMIT]

    def feed_extra_kwargs(self, scope):
        return {"hub": settings.WIREDESK["WEBSUB_HUB"]}

    def item_title(self, story):
        return story.headline

    def item_description(self, story):
        # RSS descriptions and Atom summaries are HTML; the copy is plain text.
        return escape(_summary(story.current.canonical))

    item_guid_is_permalink = True

    def item_pubdate(self, story):
        return story.published_at

    def item_updateddate(self, story):
        return story.updated_at

    def item_author_name(self, story):
        return story.source.name

    def item_categories(self, story):
        wire = story.current.canonical
        return list(
            dict.fromkeys([section_name(story.section), *(subject_name(s) for s in wire.subjects), *wire.keywords])
        )

    def item_extra_kwargs(self, story):
        wire = story.current.canonical
        html = format_html_join("\n", "<p>{}</p>", ((p,) for p in wire.paragraphs))
        text = "\n\n".join(wire.paragraphs)
        if wire.correction:
            # As on the article page: the agency's correction notice stands above the text.
            html = format_html("<p><strong>Correction:</strong> {}</p>\n{}", wire.correction, html)
            text = f"Correction: {wire.correction}\n\n{text}"
        return {"summary": _summary(wire), "content_html": html, "content_text": text, "language": wire.language}


def _summary(wire) -> str:
    # The agency's sub-headline is its own summary of the story; without one, the lede is.
    return wire.subheadline or wire.paragraphs[0]


class HomeFeed(StoryFeed):
    def get_object(self, request):
        return Scope(None, reverse("home"), queries.live_stories())


class SectionFeed(StoryFeed):
    def get_object(self, request, slug):
        stories = queries.live_stories().filter(section=slug)
        if not stories.exists():
            raise Http404("No such section")
        return Scope(section_name(slug), reverse("section", args=[slug]), stories)


class SourceFeed(StoryFeed):
    def get_object(self, request, slug):
        source = get_object_or_404(Source, slug=slug)
        return Scope(source.name, reverse("source", args=[slug]), queries.live_stories().filter(source=source))


class TopicFeed(StoryFeed):
    def get_object(self, request, slug):
        stories, name = queries.filed_under(StoryTopic.Kind.TOPIC, slug)
        if name is None:
            raise Http404("No such topic")
        return Scope(name, reverse("topic", args=[slug]), stories)


FORMATS = {"rss": ("rss.xml", RssFeed), "atom": ("atom.xml", AtomFeed), "json": ("feed.json", JsonFeed)}
SCOPES = [
    ("feeds/", HomeFeed, "home"),
    ("section/<slug:slug>/", SectionFeed, "section"),
    ("source/<slug:slug>/", SourceFeed, "source"),
    ("topic/<slug:slug>/", TopicFeed, "topic"),
]

urlpatterns = [
    path(prefix + filename, feed(generator), name=f"{scope}-feed-{kind}")
    for prefix, feed, scope in SCOPES
    for kind, (filename, generator) in FORMATS.items()
]
