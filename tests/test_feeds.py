"""The site's feeds: RSS 2.0, Atom 1.0 and JSON Feed 1.1, for the home page, sections, agencies
and topics, read the way feed readers and validators read them."""

import datetime as dt
import html
import json
import re
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import feedparser
import jsonfeedvalidator
import lxml.html
import pytest
import time_machine
from conftest import NOW, story_copy
from django.utils import timezone
from django.utils.http import http_date
from lxml import etree
from rfc3339_validator import validate_rfc3339

from wiredesk.models import Source, Story

ATOM = "{http://www.w3.org/2005/Atom}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"
DC = "{http://purl.org/dc/elements/1.1/}"
RFC822 = re.compile(
    r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"\d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}"
)
FILES = ("rss.xml", "atom.xml", "feed.json")


def feeds(scope: str = "") -> list[str]:
    """The three feeds of a page: "" for the home page, else "section/sport/" and the like."""
    return [f"/{scope or 'feeds/'}{name}" for name in FILES]


def ninjs(uri, headline, *paragraphs, category="News", topics=(), keywords=(), **fields) -> bytes:
    subjects = [
        {"name": category, "literal": f"category:{category}"},
        *({"name": t} for t in topics),
        *({"name": k, "literal": f"keyword:{k}"} for k in keywords),
    ]
    return json.dumps(
        {"uri": uri, "headline": headline, "body_text": "\n\n".join(paragraphs), "subject": subjects, **fields}
    ).encode()


@dataclass
class Item:
    id: str
    title: str
    published: dt.datetime
    updated: dt.datetime | None  # RSS has no time of update
    html: str


def read(client, url) -> list[Item]:
    """A feed's items, the same whatever its format."""
    response = client.get(url)
    assert response.status_code == 200, url
    if url.endswith(".json"):
        return [
            Item(
                i["id"],
                i["title"],
                dt.datetime.fromisoformat(i["date_published"]),
                dt.datetime.fromisoformat(i["date_modified"]),
                i["content_html"],
            )
            for i in json.loads(response.content)["items"]
        ]
    root = etree.fromstring(response.content)
    if root.tag == "rss":
        return [
            Item(
                i.findtext("guid"),
                i.findtext("title"),
                parsedate_to_datetime(i.findtext("pubDate")),
                None,
                i.findtext(CONTENT),
            )
            for i in root.iter("item")
        ]
    return [
        Item(
            e.findtext(f"{ATOM}id"),
            e.findtext(f"{ATOM}title"),
            dt.datetime.fromisoformat(e.findtext(f"{ATOM}published")),
            dt.datetime.fromisoformat(e.findtext(f"{ATOM}updated")),
            e.findtext(f"{ATOM}content"),
        )
        for e in root.iter(f"{ATOM}entry")
    ]


def ids(client, url) -> list[str]:
    return [item.id for item in read(client, url)]


def link(story: Story) -> str:
    return f"http://testserver{story.get_absolute_url()}"


def at(minutes: int) -> dt.datetime:
    return NOW + dt.timedelta(minutes=minutes)


def ago(minutes: int) -> dt.datetime:
    """A time in the past, whole seconds as RSS gives them: stories are never published ahead of now."""
    return (timezone.now() - dt.timedelta(minutes=minutes)).replace(microsecond=0)


@pytest.fixture
def wire(ingest):
    """Three live stories: two sections, two agencies, a few topics."""
    ingest(
        ninjs(
            "urn:t:rowers",
            "Rowers win gold in Oslo",
            "OSLO (HP) - The home crew won the final by a length.",
            "Thousands watched from the fjord.",
            category="Sport",
            topics=["Rowing"],
            keywords=["Olympics"],
            firstcreated=ago(180).isoformat(),
            language="en-GB",
        ),
        source="hp",
    )
    ingest(
        ninjs(
            "urn:t:shares",
            "Shares rise on port results",
            "PORT SALVIN (HP) - Shares in the port rose 4 percent.",
            category="Business",
            topics=["Markets"],
            firstcreated=ago(120).isoformat(),
        ),
        source="hp",
    )
    ingest(
        ninjs(
            "urn:t:relay",
            "Relay team sets a record",
            "DELHI (IANS) - The relay team ran the fastest time yet.",
            category="Sport",
            keywords=["Olympics"],
            firstcreated=ago(60).isoformat(),
        ),
        source="ians",
    )
    return {story.uri.rsplit(":", 1)[1]: story for story in Story.objects.all()}


# --- what the formats require ---------------------------------------------------------------------

SCOPES = ["", "section/sport/", "source/hp/", "topic/olympics/"]


@pytest.mark.parametrize("scope", SCOPES)
def test_rss_has_every_element_rss_2_requires_and_rfc_822_dates(client, wire, scope):
    root = etree.fromstring(client.get(feeds(scope)[0]).content)
    assert (root.tag, root.get("version")) == ("rss", "2.0")
    [channel] = root.findall("channel")
    assert all(channel.findtext(name) for name in ("title", "link", "description"))
    items = channel.findall("item")
    assert items and all(item.findtext("title") or item.findtext("description") for item in items)
    for date in [channel.findtext("lastBuildDate"), *(item.findtext("pubDate") for item in items)]:
        assert RFC822.fullmatch(date), date
    for item in items:
        story = Story.objects.get(pk=int(item.findtext("link").split("/")[4]))
        assert item.findtext("link") == item.findtext("guid") == link(story)
        assert item.find("guid").get("isPermaLink") == "true"
        assert parsedate_to_datetime(item.findtext("pubDate")) == story.published_at.replace(microsecond=0)
        assert item.findtext(f"{DC}creator") == story.source.name


@pytest.mark.parametrize("scope", SCOPES)
def test_atom_has_every_element_atom_1_requires_and_rfc_3339_dates(client, wire, scope):
    url = feeds(scope)[1]
    root = etree.fromstring(client.get(url).content)
    assert root.tag == f"{ATOM}feed"
    assert all(root.findtext(f"{ATOM}{name}") for name in ("id", "title", "updated"))
    assert root.findtext(f"{ATOM}id") == f"http://testserver{url}"
    entries = root.findall(f"{ATOM}entry")
    assert entries
    for entry in entries:
        assert all(entry.findtext(f"{ATOM}{name}") for name in ("id", "title", "updated"))
        assert entry.findtext(f"{ATOM}author/{ATOM}name")
        story = Story.objects.get(pk=int(entry.findtext(f"{ATOM}id").split("/")[4]))
        assert entry.find(f"{ATOM}link[@rel='alternate']").get("href") == entry.findtext(f"{ATOM}id") == link(story)
        assert dt.datetime.fromisoformat(entry.findtext(f"{ATOM}published")) == story.published_at
        assert dt.datetime.fromisoformat(entry.findtext(f"{ATOM}updated")) == story.updated_at
        assert entry.findtext(f"{ATOM}author/{ATOM}name") == story.source.name
    for date in root.iter(f"{ATOM}updated", f"{ATOM}published"):
        assert validate_rfc3339(date.text), date.text


@pytest.mark.parametrize("scope", SCOPES)
def test_json_feed_passes_the_validator_with_rfc_3339_dates(client, wire, scope):
    url = feeds(scope)[2]
    response = client.get(url)
    assert response["Content-Type"] == "application/feed+json"
    feed = json.loads(response.content)
    assert jsonfeedvalidator.validate_feed(feed) == []
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["feed_url"] == f"http://testserver{url}"
    assert feed["items"]
    for item in feed["items"]:
        story = Story.objects.get(pk=int(item["id"].split("/")[4]))
        assert item["id"] == item["url"] == link(story)
        assert item["author"] == {"name": story.source.name}
        assert validate_rfc3339(item["date_published"]) and validate_rfc3339(item["date_modified"])
        assert dt.datetime.fromisoformat(item["date_published"]) == story.published_at


@pytest.mark.parametrize("scope", SCOPES)
@pytest.mark.parametrize("kind", [0, 1])
def test_feedparser_reads_the_xml_feeds_without_complaint(client, wire, scope, kind):
    response = client.get(feeds(scope)[kind])
    feed = feedparser.parse(response.content, response_headers={"content-type": response["Content-Type"]})
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == ("rss20", "atom10")[kind]
    assert [entry.id for entry in feed.entries] == ids(client, feeds(scope)[kind])


def test_an_item_carries_the_story_whole(client, wire):
    story = wire["rowers"]
    paragraphs = ["OSLO (HP) - The home crew won the final by a length.", "Thousands watched from the fjord."]
    full = "<p>OSLO (HP) - The home crew won the final by a length.</p>\n<p>Thousands watched from the fjord.</p>"
    rss = etree.fromstring(client.get("/feeds/rss.xml").content).find(f"channel/item[guid='{link(story)}']")
    assert rss.findtext("title") == "Rowers win gold in Oslo"
    assert rss.findtext("description") == paragraphs[0]
    assert rss.findtext(CONTENT) == full
    assert [c.text for c in rss.findall("category")] == ["Sport", "Rowing", "Olympics"]
    atom = etree.fromstring(client.get("/feeds/atom.xml").content).find(f"{ATOM}entry[{ATOM}id='{link(story)}']")
    assert atom.find(f"{ATOM}summary").get("type") == atom.find(f"{ATOM}content").get("type") == "html"
    assert (atom.findtext(f"{ATOM}summary"), atom.findtext(f"{ATOM}content")) == (paragraphs[0], full)
    assert [c.get("term") for c in atom.findall(f"{ATOM}category")] == ["Sport", "Rowing", "Olympics"]
    assert atom.get("{http://www.w3.org/XML/1998/namespace}lang") == "en-GB"
    [item] = [i for i in json.loads(client.get("/feeds/feed.json").content)["items"] if i["id"] == link(story)]
    assert (item["title"], item["summary"], item["content_html"]) == ("Rowers win gold in Oslo", paragraphs[0], full)
    assert item["content_text"] == "\n\n".join(paragraphs)
    assert item["tags"] == ["Sport", "Rowing", "Olympics"]


def test_markup_and_accents_in_agency_copy_come_through_exactly_once_escaped(client, ingest):
    headline = "Tags <b>in</b> a “Zürich” headline & more"
    paragraphs = ('A reader saw "<script>alert(1)</script>" & more, naïvely.', "Then <img src=x onerror=alert(2)>.")
    ingest(story_copy(headline, dateline="", paragraphs=paragraphs))
    rss, atom, json_feed = (client.get(url) for url in feeds())
    assert "Zürich" in rss.content.decode("utf-8") and "Zürich" in atom.content.decode("utf-8")
    escaped = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    for item in read(client, "/feeds/rss.xml") + read(client, "/feeds/atom.xml") + read(client, "/feeds/feed.json"):
        assert (item.title, item.html) == (headline, escaped)
    [entry] = json.loads(json_feed.content)["items"]
    assert entry["content_text"] == "\n\n".join(paragraphs)
    for response in (rss, atom):
        [parsed] = feedparser.parse(response.content).entries
        assert parsed.title == headline


def test_control_characters_in_agency_copy_do_not_break_the_xml_feeds(client, ingest):
    ingest(ninjs("urn:t:ctl", "Form\u000cfeed \u001bheadline", "A para\u000cgraph with \u000b odd bytes."))
    for url in feeds()[:2]:
        [item] = read(client, url)
        assert item.title == "Form feed headline"
        assert item.html == "<p>A paragraph with  odd bytes.</p>"


# --- what readers may see --------------------------------------------------------------------------

ALL = [url for scope in SCOPES for url in feeds(scope)]


def test_a_killed_story_vanishes_from_every_feed(client, ingest, wire):
    rowers = link(wire["rowers"])
    assert all(rowers in ids(client, url) for url in ALL)
    [result] = ingest(ninjs("urn:t:rowers", "KILL: Rowers", version=2, pubstatus="canceled"), source="hp")
    assert result.outcome == "killed"
    for url in ALL:
        assert rowers not in ids(client, url), url
    assert all(client.get(url).status_code == 404 for url in feeds("topic/rowing/"))


def test_a_cache_asking_whether_a_feed_changed_is_told_of_a_kill(client, ingest, settings):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "django.middleware.http.ConditionalGetMiddleware"]
    ingest(story_copy("Older story about tides", paragraphs=("The tide ran high.",)), received_at=ago(60))
    ingest(ninjs("urn:t:dam", "Cracks found in the dam", "Inspectors found cracks."), source="hp")
    assert all("Cracks found" in client.get(url).text for url in feeds())
    read_at = http_date()
    ingest(ninjs("urn:t:dam", "KILL", version=2, pubstatus="canceled"), source="hp")
    for url in feeds():
        response = client.get(url, headers={"If-Modified-Since": read_at})
        assert response.status_code == 200 and "Cracks found" not in response.text


def test_an_embargoed_story_is_in_no_feed_before_its_time(client, ingest):
    with time_machine.travel(NOW, tick=False):
        [result] = ingest(
            ninjs(
                "urn:t:results",
                "Shipyard doubles its order book",
                "The yard has 14 ships on order.",
                category="Business",
                keywords=["Shipbuilding"],
                embargoed=at(30).isoformat(),
            ),
            source="hp",
        )
        assert result.outcome == "embargoed"
    urls = [*feeds(), *feeds("section/business/"), *feeds("source/hp/"), *feeds("topic/shipbuilding/")]
    with time_machine.travel(at(30) - dt.timedelta(seconds=1), tick=False):
        assert all(ids(client, url) == [] for url in feeds() + feeds("source/hp/"))
        # No other visible story names the section or the topic: until then, neither exists.
        assert all(
            client.get(url).status_code == 404 for url in feeds("section/business/") + feeds("topic/shipbuilding/")
        )
    with time_machine.travel(at(30), tick=False):
        story = Story.objects.get()
        assert all(ids(client, url) == [link(story)] for url in urls)
        assert {item.published for url in urls for item in read(client, url)} == {at(30)}


def test_an_update_keeps_the_guid_and_moves_the_updated_time(client, ingest):
    first, second = ago(30), ago(10)
    ingest(story_copy(), received_at=first)
    before = {url: read(client, url) for url in feeds()}
    ingest(story_copy(paragraphs=("The cranes worked again.", "Queues cleared by noon.")), received_at=second)
    story = Story.objects.get()
    for url in feeds():
        [old], [new] = before[url], read(client, url)
        assert new.id == old.id == link(story)
        # The copy's date field says the day the agency filed it, before it was received.
        assert new.published == old.published == story.published_at < first
        assert "Queues cleared by noon." in new.html and "Dock workers" not in new.html
        if new.updated is not None:
            assert (old.updated, new.updated) == (story.published_at, second)


def test_editors_notes_never_appear_and_a_correction_does(client, ingest):
    note = "Desk only: lawyers cleared paragraph two"
    ingest(
        ninjs(
            "urn:t:library",
            "Library to open on Sundays",
            "ARDEN (NW) - The library will open on Sundays.",
            "Councillor Piet Halvard announced it.",
            ednote=note,
        ),
        source="nw",
    )
    ingest(
        ninjs(
            "urn:t:library",
            "Library to open on Sundays",
            "ARDEN (NW) - The library will open on Sundays.",
            "Councillor Petra Halvard announced it.",
            version=2,
            ednote=f"CORRECTS name. {note}",
            descriptions=[{"role": "correction", "value": "An earlier version misnamed the councillor."}],
        ),
        source="nw",
    )
    for url in feeds() + feeds("section/news/") + feeds("source/nw/"):
        text = client.get(url).text
        assert "lawyers cleared" not in text and "CORRECTS" not in text, url
        [item] = read(client, url)
        assert item.html.startswith("<p><strong>Correction:</strong> An earlier version misnamed the councillor.</p>\n")
    [item] = json.loads(client.get("/feeds/feed.json").content)["items"]
    assert item["content_text"].startswith("Correction: An earlier version misnamed the councillor.\n\nARDEN (NW)")


def test_held_withheld_and_duplicate_stories_are_in_no_feed(client, ingest):
    Source.objects.create(slug="desk", name="Desk Wire", auto_publish=False)
    paragraphs = (
        "The harbour's cranes worked again on Monday after a week of repairs, the port authority said.",
        "Dock workers said queues of lorries had cleared by noon and ships were loading on schedule.",
    )
    [original] = ingest(story_copy(paragraphs=paragraphs), source="hp")
    outcomes = [
        ingest(story_copy(paragraphs=paragraphs), source="hp-reseller")[0].outcome,
        ingest(story_copy("Ferry fares rise", paragraphs=("Fares rise in March.",)), source="desk")[0].outcome,
        ingest(ninjs("urn:t:withheld", "Withheld story", "Not yet.", pubstatus="withheld"))[0].outcome,
    ]
    assert outcomes == ["duplicate", "held", "withheld"]
    for url in feeds() + feeds("section/news/"):
        assert ids(client, url) == [f"http://testserver{original.url}"]
    for url in feeds("source/hp-reseller/") + feeds("source/desk/") + feeds("source/ians/"):
        assert ids(client, url) == []


# --- scopes ----------------------------------------------------------------------------------------


def test_section_source_and_topic_feeds_list_only_their_stories(client, wire):
    expect = {
        "": ["relay", "shares", "rowers"],
        "section/sport/": ["relay", "rowers"],
        "section/business/": ["shares"],
        "source/hp/": ["shares", "rowers"],
        "source/ians/": ["relay"],
        "topic/olympics/": ["relay", "rowers"],
        "topic/rowing/": ["rowers"],
        "topic/markets/": ["shares"],
    }
    for scope, names in expect.items():
        for url in feeds(scope):
            assert ids(client, url) == [link(wire[name]) for name in names], url


def test_feeds_are_titled_after_their_scope(client, wire):
    titles = {
        "": "wiredesk",
        "section/sport/": "Sport · wiredesk",
        "source/hp/": "HP · wiredesk",
        "topic/olympics/": "Olympics · wiredesk",
    }
    for scope, title in titles.items():
        rss, atom, json_feed = (client.get(url).content for url in feeds(scope))
        assert etree.fromstring(rss).findtext("channel/title") == title
        assert etree.fromstring(atom).findtext(f"{ATOM}title") == title
        assert json.loads(json_feed)["title"] == title


def test_an_unknown_section_source_or_topic_is_404(client, wire):
    for scope in ("section/weather/", "source/nobody/", "topic/volcanoes/"):
        assert all(client.get(url).status_code == 404 for url in feeds(scope))


def test_a_feed_holds_the_newest_fifty_stories_newest_first(client, ingest):
    for n in range(52):
        words = " ".join(f"w{n}x{i}" for i in range(10))
        # No date field: each is published when received, a minute apart.
        ingest(story_copy(f"Story number {n}", paragraphs=(words,), date=None), received_at=ago(60 - n))
    newest = [link(s) for s in Story.objects.order_by("-published_at")[:50]]
    assert len(set(newest)) == 50 and Story.objects.visible().count() == 52
    for url in feeds() + feeds("section/news/") + feeds("source/ians/"):
        assert ids(client, url) == newest


# --- WebSub and discovery ---------------------------------------------------------------------------


def test_a_websub_hub_is_named_in_every_format_when_configured(client, wire, settings):
    rss, atom, json_feed = (client.get(url).content for url in feeds())
    assert etree.fromstring(rss).find("channel/{http://www.w3.org/2005/Atom}link[@rel='hub']") is None
    assert etree.fromstring(atom).find(f"{ATOM}link[@rel='hub']") is None
    assert "hubs" not in json.loads(json_feed)
    settings.WIREDESK = {**settings.WIREDESK, "WEBSUB_HUB": "https://hub.example.org/"}
    for scope in ("", "section/sport/"):
        rss, atom, json_feed = (client.get(url).content for url in feeds(scope))
        assert etree.fromstring(rss).find(f"channel/{ATOM}link[@rel='hub']").get("href") == "https://hub.example.org/"
        assert etree.fromstring(atom).find(f"{ATOM}link[@rel='hub']").get("href") == "https://hub.example.org/"
        assert json.loads(json_feed)["hubs"] == [{"type": "WebSub", "url": "https://hub.example.org/"}]
        assert jsonfeedvalidator.validate_feed(json.loads(json_feed)) == []


def test_pages_name_their_feeds_in_the_head(client, wire):
    types = ["application/rss+xml", "application/atom+xml", "application/feed+json"]

    def alternates(page):
        head = lxml.html.fromstring(client.get(page).content).head
        return [(tag.get("type"), tag.get("href")) for tag in head.iterfind("link[@rel='alternate']")]

    assert alternates("/") == list(zip(types, feeds()))
    assert alternates("/section/sport/") == list(zip(types, feeds("section/sport/"))) + list(zip(types, feeds()))
    assert alternates(wire["relay"].get_absolute_url()) == list(zip(types, feeds()))
    assert all(client.get(url).status_code == 200 for _, url in alternates("/section/sport/"))
