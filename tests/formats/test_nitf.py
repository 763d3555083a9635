"""NITF 3.x, from bytes to Story. Pure Python: no Django, no database.

Fixtures live in tests/fixtures/nitf/, one fictional file per edge case, named after the case.
The corpus's real NITF is read where it lies (../shared/corpus, or $WIREDESK_CORPUS).
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from corpus import CORPUS, fixtures, only
from ninjs import assert_no_mojibake, ninjs_errors

from wiredesk.formats import Context, FormatError, markup, nitf, xml
from wiredesk.story import Dateline, Subject, WireStory

FIXTURES, fixture = fixtures("nitf")
RECEIVED = dt.datetime(2026, 4, 12, 9, 0, tzinfo=dt.UTC)

# Fixtures that are refused, each for the reason its name gives.
REFUSED = {
    "malformed-truncated.xml",
    "malformed-unclosed-cdata.xml",
    "nitf-no-headline-no-body.xml",
    "nitf-undeclared-entity-without-doctype.xml",
}


def parse_one(data: bytes, source: str = "hpw") -> WireStory:
    return only(nitf.parse(data, Context(source=source, received=RECEIVED)))


# --- one file per case ----------------------------------------------------------------------


def test_no_namespace_dtd_era_shape_reads_every_field():
    story = parse_one(fixture("nitf-no-namespace.xml"))
    assert story.uri == "urn:wiredesk:hpw:nitf:HPW:HPW-2026-0412-ferry"
    assert story.version == 3
    assert story.headline == "Island ferries add a dawn sailing for the summer"
    assert story.headline_derived is False
    assert story.subheadline == "Commuters asked for it for years"
    assert story.by == "By Mara Quill, Transport Correspondent"
    assert story.dateline == Dateline(
        text="PORT SALVIN, April 12 (HPW)", place="PORT SALVIN", date=dt.date(2026, 4, 12), agency="HPW"
    )
    assert story.located == "PORT SALVIN"
    assert story.language == "en-GB"
    assert story.urgency == 4
    assert story.versioncreated == dt.datetime(2026, 4, 12, 6, 30, tzinfo=dt.UTC)
    assert story.firstcreated is None  # NITF has no creation time
    assert story.pubstatus == "usable"
    assert story.embargoed is None
    assert story.signals == []
    assert story.ednote == "Adds quote from the harbour master in paragraph 3."
    assert story.slugline == "ferry-timetable"
    assert story.subjects == [
        Subject(name="transport", uri="http://cv.iptc.org/newscodes/subjectcode/04005000"),
        Subject(name="economy, business and finance", uri="http://cv.iptc.org/newscodes/subjectcode/04000000"),
        Subject(name="Harbour news", literal="HPW:harbour"),
    ]
    assert story.keywords == ["ferries", "Port Salvin"]
    assert story.copyrightnotice == "Copyright 2026 Harbour Press Wire"
    assert story.usageterms == "Not for use in print before 10:00 local time."
    assert story.format == "nitf"


def test_paragraphs_are_verbatim_but_for_the_layout_of_the_xml():
    story = parse_one(fixture("nitf-no-namespace.xml"))
    assert story.paragraphs == [
        "PORT SALVIN, April 12 (HPW) - The island ferry company will add a 05:40 sailing from May, it said on Sunday.",
        "The extra crossing runs until the end of September.",
        '"Finally," says the harbour master',  # a crosshead (hl2) is copy readers see
        '"We have asked for this since the pier was rebuilt," harbour master Oskar Lind said.',
        "Tickets go on sale on Monday.   Prices are unchanged.",  # spaces without a line break stay
    ]


def test_media_captions_and_taglines_are_not_copy():
    story = parse_one(fixture("nitf-no-namespace.xml"))
    assert "Caption" not in story.body_text
    assert "example.invalid" not in story.body_text


def test_namespaced_3_6_reads_like_plain_nitf():
    story = parse_one(fixture("nitf-namespaced-3.6.xml"))
    # A colon does not make an id-string a URI: it is local to its registered source.
    assert story.uri == "urn:wiredesk:hpw:nitf:NWA:nwa:2026:bergbahn-17"
    assert story.version == 1
    assert story.headline == "Bergbahn fährt wieder nach Sturmpause"
    assert story.language == "de"
    assert story.dateline == Dateline(text="Obertal (nwa)", place="Obertal", agency="nwa")
    assert story.versioncreated == dt.datetime(2026, 2, 3, 7, 15, tzinfo=dt.UTC)
    assert story.paragraphs == [
        "Obertal (nwa) - Die Bergbahn am Kessel fährt seit Dienstag wieder.",
        "Der Sturm hatte zwei Masten beschädigt.",
    ]


def test_dtd_era_doctype_parses_without_loading_the_dtd_and_reads_its_named_entities():
    story = parse_one(fixture("nitf-dtd-era-doctype.xml"))
    assert story.headline == "Café owners win fight over river terrace"
    assert story.paragraphs == [
        "The town council gave way on Tuesday — the terraces stay.",
        '"It is a good day for the cafés," said owner Renée Arlo.',
    ]
    # A naive issue time is read in UTC.
    assert story.versioncreated == dt.datetime(2026, 7, 21, 14, 10, tzinfo=dt.UTC)


def test_an_entity_without_a_doctype_is_malformed_xml():
    with pytest.raises(FormatError, match="mdash"):
        parse_one(fixture("nitf-undeclared-entity-without-doctype.xml"))


def test_a_table_gives_one_paragraph_per_row_with_cells_joined_by_a_bar():
    story = parse_one(fixture("nitf-table-in-body.xml"))
    assert story.uri == "urn:example:scores:2026-05-02:rowing"  # an id-string that is a urn is used as it is
    assert markup.CELL_SEPARATOR == " | "
    assert story.paragraphs == [
        "Results of the spring regatta on Lake Vessel on Saturday:",
        "Men's eights, final",
        "Place | Crew | Time",
        "1. | North Shore RC | 5:41.2",
        "2. | Vessel Town Boat Club | 5:43.9",  # a row is one line: a break in a cell is a space
        "3. | Old Mill Rowing | 5:50.0",  # empty rows are dropped; paragraphs in a cell are joined
        "The women's final was postponed because of wind.",
    ]


def test_breaks_blocks_lists_and_notes():
    story = parse_one(fixture("nitf-line-breaks-blocks-lists.xml"))
    assert story.paragraphs == [
        "Saturday\n10:00 Boat parade\n14:00 Rope-pulling contest",  # <br/> is a line break
        "Box office:",  # two <br/> end a paragraph
        "Open daily from 09:00.",
        "Sunday",
        "Harbour swim",
        "Fish market, all day",
        '"Bring a coat," the organisers said.',
        # Tabs, double spaces and no-break spaces are the agency's; only the ends are trimmed.
        "Tabs\tand  double  spaces  stay;\tnon-breaking\u00a0spaces too.",
    ]
    assert "Editors" not in story.body_text  # a non-publishable note (type="npa")


def test_the_nitf_vocabulary_reads_any_body_content_element():
    root = xml.load(
        b"<body.content><block><p>One <em>two</em>\n   three</p></block><hl2>Four</hl2>"
        b"<media><media-caption>not copy</media-caption></media></body.content>"
    )
    assert markup.paragraphs(root, markup.NITF) == ["One two three", "Four"]
    assert markup.paragraphs(None, markup.NITF) == []


def test_management_status_canceled_is_a_kill_of_the_same_document():
    story = parse_one(fixture("nitf-kill-management-status.xml"))
    assert story.pubstatus == "canceled"
    assert story.signals == ["kill"]
    assert story.uri == parse_one(fixture("nitf-no-namespace.xml")).uri
    assert story.version == 4
    assert story.paragraphs == []
    assert story.ednote == "KILL: the ferry company withdrew its statement. Do not use."


def test_a_kill_notice_carries_the_uri_of_the_document_it_kills():
    story = parse_one(fixture("nitf-kill-names-killed-document.xml"))
    assert story.pubstatus == "canceled"
    assert story.signals == ["kill"]
    assert story.uri == parse_one(fixture("nitf-no-namespace.xml")).uri


def test_embargoed_status_is_usable_copy_with_the_release_time():
    story = parse_one(fixture("nitf-embargoed.xml"))
    assert story.pubstatus == "usable"
    assert story.embargoed == dt.datetime(2026, 9, 2, 22, 0, tzinfo=dt.UTC)


def test_a_release_time_after_the_issue_time_is_an_embargo():
    story = parse_one(fixture("nitf-release-after-issue.xml"))
    assert story.pubstatus == "usable"
    assert story.embargoed == dt.datetime(2026, 10, 10, 9, 30, tzinfo=dt.UTC)


def test_a_release_time_before_the_issue_time_is_no_embargo():
    assert parse_one(fixture("nitf-release-before-issue.xml")).embargoed is None


def test_an_embargo_without_a_time_is_withheld():
    story = parse_one(fixture("nitf-embargoed-without-time.xml"))
    assert story.pubstatus == "withheld"
    assert story.embargoed is None


def test_withheld():
    story = parse_one(fixture("nitf-withheld.xml"))
    assert story.pubstatus == "withheld"
    assert story.ednote == "Withheld on legal advice."


def test_an_unknown_management_status_is_withheld():
    data = fixture("nitf-withheld.xml").replace(b'management-status="withheld"', b'management-status="pending"')
    assert parse_one(data).pubstatus == "withheld"


def test_correction_note_and_signal():
    story = parse_one(fixture("nitf-correction.xml"))
    assert story.signals == ["correction"]
    assert story.correction == "Corrects the time of the new sailing to 05:40, not 04:50."
    assert story.version == 5
    assert story.pubstatus == "usable"


def test_uri_from_the_du_key_when_there_is_no_doc_id():
    story = parse_one(fixture("nitf-du-key-only.xml"), source="gull")
    assert story.uri == "urn:wiredesk:gull:nitf:key:gull-point-museum"
    assert story.version is None  # "x2" is not a version number


def test_uri_built_from_headline_and_issue_date_without_any_id():
    story = parse_one(fixture("nitf-no-ids.xml"), source="gull")
    assert story.uri == "urn:wiredesk:gull:nitf:lighthouse-keeper-s-cottage-opens-as-a-museum:2026-07-08"


def test_uri_without_ids_or_issue_date_uses_the_day_of_receipt():
    data = fixture("nitf-no-ids.xml").replace(b'<date.issue norm="2026-07-08T11:00:00Z"/>', b"")
    assert parse_one(data, source="gull").uri.endswith(":2026-04-12")


def test_headline_falls_back_to_the_title():
    story = parse_one(fixture("nitf-title-fallback.xml"))
    assert story.headline == "Storm warning for the northern coast"
    assert story.headline_derived is False


def test_headline_derived_from_the_lede_when_there_is_none():
    story = parse_one(fixture("nitf-no-headline-derived.xml"))
    assert story.headline == "Forecasters lifted the storm warning for the northern coast on Thursday"
    assert story.headline_derived is True
    assert story.to_ninjs()["headlines"] == [{"role": "derived", "value": story.headline}]


def test_no_headline_and_no_body_is_refused():
    with pytest.raises(FormatError, match="neither a headline .* nor body text"):
        parse_one(fixture("nitf-no-headline-no-body.xml"))


def test_a_byte_order_mark_does_not_break_parsing():
    data = fixture("nitf-utf8-bom.xml")
    assert data.startswith(b"\xef\xbb\xbf")
    story = parse_one(data)
    assert story.headline == "Smørrebrød stall wins the market prize"
    assert story.paragraphs == ["The stall in Ærø Street won for the third year."]


def test_the_declared_encoding_is_honoured():
    story = parse_one(fixture("nitf-latin1-declared.xml"))
    assert story.headline == "Señora Núñez opens the crêpe café"
    assert story.paragraphs == ["The café in Praça Nova serves crêpes «à la carte»."]
    assert_no_mojibake(story)


def test_another_root_element_is_not_nitf():
    with pytest.raises(FormatError, match="not NITF: the root element is <newsItem>"):
        parse_one(b'<newsItem xmlns="http://iptc.org/std/nar/2006-10-01/"/>')


def test_truncated_xml_is_refused_with_line_and_column():
    with pytest.raises(FormatError, match=r"line \d+, column \d+") as caught:
        parse_one(fixture("malformed-truncated.xml"))
    assert "malformed XML" in str(caught.value)


def test_a_malformed_xml_message_is_one_line_with_line_and_column():
    # libxml2 quotes the unfinished CDATA, line break and all, and repeats the position.
    with pytest.raises(FormatError) as caught:
        parse_one(fixture("malformed-unclosed-cdata.xml"))
    assert str(caught.value) == "malformed XML at line 6, column 1: CData section not finished The tid"


def test_the_first_version_was_first_created_when_it_was_issued():
    story = parse_one(fixture("nitf-issue-time-first-version.xml"))
    issued = dt.datetime(2026, 5, 3, 6, 45, tzinfo=dt.UTC)
    assert (story.firstcreated, story.versioncreated) == (issued, issued)


def test_a_story_without_a_version_number_was_first_created_when_it_was_issued():
    data = fixture("nitf-issue-time-first-version.xml").replace(b' version="1"', b"")
    assert parse_one(data).firstcreated == dt.datetime(2026, 5, 3, 6, 45, tzinfo=dt.UTC)


def test_a_later_version_does_not_say_when_the_story_was_first_created():
    story = parse_one(fixture("nitf-issue-time-first-version.xml").replace(b'version="1"', b'version="2"'))
    assert story.firstcreated is None
    assert story.versioncreated == dt.datetime(2026, 5, 3, 6, 45, tzinfo=dt.UTC)


def test_without_an_issue_time_the_publication_date_is_the_time_of_issue():
    data = fixture("nitf-issue-time-first-version.xml").replace(b'<date.issue norm="20260503T064500Z"/>', b"")
    story = parse_one(data)
    assert story.firstcreated == story.versioncreated == dt.datetime(2026, 5, 3, 7, 0, tzinfo=dt.UTC)


def test_an_embargo_does_not_move_the_issue_time():
    story = parse_one(fixture("nitf-release-after-issue.xml"))
    assert story.embargoed > story.versioncreated
    assert story.firstcreated == story.versioncreated


def test_a_body_of_only_a_table_gives_its_rows():
    story = parse_one(fixture("nitf-table-only-body.xml"))
    assert story.paragraphs == ["Pos | Club | Pts", "1 | Skerra Gulls | 22", "2 | Port Salvin Rovers | 19"]


def test_editors_notes_in_docdata_body_head_and_body_content_are_ednote_never_text():
    story = parse_one(fixture("nitf-editors-notes.xml"))
    assert story.paragraphs == [
        "The path over the north dunes is closed until August so that terns can nest, the park office said.",
        "Walkers can use the beach instead.",
    ]
    assert story.ednote == (
        "Moved early for the evening bulletin.\nMap to follow.\n"
        "Please credit the park office for the photo.\nNot for the web edition."
    )


def test_hl2_in_the_hedline_is_the_subheadline_and_in_the_body_a_crosshead():
    story = parse_one(fixture("nitf-hl2-in-hedline-after-hl1.xml"))
    assert story.headline == "Church bells ring again in Valmora"
    assert story.subheadline == "Restored after forty silent years"
    assert story.paragraphs == [
        "The three bells of St Brand's rang on Sunday for the first time since 1986.",
        "A village collection",
        "Villagers raised the money for the repair themselves.",
    ]


def test_the_dateline_place_is_the_city_of_its_location():
    story = parse_one(fixture("nitf-dateline-location-city-state.xml"))
    assert story.dateline == Dateline(text="KESTREL BAY, Northshire", place="KESTREL BAY")


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.xml") if p.name not in REFUSED))
def test_every_fixture_story_is_valid_ninjs_2_2(name):
    story = parse_one(fixture(name))
    assert ninjs_errors(story.to_ninjs()) == []
    assert_no_mojibake(story)


# --- hostile input --------------------------------------------------------------------------

BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE nitf [<!ENTITY a "ha">'
    + b"".join(b'<!ENTITY %s "%s">' % (b"a" * (n + 1), b"&%s;" % (b"a" * n) * 10) for n in range(1, 10))
    + b"]><nitf><body><body.content><p>&aaaaaaaaaa;</p></body.content></body></nitf>"
)
EXTERNAL_ENTITY = (
    b'<?xml version="1.0"?><!DOCTYPE nitf [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    b"<nitf><body><body.head><hedline><hl1>&xxe;</hl1></hedline></body.head></body></nitf>"
)
DEEP_NESTING = (
    b"<nitf><body><body.content>" + b"<block>" * 10_000 + b"</block>" * 10_000 + b"</body.content></body></nitf>"
)


# In UTF-16 the loader's byte scan for <!ENTITY cannot see the declarations; libxml2's own
# amplification limit still stops the expansion.
BILLION_LAUGHS_UTF16 = BILLION_LAUGHS.decode().replace('"1.0"?>', '"1.0" encoding="UTF-16"?>').encode("utf-16")


@pytest.mark.parametrize(
    "data",
    [BILLION_LAUGHS, BILLION_LAUGHS_UTF16, EXTERNAL_ENTITY, DEEP_NESTING],
    ids=["billion-laughs", "billion-laughs-utf16", "external-entity", "10000-deep-nesting"],
)
def test_hostile_xml_is_refused(data):
    with pytest.raises(FormatError):
        parse_one(data)


def test_an_external_dtd_is_never_loaded():
    story = parse_one(
        b'<!DOCTYPE nitf SYSTEM "file:///etc/passwd"><nitf><body><body.head><hedline>'
        b"<hl1>Quiet day at the harbour</hl1></hedline></body.head></body></nitf>"
    )
    assert story.headline == "Quiet day at the harbour"
    assert "root:" not in json.dumps(story.to_dict())


# --- the corpus: real NITF ------------------------------------------------------------------

CORPUS_FILES = sorted(
    {
        *(p for p in (CORPUS / "nitf").rglob("*.xml") if "xsd" not in p.parts),
        *(CORPUS / "agency-samples" / "iptc-newsinjson").glob("*nitf*.xml"),
    }
)


def test_the_corpus_has_nitf():
    assert len(CORPUS_FILES) >= 2


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: str(p.relative_to(CORPUS)))
def test_every_corpus_nitf_file_parses_into_a_valid_story(path):
    story = parse_one(path.read_bytes(), source="corpus")
    assert story.headline and not story.headline_derived
    assert story.paragraphs
    assert ninjs_errors(story.to_ninjs()) == []
    assert_no_mojibake(story)


def test_ntb_sample():
    story = parse_one((CORPUS / "nitf" / "samples" / "NTB_nitf_sample.xml").read_bytes(), source="ntb")
    assert story.uri == "urn:wiredesk:ntb:nitf:NTB:NTB5df9281a-a270-4dc5-a618-869bbc3bbca7_00"
    assert story.version == 1
    assert story.headline == "Pandemien herjer på den legeløse indiske landsbygda"
    assert story.by == "NTB-AFP-DPA"
    assert story.dateline == Dateline(text="Unnao", place="Unnao")
    assert story.language == "nb-NO"
    assert story.urgency == 5
    assert story.versioncreated == dt.datetime(2021, 5, 16, 9, 0, 4, tzinfo=dt.UTC)
    assert story.subjects == [
        Subject(name="Sykdom", uri="http://cv.iptc.org/newscodes/subjectcode/07001000"),
        Subject(name="Medisin og helse", uri="http://cv.iptc.org/newscodes/subjectcode/07000000"),
    ]
    assert story.keywords == ["india-korona-bygd"]
    assert story.ednote is None  # ed-msg info=""
    assert len(story.paragraphs) == 22
    assert story.paragraphs[0].startswith("Koronapandemien herjer også i landsbyer")
    assert story.paragraphs[1].startswith("\u2013 Det er så mye fattigdom")  # &#8211; read
    assert "Myndighetene patruljerer langs elvebredden" in story.paragraphs  # a crosshead
    assert story.paragraphs[-1] == "(©NTB)"
    assert "Kremasjonsbål" not in story.body_text  # the photo caption
