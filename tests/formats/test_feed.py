"""RSS, RDF and Atom feeds, from bytes to Stories. Pure Python: no Django, no database.

Fixtures live in tests/fixtures/feed/, one file per edge case, named after the case. The
format module is called directly: registering it in formats.FORMATS is the desk's decision.
"""

from __future__ import annotations

import builtins
import datetime as dt
import json
import socket

import pytest
from corpus import CORPUS, fixtures
from ninjs import ninjs_errors

from wiredesk import formats
from wiredesk.formats import Context, FormatError, feed
from wiredesk.lifecycle import Known, Outcome, StoredVersion, decide
from wiredesk.story import Dateline, Subject, WireStory

FIXTURES, fixture = fixtures("feed")

RECEIVED = dt.datetime(2026, 3, 5, 9, 30, tzinfo=dt.UTC)
CONTEXT = Context(source="hp", received=RECEIVED)
READABLE = [
    "atom-basic.xml",
    "atom-updated-moves.xml",
    "atom-xhtml-content.xml",
    "atom-xhtml-table-only.xml",
    "rss1-rdf.xml",
    "rss2-basic.xml",
    "rss2-cp1252-declared.xml",
    "rss2-double-escaped-entities.xml",
    "rss2-html-description.xml",
    "rss2-no-guid-uses-link.xml",
    "rss2-table-only.xml",
]
REFUSED = ["rss-entity-bomb.xml", "rss-truncated.xml"]


def parse(data: bytes) -> list[WireStory]:
    return feed.parse(data, CONTEXT)


def by_uri(stories: list[WireStory]) -> dict[str, WireStory]:
    return {story.uri: story for story in stories}


def test_every_fixture_file_is_tested():
    assert sorted(p.name for p in FIXTURES.iterdir()) == sorted(READABLE + REFUSED)


# --- RSS 2.0 ------------------------------------------------------------------------------------


def test_rss2_basic_reads_every_field():
    stories = by_uri(parse(fixture("rss2-basic.xml")))
    story = stories["https://harbourpost.example/id/hp-2026-0304-017"]
    assert story.version is None
    assert story.headline == "Port Salvin reopens its north quay after storm repairs"
    assert story.headline_derived is False
    assert story.subheadline is None
    assert story.paragraphs == [
        "PORT SALVIN, March 4 (HP) - The north quay reopened on Wednesday after three weeks of storm repairs.",
        "Ferries to the outer islands will run to the old timetable from Friday.",
    ]
    assert story.dateline == Dateline(
        text="PORT SALVIN, March 4 (HP)", place="PORT SALVIN", date=dt.date(2026, 3, 4), agency="HP"
    )
    assert story.language == "en-gb"
    assert story.firstcreated == dt.datetime(2026, 3, 4, 8, 15, tzinfo=dt.UTC)
    assert story.versioncreated == story.firstcreated
    assert story.pubstatus == "usable"
    assert story.by == "Mara Lind"
    assert story.subjects == [
        Subject(name="Local", literal="category:Local"),
        Subject(name="Transport", literal="category:Transport"),
    ]
    assert story.copyrightnotice == "© 2026 Harbour Post"
    assert story.format == "feed"


def test_rss2_guid_that_is_not_a_uri_becomes_a_urn_of_the_source():
    story = by_uri(parse(fixture("rss2-basic.xml")))["urn:wiredesk:hp:id:HP%202026-0304-018"]
    assert story.headline == "Valmora fish market moves indoors for the winter"
    assert story.dateline is None
    assert story.by is None


def test_entries_come_out_oldest_first():
    stories = parse(fixture("rss2-basic.xml"))
    assert [s.headline for s in stories] == [
        "Valmora fish market moves indoors for the winter",
        "Port Salvin reopens its north quay after storm repairs",
    ]


def test_html_description_gives_one_paragraph_per_block_and_table_row_without_scripts_styles_or_figures():
    story = parse(fixture("rss2-html-description.xml"))[0]
    assert story.paragraphs == [
        "SKERRA POINT, March 4 (HP) - A museum of the lighthouse keepers who tended the point for two "
        "centuries opened on Wednesday.",
        "Logbooks and lamps",
        "Visitors can read the keepers' logbooks\nand climb to the lamp room.",
        "Open daily from 10:00",
        "Entry is free for children",
        '"Every storm is in these books," said curator Ines Halvorsen.',
        "The museum expects 20,000 visitors\xa0a year.",
        "Month | Guided tours",
        "June | 4",
    ]
    assert story.dateline.place == "SKERRA POINT"


def test_html_without_blocks_splits_on_double_br_and_blank_lines():
    story = by_uri(parse(fixture("rss2-html-description.xml")))["https://harbourpost.example/id/hp-2026-0304-022"]
    assert story.paragraphs == [
        "Morning ferries to Valmora leave ten minutes earlier from Monday.",
        "The evening service keeps its times.",
        "Tickets bought before Monday stay valid.",
    ]


def test_double_escaped_entities_and_markup_are_decoded_once_more():
    story = parse(fixture("rss2-double-escaped-entities.xml"))[0]
    assert story.headline == "Valmora's tram & ferry pass wins R&D award"
    assert story.paragraphs == [
        "The city's combined tram & ferry pass won a transport award on Wednesday.",
        '"It\'s one ticket for the whole harbour," said Aldo Brix.',
    ]
    assert story.subjects == [Subject(name="Trams & ferries", literal="category:Trams & ferries")]
    text = json.dumps(story.to_dict(), ensure_ascii=False)
    for residue in ("&apos;", "&amp;", "&quot;", "&#39;", "&lt;", "<p>"):
        assert residue not in text


def test_an_ampersand_without_semicolon_is_not_taken_for_an_entity():
    story = parse(
        b'<rss version="2.0"><channel><item><guid>urn:x:1</guid>'
        b"<title>Salt&amp;nothing else &amp;copy</title></item></channel></rss>"
    )[0]
    assert story.headline == "Salt&nothing else &copy"


def test_cp1252_declared_feed_decodes_exactly():
    assert b"\x93Caf\xe9 Brix\x94 reopens \x96 tickets at \x8012" in fixture("rss2-cp1252-declared.xml")
    story = parse(fixture("rss2-cp1252-declared.xml"))[0]
    assert story.headline == "“Café Brix” reopens – tickets at €12"
    assert story.paragraphs == ["The harbour’s oldest café reopened on Wednesday, said owner Zoë Brix."]


def test_item_without_guid_is_identified_by_its_link_and_one_with_neither_is_skipped(caplog):
    stories = parse(fixture("rss2-no-guid-uses-link.xml"))
    assert [s.uri for s in stories] == ["https://harbourpost.example/2026/03/04/bridge-inspection"]
    assert "entry 2 skipped: the entry has no id, guid or link" in caplog.text


def test_a_feed_without_a_usable_entry_is_refused_with_each_reason():
    data = b'<rss version="2.0"><channel><item><title>Lost</title></item></channel></rss>'
    with pytest.raises(FormatError, match="entry 1: the entry has no id, guid or link"):
        parse(data)


def test_a_feed_without_entries_is_refused():
    with pytest.raises(FormatError, match="the feed has no entries"):
        parse(b'<rss version="2.0"><channel><title>Quiet</title></channel></rss>')


def test_entry_without_title_gets_a_headline_derived_from_the_lede():
    data = (
        b'<rss version="2.0"><channel><item><guid>urn:x:2</guid><description>'
        b"VALMORA, March 4 (HP) - The ferry ran late. Nobody minded.</description></item></channel></rss>"
    )
    story = parse(data)[0]
    assert story.headline == "The ferry ran late"
    assert story.headline_derived is True


def test_entry_without_dates_takes_the_received_time():
    story = parse(b'<rss version="2.0"><channel><item><guid>urn:x:3</guid><title>T</title></item></channel></rss>')[0]
    assert story.firstcreated == story.versioncreated == RECEIVED
    assert story.paragraphs == []


# --- Atom ---------------------------------------------------------------------------------------


def test_atom_basic_reads_every_field_and_prefers_the_fuller_content_to_the_summary():
    story = parse(fixture("atom-basic.xml"))[0]
    assert story.uri == "tag:harbourpost.example,2026:hp-2026-0304-041"
    assert story.version is None
    assert story.headline == "Tram & ferry workers agree new pay deal"
    assert story.paragraphs == [
        "VALMORA, March 4 (HP) - Tram and ferry workers agreed a two-year pay deal on Wednesday, "
        "ending a month of overtime bans.",
        "The deal raises pay by four percent this year and three percent next year.",
    ]
    assert story.dateline == Dateline(
        text="VALMORA, March 4 (HP)", place="VALMORA", date=dt.date(2026, 3, 4), agency="HP"
    )
    assert story.language == "en"
    assert story.firstcreated == dt.datetime(2026, 3, 4, 8, 0, tzinfo=dt.UTC)
    assert story.versioncreated == dt.datetime(2026, 3, 4, 9, 30, tzinfo=dt.UTC)
    assert story.by == "Mara Lind, Tomas Brekke"
    assert story.subjects == [
        Subject(name="Economy", literal="category:economy"),
        Subject(name="transport", literal="category:transport"),
    ]
    assert story.copyrightnotice == "© 2026 Harbour Post. All rights reserved."


def test_atom_summary_is_used_when_there_is_no_content():
    data = fixture("atom-basic.xml")
    start, end = data.index(b"<content"), data.index(b"</content>") + len(b"</content>")
    story = parse(data[:start] + data[end:])[0]
    assert story.paragraphs == ["Tram and ferry workers have a new pay deal."]


def test_atom_versions_of_one_entry_share_the_uri_and_differ_in_fingerprint_oldest_first():
    first, second = parse(fixture("atom-updated-moves.xml"))
    assert first.uri == second.uri == "tag:harbourpost.example,2026:hp-2026-0304-051"
    assert first.version is second.version is None
    assert first.versioncreated < second.versioncreated
    assert first.headline == "Storm closes Skerra Point harbour"
    assert second.headline == "Storm closes Skerra Point harbour; ferries cancelled"
    assert first.fingerprint() != second.fingerprint()


def test_updated_moving_without_a_change_of_content_keeps_the_fingerprint():
    data = fixture("atom-basic.xml")
    moved = data.replace(
        b"<updated>2026-03-04T10:30:00+01:00</updated>", b"<updated>2026-03-04T18:00:00+01:00</updated>"
    )
    assert moved != data
    before, after = parse(data)[0], parse(moved)[0]
    assert after.versioncreated > before.versioncreated
    assert after.fingerprint() == before.fingerprint()


def test_the_desk_numbers_feed_versions_by_content_and_ignores_a_second_poll():
    known = None
    outcomes = []
    for story in parse(fixture("atom-updated-moves.xml")) * 2:
        decision = decide(known, story, now=RECEIVED)
        outcomes.append((decision.outcome, decision.version))
        if decision.stored:
            version = StoredVersion(decision.version, story.fingerprint(), story.version, story.versioncreated)
            known = Known(decision.state, (*(known.versions if known else ()), version), published_at=RECEIVED)
    assert outcomes == [(Outcome.PUBLISHED, 1), (Outcome.UPDATED, 2), (Outcome.UNCHANGED, 1), (Outcome.UNCHANGED, 2)]


def test_atom_xhtml_content_and_title_are_read_as_markup():
    story = parse(fixture("atom-xhtml-content.xml"))[0]
    assert story.headline == "Choir of Valmora tours the islands"
    assert story.paragraphs == [
        "The Valmora town choir will sing in six island churches this summer.",
        "Programme",
        "Harbour songs",
        "A new mass",
        "by the choir's director",
        '"We sing where the ferries go," said Lene Dahl.',
    ]
    assert story.language == "en-GB"
    assert story.firstcreated == story.versioncreated == dt.datetime(2026, 3, 4, 17, 0, tzinfo=dt.UTC)


def test_atom_text_title_keeps_angle_brackets_as_text():
    data = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>urn:x:4</id>'
        b"<title>Tide &lt;b&gt; than forecast</title></entry></feed>"
    )
    assert parse(data)[0].headline == "Tide <b> than forecast"


@pytest.mark.parametrize(
    ("name", "rows"),
    [
        ("rss2-table-only.xml", ["Place | Sculler | Time", "1 | Aldo Brix | 7:02.4", "2 | Tomas Brekke | 7:05.9"]),
        ("atom-xhtml-table-only.xml", ["Place | Swimmer", "1 | Lene Dahl"]),
    ],
)
def test_a_body_of_only_a_table_gives_its_rows(name, rows):
    assert parse(fixture(name))[0].paragraphs == rows


# --- RSS 1.0 ------------------------------------------------------------------------------------


def test_rss1_rdf_reads_dublin_core_fields():
    story = parse(fixture("rss1-rdf.xml"))[0]
    assert story.uri == "https://harbourpost.example/2026/03/04/lifeboat"
    assert story.headline == "New lifeboat named after Skerra Point rescuer"
    assert story.paragraphs == [
        "SKERRA POINT, March 4 (HP) - The station's new lifeboat was named on Wednesday "
        "after Anna Voss, who rowed out to a grounded trawler in 1931."
    ]
    assert story.dateline.place == "SKERRA POINT"
    assert story.language == "en"
    assert story.firstcreated == story.versioncreated == dt.datetime(2026, 3, 4, 11, 30, tzinfo=dt.UTC)
    assert story.by == "Ines Halvorsen"
    assert story.subjects == [Subject(name="Maritime", literal="category:Maritime")]
    assert story.copyrightnotice == "© 2026 Harbour Post"


# --- refusals and safety ------------------------------------------------------------------------


def test_entity_bomb_is_refused_before_feedparser_sees_it(monkeypatch):
    def untouched(*args, **kwargs):
        raise AssertionError("feedparser was called")

    monkeypatch.setattr(feed.feedparser, "parse", untouched)
    with pytest.raises(FormatError, match="declares entities"):
        parse(fixture("rss-entity-bomb.xml"))


def test_truncated_feed_is_refused_with_line_and_column():
    with pytest.raises(FormatError, match=r"malformed XML at line 11, column 1"):
        parse(fixture("rss-truncated.xml"))


def test_xml_that_is_not_a_feed_is_refused():
    with pytest.raises(FormatError, match=r"the XML root is <NewsML>, not an RSS, RDF or Atom feed"):
        parse(b'<NewsML Version="1.2"/>')


def test_parsing_touches_neither_network_nor_files(monkeypatch):
    """Relative links, xml:base, an external DTD and images are all in the fixtures; none may be
    fetched, and feedparser must never take the bytes for a file name."""
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("no network in this test")

    dtd = (
        b'<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
        b'"http://my.netscape.com/publish/formats/rss-0.91.dtd">\n'
    )
    data = [fixture(name) for name in READABLE]
    data.append(dtd + fixture("rss2-html-description.xml").split(b"?>", 1)[1])
    parsed = []
    with monkeypatch.context() as patch:
        patch.setattr(socket, "socket", refuse)
        patch.setattr(socket, "create_connection", refuse)
        patch.setattr(socket, "getaddrinfo", refuse)
        patch.setattr(builtins, "open", refuse)
        for one in data:
            parsed.append(parse(one))
    assert attempts == []
    assert parsed[-1][0].headline == "Lighthouse keepers' museum opens on Skerra Point"


def test_feedparser_is_told_not_to_rewrite_links_or_sanitise(monkeypatch):
    calls = []
    real = feed.feedparser.parse

    def spy(source, **kwargs):
        calls.append((source, kwargs))
        return real(source, **kwargs)

    monkeypatch.setattr(feed.feedparser, "parse", spy)
    parse(fixture("rss2-basic.xml"))
    ((source, kwargs),) = calls
    assert not isinstance(source, (bytes, str))
    assert kwargs == {"resolve_relative_uris": False, "sanitize_html": False}


# --- detection ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", READABLE + REFUSED)
def test_every_feed_fixture_is_detected_as_a_feed(name):
    assert formats.detect(fixture(name)) == "feed"


@pytest.mark.parametrize(
    "data",
    [
        b"\xef\xbb\xbf<rss version='2.0'><channel/></rss>",
        '<?xml version="1.0" encoding="utf-16"?><feed xmlns="http://www.w3.org/2005/Atom"/>'.encode("utf-16"),
        b'<?xml version="1.0"?>\n<!-- a comment -->\n<atom:feed xmlns:atom="http://www.w3.org/2005/Atom"/>',
        b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
        b' xmlns="http://my.netscape.com/rdf/simple/0.9/"/>',
    ],
    ids=["utf8-bom", "utf16", "prefixed-atom", "rss090"],
)
def test_detection_reads_past_boms_declarations_and_comments(data):
    assert formats.detect(data) == "feed"


@pytest.mark.parametrize(
    "path",
    [
        "agency-samples/iptc-newsinjson/afp.com_newsml1.2_sample.xml",
        "agency-samples/iptc-newsinjson/TT_newsmlg2_sample.xml",
        "agency-samples/iptc-newsinjson/NTB_nitf_sample.xml",
        "seed/ians-2024-11-14-biden-xi-summit.agency-copy.txt",
    ],
)
def test_other_formats_are_not_detected_as_feeds(path):
    assert formats.detect((CORPUS / path).read_bytes()) != "feed"


@pytest.mark.parametrize(
    "data",
    [
        b'<feed xmlns="http://example.org/not-atom"/>',
        b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>',
    ],
    ids=["feed-in-another-namespace", "rdf-without-rss"],
)
def test_lookalikes_are_refused_with_a_reason(data):
    with pytest.raises(FormatError, match="not an RSS, RDF or Atom feed"):
        formats.parse(data)


# --- output -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", READABLE)
def test_every_story_is_valid_ninjs(name):
    for story in parse(fixture(name)):
        assert ninjs_errors(json.loads(json.dumps(story.to_ninjs()))) == []


@pytest.mark.parametrize("name", READABLE)
def test_to_dict_round_trips(name):
    for story in parse(fixture(name)):
        assert WireStory.from_dict(json.loads(json.dumps(story.to_dict()))) == story
