"""The plain agency-copy format, from bytes to Story. Pure Python: no Django, no database.

Fixtures live in tests/fixtures/agency-copy/, one file per edge case, named after the case.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import pytest
from corpus import CORPUS, fixtures, only

from wiredesk.formats import Context, FormatError, agency_copy, parse
from wiredesk.formats.shared import HEADLINE_MAX, derive_headline
from wiredesk.story import Dateline, Subject, WireStory

FIXTURES, fixture = fixtures("agency-copy")
SEED = CORPUS / "seed" / "ians-2024-11-14-biden-xi-summit.agency-copy.txt"

# Fixtures are read as if received on this day: datelines without a year fall in 2026.
RECEIVED = dt.datetime(2026, 3, 5, 9, 30, tzinfo=dt.UTC)


def ctx(received: dt.datetime = RECEIVED, source: str = "xyz") -> Context:
    return Context(source=source, received=received)


def parse_one(data: bytes, received: dt.datetime = RECEIVED, source: str = "xyz") -> WireStory:
    return only(parse(data, ctx(received, source)))


# --- the seed story: real IANS copy as the agency delivered it ---------------------------------

SEED_RECEIVED = dt.datetime(2024, 11, 14, 10, 5, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def seed() -> WireStory:
    return parse_one(SEED.read_bytes(), SEED_RECEIVED)


def seed_source_paragraphs() -> list[bytes]:
    data = SEED.read_bytes()
    field_prefix = b" date 2024-11-14 "
    assert data.startswith(field_prefix)
    return data[len(field_prefix) :].rstrip(b"\n").split(b"\n\n")


def test_seed_dateline_is_read_from_the_run_in_text(seed):
    assert seed.dateline == Dateline(
        text="Washington, Nov 14", place="Washington", date=dt.date(2024, 11, 14), agency=None
    )
    assert seed.located == "Washington"


def test_seed_paragraphs_equal_the_source_byte_for_byte(seed):
    expected = seed_source_paragraphs()
    assert len(seed.paragraphs) == len(expected) == 15
    for number, (got, want) in enumerate(zip(seed.paragraphs, expected, strict=True), start=1):
        assert got.encode("utf-8") == want, f"paragraph {number}"


def test_seed_first_paragraph_keeps_its_dateline(seed):
    assert seed.paragraphs[0].startswith("Washington, Nov 14 US President Joe Biden")


def test_seed_headline_is_derived_from_the_lede_and_ends_at_a_phrase_boundary(seed):
    lede = seed.paragraphs[0].removeprefix("Washington, Nov 14 ")
    assert seed.headline_derived is True
    assert len(seed.headline) <= HEADLINE_MAX
    # The first sentence runs past the limit and has no clause boundary in it: the headline ends
    # before "during", where a phrase starts, rather than in the middle with "…".
    assert lede.startswith(seed.headline + " during ")
    assert seed.headline == (
        'US President Joe Biden is expected to express "deep concern" over North Korea\'s troop deployment to Russia'
    )


def test_a_long_first_sentence_ends_at_its_last_clause_boundary_within_the_limit():
    lede = (
        "The harbour authority said on Monday that the cranes on the north quay would work again by "
        "Friday, after a week of repairs that had left lorries queuing for miles along the coast road."
    )
    assert derive_headline(lede) == (
        "The harbour authority said on Monday that the cranes on the north quay would work again by Friday"
    )


def test_a_long_sentence_without_any_boundary_is_cut_at_a_word_and_marked():
    lede = " ".join(["Supercalifragilistic"] * 12) + "."
    headline = derive_headline(lede)
    assert headline.endswith("…") and len(headline) <= HEADLINE_MAX + 1


def test_seed_story_date_comes_from_the_date_field(seed):
    assert ":2024-11-14:" in seed.uri
    assert seed.format == "agency-copy"


# --- one fixture per edge case ----------------------------------------------------------------


@dataclass(frozen=True)
class Expect:
    headline: str
    paragraphs: int
    dateline: str | None = None  # the dateline as written
    place: str | None = None
    date: dt.date | None = None
    agency: str | None = None
    derived: bool = False
    subjects: list[Subject] = field(default_factory=list)


EXPECTED = {
    "dateline-with-agency-and-dash.txt": Expect(
        "Portmere council votes to widen the old swing bridge",
        3,
        "PORTMERE, Mar 4 (HP)",
        "PORTMERE",
        dt.date(2026, 3, 4),
        "HP",
    ),
    "dateline-place-and-agency-no-date.txt": Expect(
        "Library lends out umbrellas after a wet winter", 3, "LONDON (XYZ)", "LONDON", None, "XYZ"
    ),
    "dateline-day-before-month.txt": Expect(
        "Samba school builds a float powered by bicycles",
        2,
        "Rio de Janeiro, 3 March (NW)",
        "Rio de Janeiro",
        dt.date(2026, 3, 3),
        "NW",
    ),
    # The headline ends with a full stop; the dateline under it is what marks it as a headline.
    "headline-line-then-dateline.txt": Expect(
        "Ferry to Holm Isle may run on Sundays.",
        2,
        "Tarn Bridge, Cumbria, Feb 27",
        "Tarn Bridge",
        dt.date(2026, 2, 27),
        None,
    ),
    "no-headline-derives-from-lede.txt": Expect(
        "Volunteers counted 412 hedgehogs in this year's spring survey in Brakenford",
        2,
        "BRAKENFORD, Mar 2 (MNS)",
        "BRAKENFORD",
        dt.date(2026, 3, 2),
        "MNS",
        derived=True,
    ),
    "date-field-on-its-own-line.txt": Expect(
        "Skaters return to the frozen reservoir", 2, "Elmsby, Dec 30 (HP)", "Elmsby", dt.date(2025, 12, 30), "HP"
    ),
    "date-field-run-into-dateline.txt": Expect(
        "A bakery in Ashby Vale has baked a loaf 31 metres long for the town's 800th anniversary",
        2,
        "Ashby Vale, Mar 1",
        "Ashby Vale",
        dt.date(2026, 3, 1),
        None,
        derived=True,
    ),
    "category-field.txt": Expect(
        "Amateur astronomers spot a new variable star",
        2,
        "Keston, Mar 2 (NW)",
        "Keston",
        dt.date(2026, 3, 2),
        "NW",
        subjects=[Subject(name="Science", literal="category:Science")],
    ),
    "crlf-line-endings.txt": Expect(
        "Night buses to run every ten minutes", 3, "HALVERTON (HP)", "HALVERTON", None, "HP"
    ),
    "cr-only-line-endings.txt": Expect(
        "Orchard plants 300 rare apple trees",
        2,
        "Appleby Cross, Feb 26 (MNS)",
        "Appleby Cross",
        dt.date(2026, 2, 26),
        "MNS",
    ),
    "utf8-bom.txt": Expect(
        "Choir in Mälarholm sings for 24 hours", 2, "Mälarholm, Mar 4 (NW)", "Mälarholm", dt.date(2026, 3, 4), "NW"
    ),
    "cp1252-curly-quotes.txt": Expect(
        "Café owner’s “pay what you can” lunch – a quiet success",
        2,
        "KESTON, Mar 2 (NW)",
        "KESTON",
        dt.date(2026, 3, 2),
        "NW",
    ),
    "latin1-accents.txt": Expect(
        "Fête de la crème brûlée draws a record crowd",
        2,
        "Saint-Aubin-sur-Lère, Mar 1 (HP)",
        "Saint-Aubin-sur-Lère",
        dt.date(2026, 3, 1),
        "HP",
    ),
    "no-dateline.txt": Expect("Lighthouse keepers' logbooks go online", 2),
    "markup-in-text.txt": Expect(
        "Council website shows code instead of bin dates", 2, "HALVERTON (HP)", "HALVERTON", None, "HP"
    ),
    "indented-first-line.txt": Expect(
        "Tram drivers in Keston will trial a four-day week from May, the operator said on Wednesday",
        2,
        "KESTON, Mar 4 (NW)",
        "KESTON",
        dt.date(2026, 3, 4),
        "NW",
        derived=True,
    ),
    # The parser gets the following wrong at the time of writing; the expectations are right.
    "dateline-with-year.txt": Expect(
        "The Portmere harbour museum reopened on Wednesday after a winter of flood repairs",
        2,
        "PORTMERE, Mar 4, 2026 (HP)",
        "PORTMERE",
        dt.date(2026, 3, 4),
        "HP",
        derived=True,
    ),
    "dateline-then-line-break.txt": Expect(
        "The ferry to Holm Isle ran two hours late on Tuesday after fog closed the harbour",
        2,
        "KESTON (NW)",
        "KESTON",
        None,
        "NW",
        derived=True,
    ),
    "no-dateline-lede-starts-with-name-and-acronym.txt": Expect(
        "The Holm Lake Rowing Club (HLRC) opened its new boathouse on Saturday", 2, derived=True
    ),
    "headline-starts-with-category-word.txt": Expect(
        "Category 4 storm heads for the Valmora coast", 2, "PORTMERE (HP)", "PORTMERE", None, "HP"
    ),
    "no-headline-one-line-lede-ends-with-quote.txt": Expect(
        'The mayor of Halverton told residents on Monday: "The bridge will open on time."', 2, derived=True
    ),
    "editors-notes-above-and-below.txt": Expect(
        "Judge sentences harbour thief", 2, "PORT SALVIN (HP)", "PORT SALVIN", None, "HP"
    ),
    # Starts the way a mail header does, and is copy all the same.
    "lede-starts-with-place-and-colon.txt": Expect("WASHINGTON: The senate met on Monday", 2, derived=True),
    # No story text: a story all the same, which the lifecycle rules never make an article.
    "advisory-only.txt": Expect(
        "ATTENTION EDITORS: The harbour court story slugged HARBOUR-THIEF will be updated after sentencing at 1400 GMT",
        0,
        derived=True,
    ),
}

UNREADABLE = {
    "empty.txt": "empty",
    "whitespace-only.txt": "no story text",
    "binary-garbage.bin": "binary",
    # Read as plain copy, it would be a story headed by its first header line.
    "whole-email-message.eml": "an e-mail message",
}


def test_every_fixture_file_has_an_expectation():
    on_disk = {p.name for p in FIXTURES.iterdir() if p.is_file()}
    assert on_disk == set(EXPECTED) | set(UNREADABLE)


@pytest.mark.parametrize("name", sorted(EXPECTED), ids=sorted(EXPECTED))
def test_fixture_reads_as_expected(name):
    story = parse_one(fixture(name))
    want = EXPECTED[name]
    got = {
        "headline": story.headline,
        "derived": story.headline_derived,
        "dateline": story.dateline.text if story.dateline else None,
        "place": story.dateline.place if story.dateline else None,
        "date": story.dateline.date if story.dateline else None,
        "agency": story.dateline.agency if story.dateline else None,
        "paragraphs": len(story.paragraphs),
        "subjects": story.subjects,
    }
    assert got == {
        "headline": want.headline,
        "derived": want.derived,
        "dateline": want.dateline,
        "place": want.place,
        "date": want.date,
        "agency": want.agency,
        "paragraphs": want.paragraphs,
        "subjects": want.subjects,
    }


@pytest.mark.parametrize("name", sorted(EXPECTED), ids=sorted(EXPECTED))
def test_fixture_text_has_no_layout_residue(name):
    story = parse_one(fixture(name))
    for text in [story.headline, *story.paragraphs]:
        assert text == text.strip()
        assert "\r" not in text and "\ufeff" not in text
        assert "\n\n" not in text


def test_field_lines_are_not_part_of_the_text():
    story = parse_one(fixture("category-field.txt"))
    assert not any("2026-03-02" in p or "Science" in p for p in story.paragraphs)
    assert story.paragraphs[0].startswith("Keston, Mar 2 (NW) - Two amateur astronomers")


def test_date_field_on_its_own_line_sets_the_story_date():
    story = parse_one(fixture("date-field-on-its-own-line.txt"))
    assert ":2025-12-30:" in story.uri


def test_indented_paragraphs_lose_their_indent_and_nothing_else():
    story = parse_one(fixture("indented-first-line.txt"))
    assert story.paragraphs == [
        "KESTON, Mar 4 (NW) - Tram drivers in Keston will trial a four-day week from May, "
        "the operator said on Wednesday.",
        "The trial will run for six months on two of the city's five lines.",
    ]


def test_markup_in_agency_text_is_kept_as_text_and_escaped_in_html():
    story = parse_one(fixture("markup-in-text.txt"))
    assert '<script>alert("bins")</script>' in story.paragraphs[0]
    assert "Baxter & Daughters" in story.paragraphs[1]
    plain, rich = story.to_ninjs()["bodies"]
    assert '<script>alert("bins")</script>' in plain["value"]
    assert "<script>" not in rich["value"]
    assert '&lt;script&gt;alert("bins")&lt;/script&gt;' in rich["value"]
    assert "Baxter &amp; Daughters" in rich["value"]


# --- encodings --------------------------------------------------------------------------------

MOJIBAKE = ("Ã", "â€", "Â", "\ufffd", "\x93", "\x94", "\x92", "\x96")


def assert_clean(story: WireStory):
    for text in [story.headline, *story.paragraphs]:
        for bad in MOJIBAKE:
            assert bad not in text, f"{bad!r} in {text!r}"


def test_crlf_line_endings_split_paragraphs_like_lf():
    story = parse_one(fixture("crlf-line-endings.txt"))
    assert story.paragraphs == [
        "HALVERTON (HP) - Night buses in Halverton will run every ten minutes on Fridays and "
        "Saturdays from April, the transport authority said.",
        "The change follows a petition signed by 8,000 shift workers.",
        "Fares will not rise, the authority added.",
    ]


def test_crlf_copy_reads_the_same_as_its_lf_twin():
    crlf = fixture("crlf-line-endings.txt")
    assert b"\r\n" in crlf
    assert parse_one(crlf).fingerprint() == parse_one(crlf.replace(b"\r\n", b"\n")).fingerprint()


def test_utf8_bom_is_dropped_and_the_date_field_after_it_still_read():
    data = fixture("utf8-bom.txt")
    assert data.startswith(b"\xef\xbb\xbf")
    story = parse_one(data)
    assert_clean(story)
    assert story.headline == "Choir in Mälarholm sings for 24 hours"
    assert ":2026-03-04:" in story.uri
    assert not story.paragraphs[0].startswith("date")


def test_cp1252_curly_quotes_dashes_and_accents_decode_exactly():
    data = fixture("cp1252-curly-quotes.txt")
    data.decode("cp1252")  # the fixture really is cp1252 ...
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # ... and not UTF-8
    story = parse_one(data)
    assert_clean(story)
    assert story.headline == "Café owner’s “pay what you can” lunch – a quiet success"
    assert story.paragraphs[0].startswith("KESTON, Mar 2 (NW) – A café in Keston")
    assert story.paragraphs[1] == "“People are kinder than you’d think,” said owner Ruth Penhallow."


def test_latin1_accents_decode_exactly():
    data = fixture("latin1-accents.txt")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    story = parse_one(data)
    assert_clean(story)
    assert story.headline == "Fête de la crème brûlée draws a record crowd"
    assert story.located == "Saint-Aubin-sur-Lère"
    assert "Chef Noël Garçon-Müller" in story.paragraphs[1]
    assert story.paragraphs[1].endswith("by Inés Løvberg.")


# --- year inference ---------------------------------------------------------------------------


def dated(dateline: str, date_field: str | None = None) -> bytes:
    head = f"date {date_field}\n" if date_field else ""
    return (
        f"{head}Ferry timetable changes\n\n{dateline} - The ferry will run later.\n\nMore sailings are planned.\n"
    ).encode()


def at(year, month, day, hour=9) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=dt.UTC)


def test_dateline_of_dec_31_received_on_jan_2_is_last_year():
    story = parse_one(dated("KESTON, Dec 31 (NW)"), at(2027, 1, 2))
    assert story.dateline.date == dt.date(2026, 12, 31)
    assert ":2026-12-31:" in story.uri


def test_dateline_of_jan_2_received_on_dec_31_is_next_year():
    story = parse_one(dated("KESTON, Jan 2 (NW)"), at(2026, 12, 31))
    assert story.dateline.date == dt.date(2027, 1, 2)
    assert ":2027-01-02:" in story.uri


def test_dateline_in_the_same_month_takes_the_received_year():
    story = parse_one(dated("KESTON, Mar 3 (NW)"), at(2026, 3, 5))
    assert story.dateline.date == dt.date(2026, 3, 3)


def test_date_field_year_wins_over_the_received_year():
    story = parse_one(dated("KESTON, Dec 31 (NW)", "2025-12-31"), at(2027, 1, 2))
    assert story.dateline.date == dt.date(2025, 12, 31)
    assert ":2025-12-31:" in story.uri


def test_date_field_anchors_the_year_for_a_dateline_just_across_new_year():
    # The field is often the UTC filing date; east of Greenwich the dateline is a day ahead.
    story = parse_one(dated("TOKYO, Jan 1 (NW)", "2026-12-31"), at(2026, 12, 31, 16))
    assert story.dateline.date == dt.date(2027, 1, 1)


def test_date_field_that_is_not_a_real_date_is_refused():
    with pytest.raises(FormatError, match="not a real date"):
        parse_one(dated("KESTON, Feb 28 (NW)", "2026-02-30"))


# --- derive_headline --------------------------------------------------------------------------


def test_derive_headline_keeps_a_short_first_sentence_without_its_full_stop():
    assert derive_headline("The ferry ran late on Monday. Passengers waited.") == "The ferry ran late on Monday"


def test_derive_headline_keeps_a_question_mark():
    assert (
        derive_headline("Will the ferry run on Sundays? The council decides today.") == "Will the ferry run on Sundays?"
    )


def test_derive_headline_does_not_end_the_sentence_at_mr_or_us():
    lede = "Mr. Ashgrove met U.S. officials in Keston on Monday. They discussed ferries."
    assert derive_headline(lede) == "Mr. Ashgrove met U.S. officials in Keston on Monday"


def test_derive_headline_does_not_end_the_sentence_at_an_initial():
    assert derive_headline("Ruth J. Penhallow opened the cafe. It was busy.") == "Ruth J. Penhallow opened the cafe"


def test_derive_headline_ends_a_sentence_at_the_word_no():
    # "No." is an abbreviation only before a number ("No. 10"); "said no." ends the sentence.
    assert derive_headline("Voters in Valmora said no. Turnout was 61 percent.") == "Voters in Valmora said no"


def test_derive_headline_ends_a_long_sentence_at_its_last_clause_boundary():
    sentence = (
        "The harbour authority in Portmere said on Tuesday that it would spend four million "
        "on new cranes, a wider quay and a fuel dock for the fishing fleet"
    )
    assert len(sentence) > HEADLINE_MAX
    headline = derive_headline(sentence + ". More follows.")
    assert headline == (
        "The harbour authority in Portmere said on Tuesday that it would spend four million on new cranes, a wider quay"
    )


def test_derive_headline_collapses_line_breaks_inside_the_sentence():
    assert derive_headline("The ferry\nran late.") == "The ferry ran late"


# --- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        pytest.param(fixture("empty.txt"), "empty", id="empty"),
        pytest.param(fixture("whitespace-only.txt"), "no story text", id="whitespace-only"),
        pytest.param(fixture("binary-garbage.bin"), "binary", id="binary-garbage"),
        pytest.param(
            b'<?xml version="1.0" encoding="UTF-8"?>\n<html><body/></html>\n', "XML", id="xml-of-no-known-format"
        ),
        pytest.param(
            b'\xef\xbb\xbf  <?xml version="1.0"?><newsItem/>',
            "XML declaration allowed only at the start",
            id="xml-declaration-after-spaces",
        ),
        pytest.param(b'<?xml version="1.0"?>\n<nitf><body>', "line 2", id="truncated-xml"),
        pytest.param(b'{"uri": "urn:x", "headlines": []}\n', "neither a headline", id="ninjs-without-text"),
        pytest.param(b'{"weather": "fine"}\n', "JSON, but neither ninjs", id="json-of-no-known-format"),
    ],
)
def test_unreadable_input_raises_format_error_saying_why(data, reason):
    with pytest.raises(FormatError) as caught:
        parse(data, ctx())
    assert reason.lower() in str(caught.value).lower()


def test_format_error_is_a_value_error():
    assert issubclass(FormatError, ValueError)


def test_unknown_format_name_is_refused():
    with pytest.raises(FormatError, match="unknown format 'nope'"):
        parse(fixture("no-dateline.txt"), ctx(), format="nope")


def test_explicit_format_name_reads_the_copy():
    assert (
        parse(fixture("no-dateline.txt"), ctx(), format="agency-copy")[0].headline
        == "Lighthouse keepers' logbooks go online"
    )


def test_dateline_with_nothing_after_it_but_a_dash_is_refused():
    with pytest.raises(FormatError, match="dateline"):
        parse(b"Ferry news\n\nKESTON (NW) -\n\nThe ferry ran late.\n", ctx())


# --- more datelines the parser gets wrong at the time of writing ------------------------------


def test_dateline_place_with_a_lower_case_joiner_other_than_de_or_la():
    story = parse_one(
        b"Dar es Salaam, Mar 3 (NW) - The ferry to Zanzibar ran late on Tuesday.\n\nPassengers were offered free tea.\n"
    )
    assert story.dateline == Dateline(
        text="Dar es Salaam, Mar 3 (NW)", place="Dar es Salaam", date=dt.date(2026, 3, 3), agency="NW"
    )
    assert story.headline == "The ferry to Zanzibar ran late on Tuesday"


def test_lede_opening_with_a_weekday_and_date_is_not_a_dateline():
    story = parse_one(
        b"On Monday, Mar 2 the ferry to Holm Isle ran two hours late.\n\nPassengers were offered free tea.\n"
    )
    assert story.dateline is None
    assert story.headline == "On Monday, Mar 2 the ferry to Holm Isle ran two hours late"


def test_headline_starting_with_the_word_date_is_not_a_date_field():
    story = parse_one(
        b"Date 2026-05-01 set for Valmora referendum\n\n"
        b"PORTMERE (HP) - Valmora will vote on its new constitution on May 1.\n"
    )
    assert story.headline == "Date 2026-05-01 set for Valmora referendum"
    assert story.headline_derived is False


# --- uri and fingerprint ----------------------------------------------------------------------


def test_uri_is_stable_for_the_same_bytes_received_twice_on_the_same_day():
    data = SEED.read_bytes()
    early = parse_one(data, dt.datetime(2024, 11, 14, 0, 5, tzinfo=dt.UTC))
    late = parse_one(data, dt.datetime(2024, 11, 14, 23, 55, tzinfo=dt.UTC))
    assert early.uri == late.uri
    assert early.uri.startswith("urn:wiredesk:xyz:2024-11-14:")


def test_uri_is_stable_across_midnight_when_a_date_field_is_present():
    data = fixture("date-field-on-its-own-line.txt")
    assert parse_one(data, at(2025, 12, 30, 23)).uri == parse_one(data, at(2025, 12, 31, 1)).uri


def test_uri_is_stable_across_midnight_when_the_dateline_has_a_date():
    data = fixture("dateline-with-agency-and-dash.txt")  # no date field, dateline "Mar 4"
    assert parse_one(data, at(2026, 3, 4, 23)).uri == parse_one(data, at(2026, 3, 5, 1)).uri


def test_uri_differs_for_a_different_source():
    data = SEED.read_bytes()
    assert parse_one(data, SEED_RECEIVED, "xyz").uri != parse_one(data, SEED_RECEIVED, "abc").uri
    assert parse_one(data, SEED_RECEIVED, "abc").uri.startswith("urn:wiredesk:abc:")


def test_uri_is_a_urn_of_ascii_slug_parts():
    story = parse_one(fixture("cp1252-curly-quotes.txt"), source="Harbour Press")
    assert story.uri == "urn:wiredesk:harbour-press:2026-03-02:cafe-owners-pay-what-you-can-lunch-a"
    assert story.uri.isascii()


def test_fingerprint_ignores_the_received_time():
    data = SEED.read_bytes()
    first = parse_one(data, SEED_RECEIVED)
    again = parse_one(data, SEED_RECEIVED + dt.timedelta(days=3, hours=5))
    assert first.firstcreated != again.firstcreated
    assert first.fingerprint() == again.fingerprint()


def test_fingerprint_changes_when_a_paragraph_changes():
    data = SEED.read_bytes()
    changed = data.replace(b"Yonhap news agency reported.", b"Yonhap news agency reported on Thursday.")
    assert changed != data
    assert parse_one(data, SEED_RECEIVED).fingerprint() != parse_one(changed, SEED_RECEIVED).fingerprint()


def test_fingerprint_changes_when_the_headline_changes():
    data = fixture("dateline-with-agency-and-dash.txt")
    changed = data.replace(b"old swing bridge", b"swing bridge", 1)
    assert parse_one(data).fingerprint() != parse_one(changed).fingerprint()


# --- serialisation ----------------------------------------------------------------------------

READABLE = sorted(EXPECTED)


@pytest.mark.parametrize("name", ["seed", *READABLE], ids=["seed", *READABLE])
def test_to_dict_round_trips_through_json(name):
    data = SEED.read_bytes() if name == "seed" else fixture(name)
    story = parse_one(data)
    stored = json.loads(json.dumps(story.to_dict()))
    assert WireStory.from_dict(stored) == story


@pytest.mark.parametrize("name", ["seed", *READABLE], ids=["seed", *READABLE])
def test_to_ninjs_carries_headline_dateline_and_body(name):
    data = SEED.read_bytes() if name == "seed" else fixture(name)
    story = parse_one(data)
    out = json.loads(json.dumps(story.to_ninjs(), ensure_ascii=False))
    assert out["uri"] == story.uri
    assert out["headlines"][0] == {"role": "derived" if story.headline_derived else "main", "value": story.headline}
    assert out["bodies"][0]["value"] == "\n\n".join(story.paragraphs)
    if story.dateline:
        assert out["descriptions"] == [{"role": "dateline", "value": story.dateline.text}]
    else:
        assert "descriptions" not in out and "located" not in out
    assert out["firstcreated"] == story.firstcreated.isoformat()
    assert out["versioncreated"] == RECEIVED.isoformat()


def test_first_created_is_the_date_fields_day_when_that_is_before_receipt():
    # The seed says date 2024-11-14; received days later, it was still published on the 14th.
    seed = parse_one(SEED.read_bytes(), RECEIVED)
    assert seed.firstcreated == dt.datetime(2024, 11, 14, tzinfo=dt.UTC)
    assert seed.versioncreated == RECEIVED


def test_first_created_is_the_time_of_receipt_when_the_date_field_is_that_day():
    story = parse_one(f"date {RECEIVED.date().isoformat()}\nThe ferry ran late on Tuesday.\n".encode())
    assert story.firstcreated == RECEIVED


def test_first_created_is_read_in_the_sources_zone():
    received = dt.datetime(2026, 3, 4, 20, 0, tzinfo=dt.UTC)  # already the 5th in Tokyo
    [story] = agency_copy.parse(
        b"date 2026-03-04\nThe ferry ran late on Tuesday.\n", Context(received=received, zone="Asia/Tokyo")
    )
    assert story.firstcreated == dt.datetime(2026, 3, 4, tzinfo=ZoneInfo("Asia/Tokyo"))


# --- notes to editors ---------------------------------------------------------------------------


def test_editors_notes_above_and_below_the_story_are_kept_out_of_the_text():
    story = parse_one(fixture("editors-notes-above-and-below.txt"))
    assert story.headline == "Judge sentences harbour thief"
    assert story.paragraphs == [
        "PORT SALVIN (HP) - A judge sentenced a man to two years.",
        "Advisory panels said the harbour needed more guards.",
    ]
    assert story.ednote.startswith("EDITOR'S NOTE: This story contains details")
    assert story.ednote.endswith("Not for publication: the victim's name is withheld by court order.")


@pytest.mark.parametrize(
    "paragraph, advisory",
    [
        ("ATTENTION EDITORS: corrects the spelling of the mayor's name.", True),
        ("EDITOR'S NOTE - graphic details follow.", True),
        ("Eds: adds quote in paragraph 4.", True),
        ("Not for publication. Background for editors only.", True),
        ("ADVISORY: the council's budget story will move at noon.", True),
        ("Advisory panels said the harbour needed more guards.", False),
        ("Editors at the paper said they would appeal.", False),
    ],
)
def test_a_paragraph_is_a_note_to_editors_only_when_it_says_so(paragraph, advisory):
    story = parse_one(f"Harbour story\n\nPORT SALVIN (HP) - The harbour reopened.\n\n{paragraph}\n".encode())
    assert (paragraph in story.paragraphs) is not advisory
    assert (story.ednote == paragraph) is advisory


def test_a_paragraph_saying_only_advisory_makes_the_whole_item_an_advisory_with_no_text():
    story = parse_one(b"Harbour story\n\nPORT SALVIN (HP) - The harbour reopened.\n\nADVISORY\n")
    assert story.paragraphs == []
    assert "The harbour reopened." in story.ednote


def test_copy_that_only_talks_to_editors_is_a_story_with_no_text():
    story = parse_one(fixture("advisory-only.txt"))
    assert story.paragraphs == []
    assert story.ednote.startswith("ATTENTION EDITORS: The harbour court story")
    assert story.uri.startswith("urn:wiredesk:xyz:2026-03-05:")
