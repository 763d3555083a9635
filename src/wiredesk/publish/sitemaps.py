"""Sitemaps and robots.txt: what crawlers may find, read from the database on every request."""

from functools import wraps
from xml.sax.saxutils import escape

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.contrib.sitemaps import views as sitemap_views
from django.contrib.sites.shortcuts import get_current_site
from django.core.paginator import EmptyPage, Page, PageNotAnInteger
from django.db.models import OuterRef, Q, Subquery
from django.db.models.fields.json import KeyTransform
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone

from wiredesk.config import sources
from wiredesk.models import Story, StoryVersion
from wiredesk.publish import queries
from wiredesk.publish.pagecache import NEWS_WINDOW
from wiredesk.publish.xmlsafe import xml_safe


def indexed():
    """The visible stories search engines are asked to index here. A sitemap lists canonical
    pages only (Google's rule): not those of `noindex` sources, nor those whose canonical page
    is the agency's own (`canonical` sources, for stories whose identifier is its URL)."""
    at_agency = Q(source__slug__in=sources.seo_sources("canonical")) & (
        Q(uri__istartswith="http://") | Q(uri__istartswith="https://")
    )
    return Story.objects.visible().exclude(source__slug__in=sources.seo_sources("noindex")).exclude(at_agency)


class _Live(Sitemap):
    def get_latest_lastmod(self):
        # The index would date each sitemap by its newest story, but a kill changes a sitemap
        # without moving any story's time: no date is better than one that says nothing changed.
        return None


class FrontsSitemap(_Live):
    def items(self):
        return [None, *sorted(slug for slug, _ in queries.sections())]

    def location(self, section):
        return reverse("section", args=[section]) if section else reverse("home")


class _StoredPages:
    """The article sitemap's pages: page N lists the indexed stories among the Nth `limit`
    stories stored (by number, from the first). New stories land on the last page; a page
    crawlers know keeps its URL and its stories, a kill taking out one line and moving no other;
    and a page is one range of the primary key, read and counted at the same cost whatever the
    site holds. A page may list fewer than `limit` stories (none, were all of its own killed)."""

    def __init__(self, stories, limit: int):
        self.stories, self.limit = stories, limit
        # Two seeks: SQLite reads the whole table for a MIN and a MAX asked together.
        numbers = Story.objects.order_by("pk").values_list("pk", flat=True)
        self.first, last = numbers.first(), numbers.last()
        self.num_pages = 1 if self.first is None else max(1, -(-(last - self.first + 1) // limit))

    def page(self, number) -> Page:
        try:
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger("That page number is not an integer") from None
        if not 1 <= number <= self.num_pages:
            raise EmptyPage("That page contains no results")
        start = (self.first or 0) + (number - 1) * self.limit
        return Page(self.stories.filter(pk__gte=start, pk__lt=start + self.limit), number, self)


class ArticleSitemap(_Live):
    limit = 10_000

    def items(self):
        return indexed().only("pk", "slug", "updated_at").order_by("pk")

    @property
    def paginator(self):
        return _StoredPages(self.items(), self.limit)

    def lastmod(self, story):
        return story.updated_at


class NewsSitemap(_Live):
    """Google News: the articles of the last two days, newest first, with their publication."""

    limit = 1_000  # Google reads at most 1,000 <news:news> a sitemap; the index lists further pages
    window = NEWS_WINDOW  # kept pages change by the clock when a story leaves it

    def items(self):
        now = timezone.now()
        return (
            indexed()
            .filter(published_at__gte=now - self.window)
            # The language alone of each story's copy, read out of its JSON by the database:
            # a page lists up to a thousand stories, and reading each one's copy would cost more
            # than the rest of the page. A subquery, which counting the stories leaves out.
            .annotate(
                language=Subquery(
                    StoryVersion.objects.filter(pk=OuterRef("current")).values(
                        language=KeyTransform("language", "content")
                    )
                )
            )
            .only("pk", "slug", "headline", "published_at", "updated_at")
            .order_by("-published_at", "-pk")
        )

    def lastmod(self, story):
        return story.updated_at

    def get_urls(self, page=1, site=None, protocol=None):
        urls = super().get_urls(page=page, site=site, protocol=protocol)
        for url in urls:
            url["news"] = {
                "language": publication_language(url["item"].language or settings.LANGUAGE_CODE),
                "title": xml_safe(url["item"].headline),
            }
        return urls


def publication_language(tag: str) -> str:
    """A language tag as Google News takes it: the ISO 639 code alone, except that Chinese is
    named by its script, zh-cn (Simplified) or zh-tw (Traditional)."""
    subtags = tag.lower().replace("_", "-").split("-")
    if subtags[0] == "zh":
        return "zh-tw" if {"tw", "hk", "mo", "hant"} & set(subtags[1:]) else "zh-cn"
    return subtags[0]


SITEMAPS = {"fronts": FrontsSitemap, "articles": ArticleSitemap, "news": NewsSitemap}


def undated(view):
    """Django dates a sitemap response by its newest lastmod, which a kill does not move: a cache
    could keep a killed story listed on the strength of that date. Without it, none can."""

    @wraps(view)
    def inner(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        del response["Last-Modified"]
        return response

    return inner


@sitemap_views.x_robots_tag  # as Django's own sitemap views: a sitemap is for crawlers, not results
def article_sitemap(request):
    """A page of the article sitemap, written out line by line: through Django's sitemap view and
    template, ten thousand URLs took half a second (a template loop and a `reverse` for each),
    where the same XML written here takes a few hundredths."""
    try:
        page = ArticleSitemap().paginator.page(request.GET.get("p", 1))
    except (EmptyPage, PageNotAnInteger):
        raise Http404("No such page of the article sitemap") from None
    origin = escape(f"{request.scheme}://{get_current_site(request).domain}")
    # Every article's address is this, its number and its slug (an ASCII slug: nothing to escape).
    articles = origin + reverse("article", kwargs={"story_id": 0, "slug": "x"}).removesuffix("0/x/")
    zone = timezone.get_current_timezone()
    lines = ['<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n']
    for pk, slug, updated in page.object_list.values_list("pk", "slug", "updated_at"):
        lastmod = f"    <lastmod>{updated.astimezone(zone).isoformat()}</lastmod>\n" if updated else ""
        lines.append(f"  <url>\n    <loc>{articles}{pk}/{slug}/</loc>\n{lastmod}  </url>\n")
    lines.append("</urlset>\n")
    return HttpResponse("".join(lines), content_type="application/xml")


def robots_txt(request):
    return render(
        request,
        "wiredesk/robots.txt",
        {"sitemap": request.build_absolute_uri(reverse("sitemap-index"))},
        content_type="text/plain; charset=utf-8",
    )


urlpatterns = [
    path("robots.txt", robots_txt, name="robots-txt"),
    path(
        "sitemap.xml", sitemap_views.index, {"sitemaps": SITEMAPS, "sitemap_url_name": "sitemap"}, name="sitemap-index"
    ),
    # Ahead of the general pattern: the news sitemap has tags of its own, and the article
    # sitemap is written out directly.
    path("sitemaps/articles.xml", article_sitemap, name="article-sitemap"),
    path(
        "sitemaps/news.xml",
        undated(sitemap_views.sitemap),
        {"sitemaps": {"news": NewsSitemap}, "template_name": "wiredesk/sitemaps/news.xml"},
        name="news-sitemap",
    ),
    path(
        "sitemaps/<slug:section>.xml",
        undated(sitemap_views.sitemap),
        {
            "sitemaps": {"fronts": FrontsSitemap},
            "template_name": "wiredesk/sitemaps/urlset.xml",
        },
        name="sitemap",
    ),
]
