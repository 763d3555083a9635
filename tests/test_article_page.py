"""What readers see of a story on its page and in the feeds (issue 12): topics by their names,
the sub-headline, the byline in the JSON-LD, the dateline once, and when it was updated."""

import datetime as dt
import json

import pytest
from django.utils import timezone
from lxml import etree
from test_pages import linked_data, metas, ninjs, page
from test_quality import _vocabulary, schema_org_problems

from wiredesk.models import Story

ATOM = "{http://www.w3.org/2005/Atom}"
MEDIATOPIC = "http://cv.iptc.org/newscodes/mediatopic/"
SUBJECTCODE = "http://cv.iptc.org/newscodes/subjectcode/"


def nitf(
    *, hl2="", dateline="", lede="Night trams will run again on the river line from Friday.", subjects=(), by=""
) -> bytes:
    """A fictional NITF story from a fictional agency, KPW."""
    subjects = "".join(f'<tobject.subject tobject.subject.refnum="{code}"/>' for code in subjects)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<nitf>
  <head>
    <tobject tobject.type="news">{subjects}</tobject>
    <docdata>
      <doc-id regsrc="KPW" id-string="KPW-2026-1103-trams"/>
      <date.issue norm="20261103T090000+0100"/>
    </docdata>
  </head>
  <body>
    <body.head>
      <hedline><hl1>Night trams return to the river line</hl1>{f"<hl2>{hl2}</hl2>" if hl2 else ""}</hedline>
      {f"<byline>{by}</byline>" if by else ""}
      {f"<dateline>{dateline}</dateline>" if dateline else ""}
    </body.head>
    <body.content><p>{lede}</p><p>Riders had asked for them since the spring.</p></body.content>
  </body>
</nitf>
""".encode()


def article(client):
    """The page of the one story the test ingested."""
    return page(client, Story.objects.get().get_absolute_url())


# --- topics: IPTC's label, never a bare code ------------------------------------------------------

CODED = [
    {"uri": MEDIATOPIC + "04000000"},  # a Media Topic by its uri alone
    {"literal": "medtop:20000005"},  # by its QCode alone
    {"name": "subj:01005000", "literal": "subj:01005000"},  # an old subject code, cinema's exact match
    {"uri": SUBJECTCODE + "07000000"},
    {"name": "Ferries", "uri": MEDIATOPIC + "20000543"},  # the agency's own name is the one shown
    {"literal": "medtop:99999999"},  # no such topic: nothing better to show than what came
]
LABELS = ["economy, business and finance", "cinema", "health", "Ferries", "medtop:99999999"]


def test_topics_sent_as_codes_are_shown_by_iptcs_labels(client, ingest):
    ingest(ninjs("urn:t:codes", "Ferry fares rise", subject=CODED), source="hp")
    filed = article(client).xpath("//div[@class='filed']//p[starts-with(., 'Topics')]")[0]
    assert filed.xpath("a/text()") == LABELS
    assert filed.xpath("a/@href")[0] == "/topic/economy-business-and-finance/"
    topic = page(client, "/topic/economy-business-and-finance/")
    assert topic.xpath("string(//h1)") == "economy, business and finance"
    assert topic.xpath("//ul[@class='stories']//h2/a/text()") == ["Ferry fares rise"]


def test_a_media_topic_and_its_subject_code_are_one_topic(client, ingest):
    ingest(
        ninjs(
            "urn:t:twice",
            "Markets close higher",
            subject=[{"literal": "medtop:04000000"}, {"literal": "subj:04000000"}],
        ),
        source="hp",
    )
    assert article(client).xpath("//div[@class='filed']//a[starts-with(@href, '/topic/')]/text()") == [
        "economy, business and finance"
    ]


def test_nitf_subject_codes_are_shown_by_their_labels(client, ingest):
    ingest(nitf(subjects=["04000000", "15000000"]), source="kpw")
    assert article(client).xpath("//div[@class='filed']//a[starts-with(@href, '/topic/')]/text()") == [
        "economy, business and finance",
        "sport",
    ]


def test_feed_categories_name_topics_by_their_labels(client, ingest):
    ingest(ninjs("urn:t:codes", "Ferry fares rise", subject=CODED), source="hp")
    # The section first: a story filed by its Media Topic is in Business.
    rss = etree.fromstring(client.get("/feeds/rss.xml").content)
    assert rss.xpath("//item/category/text()") == ["Business", *LABELS]
    [item] = json.loads(client.get("/feeds/feed.json").content)["items"]
    assert item["tags"] == ["Business", *LABELS]


# --- the sub-headline ------------------------------------------------------------------------------

STANDFIRST = "The city brings back a service it cut in the spring"


def test_the_nitf_sub_headline_stands_under_the_headline(client, ingest):
    ingest(nitf(hl2=STANDFIRST), source="kpw")
    [header] = article(client).xpath("//article/header")
    [h1] = header.xpath("h1")
    assert h1.getnext().tag == "p" and h1.getnext().get("class") == "standfirst"
    assert h1.getnext().text_content() == STANDFIRST


def test_without_a_sub_headline_there_is_no_standfirst(client, ingest):
    ingest(nitf(), source="kpw")
    assert not article(client).xpath("//*[@class='standfirst']")


def test_the_feeds_summarise_a_story_by_its_sub_headline(client, ingest):
    ingest(nitf(hl2=STANDFIRST), source="kpw")
    rss = etree.fromstring(client.get("/feeds/rss.xml").content)
    assert rss.findtext("channel/item/description") == STANDFIRST
    atom = etree.fromstring(client.get("/feeds/atom.xml").content)
    assert atom.findtext(f"{ATOM}entry/{ATOM}summary") == STANDFIRST
    [item] = json.loads(client.get("/feeds/feed.json").content)["items"]
    assert item["summary"] == STANDFIRST
    # The text itself is unchanged: the sub-headline is not part of the agency's paragraphs.
    assert item["content_text"].startswith("Night trams will run again")


# --- the byline in the JSON-LD ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "by, people",
    [
        ("By Jane Doe", ["Jane Doe"]),
        ("Von Anna Beispiel", ["Anna Beispiel"]),
        ("Por Lucía Ejemplo", ["Lucía Ejemplo"]),
        ("Par Claire Exemple", ["Claire Exemple"]),
        ("BY JANE DOE", ["JANE DOE"]),
        ("Kari Nordmann", ["Kari Nordmann"]),
        ("By Jane Doe and Tomas Lind", ["Jane Doe", "Tomas Lind"]),
        ("Par Claire Exemple, Luc Essai et Marie Test", ["Claire Exemple", "Luc Essai", "Marie Test"]),
        ("Von Anna Beispiel und Max Muster, HP", ["Anna Beispiel", "Max Muster"]),  # the agency is no person
        ("By Jane Doe, Transport Correspondent", ["Jane Doe"]),  # nor is a title
    ],
)
def test_a_byline_makes_its_people_the_authors_and_the_agency_the_source(client, ingest, settings, by, people):
    settings.WIREDESK = {**settings.WIREDESK, "SITE_NAME": "Harbour Daily"}
    ingest(ninjs("urn:t:byline", "Rowers win gold", by=by), source="hp")
    data = linked_data(article(client))
    persons = [{"@type": "Person", "name": name} for name in people]
    assert data["author"] == (persons[0] if len(persons) == 1 else persons)
    assert data["sourceOrganization"] == {"@type": "Organization", "name": "HP"}
    assert data["publisher"] == {"@type": "Organization", "name": "Harbour Daily"}
    assert schema_org_problems({k: v for k, v in data.items() if k != "@context"}, *_vocabulary()) == []


@pytest.mark.parametrize("by", [None, "HP", "By HP"])
def test_without_a_persons_byline_the_agency_is_the_author(client, ingest, by):
    ingest(ninjs("urn:t:byline", "Rowers win gold", **({"by": by} if by else {})), source="hp")
    assert linked_data(article(client))["author"] == {"@type": "Organization", "name": "HP"}


def test_the_nitf_byline_names_the_authors(client, ingest):
    ingest(nitf(by="By Jane Doe and Tomas Lind"), source="kpw")
    data = linked_data(article(client))
    assert data["author"] == [{"@type": "Person", "name": "Jane Doe"}, {"@type": "Person", "name": "Tomas Lind"}]
    # The page still shows the byline as the agency wrote it.
    assert article(client).xpath("string(//p[@class='meta'])").startswith("By Jane Doe and Tomas Lind · ")


# --- the dateline, once ----------------------------------------------------------------------------


def lede(client) -> tuple[str, str]:
    """The first paragraph as a reader sees it, and what of it is set as the dateline."""
    [first] = article(client).xpath("//div[@class='story-body']/p[1]")
    return first.text_content(), first.xpath("string(span[@class='dateline'])")


@pytest.mark.parametrize(
    "dateline, first, shown",
    [
        ("BERLIN, Nov 3 (KPW)", "BERLIN, Nov 3 (KPW) - Night trams will run again.", "BERLIN, Nov 3 (KPW)"),
        ("Berlin, Nov. 3 (KPW) -", "BERLIN, Nov. 3 (KPW) - Night trams will run again.", "BERLIN, Nov. 3 (KPW)"),
        (
            "<location><city>BERLIN</city></location>, Nov 3",
            "BERLIN (KPW) - Night trams will run again.",
            "BERLIN (KPW)",
        ),
    ],
)
def test_a_nitf_dateline_the_lede_opens_with_is_shown_once(client, ingest, dateline, first, shown):
    ingest(nitf(dateline=dateline, lede=first), source="kpw")
    assert lede(client) == (first, shown)


@pytest.mark.parametrize(
    "dateline, place, first, shown",
    [
        # The lede opens with the dateline, written differently: case, spaces, a closing dash.
        ("BERLIN, Nov 3 (KPW)", "BERLIN", "BERLIN, Nov 3 (KPW) - Trams run.", "BERLIN, Nov 3 (KPW)"),
        ("Berlin, Nov 3 (KPW)", "Berlin", "BERLIN, Nov 3 (KPW) - Trams run.", "BERLIN, Nov 3 (KPW)"),
        ("BERLIN,  Nov 3\u00a0(KPW) -", "BERLIN", "BERLIN, Nov 3 (KPW) – Trams run.", "BERLIN, Nov 3 (KPW)"),
        ("BERLIN, Nov 3 (KPW):", "BERLIN", "Berlin, Nov 3 (KPW): Trams run.", "Berlin, Nov 3 (KPW)"),
        ("BERLIN, Nov 3", "BERLIN", "BERLIN, Nov 3 (KPW) - Trams run.", "BERLIN, Nov 3 (KPW)"),
        # The lede opens with the dateline's place and a dateline of its own.
        ("BERLIN, Nov 3", "BERLIN", "BERLIN (KPW) - Trams run.", "BERLIN (KPW)"),
        ("BERLIN, Nov 3 (KPW)", "BERLIN", "BERLIN - Trams run.", "BERLIN"),
        ("BERLIN, Nov 3 (KPW)", "BERLIN", "BERLIN, Nov. 3 - Trams run.", "BERLIN, Nov. 3"),
        ("BERLIN, Nov 3 (KPW)", "BERLIN", "BERLIN, Nov 3 Trams run.", "BERLIN, Nov 3"),
        ("Bad Salzig, 3. November", "Bad Salzig", "BAD  SALZIG (KPW) — Trams run.", "BAD  SALZIG (KPW)"),
        ("BERLIN, Nov 3", "BERLIN", "BERLIN: Trams run.", "BERLIN"),
    ],
)
def test_a_lede_that_opens_with_its_dateline_is_shown_as_the_agency_wrote_it(
    client, ingest, dateline, place, first, shown
):
    ingest(
        ninjs(
            "urn:t:dl",
            "Trams run",
            first,
            "More.",
            descriptions=[{"role": "dateline", "value": dateline}],
            located=place,
        ),
        source="kpw",
    )
    assert lede(client) == (first, shown)


@pytest.mark.parametrize(
    "dateline, place, first, text",
    [
        ("BERLIN, Nov 3 (KPW)", "BERLIN", "Night trams run.", "BERLIN, Nov 3 (KPW) — Night trams run."),
        # The place as a word of the sentence, not a dateline.
        ("BERLIN, Nov 3 (KPW)", "BERLIN", "Berlin's trams run.", "BERLIN, Nov 3 (KPW) — Berlin's trams run."),
        (
            "BERLIN, Nov 3 (KPW)",
            "BERLIN",
            "Berlin, the capital, runs trams.",
            "BERLIN, Nov 3 (KPW) — Berlin, the capital, runs trams.",
        ),
        (
            "BERLIN, Nov 3 (KPW)",
            "BERLIN",
            "Berliners ride trams - again.",
            "BERLIN, Nov 3 (KPW) — Berliners ride trams - again.",
        ),
        # A dateline that ends with its own dash needs no second one.
        ("BERLIN (KPW) -", "BERLIN", "Night trams run.", "BERLIN (KPW) - Night trams run."),
    ],
)
def test_a_dateline_the_lede_lacks_is_set_before_it_once(client, ingest, dateline, place, first, text):
    ingest(
        ninjs(
            "urn:t:dl",
            "Trams run",
            first,
            "More.",
            descriptions=[{"role": "dateline", "value": dateline}],
            located=place,
        ),
        source="kpw",
    )
    shown, span = lede(client)
    assert shown == text and span == dateline
    assert shown.count(dateline) == 1


def test_the_description_leaves_out_the_ledes_own_dateline(client, ingest):
    ingest(
        ninjs(
            "urn:t:dl",
            "Trams run",
            "BERLIN (KPW) - Night trams run again.",
            descriptions=[{"role": "dateline", "value": "BERLIN, Nov 3"}],
            located="BERLIN",
        ),
        source="kpw",
    )
    doc = article(client)
    assert metas(doc)["description"] == linked_data(doc)["description"] == "Night trams run again."


# --- published and updated -------------------------------------------------------------------------

PUBLISHED = dt.datetime(2026, 11, 3, 8, 0, tzinfo=dt.UTC)


def times(client, ingest, after: dt.timedelta):
    """The article of a story whose row says it was updated `after` its publication."""
    ingest(ninjs("urn:t:times", "Trams run"), source="hp")
    Story.objects.update(published_at=PUBLISHED, updated_at=PUBLISHED + after)
    return article(client), Story.objects.get()


@pytest.mark.parametrize("after", [dt.timedelta(0), dt.timedelta(seconds=30), dt.timedelta(minutes=1)])
def test_a_story_changed_within_a_minute_of_publication_is_not_shown_as_updated(client, ingest, after):
    doc, row = times(client, ingest, after)
    meta = doc.xpath("string(//article//p[@class='meta'])")
    assert "Published" in meta and "Updated" not in meta
    assert doc.xpath("//p[@class='meta']//time/@datetime") == [f"{timezone.localtime(PUBLISHED):%Y-%m-%dT%H:%M:%S%z}"]
    assert "updated" not in page(client, "/").xpath("string(//ul[@class='stories']/li)")


@pytest.mark.parametrize("after", [dt.timedelta(minutes=1, seconds=1), dt.timedelta(hours=5)])
def test_a_story_changed_later_shows_both_times(client, ingest, after):
    doc, row = times(client, ingest, after)
    meta = doc.xpath("string(//article//p[@class='meta'])")
    assert "Published" in meta and "Updated" in meta
    published, updated = doc.xpath("//p[@class='meta']//time/@datetime")
    assert dt.datetime.strptime(published, "%Y-%m-%dT%H:%M:%S%z") == PUBLISHED
    assert dt.datetime.strptime(updated, "%Y-%m-%dT%H:%M:%S%z") == PUBLISHED + after
    assert "updated" in page(client, "/").xpath("string(//ul[@class='stories']/li)")


def test_the_json_ld_and_opengraph_times_are_the_rows(client, ingest):
    doc, row = times(client, ingest, dt.timedelta(hours=2))
    data = linked_data(doc)
    assert dt.datetime.fromisoformat(data["datePublished"]) == row.published_at == PUBLISHED
    assert dt.datetime.fromisoformat(data["dateModified"]) == row.updated_at == PUBLISHED + dt.timedelta(hours=2)
    assert dt.datetime.fromisoformat(metas(doc)["article:published_time"]) == PUBLISHED
    assert dt.datetime.fromisoformat(metas(doc)["article:modified_time"]) == PUBLISHED + dt.timedelta(hours=2)
