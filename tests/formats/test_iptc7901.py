"""IPTC 7901 wire text, from bytes to Stories. Pure Python: no Django, no database.

Fixtures in tests/fixtures/iptc7901/ are fictional, one file per edge case, written byte for byte
(control characters, Latin-1, CP1252, CRLF). dpa's own 7901 renderings of its digitalwires stories
are read where they lie in the corpus, and checked against the JSON they were made from.
"""

from __future__ import annotations

import datetime as dt
import random
import re

import pytest
from corpus import CORPUS, fixtures, only, utc
from ninjs import assert_clean as ninjs_clean
from ninjs import assert_read_or_refused

from wiredesk.formats import Context, FormatError, anpa1312, dpa_digitalwires, iptc7901
from wiredesk.formats.text import repair_mojibake
from wiredesk.story import Dateline, Subject, WireStory

FIXTURES, fixture = fixtures("iptc7901")
DPA = CORPUS / "agency-samples" / "dpa-digitalwires-to-iptc7901"
DPA_PAIRS = sorted(path.stem for path in (DPA / "output").glob("*.iptc"))
RECEIVED = dt.datetime(2026, 11, 25, 9, 30, tzinfo=dt.UTC)
# The no-trailer fixture is dated by the day of receipt; every other one carries its own date.
UNDATED = {"7901-no-trailer.txt"}
REFUSED = {"7901-no-stx.txt"}
READABLE = sorted(p.name for p in FIXTURES.iterdir() if p.name not in REFUSED)


def parse(data: bytes, received: dt.datetime = RECEIVED, source: str = "xyz") -> list[WireStory]:
    return iptc7901.parse(data, Context(source=source, received=received))


def parse_one(data: bytes, received: dt.datetime = RECEIVED, source: str = "xyz") -> WireStory:
    return only(parse(data, received, source))


def assert_clean(story: WireStory) -> None:
    """Valid ninjs 2.2 out, no mojibake, no wire control characters left in any text."""
    ninjs_clean(story)
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", "".join([story.headline, *story.paragraphs, story.ednote or ""]))


# The wire's own structure codes, and "(", "=", "^", "|", tab and line feed, where damage hurts most.
CONTROLS = [0x01, 0x02, 0x03, 0x04, 0x07, 0x09, 0x0A, 0x12, 0x16, 0x1F, 0x28, 0x3D, 0x5E, 0x7C, 0x7F]


def damaged(data: bytes, seed: int, count: int = 60) -> list[bytes]:
    """Seeded damage to real bytes: bytes changed, cut out or cut off, control codes put in."""
    rnd = random.Random(seed)
    variants = []
    for _ in range(count):
        damage = bytearray(data)
        for _ in range(rnd.randint(1, 6)):
            at = rnd.randrange(len(damage) or 1)
            kind = rnd.randrange(4)
            if kind == 0:
                damage[at : at + 1] = bytes([rnd.randrange(256)])
            elif kind == 1:
                del damage[at : at + rnd.randint(1, 40)]
            elif kind == 2:
                damage[at:at] = bytes([rnd.choice(CONTROLS)]) * rnd.randint(1, 3)
            else:
                del damage[at:]
        variants.append(bytes(damage))
    return variants


def words(paragraphs: list[str]) -> str:
    return " ".join(" ".join(paragraphs).split())


# --- one fixture per case -------------------------------------------------------------------------


def test_latin1_umlauts_every_field():
    story = parse_one(fixture("7901-latin1-umlauts.txt"))
    assert story == WireStory(
        uri="urn:wiredesk:xyz:7901:neue-fahre-uber-die-forde-nimmt-betrieb-auf:2026-03-24",
        headline="Neue Fähre über die Förde nimmt Betrieb auf",
        paragraphs=[
            "Kiel (nwa) - Die neue Fähre über die Kieler Förde hat am Montag ihren Betrieb aufgenommen. "
            "Sie überquert das Gewässer in zwölf Minuten.",
            "«Größer, leiser und schneller», sagte die Hafenmeisterin.",
        ],
        version=None,
        dateline=Dateline(text="Kiel (nwa)", place="Kiel", agency="nwa"),
        firstcreated=utc(2026, 3, 24, 15, 30),
        versioncreated=utc(2026, 3, 24, 15, 30),
        urgency=4,
        slugline="Verkehr/Fähre/Kiel",
        subjects=[Subject(name="vm", literal="category:vm")],
        ednote="nwa kl/ms yyzz n1 ab",  # dpa's closing line: initials and desk codes
        format="iptc7901",
        keys=["number:nwa412", "serial:412"],
    )


def test_cp1252_bytes_0x80_to_0x9f_are_read_as_cp1252():
    story = parse_one(fixture("7901-cp1252-quotes.txt"))
    assert story.paragraphs == [
        "Lübeck (nwa) - Die Stadtwerke senken den Preis ab Juli auf 31 Cent – bisher waren es 35 Cent. "
        "„Das ist ein deutliches Signal“, sagte die Sprecherin. Der Grundpreis bleibt bei 9 € im Monat."
    ]
    assert story.slugline == "Wirtschaft/Energie/Lübeck"
    assert story.versioncreated == utc(2026, 6, 5, 12, 0)


def test_utf8_crlf_bells_and_padding_are_transmission_not_text():
    story = parse_one(fixture("7901-utf8-eil-crlf.txt"))
    assert story.headline == "Landtag beschließt Haushalt für 2027"
    assert story.paragraphs == ["Schwerin (nwa) - Der Landtag hat am Mittwoch den Haushalt für 2027 beschlossen."]
    assert story.urgency == 2
    assert story.ednote is None  # "(Eil)" is a priority marker, not a note
    assert story.versioncreated == utc(2026, 11, 11, 10, 45)


@pytest.mark.parametrize(
    "marker, urgency", [(b"EXTRA", 2), (b"(EXTRA)", 2), (b"Vorrang", 3), (b"(Vorrang)", 3), (b"(Blitz \x07\x07)", 1)]
)
def test_a_dpa_marker_line_is_urgency_neither_headline_nor_note(marker, urgency):
    # Priority 0 in the header: none given, so the marker's counts.
    data = (
        fixture("7901-utf8-eil-crlf.txt")
        .replace(b"nwa0414 2 pl", b"nwa0414 0 pl")
        .replace(b"(Eil \x07\x07\x07\x07\x07)", marker)
    )
    story = parse_one(data)
    assert (story.headline, story.ednote, story.urgency) == ("Landtag beschließt Haushalt für 2027", None, urgency)


def test_a_keyword_that_names_the_story_makes_the_uri():
    story = parse_one(fixture("7901-keyword-slug.txt"))
    assert story.uri == "urn:wiredesk:xyz:7901:harbour-cranes:2026-11-24"
    assert story.headline == "Harbour cranes return to service"
    assert story.by == "By Jane Doe"
    assert story.slugline == "Harbour-Cranes"
    assert story.dateline == Dateline(
        text="PORT SALVIN, Nov 24 (XYW)", place="PORT SALVIN", date=dt.date(2026, 11, 24), agency="XYW"
    )
    # Indented lines start paragraphs, as the blank line does.
    assert story.paragraphs == [
        "PORT SALVIN, Nov 24 (XYW) - The harbour's cranes worked again on Monday after a week of repairs.",
        "Dock workers said queues of lorries had cleared by noon.",
        "The port expects full traffic by Friday.",
    ]
    assert (story.version, story.signals, story.firstcreated) == (None, [], utc(2026, 11, 24, 16, 30))


def test_a_first_lead_is_version_two_of_the_same_story():
    original = parse_one(fixture("7901-keyword-slug.txt"))
    lead = parse_one(fixture("7901-first-lead.txt"))
    assert lead.uri == original.uri
    assert lead.version == 2
    assert lead.signals == ["update"]
    assert lead.slugline == "Harbour-Cranes"  # the marker is not part of the slug
    assert lead.headline == "Harbour cranes back after repairs, port says"
    assert lead.firstcreated is None and lead.versioncreated == utc(2026, 11, 24, 17, 45)


def test_a_kill_cancels_the_story_under_the_same_uri_and_its_text_goes_to_editors():
    original = parse_one(fixture("7901-keyword-slug.txt"))
    kill = parse_one(fixture("7901-kill-advisory.txt"))
    assert kill.uri == original.uri
    assert kill.pubstatus == "canceled"
    assert kill.signals == ["kill"]
    assert kill.paragraphs == []
    assert kill.ednote.startswith('ATTENTION EDITORS: The story "Harbour cranes return to service" is withdrawn.')
    assert kill.headline_derived is True
    assert kill.urgency == 1


def test_elimination_is_a_kill():
    story = parse_one(fixture("7901-elimination.txt"))
    assert (story.pubstatus, story.signals, story.paragraphs) == ("canceled", ["kill"], [])
    assert story.ednote.startswith("À L'ATTENTION DES RÉDACTIONS")


def test_a_second_take_has_its_storys_uri_and_says_which_take_it_is():
    first = parse_one(fixture("7901-keyword-slug.txt"))
    take = parse_one(fixture("7901-second-take.txt"))
    assert take.uri == first.uri == "urn:wiredesk:xyz:7901:harbour-cranes:2026-11-24"
    assert (first.take, take.take) == (None, 2)
    assert take.paragraphs == ["Ferry services were not affected by the repairs, the port said."]
    assert take.slugline == "Harbour-Cranes"


def test_editors_notes_and_what_is_not_for_publication_never_reach_the_paragraphs():
    story = parse_one(fixture("7901-editors-note.txt"))
    assert story.paragraphs == [
        "BREMEN (XYW) - The art museum will show 40 sketches by a local painter that were found in an attic "
        "last spring.",
        "The exhibition runs until the end of January.",
    ]
    assert story.ednote == (
        "Photos available\n\n"
        "EDITOR'S NOTE: This story names a donor who asked to stay anonymous until Saturday.\n\n"
        "Not for publication\nContact: Anna Example, press office."
    )
    assert story.dateline.text == "BREMEN (XYW)"  # the advisory before it does not hide the dateline


def test_berichtigung_is_a_correction_with_its_note_for_readers():
    story = parse_one(fixture("7901-berichtigung.txt"))
    assert story.signals == ["correction"]
    assert story.correction == (
        "In einer früheren Version hieß es, die Böen hätten 120 km/h erreicht. Richtig sind 102 km/h."
    )
    assert story.headline == "Sturmböen über der Ostsee"
    assert story.ednote is None


def test_an_update_prefix_on_the_headline_gives_the_version():
    story = parse_one(fixture("7901-update-prefix.txt"))
    assert story.headline == "Harbour cranes return to service after repairs"
    assert story.version == 3  # UPDATE 2 is the third version
    assert story.signals == ["update"]
    assert story.ednote == "Adds port authority comment in paragraph 3"
    assert story.paragraphs[0].startswith("PORT SALVIN, Nov 24 (XYW) - ")
    assert story.uri == "urn:wiredesk:xyz:7901:harbour-cranes-return-to-service-after-repairs:2026-11-24"


def test_a_corrected_prefix_and_a_bracketed_note_make_a_correction():
    story = parse_one(fixture("7901-corrected-prefix.txt"))
    assert story.headline == "Mayor opens the new harbour bridge"
    assert story.signals == ["correction"]
    assert story.correction == "Corrects spelling of the mayor's name in paragraph 1"
    assert len(story.paragraphs) == 1


def test_table_rows_and_list_items_are_paragraphs_without_frame_or_bullet():
    story = parse_one(fixture("7901-table-and-list.txt"))
    assert story.paragraphs == [
        "12. Spieltag:",
        "Samstag, 14.11.2026:",
        "FC Nordhafen | - | SV Westmole | 2:1",
        "TuS Leuchtturm | - | VfR Kai | 0:0",
        "Nächste Spiele:",
        "FC Nordhafen - TuS Leuchtturm",
        "SV Westmole - VfR Kai, verlegt auf Sonntag",
    ]


def test_two_messages_in_one_file_are_two_stories():
    first, second = parse(fixture("7901-two-messages.txt"))
    assert first.headline == "Zoo zählt drei neue Pinguine"
    assert second.headline == "Zoo sucht Namen für Pinguine"
    assert first.uri != second.uri
    assert second.versioncreated == utc(2026, 5, 20, 10, 15)


def test_without_a_trailer_the_day_of_receipt_dates_the_uri():
    story = parse_one(fixture("7901-no-trailer.txt"))
    assert story.uri == "urn:wiredesk:xyz:7901:hafenfest-beginnt-am-freitag:2026-11-25"
    assert story.versioncreated is None


BERLIN = "Europe/Berlin"


@pytest.mark.parametrize(
    "trailer, zone, sent",
    [
        pytest.param(b"241530 Mar 26", BERLIN, dt.datetime(2026, 3, 24, 14, 30, tzinfo=dt.UTC), id="day-hour-minute"),
        pytest.param(
            b"\n241530 MAR 26", BERLIN, dt.datetime(2026, 3, 24, 14, 30, tzinfo=dt.UTC), id="next-line-capitals"
        ),
        pytest.param(b"241530 Mar 2026", BERLIN, dt.datetime(2026, 3, 24, 14, 30, tzinfo=dt.UTC), id="four-digit-year"),
        pytest.param(b"24 1530 Mar 26", BERLIN, dt.datetime(2026, 3, 24, 14, 30, tzinfo=dt.UTC), id="day-apart"),
        pytest.param(b"241530Z Mar 26", BERLIN, dt.datetime(2026, 3, 24, 15, 30, tzinfo=dt.UTC), id="zulu-is-utc"),
        pytest.param(b"241530 Sept 26", BERLIN, dt.datetime(2026, 9, 24, 13, 30, tzinfo=dt.UTC), id="sept"),
        pytest.param(b"241530 Sep. 26", "UTC", dt.datetime(2026, 9, 24, 15, 30, tzinfo=dt.UTC), id="month-with-stop"),
        pytest.param(
            b"nwa kl yyzz\r\n241530 Mar 26",
            BERLIN,
            dt.datetime(2026, 3, 24, 14, 30, tzinfo=dt.UTC),
            id="after-the-desk-line",
        ),
        pytest.param(
            b"0412 241530 Mar 26", BERLIN, dt.datetime(2026, 3, 24, 14, 30, tzinfo=dt.UTC), id="after-a-message-number"
        ),
        pytest.param(
            b"nwa 0412 24 1530Z MAR 2026", "UTC", dt.datetime(2026, 3, 24, 15, 30, tzinfo=dt.UTC), id="all-at-once"
        ),
        pytest.param(
            b"991530 Mar 26 241530 Mar 26", "UTC", dt.datetime(2026, 3, 24, 15, 30, tzinfo=dt.UTC), id="first-real-time"
        ),
    ],
)
def test_the_date_time_group_after_etx_is_read_in_every_shape_agencies_send(trailer, zone, sent):
    text, _, _ = fixture("7901-latin1-umlauts.txt").partition(b"\x03")
    [story] = iptc7901.parse(text + b"\x03" + trailer + b"\r\n\x7f\r\n\x7f\x04", Context(received=RECEIVED, zone=zone))
    assert story.versioncreated == sent
    assert story.uri.endswith(f":{sent.date().isoformat()}")


def test_a_lone_short_line_before_a_blank_line_is_the_headline_without_equals_sign():
    story = parse_one(fixture("7901-headline-without-equals.txt"))
    assert story.headline == "Ferry timetable changes in December"
    assert story.headline_derived is False
    assert story.paragraphs == [
        "PORT SALVIN (XYW) - The ferry to the islands will run twice a day from December, the operator said."
    ]


def test_a_message_without_text_is_refused():
    with pytest.raises(FormatError, match="STX"):
        parse(fixture("7901-no-stx.txt"))


@pytest.mark.parametrize("data", [b"", b"   \n", b"no wire message at all", b"\x01\x04", bytes(range(256))])
def test_what_is_not_7901_is_refused_with_a_reason(data):
    with pytest.raises(FormatError):
        parse(data)


@pytest.mark.parametrize(
    "broken, text",
    [
        ("worldâ€™s", "world’s"),
        ("GrÃ¼ÃŸe", "Grüße"),
        ("â‚¬ 5", "€ 5"),
        ("Â«Hafen»", "«Hafen»"),
        ("â€œQuoteâ€\x9d", "“Quote”"),
        ("Kaiserstraße»", "Kaiserstraße»"),
        ("Straße\xa0Nord", "Straße\xa0Nord"),
        ("ÖÄÜ°", "ÖÄÜ°"),
        ("São Paulo", "São Paulo"),
    ],
)
def test_utf8_that_went_through_cp1252_is_repaired_and_real_text_is_not(broken, text):
    assert repair_mojibake(broken) == text


@pytest.mark.parametrize("name", READABLE)
def test_every_fixture_gives_clean_valid_ninjs(name):
    for story in parse(fixture(name)):
        assert_clean(story)


@pytest.mark.parametrize("name", READABLE)
def test_resending_the_same_bytes_gives_the_same_uri(name):
    # A re-send arrives later; on another day, unless the copy is dated by its day of receipt.
    later = RECEIVED + (dt.timedelta(hours=3) if name in UNDATED else dt.timedelta(days=2))
    first = [s.uri for s in parse(fixture(name))]
    again = [s.uri for s in parse(fixture(name), received=later)]
    assert first == again


@pytest.mark.parametrize("module, folder", [(iptc7901, "iptc7901"), (anpa1312, "anpa1312")])
def test_damaged_wire_copy_is_read_or_refused_never_a_crash(module, folder):
    for number, path in enumerate(sorted((FIXTURES.parent / folder).iterdir())):
        assert_read_or_refused(
            module.parse, damaged(path.read_bytes(), seed=number), Context(source="xyz", received=RECEIVED)
        )


def test_sniff_knows_7901_and_nothing_else():
    assert all(iptc7901.sniff(p.read_bytes()) for p in FIXTURES.iterdir())
    assert all(iptc7901.sniff((DPA / "output" / f"{stem}.iptc").read_bytes()) for stem in DPA_PAIRS)
    others = [
        *(FIXTURES.parent / "anpa1312").iterdir(),
        *(FIXTURES.parent / "agency-copy").iterdir(),
        *(FIXTURES.parent / "ninjs").iterdir(),
        *(DPA / "input").glob("*.json"),
    ]
    assert not any(iptc7901.sniff(p.read_bytes()) for p in others)
    assert not any(anpa1312.sniff(p.read_bytes()) for p in FIXTURES.iterdir())


# --- dpa's own 7901, against the digitalwires JSON it was rendered from ---------------------------


def test_the_corpus_holds_all_six_dpa_pairs():
    assert DPA_PAIRS == ["dw-1", "eil", "lesestuecke", "nsb-n1", "spe-tab", "tvo-pol"]


@pytest.mark.parametrize("stem", DPA_PAIRS)
def test_dpa_7901_gives_the_headline_and_text_of_its_digitalwires_json(stem):
    context = Context(source="dpa", received=RECEIVED)
    [wire] = iptc7901.parse((DPA / "output" / f"{stem}.iptc").read_bytes(), context)
    [json_story] = dpa_digitalwires.parse((DPA / "input" / f"{stem}.json").read_bytes(), context)
    assert wire.headline == json_story.headline
    assert words(wire.paragraphs) == words(json_story.paragraphs)
    assert (wire.by, wire.slugline, wire.urgency) == (json_story.by, json_story.slugline, json_story.urgency)
    assert (wire.signals, wire.correction) == (json_story.signals, json_story.correction)
    assert_clean(wire)


def test_dpa_7901_correction_heading_is_read():
    [story] = parse((DPA / "output" / "dw-1.iptc").read_bytes(), source="dpa")
    assert story.headline == "«Mythos Jungfernhäutchen» - Zwischen Aufklärung und Kommerz"
    assert story.by == "Von Marco Krefting und Sunrita Sen, dpa"
    assert story.signals == ["correction"]
    assert story.correction.startswith("In einer früheren Version dieses Textes hieß es")
    assert story.ednote.startswith("KORR-Bericht\n\nFoto Produktion\n\n# Notizblock")
    assert story.versioncreated == utc(2024, 9, 24, 12, 5)
    assert story.uri == ("urn:wiredesk:dpa:7901:mythos-jungfernhautchen-zwischen-aufklarung-und-kommerz:2024-09-24")


def test_dpa_7901_notepad_and_closing_line_stay_out_of_the_text():
    [story] = parse((DPA / "output" / "nsb-n1.iptc").read_bytes(), source="dpa")
    assert story.paragraphs[-1].endswith("ergänzte der Sprecher.")
    assert "Notizblock" in story.ednote and story.ednote.endswith("dpa koe yyno n1 sck")
    assert "koerber.britta@dpa.com" not in words(story.paragraphs)
