"""The lifecycle rules as a reader sees them, written in plain words in tests/scenarios/*.yaml.

Each scenario is a sequence of steps at given times: deliveries (in any format, inline), operator
actions, or just time passing. After each step, `then` says what a reader sees:

    outcomes: [published]            what the delivery's stories came to
    home: [Headline, ...]            the headlines on the home page, newest first (exactly)
    status: {uri: 200|404|410}       what each story's URL answers
    shows: {uri: [text, ...]}        text the story's page shows
    hidden: [text, ...]              text no page or feed shows (home, feeds, every story page)

After every step the home feeds (RSS, Atom, JSON Feed) must list exactly the home page's
headlines, the sitemap exactly the stories readers can see, and a search for each story's
headline must find it exactly when readers can see it.

Wire control codes are written <SOH>, <STX>, <ETX>, <EOT> and <SYN>. `sources` sets a source's
publishing policy before the first step.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import time_machine
import yaml
from lxml import etree

from wiredesk.desk import actions, pipeline
from wiredesk.models import Source, Story
from wiredesk.publish import search

SCENARIOS = Path(__file__).parent / "scenarios"
CONTROL = {"<SOH>": "\x01", "<STX>": "\x02", "<ETX>": "\x03", "<EOT>": "\x04", "<SYN>": "\x16"}


def load() -> list[tuple[str, dict]]:
    cases = []
    for path in sorted(SCENARIOS.glob("*.yaml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8")):
            cases.append((f"{path.stem}: {case['name']}", case))
    return cases


CASES = load()


@pytest.mark.parametrize("case", [case for _, case in CASES], ids=[name for name, _ in CASES])
def test_scenario(case, client, db):
    for slug, policy in (case.get("sources") or {}).items():
        Source.objects.create(slug=slug, name=slug.upper(), **policy)
    for number, step in enumerate(case["steps"], start=1):
        with time_machine.travel(_time(step["at"]), tick=False):
            outcomes = _act(step)
            _check(client, step.get("then") or {}, outcomes, f"step {number} ({step['at']})")


def _time(value) -> dt.datetime:
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))


def _act(step: dict) -> list[str]:
    if "deliver" in step:
        data = step["deliver"]
        for name, code in CONTROL.items():
            data = data.replace(name, code)
        delivery = pipeline.receive(
            data.encode(step.get("encoding", "utf-8")),
            source=step.get("source", "wire"),
            transport=step.get("transport", "cli"),
        )
        return [str(result.outcome) for result in pipeline.process(delivery.pk, again=delivery.again)]
    if "operator" in step:
        action, ref, *reason = step["operator"].split(maxsplit=2)
        story = actions.find(ref)
        if action == "release":
            actions.release(story)
        else:
            getattr(actions, action)(story, *reason)
    return []


def _check(client, then: dict, outcomes: list[str], where: str) -> None:
    if "outcomes" in then:
        assert outcomes == then["outcomes"], f"{where}: outcomes"
    home = client.get("/").text
    headlines = [html.unescape(h) for h in re.findall(r'<h2><a href="[^"]+">([^<]+)</a></h2>', home)]
    if "home" in then:
        assert headlines == then["home"], f"{where}: the home page"
    # Whatever the page lists, the feeds and the sitemap list too: no output lags a kill or an embargo.
    for feed in ("/feeds/rss.xml", "/feeds/atom.xml"):
        titles = [e.text for e in etree.fromstring(client.get(feed).content).iter("{*}title")][1:]
        assert titles == headlines, f"{where}: {feed}"
    assert [i["title"] for i in client.get("/feeds/feed.json").json()["items"]] == headlines, f"{where}: JSON Feed"
    sitemap = etree.fromstring(client.get("/sitemaps/articles.xml").content)
    listed = {urlsplit(loc.text).path for loc in sitemap.iter("{*}loc")}
    assert listed == {s.get_absolute_url() for s in Story.objects.visible()}, f"{where}: the sitemap"
    for story in Story.objects.select_related("current"):
        found = {hit.story.pk for hit in search.search(story.current.canonical.headline).hits}
        assert (story.pk in found) == story.is_visible(), f"{where}: searching for {story.uri}"
    for uri, status in (then.get("status") or {}).items():
        assert client.get(_url(uri)).status_code == status, f"{where}: {uri}"
    for uri, texts in (then.get("shows") or {}).items():
        page = html.unescape(client.get(_url(uri)).text)
        for text in texts:
            assert text in page, f"{where}: {uri} should show {text!r}"
    if hidden := then.get("hidden"):
        pages = [
            home,
            *(client.get(feed).text for feed in ("/feeds/rss.xml", "/feeds/atom.xml", "/feeds/feed.json")),
            *(client.get(story.get_absolute_url()).text for story in Story.objects.all()),
        ]
        for text in hidden:
            assert not any(text in html.unescape(page) for page in pages), f"{where}: {text!r} must not show"


def _url(uri: str) -> str:
    return Story.objects.get(uri=uri).get_absolute_url()
