"""What the site's pages are built from: the stories readers may see and how many of them each
page shows. The views, feeds, search and the static tree all read these, so that a page, its
feed and the tree's copy of it list the same stories.

Each costs the same at a million stories as at ten thousand (issue 15): a listing is read newest
first off an index of its scope (see Story.Meta), and nothing here reads every visible story.
The sections and the archive's days are found by skipping along an index from one value to the
next (a "loose index scan", a recursive query that both databases run), one step per section or
day rather than one per story.
"""

from __future__ import annotations

import datetime as dt
from functools import cached_property

from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Subquery
from django.utils import timezone

from wiredesk import filing
from wiredesk.lifecycle import State
from wiredesk.models import Story, StoryTopic

PAGE_SIZE = 30
# How deep a listing pages: readers do not page a million stories deep, and counting them all
# would cost as much as reading them. The last page sends readers on to the archive, which
# reaches every story by its day.
MAX_PAGES = 100
# What each article lists under "More in <section>": its section's newest stories but itself.
RELATED = 5
# The home page: the newest stories, then this many of each section's others.
HOME_LATEST = 12
HOME_PER_SECTION = 4

_STORY = Story._meta.db_table


def live_stories():
    """What readers may see now, newest first. Listings read the story row alone (its headline
    is kept there); whatever needs the copy itself selects `current` too."""
    return Story.objects.visible().select_related("source").order_by("-published_at", "-pk")


# Each live section in turn, the next found by one index seek past the last; then whether it has
# a story readers may see yet (not only embargoed ones), one seek more.
_SECTIONS = f"""
WITH RECURSIVE live (section) AS (
    SELECT MIN(section) FROM {_STORY} WHERE state = %s
    UNION ALL
    SELECT (SELECT MIN(section) FROM {_STORY} WHERE state = %s AND section > live.section)
    FROM live WHERE live.section IS NOT NULL
)
SELECT section FROM live WHERE section IS NOT NULL AND EXISTS (
    SELECT 1 FROM {_STORY} WHERE state = %s AND section = live.section AND published_at <= %s
)"""


def sections():
    """The sections with something to show, in the order of the section rules."""
    rules = filing.rules()
    with connection.cursor() as cursor:
        cursor.execute(_SECTIONS, [State.LIVE, State.LIVE, State.LIVE, _instant(timezone.now())])
        slugs = [slug for (slug,) in cursor.fetchall()]
    return [(slug, rules.name(slug)) for slug in sorted(slugs, key=rules.order)]


def filed_under(kind: str, slug: str):
    """The visible stories filed under a topic or place, newest first, and its name."""
    # Ordered by the topic rows' copy of the publication time, so the database reads the topic's
    # index newest first and stops after a page, rather than sorting all the topic's stories.
    # Only live stories are filed under topics (models.file_topics): what readers may see now is
    # the rows whose publication time has come.
    stories = (
        Story.objects.filter(topics__kind=kind, topics__slug=slug, topics__published_at__lte=timezone.now())
        .select_related("source")
        .order_by("-topics__published_at", "-topics__story")
    )
    # The name as the newest story that may be seen gives it: that story's row, found by the
    # listing's own query. Asked of the topic rows joined to the stories instead, SQLite's planner
    # walked every visible story and sorted (60 ms at 100,000 stories, where this takes 3).
    name = (
        StoryTopic.objects.filter(kind=kind, slug=slug, story=Subquery(stories.values("pk")[:1]))
        .values_list("name", flat=True)
        .first()
    )
    return stories, name


class Listing(Paginator):
    """A listing's pages, PAGE_SIZE stories each and at most MAX_PAGES deep: counted up to there
    only. `more` says whether older stories lie beyond the last page (in the archive)."""

    def __init__(self, stories):
        super().__init__(stories, PAGE_SIZE)

    @cached_property
    def _counted(self) -> int:
        return self.object_list[: PAGE_SIZE * MAX_PAGES + 1].count()

    @cached_property
    def count(self) -> int:
        return min(self._counted, PAGE_SIZE * MAX_PAGES)

    @property
    def more(self) -> bool:
        return self._counted > PAGE_SIZE * MAX_PAGES

    def page(self, number):
        """The page's stories found by their numbers first, read off the index alone however
        deep the page, then those thirty rows read whole."""
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        numbers = list(self.object_list.values_list("pk", flat=True)[bottom : bottom + self.per_page])
        # Unordered, so that the database looks each one up by its number rather than walking
        # the listing's index to find them; put back in the listing's order here.
        rows = {story.pk: story for story in self.object_list.filter(pk__in=numbers).order_by()}
        return self._get_page([rows[pk] for pk in numbers if pk in rows], number, self)


def _instant(moment: dt.datetime):
    """A time as the database compares it in hand-written SQL (SQLite: text in UTC)."""
    return connection.ops.adapt_datetimefield_value(moment)


def _sqlite_day_start(zone: dt.tzinfo):
    """SQLite's `wiredesk_day_start` (SQLite knows no time zones): the start of the day in `zone`
    that holds a stored time, as SQLite keeps times (text, in UTC). Called once a day listed."""

    def start_of(stored: str | None) -> str | None:
        if stored is None:
            return None
        local = dt.datetime.fromisoformat(stored).replace(tzinfo=dt.UTC).astimezone(zone)
        return str(day_start(local.date(), zone).replace(tzinfo=None))

    return start_of


def day_start(date: dt.date, zone: dt.tzinfo | None = None) -> dt.datetime:
    """When a day of the site's time zone (settings.TIME_ZONE; or of `zone`) starts, in UTC.
    OverflowError for a day at either end of the calendar (0001-01-01 east of UTC) whose start
    falls outside the years a datetime holds."""
    return dt.datetime.combine(date, dt.time(), tzinfo=zone or timezone.get_current_timezone()).astimezone(dt.UTC)


def day_bounds(date: dt.date, zone: dt.tzinfo | None = None) -> tuple[dt.datetime, dt.datetime]:
    """When a day of the site's time zone starts and ends, in UTC (see day_start; 9999-12-31
    has no end: OverflowError)."""
    return day_start(date, zone), day_start(date + dt.timedelta(days=1), zone)


_DAY_START = {
    "sqlite": "wiredesk_day_start({moment})",
    "postgresql": "(date_trunc('day', {moment} AT TIME ZONE %s) AT TIME ZONE %s)",
}


class Days:
    """The archive's days, newest first: each day of the site's time zone on which a story that
    may be seen now was published, with how many were. A sequence a Paginator can count and
    slice: the days are found by one index seek each, and a page counts its own days' stories."""

    def __init__(self):
        self.now = timezone.now()

    @cached_property
    def _starts(self) -> list[dt.datetime]:
        zone = timezone.get_current_timezone()
        day = _DAY_START[connection.vendor]
        zones = [str(zone)] * day.count("%s")
        first = day.format(moment=f"(SELECT MAX(published_at) FROM {_STORY} WHERE state = %s AND published_at <= %s)")
        step = day.format(
            moment=f"(SELECT MAX(published_at) FROM {_STORY} WHERE state = %s AND published_at < days.start)"
        )
        sql = f"""
            WITH RECURSIVE days (start) AS (
                SELECT {first}
                UNION ALL
                SELECT {step} FROM days WHERE days.start IS NOT NULL
            )
            SELECT start FROM days WHERE start IS NOT NULL"""
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                connection.connection.create_function(
                    "wiredesk_day_start", 1, _sqlite_day_start(zone), deterministic=True
                )
            cursor.execute(sql, [State.LIVE, _instant(self.now), *zones, State.LIVE, *zones])
            rows = cursor.fetchall()
        if connection.vendor == "sqlite":
            return [dt.datetime.fromisoformat(start).replace(tzinfo=dt.UTC) for (start,) in rows]
        return [start for (start,) in rows]

    def count(self) -> int:
        return len(self._starts)

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, window: slice) -> list[dict]:
        dates = [timezone.localtime(start).date() for start in self._starts[window]]
        if not dates:
            return []
        bounds = [day_bounds(date) for date in dates]
        # One statement, a count per day, each over its day's stretch of the index.
        each = (
            f"(SELECT COUNT(*) FROM {_STORY} WHERE state = %s"
            " AND published_at >= %s AND published_at < %s AND published_at <= %s)"
        )
        params = []
        for start, end in bounds:
            params += [State.LIVE, _instant(start), _instant(end), _instant(self.now)]
        with connection.cursor() as cursor:
            cursor.execute("SELECT " + ", ".join([each] * len(dates)), params)
            counts = cursor.fetchone()
        return [{"day": date, "stories": stories} for date, stories in zip(dates, counts, strict=True)]
