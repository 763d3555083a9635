"""NewsML 1.2 text items, from bytes to Stories. Pure Python: no Django, no database.

Fixtures live in tests/fixtures/newsml1/, one file per edge case, named after the case; the AFP
sample from the shared corpus is the real-world check. The format module is called directly:
registering it in formats.FORMATS is the desk's decision.
"""

from __future__ import annotations

import datetime as dt
import json
import socket

import pytest
from corpus import CORPUS, REPO, fixtures, only
from ninjs import ninjs_errors

from wiredesk import formats
from wiredesk.formats import Context, FormatError, newsml1
from wiredesk.story import Dateline, Subject, WireStory

FIXTURES, fixture = fixtures("newsml1")
AFP = CORPUS / "agency-samples" / "iptc-newsinjson" / "afp.com_newsml1.2_sample.xml"

RECEIVED = dt.datetime(2026, 3, 5, 9, 30, tzinfo=dt.UTC)
CONTEXT = Context(source="hp", received=RECEIVED)
READABLE = [
    "newsml1-canceled.xml",
    "newsml1-dateline-from-lede.xml",
    "newsml1-dateline-place-before-a-bracket.xml",
    "newsml1-escaped-html.xml",
    "newsml1-table-only.xml",
    "newsml1-text-item.xml",
    "newsml1-two-items.xml",
]
REFUSED = ["newsml1-photo-only.xml"]


def parse(data: bytes) -> list[WireStory]:
    return newsml1.parse(data, CONTEXT)


def parse_one(data: bytes) -> WireStory:
    return only(parse(data))


def test_every_fixture_file_is_tested():
    assert sorted(p.name for p in FIXTURES.iterdir()) == sorted(READABLE + REFUSED)


# --- the AFP sample: real NewsML 1.2 as AFP sends it ---------------------------------------------


@pytest.fixture(scope="module")
def afp() -> WireStory:
    return newsml1.parse(AFP.read_bytes(), Context(source="afp", received=RECEIVED))[0]


def test_afp_sample_has_headline_and_body(afp):
    assert afp.headline == "Israel strikes key Hamas targets as UN Security Council to meet"
    assert afp.headline_derived is False
    assert afp.paragraphs[0].startswith("Israel's army said Sunday it had bombed the home of the political leader")
    assert afp.paragraphs[-1] == "bur-dar-gl/fz"
    assert "- Media offices destroyed -" in afp.paragraphs
    assert len(afp.paragraphs) == 42
    assert all(p == p.strip() and p for p in afp.paragraphs)


def test_afp_sample_has_no_mojibake(afp):
    text = json.dumps(afp.to_dict(), ensure_ascii=False)
    assert "Ã" not in text
    assert "â€" not in text


def test_afp_sample_identity_version_and_management(afp):
    # The PublicIdentifier ends with the revision; the story's uri must not.
    assert afp.uri == "urn:newsml:afp.com:20210516T080625Z:TX-PAR-WGF71"
    assert afp.version == 1
    assert afp.pubstatus == "usable"
    assert afp.urgency == 4
    assert afp.firstcreated == afp.versioncreated == dt.datetime(2021, 5, 16, 8, 6, 25, tzinfo=dt.UTC)
    assert afp.signals == []
    assert afp.format == "newsml1"


def test_afp_sample_metadata(afp):
    assert afp.dateline == Dateline(
        text="Gaza City, Palestinian Territories, May 16, 2021 (AFP)",
        place="Gaza City",
        date=dt.date(2021, 5, 16),
        agency="AFP",
    )
    assert afp.language == "en"
    assert afp.by == "Adel Zaanoun with Guillaume Lavallee in Jerusalem"
    assert afp.slugline == "Israel-Palestinians-conflict"
    assert afp.ednote == "RECASTS with attack on Hamas targets, RAISES Gaza death toll, UPDATES throughout"
    assert afp.keywords == ["Israel", "Palestinians", "conflict"]
    assert [g.name for g in afp.genres] == ["Article", "Update"]
    assert afp.subjects[0] == Subject(
        name="unrest, conflicts and war",
        uri="http://cv.iptc.org/newscodes/subjectcode/16000000",
        literal="subj:16000000",
    )
    assert [s.literal for s in afp.subjects] == [
        "subj:16000000",
        "subj:16002000",
        "subj:02003000",
        "subj:11000000",
        "subj:02000000",
        "subj:02003001",
    ]


def test_afp_sample_is_detected_as_newsml1():
    assert formats.detect(AFP.read_bytes()) == "newsml1"


# --- fixtures -----------------------------------------------------------------------------------


def test_text_item_reads_every_field():
    story = parse_one(fixture("newsml1-text-item.xml"))
    assert story.uri == "urn:newsml:harbourpost.example:20260304:HP-0304-91"
    assert story.version == 2
    assert story.headline == "Valmora council doubles the harbour budget"
    assert story.headline_derived is False
    assert story.subheadline == "Dredging and a new quay wall come first"
    assert story.paragraphs == [
        "The city council voted on Wednesday to double the harbour's budget, to 14 million crowns, "
        "over the next two years.",
        "- Dredging first -",
        "The money goes first to dredging the inner basin, which has silted up since the 2024 storms.",
        '"The quay wall will not wait another winter," said mayor Aldo Brix.',
    ]
    assert story.dateline == Dateline(
        text="VALMORA, March 4 (HP)", place="Valmora", date=dt.date(2026, 3, 4), agency="HP"
    )
    assert story.language == "en"
    assert story.firstcreated == dt.datetime(2026, 3, 4, 7, 0, tzinfo=dt.UTC)
    assert story.versioncreated == dt.datetime(2026, 3, 4, 10, 15, tzinfo=dt.UTC)
    # Embargoed until a time, then usable: ninjs says usable with an embargo.
    assert story.pubstatus == "usable"
    assert story.embargoed == dt.datetime(2026, 3, 4, 12, 0, tzinfo=dt.UTC)
    assert story.urgency == 3
    assert story.by == "By Mara Lind"
    assert story.slugline == "Valmora-harbour"
    assert story.subjects == [
        Subject(
            name="economy, business and finance",
            uri="http://cv.iptc.org/newscodes/subjectcode/04000000",
            literal="subj:04000000",
        ),
        Subject(name="04005000", uri="http://cv.iptc.org/newscodes/subjectcode/04005000", literal="subj:04005000"),
        Subject(name="politics", uri="http://cv.iptc.org/newscodes/subjectcode/11000000", literal="subj:11000000"),
    ]
    assert story.genres == [Subject(name="Current", literal="genre:Current")]
    assert story.keywords == ["harbour", "budget", "quay"]
    assert story.ednote == "ADDS quote from the mayor"
    assert story.copyrightnotice == "© 2026 Harbour Post"
    assert story.usageterms == "Not for use outside the islands"
    assert story.signals == ["update"]
    assert story.correction is None


def test_nitf_media_head_and_end_matter_are_not_text():
    text = "\n".join(parse_one(fixture("newsml1-text-item.xml")).paragraphs)
    for left_out in ("inner basin at low tide", "Not the headline", "hp/ml"):
        assert left_out not in text


def test_without_headline_the_nitf_hedline_is_used():
    data = fixture("newsml1-text-item.xml").replace(
        b"<HeadLine>Valmora council doubles the harbour budget</HeadLine>", b""
    )
    story = parse_one(data)
    assert story.headline == "Not the headline: the NewsLines win"
    assert story.headline_derived is False


def test_entities_a_dtd_era_document_leaves_undeclared_are_read_as_html_names():
    data = (
        fixture("newsml1-text-item.xml")
        .replace(
            b'<NewsML Version="1.2">',
            b'<!DOCTYPE NewsML SYSTEM "http://harbourpost.example/dtd/NewsML_1.2.dtd">\n<NewsML Version="1.2">',
        )
        .replace(b"doubles the harbour budget</HeadLine>", b"doubles the harbour budget &mdash; again</HeadLine>")
        .replace(b"said mayor Aldo Brix.", b"said mayor Aldo Br&iacute;x.")
    )
    story = parse_one(data)
    assert story.headline == "Valmora council doubles the harbour budget — again"
    assert story.paragraphs[-1] == '"The quay wall will not wait another winter," said mayor Aldo Bríx.'


def test_withheld_without_a_time_to_lift_it_stays_withheld():
    data = fixture("newsml1-text-item.xml")
    start, end = data.index(b"<StatusWillChange>"), data.index(b"</StatusWillChange>") + len(b"</StatusWillChange>")
    story = parse_one(data[:start] + data[end:])
    assert story.pubstatus == "withheld"
    assert story.embargoed is None


def test_two_items_are_two_stories_and_the_nested_text_is_found_beside_a_photo():
    first, second = parse(fixture("newsml1-two-items.xml"))
    assert first.uri == "urn:newsml:harbourpost.example:20260304:HP-0304-92"
    assert first.paragraphs == ["A second daily crossing to Skerra Point starts on Monday."]
    # No PublicIdentifier: the uri is built from its parts, the same way.
    assert second.uri == "urn:newsml:harbourpost.example:20260304:HP-0304-93"
    assert second.headline == "Valmora choir wins the coastal song contest"
    assert second.paragraphs == [
        "The Valmora town choir won the coastal song contest on Wednesday.",
        "Its director said the prize money would pay for a summer tour.",
    ]
    assert second.dateline == Dateline(
        text="VALMORA, March 4 (HP)", place="VALMORA", date=dt.date(2026, 3, 4), agency="HP"
    )
    assert second.by == "Lene Dahl"
    assert second.language == "en"
    assert second.urgency == 5


def test_canceled_item_is_a_kill_without_text():
    story = parse_one(fixture("newsml1-canceled.xml"))
    assert story.uri == "urn:newsml:harbourpost.example:20260304:HP-0304-92"
    assert story.version == 2
    assert story.pubstatus == "canceled"
    assert story.signals == ["update", "kill"]
    assert story.paragraphs == []
    assert story.ednote == "The crossing was announced in error. Do not use."


def test_canceled_item_shares_the_uri_of_the_story_it_kills():
    killed = parse(fixture("newsml1-two-items.xml"))[0]
    kill = parse_one(fixture("newsml1-canceled.xml"))
    assert kill.uri == killed.uri
    assert kill.version > killed.version
    assert kill.fingerprint() != killed.fingerprint()


def test_photo_only_item_is_refused_and_its_caption_not_taken_for_a_story():
    with pytest.raises(FormatError, match="NewsItem 1: the item holds only photo components and no story text"):
        parse(fixture("newsml1-photo-only.xml"))


def test_escaped_html_in_data_content_is_read_as_html():
    story = parse_one(fixture("newsml1-escaped-html.xml"))
    assert story.paragraphs == [
        "The Brix bakery in Valmora won the regional bread prize on Sunday.",
        "Its rye loaf beat 40 others, said the jury of Crumb & Crust magazine.",
    ]


def test_a_body_of_only_a_table_gives_its_rows():
    story = parse_one(fixture("newsml1-table-only.xml"))
    assert story.paragraphs == ["Rider | Time", "Ines Varo | 3:12:40", "Lene Dahl | 3:13:05"]


def test_without_a_dateline_element_the_dateline_is_read_from_the_lede():
    story = parse_one(fixture("newsml1-dateline-from-lede.xml"))
    assert story.dateline == Dateline(
        text="SKERRA POINT, May 3 (HP)", place="SKERRA POINT", date=dt.date(2026, 5, 3), agency="HP"
    )


def test_a_dateline_the_desk_cannot_parse_still_gives_the_place_before_its_first_bracket():
    story = parse_one(fixture("newsml1-dateline-place-before-a-bracket.xml"))
    assert story.dateline == Dateline(text="Valmora (Îles), dimanche (HP)", place="Valmora", agency="HP")


# --- refusals -----------------------------------------------------------------------------------


def item(management: str = '<Status FormalName="Usable"/>', component: str = "") -> bytes:
    return (
        "<NewsML><NewsItem><Identification><NewsIdentifier><ProviderId>hp.example</ProviderId>"
        "<DateId>20260304</DateId><NewsItemId>X1</NewsItemId><RevisionId>1</RevisionId>"
        f"</NewsIdentifier></Identification><NewsManagement>{management}</NewsManagement>"
        f"{component}</NewsItem></NewsML>"
    ).encode()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (item('<Status FormalName="Pending"/>'), "the Status is 'pending'"),
        (item(""), "the Status is 'missing'"),
        (b"<NewsML><NewsItem><Identification/></NewsItem></NewsML>", "no Identification/NewsIdentifier"),
        (item(component="<Update/>"), "a partial update"),
        (
            item(
                component="<NewsComponent><ContentItem Href='https://hp.example/x.xml'><MediaType FormalName='Text'/>"
                "</ContentItem></NewsComponent>"
            ),
            r"only referenced \(https://hp.example/x.xml\)",
        ),
        (b"<NewsML/>", "holds no NewsItem"),
        (b"<nitf/>", "the XML root is <nitf>, not <NewsML>"),
        (b"<NewsML><NewsItem>", "malformed XML at line 1"),
    ],
    ids=[
        "unknown-status",
        "no-status",
        "no-identifier",
        "partial-update",
        "referenced-text",
        "no-items",
        "not-newsml",
        "malformed",
    ],
)
def test_unreadable_items_are_refused_saying_why(data, reason):
    with pytest.raises(FormatError, match=reason):
        parse(data)


def test_an_item_with_only_newslines_is_a_story_without_text():
    story = parse_one(
        item(component="<NewsComponent><NewsLines><HeadLine>ALERT: Quay closed</HeadLine></NewsLines></NewsComponent>")
    )
    assert story.headline == "ALERT: Quay closed"
    assert story.paragraphs == []
    assert story.firstcreated == story.versioncreated == RECEIVED


def test_plain_text_data_content_splits_on_blank_lines():
    story = parse_one(
        item(
            component="<NewsComponent><ContentItem><DataContent>"
            "VALMORA, March 4 (HP) - The quay\n   closed.\n\nIt reopens on Friday."
            "</DataContent></ContentItem></NewsComponent>"
        )
    )
    assert story.paragraphs == ["VALMORA, March 4 (HP) - The quay closed.", "It reopens on Friday."]
    assert story.headline == "The quay closed"
    assert story.headline_derived is True


def test_parsing_touches_no_network(monkeypatch):
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("no network in this test")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    # The AFP sample points at AFP's catalog by URL; it must stay a string.
    assert parse(AFP.read_bytes())
    for name in READABLE:
        assert parse(fixture(name))
    assert attempts == []


# --- detection ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", READABLE + REFUSED)
def test_every_fixture_is_detected_as_newsml1(name):
    assert formats.detect(fixture(name)) == "newsml1"


@pytest.mark.parametrize(
    "path",
    [
        "agency-samples/iptc-newsinjson/TT_newsmlg2_sample.xml",
        "agency-samples/iptc-newsinjson/NTB_nitf_sample.xml",
        "seed/ians-2024-11-14-biden-xi-summit.agency-copy.txt",
    ],
)
def test_other_formats_are_not_detected_as_newsml1(path):
    assert formats.detect((CORPUS / path).read_bytes()) != "newsml1"


def test_a_feed_is_not_detected_as_newsml1():
    assert formats.detect((REPO / "tests" / "fixtures" / "feed" / "rss2-basic.xml").read_bytes()) == "feed"


# --- output -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", READABLE)
def test_every_story_is_valid_ninjs(name):
    for story in parse(fixture(name)):
        assert ninjs_errors(json.loads(json.dumps(story.to_ninjs()))) == []


def test_afp_sample_is_valid_ninjs(afp):
    assert ninjs_errors(json.loads(json.dumps(afp.to_ninjs()))) == []


@pytest.mark.parametrize("name", READABLE)
def test_to_dict_round_trips(name):
    for story in parse(fixture(name)):
        assert WireStory.from_dict(json.loads(json.dumps(story.to_dict()))) == story
