"""Full-text search of the reader's site: one interface over each database's own full text.

SQLite (the embedded default) reads an FTS5 table kept in step with SearchEntry by triggers;
PostgreSQL a generated tsvector column on SearchEntry (headline weighted A, text B) under a GIN
index. Migration 0005 makes both. Stemming is English on both (porter; the "english"
configuration). Other languages would need their own: on SQLite a stemming tokenizer loaded as
an extension (porter, FTS5's only stemmer, is English), on PostgreSQL a configuration per story,
kept in a regconfig column filled from the story's language and used by the generated column and
the query alike.

The engines differ at the edges: PostgreSQL leaves English stop words out of a query, where
SQLite needs them in the text; SQLite ignores diacritics, PostgreSQL would need unaccent; and
PostgreSQL folds the case of letters beyond ASCII only under a database locale that knows them
(not under the C locale).

What readers may find is decided when they search, by Story.objects.visible(): a kill, a hold or
an embargo holds even if the index lags behind the story.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from itertools import islice
from urllib.parse import urlencode

from django.core.paginator import Page, Paginator
from django.core.validators import slug_re
from django.db import connection
from django.db.models import Exists, OuterRef
from django.db.models.expressions import RawSQL
from django.http import HttpResponseBadRequest
from django.shortcuts import render
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from wiredesk.lifecycle import State
from wiredesk.models import SearchEntry, Source, Story
from wiredesk.publish import queries
from wiredesk.story import WireStory

PAGE_SIZE = 20
# How many of a query's matches, the newest, are ranked and counted (see _Matches).
CANDIDATES = 1000
# Beyond these a query is no reader's: the rest is ignored rather than sent to the database.
MAX_LENGTH = 500
MAX_TERMS = 16
# The engines mark matches in snippets with these; they are taken out of the indexed text, so
# whatever the agency sent, each one found in a snippet is a mark and never text.
OPEN, CLOSE = "\x02", "\x03"
_UNMARKED = str.maketrans({OPEN: " ", CLOSE: " "})
# A reader's query is words and "quoted phrases", nothing else: operators and syntax characters
# of either engine's query language are only ever text inside a quoted FTS5 string or a
# phraseto_tsquery argument, where they are separators like any punctuation.
_TERM = re.compile(r'"([^"]*)"?|[^\s"]+')
_WORD = re.compile(r"\w")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Hit:
    story: Story
    snippet: SafeString  # the story's text around the matches: escaped, each match in <mark>
    rank: float  # higher is better; comparable within one search only


@dataclass(frozen=True)
class Results:
    page: Page  # of Hits, best first

    @property
    def hits(self) -> list[Hit]:
        return self.page.object_list

    @property
    def count(self) -> int:
        return self.page.paginator.count

    @property
    def more(self) -> bool:
        """Whether more stories match than were ranked and counted (CANDIDATES)."""
        return bool(getattr(self.page.paginator.object_list, "more", False))


def searchable(wire: WireStory) -> tuple[str, str]:
    """The headline and text search reads of a version: what readers see, never the editors' note."""
    return wire.headline.translate(_UNMARKED), wire.body_text.translate(_UNMARKED)


def index(stories: list[Story], *, new: bool = False) -> None:
    """Bring each story's search entry in step with it: its current version while it is live (an
    embargoed story included, as the search leaves it out until its time), none otherwise. `new`
    stories (inserted in this transaction) have no entry yet. Every caller holds the stories' row
    locks, so no other transaction makes an entry between the update and the insert."""
    live = {story.pk: story for story in stories if story.state == State.LIVE and story.current is not None}
    entries = [SearchEntry(story=story, **_entry(story)) for story in live.values()]
    if new:
        SearchEntry.objects.bulk_create(entries)
        return
    for entry in entries:
        if not SearchEntry.objects.filter(story=entry.story).update(headline=entry.headline, body=entry.body):
            entry.save(force_insert=True)
    SearchEntry.objects.filter(story__in=[story.pk for story in stories if story.pk not in live]).delete()


def _entry(story: Story) -> dict[str, str]:
    headline, body = searchable(story.current.canonical)
    return {"headline": headline, "body": body}


def terms(query: str) -> list[str]:
    """The words and phrases of a reader's query, each of which a story must contain."""
    text = unicodedata.normalize("NFC", _CONTROL.sub(" ", query[:MAX_LENGTH]))
    found = (match.group(1) if match.group(1) is not None else match.group(0) for match in _TERM.finditer(text))
    return list(islice((term for term in found if _WORD.search(term)), MAX_TERMS))


def search(
    query: str,
    *,
    section: str | None = None,
    source: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    page: int | str | None = 1,
) -> Results:
    """The visible stories that contain every word and phrase of `query`, best first, one page of
    them. `section` and `source` are slugs; `since` and `until` days (inclusive) in the site's
    time zone. A page out of range gives the last one, as on every listing."""
    stories = Story.objects.visible()
    if section:
        stories = stories.filter(section=section)
    if source:
        stories = stories.filter(source__slug=source)
    # As instants, so that each match is compared on its index column. A day whose bound a
    # datetime cannot hold (before the year 1, after 9999) bounds nothing: any date a reader
    # types is a valid filter.
    if since and (start := _start_of(since)):
        stories = stories.filter(published_at__gte=start)
    if until and (end := _start_of(until, days=1)):
        stories = stories.filter(published_at__lt=end)
    found = terms(query)
    matches = _Matches(_ENGINES[connection.vendor], found, stories) if found else []
    return Results(Paginator(matches, PAGE_SIZE).get_page(page))


def _start_of(day: dt.date, days: int = 0) -> dt.datetime | None:
    """When the day `days` after `day` starts in the site's time zone; None past the calendar."""
    try:
        return queries.day_start(day + dt.timedelta(days=days))
    except OverflowError:
        return None


@dataclass(frozen=True)
class _Engine:
    # FROM and WHERE over the matching rows, for the query's terms; `key` names their story id.
    matching: Callable[[list[str]], tuple[str, list]]
    key: str
    rank: str  # higher is better
    snippet: str


def _fts5(found):
    # Each term an FTS5 string: a phrase to the tokenizer, never syntax. Terms hold no quote.
    return (
        "wiredesk_searchentry_fts WHERE wiredesk_searchentry_fts MATCH %s",
        [" ".join(f'"{term}"' for term in found)],
    )


def _tsquery(found):
    # phraseto_tsquery reads any text as words in a row: no input is a syntax error.
    query = " && ".join(["phraseto_tsquery('english', %s)"] * len(found))
    return f"wiredesk_searchentry, (SELECT {query}) AS search (query) WHERE vector @@ query", list(found)


_ENGINES = {
    "sqlite": _Engine(
        _fts5,
        key="wiredesk_searchentry_fts.rowid",
        # The headline weighs ten times the text.
        rank="-bm25(wiredesk_searchentry_fts, 10.0, 1.0)",
        snippet=f"snippet(wiredesk_searchentry_fts, 1, char({ord(OPEN)}), char({ord(CLOSE)}), '…', 32)",
    ),
    # ts_rank's default weights count a headline word (A) 1.0 and a word of the text (B) 0.4.
    "postgresql": _Engine(
        _tsquery,
        key="wiredesk_searchentry.story_id",
        rank="ts_rank(vector, query)",
        snippet=(
            f'ts_headline(\'english\', body, query, \'StartSel="{OPEN}", StopSel="{CLOSE}", MaxWords=20,'
            ' MinWords=10, MaxFragments=2, FragmentDelimiter=" … "\')'
        ),
    ),
}


class _Matches:
    """The matching stories as a sequence a Paginator can count and slice: each page asks the
    database for its rows only, and for its snippets only.

    A common word matches most of a million stories, and ranking them all to show twenty costs as
    much as reading them: so the matches ranked are the newest CANDIDATES (the newest stored
    first, which both engines read off their index in that order and stop), and the count stops
    there too (`more` says there were more). A rare word's matches are all of them."""

    def __init__(self, engine: _Engine, found: list[str], stories):
        self.engine = engine
        self.matching, self.params = engine.matching(found)
        # Whether each match may be seen, asked of its story row by its key: one lookup a match,
        # never a list of every visible story.
        scope, scope_params = stories.filter(pk=RawSQL(engine.key, ())).values("pk").query.sql_with_params()
        self.matching += f" AND EXISTS ({scope})"
        self.params += list(scope_params)

    def _rows(self, sql: str, params=()) -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(sql, [*self.params, *params])
            return cursor.fetchall()

    def _candidates(self, select: str, limit: int) -> str:
        return f"SELECT {select} FROM {self.matching} ORDER BY {self.engine.key} DESC LIMIT {int(limit)}"

    @cached_property
    def _counted(self) -> int:
        return self._rows(f"SELECT COUNT(*) FROM ({self._candidates('1', CANDIDATES + 1)}) AS candidates")[0][0]

    def count(self) -> int:
        return min(self._counted, CANDIDATES)

    @property
    def more(self) -> bool:
        return self._counted > CANDIDATES

    def __getitem__(self, window: slice) -> list[Hit]:
        key = self.engine.key
        # Equal ranks fall back to the story filed last, so that the pages never overlap.
        ranked = self._rows(
            f"SELECT found, rank FROM ({self._candidates(f'{key} AS found, {self.engine.rank} AS rank', CANDIDATES)})"
            " AS candidates ORDER BY rank DESC, found DESC LIMIT %s OFFSET %s",
            [window.stop - window.start, window.start],
        )
        ids = [story_id for story_id, _ in ranked]
        if not ids:
            return []
        marks = ", ".join(["%s"] * len(ids))
        snippets = dict(
            self._rows(f"SELECT {key}, {self.engine.snippet} FROM {self.matching} AND {key} IN ({marks})", ids)
        )
        stories = Story.objects.select_related("source").in_bulk(ids)
        # A story re-indexed between the two queries may no longer match: it has no snippet then.
        return [
            Hit(stories[story_id], _marked(snippets[story_id]), rank)
            for story_id, rank in ranked
            if story_id in snippets
        ]


def _marked(snippet: str) -> SafeString:
    return mark_safe(escape(snippet).replace(OPEN, "<mark>").replace(CLOSE, "</mark>"))


FILTERS = ("q", "section", "source", "from", "to")


def _day(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def page(request):
    """/search/?q=…&section=…&source=…&from=YYYY-MM-DD&to=YYYY-MM-DD&page=N"""
    asked = {name: value for name in FILTERS if (value := request.GET.get(name, "").strip())}
    if not all(slug_re.match(asked[name]) for name in ("section", "source") if name in asked):
        # The form offers slugs alone; anything else (a NUL, which PostgreSQL's text refuses,
        # included) is no reader's choice.
        return HttpResponseBadRequest(
            "section and source are slugs, such as news", content_type="text/plain; charset=utf-8"
        )
    query = asked.get("q", "")
    since, until = _day(asked.get("from", "")), _day(asked.get("to", ""))
    results = search(
        query,
        section=asked.get("section"),
        source=asked.get("source"),
        since=since,
        until=until,
        page=request.GET.get("page"),
    )
    return render(
        request,
        "wiredesk/search.html",
        {
            "query": query,
            "asked": asked,
            "since": since,
            "until": until,
            "results": results,
            # The page's own address without its page number, in one order, so each page has one URL.
            "address": urlencode(asked),
            # Each agency asked whether it has a story to show: one index seek each.
            "sources": (
                Source.objects.filter(Exists(Story.objects.visible().filter(source=OuterRef("pk"))))
                .order_by("name")
                .values_list("slug", "name")
            ),
            "sections": queries.sections(),
        },
    )
