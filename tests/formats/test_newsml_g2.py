"""NewsML-G2 2.x, from bytes to Stories. Pure Python: no Django, no database.

Fixtures live in tests/fixtures/newsml-g2/, one fictional file per edge case, named after the
case. The corpus's IPTC examples and unit test files and the agencies' samples are read where
they lie (../shared/corpus, or $WIREDESK_CORPUS).
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from corpus import CORPUS, fixtures, only
from lxml import etree
from ninjs import assert_no_mojibake, ninjs_errors

from wiredesk.formats import Context, FormatError, newsml_g2
from wiredesk.story import Dateline, Subject, WireStory

FIXTURES, fixture = fixtures("newsml-g2")
RECEIVED = dt.datetime(2026, 4, 12, 9, 0, tzinfo=dt.UTC)
CEST = dt.timezone(dt.timedelta(hours=2))

REFUSED = {
    "malformed-truncated.xml",
    "g2-package-only.xml",
    "g2-picture-item.xml",
    "g2-newsmessage-nothing-to-publish.xml",
    "g2-no-headline-no-body.xml",
}
# Why a document that is not a text story is refused: the operator reads these.
REASONS = re.compile(
    r"not a text story|neither a headline nor body text|this is not NewsML-G2: the root element"
    r"|NewsML 1\.x|nothing to publish"
)


def parse(data: bytes, source: str = "hpw") -> list[WireStory]:
    return newsml_g2.parse(data, Context(source=source, received=RECEIVED))


def parse_one(data: bytes, source: str = "hpw") -> WireStory:
    return only(parse(data, source))


# --- one file per case ----------------------------------------------------------------------


def test_news_item_with_inline_nitf_reads_every_field():
    story = parse_one(fixture("g2-inline-nitf.xml"))
    assert story.uri == "urn:newsml:harbourpress.example:20260412:ferry-timetable"
    assert story.version == 7
    assert story.versioncreated == dt.datetime(2026, 4, 12, 10, 5, tzinfo=CEST)
    assert story.firstcreated == dt.datetime(2026, 4, 12, 8, 30, tzinfo=CEST)
    assert story.pubstatus == "usable"
    assert story.embargoed is None
    assert story.signals == ["update"]
    assert story.ednote == "Updates with prices in paragraph 4."  # the non-public note stays out
    assert story.correction is None
    # The G2 headline wins over the inline NITF's.
    assert story.headline == "Island ferries add a dawn sailing"
    assert story.subheadline == "Commuters asked for it for years"
    assert story.slugline == "FERRY-TIMETABLE"
    assert story.by == "By Mara Quill"
    assert story.dateline == Dateline(text="PORT SALVIN, April 12 (HPW)", place="Port Salvin", agency="HPW")
    assert story.located == "Port Salvin"  # located/name in the item's language
    assert story.language == "en-GB"
    assert story.urgency == 3
    assert story.subjects == [
        Subject(name="maritime transport", uri="http://cv.iptc.org/newscodes/mediatopic/20000599"),
        Subject(name="transport", uri="http://cv.iptc.org/newscodes/subjectcode/04005000"),
        Subject(name="Island news", literal="hpwdesk:islands"),
        Subject(name="Ferries", uri="http://harbourpress.example/topics/ferries"),
        Subject(name="Harbour master", literal="harbour-master"),
    ]
    assert story.genres == [Subject(name="current", uri="http://cv.iptc.org/newscodes/genre/Current")]
    assert story.keywords == ["ferries", "timetable"]
    assert story.copyrightnotice == "Copyright 2026 Harbour Press Wire. All rights reserved."
    assert story.usageterms == "Not for use on the island of Tarn."
    assert story.paragraphs == [
        "PORT SALVIN, April 12 (HPW) - The island ferry company will add a 05:40 sailing from May, it said on Sunday.",
        "The extra crossing runs until the end of September.",
        "Adult | 4.50",
    ]
    assert story.format == "newsml-g2"


def test_inline_nitf_fills_what_content_meta_lacks():
    story = parse_one(fixture("g2-inline-nitf-fallbacks.xml"))
    assert story.headline == "New pier opens a week early"
    assert story.headline_derived is False
    assert story.subheadline == "Builders finished ahead of plan"
    assert story.by == "By Jon Tarrow"  # the NITF byline before the creator's name
    assert story.dateline == Dateline(text="PORT SALVIN, April 13", place="PORT SALVIN")


def test_creator_names_are_the_byline_when_there_is_nothing_better():
    data = fixture("g2-inline-nitf-fallbacks.xml").replace(b"<byline>By Jon Tarrow</byline>", b"")
    assert parse_one(data).by == "Harbour Press Wire"


def test_inline_xhtml_body():
    story = parse_one(fixture("g2-inline-xhtml.xml"))
    assert story.headline == "Old market hall reopens after ten years"  # rank 1, not the rank-3 kicker
    assert story.dateline == Dateline(text="Valmora (VPA)", place="Valmora", agency="VPA")
    assert story.paragraphs == [
        "The town's market hall is open again.",
        "Valmora (VPA) - Forty stalls opened on Saturday morning.",
        "What is on sale",
        "Cheese from the valley",
        "Bread, baked on site",
        "Day | Hours",
        "Monday to Friday | 07:00-18:00",
        "We waited a long time for this.",
        "Opening hours:\ndaily from 07:00",
    ]
    # The header repeats headline and byline; captions are not copy.
    assert "By Ines Varo" not in story.body_text
    assert "caption" not in story.body_text


def test_inline_plain_text_is_split_on_blank_lines_and_kept_as_written():
    story = parse_one(fixture("g2-inline-plain.xml"))
    assert story.paragraphs == [
        "VALMORA (VPA) - Night buses will run through the old town again from June.",
        "The council said two lines would run every 30 minutes,\nfrom midnight to 05:00.",
        "<Tickets> cost the same as by day.",
    ]


def test_inline_plain_text_in_base64():
    story = parse_one(fixture("g2-inline-plain-base64.xml"))
    assert story.paragraphs == ["Die Fähre fährt wieder.", "Ab Montag gilt der Sommerfahrplan."]


def test_bad_base64_is_refused():
    data = fixture("g2-inline-plain-base64.xml")
    data = re.sub(rb'(encoding="base64">)[^<]+', rb"\1not*base64*at*all", data)
    with pytest.raises(FormatError, match="base64"):
        parse(data)


def test_news_message_gives_one_story_per_text_item_and_passes_over_the_rest():
    stories = parse(fixture("g2-newsmessage-two-items.xml"))
    assert [(s.uri, s.version, s.headline) for s in stories] == [
        ("urn:newsml:harbourpress.example:20260412:first", 1, "Harbour cranes return to service"),
        ("urn:newsml:harbourpress.example:20260412:second", 2, "Lorry queues clear by noon"),
    ]
    assert [s.paragraphs for s in stories] == [
        ["The cranes worked again on Monday."],
        ["Dock workers said the queues had cleared."],
    ]


def test_a_news_message_with_nothing_to_publish_says_what_it_held():
    with pytest.raises(FormatError) as caught:
        parse(fixture("g2-newsmessage-nothing-to-publish.xml"))
    assert str(caught.value) == (
        "nothing to publish in the newsMessage: a packageItem, not a text story: packages are not published; "
        "2 × a newsItem of class ninat:picture, not a text story: only text is published"
    )


def test_a_package_is_not_published():
    with pytest.raises(FormatError, match="^a packageItem, not a text story: packages are not published$"):
        parse(fixture("g2-package-only.xml"))


def test_a_picture_item_is_not_a_text_story():
    with pytest.raises(FormatError, match="newsItem of class ninat:picture, not a text story"):
        parse(fixture("g2-picture-item.xml"))


def test_canceled_is_a_kill():
    story = parse_one(fixture("g2-canceled.xml"))
    assert story.pubstatus == "canceled"
    assert story.signals == ["kill"]
    assert story.version == 8
    assert story.paragraphs == []


def test_withheld():
    story = parse_one(fixture("g2-withheld.xml"))
    assert story.pubstatus == "withheld"
    assert story.signals == []


def test_an_unknown_pub_status_is_withheld():
    data = fixture("g2-withheld.xml").replace(b"stat:withheld", b"stat:pending")
    assert parse_one(data).pubstatus == "withheld"


def test_pub_status_as_a_uri():
    data = fixture("g2-canceled.xml").replace(
        b'qcode="stat:canceled"', b'uri="http://cv.iptc.org/newscodes/pubstatusg2/canceled"'
    )
    assert parse_one(data).pubstatus == "canceled"


def test_embargoed():
    story = parse_one(fixture("g2-embargoed.xml"))
    assert story.pubstatus == "usable"
    assert story.embargoed == dt.datetime(2026, 9, 2, 22, 0, tzinfo=dt.UTC)
    assert story.ednote == "Embargoed until 22:00 GMT on September 2."


def test_an_embargo_without_a_time_is_withheld():
    # The agency's note says the copy is embargoed; an empty <embargoed/> alone is no embargo.
    story = parse_one(fixture("g2-embargoed-without-time.xml"))
    assert story.pubstatus == "withheld"
    assert story.embargoed is None


def test_an_advisory_without_body_parses_with_no_paragraphs():
    story = parse_one(fixture("g2-edNote-advisory-no-body.xml"))
    assert story.headline == "Advisory: ferry timetable story to come"
    assert story.paragraphs == []
    assert story.ednote == "ADVISORY: a story on the new ferry timetable will move at about 08:30."


def test_correction_signal_and_the_note_for_readers():
    story = parse_one(fixture("g2-correction.xml"))
    assert story.signals == ["correction"]  # given twice, as uri and as qcode
    assert story.correction == "An earlier version gave the wrong departure time."
    # Both notes are the agency's; the XHTML notepad is a rendering of them and is left out.
    assert story.ednote == (
        "Corrects paragraph 1: the sailing leaves at 05:40, not 04:50.\n"
        "An earlier version gave the wrong departure time."
    )


def test_reuters_editorial_status_u_is_an_update():
    story = parse_one(fixture("g2-reuters-edstat-update.xml"))
    assert story.signals == ["update"]
    assert story.uri == "tag:wire.example,2026:newsml_L1N3XY0AB:3"


def test_g2_without_namespace_and_html_body():
    story = parse_one(fixture("g2-no-namespace.xml"))
    assert story.uri == "http://wire.example/text/260919-choir"
    assert story.language == "sv"
    assert story.urgency == 4
    assert story.subjects == [Subject(name="musik", uri="http://cv.iptc.org/newscodes/mediatopic/20000018")]
    assert story.paragraphs == [
        "Sandviks kammarkör vann den baltiska körtävlingen på lördagen.",
        "Vi sjöng bättre än någonsin, säger dirigenten.",
    ]


def test_a_guid_that_is_no_uri_is_made_one_and_the_headline_is_derived():
    story = parse_one(fixture("g2-guid-not-a-uri-no-headline.xml"), source="valmora")
    assert story.uri == "urn:wiredesk:valmora:newsml-g2:story%204711%2F%C3%A4"
    assert story.version is None
    assert story.headline == "The island's last cinema will close at the end of June after 71 years"
    assert story.headline_derived is True


def test_no_headline_and_no_body_is_refused():
    with pytest.raises(FormatError, match="urn:newsml:example.invalid:empty has neither a headline nor body text"):
        parse(fixture("g2-no-headline-no-body.xml"))


def test_qcodes_expand_only_through_a_known_catalog():
    story = parse_one(fixture("g2-own-catalog-no-iptc-catalogref.xml"))
    assert story.subjects == [
        Subject(name="Elections", uri="http://cv.valmora.example/topics/elections"),  # the item's own catalog
        Subject(name="politics", literal="medtop:11000000"),  # no IPTC catalogRef: medtop is unknown
        Subject(name="vpaperson:ivaro", literal="vpaperson:ivaro"),  # no name: the qcode names it
    ]


def test_utf16_with_a_byte_order_mark():
    story = parse_one(fixture("g2-utf16-bom.xml"))
    assert story.headline == "Öffentliche Sauna am Strand öffnet – „endlich“"
    assert story.paragraphs == ["Die Sauna am Südstrand öffnet am Samstag."]


def test_a_utf8_byte_order_mark_does_not_break_parsing():
    story = parse_one(b"\xef\xbb\xbf" + fixture("g2-inline-plain-base64.xml"))
    assert story.headline == "Fähre fährt wieder"


def test_another_root_element_is_not_newsml_g2():
    with pytest.raises(FormatError, match="not NewsML-G2: the root element is <nitf>"):
        parse(b"<nitf><body/></nitf>")


def test_an_empty_news_message_is_refused():
    with pytest.raises(FormatError, match="carries no items"):
        parse(b'<newsMessage xmlns="http://iptc.org/std/nar/2006-10-01/"><header/><itemSet/></newsMessage>')


def test_truncated_xml_is_refused_with_line_and_column():
    with pytest.raises(FormatError, match=r"malformed XML at line \d+, column \d+"):
        parse(fixture("malformed-truncated.xml"))


def test_a_capitalised_header_and_an_empty_embargoed_leave_the_story_usable():
    story = parse_one(fixture("g2-newsmessage-capital-header.xml"))
    assert story.pubstatus == "usable"
    assert story.embargoed is None
    assert story.headline == "Seal pups counted on Skerra sandbank"  # only in the inline NITF's hedline
    assert story.headline_derived is False
    assert story.by == "By Lene Dahl"
    assert story.paragraphs == [
        "Wardens counted 140 seal pups on the Skerra sandbank this spring, twenty more than last year."
    ]


def test_without_a_hedline_the_inline_nitf_title_is_the_headline():
    data = (
        fixture("g2-newsmessage-capital-header.xml")
        .replace(b"<hedline><hl1>Seal pups counted on Skerra sandbank</hl1></hedline>", b"")
        .replace(b"<body>", b"<head><title>Skerra seal pups counted</title></head><body>")
    )
    story = parse_one(data)
    assert story.headline == "Skerra seal pups counted"
    assert story.headline_derived is False


def test_element_names_are_read_whatever_their_case():
    story = parse_one(fixture("g2-non-canonical-element-case.xml"))
    assert story.headline == "Harbour lamps switch to LED"
    assert story.by == "By Tomas Brekke"
    assert story.dateline == Dateline(text="PORT SALVIN, May 3 (HPW)", place="Port Salvin", agency="HPW")
    assert story.versioncreated == dt.datetime(2026, 5, 3, 11, 0, tzinfo=dt.UTC)
    assert story.ednote == "Adds the cost in paragraph 2."
    assert story.paragraphs == [
        "PORT SALVIN, May 3 (HPW) - The forty lamps along the harbour wall now burn LEDs.",
        "The change cost 60,000 crowns.",
    ]


@pytest.mark.parametrize(
    ("name", "rows"),
    [
        ("g2-inline-xhtml-table-only.xml", ["Place | Boat", "1 | Kittiwake", "2 | Tern"]),
        ("g2-inline-nitf-table-only.xml", ["Pos | Club | Pts", "1 | Skerra Gulls | 22"]),
    ],
)
def test_a_body_of_only_a_table_gives_its_rows(name, rows):
    assert parse_one(fixture(name)).paragraphs == rows


def test_without_a_dateline_element_the_dateline_is_read_from_the_lede():
    story = parse_one(fixture("g2-dateline-from-lede.xml"))
    assert story.dateline == Dateline(
        text="KESTREL BAY, May 3 (HPW)", place="KESTREL BAY", date=dt.date(2026, 5, 3), agency="HPW"
    )


def test_a_correction_signal_takes_its_note_for_readers_from_the_ednote():
    story = parse_one(fixture("g2-correction-in-ednote.xml"))
    assert story.signals == ["correction"]
    assert story.correction == "Fixes spelling of the mayor's name"
    assert story.ednote == "CORRECTION: Fixes spelling of the mayor's name"


def test_an_ednote_without_a_correction_signal_is_no_correction():
    data = fixture("g2-correction-in-ednote.xml").replace(b'<signal qcode="sig:correction"/>', b"")
    story = parse_one(data)
    assert (story.signals, story.correction) == ([], None)


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.xml") if p.name not in REFUSED))
def test_every_fixture_story_is_valid_ninjs_2_2(name):
    for story in parse(fixture(name)):
        assert ninjs_errors(story.to_ninjs()) == []
        assert_no_mojibake(story)


# --- hostile input --------------------------------------------------------------------------

G2 = (
    b'<newsItem xmlns="http://iptc.org/std/nar/2006-10-01/" guid="urn:x:1">'
    b"<contentMeta><headline>%s</headline></contentMeta>"
)
BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE newsItem [<!ENTITY a "ha">'
    + b"".join(b'<!ENTITY %s "%s">' % (b"a" * (n + 1), b"&%s;" % (b"a" * n) * 10) for n in range(1, 10))
    + b"]>"
    + G2 % b"&aaaaaaaaaa;"
    + b"</newsItem>"
)
EXTERNAL_ENTITY = (
    b'<?xml version="1.0"?><!DOCTYPE newsItem [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    + G2 % b"&xxe;"
    + b"</newsItem>"
)
DEEP_NESTING = (
    G2 % b"x"
    + b"<contentSet><inlineXML>"
    + b"<div>" * 10_000
    + b"</div>" * 10_000
    + b"</inlineXML></contentSet></newsItem>"
)


@pytest.mark.parametrize(
    "data",
    [BILLION_LAUGHS, EXTERNAL_ENTITY, DEEP_NESTING],
    ids=["billion-laughs", "external-entity", "10000-deep-nesting"],
)
def test_hostile_xml_is_refused(data):
    with pytest.raises(FormatError):
        parse(data)


# --- the corpus: IPTC's examples and tests, and the agencies' files -------------------------

G2_DIR = CORPUS / "newsml-g2"
DPA_G2 = CORPUS / "agency-samples" / "dpa-digitalwires-to-newsmlg2" / "output"
DPA_7901 = CORPUS / "agency-samples" / "dpa-digitalwires-to-iptc7901" / "output"
AGENCIES = CORPUS / "agency-samples" / "iptc-newsinjson"
CORPUS_FILES = sorted(
    [
        *(G2_DIR / "examples").glob("*.xml"),
        *(G2_DIR / "unit_test_files").rglob("*.xml"),
        *AGENCIES.glob("*newsml*.xml"),
        *DPA_G2.glob("*.xml"),
    ]
)


def _is_headlined_text_item(data: bytes) -> bool:
    """A newsItem of class text (or without a class) with a headline: this must become a story."""
    root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    item_class = root.xpath("string(*[local-name()='itemMeta']/*[local-name()='itemClass']/@qcode)")
    headline = root.xpath("string(*[local-name()='contentMeta']/*[local-name()='headline'])")
    return etree.QName(root).localname == "newsItem" and item_class in ("", "ninat:text") and bool(headline.strip())


def test_the_corpus_has_newsml_g2():
    assert len(CORPUS_FILES) > 200


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: str(p.relative_to(CORPUS)))
def test_every_corpus_file_parses_into_stories_or_is_refused_with_a_reason(path):
    data = path.read_bytes()
    try:
        stories = parse(data, source="corpus")
    except FormatError as exc:
        assert REASONS.search(str(exc)), str(exc)
        assert not _is_headlined_text_item(data), f"a headlined text item was refused: {exc}"
        return
    assert stories
    for story in stories:
        assert story.headline
        assert ninjs_errors(story.to_ninjs()) == []
        assert_no_mojibake(story)


@pytest.mark.parametrize("path", sorted(DPA_7901.glob("*.iptc")), ids=lambda p: p.stem)
def test_dpa_renders_the_same_story_in_g2_as_in_7901(path):
    """dpa's NewsML-G2 and IPTC 7901 renderings of one story: the same headline and paragraphs.

    7901 wraps lines and pads table cells, so white space is compared loosely.
    """
    g2 = next(p for p in (DPA_G2 / f"{path.stem}.xml", DPA_G2 / f"{path.stem.replace('-', '_')}.xml") if p.exists())
    story = parse_one(g2.read_bytes(), source="dpa")
    wire_text = " ".join(path.read_text(encoding="utf-8").split())
    assert " ".join(story.headline.split()) in wire_text
    assert story.paragraphs
    for paragraph in story.paragraphs:
        assert " ".join(paragraph.split()) in wire_text


def test_dpa_correction():
    story = parse_one((DPA_G2 / "dw-1.xml").read_bytes(), source="dpa")
    assert story.uri == "urn:newsml:dpa.com:20090101:240923-930-240378"
    assert story.version == 2
    assert story.signals == ["correction"]
    assert story.correction.startswith("In einer früheren Version dieses Textes hieß es")
    assert story.dateline == Dateline(text="Waghäusel (dpa)", place="Waghäusel", agency="dpa")
    assert story.by == "Von Marco Krefting und Sunrita Sen, dpa"
    assert story.headline == "«Mythos Jungfernhäutchen» - Zwischen Aufklärung und Kommerz"  # not the kicker
    assert Subject(name="Gesellschaft", uri="http://cv.iptc.org/newscodes/mediatopic/20000768") in story.subjects
    # dpa's contacts are marked non-public: names and telephone numbers are not passed on.
    assert "+49" not in (story.ednote or "")
    assert "Notizblock" not in (story.ednote or "")


def test_dpa_embargo_and_update():
    embargoed = parse_one((DPA_G2 / "embargoed.xml").read_bytes(), source="dpa")
    assert embargoed.embargoed == dt.datetime(2025, 1, 23, 19, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert parse_one((DPA_G2 / "with_dateline.xml").read_bytes(), source="dpa").signals == ["update"]


@pytest.mark.parametrize("name", ["image.xml", "audio.xml", "no_content.xml"])
def test_dpa_media_items_are_not_text_stories(name):
    with pytest.raises(FormatError, match="not a text story"):
        parse((DPA_G2 / name).read_bytes())


def test_tt_message_gives_its_text_and_passes_over_package_and_picture():
    story = parse_one((AGENCIES / "TT_newsmlg2_sample.xml").read_bytes(), source="tt")
    assert story.uri == "http://tt.se/media/text/210919-janguillou-879f202b"
    assert story.headline == 'Jan Guillou skriver på ny "Hamilton"-bok'
    assert story.slugline == "janguillou"
    assert len(story.paragraphs) == 5
    assert "Arkivbild" not in story.body_text  # the figure's caption and byline


def test_newsml_1_is_named_for_what_it_is():
    with pytest.raises(FormatError, match="NewsML 1.x"):
        parse((AGENCIES / "afp.com_newsml1.2_sample.xml").read_bytes())
