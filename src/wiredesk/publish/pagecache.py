"""Django's answers kept in each web process until anything readers see changes.

Every page lists other stories, so any change may change any page: rather than work out which
pages a change touches (the static tree does that, at a cost per change), every kept answer is
filed under the site's version, a number in the database that moves on in the same transaction
as any change readers could see (`changed`, called wherever a story's state, version or times
change). A kill therefore leaves every process's kept pages when it commits, on one machine or
many sharing the database. Asking the number costs one tiny query a request; rendering an
article costs a dozen times more.

Time changes the site too: an embargo lifts, a story leaves the 48-hour news sitemap. The row
also holds the next such moment; once it has passed, pages are rendered afresh and kept nowhere
until the sweep (static.catch_up) moves the version on, within WIREDESK_SWEEP_SECONDS.

Kept: answers to GET and HEAD with status 200 whose Cache-Control is public (fronts, articles,
feeds, sitemaps; not search, not the health check, not errors). The key is the version, the
URL with host and scheme and the query parameters these pages read (READ_PARAMETERS), whether
the client takes gzip (GZipMiddleware's own test), and the times of the two files that change
pages without a restart (sources.toml's seo settings, sections.toml's names).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from urllib.parse import urlencode

from django.core.cache import caches
from django.core.exceptions import DisallowedHost
from django.core.signals import setting_changed
from django.db import connection
from django.db.models import F, Min
from django.dispatch import receiver
from django.http import HttpResponse
from django.utils import timezone
from django.utils.cache import get_conditional_response

from wiredesk import filing
from wiredesk.config import sources
from wiredesk.db import writing
from wiredesk.lifecycle import State
from wiredesk.models import SiteVersion, Story

# How long a story stays in the news sitemap (sitemaps.NewsSitemap.window): the clock changes
# that sitemap, and so the kept pages, when a story leaves it.
NEWS_WINDOW = dt.timedelta(hours=48)
_GZIP = re.compile(r"\bgzip\b")
# The query parameters of the pages kept: the listings' page and the sitemaps' (search is never kept).
READ_PARAMETERS = ("page", "p")


def changed(now: dt.datetime | None = None) -> None:
    """Call inside the transaction that changes what readers see."""
    now = now or timezone.now()
    # Each MIN is one seek into the (state, published_at) index (Story.Meta): this runs in the
    # one-writer transaction of every change, so it must not grow with the stories kept.
    live = Story.objects.filter(state=State.LIVE)
    moments = [
        live.filter(published_at__gt=now).aggregate(at=Min("published_at"))["at"],
        (live.filter(published_at__gt=now - NEWS_WINDOW).aggregate(at=Min("published_at"))["at"]),
    ]
    ages_out = moments[1] + NEWS_WINDOW if moments[1] else None
    following = min((m for m in (moments[0], ages_out) if m), default=None)
    next_change = following.timestamp() if following else None
    if not SiteVersion.objects.filter(pk=SiteVersion.ONLY).update(number=F("number") + 1, next_change=next_change):
        SiteVersion.objects.create(pk=SiteVersion.ONLY, number=1, next_change=next_change)


def _current() -> tuple[int, float | None] | None:
    """The site's version and its next change by the clock; None before the first change."""
    # Raw, not the ORM: this runs on every request, and the ORM would take longer than the query.
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT number, next_change FROM {SiteVersion._meta.db_table} WHERE id = %s", [SiteVersion.ONLY]
        )
        return cursor.fetchone()


def _config_stamp() -> str:
    stamps = []
    for file in (sources.path(), filing.path()):
        try:
            stat = file.stat()
            stamps.append(f"{stat.st_mtime_ns}.{stat.st_size}")
        except FileNotFoundError:
            stamps.append("-")
    return ",".join(stamps)


def middleware(get_response):
    """Outside GZip and ConditionalGet, so that a kept answer is sent as it is, compressed once."""
    cache = caches["pages"]

    def serve(request):
        if request.method not in ("GET", "HEAD"):
            return get_response(request)
        version = _current()
        if version is None or (version[1] is not None and version[1] <= timezone.now().timestamp()):
            # Before the first change, or the clock changed the site: the sweep moves the version on.
            return get_response(request)
        number = version[0]
        try:
            url = request.build_absolute_uri(request.path)
        except DisallowedHost:
            return get_response(request)  # Django's own answer for a Host it does not serve
        # Only what the kept pages read of the query: any other parameter changes no page, and
        # must not make a page to render (and keep) per request.
        url += "?" + urlencode([(name, request.GET[name]) for name in READ_PARAMETERS if name in request.GET])
        gzip = "gzip" if _GZIP.search(request.headers.get("Accept-Encoding", "")) else "plain"
        key = f"{number}:{gzip}:{_config_stamp()}:{hashlib.sha256(url.encode()).hexdigest()}"
        kept = cache.get(key)
        if kept is not None:
            status, headers, content = kept
            response = HttpResponse(content, status=status)
            for name, value in headers:
                response[name] = value
            return get_conditional_response(request, etag=response.get("ETag"), response=response)
        response = get_response(request)
        control = response.get("Cache-Control", "")
        if response.status_code == 200 and not response.streaming and "public" in control and request.method == "GET":
            cache.set(key, (response.status_code, list(response.items()), response.content))
        return response

    return serve


def catch_up(now: dt.datetime | None = None) -> bool:
    """The sweep's step: move the version on once the clock has changed the site. Returns
    whether it did."""
    now = now or timezone.now()
    with writing():
        version = SiteVersion.objects.filter(pk=SiteVersion.ONLY).first()
        if version is None or (version.next_change is not None and version.next_change <= now.timestamp()):
            changed(now)
            return True
    return False


@receiver(setting_changed)
def _settings_changed(**kwargs):
    # Settings change with a restart, which empties every process's pages; only tests change
    # them in a running process.
    caches["pages"].clear()
