"""ANPA-1312 wire text, from bytes to Stories. Pure Python: no Django, no database.

The corpus holds no ANPA sample, so every fixture in tests/fixtures/anpa1312/ is fictional, one
file per edge case, written byte for byte after the AP layout: SYN SYN SOH, service and story
number, US and selector codes; priority, category, format codes, keyword, version, date and word
count; STX, "^" header lines, tab-indented paragraphs, the time stamp; ETX, EOT.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from corpus import fixtures, only, utc
from ninjs import assert_clean

from wiredesk.formats import Context, FormatError, anpa1312, iptc7901
from wiredesk.story import Dateline, Subject, WireStory

FIXTURES, fixture = fixtures("anpa1312")
NAMES = sorted(p.name for p in FIXTURES.iterdir())
RECEIVED = dt.datetime(2026, 11, 25, 9, 30, tzinfo=dt.UTC)


def parse(data: bytes, received: dt.datetime = RECEIVED, source: str = "xyz") -> list[WireStory]:
    return anpa1312.parse(data, Context(source=source, received=received))


def parse_one(data: bytes, received: dt.datetime = RECEIVED) -> WireStory:
    return only(parse(data, received))


def test_a_regular_story_every_field():
    story = parse_one(fixture("anpa-regular.txt"))
    assert story == WireStory(
        uri="urn:wiredesk:xyz:anpa1312:harbour-cranes:2026-11-24",
        headline="Harbour cranes return to service",
        paragraphs=[
            "PORT SALVIN, Maine (XP) — The harbour's cranes worked again on Monday after a week of repairs, "
            "the port said.",
            "“We are back,” said the harbour master.",  # AP's `` '' are its quotes
            "Dock workers said queues of lorries had cleared by noon.",
        ],
        dateline=Dateline(text="PORT SALVIN, Maine (XP)", place="PORT SALVIN", agency="XP"),
        firstcreated=utc(2026, 11, 24, 16, 30),
        versioncreated=utc(2026, 11, 24, 16, 30),
        urgency=5,
        by="By JANE DOE, Example Press Writer",
        slugline="Harbour-Cranes",
        subjects=[Subject(name="a", literal="category:a")],
        format="anpa1312",
        keys=["number:a412", "serial:412"],
    )


def test_a_writethru_is_the_next_version_under_the_same_uri():
    original = parse_one(fixture("anpa-regular.txt"))
    lead = parse_one(fixture("anpa-writethru.txt"))
    assert lead.uri == original.uri
    assert lead.version == 2
    assert lead.signals == ["update"]
    assert lead.headline == "Harbour cranes back after repairs, port says"
    assert lead.ednote == "Eds: UPDATES with port authority comment. With XP Photos."
    assert lead.firstcreated is None and lead.versioncreated == utc(2026, 11, 24, 17, 45)


def test_a_mandatory_kill_cancels_the_story_under_the_same_uri():
    original = parse_one(fixture("anpa-regular.txt"))
    kill = parse_one(fixture("anpa-mandatory-kill.txt"))
    assert kill.uri == original.uri
    assert (kill.pubstatus, kill.signals, kill.paragraphs) == ("canceled", ["kill"], [])
    assert kill.ednote == (
        "Eds: The port authority says the cranes remain out of service.\n\n"
        "The story is withdrawn. A new version will follow."
    )
    assert kill.urgency == 2  # b, a bulletin


def test_a_correction_keeps_its_note_for_readers_and_editors():
    story = parse_one(fixture("anpa-correction.txt"))
    assert story.signals == ["correction"]
    assert story.correction == "CORRECTS spelling of harbour master's name."
    assert story.ednote == "Eds: CORRECTS spelling of harbour master's name."
    assert story.uri == parse_one(fixture("anpa-regular.txt")).uri


def test_a_first_add_is_the_second_take_under_its_storys_uri():
    story = parse_one(fixture("anpa-first-add.txt"))
    # The desk joins it to the story's text (lifecycle.join_take): here it only says which take it is.
    assert story.uri == "urn:wiredesk:xyz:anpa1312:harbour-cranes:2026-11-24"
    assert story.take == 2
    assert story.headline_derived is True
    assert story.paragraphs == ["PORT SALVIN: Ferry services were not affected by the repairs."]


def test_latin1_bytes_are_read_as_latin1():
    story = parse_one(fixture("anpa-latin1.txt"))
    assert story.paragraphs == [
        "VALENCIA, Spain (XP) — Señora Peña said the fiesta drew more visitors than ever, "
        "and the café on the plaza ran out of churros."
    ]
    assert story.urgency == 3  # u, urgent
    assert story.subjects == [Subject(name="i", literal="category:i")]


def test_cp1252_bytes_are_read_as_cp1252():
    story = parse_one(fixture("anpa-cp1252.txt"))
    assert story.headline == "Bread gets dearer—again"
    assert story.paragraphs == [
        "PORT SALVIN, Maine (XP) — The bakery’s loaf now costs € 3… and customers are not pleased."
    ]


def test_tabular_copy_keeps_one_line_per_paragraph():
    story = parse_one(fixture("anpa-tabular.txt"))
    assert story.headline == "Harbour regatta results"
    assert story.paragraphs == [
        "1. Seagull      Jane Doe        42:10",
        "2. Kittiwake    John Roe        43:55",
        "3. Puffin       Ana Exemplo     44:02",
    ]


def test_an_editors_note_paragraph_goes_to_ednote():
    story = parse_one(fixture("anpa-editors-note.txt"))
    assert story.ednote == "EDITOR'S NOTE — This story is part of a series on vanishing trades."
    assert story.paragraphs[0].startswith("PORT SALVIN, Maine (XP) — For 30 years")
    assert story.dateline.place == "PORT SALVIN"
    assert story.paragraphs[1] == "“The light never went out on my watch,” she said."


def test_without_syn_and_with_bare_line_feeds():
    story = parse_one(fixture("anpa-no-syn-lf.txt"))
    assert story.headline == "Ferry timetable changes in December"
    assert story.uri == "urn:wiredesk:xyz:anpa1312:ferry-timetable:2026-11-24"


def test_a_flash_without_headline_line_derives_one_from_the_lede():
    story = parse_one(fixture("anpa-flash-no-headline.txt"))
    assert story.urgency == 1
    assert story.headline == "A fire broke out in a warehouse at the harbour on Tuesday"
    assert story.headline_derived is True


@pytest.mark.parametrize("data", [b"", b"plain words", b"\x16\x16\x01a0001\x1fabc\r\nr a BC-X 11-24 0010\r\n\x04"])
def test_what_cannot_be_read_is_refused_with_a_reason(data):
    with pytest.raises(FormatError):
        parse(data)


@pytest.mark.parametrize("name", NAMES)
def test_every_fixture_gives_clean_valid_ninjs(name):
    for story in parse(fixture(name)):
        assert_clean(story)
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f^<]", "".join([story.headline, *story.paragraphs]))


@pytest.mark.parametrize("name", NAMES)
def test_resending_the_same_bytes_gives_the_same_uri(name):
    later = RECEIVED + dt.timedelta(days=2)
    assert [s.uri for s in parse(fixture(name))] == [s.uri for s in parse(fixture(name), later)]


def test_sniff_tells_anpa_from_7901_by_the_header():
    assert all(anpa1312.sniff(fixture(name)) for name in NAMES)
    assert not any(iptc7901.sniff(fixture(name)) for name in NAMES)
    others = [
        *(FIXTURES.parent / "iptc7901").iterdir(),
        *(FIXTURES.parent / "agency-copy").iterdir(),
        *(FIXTURES.parent / "ninjs").iterdir(),
    ]
    assert not any(anpa1312.sniff(p.read_bytes()) for p in others)
